//! `outputs_created`: the output paths a target created or changed, as the
//! report lists them — a directory that changed wholesale (every file in it
//! new, changed or deleted) stands for its files, the way a freshly cloned
//! repository under `addons/oca/**` is reported as `addons/oca/<repo>/`.

use std::collections::HashSet;

/// `changed` (the changed files, relative to the repository) collapsed: each
/// file under one of `roots` (the directories the output globs take whole,
/// see [`driftsync_config::GlobList::whole_dirs`]) is replaced by the
/// highest directory at or below its root in which no file of `tracked` is
/// unchanged; other files stay as they are. Directories end with `/`. Sorted.
pub fn collapse(changed: &[String], tracked: &[String], roots: &[&str]) -> Vec<String> {
    if roots.is_empty() {
        return changed.to_vec();
    }
    let changed_set: HashSet<&str> = changed.iter().map(String::as_str).collect();
    // Every directory holding a file that did not change.
    let mut kept: HashSet<&str> = HashSet::new();
    for f in tracked.iter().map(String::as_str) {
        if changed_set.contains(f) {
            continue;
        }
        let mut rest = f;
        while let Some(i) = rest.rfind('/') {
            rest = &rest[..i];
            if !kept.insert(rest) {
                break; // its ancestors are in already
            }
        }
    }
    let mut out: Vec<String> = changed
        .iter()
        .map(|p| whole_dir(p, roots, &kept).unwrap_or_else(|| p.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The highest wholly changed directory holding `path`, at or below the
/// root (the deepest of `roots`) that holds it.
fn whole_dir(path: &str, roots: &[&str], kept: &HashSet<&str>) -> Option<String> {
    let root = roots
        .iter()
        .filter(|r| r.is_empty() || path.strip_prefix(**r).is_some_and(|t| t.starts_with('/')))
        .max_by_key(|r| r.len())?;
    // Candidate directories, from the root down to the file's own folder.
    let mut end = if root.is_empty() { 0 } else { root.len() };
    loop {
        let dir = &path[..end];
        if !dir.is_empty() && !kept.contains(dir) {
            return Some(format!("{dir}/"));
        }
        let from = if end == 0 { 0 } else { end + 1 };
        end = from + path[from..].find('/')?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_new_directory_under_the_glob_stands_for_its_files() {
        let tracked = s(&["oca/a/x.py", "oca/a/y.py", "oca/b/x.py", "top.md"]);
        // b was replaced entirely, c is new, a has one edit.
        let changed = s(&["oca/a/x.py", "oca/b/x.py", "oca/c/m.py", "oca/c/n/o.py"]);
        assert_eq!(
            collapse(&changed, &tracked, &["oca"]),
            ["oca/a/x.py", "oca/b/", "oca/c/"]
        );
    }

    #[test]
    fn a_wholly_new_output_root_is_the_root() {
        let changed = s(&["dist/a.js", "dist/css/b.css"]);
        assert_eq!(collapse(&changed, &s(&["README.md"]), &["dist"]), ["dist/"]);
        // Not named whole by a glob: the files.
        assert_eq!(collapse(&changed, &s(&["README.md"]), &[]), changed);
        // A file directly in the root, next to an unchanged one: itself.
        let tracked = s(&["dist/keep.txt"]);
        assert_eq!(
            collapse(&s(&["dist/a.js"]), &tracked, &["dist"]),
            ["dist/a.js"]
        );
    }

    #[test]
    fn the_repository_root_is_never_collapsed_but_its_folders_are() {
        let changed = s(&["gen/a", "gen/b", "x.txt"]);
        assert_eq!(collapse(&changed, &[], &[""]), ["gen/", "x.txt"]);
    }
}
