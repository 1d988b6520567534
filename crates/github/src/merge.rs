//! `driftsync report merge`: the reports of a matrix's jobs joined into one
//! report, one summary and one comment.

use driftsync_core::report::{table_cell, Report};

/// One job's report and its Markdown rendering, named by its folder.
#[derive(Clone, Debug)]
pub struct JobReport {
    /// Where it came from (the artifact folder's name).
    pub source: String,
    /// The parsed `report.json`.
    pub report: Report,
    /// Its `report.md`, if present.
    pub markdown: Option<String>,
}

/// Join reports: totals add up, gates and targets concatenate in input order,
/// the earliest timestamp and the worst exit code win; durations add (the
/// compute time), and `dry_run` holds only if every job was a dry run.
pub fn merge_reports(jobs: &[JobReport]) -> Option<Report> {
    let first = jobs.first()?;
    let mut merged = Report {
        timestamp: first.report.timestamp.clone(),
        command: first.report.command.clone(),
        total_targets: 0,
        successful: 0,
        failed: 0,
        total_duration: 0.0,
        dry_run: true,
        forced: false,
        gates: Vec::new(),
        targets: Vec::new(),
        commit: None,
        push: None,
        exit_code: 0,
    };
    for job in jobs {
        let r = &job.report;
        if r.timestamp < merged.timestamp {
            merged.timestamp = r.timestamp.clone();
        }
        if r.command != merged.command && !merged.command.ends_with("(merged)") {
            merged.command = format!("{} (merged)", merged.command);
        }
        merged.total_targets += r.total_targets;
        merged.successful += r.successful;
        merged.failed += r.failed;
        merged.total_duration += r.total_duration;
        merged.dry_run &= r.dry_run;
        merged.forced |= r.forced;
        merged.gates.extend(r.gates.iter().cloned());
        merged.targets.extend(r.targets.iter().cloned());
        if merged.commit.is_none() {
            merged.commit = r.commit.clone();
        }
        if merged.push.is_none() {
            merged.push = r.push.clone();
        }
        merged.exit_code = worst(merged.exit_code, r.exit_code);
    }
    Some(merged)
}

/// 2 (error) beats 1 (drift) beats 0.
fn worst(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        1 => 1,
        _ => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// The merged Markdown: one table of every target, then each job's own
/// report folded under `<details>`.
pub fn merged_markdown(merged: &Report, jobs: &[JobReport]) -> String {
    let mut md = String::new();
    let verdict = if merged.exit_code == 0 && !merged.has_drift() {
        "✅ in sync"
    } else if merged.exit_code == 1 || merged.has_drift() {
        "⚠️ drift"
    } else {
        "❌ error"
    };
    md.push_str(&format!(
        "## driftsync — {verdict}\n\n{} job(s), {} target(s): {} ok, {} failed or drifted.\n\n",
        jobs.len(),
        merged.total_targets,
        merged.successful,
        merged.failed
    ));
    md.push_str(
        "| target | type | direction | status | message | seconds |\n|---|---|---|---|---|---:|\n",
    );
    for t in &merged.targets {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} |\n",
            table_cell(&t.target),
            table_cell(&t.kind),
            table_cell(&t.direction),
            t.status.badge(),
            table_cell(&t.message),
            t.duration
        ));
    }
    for job in jobs {
        if let Some(m) = &job.markdown {
            md.push_str(&format!(
                "\n<details><summary>{}</summary>\n\n{}\n\n</details>\n",
                table_cell(&job.source),
                m.trim_end()
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_core::report::{TargetReport, TargetStatus};

    fn job(name: &str, status: TargetStatus, exit: i32, ts: &str) -> JobReport {
        let ok = status == TargetStatus::Ok;
        JobReport {
            source: format!("report-{name}"),
            markdown: Some(format!("### {name}\n")),
            report: Report {
                timestamp: ts.into(),
                command: "run".into(),
                total_targets: 1,
                successful: usize::from(ok),
                failed: usize::from(!ok),
                total_duration: 2.0,
                dry_run: false,
                forced: false,
                gates: vec![],
                targets: vec![TargetReport {
                    target: name.into(),
                    kind: "sync".into(),
                    direction: "pull".into(),
                    status,
                    message: "m|x".into(),
                    duration: 2.0,
                    outputs_created: vec![format!("{name}/a")],
                    verification_passed: None,
                    verification: None,
                    drifted: vec![],
                    actions: vec![],
                    conflicts: vec![],
                    findings: vec![],
                    output_tail: String::new(),
                    dry_run_mode: None,
                }],
                commit: None,
                push: None,
                exit_code: exit,
            },
        }
    }

    #[test]
    fn totals_add_up_and_the_worst_exit_wins() {
        let jobs = vec![
            job("a", TargetStatus::Ok, 0, "2026-01-01T00:00:05Z"),
            job("b", TargetStatus::Drift, 1, "2026-01-01T00:00:01Z"),
            job("c", TargetStatus::Ok, 0, "2026-01-01T00:00:03Z"),
        ];
        let m = merge_reports(&jobs).unwrap();
        assert_eq!((m.total_targets, m.successful, m.failed), (3, 2, 1));
        assert_eq!(m.exit_code, 1);
        assert_eq!(m.timestamp, "2026-01-01T00:00:01Z");
        assert_eq!(m.total_duration, 6.0);
        assert!(m.has_drift());
        let names: Vec<&str> = m.targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(worst(1, 2), 2);
        assert_eq!(worst(2, 1), 2);
        assert!(merge_reports(&[]).is_none());
    }

    #[test]
    fn markdown_has_one_table_and_each_job_folded() {
        let jobs = vec![
            job("a", TargetStatus::Ok, 0, "t"),
            job("b", TargetStatus::Failed, 2, "t"),
        ];
        let m = merge_reports(&jobs).unwrap();
        let md = merged_markdown(&m, &jobs);
        assert!(md.starts_with("## driftsync — ❌ error\n"), "{md}");
        assert!(
            md.contains("| a | sync | pull | ✅ ok | m\\|x | 2.0 |"),
            "{md}"
        );
        assert!(
            md.contains("<details><summary>report-b</summary>\n\n### b\n\n</details>"),
            "{md}"
        );
    }
}
