//! A sync's output for people, written once for `driftsync sync` and for
//! `type: sync` targets under `driftsync run`: the engine's notes as text,
//! progress bars on a terminal, the summary, and the per-file lines (`-v`).
//!
//! What is never hidden by the summary: failed and skipped actions,
//! conflicts left open, paths the plan keeps on purpose, and the notes.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use driftsync_core::plan::Op;
use driftsync_core::report::ActionOutcome;
use driftsync_engine::{Event, Outcome, Reporter};
use driftsync_replica::ScanProgress;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::plan;

/// What an engine event tells a person who is not watching bars: a stale
/// lock or lease taken over, a killed run's writes taken as the base.
/// `None` for progress events.
pub fn note(event: &Event) -> Option<String> {
    Some(match event {
        Event::LockTakenOver { pid } => format!("took over a stale lock left by pid {pid}"),
        Event::LeaseTakenOver { holder } => {
            format!("took over the remote's lease left by {holder} (that run is gone)")
        }
        Event::JournalApplied { paths } => format!(
            "{paths} write(s) an earlier run made to the remote were taken as the base (that run was stopped before its base reached this checkout, or its base is on a branch not merged yet)"
        ),
        _ => return None,
    })
}

/// Where the notes of [`note`] go.
pub enum Notes {
    /// To stderr as they come, as `driftsync: <note>`.
    Print,
    /// Kept for the caller ([`Progress::take_notes`]).
    Keep(Mutex<Vec<String>>),
}

/// The engine's [`Reporter`] for people: notes, and on a terminal the bars
/// (a scan spinner; a transfer bar with files, bytes, bytes/s and ETA).
/// Without bars every progress event is a match arm that does nothing.
pub struct Progress {
    bars: Option<Bars>,
    notes: Notes,
}

/// Redraws per second at most: an action costs an atomic add, not a draw.
const DRAW_HZ: u8 = 10;

struct Bars {
    multi: MultiProgress,
    scan: Mutex<Option<ProgressBar>>,
    /// Set once the plan is known; read without a lock by every action.
    transfer: std::sync::OnceLock<ProgressBar>,
    /// Files listed and files read to hash + 1 (0: not scanned yet), left
    /// then right, from [`Event::Scanned`] (every backend reports these).
    scanned: Arc<[AtomicU64; 4]>,
    /// Actions done and planned, shown by the transfer bar at draw time.
    files: Arc<[AtomicU64; 2]>,
    /// True when the transfer bar counts bytes (else files: nothing to copy).
    by_bytes: std::sync::atomic::AtomicBool,
}

impl Progress {
    /// A reporter drawing bars on stderr when `bars` (the caller decides: a
    /// terminal, not CI, not JSON).
    pub fn new(bars: bool, notes: Notes) -> Progress {
        let bars = bars.then(|| Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(DRAW_HZ)),
            scan: Mutex::new(None),
            transfer: std::sync::OnceLock::new(),
            scanned: Default::default(),
            files: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
            by_bytes: std::sync::atomic::AtomicBool::new(false),
        });
        Progress { bars, notes }
    }

    /// The notes kept ([`Notes::Keep`]); empty when they were printed.
    pub fn take_notes(&mut self) -> Vec<String> {
        match &mut self.notes {
            Notes::Print => Vec::new(),
            Notes::Keep(n) => std::mem::take(n.get_mut().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Clear the bars (before the summary is printed).
    pub fn finish(&self) {
        if let Some(b) = &self.bars {
            if let Some(bar) = lock(&b.scan).take() {
                bar.finish_and_clear();
            }
            if let Some(bar) = b.transfer.get() {
                bar.finish_and_clear();
            }
            let _ = b.multi.clear();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One side's scan so far: `1,234 file(s), 56/300 hashed (1.2 MiB/4 MiB)`,
/// live from the backend's counts, final from its [`Event::Scanned`].
fn scan_counts(w: &mut dyn std::fmt::Write, live: &ScanProgress, done: &[AtomicU64]) {
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (listed, hashed) = match n(&done[1]) {
        0 => (n(&live.listed), n(&live.hashed)),
        h => (n(&done[0]), h - 1),
    };
    let _ = write!(w, "{listed} file(s)");
    let to_hash = n(&live.to_hash).max(hashed);
    if to_hash > 0 {
        let _ = write!(
            w,
            ", {hashed}/{to_hash} hashed ({}/{})",
            HumanBytes(n(&live.hashed_bytes)),
            HumanBytes(n(&live.to_hash_bytes))
        );
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Bars {
    fn scanning(&self, sides: [Arc<ScanProgress>; 2]) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        let mut style = style("{spinner} scanning: left {left}; right {right} ({elapsed})");
        for (key, (i, live)) in ["left", "right"]
            .into_iter()
            .zip(sides.into_iter().enumerate())
        {
            let scanned = Arc::clone(&self.scanned);
            style = style.with_key(
                key,
                move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    scan_counts(w, &live, &scanned[2 * i..2 * i + 2]);
                },
            );
        }
        bar.set_style(style);
        // Drawn at once, not at the first tick: a scan that ends within
        // the tick's interval still shows that it happened.
        bar.tick();
        bar.enable_steady_tick(Duration::from_millis(100));
        *lock(&self.scan) = Some(bar);
    }

    fn scanned(&self, side: driftsync_core::Side, files: usize, hashed: usize) {
        let i = 2 * usize::from(side == driftsync_core::Side::Right);
        self.scanned[i].store(files as u64, Ordering::Relaxed);
        self.scanned[i + 1].store(hashed as u64 + 1, Ordering::Relaxed);
    }

    fn planned(&self, actions: usize, bytes: u64) {
        if let Some(scan) = lock(&self.scan).take() {
            scan.finish_and_clear();
        }
        self.files[1].store(actions as u64, Ordering::Relaxed);
        let by_bytes = bytes > 0;
        self.by_bytes.store(by_bytes, Ordering::Relaxed);
        let files = Arc::clone(&self.files);
        let template = if by_bytes {
            "{bar:30} {files} files  {bytes}/{total_bytes}  {bytes_per_sec}  ETA {eta}"
        } else {
            "{bar:30} {files} files  ETA {eta}"
        };
        let bar = self.multi.add(ProgressBar::new(if by_bytes {
            bytes
        } else {
            actions as u64
        }));
        bar.set_style(style(template).with_key(
            "files",
            move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{}/{}",
                    files[0].load(Ordering::Relaxed),
                    files[1].load(Ordering::Relaxed)
                );
            },
        ));
        let _ = self.transfer.set(bar);
    }

    fn done(&self, bytes: u64) {
        self.files[0].fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = self.transfer.get() {
            bar.inc(if self.by_bytes.load(Ordering::Relaxed) {
                bytes
            } else {
                1
            });
        }
    }
}

impl Reporter for Progress {
    fn event(&self, e: &Event) {
        if let Some(text) = note(e) {
            match &self.notes {
                Notes::Print => {
                    let print = || eprintln!("driftsync: {text}");
                    match &self.bars {
                        Some(b) => b.multi.suspend(print),
                        None => print(),
                    }
                }
                Notes::Keep(n) => lock(n).push(text),
            }
            return;
        }
        let Some(b) = &self.bars else { return };
        match e {
            Event::Scanning { left, right } => b.scanning([left.clone(), right.clone()]),
            Event::Scanned {
                side,
                files,
                hashed,
            } => b.scanned(*side, *files, *hashed),
            Event::Planned { actions, bytes } => b.planned(*actions, *bytes),
            Event::ActionDone { bytes } => b.done(*bytes),
            _ => {}
        }
    }
}

/// What a sync did, counted: the numbers of the summary and of `--json`'s
/// `summary`. A keep-both conflict counts as one file updated and one
/// created (the kept copy). Planned actions count in a dry run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Files created.
    pub created: usize,
    /// Files updated.
    pub updated: usize,
    /// Files deleted.
    pub deleted: usize,
    /// Actions skipped.
    pub skipped: usize,
    /// Actions failed.
    pub failed: usize,
    /// Conflicts found.
    pub conflicts: usize,
    /// Conflicts no action resolved.
    pub unresolved: usize,
    /// Files backed up before being overwritten or deleted.
    pub backed_up: usize,
    /// Bytes copied.
    pub bytes: u64,
}

impl Counts {
    /// Count an outcome.
    pub fn of(out: &Outcome) -> Counts {
        let mut c = Counts {
            conflicts: out.plan.conflicts.len(),
            unresolved: out.conflicts_left(),
            backed_up: out.backed_up,
            bytes: out.bytes_copied,
            ..Counts::default()
        };
        for (a, r) in out.plan.actions.iter().zip(&out.results) {
            match r.outcome {
                ActionOutcome::Skipped => c.skipped += 1,
                ActionOutcome::Failed => c.failed += 1,
                ActionOutcome::Applied | ActionOutcome::Planned => match &a.op {
                    Op::Copy { .. } if a.creates => c.created += 1,
                    Op::Copy { .. } => c.updated += 1,
                    Op::Delete { .. } => c.deleted += 1,
                    Op::KeepBoth { .. } => {
                        c.updated += 1;
                        c.created += 1;
                    }
                    Op::Adopt => {}
                },
            }
        }
        c
    }
}

/// The counts in one line: `300 created, 2 updated, 1 deleted, 1.17 MiB
/// copied in 0.4s` (in a dry run: `300 to create, …`). Conflicts, skipped and
/// failed actions are the caller's to say (with what to do about them).
pub fn counts_line(out: &Outcome, took: Duration) -> String {
    let c = Counts::of(out);
    let mut s = if out.dry_run {
        format!(
            "{} to create, {} to update, {} to delete",
            c.created, c.updated, c.deleted
        )
    } else {
        format!(
            "{} created, {} updated, {} deleted",
            c.created, c.updated, c.deleted
        )
    };
    if c.backed_up > 0 {
        let _ = write!(s, ", {} backed up", c.backed_up);
    }
    if !out.dry_run {
        let _ = write!(s, ", {} copied", HumanBytes(c.bytes));
    }
    let _ = write!(s, " in {:.1}s", took.as_secs_f64());
    s
}

/// The lines for stdout: the whole plan in a dry run (that is what it is
/// for); otherwise what was not done, the conflicts left and the paths
/// kept on purpose — and with `verbose` one line per action as well.
pub fn lines(out: &Outcome, verbose: bool) -> Vec<String> {
    if out.dry_run {
        return plan::render(&out.plan).lines().map(String::from).collect();
    }
    let mut v = Vec::new();
    for (action, rec) in out.plan.actions.iter().zip(&out.results) {
        let word = match rec.outcome {
            ActionOutcome::Applied | ActionOutcome::Planned => {
                if verbose {
                    v.push(plan::action(action));
                }
                continue;
            }
            ActionOutcome::Skipped => "skipped",
            ActionOutcome::Failed => "FAILED",
        };
        v.push(format!(
            "{}  [{word}: {}]",
            plan::action(action),
            plan::text(rec.detail.as_deref().unwrap_or(""))
        ));
    }
    v.extend(out.plan.unresolved().map(plan::conflict));
    v.extend(
        out.plan
            .notes
            .iter()
            .map(|n| plan::kept(n.path.as_str(), &n.reason)),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_only_the_events_a_person_must_hear_of() {
        assert!(note(&Event::LockTakenOver { pid: 7 })
            .unwrap()
            .contains("pid 7"));
        assert!(note(&Event::ActionDone { bytes: 3 }).is_none());
        assert!(note(&Event::Scanning {
            left: Default::default(),
            right: Default::default()
        })
        .is_none());
    }
}
