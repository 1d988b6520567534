//! Executors of every target type this binary supports, by type name.
//!
//! `command` is built into the runner. A capability adds one line here:
//! `executors.register("sync", Box::new(driftsync_engine::SyncExecutor::new()));`

use driftsync_runner::Executors;

/// The registry used by `run` and `check`.
pub fn all() -> Executors {
    #[allow(unused_mut)] // the next capability registers here
    let mut executors = Executors::new();
    executors.register(
        "schema",
        Box::new(driftsync_schema::executor::SchemaExecutor),
    );
    executors
}
