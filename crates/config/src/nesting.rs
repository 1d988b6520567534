//! Whether two local directories are the same or one holds the other, seen
//! through symlinks (`..`, `.` and links resolved), for paths that may not
//! exist yet.

use std::path::{Component, Path, PathBuf};

/// How two directories relate when they overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// Both name the same directory.
    Same,
    /// The first is inside the second.
    FirstInsideSecond,
    /// The second is inside the first.
    SecondInsideFirst,
}

/// The canonical form of `path` (absolute, links resolved) where it exists;
/// a part that does not exist yet is appended to its nearest existing
/// ancestor's canonical form, with `.` and `..` resolved lexically.
pub fn canonical(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = abs.as_path();
    let mut tail: Vec<Component<'_>> = Vec::new();
    let base = loop {
        if let Ok(c) = existing.canonicalize() {
            break c;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                tail.push(last);
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    let mut out = base;
    for c in tail.into_iter().rev() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// How `a` and `b` overlap, if they do.
pub fn nesting(a: &Path, b: &Path) -> Option<Nesting> {
    let (a, b) = (canonical(a), canonical(b));
    if a == b {
        Some(Nesting::Same)
    } else if a.starts_with(&b) {
        Some(Nesting::FirstInsideSecond)
    } else if b.starts_with(&a) {
        Some(Nesting::SecondInsideFirst)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inside_and_apart_through_links_and_missing_parts() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("dl/sub")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::os::unix::fs::symlink(root.join("dl"), root.join("link")).unwrap();
        let n = |a: &str, b: &str| nesting(&root.join(a), &root.join(b));
        assert_eq!(n("dl", "dl"), Some(Nesting::Same));
        assert_eq!(n("dl", "link/"), Some(Nesting::Same));
        assert_eq!(n("dl/./sub/..", "dl"), Some(Nesting::Same));
        assert_eq!(n("dl", "dl/sub"), Some(Nesting::SecondInsideFirst));
        assert_eq!(n("link/new/deeper", "dl"), Some(Nesting::FirstInsideSecond));
        assert_eq!(n("dl/missing/../sub", "dl/sub"), Some(Nesting::Same));
        assert_eq!(n("dl", "other"), None);
        assert_eq!(n("dl", "dl2"), None, "a name prefix is not a parent");
        assert_eq!(n("new/a", "new/b"), None);
    }
}
