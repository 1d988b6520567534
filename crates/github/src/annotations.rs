//! Findings with a file and line become annotations, within GitHub's limits.
//!
//! GitHub shows at most 10 error, 10 warning and 10 notice annotations per
//! step (and 50 per job); more are silently dropped. We pick the most severe
//! first and say, in one notice, how many were left out so nobody is misled.

use std::collections::BTreeMap;

use driftsync_core::report::{Finding, Report, Severity};

use crate::workflow_commands::{command, Level};

/// Per-step limit of workflow-command annotations for each level.
pub const PER_STEP_LIMIT: usize = 10;

/// One annotation: a finding pinned to a file position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Error, warning or notice.
    pub level: Level,
    /// Repository-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, if known.
    pub column: Option<u32>,
    /// Short title (the finding's code).
    pub title: String,
    /// The finding's message.
    pub message: String,
}

impl Annotation {
    /// The `::error file=…,line=…::message` line.
    pub fn to_command(&self) -> String {
        let mut props = vec![("file", self.file.clone()), ("line", self.line.to_string())];
        if let Some(col) = self.column {
            props.push(("col", col.to_string()));
        }
        props.push(("title", self.title.clone()));
        command(self.level.command(), &props, &self.message)
    }
}

/// The level a finding of this severity is shown at.
pub fn level_for(severity: Severity) -> Level {
    match severity {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium | Severity::Low => Level::Warning,
        Severity::Info => Level::Notice,
    }
}

/// Every finding of the report that has a file and a line, most severe first
/// (stable within a severity).
pub fn annotations_for(report: &Report) -> Vec<Annotation> {
    annotations_of(report.findings())
}

/// The annotations of some findings (those with a file and a line), most
/// severe first (stable within a severity): what every command that prints
/// findings in CI shows.
pub fn annotations_of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<Annotation> {
    let mut found: Vec<(&Finding, Annotation)> = findings
        .into_iter()
        .filter_map(|f| {
            let file = f.file.as_ref()?;
            let line = f.line?;
            Some((
                f,
                Annotation {
                    level: level_for(f.severity),
                    file: file.clone(),
                    line: line.max(1),
                    column: f.column,
                    title: format!("{} ({})", f.code, f.severity.as_str()),
                    message: f.message.clone(),
                },
            ))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0.severity));
    found.into_iter().map(|(_, a)| a).collect()
}

/// The annotations one step may emit, plus what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnnotationSet {
    /// Annotations within the per-step limits, most severe first.
    pub shown: Vec<Annotation>,
    /// How many were left out, per level.
    pub omitted: BTreeMap<Level, usize>,
}

impl AnnotationSet {
    /// Keep at most [`PER_STEP_LIMIT`] per level; when anything is left out,
    /// one notice slot is kept free for the overflow summary.
    pub fn limit(all: Vec<Annotation>) -> AnnotationSet {
        let total_over = [Level::Error, Level::Warning, Level::Notice]
            .iter()
            .any(|l| all.iter().filter(|a| a.level == *l).count() > PER_STEP_LIMIT);
        let mut set = AnnotationSet::default();
        let mut counts: BTreeMap<Level, usize> = BTreeMap::new();
        for a in all {
            let cap = if a.level == Level::Notice && total_over {
                PER_STEP_LIMIT - 1
            } else {
                PER_STEP_LIMIT
            };
            let n = counts.entry(a.level).or_default();
            if *n < cap {
                *n += 1;
                set.shown.push(a);
            } else {
                *set.omitted.entry(a.level).or_default() += 1;
            }
        }
        set
    }

    /// Total annotations left out.
    pub fn omitted_total(&self) -> usize {
        self.omitted.values().sum()
    }

    /// The overflow notice, when something was left out.
    pub fn overflow_notice(&self) -> Option<String> {
        if self.omitted.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .omitted
            .iter()
            .rev()
            .map(|(l, n)| format!("{n} {}{}", l.command(), if *n == 1 { "" } else { "s" }))
            .collect();
        Some(format!(
            "{} more finding(s) not shown as annotations (GitHub shows {PER_STEP_LIMIT} per level and step): {}. See the job summary or report.json for all of them.",
            self.omitted_total(),
            parts.join(", ")
        ))
    }

    /// Every line to print: the annotations, then the overflow notice.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.shown.iter().map(Annotation::to_command).collect();
        if let Some(n) = self.overflow_notice() {
            lines.push(command("notice", &[("title", "driftsync".into())], &n));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_core::report::{TargetReport, TargetStatus};

    pub(crate) fn finding(sev: Severity, file: Option<&str>, line: Option<u32>) -> Finding {
        Finding {
            code: "column-removed".into(),
            severity: sev,
            message: "column users.email removed".into(),
            file: file.map(String::from),
            line,
            column: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            timestamp: "2026-01-01T00:00:00Z".into(),
            command: "check".into(),
            total_targets: 1,
            successful: 0,
            failed: 1,
            total_duration: 1.0,
            dry_run: false,
            forced: false,
            gates: vec![],
            targets: vec![TargetReport {
                target: "db".into(),
                kind: "schema".into(),
                direction: "pull".into(),
                status: TargetStatus::Drift,
                message: "drift".into(),
                duration: 1.0,
                outputs_created: vec![],
                verification_passed: None,
                verification: None,
                drifted: vec![],
                actions: vec![],
                conflicts: vec![],
                findings,
                output_tail: String::new(),
                dry_run_mode: None,
            }],
            commit: None,
            push: None,
            exit_code: 1,
        }
    }

    #[test]
    fn only_findings_with_file_and_line_are_annotated_most_severe_first() {
        let r = report(vec![
            finding(Severity::Low, Some("a.py"), Some(2)),
            finding(Severity::Critical, Some("b.py"), Some(5)),
            finding(Severity::High, None, Some(1)),
            finding(Severity::High, Some("c.py"), None),
        ]);
        let a = annotations_for(&r);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].file, "b.py");
        assert_eq!(a[0].level, Level::Error);
        assert_eq!(a[1].level, Level::Warning);
        assert_eq!(
            a[0].to_command(),
            "::error file=b.py,line=5,title=column-removed (critical)::column users.email removed"
        );
    }

    #[test]
    fn overflow_is_limited_per_level_and_summarised() {
        let mut fs = vec![];
        for i in 0..13 {
            fs.push(finding(Severity::High, Some("x.py"), Some(i + 1)));
        }
        for i in 0..4 {
            fs.push(finding(Severity::Medium, Some("y.py"), Some(i + 1)));
        }
        let set = AnnotationSet::limit(annotations_for(&report(fs)));
        assert_eq!(
            set.shown.iter().filter(|a| a.level == Level::Error).count(),
            10
        );
        assert_eq!(
            set.shown
                .iter()
                .filter(|a| a.level == Level::Warning)
                .count(),
            4
        );
        assert_eq!(set.omitted_total(), 3);
        let lines = set.lines();
        assert_eq!(lines.len(), 15);
        let last = lines.last().unwrap();
        assert!(
            last.starts_with("::notice title=driftsync::3 more finding(s)"),
            "{last}"
        );
        assert!(last.contains("3 errors"), "{last}");
    }

    #[test]
    fn no_overflow_no_notice() {
        let set = AnnotationSet::limit(annotations_for(&report(vec![finding(
            Severity::Info,
            Some("z"),
            Some(0),
        )])));
        assert_eq!(set.shown[0].line, 1, "line 0 is clamped to 1");
        assert_eq!(set.lines().len(), 1);
        assert!(set.overflow_notice().is_none());
    }
}
