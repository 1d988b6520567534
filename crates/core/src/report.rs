//! The run report: what happened, for machines (`report.json`) and people (`report.md`).
//!
//! Every capability fills the same model; the renderers (Markdown, GitHub
//! summary, annotations, PR comment) read only this. The top-level and
//! per-target field names marked *stable* are what users already script
//! against: do not rename them.

use serde::{Deserialize, Serialize};

/// How serious a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[schemars(deny_unknown_fields)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Something new appeared (a table, an enum).
    Low,
    /// Something changed shape compatibly (a column added, nullability).
    Medium,
    /// Something changed incompatibly (a type, enum labels).
    High,
    /// Something was removed.
    Critical,
}

impl Severity {
    /// Lowercase name as used in config and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One thing worth pointing at: a drifted schema object, a secret, a file that
/// does not parse. With a file and line it becomes a CI annotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Finding {
    /// Stable machine code, e.g. `column-removed`, `secret-github-token`.
    pub code: String,
    /// How serious it is.
    pub severity: Severity,
    /// One line for people. Never contains a secret value.
    pub message: String,
    /// Repository-relative file the finding concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// What became of one planned action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub enum ActionOutcome {
    /// Only planned (dry run).
    Planned,
    /// Done.
    Applied,
    /// Not done, on purpose (changed under our feet, held back by validation).
    Skipped,
    /// Tried and failed.
    Failed,
}

/// One action of a sync plan, as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ActionRecord {
    /// The path acted on.
    pub path: String,
    /// `copy`, `delete`, `rename`, `adopt`…
    pub kind: String,
    /// `left→right`, `right→left`, `both`.
    pub direction: String,
    /// Why the plan chose this.
    pub reason: String,
    /// What happened.
    pub outcome: ActionOutcome,
    /// Extra detail (an error message, a backup location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A conflict left for a person or resolved by policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConflictRecord {
    /// The path in conflict.
    pub path: String,
    /// Why it is a conflict.
    pub reason: String,
    /// How the policy resolved it, or `unresolved`.
    pub resolution: String,
}

/// What a dry run did with a target or gate (absent outside dry runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub enum DryRunMode {
    /// It worked out what it would change without changing anything: a
    /// command target declaring `dry_run: true` ran with `DRIFTSYNC_DRY_RUN=1`;
    /// a sync, bundle or schema target planned.
    Previewed,
    /// Nothing ran: the report only says what would have run (a command
    /// target without `dry_run: true`, a command gate, a verification).
    Listed,
}

impl DryRunMode {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DryRunMode::Previewed => "previewed",
            DryRunMode::Listed => "listed",
        }
    }
}

/// The outcome of a gate (pre-sync, post-sync, drift).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GateResult {
    /// The gate's name from the config.
    pub name: String,
    /// `pre_sync`, `post_sync` or `drift`.
    pub phase: String,
    /// Passed?
    pub passed: bool,
    /// One line for people.
    pub message: String,
    /// What the gate found (secrets, invalid files…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// In a dry run, `listed` when this command gate was not run (it then
    /// counts as passed); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_mode: Option<DryRunMode>,
}

/// How a target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// Ran and succeeded (or nothing to do).
    Ok,
    /// Ran; found drift (check mode) or left conflicts.
    Drift,
    /// Failed.
    Failed,
    /// Not run (idempotent push with unchanged inputs, an earlier failure with --fail-fast…).
    Skipped,
}

impl TargetStatus {
    /// The status with its icon, as the Markdown reports show it.
    pub fn badge(self) -> &'static str {
        match self {
            TargetStatus::Ok => "✅ ok",
            TargetStatus::Drift => "⚠️ drift",
            TargetStatus::Failed => "❌ failed",
            TargetStatus::Skipped => "⏭️ skipped",
        }
    }
}

/// Text made safe for one Markdown table cell (pipes escaped, one line).
pub fn table_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Where the run's commit was pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PushRecord {
    /// The remote's name (`origin`).
    pub remote: String,
    /// The remote's URL, password redacted.
    pub url: String,
    /// The branch pushed to.
    pub branch: String,
    /// The commit the remote branch now points at.
    pub commit: String,
    /// Targets re-run after a concurrent push was fetched (empty when the first
    /// push went through).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rerun: Vec<String>,
}

/// One target's part of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TargetReport {
    /// *Stable.* The target's name.
    pub target: String,
    /// The target's type (`command`, `sync`, `bundle`, `schema`).
    #[serde(rename = "type")]
    pub kind: String,
    /// *Stable.* `pull`, `push` or `bidirectional`.
    pub direction: String,
    /// *Stable.* True unless the target failed or drifted.
    pub success: bool,
    /// How it ended.
    pub status: TargetStatus,
    /// *Stable.* One line for people.
    pub message: String,
    /// *Stable.* Seconds.
    pub duration: f64,
    /// *Stable.* Repository paths this target created or changed; a directory
    /// (ending in `/`) that an output glob takes whole and that changed
    /// wholesale stands for its files.
    pub outputs_created: Vec<String>,
    /// *Stable.* The verification outcome, when verification ran.
    pub verification_passed: Option<bool>,
    /// The verification's details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationResult>,
    /// Paths that differ from what they should be (check mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<String>,
    /// Sync actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionRecord>,
    /// Sync conflicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ConflictRecord>,
    /// Findings (schema drift, invalid files…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The last lines of the target's output (secrets masked).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output_tail: String,
    /// In a dry run: `previewed` (ran with `DRIFTSYNC_DRY_RUN=1`, or planned)
    /// or `listed` (nothing ran; `message` says what would). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_mode: Option<DryRunMode>,
}

/// Outcome of a target's verification command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VerificationResult {
    /// The command that ran.
    pub command: String,
    /// Passed?
    pub passed: bool,
    /// Exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The number parsed from its output, if any.
    pub value: Option<f64>,
    /// One line for people.
    pub message: String,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Report {
    /// *Stable.* When the run started, RFC 3339 UTC.
    pub timestamp: String,
    /// The command that produced it (`run`, `check`, `sync`, `schema check`…).
    pub command: String,
    /// *Stable.* Number of targets selected.
    pub total_targets: usize,
    /// *Stable.* Targets that succeeded.
    pub successful: usize,
    /// *Stable.* Targets that failed or drifted.
    pub failed: usize,
    /// *Stable.* Seconds for the whole run.
    pub total_duration: f64,
    /// True when nothing was changed on purpose.
    pub dry_run: bool,
    /// True when `--force` overrode a safety check.
    #[serde(default)]
    pub forced: bool,
    /// Gate outcomes in the order they ran.
    #[serde(default)]
    pub gates: Vec<GateResult>,
    /// *Stable.* Per target, in run order: the sync runner's `results`
    /// (reports written as `targets` by earlier versions are read too).
    #[serde(rename = "results", alias = "targets")]
    pub targets: Vec<TargetReport>,
    /// The commit the run made, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Where that commit was pushed, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushRecord>,
    /// The exit code the run ended with (0, 1 or 2).
    pub exit_code: i32,
}

impl Report {
    /// True when any target drifted or any gate failed: what `check` exits 1 on.
    pub fn has_drift(&self) -> bool {
        self.targets.iter().any(|t| t.status == TargetStatus::Drift)
            || self.gates.iter().any(|g| !g.passed)
    }

    /// Every finding of every gate and target, in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.gates
            .iter()
            .flat_map(|g| g.findings.iter())
            .chain(self.targets.iter().flat_map(|t| t.findings.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_mode_is_additive_and_absent_outside_dry_runs() {
        let gate = GateResult {
            name: "g".into(),
            phase: "pre_sync".into(),
            passed: true,
            message: String::new(),
            findings: Vec::new(),
            dry_run_mode: None,
        };
        let json = serde_json::to_value(&gate).unwrap();
        assert!(json.get("dry_run_mode").is_none());
        // Reports written before the field existed still load.
        let old: GateResult =
            serde_json::from_str(r#"{"name":"g","phase":"pre_sync","passed":true,"message":""}"#)
                .unwrap();
        assert_eq!(old, gate);
        let listed = GateResult {
            dry_run_mode: Some(DryRunMode::Listed),
            ..gate
        };
        assert_eq!(
            serde_json::to_value(&listed).unwrap()["dry_run_mode"],
            "listed"
        );
        assert_eq!(
            serde_json::to_string(&DryRunMode::Previewed).unwrap(),
            format!("\"{}\"", DryRunMode::Previewed.as_str())
        );
    }

    #[test]
    fn severity_orders_by_seriousness() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(
            serde_json::to_string(&Severity::Medium).unwrap(),
            "\"medium\""
        );
    }
}
