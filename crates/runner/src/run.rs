//! A whole run: gates → targets → verification → gates → commit → push → report.

use std::time::{Instant, SystemTime};

use driftsync_config::{Config, Direction, Target, TargetKind};
use driftsync_core::redact::{redact_url, Secret};
use driftsync_core::report::{
    DryRunMode, GatePhase, GateResult, PushRecord, Report, TargetReport, TargetStatus,
};

use crate::events::{Event, Events};
use crate::executor::{new_report, ExecError, Executors, RunContext};
use crate::gates;
use crate::mask::Masker;

/// Whether two versions of a sync target's base describe the same result.
pub type SameBase = fn(&[u8], &[u8]) -> bool;

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
    /// Running in GitHub Actions (commit author is the Actions bot; the
    /// commit is pushed by default when a token is given).
    pub github_actions: bool,
    /// Push the commit: `Some(true)` (`--push`), `Some(false)` (`--no-push`),
    /// `None` as `defaults.git_push` says (unset: in GitHub Actions with a token).
    pub push: Option<bool>,
    /// Token for pushing over HTTPS (sent as `x-access-token`).
    pub git_token: Option<Secret>,
    /// Re-run a failed target up to this many times when it is idempotent
    /// (`run --retry N`).
    pub retries: u32,
    /// `run --pull-request`: commit to this branch (created from HEAD; the
    /// checkout's own branch is not moved) and push it to `origin` (or the
    /// current branch's remote) instead of pushing the checkout's branch.
    pub proposal_branch: Option<String>,
    /// Whether two versions of a sync target's base describe the same result
    /// (the engine's `State::same_result`). With it, a pull-request branch
    /// whose only difference from this run's is in such bases (mtimes of a
    /// fresh checkout, when they were written) is left as it is.
    pub same_base: Option<SameBase>,
}

/// When the run's commit is pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushPolicy {
    /// Never.
    Never,
    /// When the checkout is on a branch with a remote; otherwise a note says why not.
    IfPossible,
    /// Always; nowhere to push is an error.
    Always,
}

impl RunOptions {
    /// What `push`, `defaults.git_push` and the environment decide. Dry runs,
    /// checks and `--no-commit` never push.
    pub fn push_policy(&self, config: &Config) -> PushPolicy {
        if self.dry_run || config.defaults.dry_run || self.check || !self.commit {
            return PushPolicy::Never;
        }
        if self.proposal_branch.is_some() {
            // The proposal branch is always pushed, by its own step.
            return PushPolicy::Always;
        }
        match self.push.or(config.defaults.git_push) {
            Some(true) => PushPolicy::Always,
            Some(false) => PushPolicy::Never,
            None if self.github_actions && self.git_token.is_some() => PushPolicy::IfPossible,
            None => PushPolicy::Never,
        }
    }
}

/// Run the selected `targets` of `config`: pre-sync gates → targets (each
/// verified) → post-sync and drift gates → commit → push → report. Each
/// step is a function of its own, named as the step is.
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
    let mut report = new_run_report(targets, opts, dry_run);
    let only = |d: Direction| !targets.is_empty() && targets.iter().all(|t| t.direction == d);
    let (all_pull, all_push) = (only(Direction::Pull), only(Direction::Push));
    let wanted = |c: &driftsync_config::Check| {
        !((c.skip_on_pull && all_pull) || (c.skip_on_push && all_push))
    };
    let mut environment_error = false;

    let pre_ok = pre_sync_gates(config, &ctx, &wanted, &mut report);
    environment_error |= run_targets(targets, executors, &ctx, opts, pre_ok, &mut report);
    if pre_ok {
        report.gates.extend(post_gates(config, &ctx, &wanted));
    }
    environment_error |= commit_step(config, targets, &ctx, opts, &mut report);
    environment_error |= push_step(config, targets, executors, &ctx, opts, &wanted, &mut report);
    release_after_commit(targets, executors, &ctx, opts, &report);
    finish_report(&mut report, started, environment_error);
    report
}

/// The report of a run before anything ran.
fn new_run_report(targets: &[&Target], opts: &RunOptions, dry_run: bool) -> Report {
    Report {
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
        push: None,
        exit_code: 0,
    }
}

/// Pre-sync gates: a failure stops the run before any target. True when
/// they all passed.
fn pre_sync_gates(
    config: &Config,
    ctx: &RunContext<'_>,
    wanted: &dyn Fn(&driftsync_config::Check) -> bool,
    report: &mut Report,
) -> bool {
    for c in config.safety.pre_sync_checks.iter().filter(|c| wanted(c)) {
        report
            .gates
            .push(gates::run_check(c, GatePhase::PreSync, ctx));
    }
    let pre_ok = report.gates.iter().all(|g| g.passed);
    if !pre_ok {
        ctx.events
            .event(Event::Note("a pre-sync check failed: no target was run"));
    }
    pre_ok
}

/// Each target in turn (verified, its outputs compared); after a failed
/// pre-sync gate, or a failure under `--fail-fast`, the rest are skipped.
/// True when one could not run for a setup reason.
fn run_targets(
    targets: &[&Target],
    executors: &Executors,
    ctx: &RunContext<'_>,
    opts: &RunOptions,
    pre_ok: bool,
    report: &mut Report,
) -> bool {
    let mut environment_error = false;
    let mut stop = !pre_ok;
    for t in targets {
        if stop {
            let mut r = new_report(t);
            r.status = TargetStatus::NotRun;
            r.message = if pre_ok {
                "not run: an earlier target failed (--fail-fast)".into()
            } else {
                "not run: a pre-sync check failed".into()
            };
            ctx.events.event(Event::TargetFinished(&r));
            report.targets.push(r);
            continue;
        }
        let (r, env_error) = run_with_retries(t, executors, ctx, opts);
        environment_error |= env_error;
        if r.status == TargetStatus::Failed && opts.fail_fast {
            stop = true;
        }
        report.targets.push(r);
    }
    environment_error
}

/// Commit the outputs (and state) after a good run, when committing is
/// on. True when the commit failed (a failed `git commit` gate).
fn commit_step(
    config: &Config,
    targets: &[&Target],
    ctx: &RunContext<'_>,
    opts: &RunOptions,
    report: &mut Report,
) -> bool {
    let gates_ok = report.gates.iter().all(|g| g.passed);
    let wanted = gates_ok && opts.commit && !ctx.dry_run && !opts.check;
    if !wanted {
        return false;
    }
    match commit(config, targets, &report.targets, opts) {
        Ok(Some((id, msg))) => {
            ctx.events.event(Event::Note(&msg));
            report.commit = Some(id);
            false
        }
        Ok(None) => false,
        Err(e) => {
            let gate = GateResult {
                name: "git commit".into(),
                phase: GatePhase::Commit,
                passed: false,
                message: ctx.masker.mask(&e.to_string()),
                findings: Vec::new(),
                dry_run_mode: None,
            };
            ctx.events.event(Event::GateFinished(&gate));
            report.gates.push(gate);
            true
        }
    }
}

/// Push the run's commit as the push policy says: the proposal branch of
/// `run --pull-request`, or the checkout's branch ([`PushStep::push`]).
/// True when the push failed for a setup reason.
fn push_step(
    config: &Config,
    targets: &[&Target],
    executors: &Executors,
    ctx: &RunContext<'_>,
    opts: &RunOptions,
    wanted: &dyn Fn(&driftsync_config::Check) -> bool,
    report: &mut Report,
) -> bool {
    let (masker, events) = (ctx.masker, ctx.events);
    let policy = opts.push_policy(config);
    let mut environment_error = false;
    if let (Some(branch), Some(_), PushPolicy::Always) =
        (&opts.proposal_branch, &report.commit, policy)
    {
        if let Err(failure) = push_proposal(config, branch, opts, report, events) {
            environment_error |= failure.environment;
            push_failed(&failure, masker, events, report);
        }
    } else if report.commit.is_some() && policy != PushPolicy::Never {
        let step = PushStep {
            config,
            targets,
            executors,
            ctx,
            opts,
            wanted,
        };
        if let Err(failure) = step.push(policy, report) {
            environment_error |= failure.environment;
            push_failed(&failure, masker, events, report);
        }
    }
    environment_error
}

/// The commit (if one was needed) is safe: pushed, or not to be pushed.
/// Each executor that ran may drop what it kept in case it never landed.
fn release_after_commit(
    targets: &[&Target],
    executors: &Executors,
    ctx: &RunContext<'_>,
    opts: &RunOptions,
    report: &Report,
) {
    let landed =
        opts.commit && !ctx.dry_run && !opts.check && report.gates.iter().all(|g| g.passed);
    if landed {
        for (t, r) in targets.iter().zip(&report.targets) {
            if r.status != TargetStatus::Skipped {
                if let Some(ex) = executors.get(t.type_name()) {
                    ex.committed(t, ctx);
                }
            }
        }
    }
}

/// The totals, the duration and the exit code.
fn finish_report(report: &mut Report, started: Instant, environment_error: bool) {
    report.successful = report.targets.iter().filter(|t| t.success()).count();
    report.failed = report.targets.iter().filter(|t| !t.success()).count();
    report.total_duration = started.elapsed().as_secs_f64();
    report.exit_code = if environment_error {
        2
    } else if report.failed > 0 || report.gates.iter().any(|g| !g.passed) {
        1
    } else {
        0
    };
}

/// Execute one target and compare its outputs; the flag is an environment error.
/// [`run_target`], again while it fails and `--retry` allows (idempotent
/// targets only; a non-idempotent one is not re-run and a note says so).
fn run_with_retries(
    t: &Target,
    executors: &Executors,
    ctx: &RunContext<'_>,
    opts: &RunOptions,
) -> (TargetReport, bool) {
    let (mut r, mut env_error) = run_target(t, executors, ctx, opts);
    let mut attempt = 1;
    while r.status == TargetStatus::Failed && attempt <= opts.retries {
        if !t.idempotent {
            ctx.events.event(Event::Note(&format!(
                "{} failed and is not idempotent (`idempotent: false`): not retried",
                t.name
            )));
            r.message
                .push_str(" (not retried: the target is not idempotent)");
            break;
        }
        attempt += 1;
        ctx.events.event(Event::Note(&format!(
            "retrying {} (attempt {attempt} of {})",
            t.name,
            opts.retries + 1
        )));
        (r, env_error) = run_target(t, executors, ctx, opts);
        if r.status != TargetStatus::Failed {
            r.message = format!("{} (attempt {attempt})", r.message)
                .trim_start()
                .to_string();
        }
    }
    (r, env_error)
}

fn run_target(
    t: &Target,
    executors: &Executors,
    ctx: &RunContext<'_>,
    opts: &RunOptions,
) -> (TargetReport, bool) {
    let (masker, events) = (ctx.masker, ctx.events);
    events.event(Event::TargetStarted {
        name: &t.name,
        kind: t.type_name(),
        direction: t.direction.as_str(),
    });
    let t0 = Instant::now();
    let mut environment_error = false;
    // Check runs a pull or bidirectional command target in the working tree,
    // then puts its outputs (and the index) back as they were.
    let preserved =
        if opts.check && t.direction != Direction::Push && matches!(t.kind, TargetKind::Command(_))
        {
            match crate::preserve::Preserved::take(ctx.repo_root, &t.outputs) {
                Ok(p) => Some(p),
                Err(e) => {
                    let r = failed(
                        t,
                        format!("cannot save the outputs before checking (nothing was run): {e}"),
                    );
                    events.event(Event::TargetFinished(&r));
                    return (r, true);
                }
            }
        } else {
            None
        };
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
        Some(ex) => match ex.execute(t, ctx) {
            Ok(mut r) => {
                if ctx.dry_run && r.dry_run_mode.is_none() {
                    // Planned (sync, bundle, schema), or nothing to do.
                    r.dry_run_mode = Some(if r.status == TargetStatus::Skipped {
                        DryRunMode::Listed
                    } else {
                        DryRunMode::Previewed
                    });
                }
                r
            }
            Err(ExecError::Environment(m)) => {
                environment_error = true;
                failed(t, masker.mask(&m))
            }
            Err(ExecError::Failed(m)) => failed(t, masker.mask(&m)),
        },
    };
    finish_target(t, &mut r, ctx, opts);
    if let Some(p) = preserved {
        match p.restore() {
            Ok(left) if left.is_empty() => {}
            Ok(left) => {
                r.status = TargetStatus::Failed;
                r.message = format!("{}; {}", r.message, left.describe());
            }
            Err(e) => {
                environment_error = true;
                r.status = TargetStatus::Failed;
                r.message = format!(
                    "{}; cannot put the outputs back after checking: {e}",
                    r.message
                );
            }
        }
    }
    r.duration = t0.elapsed().as_secs_f64();
    events.event(Event::TargetFinished(&r));
    (r, environment_error)
}

/// Post-sync checks and drift gates.
fn post_gates(
    config: &Config,
    ctx: &RunContext<'_>,
    wanted: &dyn Fn(&driftsync_config::Check) -> bool,
) -> Vec<GateResult> {
    let mut out = Vec::new();
    for c in config.safety.post_sync_checks.iter().filter(|c| wanted(c)) {
        out.push(gates::run_check(c, GatePhase::PostSync, ctx));
    }
    for g in &config.safety.drift_gates {
        out.push(gates::run_drift_gate(g, ctx));
    }
    out
}

/// Why the push failed; `environment` for exit 2 (nowhere to push, refused
/// credentials, network) rather than 1 (rejected again after the retry).
struct PushFailure {
    message: String,
    environment: bool,
}

impl PushFailure {
    fn env(message: String) -> PushFailure {
        PushFailure {
            message,
            environment: true,
        }
    }

    /// A push to `at` (`url`) that failed, with what to do about it: no
    /// token, or a token the remote turned down (`GitError::Denied`, then
    /// `or_else` names the other way out).
    fn push(
        e: &driftsync_git::GitError,
        at: &str,
        url: &str,
        token: Option<&str>,
        or_else: &str,
    ) -> PushFailure {
        let hint = match e {
            _ if token.is_none() => {
                " (no token: set GITHUB_TOKEN or DRIFTSYNC_GIT_TOKEN)".to_string()
            }
            driftsync_git::GitError::Denied { .. } => format!(
                " (the token may not push: give the job `permissions: contents: write`{or_else})"
            ),
            _ => String::new(),
        };
        PushFailure::env(format!("push to {at} ({url}) failed: {e}{hint}"))
    }
}

/// Everything the push step needs to redo the pull targets after a
/// concurrent push.
struct PushStep<'a> {
    config: &'a Config,
    targets: &'a [&'a Target],
    executors: &'a Executors,
    ctx: &'a RunContext<'a>,
    opts: &'a RunOptions,
    wanted: &'a dyn Fn(&driftsync_config::Check) -> bool,
}

/// Where the run's commit is pushed, as the messages name it.
struct Destination<'t> {
    /// The remote's name.
    remote: String,
    /// The branch.
    branch: String,
    /// The remote's URL, credentials hidden.
    url: String,
    /// `remote/branch`.
    at: String,
    /// The token pushing over HTTPS.
    token: Option<&'t str>,
}

impl Destination<'_> {
    /// A failed push there, with what to do about it.
    fn failed(&self, e: driftsync_git::GitError) -> PushFailure {
        PushFailure::push(
            &e,
            &self.at,
            &self.url,
            self.token,
            ", or run with --no-push",
        )
    }
}

/// A git error as a setup failure of the push.
fn git_err(e: driftsync_git::GitError) -> PushFailure {
    PushFailure::env(e.to_string())
}

impl PushStep<'_> {
    /// Push the commit in `report.commit`. A non-fast-forward rejection
    /// fetches the new tip, moves the branch onto it, re-runs the pull
    /// targets that committed, commits and pushes once more.
    fn push(&self, policy: PushPolicy, report: &mut Report) -> Result<(), PushFailure> {
        let mut repo = driftsync_git::Repo::open(&self.config.root).map_err(git_err)?;
        let Some(dest) = self.destination(&repo, policy)? else {
            return Ok(());
        };
        let outcome = repo
            .push_head(&dest.remote, &dest.branch, dest.token)
            .map_err(|e| dest.failed(e))?;
        let mut record = PushRecord {
            remote: dest.remote.clone(),
            url: dest.url.clone(),
            branch: dest.branch.clone(),
            commit: report.commit.clone().unwrap_or_default(),
            rerun: Vec::new(),
        };
        if outcome == driftsync_git::PushOutcome::Pushed {
            self.ctx.events.event(Event::Note(&format!(
                "pushed {} to {}",
                short(&record.commit),
                dest.at
            )));
            report.push = Some(record);
            return Ok(());
        }
        // Someone pushed first: redo our part on top of theirs, once.
        let redo = self.targets_to_redo(&dest, &record, report)?;
        let tip = self.move_to_new_tip(&mut repo, &dest, redo.len())?;
        self.rerun_targets(&redo, &dest, &tip, &mut record, report)?;
        self.regate(&dest, &tip, report)?;
        self.commit_and_push_again(&mut repo, &dest, &tip, record, report)
    }

    /// Where the checkout's branch is pushed; `None` (with a note) when it
    /// has nowhere to go and the push was only to happen if possible.
    fn destination(
        &self,
        repo: &driftsync_git::Repo,
        policy: PushPolicy,
    ) -> Result<Option<Destination<'_>>, PushFailure> {
        let dest = match repo.push_destination() {
            Ok(d) => d,
            Err(e) if policy == PushPolicy::IfPossible => {
                self.ctx
                    .events
                    .event(Event::Note(&format!("not pushed: {e}")));
                return Ok(None);
            }
            Err(e) => return Err(PushFailure::env(format!("{e} (push was asked for)"))),
        };
        Ok(Some(Destination {
            url: redact_url(&dest.url),
            at: format!("{}/{}", dest.remote, dest.branch),
            remote: dest.remote,
            branch: dest.branch,
            token: self.opts.git_token.as_ref().map(Secret::expose),
        }))
    }

    /// The pull targets that committed, to be re-run on the new tip. A
    /// target that may not be run twice holds the commit back instead.
    fn targets_to_redo(
        &self,
        dest: &Destination<'_>,
        record: &PushRecord,
        report: &Report,
    ) -> Result<Vec<usize>, PushFailure> {
        let (at, url) = (&dest.at, &dest.url);
        let committed = |t: &Target, r: &TargetReport| {
            r.status == TargetStatus::Ok
                && t.git_commit
                && !t.fail_on_diff
                && t.direction != Direction::Push
        };
        let held: Vec<&str> = self
            .targets
            .iter()
            .zip(&report.targets)
            .filter(|(t, r)| committed(t, r) && !t.idempotent)
            .map(|(t, _)| t.name.as_str())
            .collect();
        if !held.is_empty() {
            return Err(PushFailure {
                message: format!(
                    "push to {at} ({url}) was rejected (someone else pushed first), and {} not idempotent (`idempotent: false`), so driftsync does not re-run it on the new tip. \
                     Commit {} stays on the local branch, not pushed. Run driftsync again on the new tip.",
                    held.join(", ") + if held.len() == 1 { " is" } else { " are" },
                    short(&record.commit)
                ),
                environment: false,
            });
        }
        Ok(self
            .targets
            .iter()
            .zip(&report.targets)
            .enumerate()
            .filter(|(_, (t, r))| committed(t, r))
            .map(|(i, _)| i)
            .collect())
    }

    /// Fetch the remote branch and move ours onto its new tip; the tip.
    fn move_to_new_tip(
        &self,
        repo: &mut driftsync_git::Repo,
        dest: &Destination<'_>,
        redo: usize,
    ) -> Result<String, PushFailure> {
        let at = &dest.at;
        self.ctx.events.event(Event::Note(&match redo {
            0 => format!(
                "{at} moved on (someone else pushed first): fetching it and committing on the new tip"
            ),
            n => format!(
                "{at} moved on (someone else pushed first): fetching it and re-running {n} pull target(s) on the new tip"
            ),
        }));
        repo.fetch_and_move(&dest.remote, &dest.branch, dest.token)
            .map_err(|e| {
                PushFailure::env(format!(
                    "push to {at} was rejected (someone else pushed first) and fetching the new tip failed: {e}"
                ))
            })
    }

    /// Re-run the targets `redo` on the new tip, in place in the report.
    fn rerun_targets(
        &self,
        redo: &[usize],
        dest: &Destination<'_>,
        tip: &str,
        record: &mut PushRecord,
        report: &mut Report,
    ) -> Result<(), PushFailure> {
        for &i in redo {
            let (r, env_error) = run_target(self.targets[i], self.executors, self.ctx, self.opts);
            if env_error {
                report.targets[i] = r;
                return Err(PushFailure::env(format!(
                    "target {} could not be re-run on {}'s new tip {}",
                    self.targets[i].name,
                    dest.at,
                    short(tip)
                )));
            }
            record.rerun.push(self.targets[i].name.clone());
            report.targets[i] = r;
        }
        Ok(())
    }

    /// The post-sync and drift gates again, on the new tip; a failure
    /// commits and pushes nothing.
    fn regate(
        &self,
        dest: &Destination<'_>,
        tip: &str,
        report: &mut Report,
    ) -> Result<(), PushFailure> {
        report
            .gates
            .retain(|g| !matches!(g.phase, GatePhase::PostSync | GatePhase::Drift));
        report
            .gates
            .extend(post_gates(self.config, self.ctx, self.wanted));
        if !report.gates.iter().all(|g| g.passed) {
            report.commit = None;
            return Err(PushFailure {
                message: format!(
                    "push to {} was rejected (someone else pushed first); after re-running on the new tip {} a gate failed, so nothing was committed or pushed",
                    dest.at,
                    short(tip)
                ),
                environment: false,
            });
        }
        Ok(())
    }

    /// Commit on the new tip and push once more; rejected again, the
    /// commit stays local.
    fn commit_and_push_again(
        &self,
        repo: &mut driftsync_git::Repo,
        dest: &Destination<'_>,
        tip: &str,
        mut record: PushRecord,
        report: &mut Report,
    ) -> Result<(), PushFailure> {
        let (events, at) = (self.ctx.events, &dest.at);
        match commit(self.config, self.targets, &report.targets, self.opts).map_err(git_err)? {
            None => {
                report.commit = None;
                events.event(Event::Note(&format!(
                    "{at}'s new tip {} already holds these outputs: nothing to push",
                    short(tip)
                )));
                Ok(())
            }
            Some((id, msg)) => {
                events.event(Event::Note(&msg));
                report.commit = Some(id.clone());
                record.commit = id;
                match repo
                    .push_head(&dest.remote, &dest.branch, dest.token)
                    .map_err(|e| dest.failed(e))?
                {
                    driftsync_git::PushOutcome::Pushed => {
                        let rerun = if record.rerun.is_empty() {
                            "on its new tip".to_string()
                        } else {
                            format!("after re-running {}", record.rerun.join(", "))
                        };
                        events.event(Event::Note(&format!(
                            "pushed {} to {at} {rerun}",
                            short(&record.commit)
                        )));
                        report.push = Some(record);
                        Ok(())
                    }
                    driftsync_git::PushOutcome::NonFastForward(_) => Err(PushFailure {
                        message: format!(
                            "push to {at} ({}) was rejected twice: someone else pushed again while the pull targets were re-run on the new tip. \
                             Commit {} stays on the local branch, not pushed. Run driftsync again; in GitHub Actions give the syncing workflow a \
                             `concurrency` group so runs on one branch do not overlap.",
                            dest.url,
                            short(&record.commit)
                        ),
                        environment: false,
                    }),
                }
            }
        }
    }
}

/// Push the proposal branch (`run --pull-request`) holding `report.commit`:
/// nothing is pushed when the remote branch already has the same tree (the
/// report then names the remote branch's commit); otherwise the branch is
/// created, fast-forwarded or replaced under a lease.
fn push_proposal(
    config: &Config,
    branch: &str,
    opts: &RunOptions,
    report: &mut Report,
    events: &dyn Events,
) -> Result<(), PushFailure> {
    let mut repo =
        driftsync_git::Repo::open(&config.root).map_err(|e| PushFailure::env(e.to_string()))?;
    // The checkout's upstream remote when it has one, else `origin`.
    let remote = repo
        .push_destination()
        .map(|d| d.remote)
        .unwrap_or_else(|_| "origin".into());
    let url = redact_url(
        &repo
            .remote_url(&remote)
            .map_err(|e| PushFailure::env(e.to_string()))?,
    );
    let token = opts.git_token.as_ref().map(Secret::expose);
    let at = format!("{remote}/{branch}");
    let same_base = opts.same_base;
    let same = move |path: &str, theirs: &[u8], ours: &[u8]| {
        path.starts_with(".driftsync/state/")
            && !path.ends_with(".push.json")
            && same_base.is_some_and(|f| f(theirs, ours))
    };
    let outcome = repo
        .push_branch(&remote, branch, token, &same)
        .map_err(|e| PushFailure::push(&e, &at, &url, token, ""))?;
    let commit = report.commit.clone().unwrap_or_default();
    let how = match &outcome {
        driftsync_git::BranchPush::Unchanged { remote: tip } => {
            events.event(Event::Note(&format!(
                "{at} already holds this result ({}): nothing pushed",
                short(tip)
            )));
            report.commit = Some(tip.clone());
            return Ok(());
        }
        driftsync_git::BranchPush::Created => "created".to_string(),
        driftsync_git::BranchPush::FastForward { previous } => {
            format!("fast-forwarded from {}", short(previous))
        }
        driftsync_git::BranchPush::Replaced { previous } => {
            format!("replaced {} (rebuilt on the base)", short(previous))
        }
    };
    events.event(Event::Note(&format!(
        "pushed {} to {at}: {how}",
        short(&commit)
    )));
    report.push = Some(PushRecord {
        remote,
        url,
        branch: branch.to_string(),
        commit,
        rerun: Vec::new(),
    });
    Ok(())
}

/// A failed push as the run's `git push` gate.
fn push_failed(failure: &PushFailure, masker: &Masker, events: &dyn Events, report: &mut Report) {
    let gate = GateResult {
        name: "git push".into(),
        phase: GatePhase::Push,
        passed: false,
        message: masker.mask(&failure.message),
        findings: Vec::new(),
        dry_run_mode: None,
    };
    events.event(Event::GateFinished(&gate));
    report.gates.push(gate);
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn failed(t: &Target, message: String) -> TargetReport {
    let mut r = new_report(t);
    r.status = TargetStatus::Failed;
    r.message = message;
    r
}

/// Outputs against HEAD, drift under check/fail_on_diff, verification.
fn finish_target(t: &Target, r: &mut TargetReport, ctx: &RunContext<'_>, opts: &RunOptions) {
    if r.status == TargetStatus::Failed || r.status == TargetStatus::Skipped {
        return;
    }
    if !t.outputs.is_empty() {
        let changed = driftsync_git::Repo::open(ctx.repo_root).and_then(|repo| {
            let changed = repo.changed_since_head(&|p| t.outputs.is_match(p))?;
            let tracked = if changed.is_empty() {
                Vec::new()
            } else {
                repo.tracked_files()?
            };
            Ok((changed, tracked))
        });
        match changed {
            Ok((changed, tracked)) => {
                r.outputs_created =
                    crate::outputs::collapse(&changed, &tracked, &t.outputs.whole_dirs());
                if (opts.check || t.fail_on_diff) && !changed.is_empty() {
                    r.status = TargetStatus::Drift;
                    r.message = format!("{} output file(s) differ from HEAD", changed.len());
                    r.drifted = changed;
                }
            }
            Err(e) => {
                r.status = TargetStatus::Failed;
                r.message = format!("cannot compare outputs with HEAD: {e}");
            }
        }
    }
    if opts.verify && ctx.dry_run {
        // Verification checks a result the dry run did not produce.
        if let Some(v) = &t.verification {
            r.message = format!(
                "{}; verification not run in a dry run (would run `{}`)",
                r.message,
                ctx.masker.mask(&v.command)
            );
        }
    } else if opts.verify {
        if let Some(v) = &t.verification {
            let res = crate::verify::verify(v, &format!("{} (verify)", t.name), ctx);
            r.verification_passed = Some(res.passed);
            if !res.passed {
                r.status = TargetStatus::Failed;
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
    // State files that must not be committed: their target's files are not.
    let mut held: Vec<String> = Vec::new();
    for (t, r) in targets.iter().zip(reports) {
        if let TargetKind::Sync(s) = &t.kind {
            // A sync target's base and its local files go together, whatever
            // the outcome: the base records exactly the local writes that
            // were applied, so committing one without the other would make
            // the next run (a fresh clone) misread them.
            // Its conflicts kept for a person go with the base too.
            let state = sync_state_file(&t.name);
            let kept = sync_conflicts_dir(&t.name);
            if r.status == TargetStatus::Skipped || !t.git_commit || t.fail_on_diff {
                held.push(state);
                held.push(kept);
                continue;
            }
            let local = sync_local_prefix(s.local.as_str());
            let changed = repo.changed_since_head(&|p: &str| {
                (p.starts_with(&local) && !is_engine_path(p)) || t.outputs.is_match(p)
            })?;
            let own = |p: &str| p == state || p.starts_with(&kept);
            if !changed.is_empty() || !repo.changed_since_head(&own)?.is_empty() {
                names.push(t.name.as_str());
            }
            paths.extend(changed);
            continue;
        }
        // A push target writes nothing to commit, but a bundle pushed as a
        // new version carries that version in its bundle.yaml.
        let writes_back = matches!(t.kind, TargetKind::Bundle(_));
        if r.status != TargetStatus::Ok
            || !t.git_commit
            || t.fail_on_diff
            || (t.direction == Direction::Push && !writes_back)
        {
            continue;
        }
        if !r.outputs_created.is_empty() {
            names.push(t.name.as_str());
            // A directory in the report stands for its changed files.
            let dirs: Vec<&str> = r
                .outputs_created
                .iter()
                .filter(|p| p.ends_with('/'))
                .map(String::as_str)
                .collect();
            if !dirs.is_empty() {
                paths.extend(repo.changed_since_head(&|p: &str| {
                    dirs.iter().any(|d| p.starts_with(d)) && t.outputs.is_match(p)
                })?);
            }
            paths.extend(
                r.outputs_created
                    .iter()
                    .filter(|p| !p.ends_with('/'))
                    .cloned(),
            );
        }
    }
    let state = repo.changed_since_head(&|p| {
        (p.starts_with(".driftsync/state/") || p.starts_with(".driftsync/conflicts/"))
            && !held
                .iter()
                .any(|h| h == p || (h.ends_with('/') && p.starts_with(h.as_str())))
    })?;
    if !state.is_empty() && names.is_empty() {
        names.extend(
            reports
                .iter()
                .filter(|r| r.status == TargetStatus::Ok)
                .map(|r| r.target.as_str()),
        );
    }
    names.dedup();
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
    let made = match &opts.proposal_branch {
        Some(branch) => repo.commit_paths_to_branch(&paths, &message, &author, branch)?,
        None => repo.commit_paths(&paths, &message, &author)?,
    };
    Ok(made.map(|id| {
        let note = format!(
            "committed {} ({} file(s)): {}",
            &id[..12],
            paths.len(),
            names.join(", ")
        );
        (id, note)
    }))
}

/// The base of sync target `name`, relative to the repository root.
pub fn sync_state_file(name: &str) -> String {
    format!(".driftsync/state/{name}.json")
}

/// The folder of sync target `name`'s conflicts kept for a person
/// (`on_conflict: manual`), relative to the repository root, with a final `/`.
pub fn sync_conflicts_dir(name: &str) -> String {
    format!(".driftsync/conflicts/{name}/")
}

/// The repository paths under a sync target's `local` directory start with this.
fn sync_local_prefix(local: &str) -> String {
    let l = local.trim_end_matches('/');
    if l.is_empty() || l == "." {
        String::new()
    } else {
        format!("{l}/")
    }
}

/// The engine's own files inside a synced directory (never synced, never committed).
fn is_engine_path(p: &str) -> bool {
    p.starts_with(".driftsync/") || p.contains("/.driftsync/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(defaults: &str) -> Config {
        let text = format!("version: \"1.0\"\n{defaults}targets: {{}}\n");
        driftsync_config::parse(
            &text,
            Path::new("/r/.driftsync/sync.yaml"),
            Path::new("/r"),
            &|_| None,
        )
        .unwrap()
    }

    fn opts(push: Option<bool>, actions: bool, token: bool) -> RunOptions {
        RunOptions {
            command: "run".into(),
            commit: true,
            github_actions: actions,
            push,
            git_token: token.then(|| Secret::new("ghs_example")),
            retries: 0,
            ..RunOptions::default()
        }
    }

    #[test]
    fn push_policy_flags_then_config_then_actions_with_a_token() {
        use PushPolicy::*;
        let unset = config("");
        let on = config("defaults:\n  git_push: true\n");
        let off = config("defaults:\n  git_push: false\n");
        assert_eq!(opts(None, false, true).push_policy(&unset), Never);
        assert_eq!(opts(None, true, false).push_policy(&unset), Never);
        assert_eq!(opts(None, true, true).push_policy(&unset), IfPossible);
        assert_eq!(opts(None, false, false).push_policy(&on), Always);
        assert_eq!(opts(None, true, true).push_policy(&off), Never);
        assert_eq!(opts(Some(true), false, false).push_policy(&off), Always);
        assert_eq!(opts(Some(false), true, true).push_policy(&on), Never);
        // Dry runs, checks and --no-commit never push, whatever was asked.
        let mut o = opts(Some(true), true, true);
        o.dry_run = true;
        assert_eq!(o.push_policy(&on), Never);
        let mut o = opts(Some(true), true, true);
        o.check = true;
        assert_eq!(o.push_policy(&on), Never);
        let mut o = opts(Some(true), true, true);
        o.commit = false;
        assert_eq!(o.push_policy(&on), Never);
        assert_eq!(
            opts(Some(true), false, false).push_policy(&config("defaults:\n  dry_run: true\n")),
            Never
        ); // Pull-request mode always pushes its own branch, except in dry runs.
        let mut o = opts(None, false, false);
        o.proposal_branch = Some("driftsync/x".into());
        assert_eq!(o.push_policy(&off), Always);
        o.dry_run = true;
        assert_eq!(o.push_policy(&unset), Never);
    }
}
