//! The engine's only clock: now, and UTC stamps for names (no date crate needed).

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `YYYYMMDDTHHMMSSZ` for a time in ns since the epoch (UTC).
pub fn stamp(ns: i64) -> String {
    driftsync_core::time::stamp(ns.div_euclid(1_000_000_000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_utc() {
        assert_eq!(super::stamp(0), "19700101T000000Z");
        assert_eq!(
            super::stamp(1_600_000_000 * 1_000_000_000),
            "20200913T122640Z"
        );
        assert_eq!(
            super::stamp(951_782_400 * 1_000_000_000),
            "20000229T000000Z"
        );
    }
}
