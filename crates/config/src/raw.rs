//! The file as written: plain serde structs that reject unknown keys.
//!
//! These types are also the source of `driftsync config schema`. Semantic
//! validation happens in `resolve`, which turns them into the types of `model`.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `.driftsync/sync.yaml`: targets to keep in step, and the safety rails around them.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Format version; write "1.0".
    pub version: Option<String>,
    /// Values every target inherits unless it sets its own.
    #[serde(default)]
    pub defaults: RawDefaults,
    /// The named targets, run in file order.
    #[serde(default)]
    pub targets: IndexMap<String, RawTarget>,
    /// Gates around a run: secret scanning, clean tree, validity, drift limits.
    #[serde(default)]
    pub safety: RawSafety,
    /// Chat and webhook notifications sent after `run` and `check` (never in a dry run).
    pub notify: Option<Vec<RawNotify>>,
}

/// Defaults inherited by every target.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// `pull`, `push` or `bidirectional`.
    pub direction: Option<String>,
    /// Run everything as a dry run unless `--dry-run` is given anyway.
    pub dry_run: Option<bool>,
    /// A run whose outputs changed exits 1 (a drift check) instead of committing.
    pub fail_on_diff: Option<bool>,
    /// Commit pull outputs (and state) after a good run.
    pub git_commit: Option<bool>,
    /// Push the run's commit to the branch's upstream (`origin`). Unset: push
    /// in GitHub Actions when a token (`GITHUB_TOKEN`) is present.
    pub git_push: Option<bool>,
    /// Conflict policy of two-way targets: newer, local, remote, keep-both, skip, fail, manual
    /// (the source tools' names are accepted too: newer_wins, newest_wins, local_wins,
    /// remote_wins, directory_wins, space_wins, backup_both; `-` or `_`).
    pub on_conflict: Option<String>,
    /// Default timeout of every target, e.g. `20m`.
    pub timeout: Option<String>,
    /// Targets may be run again with the same effect (default true): after a
    /// rejected push their pull outputs are re-made on the new tip, and
    /// `run --retry N` re-runs them when they fail.
    pub idempotent: Option<bool>,
    /// `driftsync run --pull-request`: the branch, labels, reviewers, draft
    /// and auto-merge of the pull request the run proposes.
    pub pull_request: Option<RawPullRequest>,
}

/// `defaults.pull_request`: how `run --pull-request` proposes its commit.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPullRequest {
    /// The branch the commit goes to; default `driftsync/<target>` (one
    /// target selected) or `driftsync/<schedule name or 'sync'>`.
    pub branch: Option<String>,
    /// The branch the pull request merges into; default the checkout's branch.
    pub base: Option<String>,
    /// Labels added to the pull request.
    pub labels: Option<Vec<String>>,
    /// Users asked to review the pull request.
    pub reviewers: Option<Vec<String>>,
    /// Open it as a draft.
    pub draft: Option<bool>,
    /// Enable auto-merge with this method: `merge`, `squash` or `rebase`.
    pub auto_merge: Option<String>,
}

/// One target. Fields are shared by all types unless marked with a type;
/// a field of another type is an error that names the type it belongs to.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// The target's type: `command`, `sync`, `bundle` or `schema`; it may be
    /// left out when `entrypoint` or `run` is given (then it is `command`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `pull` (remote → repository), `push` (repository → remote) or `bidirectional`.
    pub direction: Option<String>,
    /// One line for people.
    pub description: Option<String>,
    /// Five-field cron expression; `run --schedule` selects on it.
    pub schedule: Option<String>,
    /// Longest the target may run, e.g. `20m`; the whole process group is killed after.
    pub timeout: Option<String>,
    /// Globs of repository paths a pull writes; committed after a good run.
    pub outputs: Option<Vec<String>>,
    /// Globs of repository paths a push reads; unchanged inputs skip the push.
    pub inputs: Option<Vec<String>>,
    /// A command run after the target (with `--verify`) to check its result.
    pub verification: Option<RawVerification>,
    /// Commit this target's outputs (overrides `defaults.git_commit`).
    pub git_commit: Option<bool>,
    /// Changed outputs exit 1 instead of being committed (overrides `defaults.fail_on_diff`).
    pub fail_on_diff: Option<bool>,
    /// May be run again with the same effect (overrides `defaults.idempotent`,
    /// default true): re-run after a rejected push and on `run --retry N`.
    pub idempotent: Option<bool>,

    // ---- type: command ----
    /// (command) Executable path relative to the repository root.
    pub entrypoint: Option<String>,
    /// (command) A shell line run with `sh -c`, instead of `entrypoint`.
    pub run: Option<String>,
    /// (command) Extra environment variables; values may use `${VAR}`.
    pub env: Option<BTreeMap<String, String>>,
    /// (command) Free-form settings passed as JSON in `DRIFTSYNC_CONFIG`.
    pub config: Option<serde_json::Value>,
    /// (command) The entrypoint supports dry runs: under `--dry-run` (or `defaults.dry_run`)
    /// it runs with `DRIFTSYNC_DRY_RUN=1` and must change nothing. Without it a dry run only
    /// lists what the target would run (default false).
    pub dry_run: Option<bool>,

    // ---- type: sync ----
    /// (sync, bundle, schema) The repository directory kept in step, relative to the
    /// repository root (bundle: the folder holding one directory per bundle, default
    /// `frameworks/`; schema: the directory of the generated Python modules).
    pub local: Option<String>,
    /// (sync) The other copy: a directory, `s3://…`, `gs://…`, `az://…`, `file:…`, `sqlite://…`, `postgres://…`; may use `${VAR}`.
    pub remote: Option<String>,
    /// (sync) Only paths matching these globs are synced.
    pub include: Option<Vec<String>>,
    /// (sync) Paths matching these globs are left out.
    pub exclude: Option<Vec<String>>,
    /// (sync) Conflict policy (overrides `defaults.on_conflict`): newer, local, remote, keep-both, skip, fail, manual.
    pub on_conflict: Option<String>,
    /// (sync) One-way targets also delete destination files the source does not have.
    pub delete_orphans: Option<bool>,
    /// (sync) Refuse plans deleting more than this of one side: `25%` or a file count (default 50%).
    pub max_delete: Option<RawCount>,
    /// (sync) Actions applied in parallel (default 8).
    pub concurrency: Option<usize>,
    /// (sync) Retries of a transient failure (default 3).
    pub retries: Option<u32>,
    /// (sync) First retry's delay, doubled for each further one, with jitter
    /// (default `200ms`), e.g. `1s`.
    pub retry_delay: Option<String>,
    /// (sync) Also honour `.gitignore` files in the local directory.
    pub gitignore: Option<bool>,
    /// (sync) Folder of an object-store remote, relative to its prefix, that keeps a copy of every
    /// object a run overwrites or deletes, under `<backup_prefix><run>/` (default `.driftsync-backup/`).
    pub backup_prefix: Option<String>,
    /// (sync) Keep a copy of every file a run overwrites or deletes, for `driftsync restore`
    /// (default `true`). `false`: an edited object costs one request instead of two.
    pub backup: Option<bool>,
    /// (sync) File kinds parsed before they are propagated: `yaml`, `json`, `toml` (by extension);
    /// one that does not parse is held back and reported with file:line.
    pub validate: Option<Vec<String>>,
    /// (sync) Shell commands run once after the target changed something; `DRIFTSYNC_CHANGED`
    /// names a file listing the changed paths, `DRIFTSYNC_TARGET` the target.
    pub after: Option<Vec<String>>,
    /// (sync) Deadline of one operation on the remote, e.g. `30s`: one request to a bucket (default
    /// 30s); the connection and each statement or lock wait of a database (PostgreSQL
    /// `statement_timeout`, SQLite `busy_timeout`; default: no statement deadline, 30s for an SQLite
    /// lock); each file operation of a directory, for a mount that may hang (default: none).
    pub request_timeout: Option<String>,
    /// (sync) Several repository directories synced with one remote, instead of `local` (source
    /// document 003's name): each pairs with the remote's folder of its own name
    /// (`custom_templates/` ↔ `<remote>/custom_templates/`) and keeps its own base; the target runs
    /// as one target per folder, `<name>.<folder>`.
    pub template_paths: Option<Vec<String>>,
    // ---- type: bundle ----
    /// (bundle, schema) Database URL; use `${DATABASE_URL}` for secrets (bundle default
    /// `sqlite://.driftsync/frameworks.db`).
    pub database: Option<String>,
    // ---- type: schema ----
    /// (schema) Lowest finding severity that is drift: info, low, medium, high, critical (default low).
    pub fail_on: Option<String>,
    /// (schema) Only these database schemas (default: every non-system schema).
    pub schemas: Option<Vec<String>>,
    /// (schema) Never these database schemas.
    pub exclude_schemas: Option<Vec<String>>,
    /// (schema) Class names for tables or enums (`properties: Property`).
    pub class_names: Option<BTreeMap<String, String>>,
    /// (schema) Python types for database types (`citext: str`, `jsonb: mylib.Json`).
    pub type_overrides: Option<BTreeMap<String, String>>,
    /// (schema) Classes per table: `row` (always), `insert`, `update` — Supabase-style
    /// `…Insert` / `…Update` TypedDicts beside the row type (default `[row]`).
    pub variants: Option<Vec<String>>,
    /// (schema) How row types are written: `typeddict` (default) or `pydantic` (BaseModel rows).
    pub style: Option<String>,
    /// (schema) Folder of Markdown schema docs that `run` regenerates with the modules and
    /// `check` reports as `docs-stale` when they are out of date (list it in `outputs`).
    pub docs: Option<String>,
    // New target types add their fields here, in a block like the one above.
}

/// A percentage (`25%`) or a plain number.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawCount {
    /// A number of files.
    Number(u64),
    /// Text such as `25%`.
    Text(String),
}

/// A verification command.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVerification {
    /// Shell line to run in the repository root.
    pub command: String,
    /// Its output, parsed as a number, must be at least this.
    pub expected_min: Option<f64>,
    /// Its exit code must be this (default 0 when `expected_min` is absent).
    pub expected_exit_code: Option<i32>,
    /// Longest it may run (default 5m).
    pub timeout: Option<String>,
}

/// Gates around a run.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    /// Extra regular expressions the `secrets` gate looks for (case-insensitive),
    /// besides the built-in token formats.
    pub secret_patterns: Option<Vec<String>>,
    /// File of accepted findings for the `secrets` gate (default `.driftsync/secrets-allowlist`).
    pub secrets_allowlist: Option<String>,
    /// Checks before any target runs; a failure stops the run (exit 1).
    pub pre_sync_checks: Option<Vec<RawCheck>>,
    /// Checks after the targets ran.
    pub post_sync_checks: Option<Vec<RawCheck>>,
    /// Commands printing a number that must stay within bounds.
    pub drift_gates: Option<Vec<RawDriftGate>>,
}

/// A pre- or post-sync check: a built-in or a command.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Name shown in the report.
    pub name: String,
    /// `git_clean`, `secrets` or `validate`.
    pub builtin: Option<String>,
    /// Shell line to run in the repository root.
    pub command: Option<String>,
    /// Exit code that passes (default 0).
    pub expected_exit_code: Option<i32>,
    /// (validate) Globs of files that must parse as JSON/YAML/TOML.
    pub paths: Option<Vec<String>>,
    /// Skip this check when only pull targets run.
    pub skip_on_pull: Option<bool>,
    /// Skip this check when only push targets run.
    pub skip_on_push: Option<bool>,
    /// Longest the command may run (default 5m).
    pub timeout: Option<String>,
}

/// A drift gate: a command that prints a number, checked against bounds.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDriftGate {
    /// Name shown in the report.
    pub name: String,
    /// Shell line printing a number (the last number in its output counts).
    pub command: String,
    /// The number must be at least this.
    pub min_value: Option<f64>,
    /// The number must be at most this.
    pub max_value: Option<f64>,
    /// The number is a drift score and must be at most this.
    pub max_drift_score: Option<f64>,
    /// Longest the command may run (default 5m).
    pub timeout: Option<String>,
}

/// One notification endpoint: where to post the run's summary, and when.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    /// `slack`, `mattermost`, `teams` (a Teams Workflows webhook) or `webhook` (generic JSON).
    pub kind: String,
    /// The incoming-webhook URL, a secret: write `${SLACK_WEBHOOK_URL}` and keep the value in
    /// the CI's secrets. Only its scheme and host are ever printed.
    pub url: String,
    /// When to send: `failure`, `drift`, `always` (one or a list; default `[failure, drift]`).
    pub on: Option<RawOneOrMany>,
    /// Name shown in driftsync's own messages (default: the kind).
    pub name: Option<String>,
    /// Longest one attempt may take, e.g. `10s` (default 10s).
    pub timeout: Option<String>,
    /// Only these targets (globs of target names) count and are listed.
    pub targets: Option<Vec<String>>,
    /// (mattermost) The user name the post shows.
    pub username: Option<String>,
}

/// One value or a list of values.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawOneOrMany {
    /// A single value.
    One(String),
    /// A list.
    Many(Vec<String>),
}
