//! Every environment variable the binary reads, in one place.
//!
//! (Entrypoints receive `DRIFTSYNC_*` variables: see `driftsync_runner::command::env`.)

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

/// The token `run` pushes with: `DRIFTSYNC_GIT_TOKEN`, else `GITHUB_TOKEN`.
pub fn git_token() -> Option<driftsync_core::redact::Secret> {
    [DRIFTSYNC_GIT_TOKEN, GITHUB_TOKEN]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .map(|v| driftsync_core::redact::Secret::new(v.trim()))
}

/// True when `name` is `true` or `1`.
pub fn is_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true" || v == "1")
}
