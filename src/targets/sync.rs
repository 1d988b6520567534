//! `type: sync` targets: the runner hands a target here; the engine syncs
//! `local` (left) with `remote` (right), base in `.driftsync/state/<target>.json`.
//!
//! A target and `driftsync sync LEFT RIGHT` fill the same
//! [`SyncSpec`](driftsync_config::SyncSpec); [`engine_options`] and
//! [`open_options`] turn it into what the engine and the replicas take, for
//! both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use driftsync_config::{SyncSpec, Target, TargetKind};
use driftsync_core::report::{Finding, Severity, TargetStatus};
use driftsync_engine::{sync, SyncOptions};
use driftsync_replica::local::LocalReplica;
use driftsync_runner::{new_report, ExecError, RunContext, TargetExecutor};

use crate::render::sync as render;
use crate::replicas::{open_replica, OpenOptions};

/// The engine's directory (lock, backups, state) of an ad hoc sync,
/// relative to where the command runs; a target's is under the repository root.
pub const WORK_DIR: &str = ".driftsync";

/// Where a sync keeps its base: decides the engine's settings that no
/// user gives.
pub enum Keeping<'a> {
    /// `driftsync sync LEFT RIGHT`: the state file is the record (the
    /// journal goes once it is written); the lease on the remote is named
    /// after both locations.
    AdHoc {
        /// The state file (`--state`, or one named after both locations).
        state_file: PathBuf,
        /// The lease's name on the remote.
        lease_name: String,
    },
    /// A `type: sync` target: the base is `.driftsync/state/<name>.json`
    /// under the repository root, committed with the repository.
    Target {
        /// The repository root.
        repo_root: &'a Path,
        /// The target's name.
        name: &'a str,
        /// `DRIFTSYNC_LEASE_TTL`, when set.
        lease_ttl: Option<Duration>,
    },
}

/// What the engine needs for a sync of `spec` keeping its base as `keeping` says.
pub fn engine_options(spec: &SyncSpec, keeping: Keeping<'_>) -> SyncOptions {
    let mut opts = match &keeping {
        Keeping::AdHoc { state_file, .. } => {
            SyncOptions::new(state_file.clone(), PathBuf::from(WORK_DIR))
        }
        Keeping::Target {
            repo_root, name, ..
        } => {
            let work = repo_root.join(WORK_DIR);
            SyncOptions::new(work.join("state").join(format!("{name}.json")), work)
        }
    };
    opts.plan.direction = spec.direction;
    opts.plan.policy = spec.on_conflict;
    opts.plan.delete_orphans = spec.delete_orphans;
    opts.limits.max_delete = spec.max_delete;
    opts.force = spec.force;
    opts.dry_run = spec.dry_run;
    opts.concurrency = spec.concurrency.max(1);
    opts.retries = spec.retries;
    opts.retry_delay_ms = u64::try_from(spec.retry_delay.as_millis()).unwrap_or(u64::MAX);
    opts.include = spec.include.clone();
    opts.exclude = spec.exclude.clone();
    opts.check = crate::content_check::FormatCheck::for_kinds(&spec.validate);
    opts.backup = spec.backup;
    match keeping {
        Keeping::AdHoc { lease_name, .. } => opts.lease_name = Some(lease_name),
        Keeping::Target { lease_ttl, .. } => {
            // The base is safe once committed and pushed: the runner says so
            // (`committed`), and only then does the journal go.
            opts.keep_journal = true;
            // The base is committed: quick-check data alone (new in every
            // fresh clone) does not rewrite it.
            opts.refresh_quick_check = false;
            if let Some(ttl) = lease_ttl {
                opts.lease_ttl = ttl;
            }
        }
    }
    opts
}

/// How the replicas of a sync of `spec` are opened; `root` is what a
/// relative SQLite path is relative to (`None`: the current directory).
pub fn open_options(spec: &SyncSpec, root: Option<PathBuf>) -> OpenOptions {
    OpenOptions {
        gitignore: spec.gitignore,
        retries: Some(spec.retries as usize),
        root,
        backup_prefix: spec.backup_prefix.clone(),
        request_timeout: spec.request_timeout,
        dry_run: spec.dry_run,
    }
}

/// The two sides of a sync target: `local` (left) under `repo_root`, and
/// `remote` (right), opened as `spec` says.
pub fn open_sides(
    t: &driftsync_config::SyncTarget,
    spec: &SyncSpec,
    repo_root: &std::path::Path,
) -> anyhow::Result<(
    Box<dyn driftsync_replica::Replica>,
    Box<dyn driftsync_replica::Replica>,
)> {
    let left =
        LocalReplica::new(repo_root.join(t.local.as_str())).respect_gitignore(spec.gitignore);
    // A relative remote directory (or `file:` bucket) is relative to the
    // repository root, like every path in the file.
    let remote = match driftsync_core::Location::parse(&t.remote) {
        Ok(location) => location.under(repo_root).to_string(),
        Err(_) => t.remote.clone(),
    };
    let right = open_replica(&remote, &open_options(spec, Some(repo_root.to_path_buf())))?;
    Ok((Box::new(left), right))
}

/// Runs `type: sync` targets on the engine.
pub struct SyncExecutor {
    /// One line per file (`-v`) besides the summary.
    pub verbose: bool,
    /// Progress bars on stderr (a terminal, not CI, not `--json`).
    pub bars: bool,
}

impl TargetExecutor for SyncExecutor {
    fn execute(
        &self,
        target: &Target,
        ctx: &RunContext<'_>,
    ) -> Result<driftsync_core::report::TargetReport, ExecError> {
        let TargetKind::Sync(t) = &target.kind else {
            return Err(ExecError::Environment(format!(
                "`{}` is not a sync target",
                target.name
            )));
        };
        let mask = |s: String| ctx.masker.mask(&s);
        let spec = SyncSpec::of_target(
            target,
            t,
            &ctx.config.defaults,
            ctx.force,
            ctx.dry_run || ctx.check,
        );
        let (left, right) = open_sides(t, &spec, ctx.repo_root)
            .map_err(|e| ExecError::Environment(mask(format!("{}: {e:#}", target.name))))?;
        let lease_ttl = lease_ttl_override().map_err(ExecError::Environment)?;
        let opts = engine_options(
            &spec,
            Keeping::Target {
                repo_root: ctx.repo_root,
                name: &target.name,
                lease_ttl,
            },
        );
        let mut progress = render::Progress::new(
            self.bars && !ctx.ci,
            render::Notes::Keep(Default::default()),
        );
        let started = std::time::Instant::now();
        let result = sync(&*left, &*right, &opts, &progress);
        progress.finish();
        for note in progress.take_notes() {
            ctx.events
                .event(driftsync_runner::Event::Note(&mask(format!(
                    "{}: {note}",
                    target.name
                ))));
        }
        let out = result.map_err(|e| {
            let msg = mask(format!("{}: {e}", target.name));
            match crate::exit::Exit::of_engine(&e) {
                crate::exit::Exit::Drift => ExecError::Failed(msg),
                _ => ExecError::Environment(msg),
            }
        })?;
        // The summary (inside the target's log group in CI), and what it
        // never hides; with `-v` one line per file.
        // `check` lists the drifted paths in the run's summary already.
        let lines = if ctx.check && !self.verbose {
            Vec::new()
        } else {
            render::lines(&out, self.verbose)
        };
        for line in lines
            .into_iter()
            .chain([render::counts_line(&out, started.elapsed())])
        {
            ctx.events.event(driftsync_runner::Event::Output {
                source: &target.name,
                line: &mask(line),
            });
        }
        let mut report = new_report(target);
        report.actions = out.records();
        report.conflicts = out.plan.conflicts.iter().map(|c| c.record()).collect();
        report.findings = findings(&out, t, &*right, ctx);
        if ctx.check {
            check_drift(&mut report, &out);
            return Ok(report);
        }
        outcome_message(&mut report, &out, target);
        let changed = crate::after::changed_lines(&out);
        if !t.after.is_empty() && !out.dry_run && !changed.is_empty() {
            crate::after::run(&t.after, &changed, &mut report, target.timeout, ctx).map_err(
                |e| {
                    ExecError::Environment(format!(
                        "cannot start the after commands of `{}`: {e}",
                        target.name
                    ))
                },
            )?;
        }
        Ok(report)
    }

    fn committed(&self, target: &Target, ctx: &RunContext<'_>) {
        let TargetKind::Sync(t) = &target.kind else {
            return;
        };
        // Only a base that HEAD holds as it is on disk records the journal's writes.
        let state = driftsync_runner::sync_state_file(&target.name);
        let clean = driftsync_git::Repo::open(ctx.repo_root)
            .and_then(|repo| repo.changed_since_head(&|p: &str| p == state))
            .is_ok_and(|dirty| dirty.is_empty());
        if !clean {
            return;
        }
        let spec = SyncSpec::of_target(target, t, &ctx.config.defaults, false, false);
        let note = match open_sides(t, &spec, ctx.repo_root) {
            Ok((_, right)) => driftsync_engine::journal::clear(&*right, &target.name).err(),
            Err(e) => Some(format!("{e:#}")),
        };
        if let Some(e) = note {
            let msg = ctx.masker.mask(&format!(
                "{}: the journal of remote writes stays (harmless; the next run drops it): {e}",
                target.name
            ));
            ctx.events.event(driftsync_runner::Event::Note(&msg));
        }
    }
}

/// What a sync target's report lists besides actions and conflicts: paths
/// the scans passed over, decisions that no longer applied, and files held
/// back by `validate:`.
fn findings(
    out: &driftsync_engine::Outcome,
    t: &driftsync_config::SyncTarget,
    right: &dyn driftsync_replica::Replica,
    ctx: &RunContext<'_>,
) -> Vec<Finding> {
    let mask = |s: String| ctx.masker.mask(&s);
    let mut findings: Vec<Finding> = out
        .notes
        .iter()
        .map(|(side, n)| Finding {
            code: "sync-path-skipped".into(),
            severity: Severity::Info,
            message: mask(format!("{side}: {}: {}", n.path, n.reason)),
            file: None,
            line: None,
            column: None,
        })
        .collect();
    findings.extend(out.stale_decisions.iter().map(|p| Finding {
        code: "conflict-decision-stale".into(),
        severity: Severity::Medium,
        message: mask(format!(
            "{}/{p}: changed after the conflict was decided; the decision was not applied and the conflict is open again",
            t.local.as_str().trim_end_matches('/')
        )),
        file: None,
        line: None,
        column: None,
    }));
    findings.extend(out.held_back.iter().map(|h| held_back_finding(h, t, right)));
    findings
}

/// Actions that change files (planned, or applied).
fn pending(out: &driftsync_engine::Outcome) -> usize {
    out.plan
        .actions
        .iter()
        .filter(|a| a.changes_files())
        .count()
}

/// `check`: every path an action would change or a conflict holds is
/// drift; nothing was changed.
fn check_drift(report: &mut driftsync_core::report::TargetReport, out: &driftsync_engine::Outcome) {
    let pending = pending(out);
    report.drifted = out
        .plan
        .actions
        .iter()
        .filter(|a| a.changes_files())
        .map(|a| a.path.to_string())
        .chain(out.plan.conflicts.iter().map(|c| c.path.to_string()))
        .collect();
    if !report.drifted.is_empty() {
        report.status = TargetStatus::Drift;
    }
    report.message = format!(
        "{pending} action(s), {} conflict(s) pending",
        out.plan.conflicts.len()
    );
}

/// A run's status and message: blocked, actions not done, conflicts left,
/// or what was applied (planned, in a dry run); forcing and backups said.
fn outcome_message(
    report: &mut driftsync_core::report::TargetReport,
    out: &driftsync_engine::Outcome,
    target: &Target,
) {
    let pending = pending(out);
    if let Some(why) = &out.blocked {
        report.status = TargetStatus::Failed;
        report.message = why.clone();
    } else if out.not_done() > 0 {
        report.status = TargetStatus::Failed;
        report.message = format!("{} action(s) failed or skipped", out.not_done());
        for f in report.findings.iter().filter(|f| f.code == "invalid-file") {
            report.message.push_str("; ");
            report.message.push_str(&f.message);
        }
    } else if out.conflicts_left() > 0 {
        report.status = TargetStatus::Drift;
        report.message = format!("{} conflict(s) left unresolved", out.conflicts_left());
        if out.conflicts_dir.is_some() {
            report.message.push_str(&format!(
                "; both versions kept in {} for review: driftsync conflicts list, then driftsync conflicts resolve PATH --keep local|remote|both --target {}",
                driftsync_runner::sync_conflicts_dir(&target.name),
                target.name
            ));
        }
    } else {
        report.message = if out.dry_run {
            format!("dry run: {pending} action(s) planned")
        } else {
            format!("{pending} action(s) applied")
        };
    }
    if out.forced {
        report
            .message
            .push_str(&format!(" (forced despite: {})", out.violations_line()));
    }
    if out.backed_up > 0 {
        report.message.push_str(&format!(
            "; run {}: {} file(s) backed up (driftsync restore {} --target {})",
            out.run_id, out.backed_up, out.run_id, target.name
        ));
    }
}

/// `DRIFTSYNC_LEASE_TTL` (a duration such as `30s`): how long a remote's
/// lease lasts between renewals (default 2 minutes). A value that is not a
/// duration is an error naming the variable, not a silent default.
pub fn lease_ttl_override() -> Result<Option<std::time::Duration>, String> {
    let name = crate::env::DRIFTSYNC_LEASE_TTL;
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => driftsync_config::duration::parse_duration(&v)
            .map(Some)
            .map_err(|e| format!("{name}: {e}")),
        _ => Ok(None),
    }
}

/// A file held back by `validate:`, as a finding at file:line (repository
/// path for the local side, the remote's location for the other).
fn held_back_finding(
    h: &driftsync_engine::HeldBack,
    t: &driftsync_config::SyncTarget,
    right: &dyn driftsync_replica::Replica,
) -> Finding {
    let (file, shown) = match h.side {
        driftsync_core::Side::Left => {
            let f = format!("{}/{}", t.local, h.path);
            (Some(f.clone()), f)
        }
        driftsync_core::Side::Right => (None, format!("{}{}", right.location(), h.path)),
    };
    let at = match (h.invalid.line, h.invalid.column) {
        (Some(l), Some(c)) => format!("{shown}:{l}:{c}"),
        (Some(l), None) => format!("{shown}:{l}"),
        _ => shown,
    };
    Finding {
        code: "invalid-file".into(),
        severity: Severity::High,
        message: format!(
            "{at}: does not parse: {}; held back, not propagated",
            h.invalid.message
        ),
        file,
        line: h.invalid.line,
        column: h.invalid.column,
    }
}
