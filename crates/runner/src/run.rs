//! A whole run: gates → targets → verification → gates → commit → report.

use std::time::{Instant, SystemTime};

use driftsync_config::{Config, Direction, Target};
use driftsync_core::report::{GateResult, Report, TargetReport, TargetStatus};

use crate::events::{Event, Events};
use crate::executor::{new_report, ExecError, Executors, RunContext};
use crate::gates;
use crate::mask::Masker;

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `run`, `check`…, recorded in the report.
    pub command: String,
    /// Change nothing.
    pub dry_run: bool,
    /// Report drift instead of changing things; commit nothing.
    pub check: bool,
    /// Run verification after each target.
    pub verify: bool,
    /// Override safety checks and push idempotence.
    pub force: bool,
    /// Stop at the first failed target.
    pub fail_fast: bool,
    /// In CI.
    pub ci: bool,
    /// Commit pull outputs after a good run.
    pub commit: bool,
    /// Running in GitHub Actions (commit author is the Actions bot).
    pub github_actions: bool,
}

/// Run the selected `targets` of `config`.
pub fn run(
    config: &Config,
    targets: &[&Target],
    executors: &Executors,
    opts: &RunOptions,
    masker: &Masker,
    events: &dyn Events,
) -> Report {
    let started = Instant::now();
    let dry_run = opts.dry_run || config.defaults.dry_run;
    let ctx = RunContext {
        repo_root: &config.root,
        config,
        dry_run,
        force: opts.force,
        check: opts.check,
        ci: opts.ci,
        masker,
        events,
    };
    let mut report = Report {
        timestamp: crate::time::rfc3339(SystemTime::now()),
        command: opts.command.clone(),
        total_targets: targets.len(),
        successful: 0,
        failed: 0,
        total_duration: 0.0,
        dry_run,
        forced: opts.force,
        gates: Vec::new(),
        targets: Vec::new(),
        commit: None,
        exit_code: 0,
    };
    let only = |d: Direction| !targets.is_empty() && targets.iter().all(|t| t.direction == d);
    let (all_pull, all_push) = (only(Direction::Pull), only(Direction::Push));
    let wanted = |c: &driftsync_config::Check| {
        !((c.skip_on_pull && all_pull) || (c.skip_on_push && all_push))
    };
    let mut environment_error = false;

    // Pre-sync gates: a failure stops the run before any target.
    for c in config.safety.pre_sync_checks.iter().filter(|c| wanted(c)) {
        report.gates.push(gates::run_check(c, "pre_sync", &ctx));
    }
    let pre_ok = report.gates.iter().all(|g| g.passed);
    let mut stop = !pre_ok;
    if !pre_ok {
        events.event(Event::Note("a pre-sync check failed: no target was run"));
    }

    for t in targets {
        if stop {
            let mut r = new_report(t);
            r.status = TargetStatus::Skipped;
            r.success = false;
            r.message = if pre_ok {
                "not run: an earlier target failed (--fail-fast)".into()
            } else {
                "not run: a pre-sync check failed".into()
            };
            events.event(Event::TargetFinished(&r));
            report.targets.push(r);
            continue;
        }
        events.event(Event::TargetStarted {
            name: &t.name,
            kind: t.type_name(),
            direction: t.direction.as_str(),
        });
        let t0 = Instant::now();
        let mut r = match executors.get(t.type_name()) {
            None => {
                environment_error = true;
                failed(
                    t,
                    format!(
                        "no executor for targets of type `{}` in this build",
                        t.type_name()
                    ),
                )
            }
            Some(ex) => match ex.execute(t, &ctx) {
                Ok(r) => r,
                Err(ExecError::Environment(m)) => {
                    environment_error = true;
                    failed(t, masker.mask(&m))
                }
                Err(ExecError::Failed(m)) => failed(t, masker.mask(&m)),
            },
        };
        finish_target(t, &mut r, &ctx, opts);
        r.duration = t0.elapsed().as_secs_f64();
        events.event(Event::TargetFinished(&r));
        if r.status == TargetStatus::Failed && opts.fail_fast {
            stop = true;
        }
        report.targets.push(r);
    }

    if pre_ok {
        for c in config.safety.post_sync_checks.iter().filter(|c| wanted(c)) {
            report.gates.push(gates::run_check(c, "post_sync", &ctx));
        }
        for g in &config.safety.drift_gates {
            report.gates.push(gates::run_drift_gate(g, &ctx));
        }
    }
    let gates_ok = report.gates.iter().all(|g| g.passed);

    if gates_ok && opts.commit && !dry_run && !opts.check {
        match commit(config, targets, &report.targets, opts) {
            Ok(Some((id, msg))) => {
                events.event(Event::Note(&msg));
                report.commit = Some(id);
            }
            Ok(None) => {}
            Err(e) => {
                environment_error = true;
                report.gates.push(GateResult {
                    name: "git commit".into(),
                    phase: "commit".into(),
                    passed: false,
                    message: e.to_string(),
                    findings: Vec::new(),
                });
            }
        }
    }

    report.successful = report.targets.iter().filter(|t| t.success).count();
    report.failed = report.targets.iter().filter(|t| !t.success).count();
    report.total_duration = started.elapsed().as_secs_f64();
    report.exit_code = if environment_error {
        2
    } else if report.failed > 0 || report.gates.iter().any(|g| !g.passed) {
        1
    } else {
        0
    };
    report
}

fn failed(t: &Target, message: String) -> TargetReport {
    let mut r = new_report(t);
    r.status = TargetStatus::Failed;
    r.success = false;
    r.message = message;
    r
}

/// Outputs against HEAD, drift under check/fail_on_diff, verification.
fn finish_target(t: &Target, r: &mut TargetReport, ctx: &RunContext<'_>, opts: &RunOptions) {
    if r.status == TargetStatus::Failed || r.status == TargetStatus::Skipped {
        return;
    }
    if !t.outputs.is_empty() {
        let changed = driftsync_git::Repo::open(ctx.repo_root)
            .and_then(|repo| repo.changed_since_head(&|p| t.outputs.is_match(p)));
        match changed {
            Ok(changed) => {
                if (opts.check || t.fail_on_diff) && !changed.is_empty() {
                    r.status = TargetStatus::Drift;
                    r.success = false;
                    r.message = format!("{} output file(s) differ from HEAD", changed.len());
                    r.drifted = changed.clone();
                }
                r.outputs_created = changed;
            }
            Err(e) => {
                r.status = TargetStatus::Failed;
                r.success = false;
                r.message = format!("cannot compare outputs with HEAD: {e}");
            }
        }
    }
    if opts.verify {
        if let Some(v) = &t.verification {
            let res = crate::verify::verify(v, &format!("{} (verify)", t.name), ctx);
            r.verification_passed = Some(res.passed);
            if !res.passed {
                r.status = TargetStatus::Failed;
                r.success = false;
                r.message = format!("{}; verification failed: {}", r.message, res.message);
            }
            r.verification = Some(res);
        }
    }
}

/// Commit the outputs of the targets that succeeded, plus changed state files.
fn commit(
    config: &Config,
    targets: &[&Target],
    reports: &[TargetReport],
    opts: &RunOptions,
) -> Result<Option<(String, String)>, driftsync_git::GitError> {
    let repo = driftsync_git::Repo::open(&config.root)?;
    let mut paths = Vec::new();
    let mut names = Vec::new();
    for (t, r) in targets.iter().zip(reports) {
        if r.status != TargetStatus::Ok
            || !t.git_commit
            || t.fail_on_diff
            || t.direction == Direction::Push
        {
            continue;
        }
        if !r.outputs_created.is_empty() {
            names.push(t.name.as_str());
            paths.extend(r.outputs_created.iter().cloned());
        }
    }
    let state = repo.changed_since_head(&|p| p.starts_with(".driftsync/state/"))?;
    if !state.is_empty() && names.is_empty() {
        names.extend(
            reports
                .iter()
                .filter(|r| r.status == TargetStatus::Ok)
                .map(|r| r.target.as_str()),
        );
    }
    paths.extend(state);
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return Ok(None);
    }
    let message = format!(
        "driftsync: sync {}\n\n{} file(s) updated by `driftsync {}`.\n",
        names.join(", "),
        paths.len(),
        opts.command
    );
    let author = repo.author(opts.github_actions);
    Ok(repo.commit_paths(&paths, &message, &author)?.map(|id| {
        let note = format!(
            "committed {} ({} file(s)): {}",
            &id[..12],
            paths.len(),
            names.join(", ")
        );
        (id, note)
    }))
}
