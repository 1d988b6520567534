//! Conflicts kept for a person (`on_conflict: manual`), in
//! `<work>/conflicts/<name>/` beside the base, so that a run commits them and
//! every fresh clone (every CI run) sees them:
//!
//! - `conflicts.json`: one entry per open conflict: the path, why, each
//!   side's size and SHA-256, the remote side's mtime, and the decision once
//!   a person made one (`driftsync conflicts resolve`). Nothing in it depends
//!   on when or where the run happened, so finding the same conflict again in
//!   a fresh clone writes the same bytes (a pull request that did not change
//!   gets no new commit);
//! - `local/<path>` and `remote/<path>`: the two versions, byte for byte.
//!
//! Written only when something changed: a run that finds the same conflict
//! again rewrites nothing. A decision applies only while both sides still
//! hold the versions recorded here; a side that changed since is a new
//! conflict, recorded anew.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use driftsync_core::report::ActionOutcome;
use driftsync_core::{Decision, Entry, Hash, Keep, Plan, Policy, RelPath, Side};
use driftsync_replica::{Replica, ScanNote};
use serde::{Deserialize, Serialize};

use crate::{ActionResult, EngineError};

/// The folder under the work directory holding one folder per target.
pub const DIR: &str = "conflicts";
/// The record of a target's open conflicts, in its folder.
pub const RECORD: &str = "conflicts.json";
/// The record's format.
pub const RECORD_VERSION: u32 = 1;

/// One side's version of a conflicted file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// Size in bytes.
    pub size: u64,
    /// The remote version's modification time (ns since the epoch). The
    /// local one is not recorded: in a fresh clone it is only the checkout
    /// time, and recording it would make every CI run rewrite the record
    /// (and push a new commit to a pull request that has not changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<i64>,
    /// SHA-256 of the content: what a decision is about.
    pub hash: Hash,
}

/// A person's decision, waiting for the next run to apply it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decided {
    /// What to keep.
    pub keep: Keep,
    /// When it was decided (ns since the epoch).
    pub decided_ns: i64,
}

/// One open conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    /// The path, relative to both sides.
    pub path: RelPath,
    /// Why it is a conflict.
    pub reason: String,
    /// The local (left) version.
    pub local: Version,
    /// The remote (right) version.
    pub remote: Version,
    /// The decision, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decided>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    conflicts: Vec<Open>,
}

/// The open conflicts of one target (or ad hoc pair) and their copies.
#[derive(Debug)]
pub struct Store {
    name: String,
    dir: PathBuf,
    open: BTreeMap<RelPath, Open>,
    dirty: bool,
}

/// What keeping the conflicts of a run changed.
#[derive(Debug, Default)]
pub struct Kept {
    /// Decisions that no longer applied: a side changed after the conflict
    /// was recorded; the conflict was recorded anew.
    pub stale: Vec<RelPath>,
    /// Copies that could not be made (the conflict is recorded all the same).
    pub notes: Vec<ScanNote>,
}

impl Store {
    /// `<work>/conflicts/<name>`.
    pub fn dir_of(work_dir: &Path, name: &str) -> PathBuf {
        work_dir.join(DIR).join(name)
    }

    /// The record of `name` under `work_dir`; none yet is an empty store.
    pub fn load(work_dir: &Path, name: &str) -> Result<Store, EngineError> {
        let dir = Store::dir_of(work_dir, name);
        let file = dir.join(RECORD);
        let bad = |detail: String| EngineError::State {
            path: file.display().to_string(),
            detail,
        };
        let open = match fs::read(&file) {
            Ok(bytes) => {
                let doc: Doc = serde_json::from_slice(&bytes).map_err(|e| {
                    bad(format!(
                        "{e}; restore it from git (`git checkout -- {}`)",
                        file.display()
                    ))
                })?;
                if doc.version != RECORD_VERSION {
                    return Err(bad(format!(
                        "format version {} is not {RECORD_VERSION}: written by another driftsync version",
                        doc.version
                    )));
                }
                doc.conflicts
                    .into_iter()
                    .map(|o| (o.path.clone(), o))
                    .collect()
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(bad(e.to_string())),
        };
        Ok(Store {
            name: name.to_string(),
            dir,
            open,
            dirty: false,
        })
    }

    /// Every store under `work_dir` with open conflicts, by name.
    pub fn all(work_dir: &Path) -> Result<Vec<Store>, EngineError> {
        let mut names: Vec<String> = match fs::read_dir(work_dir.join(DIR)) {
            Ok(entries) => entries
                .flatten()
                .filter(|e| e.path().join(RECORD).is_file())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(EngineError::Io {
                    context: format!("reading {}", work_dir.join(DIR).display()),
                    source: e,
                })
            }
        };
        names.sort();
        let mut stores = Vec::new();
        for n in names {
            let s = Store::load(work_dir, &n)?;
            if !s.is_empty() {
                stores.push(s);
            }
        }
        Ok(stores)
    }

    /// The target's (or ad hoc pair's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when no conflict is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The open conflicts, in path order.
    pub fn open(&self) -> impl Iterator<Item = &Open> {
        self.open.values()
    }

    /// The open conflict at `path`.
    pub fn get(&self, path: &RelPath) -> Option<&Open> {
        self.open.get(path)
    }

    /// Where `side`'s version of `path` is kept.
    pub fn copy(&self, side: Side, path: &RelPath) -> PathBuf {
        self.dir.join(side_dir(side)).join(path.as_str())
    }

    /// The decisions made, for the planner.
    pub fn decisions(&self) -> BTreeMap<RelPath, Decision> {
        self.open
            .values()
            .filter_map(|o| {
                o.decision.as_ref().map(|d| {
                    (
                        o.path.clone(),
                        Decision {
                            keep: d.keep,
                            left: o.local.hash,
                            right: o.remote.hash,
                        },
                    )
                })
            })
            .collect()
    }

    /// Record a person's decision on the conflict at `path` (false: none is
    /// open there). `local_now` is the local file's content as it is now when the person edited it since the conflict was found (a merge
    /// by hand): the decision is then about that content, and its copy
    /// replaces the kept local version.
    pub fn decide(
        &mut self,
        path: &RelPath,
        keep: Keep,
        now_ns: i64,
        local_now: Option<&[u8]>,
    ) -> io::Result<bool> {
        if !self.open.contains_key(path) {
            return Ok(false);
        }
        if let Some(content) = local_now {
            let dest = self.copy(Side::Left, path);
            fs::create_dir_all(dest.parent().expect("a copy has a parent folder"))?;
            fs::write(&dest, content)?;
            let o = self.open.get_mut(path).expect("checked above");
            o.local = Version {
                size: content.len() as u64,
                mtime_ns: None,
                hash: Hash::of(content),
            };
        }
        let o = self.open.get_mut(path).expect("checked above");
        o.decision = Some(Decided {
            keep,
            decided_ns: now_ns,
        });
        self.dirty = true;
        Ok(true)
    }

    /// After a run: record the conflicts `policy` left for a person (with
    /// copies of both versions), and forget those that are gone or were
    /// resolved (by a decision that was applied, or by another policy).
    /// `seen` holds what the scans saw at each conflict, in plan order.
    pub(crate) fn keep(
        &mut self,
        plan: &Plan,
        results: &[ActionResult],
        seen: &[(Option<Entry>, Option<Entry>)],
        replicas: [&dyn Replica; 2],
        policy: Policy,
    ) -> Kept {
        let mut kept = Kept::default();
        let mut still: Vec<&RelPath> = Vec::new();
        for (c, (l, r)) in plan.conflicts.iter().zip(seen) {
            let (Some(l), Some(r)) = (l, r) else { continue };
            if !c.unresolved() {
                // Resolved by a policy or by hand: done once its action is.
                let done = plan
                    .actions
                    .binary_search_by(|a| a.path.cmp(&c.path))
                    .ok()
                    .is_some_and(|i| results[i].outcome == ActionOutcome::Applied);
                if !done && self.open.contains_key(&c.path) {
                    still.push(&c.path);
                }
                continue;
            }
            if policy != Policy::Manual {
                continue;
            }
            still.push(&c.path);
            let existing = self.open.get(&c.path);
            if existing.is_some_and(|o| o.local.hash == l.hash && o.remote.hash == r.hash) {
                // The same conflict: nothing to write, unless a copy went missing.
                for (side, replica, e) in
                    [(Side::Left, replicas[0], l), (Side::Right, replicas[1], r)]
                {
                    if !self.copy(side, &c.path).is_file() {
                        if let Err(e) = self.write_copy(side, replica, &c.path, e) {
                            kept.notes.push(copy_note(&c.path, side, e));
                        }
                    }
                }
                continue;
            }
            if existing.is_some_and(|o| o.decision.is_some()) {
                kept.stale.push(c.path.clone());
            }
            let mut versions = [version(Side::Left, l), version(Side::Right, r)];
            for (i, (side, replica, e)) in
                [(Side::Left, replicas[0], l), (Side::Right, replicas[1], r)]
                    .into_iter()
                    .enumerate()
            {
                match self.write_copy(side, replica, &c.path, e) {
                    // What was copied is what the record describes (and
                    // what a decision will be about).
                    Ok(v) => versions[i] = v,
                    Err(e) => kept.notes.push(copy_note(&c.path, side, e)),
                }
            }
            let [local, remote] = versions;
            self.open.insert(
                c.path.clone(),
                Open {
                    path: c.path.clone(),
                    reason: c.reason.clone(),
                    local,
                    remote,
                    decision: None,
                },
            );
            self.dirty = true;
        }
        still.sort_unstable();
        let gone: Vec<RelPath> = self
            .open
            .keys()
            .filter(|p| still.binary_search(p).is_err())
            .cloned()
            .collect();
        for p in gone {
            self.forget(&p);
        }
        kept
    }

    /// Drop the conflict at `path` and its copies.
    fn forget(&mut self, path: &RelPath) {
        self.open.remove(path);
        for side in [Side::Left, Side::Right] {
            let copy = self.copy(side, path);
            let _ = fs::remove_file(&copy);
            // Empty folders up to the side's folder go too.
            let top = self.dir.join(side_dir(side));
            let mut dir = copy.parent().map(Path::to_path_buf);
            while let Some(d) = dir.filter(|d| d.starts_with(&top)) {
                if fs::remove_dir(&d).is_err() {
                    break;
                }
                dir = d.parent().map(Path::to_path_buf);
            }
        }
        self.dirty = true;
    }

    /// Copy `side`'s version of `path` into the store; returns what was copied.
    fn write_copy(
        &self,
        side: Side,
        replica: &dyn Replica,
        path: &RelPath,
        seen: &Entry,
    ) -> io::Result<Version> {
        let dest = self.copy(side, path);
        let parent = dest.parent().expect("a copy has a parent folder");
        fs::create_dir_all(parent)?;
        let mut reader = replica
            .read(path)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let tmp = parent.join(driftsync_replica::local::temp_name(path.file_name()));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            let mut hasher = Hash::hasher();
            let mut buf = vec![0u8; 64 * 1024];
            let mut size = 0u64;
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n])?;
                size += n as u64;
            }
            f.sync_all()?;
            fs::rename(&tmp, &dest)?;
            Ok(Version {
                size,
                hash: hasher.finish(),
                ..version(side, seen)
            })
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Write the record when it changed (remove the store when nothing is open).
    pub fn save(&mut self) -> Result<(), EngineError> {
        if !self.dirty {
            return Ok(());
        }
        let io = |e: io::Error| EngineError::Io {
            context: format!("writing {}", self.dir.join(RECORD).display()),
            source: e,
        };
        if self.open.is_empty() {
            match fs::remove_dir_all(&self.dir) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
            // The last store goes with its folder.
            if let Some(parent) = self.dir.parent() {
                let _ = fs::remove_dir(parent);
            }
            self.dirty = false;
            return Ok(());
        }
        fs::create_dir_all(&self.dir).map_err(io)?;
        let doc = Doc {
            version: RECORD_VERSION,
            conflicts: self.open.values().cloned().collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).map_err(|e| io(e.into()))?;
        text.push('\n');
        let file = self.dir.join(RECORD);
        let tmp = self.dir.join(driftsync_replica::local::temp_name(RECORD));
        fs::write(&tmp, text).map_err(io)?;
        fs::rename(&tmp, &file).map_err(io)?;
        self.dirty = false;
        Ok(())
    }
}

/// `local` or `remote`: a side's folder in the store.
pub fn side_dir(side: Side) -> &'static str {
    match side {
        Side::Left => "local",
        Side::Right => "remote",
    }
}

fn version(side: Side, e: &Entry) -> Version {
    Version {
        size: e.size,
        mtime_ns: (side == Side::Right).then_some(e.mtime_ns),
        hash: e.hash,
    }
}

fn copy_note(path: &RelPath, side: Side, e: io::Error) -> ScanNote {
    ScanNote {
        path: path.to_string(),
        reason: format!(
            "the {} version could not be kept for review: {e}",
            side_dir(side)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_core::{reconcile, Base, Options, Snapshot};
    use driftsync_replica::memory::MemoryReplica;

    #[test]
    fn a_conflict_is_kept_once_and_forgotten_when_resolved() {
        let work = tempfile::tempdir().unwrap();
        let (left, right) = (MemoryReplica::new("l"), MemoryReplica::new("r"));
        let p = RelPath::new("d/f.txt").unwrap();
        let put = |r: &MemoryReplica, c: &str| {
            let meta = driftsync_replica::WriteMeta {
                size: c.len() as u64,
                hash: Hash::of(c.as_bytes()),
                mtime_ns: 1,
                executable: false,
            };
            r.write(
                &p,
                &mut c.as_bytes(),
                &meta,
                &driftsync_replica::Expect::Any,
            )
            .unwrap()
        };
        let (l, r) = (put(&left, "L"), put(&right, "R"));
        let snap = |e: &Entry| Snapshot::from_iter([(p.clone(), e.clone())]);
        let opts = Options {
            policy: Policy::Manual,
            ..Options::default()
        };
        let plan = reconcile(&Base::new(), &snap(&l), &snap(&r), &opts);
        let seen = vec![(Some(l.clone()), Some(r.clone()))];
        let mut store = Store::load(work.path(), "t").unwrap();
        store.keep(&plan, &[], &seen, [&left, &right], Policy::Manual);
        store.save().unwrap();
        assert_eq!(fs::read(store.copy(Side::Right, &p)).unwrap(), b"R");
        assert_eq!(fs::read(store.copy(Side::Left, &p)).unwrap(), b"L");
        let record = store.dir().join(RECORD);
        let before = fs::read(&record).unwrap();
        // Again: nothing rewritten.
        let mut again = Store::load(work.path(), "t").unwrap();
        again.keep(&plan, &[], &seen, [&left, &right], Policy::Manual);
        assert!(!again.dirty);
        again.save().unwrap();
        assert_eq!(fs::read(&record).unwrap(), before);
        assert!(again.decide(&p, Keep::Remote, 9, None).unwrap());
        assert_eq!(again.decisions()[&p].right, Hash::of(b"R"));
        // The conflict gone: record and copies go.
        again.keep(&Plan::default(), &[], &[], [&left, &right], Policy::Manual);
        again.save().unwrap();
        assert!(!again.dir().exists());
    }
}
