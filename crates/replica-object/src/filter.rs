//! Include/exclude glob patterns of a scan.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Compiled include/exclude patterns: a path is kept when it matches an
/// include (or there are none) and no exclude.
#[derive(Debug)]
pub(crate) struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

fn set(patterns: &[String]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p)?);
    }
    b.build()
}

impl Filter {
    /// Compile the patterns.
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Result<Filter, globset::Error> {
        Ok(Filter {
            include: if include.is_empty() {
                None
            } else {
                Some(set(include)?)
            },
            exclude: set(exclude)?,
        })
    }

    /// Whether `path` is selected.
    pub(crate) fn matches(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|s| s.is_match(path)) && !self.exclude.is_match(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_then_exclude() {
        let f = Filter::new(&["**/*.html".into()], &["drafts/**".into()]).unwrap();
        assert!(f.matches("a/b.html"));
        assert!(f.matches("b.html"));
        assert!(!f.matches("drafts/x.html"));
        assert!(!f.matches("a/b.css"));
        assert!(Filter::new(&[], &[]).unwrap().matches("anything"));
    }
}
