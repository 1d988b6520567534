//! Framework bundles: a directory `frameworks/<name>/` with a `bundle.yaml`
//! (name, version, spec_version, description, files), stored in SQLite or
//! PostgreSQL as immutable versions.
//!
//! The database is the source of truth; the directory is the workspace.
//! `status` compares the directory's tree hash with the latest stored
//! version and with the version the directory came from (recorded in
//! `.driftsync/state/bundles.json`).
#![deny(missing_docs)]

pub mod local;
pub mod manifest;
pub mod migrate;
pub mod ops;
mod readme;
pub mod schema;
pub mod space;
pub mod space_meta;
pub mod state;
pub mod store;
pub mod yaml;

use std::path::PathBuf;

pub use manifest::{Bump, Manifest, Semver};
pub use ops::{ExportOutcome, ImportOutcome, StatusLine, SyncState, Workspace};
pub use schema::Problem;
pub use store::{BundleStore, VersionInfo};

/// What went wrong with a bundle operation.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `bundle.yaml` or a declared file is wrong; every problem has a position.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// The manifest file.
        file: PathBuf,
        /// What is wrong, where.
        problems: Vec<Problem>,
    },
    /// The version already exists (maybe stored by a concurrent import); nothing was written.
    #[error("{name} {version} already exists in the database; versions are immutable: change `version` in bundle.yaml or pass --bump patch|minor|major")]
    VersionExists {
        /// Bundle.
        name: String,
        /// Version.
        version: String,
    },
    /// No such stored version.
    #[error("{name} {version}: no such version in the database (see `driftsync bundle status`)")]
    NoSuchVersion {
        /// Bundle.
        name: String,
        /// Version asked for.
        version: String,
    },
    /// No bundle directory.
    #[error("{}: no bundle here (expected {}/bundle.yaml; `driftsync bundle init NAME` writes one)", .0.display(), .0.display())]
    NoLocal(PathBuf),
    /// Export would overwrite edits that are in no stored version.
    #[error("{name}: {} holds changes that are in no stored version; import them first, or pass --force to overwrite them", dir.display())]
    LocalChanges {
        /// Bundle.
        name: String,
        /// Its directory.
        dir: PathBuf,
    },
    /// A path inside a bundle folder that is a symbolic link (or not a
    /// regular file): refused, never followed; nothing was written.
    #[error("{0}")]
    Unsafe(String),
    /// A name that cannot be a folder.
    #[error("{0:?} is not a bundle name (lowercase letters, digits, '-', '_', '.')")]
    BadName(String),
    /// The state file cannot be read.
    #[error("{}: {message}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Stored data fails its own checks.
    #[error("database content is corrupt: {0}")]
    Corrupt(String),
    /// A migration cannot be applied.
    #[error("{0}")]
    Migration(String),
    /// The database failed (location redacted).
    #[error(transparent)]
    Db(#[from] driftsync_replica_db::DbError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Seconds since the Unix epoch, now (formatted by `driftsync_core::time`).
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl BundleError {
    /// True for an environment fault (database unreachable, credentials): exit 2.
    pub fn is_environment(&self) -> bool {
        use driftsync_replica_db::DbErrorKind as K;
        matches!(self, BundleError::Db(d) if matches!(d.kind, K::Unavailable | K::PermissionDenied))
    }
}

fn render_problems(file: &std::path::Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}:{}:{}: {}", file.display(), p.line, p.col, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}
