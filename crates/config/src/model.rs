//! The validated configuration: types that cannot hold a bad value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use driftsync_core::redact::Secret;
use driftsync_core::RelPath;

use crate::cron::Cron;
use crate::glob::GlobList;
use crate::locate::Pos;

/// A loaded, validated `.driftsync/sync.yaml`.
#[derive(Debug)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// The repository root every path in the file is relative to.
    pub root: PathBuf,
    /// Format version (`1.0`).
    pub version: String,
    /// Defaults, already applied to every target.
    pub defaults: Defaults,
    /// Targets in file order.
    pub targets: Vec<Target>,
    /// Gates around a run.
    pub safety: Safety,
    /// Values read from the environment by `${VAR}`: mask them in every log.
    pub interpolated: Vec<EnvRead>,
    /// Notifications sent after `run` and `check`.
    pub notify: Vec<crate::notify::Notify>,
    /// `${VAR}`s that are not set. Listing and validating the file do not
    /// need them; running a target that uses one (or a check that does) is an
    /// error: see [`Config::require_env`].
    pub unset: Vec<UnsetVar>,
}

/// A `${VAR}` that is not set (and has no default).
#[derive(Clone, Debug)]
pub struct UnsetVar {
    /// The target using it; `None` for the file's other sections.
    pub target: Option<String>,
    /// Where, and what to do.
    pub diagnostic: crate::Diagnostic,
}

impl Config {
    /// The target called `name`.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The unset `${VAR}`s that `targets` (and the safety checks, which run
    /// with every selection) need, as an error naming each place.
    pub fn require_env<'a>(
        &self,
        targets: impl IntoIterator<Item = &'a Target>,
    ) -> Result<(), crate::ConfigError> {
        let names: Vec<&str> = targets.into_iter().map(|t| t.name.as_str()).collect();
        let missing: Vec<crate::Diagnostic> = self
            .unset
            .iter()
            .filter(|u| u.target.as_deref().is_none_or(|t| names.contains(&t)))
            .map(|u| u.diagnostic.clone())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(crate::ConfigError::Invalid(missing))
        }
    }
}

/// One environment variable read while loading the file.
#[derive(Clone, Debug)]
pub struct EnvRead {
    /// Variable name.
    pub name: String,
    /// Its value (prints as `***`).
    pub value: Secret,
}

/// Which way a target moves data (the core's type: `pull` is remote →
/// repository, `push` repository → remote).
pub use driftsync_core::Direction;
/// Conflict policy of two-way targets (DESIGN §3): the core's type, so config,
/// flags and the engine share one set of names and aliases.
pub use driftsync_core::Policy;

/// `defaults:` after validation.
#[derive(Clone, Debug)]
pub struct Defaults {
    /// Default direction.
    pub direction: Direction,
    /// Every run is a dry run.
    pub dry_run: bool,
    /// Changed outputs exit 1 instead of committing.
    pub fail_on_diff: bool,
    /// Commit pull outputs after a good run.
    pub git_commit: bool,
    /// Push the run's commit: `Some(true)` always, `Some(false)` never,
    /// `None` in GitHub Actions with a token.
    pub git_push: Option<bool>,
    /// Default conflict policy.
    pub on_conflict: Policy,
    /// Default timeout.
    pub timeout: Option<Duration>,
    /// Targets may be re-run (default true).
    pub idempotent: bool,
    /// `defaults.pull_request`: settings of `run --pull-request`.
    pub pull_request: PullRequestSettings,
}

/// How `run --pull-request` proposes the run's commit (`defaults.pull_request`);
/// command-line flags win over these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullRequestSettings {
    /// The branch the commit goes to (validated as a git branch name).
    pub branch: Option<String>,
    /// The branch the pull request merges into.
    pub base: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
    /// Reviewers to request.
    pub reviewers: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
    /// Auto-merge method: `merge`, `squash` or `rebase`.
    pub auto_merge: Option<String>,
}

/// The auto-merge methods GitHub accepts (`PullRequestMergeMethod`), lower case.
pub const AUTO_MERGE_METHODS: [&str; 3] = ["merge", "squash", "rebase"];

/// True when `name` is a branch name git and GitHub accept (a subset of
/// `git check-ref-format --branch`: no spaces, control characters, `..`,
/// `~^:?*[\`, `@{`, leading `-` or `/`, trailing `/`, `.` or `.lock`).
pub fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.contains("/.")
        && name != "@"
        && !name
            .chars()
            .any(|c| c.is_control() || c == ' ' || "~^:?*[\\".contains(c))
}

/// One validated target.
#[derive(Debug)]
pub struct Target {
    /// Its name (the key under `targets:`), safe for a file name.
    pub name: String,
    /// Type and type-specific settings.
    pub kind: TargetKind,
    /// Which way it moves data.
    pub direction: Direction,
    /// One line for people.
    pub description: Option<String>,
    /// When the scheduled workflow runs it.
    pub schedule: Option<Cron>,
    /// Longest it may run.
    pub timeout: Option<Duration>,
    /// What a pull writes (committed).
    pub outputs: GlobList,
    /// What a push reads (hashed for idempotence).
    pub inputs: GlobList,
    /// Verification run with `--verify`.
    pub verification: Option<Verification>,
    /// Commit its outputs.
    pub git_commit: bool,
    /// Changed outputs exit 1.
    pub fail_on_diff: bool,
    /// May be re-run with the same effect: after a rejected push, on `--retry`.
    pub idempotent: bool,
    /// The target as written, when it was split into this one and others (a
    /// sync target with several `template_paths`): `--target` selects by it too.
    pub group: Option<String>,
    /// Where the target is defined in the file.
    pub pos: Pos,
}

impl Target {
    /// The type name as written in the file (`command`, …).
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// The type of a target and its type-specific settings. One variant per
/// capability; see `docs/extending.md` to add one.
#[derive(Debug)]
#[non_exhaustive]
pub enum TargetKind {
    /// An entrypoint that pulls or pushes by itself.
    Command(CommandTarget),
    /// A built-in replica pair synced by the engine.
    Sync(SyncTarget),
    /// Versioned directory bundles in a database (frameworks).
    Bundle(BundleTarget),
    /// A database schema against typed Python modules in the repository.
    Schema(SchemaTarget),
}

impl TargetKind {
    /// The type name as written in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            TargetKind::Command(_) => "command",
            TargetKind::Sync(_) => "sync",
            TargetKind::Bundle(_) => "bundle",
            TargetKind::Schema(_) => "schema",
        }
    }
}

/// `type: sync` settings.
#[derive(Debug)]
pub struct SyncTarget {
    /// The repository directory (left side).
    pub local: RelPath,
    /// The other location (right side), interpolated; may hold a secret (masked).
    pub remote: String,
    /// Include globs as written.
    pub include: Vec<String>,
    /// Exclude globs as written.
    pub exclude: Vec<String>,
    /// Conflict policy (`None`: `defaults.on_conflict`).
    pub on_conflict: Option<Policy>,
    /// One-way: delete destination-only files.
    pub delete_orphans: bool,
    /// Deletes allowed on one side.
    pub max_delete: driftsync_core::guard::MaxDelete,
    /// Actions applied in parallel.
    pub concurrency: usize,
    /// Retries of a transient failure.
    pub retries: u32,
    /// First retry's delay (doubled for each further one).
    pub retry_delay: Duration,
    /// Honour `.gitignore` in the local directory.
    pub gitignore: bool,
    /// Object-store remote: the backup folder relative to its prefix, ending in `/`
    /// (`None`: the default, `.driftsync-backup/`).
    pub backup_prefix: Option<String>,
    /// Keep a copy of every file a run overwrites or deletes (for `driftsync restore`).
    pub backup: bool,
    /// File kinds parsed before they are propagated.
    pub validate: Vec<FileKind>,
    /// Shell commands run once after the target changed something.
    pub after: Vec<String>,
    /// Deadline of one operation on the remote (a bucket request, a database
    /// statement or lock wait, a directory's file operation); `None`: each
    /// kind's default.
    pub request_timeout: Option<Duration>,
}

/// A kind of structured file `validate:` can parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `.yaml`, `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// `.toml`.
    Toml,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 3] = [FileKind::Yaml, FileKind::Json, FileKind::Toml];

    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Yaml => "yaml",
            FileKind::Json => "json",
            FileKind::Toml => "toml",
        }
    }

    /// Parse a config name (`yml` is `yaml`).
    pub fn parse(s: &str) -> Option<FileKind> {
        match s.to_ascii_lowercase().as_str() {
            "yml" => Some(FileKind::Yaml),
            s => FileKind::ALL.into_iter().find(|k| k.as_str() == s),
        }
    }

    /// The kind of a file, by its extension.
    pub fn of_path(path: &str) -> Option<FileKind> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(FileKind::Yaml),
            "json" => Some(FileKind::Json),
            "toml" => Some(FileKind::Toml),
            _ => None,
        }
    }
}

/// `type: bundle` settings.
#[derive(Debug)]
pub struct BundleTarget {
    /// Folder holding one directory per bundle.
    pub local: RelPath,
    /// Database URL (interpolated; its `Display` hides the password).
    pub database: driftsync_core::redact::RedactedUrl,
}

/// `type: schema` settings.
#[derive(Debug)]
pub struct SchemaTarget {
    /// The database URL (interpolated; may hold a password: never print it).
    pub database: String,
    /// Directory of the generated modules.
    pub local: RelPath,
    /// Lowest severity that is drift.
    pub fail_on: driftsync_core::report::Severity,
    /// Only these database schemas (empty: all).
    pub schemas: Vec<String>,
    /// Never these.
    pub exclude_schemas: Vec<String>,
    /// Class-name overrides.
    pub class_names: BTreeMap<String, String>,
    /// Python type overrides.
    pub type_overrides: BTreeMap<String, String>,
    /// `variants: [row, insert, update]`: write `…Insert` / `…Update` TypedDicts.
    pub variants: SchemaVariants,
    /// `style:` how row types are written.
    pub style: SchemaStyle,
    /// `docs:` folder of committed Markdown schema docs (regenerated by `run`,
    /// checked by `check`).
    pub docs: Option<RelPath>,
}

/// Which write types a schema target generates beside the row types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchemaVariants {
    /// `insert`: `…Insert` TypedDicts.
    pub insert: bool,
    /// `update`: `…Update` TypedDicts.
    pub update: bool,
}

/// How a schema target writes row types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SchemaStyle {
    /// `TypedDict` rows (default).
    #[default]
    TypedDict,
    /// pydantic `BaseModel` rows.
    Pydantic,
}

/// `type: command` settings.
#[derive(Debug)]
pub struct CommandTarget {
    /// What to run.
    pub entrypoint: Entrypoint,
    /// Extra environment (values interpolated).
    pub env: BTreeMap<String, String>,
    /// `config:` passed as JSON in `DRIFTSYNC_CONFIG` (`null` when absent).
    pub config: serde_json::Value,
    /// `dry_run: true`: the entrypoint honours `DRIFTSYNC_DRY_RUN=1`, so a dry
    /// run may execute it; otherwise a dry run only lists what would run.
    pub dry_run: bool,
}

/// What a command target runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entrypoint {
    /// An executable file relative to the repository root.
    Script(RelPath),
    /// A shell line run by `sh -c`.
    Shell(String),
}

impl fmt::Display for Entrypoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entrypoint::Script(p) => write!(f, "{p}"),
            Entrypoint::Shell(s) => write!(f, "sh -c {s:?}"),
        }
    }
}

/// A verification command.
#[derive(Clone, Debug)]
pub struct Verification {
    /// Shell line.
    pub command: String,
    /// Minimum for the number it prints.
    pub expected_min: Option<f64>,
    /// Exit code that passes.
    pub expected_exit_code: Option<i32>,
    /// Longest it may run.
    pub timeout: Duration,
}

/// Gates around a run.
#[derive(Debug, Default)]
pub struct Safety {
    /// Extra secret patterns (case-insensitive regular expressions).
    pub secret_patterns: Vec<regex::Regex>,
    /// The allow-list file of the `secrets` gate.
    pub secrets_allowlist: Option<RelPath>,
    /// Checks before any target.
    pub pre_sync_checks: Vec<Check>,
    /// Checks after the targets.
    pub post_sync_checks: Vec<Check>,
    /// Number-bound gates.
    pub drift_gates: Vec<DriftGate>,
}

/// A pre- or post-sync check.
#[derive(Clone, Debug)]
pub struct Check {
    /// Name in the report.
    pub name: String,
    /// What it checks.
    pub kind: CheckKind,
    /// Not run when only pull targets run.
    pub skip_on_pull: bool,
    /// Not run when only push targets run.
    pub skip_on_push: bool,
}

/// What a check does.
#[derive(Clone, Debug)]
pub enum CheckKind {
    /// Runs a shell line; passes on the expected exit code.
    Command {
        /// Shell line.
        command: String,
        /// Passing exit code.
        expected_exit_code: i32,
        /// Longest it may run.
        timeout: Duration,
    },
    /// No staged, unstaged or untracked (not ignored) changes.
    GitClean,
    /// No secrets in tracked files.
    Secrets,
    /// Every JSON/YAML/TOML file under the globs parses.
    Validate {
        /// Which files.
        paths: GlobList,
    },
}

/// A drift gate.
#[derive(Clone, Debug)]
pub struct DriftGate {
    /// Name in the report.
    pub name: String,
    /// Shell line printing a number.
    pub command: String,
    /// Lower bound.
    pub min_value: Option<f64>,
    /// Upper bound.
    pub max_value: Option<f64>,
    /// Upper bound of the drift score.
    pub max_drift_score: Option<f64>,
    /// Longest it may run.
    pub timeout: Duration,
}
