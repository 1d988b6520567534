//! Sending the run's notifications (`notify:` in sync.yaml) and printing
//! what became of them. A failed notification is a warning, never a failed run.

use driftsync_config::Config;
use driftsync_core::report::Report;
use driftsync_github::workflow_commands::{self, Level};
use driftsync_notify::Outcome;
use driftsync_runner::Masker;

/// Send `report` (already masked) to the configured endpoints; print one
/// line per endpoint on stderr, and each failure as a `::warning::` in Actions.
pub fn send(config: &Config, report: &Report, masker: &Masker, in_actions: bool) {
    let outcomes =
        driftsync_notify::send_all(&config.notify, report, &|k| std::env::var(k).ok(), &|s| {
            masker.mask(s)
        });
    for o in outcomes {
        let line = masker.mask(&o.describe());
        match o {
            Outcome::Failed { .. } if in_actions => {
                let _ =
                    crate::render::stdout::line(&workflow_commands::message(Level::Warning, &line));
            }
            Outcome::Failed { .. } => eprintln!("warning: {line}"),
            _ => eprintln!("{line}"),
        }
    }
}
