//! Live progress and the end-of-run summary on stdout.

use std::fmt::Write;

use driftsync_core::report::{GatePhase, Report, TargetStatus};
use driftsync_github::workflow_commands::{endgroup, group};
use driftsync_runner::{Event, Events, Masker};

use super::stdout;

/// Prints events as they come: output lines prefixed with their source, or
/// inside `::group::` blocks in CI. Every line goes through the masker.
pub struct Human<'m> {
    ci: bool,
    masker: &'m Masker,
}

impl Human<'_> {
    /// A printer for CI (`::group::`) or a terminal.
    pub fn new(ci: bool, masker: &Masker) -> Human<'_> {
        Human { ci, masker }
    }
}

fn status_word(s: TargetStatus) -> &'static str {
    match s {
        TargetStatus::Ok => "ok",
        TargetStatus::Drift => "DRIFT",
        TargetStatus::Failed => "FAILED",
        TargetStatus::Skipped | TargetStatus::NotRun => "skipped",
    }
}

impl Events for Human<'_> {
    fn event(&self, event: Event<'_>) {
        let mut out = String::new();
        let _ = match event {
            Event::GateStarted { .. } => return,
            Event::GateFinished(g) => writeln!(
                out,
                "{} {} gate `{}`: {}",
                if g.passed { "✓" } else { "✗" },
                g.phase,
                g.name,
                g.message
            )
            .and_then(|_| {
                for f in &g.findings {
                    writeln!(out, "    {}", f.message)?;
                }
                Ok(())
            }),
            Event::TargetStarted {
                name,
                kind,
                direction,
            } => {
                if self.ci {
                    writeln!(out, "{}", group(&format!("{name} ({kind}, {direction})")))
                } else {
                    writeln!(out, "→ {name} ({kind}, {direction})")
                }
            }
            Event::Output { source, line } => {
                if self.ci {
                    writeln!(out, "{line}")
                } else {
                    writeln!(out, "  [{source}] {line}")
                }
            }
            Event::TargetFinished(t) => {
                if self.ci {
                    out.push_str(&endgroup());
                    out.push('\n');
                }
                writeln!(
                    out,
                    "{} {} {}: {}",
                    if t.success() { "✓" } else { "✗" },
                    t.target,
                    status_word(t.status),
                    t.message
                )
            }
            Event::Note(n) => writeln!(out, "• {n}"),
        };
        // Progress is best effort: a failed write must not stop the run.
        let _ = stdout::write(&self.masker.mask(&out));
    }
}

/// The end-of-run summary.
pub fn summary(report: &Report) -> String {
    let mut s = format!(
        "\ndriftsync {}: {} target(s), {} successful, {} failed in {:.1}s{}\n",
        report.command,
        report.total_targets,
        report.successful,
        report.failed,
        report.total_duration,
        if report.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    );
    for t in &report.targets {
        s.push_str(&format!(
            "  {:<8} {:<24} {:<13} {}\n",
            status_word(t.status),
            t.target,
            t.direction,
            t.message
        ));
        for d in &t.drifted {
            s.push_str(&format!("           drifted: {}\n", super::plan::text(d)));
        }
    }
    if let Some(c) = &report.commit {
        s.push_str(&format!("  commit {}\n", &c[..c.len().min(12)]));
        if let Some(p) = &report.push {
            s.push_str(&format!("  pushed to {}/{}", p.remote, p.branch));
            if !p.rerun.is_empty() {
                s.push_str(&format!(
                    " (after a concurrent push; re-ran {})",
                    p.rerun.join(", ")
                ));
            }
            s.push('\n');
        } else if report
            .gates
            .iter()
            .any(|g| g.phase == GatePhase::Push && !g.passed)
        {
            s.push_str("  NOT pushed (see the `git push` gate above)\n");
        }
    } else if !report.dry_run && report.command == "run" {
        s.push_str("  nothing to commit\n");
    }
    s
}
