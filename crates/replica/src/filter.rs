//! Include/exclude globs, shared by every backend so they all select alike.
//!
//! Semantics (gitignore-like): a pattern without a `/` matches a file name at
//! any depth (`*.md`); a pattern with a `/` matches the whole relative path
//! (`docs/**/*.md`), `*` stopping at `/` and `**` crossing it. An exclude
//! pattern that matches a directory excludes everything below it (`build`,
//! `target/`). An empty include list selects everything.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::ReplicaError;

/// A compiled include/exclude selection.
#[derive(Clone, Debug)]
pub struct PathFilter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

fn compile(patterns: &[String]) -> Result<GlobSet, ReplicaError> {
    let mut set = GlobSetBuilder::new();
    for raw in patterns {
        let trimmed = raw.trim_end_matches('/');
        let pattern = if trimmed.contains('/') {
            trimmed.trim_start_matches('/').to_string()
        } else {
            format!("**/{trimmed}")
        };
        let glob: Glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| ReplicaError::InvalidPath {
                path: raw.clone(),
                reason: format!("not a valid glob pattern: {e}"),
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| ReplicaError::other("compiling glob patterns", e))
}

impl PathFilter {
    /// Compile include and exclude patterns; a bad pattern is an `InvalidPath` error naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<PathFilter, ReplicaError> {
        Ok(PathFilter {
            include: if include.is_empty() {
                None
            } else {
                Some(compile(include)?)
            },
            exclude: compile(exclude)?,
        })
    }

    /// A filter that selects everything.
    pub fn all() -> PathFilter {
        PathFilter {
            include: None,
            exclude: GlobSet::empty(),
        }
    }

    /// True when a directory (relative path) is excluded, so a walk need not enter it.
    pub fn excludes_dir(&self, dir: &str) -> bool {
        self.exclude.is_match(dir)
    }

    /// True when the file at `path` (relative, `/`-separated) is selected.
    pub fn matches(&self, path: &str) -> bool {
        if self.include.is_none() && self.exclude.is_empty() {
            return true;
        }
        if let Some(include) = &self.include {
            if !include.is_match(path) {
                return false;
            }
        }
        if self.exclude.is_match(path) {
            return false;
        }
        // An excluded ancestor directory excludes the file.
        let mut end = path.len();
        while let Some(i) = path[..end].rfind('/') {
            if self.exclude.is_match(&path[..i]) {
                return false;
            }
            end = i;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn name_patterns_match_at_any_depth() {
        let f = PathFilter::new(&s(&["*.md"]), &[]).unwrap();
        assert!(f.matches("a.md"));
        assert!(f.matches("x/y/a.md"));
        assert!(!f.matches("a.txt"));
    }

    #[test]
    fn path_patterns_are_anchored() {
        let f = PathFilter::new(&s(&["docs/*.md"]), &[]).unwrap();
        assert!(f.matches("docs/a.md"));
        assert!(!f.matches("docs/x/a.md"));
        assert!(!f.matches("other/docs/a.md"));
        let g = PathFilter::new(&s(&["docs/**/*.md"]), &[]).unwrap();
        assert!(g.matches("docs/x/a.md"));
    }

    #[test]
    fn excluded_directories_exclude_their_files() {
        let f = PathFilter::new(&[], &s(&["build/", "*.tmp"])).unwrap();
        assert!(!f.matches("build/a/b.txt"));
        assert!(!f.matches("src/build/x"));
        assert!(!f.matches("a.tmp"));
        assert!(f.matches("src/main.rs"));
        assert!(f.excludes_dir("build"));
    }

    #[test]
    fn bad_pattern_is_named() {
        let err = PathFilter::new(&s(&["a[b"]), &[]).unwrap_err();
        assert!(err.to_string().contains("a[b"), "{err}");
    }
}
