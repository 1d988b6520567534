//! The Markdown report: a pure function of [`Report`], for people (and job summaries).

use std::fmt::Write;

use driftsync_core::report::{table_cell, Report};

/// Render `report` as Markdown.
pub fn render(report: &Report) -> String {
    let mut o = String::new();
    let verdict = match report.exit_code {
        0 => "✅ in sync",
        1 => "⚠️ drift or failure",
        _ => "❌ configuration or environment error",
    };
    let _ = writeln!(o, "## driftsync {} — {verdict}\n", report.command);
    let _ = writeln!(
        o,
        "{} target(s): {} successful, {} failed · {:.1}s · {}{}{}\n",
        report.total_targets,
        report.successful,
        report.failed,
        report.total_duration,
        report.timestamp,
        if report.dry_run { " · dry run" } else { "" },
        if report.forced { " · forced" } else { "" },
    );
    if !report.targets.is_empty() {
        o.push_str("| target | type | direction | status | duration | message |\n|---|---|---|---|---|---|\n");
        for t in &report.targets {
            let mode = t
                .dry_run_mode
                .map_or(String::new(), |m| format!(" ({})", m.as_str()));
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {}{mode} | {:.1}s | {} |",
                t.target,
                t.kind,
                t.direction,
                t.status.badge(),
                t.duration,
                table_cell(&t.message)
            );
        }
        o.push('\n');
    }
    if !report.gates.is_empty() {
        o.push_str("### Gates\n\n| gate | phase | result | message |\n|---|---|---|---|\n");
        for g in &report.gates {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                table_cell(&g.name),
                g.phase,
                match (g.dry_run_mode, g.passed) {
                    (Some(m), _) => format!("➖ {}", m.as_str()),
                    (None, true) => "✅ passed".into(),
                    (None, false) => "❌ failed".into(),
                },
                table_cell(&g.message)
            );
        }
        o.push('\n');
    }
    let findings: Vec<_> = report.findings().collect();
    if !findings.is_empty() {
        o.push_str("### Findings\n\n");
        for f in findings {
            let at = match (&f.file, f.line) {
                (Some(file), Some(l)) => format!("`{file}:{l}` "),
                (Some(file), None) => format!("`{file}` "),
                _ => String::new(),
            };
            let _ = writeln!(
                o,
                "- **{}** {at}{} ({})",
                f.severity.as_str(),
                table_cell(&f.message),
                f.code
            );
        }
        o.push('\n');
    }
    for t in &report.targets {
        let mut section = String::new();
        if !t.outputs_created.is_empty() {
            let _ = writeln!(
                section,
                "Outputs changed: {}\n",
                t.outputs_created
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !t.drifted.is_empty() {
            let _ = writeln!(
                section,
                "Drifted: {}\n",
                t.drifted
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(v) = &t.verification {
            let _ = writeln!(
                section,
                "Verification `{}`: {} — {}\n",
                v.command,
                if v.passed { "passed" } else { "failed" },
                v.message
            );
        }
        for a in &t.actions {
            let _ = writeln!(
                section,
                "- {} `{}` {} ({}; {:?})",
                a.kind, a.path, a.direction, a.reason, a.outcome
            );
        }
        for c in &t.conflicts {
            let _ = writeln!(
                section,
                "- conflict `{}`: {} → {}",
                c.path, c.reason, c.resolution
            );
        }
        if !t.output_tail.is_empty() {
            let _ = writeln!(
                section,
                "<details><summary>output (last lines)</summary>\n\n```text\n{}\n```\n</details>\n",
                t.output_tail.replace("```", "ʼʼʼ")
            );
        }
        if !section.is_empty() {
            let _ = writeln!(o, "### `{}`\n\n{section}", t.target);
        }
    }
    if let Some(c) = &report.commit {
        let _ = writeln!(o, "Committed `{}`.", &c[..c.len().min(12)]);
    }
    if let Some(p) = &report.push {
        let _ = write!(
            o,
            "\nPushed `{}` to `{}` on `{}` ({}).",
            &p.commit[..p.commit.len().min(12)],
            p.branch,
            p.remote,
            p.url
        );
        if !p.rerun.is_empty() {
            let _ = write!(
                o,
                " Someone else pushed first: driftsync fetched their commit and re-ran {} on it.",
                p.rerun
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(o);
    }
    o
}
