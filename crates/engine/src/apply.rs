//! Executing a plan: bounded parallelism, retries with backoff, backups,
//! conditional writes; and advancing the base for what succeeded.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use driftsync_core::report::ActionOutcome;
use driftsync_core::{Action, Base, Entry, Op, Plan, RelPath, Side, View};
use driftsync_replica::fault::crash_point;
use driftsync_replica::{Expect, Replica, ReplicaError, WriteMeta};

use crate::backup::Backups;
use crate::check::HeldBack;
use crate::{ActionResult, EngineError, Event, Reporter, SyncOptions};

/// What an applied action left on each side (None = absent).
#[derive(Debug)]
pub(crate) struct Done {
    left: Option<Entry>,
    right: Option<Entry>,
    /// Keep-both: the loser's copy, on (left, right).
    kept: Option<(RelPath, Entry, Entry)>,
    backup: Option<String>,
}

/// Why an action was not done.
#[derive(Debug)]
pub(crate) enum NotDone {
    /// Changed under our feet before anything was written: skipped, the
    /// next run picks it up.
    Skipped(String),
    /// Written, but the source changed while it was copied: reported as
    /// skipped (the next run picks it up); what was overwritten is backed up.
    Raced(String),
    /// Failed.
    Failed(String),
    /// Its content did not pass the content check: not propagated.
    HeldBack(HeldBack),
}

impl From<ReplicaError> for NotDone {
    fn from(e: ReplicaError) -> NotDone {
        match e {
            ReplicaError::Changed { .. } | ReplicaError::NotFound { .. } => {
                NotDone::Skipped(format!("{e}; the next run picks it up"))
            }
            e => NotDone::Failed(e.to_string()),
        }
    }
}

impl From<EngineError> for NotDone {
    fn from(e: EngineError) -> NotDone {
        match e {
            EngineError::Replica { source, .. } => source.into(),
            e => NotDone::Failed(e.to_string()),
        }
    }
}

impl Done {
    /// What the action wrote on the right side: (path, entry now there).
    pub(crate) fn on_right<'s>(
        &'s self,
        action: &'s Action,
    ) -> impl Iterator<Item = (&'s RelPath, &'s Entry)> + 's {
        let main = writes_to(action, Side::Right)
            .then_some(self.right.as_ref())
            .flatten()
            .map(|e| (&action.path, e));
        let kept = self.kept.as_ref().map(|(p, _, r)| (p, r));
        main.into_iter().chain(kept)
    }

    /// What this action leaves in the base: changes to the left and right
    /// listings (`None` removes the path), applied in one pass per side.
    pub(crate) fn changes(&self, action: &Action, out: &mut [Vec<(RelPath, Option<Entry>)>; 2]) {
        out[0].push((action.path.clone(), self.left.clone()));
        out[1].push((action.path.clone(), self.right.clone()));
        if let Some((p, l, r)) = &self.kept {
            out[0].push((p.clone(), Some(l.clone())));
            out[1].push((p.clone(), Some(r.clone())));
        }
    }
}

/// Step a sorted listing's cursor to `path`: its entry there, if it has one.
fn seek<'a, V>(
    it: &mut std::iter::Peekable<impl Iterator<Item = (&'a RelPath, V)>>,
    path: &RelPath,
) -> Option<V> {
    while it.next_if(|(p, _)| *p < path).is_some() {}
    it.next_if(|(p, _)| *p == path).map(|(_, v)| v)
}

/// Changes to the base that refresh the quick-check data of paths the plan
/// leaves alone and that agree on both sides (one merge pass over the sorted
/// listings), by side; and whether there are any.
#[allow(clippy::type_complexity)]
pub(crate) fn refresh_unchanged(
    base: &Base,
    plan: &Plan,
    left: View<'_>,
    right: View<'_>,
) -> ([Vec<(RelPath, Option<Entry>)>; 2], bool) {
    let mut touched: Vec<&RelPath> = plan
        .actions
        .iter()
        .map(|a| &a.path)
        .chain(plan.conflicts.iter().map(|c| &c.path))
        .collect();
    touched.sort_unstable();
    let mut out = [Vec::new(), Vec::new()];
    let (mut ls, mut rs) = (left.iter().peekable(), right.iter().peekable());
    let mut brs = base.right.iter().peekable();
    for (path, bl) in base.left.iter() {
        let Some(l) = seek(&mut ls, path) else {
            continue;
        };
        let Some(r) = seek(&mut rs, path).filter(|r| r.hash == l.hash) else {
            continue;
        };
        if touched.binary_search(&path).is_ok() {
            continue;
        }
        if bl != l {
            out[0].push((path.clone(), Some(l.clone())));
        }
        if seek(&mut brs, path) != Some(r) {
            out[1].push((path.clone(), Some(r.clone())));
        }
    }
    let changed = !out[0].is_empty() || !out[1].is_empty();
    (out, changed)
}

/// The compact record of an action's result.
pub(crate) fn result(result: &Result<Done, NotDone>) -> ActionResult {
    let (outcome, detail) = match result {
        Ok(done) => (
            ActionOutcome::Applied,
            done.backup.as_ref().map(|b| format!("backed up to {b}")),
        ),
        Err(NotDone::Skipped(why) | NotDone::Raced(why)) => {
            (ActionOutcome::Skipped, Some(why.clone()))
        }
        Err(NotDone::Failed(why)) => (ActionOutcome::Failed, Some(why.clone())),
        Err(NotDone::HeldBack(h)) => (
            ActionOutcome::Skipped,
            Some(format!(
                "held back: {}: does not parse: {}",
                h.at(),
                h.invalid.message
            )),
        ),
    };
    ActionResult {
        outcome,
        detail: detail.map(String::into_boxed_str),
    }
}

/// The listings the scans made, by side (left, right): where an action
/// finds what was at its path when it was planned.
#[derive(Clone, Copy)]
pub(crate) struct Seen<'s>(pub [View<'s>; 2]);

impl Seen<'_> {
    fn get(&self, side: Side, path: &RelPath) -> Option<&Entry> {
        self.0[idx(side)].get(path)
    }
}

pub(crate) struct Applier<'a> {
    pub replicas: [&'a dyn Replica; 2],
    pub backups: &'a Backups,
    pub opts: &'a SyncOptions,
    pub reporter: &'a dyn Reporter,
}

/// The bytes `a` copies: the source's size for a copy, both sides' for a
/// conflict kept on both sides, nothing for a deletion.
pub(crate) fn copied_bytes(a: &Action, seen: Seen<'_>) -> u64 {
    let size = |side: Side| seen.get(side, &a.path).map_or(0, |e| e.size);
    match &a.op {
        Op::Copy { from } => size(*from),
        Op::KeepBoth { .. } => size(Side::Left) + size(Side::Right),
        Op::Delete { .. } | Op::Adopt => 0,
    }
}

/// Actions per replica transaction: large enough that a database side does
/// not pay a commit per file, small enough that a long run keeps its progress.
pub(crate) const BATCH: usize = 500;

/// True when applying `a` changes files on `side`.
fn writes_to(a: &Action, side: Side) -> bool {
    match &a.op {
        Op::Adopt => false,
        Op::Copy { from } => from.other() == side,
        Op::Delete { on } => *on == side,
        Op::KeepBoth { .. } => true,
    }
}

fn idx(side: Side) -> usize {
    match side {
        Side::Left => 0,
        Side::Right => 1,
    }
}

fn meta(e: &Entry) -> WriteMeta {
    WriteMeta {
        size: e.size,
        hash: e.hash,
        mtime_ns: e.mtime_ns,
        executable: e.executable,
    }
}

fn expect(seen: Option<&Entry>) -> Expect {
    seen.map_or(Expect::Absent, |e| Expect::Version(e.version.clone()))
}

fn pair(side: Side, this: Option<Entry>, other: Option<Entry>) -> (Option<Entry>, Option<Entry>) {
    match side {
        Side::Left => (this, other),
        Side::Right => (other, this),
    }
}

impl Applier<'_> {
    fn rep(&self, side: Side) -> &dyn Replica {
        self.replicas[idx(side)]
    }

    /// Apply one batch of actions (at most [`BATCH`]); results in order. Each
    /// batch is one transaction on every side it writes to
    /// (`begin_batch`/`commit_batch`), so a database side takes a batch whole
    /// or not at all, and a batch a side did not commit counts as not applied
    /// there. `seen` holds what the scans saw at each action's path.
    pub(crate) fn run_batch(
        &self,
        actions: &[Action],
        seen: Seen<'_>,
    ) -> Vec<Result<Done, NotDone>> {
        let sides = [Side::Left, Side::Right];
        // Why a side cannot be written in this batch (its transaction did not start).
        let mut refused: [Option<String>; 2] = [None, None];
        let mut open = [false; 2];
        for side in sides {
            if !actions.iter().any(|a| writes_to(a, side)) {
                continue;
            }
            match self.rep(side).begin_batch() {
                Ok(()) => open[idx(side)] = true,
                Err(e) => {
                    refused[idx(side)] = Some(format!("{side}: could not start a transaction: {e}"))
                }
            }
        }
        let mut results = self.run_parallel(actions, seen, |a| {
            sides
                .into_iter()
                .filter(|s| writes_to(a, *s))
                .find_map(|s| refused[idx(s)].clone())
        });
        for side in sides.into_iter().filter(|s| open[idx(*s)]) {
            let Err(e) = self.rep(side).commit_batch() else {
                continue;
            };
            self.rep(side).rollback_batch();
            for (a, r) in actions.iter().zip(results.iter_mut()) {
                if r.is_ok() && writes_to(a, side) {
                    *r = Err(NotDone::Failed(format!(
                        "{side}: the transaction was not committed, so this did not happen there: {e}"
                    )));
                }
            }
        }
        results
    }

    /// Apply `actions` with bounded parallelism; an action for which `refuse`
    /// gives a reason fails with it without running.
    fn run_parallel(
        &self,
        actions: &[Action],
        seen: Seen<'_>,
        refuse: impl Fn(&Action) -> Option<String> + Sync,
    ) -> Vec<Result<Done, NotDone>> {
        let n = actions.len();
        let results: Vec<Mutex<Option<Result<Done, NotDone>>>> =
            (0..n).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.opts.concurrency.clamp(1, 256).min(n.max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(action) = actions.get(i) else {
                        break;
                    };
                    let r = match refuse(action) {
                        Some(why) => Err(NotDone::Failed(why)),
                        None => self.apply(action, seen),
                    };
                    if action.changes_files() {
                        self.reporter.event(&Event::ActionDone {
                            bytes: copied_bytes(action, seen),
                        });
                    }
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                });
            }
        });
        results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every action ran")
            })
            .collect()
    }

    fn retry<T>(
        &self,
        path: &RelPath,
        mut f: impl FnMut() -> Result<T, ReplicaError>,
    ) -> Result<T, ReplicaError> {
        let mut attempt = 1u32;
        loop {
            match f() {
                Err(e) if e.is_transient() && attempt <= self.opts.retries => {
                    attempt += 1;
                    self.reporter.event(&Event::Retrying {
                        path: path.to_string(),
                        attempt,
                        error: e.to_string(),
                    });
                    std::thread::sleep(backoff(self.opts.retry_delay_ms, attempt, path));
                }
                r => return r,
            }
        }
    }

    /// Copy `src_path` on `from` to `dst_path` on `to` (from `content` when the
    /// check already read it); checks the content is what the scan saw.
    #[allow(clippy::too_many_arguments)]
    fn copy(
        &self,
        from: Side,
        src_path: &RelPath,
        seen: &Entry,
        to: Side,
        dst_path: &RelPath,
        expect: &Expect,
        content: Option<&[u8]>,
    ) -> Result<Entry, NotDone> {
        let written = self.retry(dst_path, || match content {
            Some(bytes) => self
                .rep(to)
                .write(dst_path, &mut &bytes[..], &meta(seen), expect),
            None => {
                let mut reader = self.rep(from).read(src_path)?;
                let reader: &mut dyn Read = &mut reader;
                self.rep(to).write(dst_path, reader, &meta(seen), expect)
            }
        })?;
        crash_point();
        if written.hash != seen.hash {
            return Err(NotDone::Raced(format!(
                "{src_path} changed on {from} while it was copied; the next run picks it up"
            )));
        }
        Ok(written)
    }

    /// Back up `path` on `side`, which the scan saw as `seen`; `None` when
    /// the run keeps no backups.
    fn backup(&self, side: Side, path: &RelPath, seen: &Entry) -> Result<Option<String>, NotDone> {
        if !self.opts.backup {
            return Ok(None);
        }
        let saved = self.backups.save(self.rep(side), side, path, Some(seen))?;
        crash_point();
        Ok(Some(saved))
    }

    /// `why` the write or delete of `path` on `side` did not happen; when
    /// nothing was written ([`NotDone::Skipped`]), its backup, if one was
    /// made, is taken back (a path has one action per run, so no other
    /// backup of it exists). On a failure it stays: a spare backup loses
    /// nothing.
    fn unsave(&self, side: Side, path: &RelPath, why: NotDone) -> NotDone {
        if matches!(why, NotDone::Skipped(_)) {
            self.backups.forget(side, path);
        }
        why
    }

    /// Run the content check on `path` of side `from`: `Ok(Some(content))`
    /// when it was read and passed, `Ok(None)` when no check applies,
    /// [`NotDone::HeldBack`] when it does not pass.
    fn checked(&self, from: Side, path: &RelPath) -> Result<Option<Vec<u8>>, NotDone> {
        let Some(check) = self.opts.check.as_deref().filter(|c| c.applies(path)) else {
            return Ok(None);
        };
        let content = self.retry(path, || {
            let mut buf = Vec::new();
            self.rep(from)
                .read(path)?
                .read_to_end(&mut buf)
                .map_err(|e| ReplicaError::other(format!("{from} {path}: read"), e))?;
            Ok(buf)
        })?;
        match check.check(path, &content) {
            None => Ok(Some(content)),
            Some(invalid) => Err(NotDone::HeldBack(HeldBack {
                side: from,
                path: path.clone(),
                invalid,
            })),
        }
    }

    fn apply(&self, a: &Action, seen: Seen<'_>) -> Result<Done, NotDone> {
        let at = |side: Side| seen.get(side, &a.path);
        match &a.op {
            Op::Adopt => Ok(Done {
                left: at(Side::Left).cloned(),
                right: at(Side::Right).cloned(),
                kept: None,
                backup: None,
            }),
            Op::Copy { from } => {
                let to = from.other();
                let src = at(*from).expect("a copy has a source");
                if let Some(dst) = at(to).filter(|d| d.hash == src.hash) {
                    // Same content: only the metadata (executable bit) changes; nothing to back up.
                    let written = self.retry(&a.path, || {
                        self.rep(to)
                            .set_meta(&a.path, &meta(src), &expect(Some(dst)))
                    })?;
                    crash_point();
                    let (left, right) = pair(*from, Some(src.clone()), Some(written));
                    return Ok(Done {
                        left,
                        right,
                        kept: None,
                        backup: None,
                    });
                }
                let content = self.checked(*from, &a.path)?;
                let backup = match at(to) {
                    Some(seen) => self.backup(to, &a.path, seen)?,
                    None => None,
                };
                let written = self
                    .copy(
                        *from,
                        &a.path,
                        src,
                        to,
                        &a.path,
                        &expect(at(to)),
                        content.as_deref(),
                    )
                    .map_err(|why| self.unsave(to, &a.path, why))?;
                let (left, right) = pair(*from, Some(src.clone()), Some(written));
                Ok(Done {
                    left,
                    right,
                    kept: None,
                    backup,
                })
            }
            Op::Delete { on } => {
                let seen = at(*on).expect("a delete has a target");
                let backup = self.backup(*on, &a.path, seen)?;
                self.retry(&a.path, || {
                    self.rep(*on).remove(&a.path, &expect(Some(seen)))
                })
                .map_err(|e| self.unsave(*on, &a.path, e.into()))?;
                crash_point();
                Ok(Done {
                    left: None,
                    right: None,
                    kept: None,
                    backup,
                })
            }
            Op::KeepBoth { winner, loser_path } => {
                let loser = winner.other();
                let (w, l) = (
                    at(*winner).expect("keep-both has both sides"),
                    at(loser).expect("keep-both has both sides"),
                );
                let loser_content = self.checked(loser, &a.path)?;
                let winner_content = self.checked(*winner, &a.path)?;
                let kept_here = self.copy(
                    loser,
                    &a.path,
                    l,
                    loser,
                    loser_path,
                    &Expect::Absent,
                    loser_content.as_deref(),
                )?;
                let kept_there = self.copy(
                    loser,
                    &a.path,
                    l,
                    *winner,
                    loser_path,
                    &Expect::Absent,
                    loser_content.as_deref(),
                )?;
                let replaced = self.copy(
                    *winner,
                    &a.path,
                    w,
                    loser,
                    &a.path,
                    &expect(Some(l)),
                    winner_content.as_deref(),
                )?;
                let (left, right) = pair(*winner, Some(w.clone()), Some(replaced));
                let (kl, kr) = pair(loser, Some(kept_here), Some(kept_there));
                Ok(Done {
                    left,
                    right,
                    kept: Some((
                        RelPath::clone(loser_path),
                        kl.expect("set"),
                        kr.expect("set"),
                    )),
                    backup: None,
                })
            }
        }
    }
}

/// Exponential backoff with ±50 % jitter (deterministic per path and attempt).
fn backoff(base_ms: u64, attempt: u32, path: &RelPath) -> Duration {
    let exp = base_ms
        .saturating_mul(1u64 << (attempt - 2).min(10))
        .min(10_000);
    let seed = driftsync_core::Hash::of(
        format!("{path}\n{attempt}\n{}", crate::clock::now_ns()).as_bytes(),
    )
    .0;
    let jitter = u64::from(seed[0]) * 100 / 255; // 0..=100
    Duration::from_millis(exp / 2 + exp * jitter / 100)
}
