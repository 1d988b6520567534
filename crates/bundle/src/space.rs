//! Export a document space (any replica, typically a database table) to a
//! directory in a chosen layout, and import it back. A
//! `.driftsync-manifest.json` maps every file to its document, so a re-import
//! finds each document again — renamed files included, matched by content hash.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ReplicaError, ScanRequest, WriteMeta};
use serde::{Deserialize, Serialize};

use crate::local::write_if_changed;

/// The manifest's file name at the top of an export.
pub const MANIFEST: &str = ".driftsync-manifest.json";

/// How documents map to files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// The document path as folders: `guides/install.md`.
    Hierarchical,
    /// One folder; the path encoded in the file name: `guides%2Finstall.md`.
    Flat,
    /// Grouped by a metadata field: `<value>/<path>` (`_ungrouped` when absent).
    ByPath,
}

/// Where one document went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file, relative to the export folder.
    pub file: String,
    /// The document's path in the space.
    pub document: String,
    /// SHA-256 of the content exported.
    pub sha256: Hash,
    /// The document's version token at export.
    pub version: String,
}

/// `.driftsync-manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceManifest {
    /// Format version (1).
    pub format: u32,
    /// The layout used.
    pub layout: Layout,
    /// The metadata field for `by_path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Every exported file, sorted by file.
    pub entries: Vec<ManifestEntry>,
}

/// What an export or import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpaceReport {
    /// Files or documents written.
    pub written: Vec<String>,
    /// Left alone: already equal.
    pub unchanged: usize,
    /// Renames found by content hash (`old -> new`).
    pub renamed: Vec<String>,
    /// Files or documents removed.
    pub removed: Vec<String>,
    /// Skipped with the reason (changed on the other side since the export, unsafe names).
    pub skipped: Vec<String>,
}

/// A space operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    /// The replica failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// A local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is unreadable.
    #[error("{}:{line}:{col}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Line.
        line: usize,
        /// Column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// Usage error.
    #[error("{0}")]
    Usage(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpaceError + '_ {
    move |e| SpaceError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// `a/b%c.md` → `a%2Fb%25c.md` (reversible).
pub fn flat_encode(path: &str) -> String {
    path.replace('%', "%25").replace('/', "%2F")
}

/// The inverse of [`flat_encode`].
pub fn flat_decode(name: &str) -> String {
    name.replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%25", "%")
}

/// The value of `field` in a document: YAML front matter (`---` … `---`) or a
/// top-level `field: value` line of a YAML file, or a top-level JSON string.
pub fn metadata_field(content: &[u8], field: &str) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        return v
            .get(field)
            .and_then(|v| v.as_str().map(str::to_string).or(Some(v.to_string())));
    }
    let body = match text.strip_prefix("---\n") {
        Some(rest) => rest.split("\n---").next().unwrap_or(""),
        None => text,
    };
    body.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == field).then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

fn group_name(value: Option<String>) -> String {
    let v = value.unwrap_or_default();
    let safe: String = v
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_. ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim().trim_start_matches('.').to_string();
    if safe.is_empty() {
        "_ungrouped".into()
    } else {
        safe
    }
}

fn file_for(layout: Layout, group_by: Option<&str>, doc: &RelPath, content: &[u8]) -> String {
    match layout {
        Layout::Hierarchical => doc.to_string(),
        Layout::Flat => flat_encode(doc.as_str()),
        Layout::ByPath => format!(
            "{}/{}",
            group_name(group_by.and_then(|f| metadata_field(content, f))),
            doc
        ),
    }
}

fn document_for(layout: Layout, file: &str) -> String {
    match layout {
        Layout::Hierarchical => file.to_string(),
        Layout::Flat => flat_decode(file),
        Layout::ByPath => file
            .split_once('/')
            .map_or(file, |(_, rest)| rest)
            .to_string(),
    }
}

/// Read the manifest of an export folder, if there is one.
pub fn load_manifest(dir: &Path) -> Result<Option<SpaceManifest>, SpaceError> {
    let path = dir.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SpaceError::Manifest {
                line: e.line(),
                col: e.column(),
                message: e.to_string(),
                path,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

fn save_manifest(dir: &Path, m: &SpaceManifest) -> Result<(), SpaceError> {
    let mut text = serde_json::to_string_pretty(m).expect("manifest serialises");
    text.push('\n');
    let path = dir.join(MANIFEST);
    write_if_changed(&path, text.as_bytes()).map_err(|e| SpaceError::Usage(e.to_string()))?;
    Ok(())
}

fn read_all(r: &dyn Replica, path: &RelPath) -> Result<Vec<u8>, SpaceError> {
    let mut out = Vec::new();
    r.read(path)?
        .read_to_end(&mut out)
        .map_err(|e| ReplicaError::other(format!("{path}: read"), e))?;
    Ok(out)
}

/// Write every document of `space` into `dir`; files that already hold the
/// right bytes are not rewritten; files of the previous export whose
/// documents are gone are removed (unless edited since, then kept and reported).
pub fn export(
    space: &dyn Replica,
    dir: &Path,
    layout: Layout,
    group_by: Option<&str>,
) -> Result<SpaceReport, SpaceError> {
    if layout == Layout::ByPath && group_by.is_none() {
        return Err(SpaceError::Usage(
            "the by_path layout needs --group-by FIELD".into(),
        ));
    }
    let old = load_manifest(dir)?;
    let scan = space.scan(&ScanRequest::default())?;
    let mut report = SpaceReport::default();
    for note in scan.notes {
        report
            .skipped
            .push(format!("{}: {}", note.path, note.reason));
    }
    let mut entries = Vec::new();
    for (doc, entry) in scan.snapshot.iter() {
        let content = read_all(space, doc)?;
        let file = file_for(layout, group_by, doc, &content);
        let path = dir.join(&file);
        if write_if_changed(&path, &content).map_err(|e| SpaceError::Usage(e.to_string()))? {
            report.written.push(file.clone());
        } else {
            report.unchanged += 1;
        }
        entries.push(ManifestEntry {
            file,
            document: doc.to_string(),
            sha256: Hash::of(&content),
            version: entry.version.to_string(),
        });
    }
    let now: BTreeSet<&str> = entries.iter().map(|e| e.file.as_str()).collect();
    for gone in old
        .iter()
        .flat_map(|m| &m.entries)
        .filter(|e| !now.contains(e.file.as_str()))
    {
        let path = dir.join(&gone.file);
        match std::fs::read(&path) {
            Ok(bytes) if Hash::of(&bytes) == gone.sha256 => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                report.removed.push(gone.file.clone());
            }
            Ok(_) => report
                .skipped
                .push(format!("{}: edited since the last export; kept", gone.file)),
            Err(_) => {}
        }
    }
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    save_manifest(
        dir,
        &SpaceManifest {
            format: 1,
            layout,
            group_by: group_by.map(str::to_string),
            entries,
        },
    )?;
    Ok(report)
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), SpaceError> {
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        let path = e.path();
        let ty = e.file_type().map_err(io(&path))?;
        if ty.is_dir() {
            walk(base, &path, out)?;
        } else if ty.is_file() {
            let rel = path
                .strip_prefix(base)
                .expect("under base")
                .to_string_lossy()
                .replace('\\', "/");
            if rel != MANIFEST && !rel.contains(".driftsync-tmp-") {
                out.insert(rel, std::fs::read(&path).map_err(io(&path))?);
            }
        }
    }
    Ok(())
}

fn meta(content: &[u8]) -> WriteMeta {
    WriteMeta {
        size: content.len() as u64,
        hash: Hash::of(content),
        mtime_ns: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64),
        executable: false,
    }
}

/// Bring the edits made in an export folder back into the space: changed
/// files update their document (only if the document is still the version
/// exported), new files create documents, a file renamed (same content,
/// new name) renames its document, and deleted files delete theirs. The
/// manifest is rewritten afterwards by a fresh export.
pub fn import(space: &dyn Replica, dir: &Path) -> Result<SpaceReport, SpaceError> {
    let manifest = load_manifest(dir)?.ok_or_else(|| {
        SpaceError::Usage(format!(
            "{}: no {MANIFEST}; export into this folder first",
            dir.display()
        ))
    })?;
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files)?;
    let by_file: BTreeMap<&str, &ManifestEntry> = manifest
        .entries
        .iter()
        .map(|e| (e.file.as_str(), e))
        .collect();
    let mut missing: Vec<&ManifestEntry> = manifest
        .entries
        .iter()
        .filter(|e| !files.contains_key(&e.file))
        .collect();
    let mut report = SpaceReport::default();
    let record = |r: Result<(), ReplicaError>, what: String, report: &mut SpaceReport| match r {
        Ok(()) => Ok(()),
        Err(ReplicaError::Changed { path, detail }) => {
            report.skipped.push(format!(
                "{path}: changed in the space since the export ({detail}); {what} skipped"
            ));
            Ok(())
        }
        Err(e) => Err(SpaceError::Replica(e)),
    };
    space.begin_batch()?;
    let result = (|| -> Result<(), SpaceError> {
        for (file, content) in &files {
            let hash = Hash::of(content);
            if let Some(entry) = by_file.get(file.as_str()) {
                if entry.sha256 == hash {
                    report.unchanged += 1;
                    continue;
                }
                let doc = RelPath::new(entry.document.as_str())
                    .map_err(|e| SpaceError::Usage(e.to_string()))?;
                let r = space
                    .write(
                        &doc,
                        &mut &content[..],
                        &meta(content),
                        &Expect::Version(entry.version.as_str().into()),
                    )
                    .map(|_| ());
                if r.is_ok() {
                    report.written.push(entry.document.clone());
                }
                record(r, "update".into(), &mut report)?;
                continue;
            }
            let raw = document_for(manifest.layout, file);
            let Ok(doc) = RelPath::new(raw.as_str()) else {
                report
                    .skipped
                    .push(format!("{file}: maps to unsafe document path {raw:?}"));
                continue;
            };
            // A new name whose content an exported file had, and that file is gone: a rename.
            if let Some(i) = missing.iter().position(|e| e.sha256 == hash) {
                let old = missing.remove(i);
                let old_doc = RelPath::new(old.document.as_str())
                    .map_err(|e| SpaceError::Usage(e.to_string()))?;
                let r = space
                    .write(&doc, &mut &content[..], &meta(content), &Expect::Absent)
                    .map(|_| ())
                    .and_then(|()| {
                        space.remove(&old_doc, &Expect::Version(old.version.as_str().into()))
                    });
                if r.is_ok() {
                    report.renamed.push(format!("{} -> {doc}", old.document));
                }
                record(r, "rename".into(), &mut report)?;
                continue;
            }
            let r = space
                .write(&doc, &mut &content[..], &meta(content), &Expect::Absent)
                .map(|_| ());
            if r.is_ok() {
                report.written.push(doc.to_string());
            }
            record(r, "create".into(), &mut report)?;
        }
        for gone in &missing {
            let doc = RelPath::new(gone.document.as_str())
                .map_err(|e| SpaceError::Usage(e.to_string()))?;
            let r = space.remove(&doc, &Expect::Version(gone.version.as_str().into()));
            if r.is_ok() {
                report.removed.push(gone.document.clone());
            }
            record(r, "delete".into(), &mut report)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => space.commit_batch()?,
        Err(e) => {
            space.rollback_batch();
            return Err(e);
        }
    }
    // Refresh the manifest (and the files) to the space's new state.
    export(space, dir, manifest.layout, manifest.group_by.as_deref())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_encoding_round_trips() {
        for p in ["a/b/c.md", "100%/x%2F.md", "plain.txt"] {
            assert_eq!(flat_decode(&flat_encode(p)), p);
            assert!(!flat_encode(p).contains('/'));
        }
    }

    #[test]
    fn metadata_from_front_matter_yaml_and_json() {
        assert_eq!(
            metadata_field(b"---\nstatus: draft\n---\n# T\n", "status").as_deref(),
            Some("draft")
        );
        assert_eq!(
            metadata_field(b"owner: \"ops\"\n", "owner").as_deref(),
            Some("ops")
        );
        assert_eq!(
            metadata_field(br#"{"team": "web"}"#, "team").as_deref(),
            Some("web")
        );
        assert_eq!(metadata_field(b"# no metadata\n", "status"), None);
        assert_eq!(group_name(Some("../x".into())), "_x");
        assert_eq!(group_name(None), "_ungrouped");
    }
}
