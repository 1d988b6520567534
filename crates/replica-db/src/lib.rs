//! The document-table replica: files stored as rows in SQLite (embedded,
//! the default) or PostgreSQL, plus the small connection layer the bundle
//! store shares. PostgreSQL connections speak TLS as libpq's `sslmode`
//! says ([`tls`]).
//!
//! The trait is synchronous; the PostgreSQL connection drives its own
//! single-threaded tokio runtime and blocks on it. Writes are conditional on
//! the row version the plan saw (`UPDATE … WHERE path = $1 AND version = $2`,
//! `INSERT … ON CONFLICT DO NOTHING`); zero rows changed is
//! [`driftsync_replica::ReplicaError::Changed`].
#![deny(missing_docs)]

pub mod db;
mod replica;
pub mod tls;
pub mod url;

pub use db::{Db, DbError, DbErrorKind, Dialect, Value};
pub use replica::{replica_error, DbOpen, DbReplica, DEFAULT_TABLE};
pub use url::{is_db_url, DbTarget, DbUrl, UrlError};
