//! Validated path globs (`*` stays inside a directory, `**` crosses them).

use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Build one glob with driftsync's rules.
pub fn compile(pattern: &str) -> Result<Glob, String> {
    if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Err(format!(
            "`{pattern}` leaves the repository; globs are relative to the repository root, without `..`"
        ));
    }
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("`{pattern}` is not a valid glob: {}", e.kind()))
}

/// A list of globs, kept as written; validated when built and compiled into
/// one matcher on first use (so loading a large config stays fast).
#[derive(Clone, Debug, Default)]
pub struct GlobList {
    patterns: Vec<String>,
    globs: Vec<Glob>,
    set: OnceLock<GlobSet>,
}

impl GlobList {
    /// Validate `patterns`; the error names the first bad one.
    pub fn new(patterns: Vec<String>) -> Result<GlobList, String> {
        let globs = patterns
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(GlobList {
            patterns,
            globs,
            set: OnceLock::new(),
        })
    }

    fn set(&self) -> &GlobSet {
        self.set.get_or_init(|| {
            let mut b = GlobSetBuilder::new();
            for g in &self.globs {
                b.add(g.clone());
            }
            b.build().unwrap_or_else(|_| GlobSet::empty())
        })
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// No patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Does any pattern match this `/`-separated relative path? A pattern
    /// naming a directory (`docs/` or `docs`) also matches everything in it.
    pub fn is_match(&self, path: &str) -> bool {
        if self.set().is_match(path) {
            return true;
        }
        // `dir` or `dir/` selects the whole directory.
        self.patterns.iter().any(|p| {
            let p = p.trim_end_matches('/');
            !p.contains(['*', '?', '[', '{'])
                && path.starts_with(p)
                && path[p.len()..].starts_with('/')
        })
    }

    /// The directories the patterns select whole, without their trailing
    /// `/`: `dist` for `dist/**`, `dist/**/*`, `dist/` or `dist`; `""` (the
    /// repository) for `**`. A pattern that picks files by name (`*.md`,
    /// `docs/*.html`) names no directory.
    pub fn whole_dirs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .patterns
            .iter()
            .filter_map(|p| {
                let base = p
                    .strip_suffix("/**/*")
                    .or_else(|| p.strip_suffix("/**"))
                    .unwrap_or(p.as_str());
                let base = if base == "**" || base == "**/*" {
                    ""
                } else {
                    base
                };
                let base = base.trim_end_matches('/');
                (!base.contains(['*', '?', '[', '{'])).then_some(base)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_in_a_directory_and_dirs_match_their_contents() {
        let g = GlobList::new(vec!["docs/*.md".into(), "addons/**".into(), "out/".into()]).unwrap();
        assert!(g.is_match("docs/a.md"));
        assert!(!g.is_match("docs/x/a.md"));
        assert!(g.is_match("addons/oca/x/y.py"));
        assert!(g.is_match("out/a/b"));
        assert!(!g.is_match("outside"));
    }

    #[test]
    fn whole_dirs_are_the_directories_a_pattern_takes_entirely() {
        let g = GlobList::new(
            [
                "dist/**",
                "out/",
                "a/b/**/*",
                "docs/*.md",
                "*.json",
                "site/*/x/**",
            ]
            .map(String::from)
            .to_vec(),
        )
        .unwrap();
        assert_eq!(g.whole_dirs(), ["a/b", "dist", "out"]);
        assert_eq!(GlobList::new(vec!["**".into()]).unwrap().whole_dirs(), [""]);
    }

    #[test]
    fn rejects_bad_and_escaping_globs() {
        assert!(GlobList::new(vec!["a/[b".into()])
            .unwrap_err()
            .contains("not a valid glob"));
        assert!(GlobList::new(vec!["../x".into()])
            .unwrap_err()
            .contains("leaves the repository"));
    }
}
