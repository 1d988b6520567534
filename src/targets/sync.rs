//! `type: sync` targets: the runner hands a target here; the engine syncs
//! `local` (left) with `remote` (right), base in `.driftsync/state/<target>.json`.

use driftsync_config::{Target, TargetKind};
use driftsync_core::report::{Finding, Severity, TargetStatus};
use driftsync_engine::{sync, SyncOptions};
use driftsync_replica::local::LocalReplica;
use driftsync_runner::{new_report, ExecError, RunContext, TargetExecutor};

use crate::render::sync as render;
use crate::replicas::{open_replica, OpenOptions};

/// The two sides of a sync target: `local` (left) under `repo_root`, and
/// `remote` (right); `dry_run` opens them without creating anything.
pub fn open_sides(
    t: &driftsync_config::SyncTarget,
    repo_root: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<(
    Box<dyn driftsync_replica::Replica>,
    Box<dyn driftsync_replica::Replica>,
)> {
    let left = LocalReplica::new(repo_root.join(t.local.as_str())).respect_gitignore(t.gitignore);
    // A relative remote directory (or `file:` bucket) is relative to the
    // repository root, like every path in the file.
    let remote = match t.remote.strip_prefix("file:") {
        Some(rel) if !rel.starts_with('/') => format!("file:{}", repo_root.join(rel).display()),
        _ if !t.remote.contains(':') && !t.remote.starts_with('/') => {
            repo_root.join(&t.remote).display().to_string()
        }
        _ => t.remote.clone(),
    };
    let right = open_replica(
        &remote,
        &OpenOptions {
            gitignore: t.gitignore,
            retries: Some(t.retries as usize),
            root: Some(repo_root.to_path_buf()),
            backup_prefix: t.backup_prefix.clone(),
            request_timeout: t.request_timeout,
            dry_run,
        },
    )?;
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
        let (left, right) = open_sides(t, ctx.repo_root, ctx.dry_run || ctx.check)
            .map_err(|e| ExecError::Environment(mask(format!("{}: {e:#}", target.name))))?;
        let work = ctx.repo_root.join(".driftsync");
        let mut opts = SyncOptions::new(
            work.join("state").join(format!("{}.json", target.name)),
            work,
        );
        opts.plan.direction = target.direction;
        opts.plan.policy = t.on_conflict.unwrap_or(ctx.config.defaults.on_conflict);
        opts.plan.delete_orphans = t.delete_orphans;
        opts.limits.max_delete = t.max_delete;
        opts.force = ctx.force;
        opts.dry_run = ctx.dry_run || ctx.check;
        opts.concurrency = t.concurrency;
        opts.retries = t.retries;
        opts.retry_delay_ms = u64::try_from(t.retry_delay.as_millis()).unwrap_or(u64::MAX);
        opts.include = t.include.clone();
        opts.exclude = t.exclude.clone();
        opts.check = crate::content_check::FormatCheck::for_kinds(&t.validate);
        // The base is safe once committed and pushed: the runner says so
        // (`committed`), and only then does the journal go.
        opts.keep_journal = true;
        // The base is committed: quick-check data alone (new in every
        // fresh clone) does not rewrite it.
        opts.refresh_quick_check = false;
        if let Some(ttl) = lease_ttl_override().map_err(ExecError::Environment)? {
            opts.lease_ttl = ttl;
        }
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
        report.findings = out
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
        report.findings.extend(out.stale_decisions.iter().map(|p| Finding {
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
        report.findings.extend(
            out.held_back
                .iter()
                .map(|h| held_back_finding(h, t, &*right)),
        );
        let pending = out
            .plan
            .actions
            .iter()
            .filter(|a| a.changes_files())
            .count();
        if ctx.check {
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
                report.success = false;
            }
            report.message = format!(
                "{pending} action(s), {} conflict(s) pending",
                out.plan.conflicts.len()
            );
            return Ok(report);
        }
        if let Some(why) = &out.blocked {
            report.status = TargetStatus::Failed;
            report.success = false;
            report.message = why.clone();
        } else if out.not_done() > 0 {
            report.status = TargetStatus::Failed;
            report.success = false;
            report.message = format!("{} action(s) failed or skipped", out.not_done());
            for f in report.findings.iter().filter(|f| f.code == "invalid-file") {
                report.message.push_str("; ");
                report.message.push_str(&f.message);
            }
        } else if out.conflicts_left() > 0 {
            report.status = TargetStatus::Drift;
            report.success = false;
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
            report.message.push_str(&format!(
                " (forced despite: {})",
                out.violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        if out.backed_up > 0 {
            report.message.push_str(&format!(
                "; run {}: {} file(s) backed up (driftsync restore {} --target {})",
                out.run_id, out.backed_up, out.run_id, target.name
            ));
        }
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
        let note = match open_sides(t, ctx.repo_root, false) {
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
