//! Object storage as a driftsync replica: S3 and S3-compatible servers, Google
//! Cloud Storage, Azure Blob Storage, local directories and memory, all
//! through the `object_store` crate.
//!
//! - The content's SHA-256 travels as object metadata, so a rescan lists and
//!   compares ETags with the base and never downloads an unchanged object.
//! - The ETag is the version: writes are conditional (`If-None-Match: *` to
//!   create, `If-Match` to replace); deletes and multipart uploads re-check the
//!   ETag just before they commit.
//! - Large files go up in parts with at most two parts in memory.
//! - Credentials come only from the standard environment and are never shown.
#![deny(missing_docs)]

mod error;
pub mod meta;
mod open;
mod replica;

pub use open::{backup_prefix, parse, Flavor, ObjectOptions, OpenError, Parsed};
pub use replica::{ObjectReplica, BACKUP_DIR};
