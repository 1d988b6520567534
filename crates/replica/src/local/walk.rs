//! The directory walk behind [`LocalReplica::scan`](super::LocalReplica).
//!
//! One listing per directory, opened beneath the root's handle without
//! following any symbolic link (`openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)`, see `beneath.rs`): a directory replaced by a link
//! after its parent was listed is reported, never entered. A file's metadata
//! is asked relative to its open directory (`fstatat(dirfd, name,
//! AT_SYMLINK_NOFOLLOW)`), so no file costs a full-path lookup; whether an
//! entry is a directory comes from the listing itself (`d_type`), without a
//! stat.
//!
//! Files come out in [`RelPath`](driftsync_core::RelPath) order, the byte
//! order of the whole `/`-joined relative path: each directory's children
//! are sorted by name, a directory's key being its name followed by `/`
//! (`a.txt` before the directory `a`, whose files are `a/…`), and the walk
//! is depth-first in that order. The scan relies on it to merge the walk
//! with the prior snapshot and to build the new one without sorting.
//!
//! Ignore rules (gitignore syntax, matched with `ignore::gitignore`):
//! `.driftsyncignore` files always; `.gitignore` files, `.git/info/exclude`
//! and git's global excludes only when asked. Within one kind, the deepest
//! directory with a matching pattern decides (a `!` whitelist included);
//! a `.driftsyncignore` verdict beats a `.gitignore` one, which beats
//! `.git/info/exclude`, which beats the global excludes. Only files at or
//! below the root are read, never those of its parents. A directory named
//! `.driftsync` and a directory the [`PathFilter`] excludes are not entered.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::beneath::{Dir, Kind, Refused};
use super::STATE_DIR;
use crate::{PathFilter, ScanNote};

/// The per-directory ignore file that always applies.
pub const DRIFTSYNCIGNORE: &str = ".driftsyncignore";

/// What the walk hands to its visitor, in order.
pub(crate) enum Item {
    /// A regular file (as listed): its relative path (valid UTF-8), its
    /// open directory and its name there.
    File {
        rel: String,
        dir: Rc<Dir>,
        name: String,
    },
    /// Something passed over, for the scan's notes.
    Note(ScanNote),
}

/// The ignore files of one directory (only for directories that have any).
struct DirRules {
    /// `.driftsyncignore`.
    custom: Option<Gitignore>,
    /// `.gitignore`.
    git: Option<Gitignore>,
    /// `.git/info/exclude` of a repository whose work tree starts here.
    exclude: Option<Gitignore>,
}

/// A child of a directory being walked.
struct Child {
    /// Its name (valid UTF-8).
    name: String,
    kind: Kind,
}

/// A directory whose children are being visited.
struct Frame {
    /// Its relative path followed by `/` ("" for the root).
    prefix: String,
    /// Its open handle.
    dir: Rc<Dir>,
    /// Its children still to visit, in walk order (reversed: popped from the end).
    todo: Vec<Child>,
    /// Whether it pushed rules onto the stack (popped with the frame).
    has_rules: bool,
}

/// The walk's settings.
pub(crate) struct Walk<'a> {
    pub root: &'a Path,
    /// A handle on `root`: every directory is opened beneath it.
    pub root_dir: &'a Dir,
    pub filter: &'a PathFilter,
    pub gitignore: bool,
}

fn note(path: impl Into<String>, reason: impl Into<String>) -> Item {
    Item::Note(ScanNote {
        path: path.into(),
        reason: reason.into(),
    })
}

/// Compare two children of one directory by their keys: the name, plus `/`
/// for a directory. Names hold no `/`, so the keys differ at the first byte
/// where the names differ, or just past the shorter name.
fn key_cmp(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        let next = |s: &[u8], dir: bool| s.get(n).copied().or(dir.then_some(b'/'));
        next(a, a_dir).cmp(&next(b, b_dir))
    })
}

/// Build a matcher rooted at `dir_rel` from the file at `file`; `None` when
/// it has no patterns. Errors (unreadable file, bad pattern) become notes.
fn rules_from(
    dir_rel: &str,
    file: &Path,
    shown: &str,
    visit: &mut dyn FnMut(Item),
) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(dir_rel);
    if let Some(e) = builder.add(file) {
        visit(note(shown, format!("not read: {e}")));
    }
    match builder.build() {
        Ok(g) if !g.is_empty() => Some(g),
        Ok(_) => None,
        Err(e) => {
            visit(note(shown, format!("not read: {e}")));
            None
        }
    }
}

/// Like [`rules_from`] for the ignore file `name` of the open directory
/// `dir` (read by handle, not by path).
fn rules_in(
    dir_rel: &str,
    dir: &Dir,
    name: &str,
    shown: &str,
    visit: &mut dyn FnMut(Item),
) -> Option<Gitignore> {
    let text = match dir.open_read(name).and_then(|mut f| {
        let mut t = String::new();
        io::Read::read_to_string(&mut f, &mut t).map(|_| t)
    }) {
        Ok(t) => t,
        Err(e) => {
            visit(note(shown, format!("not read: {e}")));
            return None;
        }
    };
    let mut builder = GitignoreBuilder::new(dir_rel);
    let from = PathBuf::from(shown);
    for line in text.lines() {
        if let Err(e) = builder.add_line(Some(from.clone()), line) {
            visit(note(shown, format!("not read: {e}")));
        }
    }
    match builder.build() {
        Ok(g) if !g.is_empty() => Some(g),
        Ok(_) => None,
        Err(e) => {
            visit(note(shown, format!("not read: {e}")));
            None
        }
    }
}

/// The git directory of a work tree whose `.git` is at `dot_git` (a
/// directory, or a file `gitdir: …` for a linked work tree, whose common
/// directory holds `info/exclude`).
fn git_common_dir(dot_git: &Path, is_file: bool) -> Option<PathBuf> {
    if !is_file {
        return Some(dot_git.to_path_buf());
    }
    let first_line = |p: &Path| -> Option<String> {
        io::BufReader::new(fs::File::open(p).ok()?)
            .lines()
            .next()?
            .ok()
    };
    let line = first_line(dot_git)?;
    let git_dir = PathBuf::from(line.strip_prefix("gitdir: ")?.trim_end());
    let git_dir = dot_git.parent().unwrap_or(Path::new("")).join(git_dir);
    match first_line(&git_dir.join("commondir")) {
        Some(common) => Some(git_dir.join(common.trim_end())),
        None => Some(git_dir),
    }
}

impl Walk<'_> {
    /// Walk the tree (the root must be a directory), calling `visit` for
    /// every regular file, in [`RelPath`](driftsync_core::RelPath) order, and
    /// for every note.
    pub(crate) fn run(&self, mut visit: impl FnMut(Item)) {
        let global = if self.gitignore {
            let (g, err) = Gitignore::global();
            if let Some(e) = err {
                visit(note("(git global excludes)", format!("not read: {e}")));
            }
            Some(g).filter(|g| !g.is_empty())
        } else {
            None
        };
        // The rules of every directory on the current path that has any.
        let mut rules: Vec<DirRules> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        if let Some(frame) = self.open(String::new(), &mut rules, global.as_ref(), &mut visit) {
            stack.push(frame);
        }
        while let Some(top) = stack.last_mut() {
            let Some(child) = top.todo.pop() else {
                if top.has_rules {
                    rules.pop();
                }
                stack.pop();
                continue;
            };
            let mut rel = String::with_capacity(top.prefix.len() + child.name.len() + 1);
            rel.push_str(&top.prefix);
            rel.push_str(&child.name);
            let kind = child.kind;
            if kind == Kind::Dir {
                rel.push('/');
                if let Some(frame) = self.open(rel, &mut rules, global.as_ref(), &mut visit) {
                    stack.push(frame);
                }
            } else if kind == Kind::Symlink {
                visit(note(rel, "symbolic link; not followed, not synced"));
            } else if kind != Kind::File {
                visit(note(rel, "not a regular file; skipped"));
            } else {
                visit(Item::File {
                    rel,
                    dir: top.dir.clone(),
                    name: child.name,
                });
            }
        }
    }

    /// Read the directory `prefix` (relative, ending in `/`; "" for the
    /// root): load its ignore files, drop ignored children, sort the rest.
    fn open(
        &self,
        prefix: String,
        rules: &mut Vec<DirRules>,
        global: Option<&Gitignore>,
        visit: &mut dyn FnMut(Item),
    ) -> Option<Frame> {
        let dir_rel = prefix.strip_suffix('/').unwrap_or(&prefix);
        let abs = if dir_rel.is_empty() {
            self.root.to_path_buf()
        } else {
            self.root.join(dir_rel)
        };
        let shown = |what: &str| {
            if dir_rel.is_empty() {
                what.to_string()
            } else {
                format!("{dir_rel}/{what}")
            }
        };
        // Where a directory that cannot be read is reported.
        let here = || {
            if dir_rel.is_empty() {
                ".".to_string()
            } else {
                dir_rel.to_string()
            }
        };
        let dir = match self.root_dir.open_beneath(dir_rel) {
            Ok(d) => Rc::new(d),
            Err(Refused::Symlink(_)) => {
                visit(note(here(), "symbolic link; not followed, not synced"));
                return None;
            }
            Err(Refused::Io(e)) => {
                visit(note(here(), format!("not read: {e}")));
                return None;
            }
        };
        let read = match dir.list() {
            Ok(r) => r,
            Err(e) => {
                visit(note(here(), format!("not read: {e}")));
                return None;
            }
        };
        let mut children: Vec<Child> = Vec::new();
        let (mut has_custom, mut has_git_ignore, mut dot_git) = (false, false, None);
        for (raw, kind) in read {
            let name = match raw.into_string() {
                Ok(n) => n,
                Err(raw) => {
                    visit(note(
                        shown(&raw.to_string_lossy()),
                        "name is not valid UTF-8; skipped",
                    ));
                    continue;
                }
            };
            let kind = match kind {
                Some(k) => k,
                // The file system does not say in its listing: ask.
                None => match dir.stat(&name) {
                    Ok(st) => Kind::of(&st),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        visit(note(shown(&name), format!("not read: {e}")));
                        continue;
                    }
                },
            };
            let is_dir = kind == Kind::Dir;
            if is_dir && name == STATE_DIR {
                continue;
            }
            // Ignore files are read only when they are regular files (a link
            // is never followed, not even to read rules).
            match name.as_str() {
                DRIFTSYNCIGNORE if kind == Kind::File => has_custom = true,
                ".gitignore" if kind == Kind::File => has_git_ignore = true,
                ".git" if matches!(kind, Kind::File | Kind::Dir) => {
                    dot_git = Some(kind == Kind::File)
                }
                _ => {}
            }
            children.push(Child { name, kind });
        }
        let here = DirRules {
            custom: has_custom
                .then(|| {
                    rules_in(
                        dir_rel,
                        &dir,
                        DRIFTSYNCIGNORE,
                        &shown(DRIFTSYNCIGNORE),
                        visit,
                    )
                })
                .flatten(),
            git: (self.gitignore && has_git_ignore)
                .then(|| rules_in(dir_rel, &dir, ".gitignore", &shown(".gitignore"), visit))
                .flatten(),
            exclude: dot_git
                .filter(|_| self.gitignore)
                .and_then(|is_file| git_common_dir(&abs.join(".git"), is_file))
                .map(|git_dir| git_dir.join("info/exclude"))
                .filter(|p| p.is_file())
                .and_then(|p| rules_from(dir_rel, &p, &shown(".git/info/exclude"), visit)),
        };
        let has_rules = here.custom.is_some() || here.git.is_some() || here.exclude.is_some();
        if has_rules {
            rules.push(here);
        }
        let mut path = prefix.clone();
        children.retain(|c| {
            let is_dir = c.kind == Kind::Dir;
            path.truncate(prefix.len());
            path.push_str(&c.name);
            if is_dir && self.filter.excludes_dir(&path) {
                return false;
            }
            !ignored(rules, global, &path, is_dir)
        });
        // Reverse walk order: the next child is popped from the end.
        children.sort_unstable_by(|a, b| {
            key_cmp(
                b.name.as_bytes(),
                b.kind == Kind::Dir,
                a.name.as_bytes(),
                a.kind == Kind::Dir,
            )
        });
        Some(Frame {
            dir,
            prefix,
            todo: children,
            has_rules,
        })
    }
}

/// Whether `rel` is ignored by the rules in force (deepest first within a
/// kind; `.driftsyncignore`, then `.gitignore`, `.git/info/exclude`, global).
fn ignored(rules: &[DirRules], global: Option<&Gitignore>, rel: &str, is_dir: bool) -> bool {
    if rules.is_empty() && global.is_none() {
        return false;
    }
    let path = Path::new(OsStr::from_bytes(rel.as_bytes()));
    let first = |pick: fn(&DirRules) -> Option<&Gitignore>| {
        rules
            .iter()
            .rev()
            .filter_map(pick)
            .map(|g| g.matched(path, is_dir))
            .find(|m| !m.is_none())
    };
    let verdict = first(|r| r.custom.as_ref())
        .or_else(|| first(|r| r.git.as_ref()))
        .or_else(|| first(|r| r.exclude.as_ref()))
        .or_else(|| global.map(|g| g.matched(path, is_dir)));
    verdict.is_some_and(|m| m.is_ignore())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(root: &Path, gitignore: bool) -> (Vec<String>, Vec<ScanNote>) {
        let filter = PathFilter::all();
        let (mut files, mut notes) = (Vec::new(), Vec::new());
        let root_dir = Dir::open(root).unwrap();
        Walk {
            root,
            root_dir: &root_dir,
            filter: &filter,
            gitignore,
        }
        .run(|item| match item {
            Item::File { rel, .. } => files.push(rel),
            Item::Note(n) => notes.push(n),
        });
        (files, notes)
    }

    #[test]
    fn files_come_out_in_relpath_byte_order() {
        let d = tempfile::tempdir().unwrap();
        let paths = [
            "a",
            "a.txt",
            "a-b",
            "a0",
            "b/a/b",
            "b/a.txt",
            "b/a-b",
            "b/a0",
            "b/a/c/d",
            "b/a/c.txt",
            "b/ab",
            "c/x",
            "c.d/y",
            "c-/z",
            "é/1",
            "é.txt",
            "e\u{301}",
            "z/Ä/ö",
            "z/A",
            "z/~",
            "Z",
            " space",
            "_u/v",
        ];
        for p in paths {
            let abs = d.path().join(p);
            fs::create_dir_all(abs.parent().unwrap()).unwrap();
            fs::write(&abs, p).unwrap();
        }
        let (got, notes) = walk(d.path(), false);
        assert!(notes.is_empty(), "{notes:?}");
        let mut want: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(got, want);
        // The same order as RelPath's.
        let mut rel: Vec<driftsync_core::RelPath> = paths
            .iter()
            .map(|p| driftsync_core::RelPath::new(*p).unwrap())
            .collect();
        rel.sort();
        let rel: Vec<String> = rel.iter().map(|r| r.to_string()).collect();
        assert_eq!(got, rel);
    }

    #[test]
    fn deeper_ignore_files_win_and_whitelists_work() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("sub/deep")).unwrap();
        fs::write(root.join(DRIFTSYNCIGNORE), "*.log\nbuild/\n").unwrap();
        fs::write(root.join("sub").join(DRIFTSYNCIGNORE), "!keep.log\n").unwrap();
        fs::write(root.join("sub/deep").join(DRIFTSYNCIGNORE), "keep.log\n").unwrap();
        for f in [
            "a.log",
            "sub/keep.log",
            "sub/other.log",
            "sub/deep/keep.log",
            "x.txt",
        ] {
            fs::write(root.join(f), f).unwrap();
        }
        fs::create_dir_all(root.join("sub/build")).unwrap();
        fs::write(root.join("sub/build/out"), "o").unwrap();
        fs::write(root.join("build"), "a file named build is not a directory").unwrap();
        let (got, notes) = walk(root, false);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            got,
            [
                DRIFTSYNCIGNORE,
                "build",
                "sub/.driftsyncignore",
                "sub/deep/.driftsyncignore",
                "sub/keep.log",
                "x.txt"
            ]
        );
    }

    #[test]
    fn driftsyncignore_beats_gitignore_and_exclude_applies_only_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join(".git/info")).unwrap();
        fs::write(root.join(".git/info/exclude"), "*.secret\n").unwrap();
        fs::write(root.join(".gitignore"), "*.gen\n").unwrap();
        fs::write(root.join(DRIFTSYNCIGNORE), ".git/\n!wanted.gen\n").unwrap();
        for f in ["a.gen", "wanted.gen", "k.secret", "plain"] {
            fs::write(root.join(f), f).unwrap();
        }
        let (without, _) = walk(root, false);
        assert_eq!(
            without,
            [
                DRIFTSYNCIGNORE,
                ".gitignore",
                "a.gen",
                "k.secret",
                "plain",
                "wanted.gen"
            ]
        );
        let (with, notes) = walk(root, true);
        assert!(notes.iter().all(|n| n.path.contains("global")), "{notes:?}");
        assert_eq!(with, [DRIFTSYNCIGNORE, ".gitignore", "plain", "wanted.gen"]);
    }

    #[test]
    fn unreadable_directories_become_notes() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("locked")).unwrap();
        fs::write(root.join("locked/f"), "f").unwrap();
        fs::write(root.join("open"), "o").unwrap();
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        let readable = fs::read_dir(root.join("locked")).is_ok(); // true when run as root
        let (got, notes) = walk(root, false);
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        if readable {
            assert_eq!(got, ["locked/f", "open"]);
        } else {
            assert_eq!(got, ["open"]);
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert_eq!(notes[0].path, "locked");
            assert!(notes[0].reason.starts_with("not read: "), "{notes:?}");
        }
        // The same path for a directory gone between its listing and its read
        // (deterministic even where permissions do not stop the test's user).
        let filter = PathFilter::all();
        let root_dir = Dir::open(root).unwrap();
        let w = Walk {
            root,
            root_dir: &root_dir,
            filter: &filter,
            gitignore: false,
        };
        let mut notes = Vec::new();
        let frame = w.open("gone/".into(), &mut Vec::new(), None, &mut |i| {
            if let Item::Note(n) = i {
                notes.push(n)
            }
        });
        assert!(frame.is_none());
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].path, "gone");
        assert!(notes[0].reason.starts_with("not read: "), "{notes:?}");
    }
}
