//! The run report: what happened, for machines (`report.json`) and people (`report.md`).
//!
//! Every capability fills the same model; the renderers (Markdown, GitHub
//! summary, annotations, PR comment) read only this. The top-level and
//! per-target field names marked *stable* are what users already script
//! against: do not rename them.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::schema::diff::ChangeCode;

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
    /// Every severity, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity a name (`high`, `High`) gives, or what to write instead:
    /// the one parser for sync.yaml's `fail_on` and the `--fail-on` flags.
    pub fn parse(name: &str) -> Result<Severity, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == name.to_ascii_lowercase())
            .ok_or_else(|| format!("`{name}` is not one of info, low, medium, high, critical"))
    }

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
    #[schemars(with = "String")]
    pub code: FindingCode,
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

/// The stable machine code of a [`Finding`]; in JSON, its kebab-case text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FindingCode {
    /// A schema difference (`column-removed`, `enum-added`…).
    Schema(ChangeCode),
    /// A file that does not parse as its kind (`invalid-file`).
    InvalidFile,
    /// A target left a change that is not committed (`uncommitted-change`).
    UncommittedChange,
    /// A sync passed over a path on purpose (`sync-path-skipped`).
    SyncPathSkipped,
    /// A recorded conflict decision no longer matches the files (`conflict-decision-stale`).
    ConflictDecisionStale,
    /// A committed schema docs page no longer matches the database (`docs-stale`).
    DocsStale,
    /// A secret matched by the named rule (`secret-RULE`).
    Secret(String),
    /// A code this version does not know (read from another version's report).
    Other(String),
}

impl FindingCode {
    /// The stable text, e.g. `column-removed`, `secret-github-token`.
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            FindingCode::Schema(c) => Cow::Borrowed(c.as_str()),
            FindingCode::InvalidFile => Cow::Borrowed("invalid-file"),
            FindingCode::UncommittedChange => Cow::Borrowed("uncommitted-change"),
            FindingCode::SyncPathSkipped => Cow::Borrowed("sync-path-skipped"),
            FindingCode::ConflictDecisionStale => Cow::Borrowed("conflict-decision-stale"),
            FindingCode::DocsStale => Cow::Borrowed("docs-stale"),
            FindingCode::Secret(rule) => Cow::Owned(format!("secret-{rule}")),
            FindingCode::Other(code) => Cow::Borrowed(code),
        }
    }

    /// The code a text names (every text names one: unknown ones are `Other`).
    pub fn parse(text: &str) -> FindingCode {
        let fixed = [
            FindingCode::InvalidFile,
            FindingCode::UncommittedChange,
            FindingCode::SyncPathSkipped,
            FindingCode::ConflictDecisionStale,
            FindingCode::DocsStale,
        ];
        if let Some(code) = fixed.into_iter().find(|c| c.as_str() == text) {
            return code;
        }
        if let Some(c) = ChangeCode::ALL.iter().find(|c| c.as_str() == text) {
            return FindingCode::Schema(*c);
        }
        match text.strip_prefix("secret-") {
            Some(rule) => FindingCode::Secret(rule.to_string()),
            None => FindingCode::Other(text.to_string()),
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl PartialEq<str> for FindingCode {
    fn eq(&self, text: &str) -> bool {
        self.as_str() == text
    }
}

impl PartialEq<&str> for FindingCode {
    fn eq(&self, text: &&str) -> bool {
        self.as_str() == *text
    }
}

impl From<&str> for FindingCode {
    fn from(text: &str) -> FindingCode {
        FindingCode::parse(text)
    }
}

impl From<ChangeCode> for FindingCode {
    fn from(c: ChangeCode) -> FindingCode {
        FindingCode::Schema(c)
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FindingCode, D::Error> {
        Ok(FindingCode::parse(&String::deserialize(d)?))
    }
}

/// How a sync conflict ended; in JSON, one line of text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// A policy or a person chose; the text says how ("left wins (policy
    /// local); right's version backed up", "keep both: …").
    Resolved(String),
    /// Left for a person to decide with `driftsync conflicts` (policy `manual`).
    Manual,
    /// Left for a person; the text (starting `left for a person`) says what
    /// to do.
    ForAPerson(String),
    /// Left as it is (policy `skip` or `fail`).
    Unresolved,
}

impl Resolution {
    /// The text of [`Resolution::Manual`].
    pub const MANUAL: &'static str =
        "unresolved: both versions kept for review (on_conflict manual)";

    /// True when no action resolves it.
    pub fn is_unresolved(&self) -> bool {
        !matches!(self, Resolution::Resolved(_))
    }

    /// The text, as reports and lines show it.
    pub fn as_str(&self) -> &str {
        match self {
            Resolution::Resolved(how) | Resolution::ForAPerson(how) => how,
            Resolution::Manual => Resolution::MANUAL,
            Resolution::Unresolved => "unresolved",
        }
    }

    /// The resolution a report's text names.
    pub fn parse(text: &str) -> Resolution {
        match text {
            "unresolved" => Resolution::Unresolved,
            Resolution::MANUAL => Resolution::Manual,
            how if how.starts_with("left for a person") => Resolution::ForAPerson(how.to_string()),
            how => Resolution::Resolved(how.to_string()),
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Resolution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Resolution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Resolution, D::Error> {
        Ok(Resolution::parse(&String::deserialize(d)?))
    }
}

/// When a gate ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GatePhase {
    /// Before any target (`safety.pre_sync_checks`).
    PreSync,
    /// After the targets (`safety.post_sync_checks`).
    PostSync,
    /// The drift gate of `check` (uncommitted changes).
    Drift,
    /// The run's commit.
    Commit,
    /// The run's push.
    Push,
}

impl GatePhase {
    /// The name used in reports and configs (`pre_sync`).
    pub fn as_str(self) -> &'static str {
        match self {
            GatePhase::PreSync => "pre_sync",
            GatePhase::PostSync => "post_sync",
            GatePhase::Drift => "drift",
            GatePhase::Commit => "commit",
            GatePhase::Push => "push",
        }
    }
}

impl fmt::Display for GatePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    #[schemars(with = "String")]
    pub resolution: Resolution,
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
    /// When it ran: `pre_sync`, `post_sync`, `drift`, `commit` or `push`.
    pub phase: GatePhase,
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
    /// Not run, and nothing was wrong with that (an idempotent push with
    /// unchanged inputs, a command with nothing to do).
    Skipped,
    /// Not run because something before it failed (a pre-sync check, an
    /// earlier target with `--fail-fast`): a failure. Written `skipped`, with
    /// `success: false`.
    #[serde(rename = "skipped", skip_deserializing)]
    NotRun,
}

impl TargetStatus {
    /// True unless the target failed, drifted or could not run: what a
    /// report's `success` says.
    pub fn is_success(self) -> bool {
        matches!(self, TargetStatus::Ok | TargetStatus::Skipped)
    }

    /// The name used in reports (`ok`, `drift`, `failed`, `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Ok => "ok",
            TargetStatus::Drift => "drift",
            TargetStatus::Failed => "failed",
            TargetStatus::Skipped | TargetStatus::NotRun => "skipped",
        }
    }

    /// The status with its icon, as the Markdown reports show it.
    pub fn badge(self) -> &'static str {
        match self {
            TargetStatus::Ok => "✅ ok",
            TargetStatus::Drift => "⚠️ drift",
            TargetStatus::Failed => "❌ failed",
            TargetStatus::Skipped | TargetStatus::NotRun => "⏭️ skipped",
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
///
/// `success` is not stored: it is [`TargetReport::success`], read from the
/// status. In JSON it is written out (the wire form is [`TargetReportJson`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "TargetReportJson", into = "TargetReportJson")]
pub struct TargetReport {
    /// *Stable.* The target's name.
    pub target: String,
    /// The target's type (`command`, `sync`, `bundle`, `schema`).
    pub kind: String,
    /// *Stable.* `pull`, `push` or `bidirectional`.
    pub direction: String,
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
    pub verification: Option<VerificationResult>,
    /// Paths that differ from what they should be (check mode).
    pub drifted: Vec<String>,
    /// Sync actions.
    pub actions: Vec<ActionRecord>,
    /// Sync conflicts.
    pub conflicts: Vec<ConflictRecord>,
    /// Findings (schema drift, invalid files…).
    pub findings: Vec<Finding>,
    /// The last lines of the target's output (secrets masked).
    pub output_tail: String,
    /// In a dry run: `previewed` (ran with `DRIFTSYNC_DRY_RUN=1`, or planned)
    /// or `listed` (nothing ran; `message` says what would). Absent otherwise.
    pub dry_run_mode: Option<DryRunMode>,
}

/// A [`TargetReport`] as `report.json` writes it, with `success` spelled out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields, rename = "TargetReport")]
pub struct TargetReportJson {
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

impl TargetReport {
    /// True unless the target failed, drifted or could not run.
    pub fn success(&self) -> bool {
        self.status.is_success()
    }
}

/// Builds one of the two forms of a target report from the other, naming
/// the fields they share once.
macro_rules! target_report {
    ($to:ident from $from:ident, $($extra:ident: $value:expr),*) => {
        $to {
            $($extra: $value,)*
            target: $from.target,
            kind: $from.kind,
            direction: $from.direction,
            message: $from.message,
            duration: $from.duration,
            outputs_created: $from.outputs_created,
            verification_passed: $from.verification_passed,
            verification: $from.verification,
            drifted: $from.drifted,
            actions: $from.actions,
            conflicts: $from.conflicts,
            findings: $from.findings,
            output_tail: $from.output_tail,
            dry_run_mode: $from.dry_run_mode,
        }
    };
}

impl From<TargetReport> for TargetReportJson {
    fn from(t: TargetReport) -> TargetReportJson {
        target_report!(TargetReportJson from t, success: t.success(), status: t.status)
    }
}

impl From<TargetReportJson> for TargetReport {
    /// A `skipped` target that did not succeed was not run because of an
    /// earlier failure.
    fn from(t: TargetReportJson) -> TargetReport {
        let status = match (t.status, t.success) {
            (TargetStatus::Skipped, false) => TargetStatus::NotRun,
            (status, _) => status,
        };
        target_report!(TargetReport from t, status: status)
    }
}

impl schemars::JsonSchema for TargetReport {
    fn schema_name() -> Cow<'static, str> {
        TargetReportJson::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        TargetReportJson::json_schema(generator)
    }
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
            phase: GatePhase::PreSync,
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
    fn success_is_read_from_the_status_and_the_json_is_unchanged() {
        let json = |status: &str, success: bool| {
            format!(
                r#"{{"target":"t","type":"command","direction":"push","success":{success},"status":"{status}","message":"","duration":0.0,"outputs_created":[],"verification_passed":null}}"#
            )
        };
        for (status, success, typed) in [
            ("ok", true, TargetStatus::Ok),
            ("drift", false, TargetStatus::Drift),
            ("failed", false, TargetStatus::Failed),
            ("skipped", true, TargetStatus::Skipped),
            ("skipped", false, TargetStatus::NotRun),
        ] {
            let text = json(status, success);
            let t: TargetReport = serde_json::from_str(&text).unwrap();
            assert_eq!((t.status, t.success()), (typed, success), "{text}");
            assert_eq!(serde_json::to_string(&t).unwrap(), text);
        }
    }

    #[test]
    fn codes_resolutions_and_phases_keep_their_text() {
        for text in [
            "column-removed",
            "invalid-file",
            "uncommitted-change",
            "sync-path-skipped",
            "conflict-decision-stale",
            "docs-stale",
            "secret-github-token",
            "something-newer",
        ] {
            let code = FindingCode::parse(text);
            assert_eq!(code.as_str(), text);
            assert_eq!(serde_json::to_value(&code).unwrap(), text);
        }
        assert_eq!(
            FindingCode::parse("column-removed"),
            FindingCode::Schema(ChangeCode::ColumnRemoved)
        );
        assert_eq!(
            FindingCode::parse("secret-aws-key"),
            FindingCode::Secret("aws-key".into())
        );
        for r in [
            Resolution::Unresolved,
            Resolution::Manual,
            Resolution::Resolved("left wins (policy local); right's version backed up".into()),
            Resolution::ForAPerson("left for a person: import under a new version".into()),
        ] {
            let back: Resolution =
                serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
        assert!(Resolution::Manual.is_unresolved() && Resolution::Unresolved.is_unresolved());
        assert_eq!(
            serde_json::to_value(GatePhase::PostSync).unwrap(),
            GatePhase::PostSync.as_str()
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
