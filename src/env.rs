//! Every environment variable driftsync reads, in one table: [`VARS`], the
//! source of README.md's "Environment variables" table (`tests/env_table.rs`
//! holds the two to each other and fails on a variable read by name
//! elsewhere).
//!
//! The binary reads through the constants here; `driftsync_github::env`
//! names the Actions variables the GitHub crate reads, listed here too.
//! (Entrypoints *receive* `DRIFTSYNC_*` variables: see
//! `src/targets/command.rs` `env`.)
//!
//! This file uses nothing from the crate, so the test can include it.

/// One environment variable.
#[derive(Clone, Copy, Debug)]
pub struct Var {
    /// Its name.
    pub name: &'static str,
    /// What it does, in a few words (README.md says it at length).
    #[allow(dead_code)] // read by tests/env_table.rs
    pub meaning: &'static str,
    /// A credential: its value is masked in every output (a password in a
    /// URL variable is hidden by the URL's own redaction instead).
    pub secret: bool,
}

const fn var(name: &'static str, meaning: &'static str) -> Var {
    Var {
        name,
        meaning,
        secret: false,
    }
}

const fn secret(name: &'static str, meaning: &'static str) -> Var {
    Var {
        name,
        meaning,
        secret: true,
    }
}

/// `true` or `1`: behave as under `--ci`.
pub const CI: &str = "CI";
/// `true` inside GitHub Actions: commits are authored by the Actions bot.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// The event that started the workflow; `schedule` makes `run` read the cron that fired.
pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
/// The event payload file (its `.schedule` is the cron that fired).
pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
/// Token for pushing the run's commit over HTTPS; wins over [`GITHUB_TOKEN`].
pub const DRIFTSYNC_GIT_TOKEN: &str = "DRIFTSYNC_GIT_TOKEN";
/// `1` or `true`: `run` and `check` send no notification (like `--no-notify`).
pub const DRIFTSYNC_NO_NOTIFY: &str = "DRIFTSYNC_NO_NOTIFY";
/// The workflow's token: pushes the run's commit (as `x-access-token`).
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// How long a remote's lease lasts between renewals.
pub const DRIFTSYNC_LEASE_TTL: &str = "DRIFTSYNC_LEASE_TTL";
/// The base branch of a `pull_request` event's workflow.
pub const GITHUB_BASE_REF: &str = "GITHUB_BASE_REF";
/// The branch or tag the workflow runs on.
pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
/// `schema` commands: the database, when `--database` is not given.
pub const DATABASE_URL: &str = "DATABASE_URL";
/// `bundle` commands: the database, when `--database` is not given.
pub const DRIFTSYNC_BUNDLE_DATABASE: &str = "DRIFTSYNC_BUNDLE_DATABASE";
/// `space` commands: the space, when `--database` is not given.
pub const DRIFTSYNC_SPACE_DATABASE: &str = "DRIFTSYNC_SPACE_DATABASE";
/// Who stored a bundle version, first of these that is set.
pub const BUNDLE_AUTHOR: [&str; 4] = ["DRIFTSYNC_USER", "GITHUB_ACTOR", "USER", "USERNAME"];

/// Every variable driftsync reads (README.md's table, row for row).
pub const VARS: &[Var] = &[
    var(CI, "`true`/`1`: same as `--ci`"),
    var(
        GITHUB_ACTIONS,
        "`true`: inside GitHub Actions (bot author, publishing)",
    ),
    secret(
        GITHUB_TOKEN,
        "the token `run` pushes with, and GitHub calls use",
    ),
    secret(
        DRIFTSYNC_GIT_TOKEN,
        "the token `run` pushes with; wins over GITHUB_TOKEN",
    ),
    var(
        GITHUB_EVENT_NAME,
        "`schedule`: select the targets of the cron that fired",
    ),
    var(GITHUB_EVENT_PATH, "the event payload (the cron that fired)"),
    var(
        "PGSSLMODE",
        "TLS for postgres:// URLs that do not say sslmode",
    ),
    var(
        "PGSSLROOTCERT",
        "CA for postgres:// URLs that do not say sslrootcert",
    ),
    var(DRIFTSYNC_NO_NOTIFY, "`1`/`true`: send no notification"),
    var(
        "GITHUB_SERVER_URL",
        "the job link in notifications and comments",
    ),
    var("GITHUB_REPOSITORY", "owner/name of the repository"),
    var("GITHUB_RUN_ID", "the job link"),
    var("GITHUB_RUN_ATTEMPT", "the job link"),
    var(
        GITHUB_REF_NAME,
        "the branch in notifications; a pull request's base",
    ),
    var("GITHUB_SHA", "the commit in notifications and check runs"),
    var(
        DRIFTSYNC_LEASE_TTL,
        "how long a remote's lease lasts between renewals",
    ),
    var(
        DATABASE_URL,
        "`schema` commands' database (a password in it is hidden)",
    ),
    var(
        DRIFTSYNC_BUNDLE_DATABASE,
        "`bundle` commands' database (a password in it is hidden)",
    ),
    var(
        DRIFTSYNC_SPACE_DATABASE,
        "`space` commands' database (a password in it is hidden)",
    ),
    var(BUNDLE_AUTHOR[0], "who stored a bundle version"),
    var(BUNDLE_AUTHOR[1], "who stored a bundle version"),
    var(BUNDLE_AUTHOR[2], "who stored a bundle version"),
    var(BUNDLE_AUTHOR[3], "who stored a bundle version"),
    var(GITHUB_BASE_REF, "a pull request's base branch"),
    var("GITHUB_REF", "the ref of the run"),
    var(
        "GITHUB_WORKFLOW",
        "the workflow in annotations and check runs",
    ),
    var("GITHUB_JOB", "the job in check runs"),
    var("GITHUB_API_URL", "the REST API (GitHub Enterprise)"),
    var("GITHUB_OUTPUT", "the step outputs file"),
    var("GITHUB_STEP_SUMMARY", "the job summary file"),
    secret("ACTIONS_RUNTIME_TOKEN", "uploads the report artifact"),
    var("ACTIONS_RESULTS_URL", "where the report artifact goes"),
    var("DRIFTSYNC_NO_COMMENT", "set: no pull-request comment"),
    var("DRIFTSYNC_CHECK_RUN", "a check run with every annotation"),
    var(
        "DRIFTSYNC_MATRIX",
        "the job's matrix values (names a leg's comment and artifact)",
    ),
    var("DRIFTSYNC_ARTIFACT_NAME", "the report artifact's name"),
    var(
        "DRIFTSYNC_COMMENT_AUTHOR",
        "the login whose comments are driftsync's",
    ),
    var(
        "DRIFTSYNC_GITHUB_TIMEOUT",
        "seconds all GitHub calls may take",
    ),
    var("HOSTNAME", "names the holder of a remote's lease"),
];

/// The token `run` pushes with: `DRIFTSYNC_GIT_TOKEN`, else `GITHUB_TOKEN`.
pub fn git_token() -> Option<driftsync_core::redact::Secret> {
    [DRIFTSYNC_GIT_TOKEN, GITHUB_TOKEN]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .map(|v| driftsync_core::redact::Secret::new(v.trim()))
}

/// The masker for output that is not a run's: secret-looking environment
/// values, credentials of well-known formats, and every secret of [`VARS`].
pub fn masker() -> driftsync_runner::Masker {
    let mut m = driftsync_runner::Masker::from_env(std::env::vars());
    for v in VARS.iter().filter(|v| v.secret) {
        if let Some(value) = std::env::var(v.name).ok().filter(|s| !s.trim().is_empty()) {
            m.add(&value);
        }
    }
    m
}

/// True when `name` is `true` or `1`.
pub fn is_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true" || v == "1")
}

/// The first of `names` that is set and not empty.
pub fn first_set(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}
