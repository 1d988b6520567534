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

/// Read and check `dir/bundle.yaml` and every file it declares.
pub fn load(dir: &Path, name: &str) -> Result<LocalBundle, BundleError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| BundleError::Io {
        path: manifest_path.clone(),
        source: e,
    })?;
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
    for (i, f) in manifest.files.iter().enumerate() {
        let path = dir.join(f.as_str());
        match std::fs::read(&path) {
            Ok(bytes) => {
                files.insert(f.clone(), bytes);
            }
            Err(e) => problems.push(Problem {
                line: file_line(&files, i),
                col: 1,
                message: format!("files[{i}]: {f}: cannot read ({e})"),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(LocalBundle {
        dir: dir.to_path_buf(),
        manifest,
        files,
    })
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
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().join(MANIFEST_FILE).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Write `bytes` to `path` atomically (temp file + rename), creating folders;
/// returns false without touching the file when it already holds exactly these bytes.
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
    let tmp = path.with_file_name(format!(
        ".{}.driftsync-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(true)
}
