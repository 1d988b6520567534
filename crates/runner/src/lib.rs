//! driftsync's runner: select targets, run gates and targets, verify, commit, report.
//!
//! Every target type plugs in through [`TargetExecutor`], registered by
//! type name in [`Executors`] (the binary's `src/targets/` holds them all). The runner never prints: it
//! emits [`Event`]s and returns a [`driftsync_core::report::Report`].
#![deny(missing_docs)]

pub mod events;
pub mod executor;
pub mod gates;
pub mod mask;
pub mod outputs;
pub mod preserve;
pub mod process;
pub mod report_md;
pub mod run;
pub mod secrets;
pub mod select;
pub mod state;
pub mod time;
pub mod validate;
pub mod verify;

pub use events::{Event, Events, Silent};
pub use executor::{new_report, ExecError, Executors, RunContext, TargetExecutor};
pub use mask::Masker;
pub use run::{run, sync_conflicts_dir, sync_state_file, PushPolicy, RunOptions};
pub use select::{select, Selection};
