//! The sync engine: scan both sides → reconcile → guard → apply → base.
//!
//! One entry point, [`sync`]. It takes the lock (`<work>/lock`), reads the
//! base (`--state` file), scans both replicas concurrently (quick check
//! against the base), plans with [`driftsync_core::reconcile`], refuses
//! unsafe plans ([`driftsync_core::guard`]) unless forced, applies with
//! bounded parallelism and retries, backs up everything it overwrites or
//! deletes (inside the replica when it keeps copies of its own, else
//! `<work>/backup/<run>/<side>/<path>`), and writes the base
//! atomically last, advanced only for what succeeded. Conflicts left for a
//! person (`manual`) are kept with both versions in `<work>/conflicts/<name>/`
//! ([`conflicts`]), and the decisions made there are applied. It never prints:
//! progress goes to a [`Reporter`].
#![deny(missing_docs)]

mod apply;
pub mod backup;
pub mod check;
pub mod clock;
pub mod conflicts;
pub mod events;
pub mod journal;
pub mod lease;
pub mod lock;
pub mod restore;
#[cfg(feature = "scenarios")]
pub mod scenarios;
pub mod state;

use std::path::{Path, PathBuf};

use driftsync_core::guard::{self, Limits, Violation};
use driftsync_core::report::{ActionOutcome, ActionRecord};
use driftsync_core::{reconcile_views, Base, Options, Plan, Policy, Side};
use driftsync_replica::{Replica, ReplicaError, ScanNote, ScanRequest};

pub use check::{ContentCheck, HeldBack, Invalid};
pub use events::{Event, Reporter, Silent};
pub use state::State;

/// Why a sync could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Another run holds the lock.
    #[error("locked by pid {pid} ({path}); another run in this checkout is syncing: wait for it to finish")]
    Locked {
        /// The holder's pid.
        pid: u32,
        /// The lock file.
        path: String,
    },
    /// Another run holds the lease on the remote.
    #[error("{location}: another run is syncing this remote: {holder}; wait for it to finish (in GitHub Actions, give the workflows that sync it one `concurrency` group)")]
    Leased {
        /// The remote.
        location: String,
        /// Who holds the lease, and until when.
        holder: String,
    },
    /// The lease on the remote could not be read or written.
    #[error("{location}: the lease that keeps two runs from syncing this remote at once could not be taken: {detail}")]
    Lease {
        /// The remote.
        location: String,
        /// What failed.
        detail: String,
    },
    /// The journal of remote writes could not be read.
    #[error("{0}")]
    Journal(String),
    /// A replica failed as a whole (scan).
    #[error("{side}: {source}")]
    Replica {
        /// Which side.
        side: Side,
        /// The replica's error.
        #[source]
        source: ReplicaError,
    },
    /// The state file is unreadable or invalid.
    #[error("state file {path}: {detail}")]
    State {
        /// The file (with line:column when it does not parse).
        path: String,
        /// What is wrong and what to do.
        detail: String,
    },
    /// Local I/O for the engine's own files (lock, backups).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// True when the problem is the environment or setup (exit 2), not the data.
    pub fn is_environment(&self) -> bool {
        match self {
            EngineError::Replica { source, .. } => source.is_environment(),
            _ => true,
        }
    }
}

/// Everything a sync needs besides the two replicas.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Direction, conflict policy, delete_orphans (the stamp is filled from the clock when empty).
    pub plan: Options,
    /// Safety limits.
    pub limits: Limits,
    /// Apply even when a guard objects (reported as forced).
    pub force: bool,
    /// Plan only: change no file and no state.
    pub dry_run: bool,
    /// Actions applied in parallel.
    pub concurrency: usize,
    /// Retries of a transient failure, per operation.
    pub retries: u32,
    /// First retry delay in milliseconds (doubles each time, with jitter).
    pub retry_delay_ms: u64,
    /// Include globs (empty = everything).
    pub include: Vec<String>,
    /// Exclude globs.
    pub exclude: Vec<String>,
    /// The base: `.driftsync/state/<target>.json`.
    pub state_file: PathBuf,
    /// The engine's directory for the lock and backups: `.driftsync`.
    pub work_dir: PathBuf,
    /// fsync the state file before renaming it into place (survives power loss, not only a kill).
    pub durable: bool,
    /// Checked before a file is propagated; a file it rejects is held back.
    pub check: Option<std::sync::Arc<dyn ContentCheck>>,
    /// Keep the journal of remote writes after the base is written: the
    /// base is safe only once committed (and pushed), and whoever commits
    /// it removes the journal ([`journal::clear`]). Off for an ad hoc sync,
    /// whose state file is the record.
    pub keep_journal: bool,
    /// How long the lease on the remote lasts between renewals.
    pub lease_ttl: std::time::Duration,
    /// The lease's name on the remote (default: the state file's stem). An
    /// ad hoc pair names it after both locations, so the same pair is
    /// leased once whichever state file each run uses.
    pub lease_name: Option<String>,
    /// Rewrite the state file when only the quick-check data of unchanged
    /// files moved (inode, mtime). Off for a base committed to git: a fresh
    /// clone's files all have new inodes and mtimes, and committing them
    /// every job is noise.
    pub refresh_quick_check: bool,
    /// Keep a copy of every file a run overwrites or deletes, so
    /// `driftsync restore RUN` can put it back (on object storage a
    /// server-side copy: one more request per changed object). Off, an
    /// edited object costs one request; a write still never replaces a
    /// version the scan did not see.
    pub backup: bool,
}

impl SyncOptions {
    /// Defaults for a state file and a work directory.
    pub fn new(state_file: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> SyncOptions {
        SyncOptions {
            plan: Options {
                stamp: String::new(),
                ..Options::default()
            },
            limits: Limits::default(),
            force: false,
            dry_run: false,
            concurrency: 8,
            retries: 3,
            retry_delay_ms: 200,
            include: Vec::new(),
            exclude: Vec::new(),
            state_file: state_file.into(),
            work_dir: work_dir.into(),
            durable: true,
            check: None,
            keep_journal: false,
            lease_ttl: lease::DEFAULT_TTL,
            lease_name: None,
            refresh_quick_check: true,
            backup: true,
        }
    }
}

/// What a sync did (or would do).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The plan.
    pub plan: Plan,
    /// Guard objections (applied anyway when `forced`).
    pub violations: Vec<Violation>,
    /// True when `--force` overrode violations.
    pub forced: bool,
    /// Why nothing was applied (guards, policy `fail`), if so.
    pub blocked: Option<String>,
    /// What happened to each action of `plan.actions`, in the same order
    /// (kept compact: [`Outcome::records`] makes the report records).
    pub results: Vec<ActionResult>,
    /// What the scans passed over.
    pub notes: Vec<(Side, ScanNote)>,
    /// Where this run's backups are (when anything was backed up).
    pub backup_dir: Option<PathBuf>,
    /// This run's id (`<UTC stamp>-<pid>`; empty for a dry or blocked run):
    /// `driftsync restore RUN` puts its backups back.
    pub run_id: String,
    /// Files backed up (inside a replica or locally).
    pub backed_up: usize,
    /// Bytes the applied actions copied.
    pub bytes_copied: u64,
    /// Files the content check held back.
    pub held_back: Vec<HeldBack>,
    /// True for a dry run.
    pub dry_run: bool,
    /// True when the state file was (re)written.
    pub state_written: bool,
    /// Where the conflicts left for a person are kept (`on_conflict: manual`),
    /// when any are open after this run.
    pub conflicts_dir: Option<PathBuf>,
    /// Decisions that no longer applied: a side changed after the conflict
    /// was recorded, so it was recorded anew for a person to look at again.
    pub stale_decisions: Vec<driftsync_core::RelPath>,
}

/// What happened to one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionResult {
    /// Planned, applied, skipped or failed.
    pub outcome: ActionOutcome,
    /// Extra detail (an error message, a backup location).
    pub detail: Option<Box<str>>,
}

impl Outcome {
    /// The guard's violations as one line (`a; b`), as a forced sync names
    /// what it overrode.
    pub fn violations_line(&self) -> String {
        violations_line(&self.violations)
    }

    /// The report record of every action, in plan order.
    pub fn records(&self) -> Vec<ActionRecord> {
        self.plan
            .actions
            .iter()
            .zip(&self.results)
            .map(|(a, r)| a.record(r.outcome, r.detail.as_deref().map(String::from)))
            .collect()
    }

    /// Conflicts no action resolved.
    pub fn conflicts_left(&self) -> usize {
        self.plan.unresolved().count()
    }

    /// Actions that failed or were skipped.
    pub fn not_done(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, ActionOutcome::Failed | ActionOutcome::Skipped))
            .count()
    }

    /// True when both sides are in step (nothing blocked, failed, skipped or left in conflict).
    pub fn clean(&self) -> bool {
        self.blocked.is_none() && self.conflicts_left() == 0 && self.not_done() == 0
    }
}

fn scan_side(
    replica: &dyn Replica,
    side: Side,
    base: &Base,
    written_ns: Option<i64>,
    opts: &SyncOptions,
    progress: Option<std::sync::Arc<driftsync_replica::ScanProgress>>,
) -> Result<driftsync_replica::Scan, EngineError> {
    replica
        .scan(&ScanRequest {
            include: &opts.include,
            exclude: &opts.exclude,
            prior: Some(base.side(side)),
            prior_written_ns: written_ns,
            changes_only: true,
            progress,
        })
        .map_err(|source| EngineError::Replica { side, source })
}

/// What a side holds during the apply: its base side itself when the new
/// base started from the scan, else the scan read against the base side.
fn side_view<'a>(
    from_scan: bool,
    base: &'a driftsync_core::Snapshot,
    scan: &'a driftsync_replica::Scan,
) -> driftsync_core::View<'a> {
    if from_scan {
        driftsync_core::View::whole(base)
    } else {
        scan.view(base)
    }
}

/// Free large listings on a helper thread: with 100,000 files that is tens of
/// milliseconds the caller need not wait for (a process that exits first
/// simply never frees them).
fn drop_later<T: Send + 'static>(value: T) {
    // If no thread can be started, the value is freed right here instead.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// Remove what a killed run may have left in the engine's own files: partial
/// backups and temp files of this state file (named by
/// [`driftsync_replica::local::temp_name`] after it; nothing else beside it
/// is touched). Replica temp files are removed after the scans, by
/// [`Replica::remove_leftovers`]. Called only while holding the lock.
fn remove_leftovers(opts: &SyncOptions) {
    use driftsync_replica::local::{temp_name, temp_pid};
    let dir = opts
        .state_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(file) = opts.state_file.file_name().and_then(|n| n.to_str()) {
        // What the temp names of this state file start with.
        let probe = temp_name(file);
        let prefix = &probe[..probe
            .find(driftsync_replica::local::TEMP_MARKER)
            .unwrap_or(0)];
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = name.starts_with(prefix)
                && name[prefix.len()..].starts_with(driftsync_replica::local::TEMP_MARKER)
                && temp_pid(name).is_some_and(|pid| pid != std::process::id());
            if ours && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let mut stack = vec![opts.work_dir.join("backup")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == backup::PARTIAL) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// The name of the journal and the lease on the remote: the state file's
/// stem (a target's name, or `adhoc-<hex>` for an ad hoc pair).
pub fn record_name(state_file: &Path) -> String {
    state_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into())
}

/// Run one sync of `left` and `right`.
pub fn sync(
    left: &dyn Replica,
    right: &dyn Replica,
    opts: &SyncOptions,
    reporter: &dyn Reporter,
) -> Result<Outcome, EngineError> {
    let now = clock::now_ns();
    let _lock = if opts.dry_run {
        None
    } else {
        let (lock, taken) = lock::Lock::acquire(&opts.work_dir.join("lock"), now)?;
        if let Some(pid) = taken {
            reporter.event(&Event::LockTakenOver { pid });
        }
        remove_leftovers(opts);
        Some(lock)
    };
    // `<UTC stamp>-<pid>`, and `-<n>` for the n-th later run of the same
    // process (a library caller may run several in one second: their
    // backups must not share a directory).
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run_id = match RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
        0 => format!("{}-{}", clock::stamp(now), std::process::id()),
        n => format!("{}-{}-{n}", clock::stamp(now), std::process::id()),
    };
    let name = record_name(&opts.state_file);
    // One run at a time applies to the remote, from wherever it starts.
    let lease = if opts.dry_run {
        None
    } else {
        let lease_name = opts.lease_name.as_deref().unwrap_or(&name);
        match lease::Lease::acquire(right, lease_name, &run_id, opts.lease_ttl)? {
            Some((lease, taken)) => {
                if let Some(h) = taken {
                    reporter.event(&Event::LeaseTakenOver {
                        holder: h.to_string(),
                    });
                }
                Some(lease)
            }
            None => None,
        }
    };
    let result = std::thread::scope(|s| {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        if let Some(l) = &lease {
            s.spawn(move || l.keep_renewed(right, stopped));
        }
        let r = sync_held(left, right, opts, reporter, now, run_id, lease.as_ref());
        drop(stop);
        r
    });
    if let Some(l) = lease {
        l.release(right);
    }
    result
}

/// Changes to each side of the base (left, right), path by path.
type BaseChanges = [Vec<(driftsync_core::RelPath, Option<driftsync_core::Entry>)>; 2];

/// [`sync`] once the lock and the lease are held: scan → reconcile → guard
/// → apply → base, each step a function named as the step is.
fn sync_held(
    left: &dyn Replica,
    right: &dyn Replica,
    opts: &SyncOptions,
    reporter: &dyn Reporter,
    now: i64,
    run_id: String,
    lease: Option<&lease::Lease>,
) -> Result<Outcome, EngineError> {
    let mut journal = journal::Journal::load(right, &record_name(&opts.state_file))
        .map_err(EngineError::Journal)?;
    let prior = State::load(&opts.state_file)?;
    let first_run = prior.is_none();
    let written = prior.as_ref().map(|s| s.written_ns);
    let mut base = prior.map(|s| s.base).unwrap_or_default();

    let [mut l, mut r] = scan(left, right, &base, written, opts, reporter)?;
    let journal_moved_base = replay_journal(&mut journal, &mut base, &mut l, &mut r, reporter);
    let (lv, rv) = (l.view(&base.left), r.view(&base.right));
    report_scanned(reporter, [(Side::Left, &l, lv), (Side::Right, &r, rv)]);

    // Conflicts kept for a person, and the decisions made on them.
    let mut kept = conflicts::Store::load(&opts.work_dir, &record_name(&opts.state_file))?;
    let plan = reconcile(&base, lv, rv, opts, now, &kept);
    let conflict_seen: Vec<_> = plan
        .conflicts
        .iter()
        .map(|c| (lv.get(&c.path).cloned(), rv.get(&c.path).cloned()))
        .collect();

    let violations = guard::check_views(&plan, &base, lv, rv, &opts.limits);
    let (refresh, mut changed) = if opts.refresh_quick_check {
        apply::refresh_unchanged(&base, &plan, lv, rv)
    } else {
        Default::default()
    };
    // A base the journal moved is written even when nothing else changes.
    changed |= journal_moved_base;
    let blocked = guard_blocks(&plan, &violations, opts);
    let mut outcome = new_outcome(plan, violations, blocked, scan_notes(&l, &r), opts);
    if opts.dry_run || outcome.blocked.is_some() {
        return Ok(outcome);
    }

    let backups = backup::Backups::new(&opts.work_dir, &run_id);
    let run = Applying {
        replicas: [left, right],
        opts,
        reporter,
        lease,
        backups: &backups,
    };
    let (deferred, applied) = apply(&run, &mut journal, &mut base, [l, r], refresh, &mut outcome);
    changed |= applied;

    outcome.run_id = run_id;
    outcome.backed_up = backups.count();
    write_base(
        &run,
        &mut journal,
        base,
        deferred,
        first_run || changed,
        &mut outcome,
    )?;
    keep_conflicts(&run, &mut kept, &conflict_seen, &mut outcome)?;
    finish(&run, &mut journal, &mut outcome)?;
    Ok(outcome)
}

/// Scan both sides at once (quick check against the base); outside a dry
/// run, remove what killed runs left and scan a side again where that
/// brought a file back.
fn scan(
    left: &dyn Replica,
    right: &dyn Replica,
    base: &Base,
    written: Option<i64>,
    opts: &SyncOptions,
    reporter: &dyn Reporter,
) -> Result<[driftsync_replica::Scan; 2], EngineError> {
    let counts = [
        std::sync::Arc::new(driftsync_replica::ScanProgress::default()),
        std::sync::Arc::new(driftsync_replica::ScanProgress::default()),
    ];
    reporter.event(&Event::Scanning {
        left: std::sync::Arc::clone(&counts[0]),
        right: std::sync::Arc::clone(&counts[1]),
    });
    let (l, r) = std::thread::scope(|s| {
        let [lc, rc] = counts.clone();
        let l = s.spawn(|| scan_side(left, Side::Left, base, written, opts, Some(lc)));
        let r = scan_side(right, Side::Right, base, written, opts, Some(rc));
        (l.join().expect("scan thread panicked"), r)
    });
    let (mut l, mut r) = (l?, r?);
    if !opts.dry_run {
        // Temp files of killed runs the scans passed over (the lock is
        // held); a side where a file came back from a killed delete is
        // scanned again, so the plan sees it.
        if left.remove_leftovers() > 0 {
            l = scan_side(left, Side::Left, base, written, opts, None)?;
        }
        if right.remove_leftovers() > 0 {
            r = scan_side(right, Side::Right, base, written, opts, None)?;
        }
    }
    Ok([l, r])
}

/// Writes a killed run made to the remote: the journal decides, from what
/// both sides hold now, which of them the base takes. True when the base moved.
fn replay_journal(
    journal: &mut journal::Journal<'_>,
    base: &mut Base,
    l: &mut driftsync_replica::Scan,
    r: &mut driftsync_replica::Scan,
    reporter: &dyn Reporter,
) -> bool {
    if !journal.has_entries() {
        return false;
    }
    let whole = |scan: &driftsync_replica::Scan, prior: &driftsync_core::Snapshot| {
        scan.view(prior)
            .iter()
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect::<driftsync_core::Snapshot>()
    };
    let (ls, rs) = (whole(l, &base.left), whole(r, &base.right));
    let paths = journal.apply_to_base(base, &ls, &rs);
    (l.snapshot, l.unchanged) = (ls, None);
    (r.snapshot, r.unchanged) = (rs, None);
    if paths > 0 {
        reporter.event(&Event::JournalApplied { paths });
    }
    paths > 0
}

/// How many files each side holds, and how many were read.
fn report_scanned(
    reporter: &dyn Reporter,
    sides: [(Side, &driftsync_replica::Scan, driftsync_core::View<'_>); 2],
) {
    for (side, scan, view) in sides {
        reporter.event(&Event::Scanned {
            side,
            files: view.len(),
            hashed: scan.hashed,
        });
    }
}

/// The plan: [`reconcile_views`] with the stamp of this run and the
/// decisions a person made on kept conflicts.
fn reconcile(
    base: &Base,
    lv: driftsync_core::View<'_>,
    rv: driftsync_core::View<'_>,
    opts: &SyncOptions,
    now: i64,
    kept: &conflicts::Store,
) -> Plan {
    let mut plan_opts = opts.plan.clone();
    if plan_opts.stamp.is_empty() {
        plan_opts.stamp = clock::stamp(now);
    }
    plan_opts.decisions.extend(kept.decisions());
    reconcile_views(base, lv, rv, &plan_opts)
}

/// Violations as one line: `a; b`.
fn violations_line(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why nothing is applied, if so: a guard objects (and no `--force`), or
/// there are conflicts under policy `fail`.
fn guard_blocks(plan: &Plan, violations: &[Violation], opts: &SyncOptions) -> Option<String> {
    if !violations.is_empty() && !opts.force {
        Some(format!(
            "refused to apply (use --force to override): {}",
            violations_line(violations)
        ))
    } else if opts.plan.policy == Policy::Fail && !plan.conflicts.is_empty() {
        Some(format!(
            "{} conflict(s) and on_conflict is fail: nothing applied",
            plan.conflicts.len()
        ))
    } else {
        None
    }
}

/// What the scans passed over, by side.
fn scan_notes(l: &driftsync_replica::Scan, r: &driftsync_replica::Scan) -> Vec<(Side, ScanNote)> {
    let mut notes: Vec<(Side, ScanNote)> =
        l.notes.iter().map(|n| (Side::Left, n.clone())).collect();
    notes.extend(r.notes.iter().map(|n| (Side::Right, n.clone())));
    notes
}

/// The outcome of a plan before anything is applied: every action planned.
fn new_outcome(
    plan: Plan,
    violations: Vec<Violation>,
    blocked: Option<String>,
    notes: Vec<(Side, ScanNote)>,
    opts: &SyncOptions,
) -> Outcome {
    Outcome {
        results: vec![
            ActionResult {
                outcome: ActionOutcome::Planned,
                detail: None,
            };
            plan.actions.len()
        ],
        forced: opts.force && !violations.is_empty(),
        plan,
        violations,
        blocked,
        notes,
        backup_dir: None,
        run_id: String::new(),
        backed_up: 0,
        bytes_copied: 0,
        held_back: Vec::new(),
        dry_run: opts.dry_run,
        state_written: false,
        conflicts_dir: None,
        stale_decisions: Vec::new(),
    }
}

/// What the steps from apply on share.
struct Applying<'a> {
    /// Left and right.
    replicas: [&'a dyn Replica; 2],
    opts: &'a SyncOptions,
    reporter: &'a dyn Reporter,
    /// The lease on the remote: once lost, nothing more is written.
    lease: Option<&'a lease::Lease>,
    backups: &'a backup::Backups,
}

/// Apply the plan batch by batch, journalling the remote writes before
/// they happen; each action's result goes into `outcome`. Returns the base
/// changes left for the end (sides whose old base the scans are still
/// read against), and whether any action was applied.
fn apply(
    run: &Applying<'_>,
    journal: &mut journal::Journal<'_>,
    base: &mut Base,
    mut scans: [driftsync_replica::Scan; 2],
    refresh: BaseChanges,
    outcome: &mut Outcome,
) -> (BaseChanges, bool) {
    let mut changed = false;
    {
        let seen = apply::Seen([scans[0].view(&base.left), scans[1].view(&base.right)]);
        let changing = outcome.plan.actions.iter().filter(|a| a.changes_files());
        run.reporter.event(&Event::Planned {
            actions: changing.clone().count(),
            bytes: changing.map(|a| apply::copied_bytes(a, seen)).sum(),
        });
    }
    let applier = apply::Applier {
        replicas: run.replicas,
        backups: run.backups,
        opts: run.opts,
        reporter: run.reporter,
    };
    // The base is advanced in place; it is rewritten only when something in
    // it changed.
    // A side with no base yet (a first sync) takes its scan as the start of
    // its new base, in place of a copy of every entry: paths no action
    // touches are dropped from it (the old base had nothing there), and the
    // actions' results are written into it batch by batch. Other sides'
    // changes wait for the end: until then the scans are read against them.
    let mut from_scan = [false; 2];
    // A side whose base starts empty is written batch by batch (nothing reads
    // an old base there); the others at the end.
    let in_place = [base.left.is_empty(), base.right.is_empty()];
    for (i, side) in [&mut base.left, &mut base.right].into_iter().enumerate() {
        if side.is_empty() && !scans[i].snapshot.is_empty() {
            *side = std::mem::take(&mut scans[i].snapshot);
            let mut acted: Vec<&driftsync_core::RelPath> =
                outcome.plan.actions.iter().map(|a| &a.path).collect();
            acted.sort_unstable();
            side.retain(|p| acted.binary_search(&p).is_ok());
            from_scan[i] = true;
        }
    }
    let mut deferred = refresh;
    // Set when the run must stop writing: every later action is not done.
    let mut halted: Option<String> = None;
    // The remote writes are named ahead in growing windows (the first
    // batch, then as many actions as came before): the journal is rewritten
    // a logarithmic number of times, not once per batch (which made a first
    // sync of 100,000 files write its journal 200 times). An intent whose
    // write never happened does not count when it is replayed.
    let mut intended = 0;
    for (k, batch) in outcome.plan.actions.chunks(apply::BATCH).enumerate() {
        let seen = apply::Seen([
            side_view(from_scan[0], &base.left, &scans[0]),
            side_view(from_scan[1], &base.right, &scans[1]),
        ]);
        if halted.is_none() {
            halted = run.lease.and_then(|l| l.lost());
        }
        let start = k * apply::BATCH;
        if halted.is_none() && start >= intended {
            // Name the remote writes before they happen (a base started
            // from the scan had nothing at any path).
            let base_right = |p: &driftsync_core::RelPath| {
                (!from_scan[1])
                    .then(|| base.right.get(p).map(|e| e.hash))
                    .flatten()
            };
            intended = (start + start.max(apply::BATCH)).min(outcome.plan.actions.len());
            journal.intend(&outcome.plan.actions[start..intended], seen.0, &base_right);
            if let Err(e) = journal.save() {
                halted = Some(format!("not applied: {e}"));
            }
        }
        let results = match &halted {
            Some(why) => batch
                .iter()
                .map(|_| Err(apply::NotDone::Failed(why.clone())))
                .collect(),
            None => applier.run_batch(batch, seen),
        };
        let mut changes = [Vec::new(), Vec::new()];
        for (j, result) in results.into_iter().enumerate() {
            let i = k * apply::BATCH + j;
            let action = &outcome.plan.actions[i];
            outcome.results[i] = apply::result(&result);
            match result {
                Ok(done) => {
                    outcome.bytes_copied += apply::copied_bytes(action, seen);
                    for (path, entry) in done.on_right(action) {
                        journal.done(path, entry);
                    }
                    done.changes(action, &mut changes);
                    changed = true;
                }
                Err(not_done) => {
                    if let apply::NotDone::HeldBack(h) = not_done {
                        outcome.held_back.push(h);
                    }
                    // Not done: a base started from the scan goes back to
                    // what the old base had there, which was nothing.
                    for (side, started) in changes.iter_mut().zip(from_scan) {
                        if started {
                            side.push((action.path.clone(), None));
                        }
                    }
                }
            }
        }
        let [to_left, to_right] = changes;
        if in_place[0] {
            deferred[0].extend(base.left.apply_in_place(to_left));
        } else {
            deferred[0].extend(to_left);
        }
        if in_place[1] {
            deferred[1].extend(base.right.apply_in_place(to_right));
        } else {
            deferred[1].extend(to_right);
        }
    }
    drop(scans);
    (deferred, changed)
}

/// Advance the base by what was applied and write it, atomically, when it
/// changed (or on a first run).
fn write_base(
    run: &Applying<'_>,
    journal: &mut journal::Journal<'_>,
    mut base: Base,
    deferred: BaseChanges,
    write: bool,
    outcome: &mut Outcome,
) -> Result<(), EngineError> {
    let [left, right] = run.replicas;
    if let Err(e) = journal.save() {
        outcome.notes.push((Side::Right, journal_note(e)));
    }
    let [left_rest, right_rest] = deferred;
    base.left.apply(left_rest);
    base.right.apply(right_rest);
    if write {
        let state = State {
            version: state::STATE_VERSION,
            written_ns: clock::now_ns(),
            left: left.location(),
            right: right.location(),
            base,
        };
        state.save(&run.opts.state_file, run.opts.durable)?;
        outcome.state_written = true;
        drop_later(state);
    } else {
        drop_later(base);
    }
    Ok(())
}

/// After the base: record the conflicts left for a person (with both
/// versions), and which decisions no longer applied. Conflicts that cannot
/// be recorded are found again by the next run (their paths' base did not
/// move).
fn keep_conflicts(
    run: &Applying<'_>,
    kept: &mut conflicts::Store,
    conflict_seen: &[(Option<driftsync_core::Entry>, Option<driftsync_core::Entry>)],
    outcome: &mut Outcome,
) -> Result<(), EngineError> {
    let k = kept.keep(
        &outcome.plan,
        &outcome.results,
        conflict_seen,
        run.replicas,
        run.opts.plan.policy,
    );
    kept.save()?;
    outcome
        .notes
        .extend(k.notes.into_iter().map(|n| (Side::Left, n)));
    outcome.stale_decisions = k.stale;
    if !kept.is_empty() {
        outcome.conflicts_dir = Some(kept.dir().to_path_buf());
    }
    Ok(())
}

/// Drop the journal where the state file is the record, and finish the
/// backups' manifest.
fn finish(
    run: &Applying<'_>,
    journal: &mut journal::Journal<'_>,
    outcome: &mut Outcome,
) -> Result<(), EngineError> {
    let [left, right] = run.replicas;
    // The state file now records every journalled write; an ad hoc sync's
    // state file is its record, a target's is safe once committed.
    if !run.opts.keep_journal {
        if let Err(e) = journal.clear() {
            outcome.notes.push((Side::Right, journal_note(e)));
        }
    }
    // After the base: a manifest that cannot be written costs the ad hoc
    // restore its locations, never the sync its state.
    run.backups
        .finish(left.location(), right.location(), &run.opts.state_file)?;
    if run.backups.dir().exists() {
        outcome.backup_dir = Some(run.backups.dir().to_path_buf());
    }
    Ok(())
}

/// A note about the journal, shown with the scan notes.
fn journal_note(detail: String) -> ScanNote {
    ScanNote {
        path: ".driftsync/journal".into(),
        reason: detail,
    }
}

/// The lease name of an ad hoc pair: `adhoc-<16 hex digits>` of both locations.
pub fn adhoc_name(left: &str, right: &str) -> String {
    let h = driftsync_core::Hash::of(format!("{left}\n{right}").as_bytes());
    format!("adhoc-{}", &h.to_hex()[..16])
}

/// The default state file for an ad hoc sync of two locations:
/// `<work>/state/adhoc-<first 16 hex digits of SHA-256("left\nright")>.json`.
pub fn adhoc_state_file(work_dir: &Path, left: &str, right: &str) -> PathBuf {
    work_dir
        .join("state")
        .join(format!("{}.json", adhoc_name(left, right)))
}
