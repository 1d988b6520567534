//! Target kinds: one module per `type:` of sync.yaml, each a
//! [`TargetExecutor`](driftsync_runner::TargetExecutor), and [`all`], the
//! registry `run` and `check` use.
//!
//! - [`command`] — an entrypoint with a documented environment;
//! - [`sync`] — two locations on the engine (the same [`sync::SyncSpec`]
//!   as `driftsync sync`);
//! - [`bundle`] — a folder's bundles against a database;
//! - [`schema`] — a database schema against typed modules (the comparison
//!   itself is `driftsync_schema::compare`, shared with `driftsync schema`).
//!
//! They live in the binary, not in a crate of their own, because `sync`
//! shows progress and opens locations with the binary's code
//! (`src/render/`, `src/replicas.rs`) and maps library errors to exit codes
//! with `src/exit.rs`, as the matching commands do. The runner knows only
//! the trait and the registry; the libraries (engine, bundle, schema) know
//! neither.
//!
//! A new kind adds a module here and one line in [`all`]
//! (`docs/extending.md`).

pub mod bundle;
pub mod command;
pub mod schema;
pub mod sync;

use driftsync_runner::Executors;

/// The registry used by `run` and `check`: every target type this binary
/// supports, by type name; `sync` says how sync targets show their progress
/// and files.
pub fn all(sync: sync::SyncExecutor) -> Executors {
    let mut executors = Executors::new();
    executors.register("command", Box::new(command::CommandExecutor));
    executors.register("sync", Box::new(sync));
    executors.register("bundle", Box::new(bundle::BundleExecutor));
    executors.register("schema", Box::new(schema::SchemaExecutor));
    executors
}
