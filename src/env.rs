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

/// True when `name` is `true` or `1`.
pub fn is_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true" || v == "1")
}
