//! Schema drift between a live database and typed Python modules in the repository.
//!
//! Introspection (PostgreSQL, SQLite) fills `driftsync_core::schema::DbSchema`;
//! [`pyread`] reads the generated Python back into the same model; [`generate`]
//! writes it; [`workflow`] ties them together for `check`, `diff` and `update`;
//! [`comparison`] is the one comparison the `schema` commands and `type:
//! schema` targets make, and which findings are drift.
#![deny(missing_docs)]

pub mod adopt;
pub mod analyze;
pub mod comparison;
pub mod docs;
pub mod generate;
pub mod naming;
pub mod postgres;
pub mod pyread;
pub mod pytypes;
pub mod show;
pub mod sqlite;
pub mod version;
pub mod workflow;

use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::DbSchema;

pub use generate::Options;
pub use pytypes::Dialect;

/// What went wrong, named for what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database could not be reached or opened (check the URL, the server, credentials).
    #[error("cannot connect to {url}: {reason}")]
    Unreachable {
        /// The URL, password hidden.
        url: RedactedUrl,
        /// Why.
        reason: String,
    },
    /// A catalog query failed.
    #[error("reading the schema of {url} failed: {reason}")]
    Query {
        /// The URL, password hidden.
        url: RedactedUrl,
        /// Why.
        reason: String,
    },
    /// The URL's scheme is not one we introspect.
    #[error("unsupported database URL {url}: use postgres://… or sqlite://PATH")]
    UnsupportedUrl {
        /// The URL, password hidden.
        url: RedactedUrl,
    },
    /// A Python module does not parse or is not in the generated shape.
    #[error("{file}:{line}:{column}: {message}")]
    Python {
        /// Repository-relative file.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Which schemas to introspect (PostgreSQL): all non-system ones, or a list, minus exclusions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaFilter {
    /// Only these schemas (empty: all).
    pub include: Vec<String>,
    /// Never these.
    pub exclude: Vec<String>,
}

/// The dialect a database URL speaks, if we know it.
pub fn dialect_of(url: &str) -> Option<Dialect> {
    driftsync_core::Location::parse(url).ok()?.dialect()
}

/// Introspect the database at `url` into the canonical model.
pub fn introspect(url: &RedactedUrl, filter: &SchemaFilter) -> Result<DbSchema, SchemaError> {
    match dialect_of(url.expose()) {
        Some(Dialect::Postgres) => postgres::introspect(url, filter),
        Some(Dialect::Sqlite) => sqlite::introspect(url),
        None => Err(SchemaError::UnsupportedUrl { url: url.clone() }),
    }
}
