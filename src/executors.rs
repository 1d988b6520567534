//! Executors of every target type this binary supports, by type name.
//!
//! `command` is built into the runner. A capability adds one line here:
//! `executors.register("sync", Box::new(driftsync_engine::SyncExecutor::new()));`

use driftsync_runner::Executors;

/// The registry used by `run` and `check`; `sync` says how sync targets
/// show their progress and files.
pub fn all(sync: crate::sync_target::SyncExecutor) -> Executors {
    let mut executors = Executors::new();
    executors.register("sync", Box::new(sync));
    executors.register("bundle", Box::new(crate::commands::bundle::BundleExecutor));
    executors.register(
        "schema",
        Box::new(driftsync_schema::executor::SchemaExecutor),
    );
    executors
}
