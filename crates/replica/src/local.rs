//! A directory on the local file system.
//!
//! - Walks with a walker of its own (`local/walk.rs`): one `read_dir` per
//!   directory, each file stat-ed relative to its open directory (no
//!   full-path lookups), directories recognised from the listing (no stat),
//!   files found in [`RelPath`] order, so the quick check is a merge with
//!   the prior snapshot and the new snapshot needs no sorting.
//! - A `.driftsyncignore` (gitignore syntax, per directory, deeper files
//!   first, `!` whitelists) always applies; `.gitignore`, `.git/info/exclude`
//!   and git's global excludes only when asked
//!   ([`LocalReplica::respect_gitignore`]); ignore files above the root are
//!   never read. Hidden files are listed. A directory named `.driftsync`
//!   (the engine's own state, lock and backups) is never listed, at any
//!   depth; a directory the excludes cover is not entered. An unreadable
//!   directory is a [`ScanNote`] (`not read: …`).
//! - Only regular files are synced. Directories are implied by paths; one left
//!   empty by a remove is pruned. Symlinks are never followed (each is
//!   reported as a [`ScanNote`]); names that are not UTF-8, or that
//!   [`RelPath`] refuses (a backslash), are reported and skipped.
//! - Names are compared byte-wise: NFC and NFD spellings are two files, and
//!   `README.md` / `readme.md` are two files (a case-only rename is a delete
//!   plus a new file).
//! - Quick check: a file whose inode, size and mtime match the prior entry
//!   keeps its hash without being read, unless it was modified in or after
//!   the second the prior snapshot was written (git's "racy" rule).
//! - Writes go to a temp file in the destination directory, which is renamed
//!   over the destination after checking it still matches the expectation
//!   (inode/size/mtime); `Expect::Absent` uses a hard link, which refuses an
//!   existing destination atomically. Leftover temp files of a killed run are
//!   removed by the next scan. The mtime and executable bit are preserved.

use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use driftsync_core::{Entry, Hash, RelPath, SmallStr, Snapshot};

use crate::{
    Capabilities, Expect, PathFilter, Replica, ReplicaError, Scan, ScanNote, ScanRequest, WriteMeta,
};

/// The marker in the names of in-flight temp files.
pub const TEMP_MARKER: &str = ".driftsync-tmp-";

/// The engine's directory name, never listed.
pub const STATE_DIR: &str = ".driftsync";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A tree of files under a local directory.
#[derive(Clone, Debug)]
pub struct LocalReplica {
    root: PathBuf,
    gitignore: bool,
    threads: usize,
}

fn io_err(path: &RelPath, what: &str, e: io::Error) -> ReplicaError {
    match e.kind() {
        io::ErrorKind::NotFound => ReplicaError::NotFound {
            path: path.to_string(),
        },
        io::ErrorKind::PermissionDenied => ReplicaError::PermissionDenied {
            location: path.to_string(),
            source: Box::new(e),
        },
        _ => ReplicaError::other(format!("{path}: {what}"), e),
    }
}

fn mtime_ns(m: &Metadata) -> i64 {
    m.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(m.mtime_nsec())
}

/// The version token of a file: 16 hex digits of a 64-bit FNV-1a digest of
/// its inode, size and mtime. Short enough to be stored inline (no heap block
/// per file in every listing); a collision would need two different stat
/// triples of the same path to agree on 64 bits between a scan and a write.
fn version_of(m: &Metadata) -> SmallStr {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for word in [m.ino(), m.size(), mtime_ns(m) as u64] {
        for b in word.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut hex = [0u8; 16];
    for (i, d) in hex.iter_mut().enumerate() {
        *d = b"0123456789abcdef"[((h >> (60 - 4 * i)) & 15) as usize];
    }
    SmallStr::from(std::str::from_utf8(&hex).unwrap_or_default())
}

fn entry_from(m: &Metadata, hash: Hash) -> Entry {
    Entry {
        size: m.size(),
        mtime_ns: mtime_ns(m),
        hash,
        version: version_of(m),
        executable: m.permissions().mode() & 0o111 != 0,
    }
}

/// Size of the per-thread I/O buffer used for hashing and writing.
const BUF_SIZE: usize = 256 * 1024;

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's I/O buffer (allocated and zeroed once per
/// thread, not once per file: most files are small).
fn with_buf<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < BUF_SIZE {
                buf.resize(BUF_SIZE, 0);
            }
            f(&mut buf)
        }
        Err(_) => f(&mut vec![0u8; BUF_SIZE]),
    })
}

fn hash_file(path: &Path) -> io::Result<Hash> {
    let mut f = File::open(path)?;
    let mut h = Hash::hasher();
    with_buf(|buf| loop {
        let n = f.read(buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    })
}

impl LocalReplica {
    /// A replica rooted at `root` (need not exist yet: it lists empty and is created on first write).
    pub fn new(root: impl Into<PathBuf>) -> LocalReplica {
        LocalReplica {
            root: root.into(),
            gitignore: false,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// Also apply `.gitignore` files (and git's global excludes) when scanning.
    pub fn respect_gitignore(mut self, yes: bool) -> LocalReplica {
        self.gitignore = yes;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn abs(&self, path: &RelPath) -> PathBuf {
        self.root.join(path.as_str())
    }

    fn check(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        let changed = |detail: String| ReplicaError::Changed {
            path: path.to_string(),
            detail,
        };
        let current = match fs::symlink_metadata(self.abs(path)) {
            Ok(m) if m.is_file() => Some(version_of(&m)),
            Ok(_) => return Err(changed("no longer a regular file".into())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(path, "checking the destination", e)),
        };
        match (expect, current) {
            (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
            (Expect::Absent, Some(v)) => Err(changed(format!("exists (version {v})"))),
            (Expect::Version(want), Some(v)) if &v == want => Ok(()),
            (Expect::Version(want), Some(v)) => {
                Err(changed(format!("version {v} instead of {want}")))
            }
            (Expect::Version(want), None) => {
                Err(changed(format!("missing, expected version {want}")))
            }
        }
    }

    /// Remove now-empty directories from `dir` up to (not including) the root.
    fn prune(&self, mut dir: Option<RelPath>) {
        while let Some(d) = dir {
            if fs::remove_dir(self.abs(&d)).is_err() {
                return;
            }
            dir = d.parent();
        }
    }

    fn write_temp(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
    ) -> Result<(PathBuf, Hash), ReplicaError> {
        let dest = self.abs(path);
        let dir = dest.parent().unwrap_or(&self.root).to_path_buf();
        let tmp = dir.join(format!(
            ".{}{}{}-{}",
            path.file_name(),
            TEMP_MARKER,
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> io::Result<Hash> {
            // The directory usually exists: create it only when the first try says so.
            let mut f = match File::create(&tmp) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir_all(&dir)?;
                    File::create(&tmp)?
                }
                other => other?,
            };
            let mut h = Hash::hasher();
            with_buf(|buf| -> io::Result<()> {
                loop {
                    let n = content.read(buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    h.update(&buf[..n]);
                    f.write_all(&buf[..n])?;
                }
            })?;
            let mode = if meta.executable { 0o755 } else { 0o644 };
            f.set_permissions(fs::Permissions::from_mode(mode))?;
            let mtime = filetime::FileTime::from_unix_time(
                meta.mtime_ns.div_euclid(1_000_000_000),
                meta.mtime_ns.rem_euclid(1_000_000_000) as u32,
            );
            filetime::set_file_handle_times(&f, None, Some(mtime))?;
            crate::fault::crash_point();
            Ok(h.finish())
        })();
        match result {
            Ok(hash) => Ok((tmp, hash)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(io_err(path, "writing a temp file", e))
            }
        }
    }
}

impl Replica for LocalReplica {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            conditional_write: true,
            conditional_delete: true,
            preserves_mtime: true,
            preserves_executable: true,
        }
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        let filter = PathFilter::new(request.include, request.exclude)?;
        let mut scan = Scan::default();
        match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ReplicaError::Unavailable {
                    location: self.location(),
                    source: "not a directory".into(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(scan),
            Err(e) => {
                return Err(ReplicaError::Unavailable {
                    location: self.location(),
                    source: Box::new(e),
                })
            }
        }
        let racy_from = request
            .prior_written_ns
            .map(|w| w.div_euclid(1_000_000_000) * 1_000_000_000);
        // The walk and the prior snapshot are both in RelPath order: a merge.
        // Asked for changes only, a file identical to its prior entry is not
        // listed; its flag in `same` says it is still there.
        let changes_only = request.changes_only && request.prior.is_some();
        let mut same = vec![
            false;
            request
                .prior
                .filter(|_| changes_only)
                .map_or(0, |p| p.len())
        ];
        let mut prior = request.prior.map(|p| p.iter().enumerate().peekable());
        let mut entries: Vec<(RelPath, Entry)> = Vec::new();
        // Per listed file: true when it must be read to hash it.
        let mut unknown: Vec<bool> = Vec::new();
        let walk = walk::Walk {
            root: &self.root,
            filter: &filter,
            gitignore: self.gitignore,
        };
        walk.run(|item| {
            let (rel_str, d) = match item {
                walk::Item::Note(n) => return scan.notes.push(n),
                walk::Item::File { rel, entry } => (rel, entry),
            };
            let name = rel_str.rsplit('/').next().unwrap_or(&rel_str);
            if name.contains(TEMP_MARKER) {
                // A temp file left by a killed run: never listed, cleaned up.
                let _ = fs::remove_file(d.path());
                return;
            }
            if !filter.matches(&rel_str) {
                return;
            }
            let rel = match RelPath::new(rel_str) {
                Ok(r) => r,
                Err(e) => {
                    let path = match &e {
                        driftsync_core::RelPathError::BadChar(s)
                        | driftsync_core::RelPathError::BadSegment(s)
                        | driftsync_core::RelPathError::Absolute(s) => s.clone(),
                        driftsync_core::RelPathError::Empty => String::new(),
                    };
                    scan.notes.push(ScanNote {
                        path,
                        reason: format!("{e}; skipped"),
                    });
                    return;
                }
            };
            let meta = match d.metadata() {
                Ok(m) => m,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path: rel.to_string(),
                        reason: format!("not read: {e}"),
                    });
                    return;
                }
            };
            debug_assert!(
                entries.last().is_none_or(|(last, _)| *last < rel),
                "the walk is out of order at {rel}"
            );
            let mut entry = entry_from(&meta, Hash([0; 32]));
            let mut known = false;
            if let Some(cursor) = prior.as_mut() {
                while cursor.next_if(|(_, (p, _))| **p < rel).is_some() {}
                if let Some((i, (_, p))) = cursor.next_if(|(_, (p, _))| **p == rel) {
                    if p.version == entry.version && racy_from.is_some_and(|r| entry.mtime_ns < r) {
                        entry.hash = p.hash;
                        if changes_only && *p == entry {
                            same[i] = true;
                            return;
                        }
                        known = true;
                    }
                }
            }
            entries.push((rel, entry));
            unknown.push(!known);
        });
        scan.hashed = unknown.iter().filter(|u| **u).count();
        // Hash in parallel, in place: threads take chunks of the listing.
        const CHUNK: usize = 64;
        let failed: Mutex<Vec<(usize, io::Error)>> = Mutex::new(Vec::new());
        let work = Mutex::new(
            entries
                .chunks_mut(CHUNK)
                .zip(unknown.chunks(CHUNK))
                .enumerate()
                .filter(|(_, (_, u))| u.iter().any(|u| *u)),
        );
        std::thread::scope(|s| {
            for _ in 0..self.threads.min(scan.hashed).max(1) {
                s.spawn(|| loop {
                    let next = work.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((c, (chunk, unknown))) = next else {
                        break;
                    };
                    for (k, ((rel, entry), _)) in chunk
                        .iter_mut()
                        .zip(unknown)
                        .enumerate()
                        .filter(|(_, (_, u))| **u)
                    {
                        match hash_file(&self.abs(rel)) {
                            Ok(h) => entry.hash = h,
                            Err(e) => failed
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((c * CHUNK + k, e)),
                        }
                    }
                });
            }
        });
        let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
        failed.sort_by_key(|(i, _)| *i);
        let mut gone = Vec::new();
        for (i, e) in failed {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(io_err(&entries[i].0, "reading to hash", e));
            }
            gone.push(i); // removed since the walk saw it
        }
        if !gone.is_empty() {
            let mut at = 0;
            entries.retain(|_| {
                at += 1;
                gone.binary_search(&(at - 1)).is_err()
            });
        }
        // `entries` is in RelPath order (the walk's).
        scan.snapshot = Snapshot::from_sorted(entries);
        scan.unchanged = changes_only.then_some(same);
        scan.notes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(scan)
    }

    /// Writes rename a temp file over the old one and removes unlink, so the
    /// old inode's content never changes: a hard link to it is a backup.
    fn local_file(&self, path: &RelPath) -> Option<PathBuf> {
        Some(self.abs(path))
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        let abs = self.abs(path);
        match fs::symlink_metadata(&abs) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(ReplicaError::NotFound {
                    path: path.to_string(),
                })
            }
            Err(e) if e.raw_os_error() == Some(20) => {
                // ENOTDIR: a parent is a file.
                return Err(ReplicaError::NotFound {
                    path: path.to_string(),
                });
            }
            Err(e) => return Err(io_err(path, "reading", e)),
        }
        // Reads of at least the capacity (the engine's copies) bypass the buffer;
        // small ones (`io::copy`) are batched.
        let f = File::open(&abs).map_err(|e| io_err(path, "opening", e))?;
        Ok(Box::new(io::BufReader::with_capacity(64 * 1024, f)))
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let (tmp, hash) = self.write_temp(path, content, meta)?;
        let dest = self.abs(path);
        let committed = match expect {
            Expect::Absent => match fs::hard_link(&tmp, &dest) {
                Ok(()) => {
                    let _ = fs::remove_file(&tmp);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(ReplicaError::Changed {
                    path: path.to_string(),
                    detail: "exists".into(),
                }),
                Err(e) => Err(io_err(path, "linking into place", e)),
            },
            other => self.check(path, other).and_then(|()| {
                fs::rename(&tmp, &dest).map_err(|e| io_err(path, "renaming into place", e))
            }),
        };
        if let Err(e) = committed {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let m = fs::symlink_metadata(&dest).map_err(|e| io_err(path, "checking the result", e))?;
        Ok(entry_from(&m, hash))
    }

    /// A `chmod` (and the mtime) in place: the content is not rewritten.
    fn set_meta(
        &self,
        path: &RelPath,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        self.check(path, expect)?;
        let abs = self.abs(path);
        let before =
            fs::symlink_metadata(&abs).map_err(|e| io_err(path, "reading its metadata", e))?;
        let mode = before.permissions().mode() & 0o7777;
        // Executable: x wherever r is set; otherwise no x bit at all.
        let mode = if meta.executable {
            mode | ((mode & 0o444) >> 2)
        } else {
            mode & !0o111
        };
        fs::set_permissions(&abs, fs::Permissions::from_mode(mode))
            .map_err(|e| io_err(path, "changing its mode", e))?;
        let mtime = filetime::FileTime::from_unix_time(
            meta.mtime_ns.div_euclid(1_000_000_000),
            meta.mtime_ns.rem_euclid(1_000_000_000) as u32,
        );
        let atime = filetime::FileTime::from_last_access_time(&before);
        filetime::set_symlink_file_times(&abs, atime, mtime)
            .map_err(|e| io_err(path, "setting its mtime", e))?;
        let m = fs::symlink_metadata(&abs).map_err(|e| io_err(path, "checking the result", e))?;
        if m.size() != meta.size {
            return Err(ReplicaError::Changed {
                path: path.to_string(),
                detail: format!("size {} instead of {}", m.size(), meta.size),
            });
        }
        Ok(entry_from(&m, meta.hash))
    }

    /// Records live in the root's `.driftsync/` folder, which scans never enter.
    fn keeps_records(&self) -> bool {
        true
    }

    fn version(&self, path: &RelPath) -> Result<Option<SmallStr>, ReplicaError> {
        match fs::symlink_metadata(self.abs(path)) {
            Ok(m) if m.is_file() => Ok(Some(version_of(&m))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path, "checking its version", e)),
        }
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        self.check(path, expect)?;
        match fs::remove_file(self.abs(path)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(path, "removing", e)),
        }
        self.prune(path.parent());
        Ok(())
    }
}

mod walk;

#[cfg(test)]
mod tests;
