//! One trait for every place a tree of files can live.
//!
//! A backend implements [`Replica`] and passes the conformance suite; the
//! engine never knows which backend it talks to. The trait is synchronous:
//! asynchronous backends (object storage, PostgreSQL) drive their own runtime
//! internally, and the engine gets parallelism from a bounded pool of threads.
#![deny(missing_docs)]

pub mod conformance;
pub mod deadline;
mod error;
pub mod fault;
pub mod filter;
pub mod local;

pub mod memory;

use std::io::Read;

use driftsync_core::{Entry, Hash, RelPath, Snapshot};

pub use error::{BoxError, ReplicaError};
pub use filter::PathFilter;

/// What a write or delete expects to find at the destination, checked just
/// before it commits. A mismatch is [`ReplicaError::Changed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing may exist at the path.
    Absent,
    /// The path must still hold this version token (from the scan).
    Version(driftsync_core::SmallStr),
    /// No check (used only where the plan has no prior knowledge, e.g. backups).
    Any,
}

/// What a backend can do; the engine adapts to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Writes honour [`Expect`] atomically on the server side.
    pub conditional_write: bool,
    /// Deletes honour [`Expect`] atomically on the server side (else re-checked just before).
    pub conditional_delete: bool,
    /// The backend stores and returns the mtime it was given.
    pub preserves_mtime: bool,
    /// The backend stores and returns the executable bit.
    pub preserves_executable: bool,
}

/// Metadata that travels with content on a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteMeta {
    /// Size of the content in bytes.
    pub size: u64,
    /// SHA-256 of the content (known from the source's scan; backends that
    /// store metadata keep it so a rescan never re-reads the content).
    pub hash: Hash,
    /// Modification time to record, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Executable bit to record.
    pub executable: bool,
}

/// Live counts of a scan, for whoever draws progress: the scan adds, a
/// reader loads (atomics; nothing is allocated per file). Backends that do
/// not count leave them at zero.
#[derive(Debug, Default)]
pub struct ScanProgress {
    /// Files listed so far.
    pub listed: std::sync::atomic::AtomicU64,
    /// Files to read and hash (known once the listing is done).
    pub to_hash: std::sync::atomic::AtomicU64,
    /// Their bytes.
    pub to_hash_bytes: std::sync::atomic::AtomicU64,
    /// Files hashed so far.
    pub hashed: std::sync::atomic::AtomicU64,
    /// Bytes hashed so far.
    pub hashed_bytes: std::sync::atomic::AtomicU64,
}

impl ScanProgress {
    /// Files listed plus files hashed: grows while a scan advances (what a
    /// deadline watches to tell a long scan from a hung one).
    pub fn steps(&self) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        self.listed.load(Relaxed) + self.hashed.load(Relaxed)
    }
}

/// Inputs of a scan.
#[derive(Clone, Debug, Default)]
pub struct ScanRequest<'a> {
    /// Glob patterns a path must match (any) to be listed; empty = everything.
    pub include: &'a [String],
    /// Glob patterns that exclude a path.
    pub exclude: &'a [String],
    /// This side's entries as recorded in the base, for the quick check: a file
    /// whose size and mtime match (and is not "racy") keeps the recorded hash
    /// without being read.
    pub prior: Option<&'a Snapshot>,
    /// When the base was written (ns since epoch); a file modified at or after
    /// this second is re-read even if size and mtime match (git's racy rule).
    pub prior_written_ns: Option<i64>,
    /// With `prior`: the scan may report only what changed (see
    /// [`Scan::unchanged`]) instead of every file. Backends that cannot tell
    /// cheaply report every file, which is always correct.
    pub changes_only: bool,
    /// Where to count what the scan has done so far (optional; shared, so a
    /// scan on another thread can count into it).
    pub progress: Option<std::sync::Arc<ScanProgress>>,
}

/// Something a scan passed over and wants the user to know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanNote {
    /// The raw path as found (lossy UTF-8).
    pub path: String,
    /// Why it was passed over.
    pub reason: String,
}

/// The result of a scan.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// Every file, by path.
    pub snapshot: Snapshot,
    /// What was passed over (symlinks leaving the root, non-UTF-8 names…).
    pub notes: Vec<ScanNote>,
    /// How many files were actually read to hash them (the rest passed the quick check).
    pub hashed: usize,
    /// Set when the scan reports changes only: one flag per entry of the
    /// request's `prior`, true when that file is still there exactly as
    /// recorded (and then it is not in `snapshot`). `snapshot` holds the
    /// new and changed files. [`driftsync_core::View::changes`] reads the
    /// two as one listing.
    pub unchanged: Option<Vec<bool>>,
}

impl Scan {
    /// Turn a scan of every file into one of changes against `prior`: files
    /// identical to their prior entry leave `snapshot` and are flagged in
    /// [`Scan::unchanged`]. A scan that already is one is left alone.
    pub fn into_changes(mut self, prior: &Snapshot) -> Scan {
        if self.unchanged.is_some() {
            return self;
        }
        let mut listing = Listing::new(Some(prior));
        for (path, entry) in std::mem::take(&mut self.snapshot) {
            listing.push(path, entry);
        }
        listing.finish(&mut self);
        self
    }

    /// This scan as a listing: `prior` must be the request's `prior` (it is
    /// read only when the scan reports changes).
    pub fn view<'a>(&'a self, prior: &'a Snapshot) -> driftsync_core::View<'a> {
        match &self.unchanged {
            Some(same) => driftsync_core::View::changes(prior, same, &self.snapshot),
            None => driftsync_core::View::whole(&self.snapshot),
        }
    }
}

/// A scan's listing built from entries as they arrive in path order (a
/// backend's sorted listing, streamed): every entry, or, with a `prior`
/// listing, only what differs from it plus one flag per prior entry (see
/// [`Scan::unchanged`]), so a re-scan of a large unchanged side never holds
/// a second copy of it. Entries out of order are still right, only kept in
/// full: the result is sorted when it is finished.
pub struct Listing<'a> {
    prior: Option<&'a Snapshot>,
    /// The next prior entry not yet passed.
    next: usize,
    same: Vec<bool>,
    entries: Vec<(RelPath, Entry)>,
}

impl<'a> Listing<'a> {
    /// An empty listing; `prior` makes it report changes only.
    pub fn new(prior: Option<&'a Snapshot>) -> Listing<'a> {
        Listing {
            prior,
            next: 0,
            same: vec![false; prior.map_or(0, Snapshot::len)],
            entries: Vec::new(),
        }
    }

    /// One file, in path order.
    pub fn push(&mut self, path: RelPath, entry: Entry) {
        if let Some(prior) = self.prior {
            while let Some((p, e)) = prior.at(self.next) {
                if *p > path {
                    break;
                }
                self.next += 1;
                if *p == path {
                    if *e == entry {
                        self.same[self.next - 1] = true;
                        return;
                    }
                    break;
                }
            }
        }
        self.entries.push((path, entry));
    }

    /// Put the listing into `scan` (`snapshot`, and `unchanged` with a prior).
    pub fn finish(self, scan: &mut Scan) {
        scan.snapshot = Snapshot::from_sorted(self.entries);
        scan.unchanged = self.prior.map(|_| self.same);
    }
}

/// A copy of a file that a replica keeps inside itself (see [`Replica::backup`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupCopy {
    /// The run that made the copy.
    pub run: String,
    /// The file it is a copy of.
    pub path: RelPath,
    /// Where the copy is, relative to the replica root (readable with [`Replica::read`]).
    pub copy: RelPath,
}

/// A tree of files addressed by [`RelPath`].
///
/// The contract, checked by [`conformance::run_all`]:
/// - paths are compared byte-wise (a NFC and a NFD spelling are two files);
/// - only files exist: directories are implied by paths, never listed, and a
///   directory left empty by `remove` is pruned where the backend has them;
/// - `scan` honours `include`/`exclude` (see [`PathFilter`]) and returns, for
///   every file, the size, hash and version that `write` returned for it;
/// - `write` with [`Expect::Absent`] on an existing path, or with a
///   [`Expect::Version`] that is not the current one (or on a missing path),
///   fails with [`ReplicaError::Changed`] and leaves the content untouched;
///   the version changes whenever the content changes;
/// - `remove` with a stale [`Expect::Version`] fails with `Changed`; removing a
///   missing path with [`Expect::Any`] or [`Expect::Absent`] succeeds;
/// - `read` of a missing path fails with [`ReplicaError::NotFound`];
/// - a `prior` snapshot never changes the result of a scan, only its cost;
/// - every method may be called from several threads at once.
pub trait Replica: Send + Sync {
    /// Where this replica lives, for messages; never contains a secret.
    fn location(&self) -> String;

    /// What the backend supports.
    fn capabilities(&self) -> Capabilities;

    /// List every file with size, mtime, hash and version.
    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError>;

    /// Stream a file's content.
    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError>;

    /// Atomically create or replace `path` with `content`, provided the
    /// destination still matches `expect`. Readers see the old or the new
    /// content, never a mix. Returns the entry as now stored.
    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError>;

    /// Change only the metadata of `path` (executable bit, mtime) to `meta`;
    /// the content stays (`meta.hash` is its hash), provided the destination
    /// still matches `expect`. Returns the entry as now stored.
    ///
    /// The default reads the content and writes it back with the new
    /// metadata; backends that can change metadata in place (a `chmod`)
    /// override it.
    fn set_meta(
        &self,
        path: &RelPath,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let mut content = Vec::new();
        self.read(path)?
            .read_to_end(&mut content)
            .map_err(|e| ReplicaError::other(format!("{path}: reading"), e))?;
        self.write(path, &mut content.as_slice(), meta, expect)
    }

    /// Remove `path`, provided it still matches `expect`.
    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError>;

    /// Start a batch: the writes and removes until [`Replica::commit_batch`]
    /// become visible together (one database transaction). Backends without
    /// transactions do nothing; each operation then stands alone.
    fn begin_batch(&self) -> Result<(), ReplicaError> {
        Ok(())
    }

    /// Make the batch's operations visible. On error none of them happened:
    /// the caller must not record them as applied.
    fn commit_batch(&self) -> Result<(), ReplicaError> {
        Ok(())
    }

    /// Abandon the batch: none of its operations happened.
    fn rollback_batch(&self) {}

    /// Keep a copy of `path` inside the replica (a server-side copy under the
    /// replica's backup folder) before run `run_id` overwrites or deletes it;
    /// the copy is never part of a scan. Returns where the copy is, or `None`
    /// when the backend keeps no copies of its own (the engine then keeps a
    /// local one).
    fn backup(&self, path: &RelPath, run_id: &str) -> Result<Option<BackupCopy>, ReplicaError> {
        let _ = (path, run_id);
        Ok(None)
    }

    /// The file's path on the local file system, when the replica is a local
    /// directory that never changes a file's content in place (a write goes
    /// to a temp file renamed over the old one, a remove unlinks): the engine
    /// then backs the file up with a hard link to it instead of a copy.
    /// `None` (the default) for every other backend.
    fn local_file(&self, path: &RelPath) -> Option<std::path::PathBuf> {
        let _ = path;
        None
    }

    /// Remove the temp files of runs that are gone (killed mid-write) that
    /// the last scan passed over, and put back the files a killed delete
    /// had moved aside; returns how many files it removed or put back (the
    /// engine then scans again). The engine calls it only while it holds
    /// the lock, after its scans, never in a dry run: a scan itself never
    /// deletes anything. The default does nothing.
    fn remove_leftovers(&self) -> usize {
        0
    }

    /// Every copy [`Replica::backup`] made, of every run (empty for backends
    /// that keep none).
    fn list_backups(&self) -> Result<Vec<BackupCopy>, ReplicaError> {
        Ok(Vec::new())
    }

    /// True when the replica keeps driftsync's own records next to the data:
    /// small files under [`RECORDS_DIR`] (the journal of a run's writes, the
    /// lease of the run applying), written and removed with the ordinary
    /// `write`/`remove` (honouring [`Expect`]) and never listed by `scan`.
    /// The default is false: the engine then keeps no journal and takes no
    /// lease on this side.
    fn keeps_records(&self) -> bool {
        false
    }

    /// The version token `path` holds now (`None` when absent); the engine
    /// asks only for its records (see [`Replica::keeps_records`]).
    fn version(&self, path: &RelPath) -> Result<Option<driftsync_core::SmallStr>, ReplicaError> {
        let _ = path;
        Ok(None)
    }
}

/// The folder, at a replica's root, of driftsync's own records (journal,
/// lease). A replica that keeps records never lists anything under it.
pub const RECORDS_DIR: &str = ".driftsync";

/// True when `path` is one of driftsync's records (under [`RECORDS_DIR`]).
pub fn is_record(path: &str) -> bool {
    path.strip_prefix(RECORDS_DIR)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use driftsync_core::{Entry, Hash, RelPath, Snapshot};

    use super::Scan;

    fn listing(files: &[(&str, &str)]) -> Snapshot {
        files
            .iter()
            .map(|(p, c)| {
                let entry = Entry {
                    size: c.len() as u64,
                    mtime_ns: 1,
                    hash: Hash::of(c.as_bytes()),
                    version: (*c).into(),
                    executable: false,
                };
                (RelPath::new(p).unwrap(), entry)
            })
            .collect()
    }

    #[test]
    fn a_scan_of_changes_reads_as_the_whole_scan() {
        let prior = listing(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        let now = listing(&[("b", "2"), ("c", "3 changed"), ("d", "4"), ("e", "5")]);
        let scan = Scan {
            snapshot: now.clone(),
            ..Scan::default()
        }
        .into_changes(&prior);
        assert_eq!(
            scan.unchanged.as_deref(),
            Some(&[false, true, false, true][..])
        );
        let kept: Vec<&str> = scan.snapshot.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(kept, ["c", "e"]);
        let view = scan.view(&prior);
        assert_eq!(view.len(), now.len());
        assert!(view.iter().eq(now.iter()));
        // Converting twice changes nothing.
        let again = scan.clone().into_changes(&prior);
        assert_eq!(again.snapshot, scan.snapshot);
    }

    /// Entries fed to a `Listing` in any order, with or without a prior,
    /// read back as exactly the listing they make (random cases).
    #[test]
    fn a_listing_in_any_order_reads_as_the_whole_listing() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..300 {
            let n = (next() % 40) as usize;
            let names: Vec<String> = (0..n).map(|i| format!("d{}/f{i:02}", i % 3)).collect();
            let mut pick = || {
                let mut files = Vec::new();
                for p in &names {
                    if next() % 4 != 0 {
                        files.push((p.as_str(), format!("v{}", next() % 2)));
                    }
                }
                files
            };
            let (prior_files, now_files) = (pick(), pick());
            let prior = listing(
                &prior_files
                    .iter()
                    .map(|(p, c)| (*p, c.as_str()))
                    .collect::<Vec<_>>(),
            );
            let now = listing(
                &now_files
                    .iter()
                    .map(|(p, c)| (*p, c.as_str()))
                    .collect::<Vec<_>>(),
            );
            // Mostly in order, with a few entries moved to the end (a
            // backend that describes some objects after its listing).
            let mut order: Vec<(RelPath, Entry)> = Vec::new();
            let mut late = Vec::new();
            for (p, e) in now.iter() {
                if next() % 5 == 0 {
                    late.push((p.clone(), e.clone()));
                } else {
                    order.push((p.clone(), e.clone()));
                }
            }
            order.extend(late.into_iter().rev());
            for with_prior in [false, true] {
                let mut l = super::Listing::new(with_prior.then_some(&prior));
                for (p, e) in order.iter().cloned() {
                    l.push(p, e);
                }
                let mut scan = Scan::default();
                l.finish(&mut scan);
                let view = scan.view(&prior);
                assert!(
                    view.iter().eq(now.iter()),
                    "case {case}, prior {with_prior}"
                );
                assert_eq!(view.len(), now.len(), "case {case}");
                if with_prior {
                    // What is unchanged is not held twice.
                    for (p, e) in scan.snapshot.iter() {
                        assert!(
                            prior.get(p) != Some(e)
                                || !scan.unchanged.as_ref().unwrap()[prior.position(p).unwrap()],
                            "case {case}: {p} is both kept and flagged"
                        );
                    }
                }
            }
        }
    }
}
