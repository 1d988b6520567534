//! Export a document space (any replica, typically a database table) to a
//! directory in a chosen layout, and import it back. A
//! `.driftsync-manifest.json` maps every file to its document, so a re-import
//! finds each document again — renamed files included, matched by content hash.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use driftsync_core::{Entry, Hash, RelPath};
use driftsync_replica::{Expect, Replica, ReplicaError, ScanRequest, WriteMeta};
use serde::{Deserialize, Serialize};

use crate::local::{Folder, FolderError, TEMP_MARKER};

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
    /// Each file has a metadata file beside it (`F.meta.json`, see
    /// [`crate::space_meta`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata: bool,
    /// Every exported file, sorted by file.
    pub entries: Vec<ManifestEntry>,
}

/// What an export or import did (or, in a dry run, would do).
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
    /// Conflicts settled by the chosen strategy (`overwrite`, `rename`), with how.
    pub resolved: Vec<String>,
    /// Left undone with the reason: edits not stored (kept on disk), links
    /// not followed, unsafe names. Not empty = exit 1.
    pub skipped: Vec<String>,
    /// Nothing was written: this is what would happen.
    pub dry_run: bool,
}

/// What `import` does with a file edited in the folder whose document also
/// changed (or appeared, or went away) in the space since the export — the
/// importer strategies `skip`, `overwrite` and `rename` (`keep-both`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Store nothing for it; the file keeps the edit on disk, and it is
    /// reported (exit 1) on every import until settled.
    #[default]
    Skip,
    /// The folder's copy replaces the document (the space's change is discarded).
    Overwrite,
    /// Both are kept: the folder's copy is stored as a new document
    /// `name.conflict-local-STAMP.ext` beside the space's.
    Rename,
}

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The conflict strategy.
    pub on_conflict: OnConflict,
    /// Report what would happen; write nothing to the space or the folder.
    pub dry_run: bool,
    /// The stamp in conflict copies' names (default: the current UTC time, `20260102T030405Z`).
    pub stamp: Option<String>,
    /// Globs of new files to import (empty: every file). Files the export
    /// wrote are always read back.
    pub include: Vec<String>,
    /// Globs of new files never imported.
    pub exclude: Vec<String>,
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
    /// A manifest entry names a path outside the folder (or otherwise unsafe);
    /// nothing was read, written or removed.
    #[error("{}: entries[{index}].{field} {value:?} is refused: {reason}; nothing was written", path.display())]
    UnsafeEntry {
        /// The manifest.
        path: PathBuf,
        /// Which entry.
        index: usize,
        /// `file` or `document`.
        field: &'static str,
        /// The value found.
        value: String,
        /// Why.
        reason: String,
    },
    /// A path in the folder was refused (a link, not a regular file).
    #[error(transparent)]
    Folder(#[from] FolderError),
    /// Usage error.
    #[error("{0}")]
    Usage(String),
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
        // by_path without a field to group by lays files out by the
        // document's own path.
        Layout::Hierarchical => doc.to_string(),
        Layout::ByPath if group_by.is_none() => doc.to_string(),
        Layout::Flat => flat_encode(doc.as_str()),
        Layout::ByPath => format!(
            "{}/{}",
            group_name(group_by.and_then(|f| metadata_field(content, f))),
            doc
        ),
    }
}

fn document_for(layout: Layout, group_by: Option<&str>, file: &str) -> String {
    match layout {
        Layout::Hierarchical => file.to_string(),
        Layout::ByPath if group_by.is_none() => file.to_string(),
        Layout::Flat => flat_decode(file),
        Layout::ByPath => file
            .split_once('/')
            .map_or(file, |(_, rest)| rest)
            .to_string(),
    }
}

fn manifest_rel() -> RelPath {
    RelPath::new(MANIFEST).expect("valid path")
}

/// Read the manifest of an export folder, if there is one. Every entry's
/// `file` and `document` must be a safe relative path ([`RelPath`]: no `..`,
/// not absolute, no empty segment); the first that is not is an error naming
/// the manifest and the entry.
pub fn load_manifest(dir: &Path) -> Result<Option<SpaceManifest>, SpaceError> {
    Ok(load_checked(&Folder::new(dir))?.map(|(m, _)| m))
}

/// A manifest entry whose paths passed the checks.
#[derive(Clone, Debug)]
struct Checked {
    file: RelPath,
    doc: RelPath,
    sha256: Hash,
    version: String,
}

fn load_checked(folder: &Folder) -> Result<Option<(SpaceManifest, Vec<Checked>)>, SpaceError> {
    let path = folder.path(&manifest_rel());
    let Some(bytes) = folder.read(&manifest_rel())? else {
        return Ok(None);
    };
    let m: SpaceManifest = serde_json::from_slice(&bytes).map_err(|e| SpaceError::Manifest {
        line: e.line(),
        col: e.column(),
        message: e.to_string(),
        path: path.clone(),
    })?;
    let mut checked = Vec::with_capacity(m.entries.len());
    for (index, e) in m.entries.iter().enumerate() {
        let refuse = |field, value: &str, reason: String| SpaceError::UnsafeEntry {
            path: path.clone(),
            index,
            field,
            value: value.to_string(),
            reason,
        };
        let file = RelPath::new(&e.file).map_err(|err| refuse("file", &e.file, err.to_string()))?;
        if file.as_str() == MANIFEST || file.file_name().contains(TEMP_MARKER) {
            return Err(refuse("file", &e.file, "not a document file".into()));
        }
        let doc = RelPath::new(&e.document)
            .map_err(|err| refuse("document", &e.document, err.to_string()))?;
        checked.push(Checked {
            file,
            doc,
            sha256: e.sha256,
            version: e.version.clone(),
        });
    }
    Ok(Some((m, checked)))
}

fn save_manifest(folder: &Folder, m: &SpaceManifest) -> Result<(), SpaceError> {
    let mut text = serde_json::to_string_pretty(m).expect("manifest serialises");
    text.push('\n');
    folder.write_if_changed(&manifest_rel(), text.as_bytes())?;
    Ok(())
}

fn read_all(r: &dyn Replica, path: &RelPath) -> Result<Vec<u8>, SpaceError> {
    let mut out = Vec::new();
    r.read(path)?
        .read_to_end(&mut out)
        .map_err(|e| ReplicaError::other(format!("{path}: read"), e))?;
    Ok(out)
}

/// Contents the space holds for some files right after an import: those
/// files may be replaced or removed by the refresh even though they differ
/// from what the manifest recorded.
type Stored = BTreeMap<RelPath, BTreeSet<Hash>>;

/// Write every document of `space` into `dir`; files that already hold the
/// right bytes are not rewritten; files of the previous export whose
/// documents are gone (or moved, in `by_path`) are removed. A file whose
/// content differs from what the manifest recorded for it — an edit made in
/// the folder and not imported — is never overwritten or removed: it is kept,
/// keeps its manifest entry, and is reported. Nothing is read or written
/// through a symbolic link: links are reported and left alone.
pub fn export(
    space: &dyn Replica,
    dir: &Path,
    layout: Layout,
    group_by: Option<&str>,
    dry_run: bool,
) -> Result<SpaceReport, SpaceError> {
    let how = ExportOptions {
        layout,
        group_by: group_by.map(str::to_string),
        dry_run,
        metadata: false,
    };
    export_with(space, dir, &how)
}

/// How to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// How documents map to files.
    pub layout: Layout,
    /// The metadata field `by_path` groups by.
    pub group_by: Option<String>,
    /// Report what would happen; write nothing.
    pub dry_run: bool,
    /// Write a metadata file beside each file ([`crate::space_meta`]);
    /// without it, those of an earlier export are removed.
    pub metadata: bool,
}

/// [`export`], with metadata files when `how.metadata`.
pub fn export_with(
    space: &dyn Replica,
    dir: &Path,
    how: &ExportOptions,
) -> Result<SpaceReport, SpaceError> {
    let folder = Folder::new(dir);
    let (had_metadata, old) = match load_checked(&folder)? {
        Some((m, e)) => (m.metadata, e),
        None => (false, Vec::new()),
    };
    let sidecars = Sidecars {
        write: how.metadata,
        had: had_metadata,
    };
    export_into(
        space,
        &folder,
        how.layout,
        how.group_by.as_deref(),
        &old,
        &Stored::new(),
        how.dry_run,
        sidecars,
    )
}

/// Metadata files in an export: written this time, written last time.
#[derive(Clone, Copy)]
struct Sidecars {
    write: bool,
    had: bool,
}

#[allow(clippy::too_many_arguments)] // one private step, called twice
fn export_into(
    space: &dyn Replica,
    folder: &Folder,
    layout: Layout,
    group_by: Option<&str>,
    old: &[Checked],
    stored: &Stored,
    dry_run: bool,
    sidecars: Sidecars,
) -> Result<SpaceReport, SpaceError> {
    let old_by_file: BTreeMap<&RelPath, &Checked> = old.iter().map(|e| (&e.file, e)).collect();
    // May the file at `file`, now holding `hash`, be replaced or removed?
    let replaceable = |file: &RelPath, hash: Hash| {
        old_by_file.get(file).is_some_and(|e| e.sha256 == hash)
            || stored.get(file).is_some_and(|s| s.contains(&hash))
    };
    let keep = |e: &Checked| ManifestEntry {
        file: e.file.to_string(),
        document: e.doc.to_string(),
        sha256: e.sha256,
        version: e.version.clone(),
    };
    let scan = space.scan(&ScanRequest::default())?;
    let mut report = SpaceReport {
        dry_run,
        ..SpaceReport::default()
    };
    for note in scan.notes {
        report
            .skipped
            .push(format!("{}: {}", note.path, note.reason));
    }
    let mut entries = Vec::new();
    let mut claimed = BTreeSet::new();
    for (doc, entry) in scan.snapshot.iter() {
        let content = read_all(space, doc)?;
        let name = file_for(layout, group_by, doc, &content);
        let Ok(file) = RelPath::new(&name) else {
            report.skipped.push(format!(
                "{doc}: maps to unsafe file name {name:?}; not exported"
            ));
            continue;
        };
        claimed.insert(file.clone());
        let on_disk = match folder.read(&file) {
            Ok(b) => b,
            Err(e) if e.is_refusal() => {
                report.skipped.push(format!("{e}; not written"));
                entries.extend(old_by_file.get(&file).map(|e| keep(e)));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match on_disk {
            Some(b) if b == content => report.unchanged += 1,
            Some(b) if !replaceable(&file, Hash::of(&b)) => {
                report.skipped.push(format!(
                    "{file}: edited in the folder and not stored in the space; kept, not overwritten with {doc} (import it first)"
                ));
                entries.extend(old_by_file.get(&file).map(|e| keep(e)));
                continue;
            }
            _ if dry_run => report.written.push(file.to_string()),
            _ => match folder.write_if_changed(&file, &content) {
                Ok(_) => report.written.push(file.to_string()),
                Err(e) if e.is_refusal() => {
                    report.skipped.push(format!("{e}; not written"));
                    entries.extend(old_by_file.get(&file).map(|e| keep(e)));
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        }
        if sidecars.write {
            write_sidecar(folder, &file, doc, entry, &content, dry_run, &mut report)?;
        }
        entries.push(ManifestEntry {
            file: file.to_string(),
            document: doc.to_string(),
            sha256: Hash::of(&content),
            version: entry.version.to_string(),
        });
    }
    for gone in old.iter().filter(|e| !claimed.contains(&e.file)) {
        match folder.read(&gone.file) {
            Ok(None) => {}
            Ok(Some(b)) if replaceable(&gone.file, Hash::of(&b)) => {
                if !dry_run {
                    folder.remove(&gone.file)?;
                }
                report.removed.push(gone.file.to_string());
            }
            Ok(Some(_)) => {
                report.skipped.push(format!(
                    "{}: edited in the folder since the last export, and {} is gone from the space or now maps to another file; kept",
                    gone.file, gone.doc
                ));
                entries.push(keep(gone));
            }
            Err(e) if e.is_refusal() => {
                report.skipped.push(format!("{e}; left alone"));
                entries.push(keep(gone));
            }
            Err(e) => return Err(e.into()),
        }
    }
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    if sidecars.had {
        // Metadata files of files gone, or of every file when they are off now.
        let keep: BTreeSet<&str> = entries
            .iter()
            .filter(|_| sidecars.write)
            .map(|e| e.file.as_str())
            .collect();
        for e in old.iter().filter(|e| !keep.contains(e.file.as_str())) {
            let Some(side) = crate::space_meta::sidecar(&e.file) else {
                continue;
            };
            if matches!(folder.read(&side), Ok(Some(_))) {
                if !dry_run {
                    folder.remove(&side)?;
                }
                report.removed.push(side.to_string());
            }
        }
    }
    if dry_run {
        return Ok(report);
    }
    save_manifest(
        folder,
        &SpaceManifest {
            format: 1,
            layout,
            group_by: group_by.map(str::to_string),
            metadata: sidecars.write,
            entries,
        },
    )?;
    Ok(report)
}

/// Write (in a dry run: report) the metadata file of `file`, document `doc`.
fn write_sidecar(
    folder: &Folder,
    file: &RelPath,
    doc: &RelPath,
    entry: &Entry,
    content: &[u8],
    dry_run: bool,
    report: &mut SpaceReport,
) -> Result<(), SpaceError> {
    let Some(side) = crate::space_meta::sidecar(file) else {
        return Ok(());
    };
    let bytes = crate::space_meta::render(doc, entry, content);
    if dry_run {
        if !matches!(folder.read(&side), Ok(Some(b)) if b == bytes) {
            report.written.push(side.to_string());
        }
        return Ok(());
    }
    match folder.write_if_changed(&side, &bytes) {
        Ok(true) => report.written.push(side.to_string()),
        Ok(false) => {}
        Err(e) if e.is_refusal() => report.skipped.push(format!("{e}; not written")),
        Err(e) => return Err(e.into()),
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

/// `20260102T030405Z`, now.
fn utc_stamp() -> String {
    driftsync_core::time::stamp(crate::now_secs())
}

/// `dir/name.conflict-local-STAMP.ext`, unused by any document in `taken`.
fn conflict_copy(doc: &RelPath, stamp: &str, taken: &BTreeSet<RelPath>) -> RelPath {
    let name = doc.file_name();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (1..)
        .map(|n| {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!("-{n}")
            };
            let file = format!("{stem}.conflict-local-{stamp}{suffix}{ext}");
            match doc.parent() {
                Some(d) => d.join(&file),
                None => RelPath::new(file),
            }
            .expect("a conflict name built from a valid path is valid")
        })
        .find(|c| !taken.contains(c))
        .expect("an unused conflict name always exists")
}

/// One change to the space.
enum Act<'a> {
    Write {
        doc: RelPath,
        content: &'a [u8],
        expect: Expect,
        /// The file it comes from (its content is stored once this succeeds).
        file: RelPath,
    },
    Remove {
        doc: RelPath,
        expect: Expect,
    },
}

/// The import being planned.
struct Plan<'a> {
    opts: &'a ImportOptions,
    stamp: String,
    current: BTreeMap<RelPath, Entry>,
    /// Documents that exist or will: conflict copies avoid them.
    taken: BTreeSet<RelPath>,
    acts: Vec<Act<'a>>,
    stored: Stored,
    /// Files already reported (the refresh does not report them again).
    reported: BTreeSet<RelPath>,
    report: SpaceReport,
}

impl<'a> Plan<'a> {
    fn write(&mut self, doc: RelPath, content: &'a [u8], expect: Expect, file: &RelPath) {
        self.taken.insert(doc.clone());
        self.acts.push(Act::Write {
            doc,
            content,
            expect,
            file: file.clone(),
        });
    }

    fn same(&mut self, file: &RelPath, hash: Hash) {
        self.report.unchanged += 1;
        self.stored.entry(file.clone()).or_default().insert(hash);
    }

    /// `file` (with `content`) and document `doc` both changed since the
    /// export: settle it by the strategy. `replace` is the write that
    /// stores the folder's copy over `doc`; `also` is done with it under
    /// `overwrite` (the removal half of a rename).
    fn conflict(
        &mut self,
        file: &RelPath,
        doc: &RelPath,
        content: &'a [u8],
        why: String,
        also: Option<Act<'a>>,
    ) {
        let expect = match self.current.get(doc) {
            Some(e) => Expect::Version(e.version.clone()),
            None => Expect::Absent,
        };
        match self.opts.on_conflict {
            OnConflict::Skip => {
                self.reported.insert(file.clone());
                self.report.skipped.push(format!(
                    "{file}: {why}; the folder's copy was not stored and stays on disk (--on-conflict overwrite or rename stores it)"
                ));
            }
            OnConflict::Overwrite => {
                self.write(doc.clone(), content, expect, file);
                self.acts.extend(also);
                self.report
                    .resolved
                    .push(format!("{file}: {why}; the folder's copy replaced {doc}"));
            }
            OnConflict::Rename => {
                let copy = if self.current.contains_key(doc) {
                    conflict_copy(doc, &self.stamp, &self.taken)
                } else {
                    doc.clone()
                };
                self.write(copy.clone(), content, Expect::Absent, file);
                self.report.resolved.push(format!(
                    "{file}: {why}; the folder's copy was stored as {copy}, the space's kept"
                ));
            }
        }
    }
}

/// Bring the edits made in an export folder back into the space, in one
/// batch: changed files update their document, new files create documents,
/// a file renamed (same content, new name) renames its document, and
/// deleted files delete theirs. Where the document changed in the space
/// since the export too, `opts.on_conflict` decides (see [`OnConflict`]); a
/// skipped edit stays on disk. Symbolic links in the folder are reported and
/// never followed. Afterwards the folder is refreshed from the space by an
/// export that never overwrites a file whose content the space does not hold.
/// With `opts.dry_run` nothing is written anywhere.
pub fn import(
    space: &dyn Replica,
    dir: &Path,
    opts: &ImportOptions,
) -> Result<SpaceReport, SpaceError> {
    let folder = Folder::new(dir);
    let (manifest, entries) = load_checked(&folder)?.ok_or_else(|| {
        SpaceError::Usage(format!(
            "{}: no {MANIFEST}; export into this folder first",
            dir.display()
        ))
    })?;
    let walk = folder.walk()?;
    let scan = space.scan(&ScanRequest::default())?;
    let current: BTreeMap<RelPath, Entry> = scan
        .snapshot
        .iter()
        .map(|(p, e)| (p.clone(), e.clone()))
        .collect();
    let mut plan = Plan {
        opts,
        stamp: opts.stamp.clone().unwrap_or_else(utc_stamp),
        taken: current.keys().cloned().collect(),
        current,
        acts: Vec::new(),
        stored: Stored::new(),
        reported: BTreeSet::new(),
        report: SpaceReport {
            dry_run: opts.dry_run,
            ..SpaceReport::default()
        },
    };
    for note in scan.notes {
        plan.report
            .skipped
            .push(format!("{}: {}", note.path, note.reason));
    }
    for link in &walk.links {
        plan.report.skipped.push(format!(
            "{link}: a symbolic link; not followed, not imported"
        ));
    }
    plan.report.skipped.extend(walk.passed_over.iter().cloned());
    let linked = |file: &RelPath| {
        walk.links
            .iter()
            .any(|l| file.as_str() == l || file.as_str().starts_with(&format!("{l}/")))
    };
    let by_file: BTreeMap<&RelPath, &Checked> = entries.iter().map(|e| (&e.file, e)).collect();
    // A new file is imported when the selection takes it; editor and OS
    // leftovers (`.DS_Store`, `*.swp`, `*~`, `.#*`) never are.
    let select = driftsync_replica::filter::PathFilter::new(&opts.include, &opts.exclude)
        .map_err(|e| SpaceError::Usage(format!("--include/--exclude: {e}")))?;
    // With metadata files, those beside a file (or an exported one) are read
    // for what they say, never stored as documents.
    let is_sidecar = |f: &RelPath| {
        manifest.metadata
            && crate::space_meta::described(f)
                .is_some_and(|base| walk.files.contains_key(&base) || by_file.contains_key(&base))
    };
    let files: BTreeMap<&RelPath, &[u8]> = walk
        .files
        .iter()
        .filter(|(f, _)| f.as_str() != MANIFEST && !is_sidecar(f))
        .filter(|(f, _)| {
            by_file.contains_key(f) || (!crate::local::is_junk(f) && select.matches(f.as_str()))
        })
        .map(|(f, b)| (f, b.as_slice()))
        .collect();
    // Exported files no longer there (a file behind a link is not "gone").
    let mut missing: Vec<&Checked> = entries
        .iter()
        .filter(|e| !files.contains_key(&e.file) && !linked(&e.file))
        .collect();
    let mut created = BTreeSet::new();
    for (&file, &content) in &files {
        let hash = Hash::of(content);
        if let Some(entry) = by_file.get(file) {
            if entry.sha256 == hash {
                plan.same(file, hash);
                continue;
            }
            let doc = &entry.doc;
            match plan.current.get(doc) {
                Some(e) if e.hash == hash => plan.same(file, hash),
                Some(e) if e.version.as_str() == entry.version => {
                    let expect = Expect::Version(e.version.clone());
                    plan.write(doc.clone(), content, expect, file);
                    plan.report.written.push(doc.to_string());
                }
                Some(_) => plan.conflict(
                    file,
                    doc,
                    content,
                    format!("changed in the folder, and {doc} changed in the space since the export"),
                    None,
                ),
                None => plan.conflict(
                    file,
                    doc,
                    content,
                    format!("changed in the folder, and {doc} was deleted in the space since the export"),
                    None,
                ),
            }
            continue;
        }
        let mut raw = document_for(manifest.layout, manifest.group_by.as_deref(), file.as_str());
        // A new file with a metadata file: the document its `id` names.
        let side = crate::space_meta::sidecar(file).filter(|_| manifest.metadata);
        if let Some((side, bytes)) = side.and_then(|s| walk.files.get_key_value(&s)) {
            match crate::space_meta::read_id(bytes) {
                Ok(id) => raw = id.to_string(),
                Err(e) => plan.report.skipped.push(format!(
                    "{side}: not a metadata file driftsync reads ({e}); {file} imported by its name"
                )),
            }
        }
        let Ok(doc) = RelPath::new(raw.as_str()) else {
            plan.report
                .skipped
                .push(format!("{file}: maps to unsafe document path {raw:?}"));
            continue;
        };
        if !created.insert(doc.clone()) {
            plan.report.skipped.push(format!(
                "{file}: another file of the folder also maps to {doc}; not imported"
            ));
            continue;
        }
        let cur = plan.current.get(&doc).cloned();
        // A new name whose content an exported file had, and that file is gone: a rename.
        if let Some(i) = missing.iter().position(|e| e.sha256 == hash) {
            let old = missing[i];
            if old.doc == doc || cur.as_ref().is_some_and(|e| e.hash == hash) {
                // The same document under another file name (a by-path folder
                // moved by hand), or the space already has it.
                if old.doc == doc {
                    missing.remove(i);
                }
                plan.same(file, hash);
                continue;
            }
            if cur.is_none() {
                missing.remove(i);
                let old_doc = old.doc.clone();
                match plan.current.get(&old_doc).cloned() {
                    Some(e) if e.version.as_str() == old.version || e.hash == old.sha256 => {
                        plan.write(doc.clone(), content, Expect::Absent, file);
                        plan.acts.push(Act::Remove {
                            doc: old_doc.clone(),
                            expect: Expect::Version(e.version.clone()),
                        });
                        plan.report.renamed.push(format!("{old_doc} -> {doc}"));
                    }
                    Some(e) => {
                        let remove = Act::Remove {
                            doc: old_doc.clone(),
                            expect: Expect::Version(e.version.clone()),
                        };
                        plan.conflict(
                            file,
                            &doc,
                            content,
                            format!("renamed from {} in the folder, and {old_doc} changed in the space since the export", old.file),
                            Some(remove),
                        );
                    }
                    None => plan.conflict(
                        file,
                        &doc,
                        content,
                        format!("renamed from {} in the folder, and {old_doc} was deleted in the space since the export", old.file),
                        None,
                    ),
                }
                continue;
            }
        }
        match cur {
            Some(e) if e.hash == hash => plan.same(file, hash),
            Some(_) => plan.conflict(
                file,
                &doc,
                content,
                format!("new in the folder, and the space has a different {doc}"),
                None,
            ),
            None => {
                plan.write(doc.clone(), content, Expect::Absent, file);
                plan.report.written.push(doc.to_string());
            }
        }
    }
    for gone in missing {
        match plan.current.get(&gone.doc).cloned() {
            None => {}
            Some(e) if e.version.as_str() == gone.version || e.hash == gone.sha256 => {
                plan.acts.push(Act::Remove {
                    doc: gone.doc.clone(),
                    expect: Expect::Version(e.version.clone()),
                });
                plan.report.removed.push(gone.doc.to_string());
            }
            Some(e) => {
                let why = format!(
                    "{}: deleted in the folder, and {} changed in the space since the export",
                    gone.file, gone.doc
                );
                match opts.on_conflict {
                    OnConflict::Skip => plan.report.skipped.push(format!(
                        "{why}; not deleted (the refresh writes the space's copy back)"
                    )),
                    OnConflict::Overwrite => {
                        plan.acts.push(Act::Remove {
                            doc: gone.doc.clone(),
                            expect: Expect::Version(e.version.clone()),
                        });
                        plan.report.resolved.push(format!("{why}; deleted"));
                    }
                    OnConflict::Rename => plan
                        .report
                        .resolved
                        .push(format!("{why}; the space's copy kept (written back)")),
                }
            }
        }
    }
    let Plan {
        acts,
        mut stored,
        mut reported,
        mut report,
        ..
    } = plan;
    for act in &acts {
        if let Act::Write { file, content, .. } = act {
            stored
                .entry(file.clone())
                .or_default()
                .insert(Hash::of(content));
        }
    }
    if opts.dry_run {
        return Ok(report);
    }
    space.begin_batch()?;
    let applied = (|| -> Result<(), SpaceError> {
        for act in &acts {
            let (r, what) = match act {
                Act::Write {
                    doc,
                    content,
                    expect,
                    file,
                } => (
                    space
                        .write(doc, &mut &content[..], &meta(content), expect)
                        .map(|_| ()),
                    Some((file, doc)),
                ),
                Act::Remove { doc, expect } => (space.remove(doc, expect), None),
            };
            match r {
                Ok(()) => {}
                Err(ReplicaError::Changed { path, detail }) => {
                    if let Some((file, _)) = what {
                        stored.remove(file);
                        reported.insert(file.clone());
                    }
                    report.skipped.push(format!(
                        "{path}: changed in the space during the import ({detail}); skipped, the folder's copy stays on disk"
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })();
    match applied {
        Ok(()) => space.commit_batch()?,
        Err(e) => {
            space.rollback_batch();
            return Err(e);
        }
    }
    // Refresh the manifest (and the files) to the space's new state.
    let refresh = export_into(
        space,
        &folder,
        manifest.layout,
        manifest.group_by.as_deref(),
        &entries,
        &stored,
        false,
        Sidecars {
            write: manifest.metadata,
            had: manifest.metadata,
        },
    )?;
    report.skipped.extend(
        refresh
            .skipped
            .into_iter()
            .filter(|s| !reported.iter().any(|f| s.starts_with(&format!("{f}: ")))),
    );
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
