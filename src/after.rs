//! `after:` commands of sync targets: run once after a target that changed
//! something, with the changed paths in a file named by `DRIFTSYNC_CHANGED`.

use std::path::PathBuf;

use driftsync_core::report::{ActionOutcome, TargetReport, TargetStatus};
use driftsync_core::{Op, Side};
use driftsync_engine::Outcome;
use driftsync_runner::process::{self, Program};
use driftsync_runner::RunContext;

/// `DRIFTSYNC_CHANGED`: a file listing one changed path per line, as `<side>\t<path>`
/// (`local` or `remote`: the side whose file was written or deleted).
pub const CHANGED: &str = "DRIFTSYNC_CHANGED";
/// `DRIFTSYNC_TARGET`: the target's name.
pub const TARGET: &str = "DRIFTSYNC_TARGET";

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "local",
        Side::Right => "remote",
    }
}

/// The lines of the changed-paths file: every applied action's written or deleted paths.
pub fn changed_lines(out: &Outcome) -> Vec<String> {
    let mut lines = Vec::new();
    for (action, rec) in out.plan.actions.iter().zip(&out.results) {
        if rec.outcome != ActionOutcome::Applied {
            continue;
        }
        let p = &action.path;
        match &action.op {
            Op::Copy { from } => lines.push(format!("{}\t{p}", side_name(from.other()))),
            Op::Delete { on } => lines.push(format!("{}\t{p}", side_name(*on))),
            Op::KeepBoth { winner, loser_path } => {
                lines.push(format!("{}\t{p}", side_name(winner.other())));
                lines.push(format!("local\t{loser_path}"));
                lines.push(format!("remote\t{loser_path}"));
            }
            Op::Adopt => {}
        }
    }
    lines
}

/// Removes the changed-paths file when the commands are done.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run `commands` in order, stopping at the first that fails; the output
/// tail goes to the report, a failure fails the target with its exit code.
pub fn run(
    commands: &[String],
    changed: &[String],
    report: &mut TargetReport,
    timeout: Option<std::time::Duration>,
    ctx: &RunContext<'_>,
) -> std::io::Result<()> {
    let file = TempFile(std::env::temp_dir().join(format!(
        "driftsync-changed-{}-{}.txt",
        report.target,
        std::process::id()
    )));
    std::fs::write(&file.0, changed.join("\n") + "\n")?;
    let env = vec![
        (CHANGED.to_string(), file.0.display().to_string()),
        (TARGET.to_string(), report.target.clone()),
    ];
    for command in commands {
        let source = format!("{} after", report.target);
        let outcome = process::run(
            Program::Shell(command),
            ctx.repo_root,
            &env,
            timeout,
            &source,
            ctx.masker,
            ctx.events,
        )?;
        if !report.output_tail.is_empty() {
            report.output_tail.push('\n');
        }
        report.output_tail.push_str(&outcome.tail);
        if !outcome.success() {
            report.status = TargetStatus::Failed;
            report.message = format!(
                "{}; after command `{}` {}",
                report.message,
                ctx.masker.mask(command),
                outcome.describe(timeout)
            );
            return Ok(());
        }
    }
    report
        .message
        .push_str(&format!("; {} after command(s) ran", commands.len()));
    Ok(())
}
