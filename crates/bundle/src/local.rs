//! A bundle as a directory: loading it, its tree hash, writing files atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use driftsync_core::{Hash, RelPath};

use crate::manifest::{parse_manifest, Manifest, MANIFEST_FILE};
use crate::schema::Problem;
use crate::BundleError;

/// A bundle's content: `bundle.yaml` plus every declared file, by path.
pub type Files = BTreeMap<RelPath, Vec<u8>>;

/// The tree hash of a bundle: SHA-256 over `path NUL sha256-hex LF` for every
/// file in path order. Equal trees have equal hashes on every machine.
pub fn tree_hash(files: &Files) -> Hash {
    let mut h = Hash::hasher();
    for (path, bytes) in files {
        h.update(path.as_str().as_bytes());
        h.update(b"\0");
        h.update(Hash::of(bytes).to_hex().as_bytes());
        h.update(b"\n");
    }
    h.finish()
}

/// A bundle directory read from disk.
#[derive(Clone, Debug)]
pub struct LocalBundle {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// `bundle.yaml` and every declared file.
    pub files: Files,
}

impl LocalBundle {
    /// The tree hash of its files.
    pub fn tree_hash(&self) -> Hash {
        tree_hash(&self.files)
    }
}

/// Read and check `root/name/bundle.yaml` and every file it declares. Every
/// file is read inside `root` without following a link: a declared file that
/// is (or sits under) a symbolic link is a problem, never read.
pub fn load(root: &Path, name: &str) -> Result<LocalBundle, BundleError> {
    let folder = Folder::new(root);
    let dir = root.join(name);
    let manifest_path = dir.join(MANIFEST_FILE);
    let in_bundle = |f: &str| {
        RelPath::new(format!("{name}/{f}")).map_err(|e| BundleError::Invalid {
            file: manifest_path.clone(),
            problems: vec![Problem {
                line: 1,
                col: 1,
                message: format!("{name}/{f}: {e}"),
            }],
        })
    };
    let text = match folder.read(&in_bundle(MANIFEST_FILE)?)? {
        Some(bytes) => String::from_utf8(bytes).map_err(|e| BundleError::Io {
            path: manifest_path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?,
        None => return Err(BundleError::NoLocal(dir)),
    };
    let invalid = |problems: Vec<Problem>| BundleError::Invalid {
        file: manifest_path.clone(),
        problems,
    };
    let manifest = parse_manifest(&text).map_err(invalid)?;
    let mut problems = Vec::new();
    if manifest.name != name {
        problems.push(Problem {
            line: 1,
            col: 1,
            message: format!(
                "name: {:?} differs from the directory name {name:?}; they must match",
                manifest.name
            ),
        });
    }
    let mut files = Files::new();
    files.insert(
        RelPath::new(MANIFEST_FILE).expect("valid path"),
        text.into_bytes(),
    );
    let mut manifest = manifest;
    if !manifest.files_declared {
        // No `files:`: the bundle is what its folder holds.
        let walk = Folder::new(&dir).walk()?;
        for link in &walk.links {
            problems.push(Problem {
                line: 1,
                col: 1,
                message: format!(
                    "{link} is a symbolic link; bundles hold only regular files inside their folder"
                ),
            });
        }
        for p in &walk.passed_over {
            problems.push(Problem {
                line: 1,
                col: 1,
                message: p.clone(),
            });
        }
        for (rel, bytes) in walk.files {
            if rel.as_str() == MANIFEST_FILE || is_junk(&rel) || is_generated_readme(&rel, &bytes) {
                continue;
            }
            manifest.files.push(rel.clone());
            files.insert(rel, bytes);
        }
    }
    for (i, f) in manifest
        .files
        .iter()
        .enumerate()
        .filter(|_| manifest.files_declared)
    {
        let why = match folder.read(&in_bundle(f.as_str())?) {
            Ok(Some(bytes)) => {
                files.insert(f.clone(), bytes);
                continue;
            }
            Ok(None) => "No such file or directory".to_string(),
            Err(FolderError::Symlink { at, .. }) => format!(
                "{} is a symbolic link; bundles hold only regular files inside their folder",
                at.strip_prefix(&dir).unwrap_or(&at).display()
            ),
            Err(e) => e.to_string(),
        };
        problems.push(Problem {
            line: file_line(&files, i),
            col: 1,
            message: format!("files[{i}]: {f}: cannot read ({why})"),
        });
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(LocalBundle {
        dir,
        manifest,
        files,
    })
}

/// Editor and OS leftovers that are never part of a bundle without `files:`.
pub fn is_junk(rel: &RelPath) -> bool {
    let name = rel.file_name();
    matches!(name, ".DS_Store" | "Thumbs.db" | "desktop.ini")
        || name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
}

/// The README.md that `bundle export` writes beside the files.
fn is_generated_readme(rel: &RelPath, bytes: &[u8]) -> bool {
    rel.as_str() == "README.md"
        && String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
            .contains(crate::readme::GENERATED)
}

/// The line of the i-th entry under `files:` (best effort, for messages).
fn file_line(files: &Files, i: usize) -> usize {
    let text = files
        .get(&RelPath::new(MANIFEST_FILE).expect("valid path"))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    crate::yaml::parse(&text)
        .ok()
        .and_then(|n| match n.get("files").map(|f| &f.value) {
            Some(crate::yaml::NodeValue::Seq(items)) => items.get(i).map(|n| n.line),
            _ => None,
        })
        .unwrap_or(1)
}

/// Bundle names found as `root/<name>/bundle.yaml`, sorted.
pub fn local_names(root: &Path) -> Result<Vec<String>, BundleError> {
    let rd = match std::fs::read_dir(root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(BundleError::Io {
                path: root.to_path_buf(),
                source: e,
            })
        }
    };
    // A linked folder is not a bundle here (it lives elsewhere): never followed.
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            std::fs::symlink_metadata(e.path().join(MANIFEST_FILE)).is_ok_and(|m| m.is_file())
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Write `bytes` to `path` atomically (temp file + rename), creating folders;
/// returns false without touching the file when it already holds exactly these bytes.
///
/// For a path the caller chose (a state file); files inside a bundle or an
/// export folder go through [`Folder`], which never follows a link.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, BundleError> {
    let io = |e| BundleError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = temp_name(path);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(true)
}

fn temp_name(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        ".{}{TEMP_MARKER}{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ))
}

/// Part of the name of a temporary file being written (never a real file).
pub const TEMP_MARKER: &str = ".driftsync-tmp-";

/// Why a path inside a [`Folder`] was not read, written or removed.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The path, or a folder on the way to it, is a symbolic link (never
    /// followed: it may lead outside the folder).
    #[error("{rel}: {} is a symbolic link; links are never followed (they may lead outside {})", at.display(), root.display())]
    Symlink {
        /// The folder.
        root: PathBuf,
        /// The path asked for, relative to the folder.
        rel: String,
        /// The link.
        at: PathBuf,
    },
    /// Something other than a regular file or folder is in the way.
    #[error("{rel}: {} is not a regular {what}", at.display())]
    NotRegular {
        /// The path asked for, relative to the folder.
        rel: String,
        /// What is in the way.
        at: PathBuf,
        /// "file" or "folder".
        what: &'static str,
    },
    /// The file system failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl FolderError {
    /// True when a link or an odd file was refused (the tree is hostile or
    /// unusual), false for a failing file system.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, FolderError::Io { .. })
    }
}

impl From<FolderError> for BundleError {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Io { path, source } => BundleError::Io { path, source },
            refused => BundleError::Unsafe(refused.to_string()),
        }
    }
}

/// What [`Folder::walk`] found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Every regular file, by `/`-separated path relative to the folder.
    pub files: BTreeMap<RelPath, Vec<u8>>,
    /// Symbolic links found (not followed), relative to the folder.
    pub links: Vec<String>,
    /// Anything else passed over, with the reason.
    pub passed_over: Vec<String>,
}

/// A folder whose files are read, written and removed only inside it: every
/// path is a [`RelPath`] (no `..`, not absolute, no empty segment), and every
/// component is looked at with `symlink_metadata` before it is used, so a
/// symbolic link — to a file or to a folder — is refused, never followed.
/// The folder itself is taken as given (the caller named it).
#[derive(Clone, Debug)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// The folder at `root` (it need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Folder {
        Folder { root: root.into() }
    }

    /// Its path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel` on the host.
    pub fn path(&self, rel: &RelPath) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(rel.segments());
        p
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FolderError + '_ {
        move |e| FolderError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }

    /// Walk to the folder holding `rel`, refusing links and non-folders;
    /// creates missing folders when `create`, else returns None at the first missing one.
    fn parent_of(&self, rel: &RelPath, create: bool) -> Result<Option<PathBuf>, FolderError> {
        let mut at = self.root.clone();
        if create {
            std::fs::create_dir_all(&at).map_err(Self::io(&at))?;
        }
        let segs: Vec<&str> = rel.segments().collect();
        for seg in &segs[..segs.len() - 1] {
            at.push(seg);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(FolderError::Symlink {
                        root: self.root.clone(),
                        rel: rel.to_string(),
                        at,
                    })
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(FolderError::NotRegular {
                        rel: rel.to_string(),
                        at,
                        what: "folder",
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    match std::fs::create_dir(&at) {
                        Ok(()) => {}
                        // Made meanwhile: look again (it may be a link).
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            return self.parent_of(rel, create)
                        }
                        Err(e) => return Err(Self::io(&at)(e)),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Self::io(&at)(e)),
            }
        }
        Ok(Some(at))
    }

    /// What is at `rel` itself: None when missing; refuses a link or a non-file.
    fn check_file(
        &self,
        rel: &RelPath,
        at: &Path,
    ) -> Result<Option<std::fs::Metadata>, FolderError> {
        match std::fs::symlink_metadata(at) {
            Ok(m) if m.file_type().is_symlink() => Err(FolderError::Symlink {
                root: self.root.clone(),
                rel: rel.to_string(),
                at: at.to_path_buf(),
            }),
            Ok(m) if m.is_file() => Ok(Some(m)),
            Ok(_) => Err(FolderError::NotRegular {
                rel: rel.to_string(),
                at: at.to_path_buf(),
                what: "file",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(at)(e)),
        }
    }

    /// The content of `rel`, or None when it (or a folder on the way) is missing.
    pub fn read(&self, rel: &RelPath) -> Result<Option<Vec<u8>>, FolderError> {
        let Some(dir) = self.parent_of(rel, false)? else {
            return Ok(None);
        };
        let at = dir.join(rel.file_name());
        let Some(before) = self.check_file(rel, &at)? else {
            return Ok(None);
        };
        let mut f = match std::fs::File::open(&at) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io(&at)(e)),
        };
        // The file opened is the one looked at (not a link swapped in meanwhile).
        let opened = f.metadata().map_err(Self::io(&at))?;
        if !same_file(&before, &opened) {
            return Err(FolderError::NotRegular {
                rel: rel.to_string(),
                at,
                what: "file (it changed while being opened)",
            });
        }
        let mut out = Vec::with_capacity(opened.len() as usize);
        std::io::Read::read_to_end(&mut f, &mut out).map_err(Self::io(&at))?;
        Ok(Some(out))
    }

    /// Refuse now what [`Folder::write_if_changed`] or [`Folder::remove`] would
    /// refuse for `rel` (a link on the way or in place), without writing.
    pub fn check(&self, rel: &RelPath) -> Result<(), FolderError> {
        if let Some(dir) = self.parent_of(rel, false)? {
            self.check_file(rel, &dir.join(rel.file_name()))?;
        }
        Ok(())
    }

    /// Write `bytes` to `rel` atomically (temp file + rename in the same
    /// folder), creating folders; false without touching the file when it
    /// already holds exactly these bytes.
    pub fn write_if_changed(&self, rel: &RelPath, bytes: &[u8]) -> Result<bool, FolderError> {
        if self.read(rel)?.as_deref() == Some(bytes) {
            return Ok(false);
        }
        let dir = self.parent_of(rel, true)?.expect("created");
        let at = dir.join(rel.file_name());
        self.check_file(rel, &at)?;
        let tmp = temp_name(&at);
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            std::io::Write::write_all(&mut f, bytes)?;
            f.sync_data()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(Self::io(&at)(e));
        }
        std::fs::rename(&tmp, &at).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Self::io(&at)(e)
        })?;
        Ok(true)
    }

    /// Remove the file `rel` (nothing when missing), then every folder the
    /// removal left empty, up to the folder itself.
    pub fn remove(&self, rel: &RelPath) -> Result<(), FolderError> {
        let Some(dir) = self.parent_of(rel, false)? else {
            return Ok(());
        };
        let at = dir.join(rel.file_name());
        if self.check_file(rel, &at)?.is_none() {
            return Ok(());
        }
        match std::fs::remove_file(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::io(&at)(e)),
        }
        let mut parent = rel.parent();
        while let Some(p) = parent {
            if std::fs::remove_dir(self.path(&p)).is_err() {
                break;
            }
            parent = p.parent();
        }
        Ok(())
    }

    /// Every regular file under the folder, read; links are listed in
    /// [`Walk::links`] and neither read nor entered. Temporary files of an
    /// interrupted write are passed over silently. A missing folder is empty.
    pub fn walk(&self) -> Result<Walk, FolderError> {
        let mut out = Walk::default();
        match std::fs::symlink_metadata(&self.root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Self::io(&self.root)(e)),
            Ok(_) => {}
        }
        self.walk_in(None, &mut out)?;
        Ok(out)
    }

    fn walk_in(&self, dir: Option<&RelPath>, out: &mut Walk) -> Result<(), FolderError> {
        let host = dir.map_or_else(|| self.root.clone(), |d| self.path(d));
        let mut names = Vec::new();
        for e in std::fs::read_dir(&host).map_err(Self::io(&host))? {
            let e = e.map_err(Self::io(&host))?;
            names.push((e.file_name(), e.file_type().map_err(Self::io(&e.path()))?));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, ty) in names {
            let shown = match dir {
                Some(d) => format!("{d}/{}", name.to_string_lossy()),
                None => name.to_string_lossy().into_owned(),
            };
            let rel = name.to_str().and_then(|n| match dir {
                Some(d) => d.join(n).ok(),
                None => RelPath::new(n).ok(),
            });
            let Some(rel) = rel else {
                out.passed_over.push(format!(
                    "{shown}: not a usable name (not UTF-8, or a backslash)"
                ));
                continue;
            };
            if ty.is_symlink() {
                out.links.push(rel.to_string());
            } else if ty.is_dir() {
                self.walk_in(Some(&rel), out)?;
            } else if ty.is_file() {
                if rel.file_name().contains(TEMP_MARKER) {
                    continue;
                }
                match self.read(&rel) {
                    Ok(Some(bytes)) => {
                        out.files.insert(rel, bytes);
                    }
                    Ok(None) => {}
                    Err(FolderError::Symlink { .. }) => out.links.push(rel.to_string()),
                    Err(e) if e.is_refusal() => out.passed_over.push(e.to_string()),
                    Err(e) => return Err(e),
                }
            } else {
                out.passed_over
                    .push(format!("{shown}: not a regular file or folder"));
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino() && b.is_file()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    b.is_file()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rel(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn folder_never_follows_links() {
        let tmp = tempfile::tempdir().unwrap();
        let (inside, outside) = (tmp.path().join("in"), tmp.path().join("out"));
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "secret").unwrap();
        symlink(&outside, inside.join("dir")).unwrap();
        symlink(outside.join("secret"), inside.join("file")).unwrap();
        let f = Folder::new(&inside);
        for p in ["dir/secret", "file", "dir/new/x"] {
            assert!(
                matches!(f.read(&rel(p)), Err(FolderError::Symlink { .. }) | Ok(None)),
                "{p}"
            );
            let e = f.write_if_changed(&rel(p), b"x").unwrap_err();
            assert!(
                e.is_refusal() && e.to_string().contains("symbolic link"),
                "{p}: {e}"
            );
            assert!(f.remove(&rel(p)).unwrap_err().is_refusal(), "{p}");
            assert!(f.check(&rel(p)).is_err(), "{p}");
        }
        assert!(matches!(
            f.read(&rel("dir/secret")),
            Err(FolderError::Symlink { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(outside.join("secret")).unwrap(),
            "secret"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
        let w = f.walk().unwrap();
        assert!(w.files.is_empty(), "{w:?}");
        assert_eq!(w.links, ["dir", "file"]);
    }

    #[test]
    fn folder_writes_removes_and_prunes_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let f = Folder::new(tmp.path().join("root"));
        assert!(f.write_if_changed(&rel("a/b/c.txt"), b"1").unwrap());
        assert!(!f.write_if_changed(&rel("a/b/c.txt"), b"1").unwrap());
        assert_eq!(
            f.read(&rel("a/b/c.txt")).unwrap().as_deref(),
            Some(&b"1"[..])
        );
        assert_eq!(f.read(&rel("a/x/c.txt")).unwrap(), None);
        f.write_if_changed(&rel("a/keep.txt"), b"2").unwrap();
        f.remove(&rel("a/b/c.txt")).unwrap();
        assert!(!tmp.path().join("root/a/b").exists());
        assert!(tmp.path().join("root/a/keep.txt").is_file());
        let w = f.walk().unwrap();
        assert_eq!(
            w.files.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["a/keep.txt"]
        );
    }
}
