//! How a target type is executed: the [`TargetExecutor`] trait and its registry.
//!
//! The runner knows no target kind: every kind (`command`, `sync`, `bundle`,
//! `schema`) brings its executor, and the binary registers them all by type
//! name in one place (`src/targets/`); the runner never depends on the
//! crates that implement them.

use std::collections::BTreeMap;
use std::path::Path;

use driftsync_config::{Config, Target};
use driftsync_core::report::{TargetReport, TargetStatus};

use crate::events::Events;
use crate::mask::Masker;

/// What an executor may know about the run.
pub struct RunContext<'a> {
    /// The repository root (paths in the config are relative to it).
    pub repo_root: &'a Path,
    /// The whole configuration (defaults, safety).
    pub config: &'a Config,
    /// Change nothing; report what would happen.
    pub dry_run: bool,
    /// Override safety checks (and push idempotence); say so in the report.
    pub force: bool,
    /// `driftsync check`: report drift (status `Drift`) instead of changing things.
    pub check: bool,
    /// Running in CI (no prompts, no colour).
    pub ci: bool,
    /// Masks secret values in any text that leaves the process.
    pub masker: &'a Masker,
    /// Where to send progress and output lines.
    pub events: &'a dyn Events,
}

/// Why an executor could not run a target at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Setup or environment problem (unreachable database, bad URL…): the run exits 2.
    /// The message must not contain secrets (use `RedactedUrl`).
    #[error("{0}")]
    Environment(String),
    /// The target's work failed: the run exits 1.
    #[error("{0}")]
    Failed(String),
}

/// Runs targets of one type.
pub trait TargetExecutor: Send + Sync {
    /// Run `target` (never a dry run's side effects when `ctx.dry_run`), and
    /// describe the outcome. Start from [`new_report`]; the runner fills in
    /// `duration` and verification afterwards. Return `Ok` with status
    /// `Failed` or `Drift` for an outcome, `Err` when it could not run.
    fn execute(&self, target: &Target, ctx: &RunContext<'_>) -> Result<TargetReport, ExecError>;

    /// Called after the run's commit is safe — pushed, or committed where
    /// nothing is pushed, or nothing needed committing — for each target
    /// that ran: what an executor kept in case that commit never landed (a
    /// sync target's journal of remote writes) may go. The default keeps
    /// nothing.
    fn committed(&self, target: &Target, ctx: &RunContext<'_>) {
        let _ = (target, ctx);
    }
}

/// A fresh report for `target`: status `Ok`, nothing done yet.
pub fn new_report(target: &Target) -> TargetReport {
    TargetReport {
        target: target.name.clone(),
        kind: target.type_name().to_string(),
        direction: target.direction.as_str().to_string(),
        status: TargetStatus::Ok,
        message: String::new(),
        duration: 0.0,
        outputs_created: Vec::new(),
        verification_passed: None,
        verification: None,
        drifted: Vec::new(),
        actions: Vec::new(),
        conflicts: Vec::new(),
        findings: Vec::new(),
        output_tail: String::new(),
        dry_run_mode: None,
    }
}

/// Executors by target type name.
pub struct Executors {
    map: BTreeMap<&'static str, Box<dyn TargetExecutor>>,
}

impl Default for Executors {
    fn default() -> Self {
        Executors::new()
    }
}

impl Executors {
    /// An empty registry.
    pub fn new() -> Executors {
        Executors {
            map: BTreeMap::new(),
        }
    }

    /// Register (or replace) the executor of targets whose `type` is `type_name`.
    pub fn register(&mut self, type_name: &'static str, executor: Box<dyn TargetExecutor>) {
        self.map.insert(type_name, executor);
    }

    /// The executor for a type.
    pub fn get(&self, type_name: &str) -> Option<&dyn TargetExecutor> {
        self.map.get(type_name).map(|b| b.as_ref())
    }
}
