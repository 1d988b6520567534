//! What the runner tells the world while it works; the binary renders it.

use driftsync_core::report::{GatePhase, GateResult, TargetReport};

/// One thing that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// A gate is about to run.
    GateStarted {
        /// Gate name.
        name: &'a str,
        /// When it runs.
        phase: GatePhase,
    },
    /// A gate finished.
    GateFinished(&'a GateResult),
    /// A target is about to run.
    TargetStarted {
        /// Target name.
        name: &'a str,
        /// Target type.
        kind: &'a str,
        /// Direction.
        direction: &'a str,
    },
    /// A line of a target's (or gate's) output, secrets already masked.
    Output {
        /// Target or gate name.
        source: &'a str,
        /// The line, without its newline.
        line: &'a str,
    },
    /// A target finished.
    TargetFinished(&'a TargetReport),
    /// Something worth a line for people (a skipped target, a commit).
    Note(&'a str),
}

/// Receives events. Must be cheap; called from the thread running a target.
pub trait Events: Sync {
    /// Handle one event.
    fn event(&self, event: Event<'_>);
}

/// Discards every event.
pub struct Silent;

impl Events for Silent {
    fn event(&self, _event: Event<'_>) {}
}
