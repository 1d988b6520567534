//! Notifications: after `run` or `check`, the run's summary is posted to the
//! endpoints of `notify:` in sync.yaml (Slack, Mattermost, Microsoft Teams
//! Workflows, or a generic JSON webhook) whose `on:` matches the outcome.
//!
//! A notification never changes a run's result: every failure comes back as
//! an [`Outcome`] for the caller to print as a warning. The webhook URL is a
//! secret: only its scheme and host ([`Notify::origin`]) appear in outcomes.
#![deny(missing_docs)]

pub mod http;
pub mod message;

use driftsync_config::notify::Notify;
use driftsync_core::report::Report;

pub use message::{RunInfo, Status, Summary};

/// What happened to one entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Posted; the endpoint answered with this status.
    Sent {
        /// The entry's name.
        name: String,
        /// Scheme and host of its URL.
        origin: String,
        /// HTTP status.
        status: u16,
    },
    /// Not sent: its `on:` does not match the run.
    NotWanted {
        /// The entry's name.
        name: String,
    },
    /// Sending failed (after the retry); a warning, never a failed run.
    Failed {
        /// The entry's name.
        name: String,
        /// Scheme and host of its URL.
        origin: String,
        /// Why (masked; never the URL's path or query).
        error: String,
    },
}

impl Outcome {
    /// One line for the log.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Sent {
                name,
                origin,
                status,
            } => format!("notified {name} ({origin}): HTTP {status}"),
            Outcome::NotWanted { name } => {
                format!("notification {name}: not sent (its `on:` does not match)")
            }
            Outcome::Failed {
                name,
                origin,
                error,
            } => format!("notification {name} ({origin}) failed: {error}"),
        }
    }
}

/// Send `report` to every entry of `entries` whose `on:` matches. Texts go
/// through `mask` (the report's masker) before they are sent or returned.
/// `env` reads the GitHub Actions variables for the job link.
pub fn send_all(
    entries: &[Notify],
    report: &Report,
    env: &dyn Fn(&str) -> Option<String>,
    mask: &dyn Fn(&str) -> String,
) -> Vec<Outcome> {
    if entries.is_empty() {
        return Vec::new();
    }
    let run = RunInfo::from_env(env);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return entries
                .iter()
                .map(|n| Outcome::Failed {
                    name: n.name.clone(),
                    origin: n.origin(),
                    error: format!("cannot start the HTTP client: {e}"),
                })
                .collect()
        }
    };
    let client = http::Client::new();
    entries
        .iter()
        .map(|entry| {
            let summary = Summary::new(report, entry, run.clone(), mask);
            if !summary.wanted_by(entry) {
                return Outcome::NotWanted {
                    name: entry.name.clone(),
                };
            }
            let body = summary.payload(entry).to_string();
            let result = runtime.block_on(client.post_with_retry(
                entry.url.expose(),
                body.into_bytes(),
                entry.timeout,
            ));
            match result {
                Ok(status) => Outcome::Sent {
                    name: entry.name.clone(),
                    origin: entry.origin(),
                    status,
                },
                Err(e) => Outcome::Failed {
                    name: entry.name.clone(),
                    origin: entry.origin(),
                    // The URL is in the masker; an error naming it is scrubbed anyway.
                    error: mask(&e.replace(entry.url.expose(), &entry.origin())),
                },
            }
        })
        .collect()
}
