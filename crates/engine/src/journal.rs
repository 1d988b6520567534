//! The journal of a run's writes to the remote (right) side, kept on that
//! side next to the data (`.driftsync/journal/<name>.json`; see
//! [`Replica::keeps_records`]).
//!
//! The base lives in a file the runner commits after the run. A job killed
//! after it wrote to the remote but before that commit landed leaves remote
//! writes no committed base knows about; without the journal the next job
//! (a fresh clone) would read them as remote edits colliding with the same
//! content or, worse, with an edit made meanwhile. The journal closes that
//! gap:
//!
//! - before a batch, each path about to be written on the remote is named
//!   with the content hash about to land there (an *intent*: no version);
//! - after the batch, each write that happened is named with the version the
//!   remote gave it (ETag, inode+mtime digest, row version);
//! - every entry also names the hash the base had for the path (`from`): an
//!   entry whose `from` no longer matches the base being loaded is stale (a
//!   base that records the write, or a later one, was committed) and dropped;
//! - the next run applies each live entry before it plans: when the local
//!   file still holds the journalled content, or the remote still holds the
//!   journalled version, the journalled write becomes the base for that path.
//!   So a remote edit made after the killed job's write reads as a remote
//!   edit, a local edit made after it as a local edit, and the write itself
//!   as nothing to do. An intent (a write whose version the killed run did
//!   not record) counts where the remote holds exactly its content, or where
//!   the local file holds it and the remote is no longer what the planning
//!   scan saw (the write was conditional on exactly that). Anything else
//!   stays as the committed base says: a change on both sides is a
//!   conflict, resolved by the policy, never a silent loss.
//!
//! A conflict copy (`keep-both`) the remote got is journalled as such: it
//! becomes the base only when the local side holds it too; otherwise it is a
//! file new on the remote, which the next run copies to the local side.

use std::collections::BTreeMap;

use driftsync_core::{Action, Base, Entry, Hash, Op, RelPath, Side, Snapshot, View};
use driftsync_replica::{Expect, Replica, ReplicaError, WriteMeta, RECORDS_DIR};
use serde::{Deserialize, Serialize};

const FORMAT: u32 = 1;

/// One remote write, intended or done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    path: String,
    /// The base's hash for the path when the write was planned (`None`: not in the base).
    from: Option<String>,
    /// The content written.
    to: String,
    size: u64,
    executable: bool,
    /// The remote's version after the write; `None` for an intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// An intent's view of the remote when the write was planned: the
    /// version the scan saw there (`""`: nothing was there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prior: Option<String>,
    /// A keep-both copy of a conflict's loser.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    copy: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    entries: Vec<Record>,
}

/// The journal of one target (or one ad hoc pair) on one replica.
pub(crate) struct Journal<'a> {
    replica: &'a dyn Replica,
    path: Option<RelPath>,
    /// Each path's entries, oldest first: a later run may write a path
    /// again before the first write is committed, and the remote may hold
    /// either.
    entries: BTreeMap<RelPath, Vec<Record>>,
    /// The committed base's hash of each path whose base a journal entry
    /// replaced (what later entries for that path name as `from`).
    committed: BTreeMap<RelPath, Option<Hash>>,
    /// True when the stored journal differs from `entries`.
    dirty: bool,
    /// True when a journal exists on the replica.
    stored: bool,
}

/// Why the journal could not be read or written.
pub(crate) fn error(replica: &dyn Replica, what: &str, e: impl std::fmt::Display) -> String {
    format!(
        "the journal of remote writes on {} could not be {what}: {e}",
        replica.location()
    )
}

/// The journal's path on a replica for `name` (a target's name or the state file's stem).
pub(crate) fn record_path(kind: &str, name: &str) -> Option<RelPath> {
    // A name the replica cannot hold (odd characters) gets a hashed one.
    let safe = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.')
        && !name.is_empty()
        && name.len() <= 100;
    let name = if safe {
        name.to_string()
    } else {
        Hash::of(name.as_bytes()).to_hex()[..32].to_string()
    };
    RelPath::new(format!("{RECORDS_DIR}/{kind}/{name}.json")).ok()
}

/// Write a small record atomically; returns the version it got.
pub(crate) fn put(
    replica: &dyn Replica,
    path: &RelPath,
    data: &[u8],
    expect: &Expect,
) -> Result<Entry, ReplicaError> {
    let meta = WriteMeta {
        size: data.len() as u64,
        hash: Hash::of(data),
        mtime_ns: crate::clock::now_ns(),
        executable: false,
    };
    replica.write(path, &mut &data[..], &meta, expect)
}

/// Read a small record and the version it had; `None` when absent.
pub(crate) fn get(
    replica: &dyn Replica,
    path: &RelPath,
) -> Result<Option<(Vec<u8>, String)>, ReplicaError> {
    for _ in 0..5 {
        let Some(before) = replica.version(path)? else {
            return Ok(None);
        };
        let mut data = Vec::new();
        match replica.read(path) {
            Ok(mut r) => {
                r.read_to_end(&mut data)
                    .map_err(|e| ReplicaError::other(format!("{path}: reading"), e))?;
            }
            Err(ReplicaError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        }
        // The version read after the content is the content's version only if
        // nothing replaced the record in between.
        if replica.version(path)?.as_deref() == Some(before.as_str()) {
            return Ok(Some((data, before.to_string())));
        }
    }
    Err(ReplicaError::Changed {
        path: path.to_string(),
        detail: "rewritten while it was read, five times in a row".into(),
    })
}

use std::io::Read as _;

impl<'a> Journal<'a> {
    /// The journal `name` on `replica`, read from it when the replica keeps
    /// records; a journal that cannot be used is empty and never written.
    pub(crate) fn load(replica: &'a dyn Replica, name: &str) -> Result<Journal<'a>, String> {
        let path = replica
            .keeps_records()
            .then(|| record_path("journal", name))
            .flatten();
        let mut j = Journal {
            replica,
            path,
            entries: BTreeMap::new(),
            committed: BTreeMap::new(),
            dirty: false,
            stored: false,
        };
        let Some(path) = &j.path else {
            return Ok(j);
        };
        let Some((data, _)) = get(replica, path).map_err(|e| error(replica, "read", e))? else {
            return Ok(j);
        };
        j.stored = true;
        let file: File = serde_json::from_slice(&data).map_err(|e| {
            error(
                replica,
                "read",
                format!(
                    "{path} does not parse ({e}); it is driftsync's own record: \
                     remove it only if no earlier run was killed"
                ),
            )
        })?;
        if file.version != FORMAT {
            return Err(error(
                replica,
                "read",
                format!(
                    "{path} is format {}, this build reads {FORMAT}",
                    file.version
                ),
            ));
        }
        for r in file.entries {
            if let Ok(p) = RelPath::new(&r.path) {
                j.entries
                    .entry(p)
                    .or_insert_with(|| Vec::with_capacity(1))
                    .push(r);
            }
        }
        Ok(j)
    }

    /// True when the journal lives on the replica (it keeps records).
    pub(crate) fn enabled(&self) -> bool {
        self.path.is_some()
    }

    /// True when an earlier run left entries.
    pub(crate) fn has_entries(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Drop stale entries and make the live ones the base (see the module
    /// docs). `left` and `right` are what the scans found. Returns how many
    /// paths took a journalled write as their base.
    pub(crate) fn apply_to_base(
        &mut self,
        base: &mut Base,
        left: &Snapshot,
        right: &Snapshot,
    ) -> usize {
        let before: usize = self.entries.values().map(Vec::len).sum();
        let hex = |h: Option<&Entry>| h.map(|e| e.hash.to_hex());
        for (p, rs) in self.entries.iter_mut() {
            let committed = hex(base.right.get(p));
            rs.retain(|r| r.from == committed && r.to.parse::<Hash>().is_ok());
        }
        self.entries.retain(|_, rs| !rs.is_empty());
        let after: usize = self.entries.values().map(Vec::len).sum();
        self.dirty |= after != before;
        let mut applied = 0;
        for (path, rs) in &self.entries {
            // The newest entry that still holds decides.
            let Some((r, to)) = rs.iter().rev().find_map(|r| {
                let to: Hash = r.to.parse().expect("checked above");
                self.counts(r, to, left.get(path), right.get(path))
                    .then_some((r, to))
            }) else {
                continue;
            };
            let local = left.get(path);
            let remote = right.get(path);
            let made = |seen: Option<&Entry>, version: &str| match seen.filter(|e| e.hash == to) {
                Some(e) => e.clone(),
                None => Entry {
                    size: r.size,
                    mtime_ns: 0,
                    hash: to,
                    version: version.into(),
                    executable: r.executable,
                },
            };
            let old = base.right.get(path).map(|e| e.hash);
            self.committed.entry(path.clone()).or_insert(old);
            base.left.insert(path.clone(), made(local, ""));
            base.right.insert(
                path.clone(),
                made(remote, r.version.as_deref().unwrap_or("")),
            );
            applied += 1;
        }
        applied
    }

    /// Whether entry `r` (writing `to`) holds, given what the local side
    /// and the remote hold at its path now.
    fn counts(&self, r: &Record, to: Hash, local: Option<&Entry>, remote: Option<&Entry>) -> bool {
        let local_holds = local.is_some_and(|e| e.hash == to);
        let remote_holds = match &r.version {
            Some(v) => remote.is_some_and(|e| e.version.as_str() == v && e.hash == to),
            None => remote.is_some_and(|e| e.hash == to),
        };
        // An intent (the run was killed before it recorded the version)
        // whose local content still holds counts when the remote is no
        // longer what the planning scan saw: the write was conditional
        // on exactly that, so it is what changed it, unless another
        // writer got there within the same run (see docs/sync.md).
        let moved_on = || match r.prior.as_deref() {
            None => false,
            Some("") => remote.is_some(),
            Some(v) => remote.is_none_or(|e| e.version.as_str() != v),
        };
        if r.copy {
            local_holds
        } else if r.version.is_some() {
            local_holds || remote_holds
        } else {
            remote_holds || (local_holds && moved_on())
        }
    }

    /// What the base (as committed) said about `path` on the right.
    fn from(&self, path: &RelPath, base_right: Option<Hash>) -> Option<String> {
        match self.committed.get(path) {
            Some(h) => h.map(|h| h.to_hex()),
            None => base_right.map(|h| h.to_hex()),
        }
    }

    /// Name the remote writes `actions` are about to make: their intents.
    /// `seen` holds what the scans saw, `base_right` the base's right side.
    pub(crate) fn intend(
        &mut self,
        actions: &[Action],
        seen: [View<'_>; 2],
        base_right: &dyn Fn(&RelPath) -> Option<Hash>,
    ) {
        if !self.enabled() {
            return;
        }
        let [l, r] = seen;
        for a in actions {
            let mut note = |path: &RelPath, e: &Entry, from: Option<Hash>, copy: bool| {
                let rec = Record {
                    path: path.to_string(),
                    from: self.from(path, from),
                    to: e.hash.to_hex(),
                    size: e.size,
                    executable: e.executable,
                    version: None,
                    prior: Some(
                        r.get(path)
                            .map_or_else(String::new, |e| e.version.to_string()),
                    ),
                    copy,
                };
                // Most paths get one record per run: no room for four.
                let rs = self
                    .entries
                    .entry(path.clone())
                    .or_insert_with(|| Vec::with_capacity(1));
                rs.push(rec);
                // A few writes back is enough: each run adds one.
                if rs.len() > 8 {
                    rs.remove(0);
                }
                self.dirty = true;
            };
            match &a.op {
                Op::Copy { from: Side::Left } => {
                    if let Some(e) = l.get(&a.path) {
                        note(&a.path, e, base_right(&a.path), false);
                    }
                }
                Op::KeepBoth { winner, loser_path } => {
                    let (win, lose) = match winner {
                        Side::Left => (l.get(&a.path), r.get(&a.path)),
                        Side::Right => (r.get(&a.path), l.get(&a.path)),
                    };
                    if let Some(e) = lose {
                        note(loser_path, e, base_right(loser_path), true);
                    }
                    if *winner == Side::Left {
                        if let Some(e) = win {
                            note(&a.path, e, base_right(&a.path), false);
                        }
                    }
                }
                Op::Delete { on: Side::Right } if self.entries.contains_key(&a.path) => {
                    self.entries.remove(&a.path);
                    self.dirty = true;
                }
                _ => {}
            }
        }
    }

    /// Record a write that happened: the remote's entry for `path` now.
    pub(crate) fn done(&mut self, path: &RelPath, now: &Entry) {
        let to = now.hash.to_hex();
        let latest = self
            .entries
            .get_mut(path)
            .and_then(|rs| rs.iter_mut().rev().find(|r| r.to == to));
        if let Some(r) = latest {
            {
                r.version = Some(now.version.to_string());
                r.size = now.size;
                r.executable = now.executable;
                self.dirty = true;
            }
        }
    }

    /// Store the journal on the replica, if anything changed.
    pub(crate) fn save(&mut self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        if self.entries.is_empty() {
            return self.clear();
        }
        // The records by reference: the journal is not copied to be written.
        #[derive(Serialize)]
        struct Writing<'r> {
            version: u32,
            entries: Vec<&'r Record>,
        }
        let file = Writing {
            version: FORMAT,
            entries: self.entries.values().flatten().collect(),
        };
        let mut data = serde_json::to_vec(&file).expect("the journal serialises");
        data.push(b'\n');
        put(self.replica, path, &data, &Expect::Any)
            .map_err(|e| error(self.replica, "written", e))?;
        self.dirty = false;
        self.stored = true;
        Ok(())
    }

    /// Remove the journal from the replica (the base that records its
    /// writes is safe: written locally for an ad hoc sync, committed and
    /// pushed for a target).
    pub(crate) fn clear(&mut self) -> Result<(), String> {
        self.entries.clear();
        self.dirty = false;
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.stored {
            self.replica
                .remove(path, &Expect::Any)
                .map_err(|e| error(self.replica, "removed", e))?;
            self.stored = false;
        }
        Ok(())
    }
}

/// Remove the journal `name` from `replica` (after the commit that carries
/// its writes' base was made and pushed). Nothing to do for a replica that
/// keeps no records. It is removed under the lease: a run applying right
/// now keeps its journal (stale entries are dropped by the next run anyway).
pub fn clear(replica: &dyn Replica, name: &str) -> Result<(), String> {
    let Some(path) = replica
        .keeps_records()
        .then(|| record_path("journal", name))
        .flatten()
    else {
        return Ok(());
    };
    let run = format!("clear-journal-{}", std::process::id());
    let ttl = std::time::Duration::from_secs(60);
    let lease = match crate::lease::Lease::acquire(replica, name, &run, ttl) {
        Ok(lease) => lease.map(|(l, _)| l),
        Err(crate::EngineError::Leased { .. }) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let removed = match replica.remove(&path, &Expect::Any) {
        Ok(()) | Err(ReplicaError::NotFound { .. }) => Ok(()),
        Err(e) => Err(error(replica, "removed", e)),
    };
    if let Some(l) = lease {
        l.release(replica);
    }
    removed
}
