//! GitHub Actions glue: the only crate of driftsync that knows GitHub.
//!
//! Pure parts (escaping, truncation, delimiters, marker search, the Actions
//! environment) are plain functions; the network parts (sticky PR comment,
//! check run, artifact upload) go through [`octocrab`] and return what
//! happened as data. Nothing here prints: the binary decides what to show.
#![deny(missing_docs)]

pub mod annotations;
pub mod artifact;
pub mod checks;
pub mod client;
pub mod comment;
pub mod env;
pub mod files;
pub mod merge;
pub mod publish;
pub mod pulls;
pub mod workflow;
pub mod workflow_commands;

pub use annotations::{annotations_for, AnnotationSet};
pub use env::{ActionsEnv, Event};

/// Errors of the GitHub integration, named for what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// A required `GITHUB_*` variable or the event payload is missing or malformed.
    #[error("GitHub Actions environment: {0}")]
    Environment(String),
    /// Writing `$GITHUB_OUTPUT` / `$GITHUB_STEP_SUMMARY` or reading the report folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The token may not do this (a fork's read-only token): a warning, not a failure.
    #[error("GitHub refused {what} (HTTP {status}): the token lacks permission{hint}")]
    Forbidden {
        /// What was attempted.
        what: String,
        /// 401, 403 or 404.
        status: u16,
        /// A hint about the cause.
        hint: String,
    },
    /// GitHub's rate limit (a secondary one: too many writes too fast) stopped
    /// the call: a warning of its own, never the fork hint.
    #[error("GitHub's rate limit stopped {what} (HTTP {status}{}): {message}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// What was attempted.
        what: String,
        /// 403 or 429.
        status: u16,
        /// The `retry-after` GitHub asked for, if any.
        retry_after: Option<std::time::Duration>,
        /// The message GitHub returned.
        message: String,
    },
    /// GitHub or the results service answered with an unexpected status.
    #[error("{what} failed: HTTP {status}: {message}")]
    Api {
        /// What was attempted.
        what: String,
        /// The status code.
        status: u16,
        /// The message GitHub returned (never contains the token).
        message: String,
    },
    /// The request could not be sent (network, TLS, URL).
    #[error("{what}: {message}")]
    Transport {
        /// What was attempted.
        what: String,
        /// Why it failed.
        message: String,
    },
}

impl GithubError {
    /// True when the failure is a permission problem that should only warn.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, GithubError::Forbidden { .. })
    }
}

/// Shorthand result.
pub type Result<T, E = GithubError> = std::result::Result<T, E>;
