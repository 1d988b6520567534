//! What a replica knows about one file.

use serde::{Deserialize, Serialize};

use crate::{Hash, SmallStr};

/// One file as a replica sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (UTC).
    pub mtime_ns: i64,
    /// SHA-256 of the content.
    pub hash: Hash,
    /// The backend's version token for conditional writes: an inode/mtime/size
    /// triple locally, an ETag in object storage, a row version in a database.
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub version: SmallStr,
    /// The executable bit (where the backend has one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
}
