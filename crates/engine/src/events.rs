//! Progress events: the engine tells a [`Reporter`]; the binary draws.
//!
//! Events on the hot path (one per action) carry numbers only: no event
//! allocates, so a reporter that ignores them costs a virtual call.

use std::sync::Arc;

use driftsync_core::Side;
use driftsync_replica::ScanProgress;

/// Something worth telling the user while a sync runs.
#[derive(Clone, Debug)]
pub enum Event {
    /// A stale lock (dead pid or expired) was taken over.
    LockTakenOver {
        /// The pid recorded in the stale lock.
        pid: u32,
    },
    /// A stale lease on the remote (expired, or its process gone) was taken over.
    LeaseTakenOver {
        /// Who held it.
        holder: String,
    },
    /// Writes a killed earlier run made to the remote, found in its journal,
    /// were taken as the base of these paths.
    JournalApplied {
        /// How many paths.
        paths: usize,
    },
    /// Both sides' scans started; their live counts (the local backend
    /// fills them; others report at [`Event::Scanned`]).
    Scanning {
        /// The left side's counts.
        left: Arc<ScanProgress>,
        /// The right side's counts.
        right: Arc<ScanProgress>,
    },
    /// A side's scan finished.
    Scanned {
        /// Which side.
        side: Side,
        /// Files listed.
        files: usize,
        /// Files read to hash (the rest passed the quick check).
        hashed: usize,
    },
    /// The plan is ready; `actions` file operations will run.
    Planned {
        /// Actions that change files.
        actions: usize,
        /// Bytes those actions copy (a deletion copies none).
        bytes: u64,
    },
    /// One action that changes files finished (applied, skipped or failed).
    ActionDone {
        /// The bytes it was planned to copy ([`Event::Planned`] counted them).
        bytes: u64,
    },
    /// A transient failure is being retried.
    Retrying {
        /// The path.
        path: String,
        /// The attempt about to run (2 = first retry).
        attempt: u32,
        /// The error.
        error: String,
    },
}

/// Receives events; must be cheap and thread-safe (actions run in parallel).
pub trait Reporter: Send + Sync {
    /// Handle one event.
    fn event(&self, event: &Event);
}

/// A reporter that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: &Event) {}
}
