//! `schema_version.py`: version number, last sync time, DB_HASH, counts, differences.

use std::fmt::Write;

use crate::naming::py_str;

/// Everything the version module records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionModule {
    /// Incremented by every update that saw a different database schema.
    pub schema_version: u64,
    /// When that update ran, RFC 3339 UTC.
    pub last_sync: String,
    /// SHA-256 of the canonical schema.
    pub db_hash: String,
    /// Tables (not views).
    pub tables_count: usize,
    /// Enums.
    pub enums_count: usize,
    /// `code object` of each difference that update resolved.
    pub differences: Vec<String>,
}

impl VersionModule {
    /// The module's source, black-formatted.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "\"\"\"Version of the generated schema modules. Written by `driftsync schema update`.\"\"\"\n\n\
             from typing import Final\n\n",
        );
        let _ = writeln!(out, "SCHEMA_VERSION: Final = {}", self.schema_version);
        let _ = writeln!(out, "LAST_SYNC: Final = {}", py_str(&self.last_sync));
        let _ = writeln!(out, "DB_HASH: Final = {}", py_str(&self.db_hash));
        let _ = writeln!(out, "TABLES_COUNT: Final = {}", self.tables_count);
        let _ = writeln!(out, "ENUMS_COUNT: Final = {}", self.enums_count);
        if self.differences.is_empty() {
            out.push_str("LAST_SYNC_DIFFERENCES: Final[list[str]] = []\n");
        } else {
            out.push_str("LAST_SYNC_DIFFERENCES: Final[list[str]] = [\n");
            for d in &self.differences {
                let _ = writeln!(out, "    {},", py_str(d));
            }
            out.push_str("]\n");
        }
        out
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (UTC).
pub fn rfc3339_utc(secs: u64) -> String {
    driftsync_core::time::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_437_296), "2026-11-23T12:34:56Z");
    }
}
