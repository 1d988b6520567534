//! `type: command`: run an entrypoint with a documented environment.

use std::path::Path;

use driftsync_config::{CommandTarget, Direction, Entrypoint, Target, TargetKind};
use driftsync_core::report::{DryRunMode, TargetReport, TargetStatus};

use driftsync_runner::process::{self, Program};
use driftsync_runner::state;
use driftsync_runner::{new_report, ExecError, RunContext, TargetExecutor};

/// Variables every entrypoint receives.
pub mod env {
    /// The target's name.
    pub const TARGET: &str = "DRIFTSYNC_TARGET";
    /// `pull`, `push` or `bidirectional`.
    pub const DIRECTION: &str = "DRIFTSYNC_DIRECTION";
    /// `1` in a dry run (change nothing), else `0`. Only targets declaring
    /// `dry_run: true` run in a dry run; the others are only listed.
    pub const DRY_RUN: &str = "DRIFTSYNC_DRY_RUN";
    /// `1` under `driftsync check` (report drift, change nothing remote), else `0`.
    pub const CHECK: &str = "DRIFTSYNC_CHECK";
    /// `1` under `--force`, else `0`.
    pub const FORCE: &str = "DRIFTSYNC_FORCE";
    /// The target's `config:` map as JSON (`null` when absent).
    pub const CONFIG: &str = "DRIFTSYNC_CONFIG";
    /// The repository root (also the working directory).
    pub const ROOT: &str = "DRIFTSYNC_ROOT";
}

/// Runs `command` targets.
pub struct CommandExecutor;

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

impl TargetExecutor for CommandExecutor {
    fn execute(&self, target: &Target, ctx: &RunContext<'_>) -> Result<TargetReport, ExecError> {
        let TargetKind::Command(cmd) = &target.kind else {
            return Err(ExecError::Environment(format!(
                "target `{}` is of type `{}`, not `command`",
                target.name,
                target.type_name()
            )));
        };
        let mut report = new_report(target);
        // A push whose inputs are unchanged since its last push has nothing to do.
        let mut pending_state = None;
        if target.direction == Direction::Push && !target.inputs.is_empty() {
            let now = state::hash_inputs(ctx.repo_root, &target.inputs).map_err(|e| {
                ExecError::Environment(format!("cannot read the inputs of `{}`: {e}", target.name))
            })?;
            let last = state::read(ctx.repo_root, &target.name);
            let unchanged = last
                .as_ref()
                .is_some_and(|l| l.inputs_hash == now.inputs_hash);
            if ctx.check {
                if unchanged {
                    report.message = "inputs unchanged since the last push".into();
                } else {
                    report.status = TargetStatus::Drift;
                    report.drifted = changed_inputs(last.as_ref(), &now);
                    report.message = format!(
                        "{} input file(s) changed since the last push; run `driftsync run --target {}`",
                        report.drifted.len(),
                        target.name
                    );
                }
                return Ok(report);
            }
            if unchanged && !ctx.force {
                report.status = TargetStatus::Skipped;
                report.message =
                    "inputs unchanged since the last push (use --force to push anyway)".into();
                return Ok(report);
            }
            pending_state = Some(now);
        } else if ctx.check && target.direction == Direction::Push {
            report.message =
                "push target without `inputs`: nothing to compare in check mode".into();
            report.status = TargetStatus::Skipped;
            return Ok(report);
        }

        if ctx.dry_run && !cmd.dry_run {
            report.status = TargetStatus::Skipped;
            report.dry_run_mode = Some(DryRunMode::Listed);
            report.message = ctx.masker.mask(&would_run(target, cmd));
            return Ok(report);
        }
        let envs = environment(target, cmd, ctx);
        let script_path;
        let program = match &cmd.entrypoint {
            Entrypoint::Script(p) => {
                script_path = ctx.repo_root.join(p.as_str());
                Program::File(&script_path)
            }
            Entrypoint::Shell(line) => Program::Shell(line),
        };
        let outcome = process::run(
            program,
            ctx.repo_root,
            &envs,
            target.timeout,
            &target.name,
            ctx.masker,
            ctx.events,
        )
        .map_err(|e| {
            ExecError::Environment(format!(
                "cannot start `{}` for target `{}`: {e}",
                cmd.entrypoint, target.name
            ))
        })?;
        report.output_tail = outcome.tail.clone();
        if ctx.dry_run {
            report.dry_run_mode = Some(DryRunMode::Previewed);
        }
        let what = match &cmd.entrypoint {
            Entrypoint::Script(p) => p.to_string(),
            Entrypoint::Shell(_) => "run:".to_string(),
        };
        if outcome.success() {
            report.message = format!("{what} {}", outcome.describe(target.timeout));
            if let Some(s) = pending_state {
                if !ctx.dry_run {
                    state::write(ctx.repo_root, &target.name, &s).map_err(|e| {
                        ExecError::Environment(format!(
                            "cannot write the push state of `{}`: {e}",
                            target.name
                        ))
                    })?;
                }
            }
        } else {
            report.status = TargetStatus::Failed;
            report.message = format!("{what} {}", outcome.describe(target.timeout));
        }
        Ok(report)
    }
}

/// What a dry run says instead of running a target without `dry_run: true`.
fn would_run(target: &Target, cmd: &CommandTarget) -> String {
    let what = match &cmd.entrypoint {
        Entrypoint::Script(p) => p.to_string(),
        Entrypoint::Shell(line) => format!("run: {line}"),
    };
    let globs = |label: &str, g: &driftsync_config::GlobList| {
        if g.is_empty() {
            String::new()
        } else {
            format!("; {label} {}", g.patterns().join(", "))
        }
    };
    format!(
        "dry run: would run `{what}` ({}{}{}); not run: the target does not declare `dry_run: true`",
        target.direction,
        globs("inputs", &target.inputs),
        globs("outputs", &target.outputs),
    )
}

fn changed_inputs(last: Option<&state::PushState>, now: &state::PushState) -> Vec<String> {
    let empty = Default::default();
    let before = last.map_or(&empty, |l| &l.files);
    let mut out: Vec<String> = now
        .files
        .iter()
        .filter(|(p, h)| before.get(*p) != Some(*h))
        .map(|(p, _)| p.clone())
        .chain(
            before
                .keys()
                .filter(|p| !now.files.contains_key(*p))
                .cloned(),
        )
        .collect();
    out.sort();
    out
}

/// The environment an entrypoint runs with (added to driftsync's own).
pub fn environment(
    target: &Target,
    cmd: &CommandTarget,
    ctx: &RunContext<'_>,
) -> Vec<(String, String)> {
    let mut v = vec![
        (env::TARGET.to_string(), target.name.clone()),
        (
            env::DIRECTION.to_string(),
            target.direction.as_str().to_string(),
        ),
        (env::DRY_RUN.to_string(), flag(ctx.dry_run)),
        (env::CHECK.to_string(), flag(ctx.check)),
        (env::FORCE.to_string(), flag(ctx.force)),
        (env::CONFIG.to_string(), cmd.config.to_string()),
        (env::ROOT.to_string(), path_str(ctx.repo_root)),
    ];
    v.extend(cmd.env.iter().map(|(k, val)| (k.clone(), val.clone())));
    v
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
