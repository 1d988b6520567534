//! `driftsync check` runs pull and bidirectional command targets where `run`
//! would — in the working tree, so the entrypoint sees the repository exactly
//! as it is (uncommitted edits, ignored files such as a virtualenv or a
//! credentials file, relative paths) — and then puts everything back.
//!
//! Before the entrypoint starts, [`Preserved::take`] copies every path
//! matching the target's `outputs` aside (bytes, mode, modification time,
//! symlink target), notes which directories existed, and keeps the bytes of
//! the git index, HEAD and the set of changed paths. After the outputs were
//! compared with HEAD, [`Preserved::restore`] writes every saved path back
//! byte for byte, removes files and directories that were not there, recreates
//! deleted ones and writes the index back if it changed. What it cannot undo
//! (a path outside `outputs` that was clean before, a moved HEAD) it reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use driftsync_config::GlobList;

/// One saved path.
enum Saved {
    File {
        /// Where its bytes were copied.
        copy: PathBuf,
        mode: u32,
        modified: Option<SystemTime>,
    },
    Symlink(PathBuf),
}

/// The paths matching `outputs` (and the index) as they were before a check.
pub struct Preserved {
    root: PathBuf,
    outputs: GlobList,
    bases: Vec<String>,
    files: BTreeMap<String, Saved>,
    dirs: BTreeSet<String>,
    backup: PathBuf,
    index: Option<(PathBuf, Vec<u8>)>,
    head: Option<String>,
    dirty: BTreeSet<String>,
    done: bool,
}

/// What [`Preserved::restore`] could not put back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Paths outside `outputs` the entrypoint created or changed.
    pub outside_outputs: Vec<String>,
    /// HEAD before and after, when the entrypoint moved it.
    pub head_moved: Option<(String, String)>,
}

impl Leftovers {
    /// Nothing was left changed.
    pub fn is_empty(&self) -> bool {
        self.outside_outputs.is_empty() && self.head_moved.is_none()
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.outside_outputs.is_empty() {
            parts.push(format!(
                "the entrypoint changed {} path(s) outside its `outputs`, which check cannot put back: {} (add them to `outputs` or to .gitignore)",
                self.outside_outputs.len(),
                self.outside_outputs.join(", ")
            ));
        }
        if let Some((from, to)) = &self.head_moved {
            parts.push(format!(
                "the entrypoint moved HEAD from {} to {} during check",
                short(from),
                short(to)
            ));
        }
        parts.join("; ")
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The directory a pattern can match under: its leading components without
/// glob characters (`docs/runtime/**` → `docs/runtime`, `*.txt` → ``).
fn base_of(pattern: &str) -> String {
    let p = pattern.trim_end_matches('/');
    let mut literal = Vec::new();
    for c in p.split('/') {
        if c.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        literal.push(c);
    }
    literal.join("/")
}

fn bases(outputs: &GlobList) -> Vec<String> {
    let mut all: Vec<String> = outputs.patterns().iter().map(|p| base_of(p)).collect();
    all.sort();
    all.dedup();
    let mut out: Vec<String> = Vec::new();
    for b in all {
        let covered = out
            .iter()
            .any(|o| o.is_empty() || b == *o || b.starts_with(&format!("{o}/")));
        if !covered {
            out.push(b);
        }
    }
    out
}

/// Files (and symlinks) matching `outputs`, and every directory, under the bases.
fn scan(
    root: &Path,
    outputs: &GlobList,
    bases: &[String],
) -> io::Result<(BTreeSet<String>, BTreeSet<String>)> {
    fn walk(
        root: &Path,
        rel: &str,
        outputs: &GlobList,
        files: &mut BTreeSet<String>,
        dirs: &mut BTreeSet<String>,
    ) -> io::Result<()> {
        let full = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let meta = match fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if meta.is_dir() {
            if rel == ".git" {
                return Ok(());
            }
            if !rel.is_empty() {
                dirs.insert(rel.to_string());
            }
            for e in fs::read_dir(&full)? {
                let name = e?.file_name();
                let name = name.to_string_lossy();
                let child = if rel.is_empty() {
                    name.into_owned()
                } else {
                    format!("{rel}/{name}")
                };
                walk(root, &child, outputs, files, dirs)?;
            }
        } else if outputs.is_match(rel) {
            files.insert(rel.to_string());
        }
        Ok(())
    }
    let (mut files, mut dirs) = (BTreeSet::new(), BTreeSet::new());
    for b in bases {
        walk(root, b, outputs, &mut files, &mut dirs)?;
        // The base's existing ancestors are not ours to remove either.
        let mut a = b.as_str();
        while let Some((parent, _)) = a.rsplit_once('/') {
            if root.join(parent).is_dir() {
                dirs.insert(parent.to_string());
            }
            a = parent;
        }
    }
    Ok((files, dirs))
}

/// The git index file of the working tree at `root`, if found.
fn index_path(root: &Path) -> Option<PathBuf> {
    let dot = root.join(".git");
    if dot.is_dir() {
        return Some(dot.join("index"));
    }
    let text = fs::read_to_string(&dot).ok()?;
    let dir = text.trim().strip_prefix("gitdir:")?.trim();
    Some(root.join(dir).join("index"))
}

fn backup_dir() -> io::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("driftsync-check-{}-{nanos}", std::process::id()));
    fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

fn dirty(root: &Path) -> BTreeSet<String> {
    driftsync_git::Repo::open(root)
        .and_then(|r| r.dirty_paths())
        .map(|v| v.into_iter().collect())
        .unwrap_or_default()
}

impl Preserved {
    /// Save every path under `root` matching `outputs`, and the git index.
    pub fn take(root: &Path, outputs: &GlobList) -> io::Result<Preserved> {
        let bases = if outputs.is_empty() {
            Vec::new()
        } else {
            bases(outputs)
        };
        let (paths, dirs) = scan(root, outputs, &bases)?;
        let mut p = Preserved {
            root: root.to_path_buf(),
            outputs: outputs.clone(),
            bases,
            files: BTreeMap::new(),
            dirs,
            backup: backup_dir()?,
            index: None,
            head: driftsync_git::Repo::open(root).ok().and_then(|r| r.head()),
            dirty: dirty(root),
            done: false,
        };
        p.index = index_path(root).and_then(|i| fs::read(&i).ok().map(|b| (i, b)));
        for (n, rel) in paths.iter().enumerate() {
            let full = root.join(rel);
            let meta = fs::symlink_metadata(&full)?;
            let saved = if meta.file_type().is_symlink() {
                Saved::Symlink(fs::read_link(&full)?)
            } else {
                let copy = p.backup.join(n.to_string());
                fs::copy(&full, &copy)?;
                Saved::File {
                    copy,
                    mode: meta.permissions().mode() & 0o7777,
                    modified: meta.modified().ok(),
                }
            };
            p.files.insert(rel.clone(), saved);
        }
        Ok(p)
    }

    /// Put every saved path back as it was, remove what the entrypoint added
    /// under `outputs`, write the index back; say what could not be undone.
    pub fn restore(mut self) -> io::Result<Leftovers> {
        self.done = true;
        let result = self.put_back();
        let _ = fs::remove_dir_all(&self.backup);
        result
    }

    fn put_back(&self) -> io::Result<Leftovers> {
        let (now, now_dirs) = scan(&self.root, &self.outputs, &self.bases)?;
        for rel in now.difference(&self.files.keys().cloned().collect()) {
            remove_any(&self.root.join(rel))?;
        }
        for (rel, saved) in &self.files {
            self.put(rel, saved)?;
        }
        // Directories the entrypoint created (deepest first), when empty now;
        // output directories it removed come back (with their saved files).
        let mut created: Vec<&String> = now_dirs.difference(&self.dirs).collect();
        created.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
        for d in created {
            let _ = fs::remove_dir(self.root.join(d));
        }
        for d in self.dirs.iter().filter(|d| self.outputs.is_match(d)) {
            fs::create_dir_all(self.root.join(d))?;
        }
        if let Some((path, bytes)) = &self.index {
            if fs::read(path).ok().as_ref() != Some(bytes) {
                fs::write(path, bytes)?;
            }
        }
        let mut left = Leftovers::default();
        let head = driftsync_git::Repo::open(&self.root)
            .ok()
            .and_then(|r| r.head());
        if let (Some(before), Some(after)) = (&self.head, &head) {
            if before != after {
                left.head_moved = Some((before.clone(), after.clone()));
            }
        }
        left.outside_outputs = dirty(&self.root)
            .difference(&self.dirty)
            .filter(|p| !self.outputs.is_match(p))
            .cloned()
            .collect();
        Ok(left)
    }

    fn put(&self, rel: &str, saved: &Saved) -> io::Result<()> {
        let full = self.root.join(rel);
        let current = fs::symlink_metadata(&full).ok();
        match saved {
            Saved::Symlink(target) => {
                if current.as_ref().is_some_and(|m| m.file_type().is_symlink())
                    && fs::read_link(&full).ok().as_ref() == Some(target)
                {
                    return Ok(());
                }
                remove_any(&full)?;
                create_parent(&full)?;
                std::os::unix::fs::symlink(target, &full)
            }
            Saved::File {
                copy,
                mode,
                modified,
            } => {
                let same_bytes = current.as_ref().is_some_and(|m| m.is_file())
                    && fs::read(&full)? == fs::read(copy)?;
                if !same_bytes {
                    remove_any(&full)?;
                    create_parent(&full)?;
                    fs::copy(copy, &full)?;
                }
                let meta = fs::metadata(&full)?;
                let times_differ = modified.is_some() && meta.modified().ok() != *modified;
                if times_differ {
                    if let Some(t) = modified {
                        // Writable for a moment, to set the time of a read-only file.
                        fs::set_permissions(&full, fs::Permissions::from_mode(mode | 0o200))?;
                        fs::OpenOptions::new()
                            .write(true)
                            .open(&full)?
                            .set_modified(*t)?;
                    }
                }
                if times_differ || meta.permissions().mode() & 0o7777 != *mode {
                    fs::set_permissions(&full, fs::Permissions::from_mode(*mode))?;
                }
                Ok(())
            }
        }
    }
}

impl Drop for Preserved {
    /// A panic between `take` and `restore` still puts the outputs back.
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            let _ = self.put_back();
            let _ = fs::remove_dir_all(&self.backup);
        }
    }
}

fn create_parent(p: &Path) -> io::Result<()> {
    match p.parent() {
        Some(d) => fs::create_dir_all(d),
        None => Ok(()),
    }
}

fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_the_literal_directories_of_the_patterns() {
        assert_eq!(base_of("docs/runtime/**"), "docs/runtime");
        assert_eq!(base_of("conf/"), "conf");
        assert_eq!(base_of("*.txt"), "");
        assert_eq!(base_of("a/b.txt"), "a/b.txt");
        let g = GlobList::new(vec!["docs/**".into(), "docs/a/*.md".into(), "x/y".into()]).unwrap();
        assert_eq!(bases(&g), ["docs", "x/y"]);
        let g = GlobList::new(vec!["**/*.json".into(), "docs/**".into()]).unwrap();
        assert_eq!(bases(&g), [""]);
    }

    #[test]
    fn restores_bytes_modes_times_and_removes_new_files_and_dirs() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let w = |p: &str, t: &str| {
            let f = root.join(p);
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            fs::write(f, t).unwrap();
        };
        w("out/a.txt", "a\n");
        w("out/ro.txt", "read only\n");
        w("out/gone/b.txt", "b\n");
        w("keep.txt", "not an output\n");
        fs::set_permissions(root.join("out/ro.txt"), fs::Permissions::from_mode(0o444)).unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("out/link")).unwrap();
        let outputs = GlobList::new(vec!["out/**".into()]).unwrap();
        let meta = |p: &str| fs::symlink_metadata(root.join(p)).unwrap();
        let t_a = meta("out/a.txt").modified().unwrap();

        let p = Preserved::take(root, &outputs).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        w("out/a.txt", "changed\n");
        fs::set_permissions(root.join("out/ro.txt"), fs::Permissions::from_mode(0o644)).unwrap();
        w("out/ro.txt", "overwritten\n");
        fs::remove_dir_all(root.join("out/gone")).unwrap();
        w("out/new/deep/c.txt", "new\n");
        fs::remove_file(root.join("out/link")).unwrap();
        w("out/link", "now a file\n");
        let left = p.restore().unwrap();
        assert!(left.is_empty(), "{left:?}");

        assert_eq!(fs::read_to_string(root.join("out/a.txt")).unwrap(), "a\n");
        assert_eq!(meta("out/a.txt").modified().unwrap(), t_a);
        assert_eq!(
            fs::read_to_string(root.join("out/ro.txt")).unwrap(),
            "read only\n"
        );
        assert_eq!(meta("out/ro.txt").permissions().mode() & 0o777, 0o444);
        assert_eq!(
            fs::read_to_string(root.join("out/gone/b.txt")).unwrap(),
            "b\n"
        );
        assert!(!root.join("out/new").exists(), "a new directory stayed");
        assert_eq!(
            fs::read_link(root.join("out/link")).unwrap(),
            Path::new("a.txt")
        );
        assert_eq!(
            fs::read_to_string(root.join("keep.txt")).unwrap(),
            "not an output\n"
        );
    }
}
