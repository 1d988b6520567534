//! Pre-sync, post-sync and drift gates.

use driftsync_config::{Check, CheckKind, DriftGate};
use driftsync_core::report::{DryRunMode, Finding, FindingCode, GatePhase, GateResult, Severity};

use crate::events::Event;
use crate::executor::RunContext;
use crate::process::{self, last_number, Program};
use crate::secrets::{AllowList, Scanner, DEFAULT_ALLOWLIST};

/// Paths driftsync itself writes, never counted as "unclean".
/// driftsync's own scratch files in the checkout, never "uncommitted
/// changes": reports, the lock, and the backups of what a sync overwrote
/// (kept for `driftsync restore`, uploaded rather than committed).
const OWN_PATHS: [&str; 3] = [
    ".driftsync/reports/",
    ".driftsync/lock",
    ".driftsync/backup/",
];

/// A command gate in a dry run: not run (commands that were not declared
/// safe for a dry run never run), counted as passed, marked `listed`.
fn listed(name: &str, phase: GatePhase, command: &str, ctx: &RunContext<'_>) -> GateResult {
    let r = GateResult {
        name: name.to_string(),
        phase,
        passed: true,
        message: format!("dry run: would run `{}`; not run", ctx.masker.mask(command)),
        findings: Vec::new(),
        dry_run_mode: Some(DryRunMode::Listed),
    };
    ctx.events.event(Event::GateFinished(&r));
    r
}

/// Run one check of `phase` (`pre_sync` or `post_sync`). In a dry run a
/// command check is only listed; built-in checks (read-only) run.
pub fn run_check(check: &Check, phase: GatePhase, ctx: &RunContext<'_>) -> GateResult {
    ctx.events.event(Event::GateStarted {
        name: &check.name,
        phase,
    });
    if let (true, CheckKind::Command { command, .. }) = (ctx.dry_run, &check.kind) {
        return listed(&check.name, phase, command, ctx);
    }
    let mut findings = Vec::new();
    let (passed, message) = match &check.kind {
        CheckKind::Command {
            command,
            expected_exit_code,
            timeout,
        } => match process::run(
            Program::Shell(command),
            ctx.repo_root,
            &[],
            Some(*timeout),
            &check.name,
            ctx.masker,
            ctx.events,
        ) {
            Ok(o) if !o.timed_out && o.exit_code == Some(*expected_exit_code) => (
                true,
                format!(
                    "`{}` {}",
                    ctx.masker.mask(command),
                    o.describe(Some(*timeout))
                ),
            ),
            Ok(o) => (
                false,
                format!(
                    "`{}` {} (expected exit code {expected_exit_code})",
                    ctx.masker.mask(command),
                    o.describe(Some(*timeout))
                ),
            ),
            Err(e) => (
                false,
                format!("cannot run `{}`: {e}", ctx.masker.mask(command)),
            ),
        },
        CheckKind::GitClean => {
            match driftsync_git::Repo::open(ctx.repo_root).and_then(|r| r.dirty_paths()) {
                Ok(dirty) => {
                    let dirty: Vec<String> = dirty
                        .into_iter()
                        .filter(|p| !OWN_PATHS.iter().any(|o| p.starts_with(o)))
                        .collect();
                    for p in &dirty {
                        findings.push(Finding {
                            code: FindingCode::UncommittedChange,
                            severity: Severity::Medium,
                            message: format!("{p} has uncommitted changes"),
                            file: Some(p.clone()),
                            line: None,
                            column: None,
                        });
                    }
                    if dirty.is_empty() {
                        (true, "working tree clean".into())
                    } else {
                        (
                            false,
                            format!(
                                "{} uncommitted change(s); commit or stash them first",
                                dirty.len()
                            ),
                        )
                    }
                }
                Err(e) => (false, e.to_string()),
            }
        }
        CheckKind::Secrets => {
            match driftsync_git::Repo::open(ctx.repo_root).and_then(|r| r.tracked_files()) {
                Ok(files) => {
                    let scanner = Scanner::new(&ctx.config.safety.secret_patterns);
                    let allow_path = ctx
                        .config
                        .safety
                        .secrets_allowlist
                        .as_ref()
                        .map_or(DEFAULT_ALLOWLIST.to_string(), |p| p.as_str().to_string());
                    let allow = AllowList::read(&ctx.repo_root.join(&allow_path));
                    findings = scanner.scan_files(ctx.repo_root, &files, &allow);
                    if findings.is_empty() {
                        (
                            true,
                            format!("no secrets in {} tracked file(s)", files.len()),
                        )
                    } else {
                        (false, format!("{} possible secret(s); remove them, or list accepted ones in {allow_path}", findings.len()))
                    }
                }
                Err(e) => (false, e.to_string()),
            }
        }
        CheckKind::Validate { paths } => {
            findings = crate::validate::validate_tree(ctx.repo_root, paths);
            if findings.is_empty() {
                (
                    true,
                    format!(
                        "every JSON/YAML/TOML file under {} parses",
                        paths.patterns().join(", ")
                    ),
                )
            } else {
                (false, format!("{} file(s) do not parse", findings.len()))
            }
        }
    };
    let r = GateResult {
        name: check.name.clone(),
        phase,
        passed,
        message,
        findings,
        dry_run_mode: None,
    };
    ctx.events.event(Event::GateFinished(&r));
    r
}

/// Run a drift gate: its number must be within bounds. In a dry run it is
/// only listed.
pub fn run_drift_gate(g: &DriftGate, ctx: &RunContext<'_>) -> GateResult {
    ctx.events.event(Event::GateStarted {
        name: &g.name,
        phase: GatePhase::Drift,
    });
    if ctx.dry_run {
        return listed(&g.name, GatePhase::Drift, &g.command, ctx);
    }
    let (passed, message) = match process::run(
        Program::Shell(&g.command),
        ctx.repo_root,
        &[],
        Some(g.timeout),
        &g.name,
        ctx.masker,
        ctx.events,
    ) {
        Err(e) => (
            false,
            format!("cannot run `{}`: {e}", ctx.masker.mask(&g.command)),
        ),
        Ok(o) if !o.success() => (
            false,
            format!(
                "`{}` {}",
                ctx.masker.mask(&g.command),
                o.describe(Some(g.timeout))
            ),
        ),
        Ok(o) => match last_number(&o.stdout) {
            None => (
                false,
                format!("`{}` printed no number", ctx.masker.mask(&g.command)),
            ),
            Some(v) => check_bounds(v, g),
        },
    };
    let r = GateResult {
        name: g.name.clone(),
        phase: GatePhase::Drift,
        passed,
        message,
        findings: Vec::new(),
        dry_run_mode: None,
    };
    ctx.events.event(Event::GateFinished(&r));
    r
}

fn check_bounds(v: f64, g: &DriftGate) -> (bool, String) {
    if let Some(min) = g.min_value.filter(|m| v < *m) {
        return (false, format!("value {v} is below min_value {min}"));
    }
    if let Some(max) = g.max_value.filter(|m| v > *m) {
        return (false, format!("value {v} is above max_value {max}"));
    }
    if let Some(max) = g.max_drift_score.filter(|m| v > *m) {
        return (
            false,
            format!("drift score {v} is above max_drift_score {max}"),
        );
    }
    (true, format!("value {v} within bounds"))
}
