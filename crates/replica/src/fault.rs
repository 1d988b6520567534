//! Test-only fault injection: kill or stall the process at the N-th crash point.
//!
//! Only in debug builds (tests); a release build compiles [`crash_point`] to
//! nothing. `DRIFTSYNC_TEST_CRASH_AT=N` sends SIGKILL to the process at the
//! N-th point; `DRIFTSYNC_TEST_STALL_AT=N` sleeps there for ten minutes (to hold
//! the lock in tests of concurrent runs, which kill it when done: long
//! enough that a loaded machine never sees it wake first).

/// The environment variable that kills the process at the N-th crash point (debug builds).
pub const CRASH_AT: &str = "DRIFTSYNC_TEST_CRASH_AT";
/// The environment variable that stalls the process at the N-th crash point (debug builds).
pub const STALL_AT: &str = "DRIFTSYNC_TEST_STALL_AT";

/// Mark a point where a crash must leave everything recoverable.
#[inline]
pub fn crash_point() {
    #[cfg(debug_assertions)]
    imp::hit();
}

#[cfg(debug_assertions)]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static AT: OnceLock<(Option<usize>, Option<usize>)> = OnceLock::new();

    pub fn hit() {
        let (crash, stall) = *AT.get_or_init(|| {
            let read = |v: &str| std::env::var(v).ok().and_then(|s| s.parse().ok());
            (read(super::CRASH_AT), read(super::STALL_AT))
        });
        if crash.is_none() && stall.is_none() {
            return;
        }
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if stall == Some(n) {
            std::thread::sleep(std::time::Duration::from_secs(600));
        }
        if crash == Some(n) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &std::process::id().to_string()])
                .status();
            std::thread::sleep(std::time::Duration::from_secs(600));
            std::process::abort();
        }
    }
}
