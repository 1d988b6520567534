//! The lease: one run at a time applies to a remote, whichever machine or
//! checkout it starts from (a scheduled CI job and a manual one, two
//! clones). It is a record on the remote side (`.driftsync/lease/<name>.json`,
//! see [`Replica::keeps_records`]) created only where none exists (a
//! conditional create), renewed by its holder while the run lasts, and taken
//! over — by a conditional replace of exactly the record found — only when
//! it has expired, or when its holder is a process on this machine that is
//! gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use driftsync_core::RelPath;
use driftsync_replica::{Expect, Replica, ReplicaError};
use serde::{Deserialize, Serialize};

use crate::journal::{get, put, record_path};
use crate::EngineError;

/// How long a lease lasts without renewal, by default. Its holder renews it
/// every quarter of this, so a job killed without a word blocks the next one
/// for at most this long (on the same machine, not at all).
pub const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// Who holds a lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Host name of the machine the run is on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// The run's id.
    pub run: String,
    /// When the lease lapses unless renewed (ns since the epoch).
    pub expires_ns: i64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} (pid {} on {}), until {}",
            self.run,
            self.pid,
            self.host,
            crate::clock::stamp(self.expires_ns)
        )
    }
}

/// This machine's name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A held lease. While the run lasts, [`Lease::keep_renewed`] runs on a
/// helper thread; [`Lease::release`] removes it at the end.
pub struct Lease {
    path: RelPath,
    ttl: Duration,
    run: String,
    version: Mutex<String>,
    lost: AtomicBool,
    lost_why: Mutex<String>,
}

impl Lease {
    /// Take the lease `name` on `replica` for run `run`, valid `ttl` at a
    /// time. `None` when the replica keeps no records. A live lease held by
    /// another run is [`EngineError::Leased`]; a stale one is taken over
    /// (the holder it named is returned).
    pub fn acquire(
        replica: &dyn Replica,
        name: &str,
        run: &str,
        ttl: Duration,
    ) -> Result<Option<(Lease, Option<Holder>)>, EngineError> {
        let Some(path) = replica
            .keeps_records()
            .then(|| record_path("lease", name))
            .flatten()
        else {
            return Ok(None);
        };
        let fail = |what: &str, e: ReplicaError| EngineError::Lease {
            location: replica.location(),
            detail: format!("{what}: {e}"),
        };
        let mut lease = Lease {
            path,
            ttl,
            run: run.to_string(),
            version: Mutex::new(String::new()),
            lost: AtomicBool::new(false),
            lost_why: Mutex::new(String::new()),
        };
        for _ in 0..5 {
            let now = crate::clock::now_ns();
            let (expect, prior) = match get(replica, &lease.path).map_err(|e| fail("reading", e))? {
                None => (Expect::Absent, None),
                Some((data, version)) => {
                    let holder: Option<Holder> = serde_json::from_slice(&data).ok();
                    match holder {
                        Some(h) if !stale(&h, now) => {
                            return Err(EngineError::Leased {
                                location: replica.location(),
                                holder: h.to_string(),
                            })
                        }
                        // Expired, its process gone, or not a lease at all
                        // (written whole or not at all, so never a torn one).
                        h => (Expect::Version(version.into()), h),
                    }
                }
            };
            match put(replica, &lease.path, &lease.body(now), &expect) {
                Ok(entry) => {
                    *lease.version.get_mut().unwrap_or_else(|p| p.into_inner()) =
                        entry.version.to_string();
                    return Ok(Some((lease, prior)));
                }
                // Someone else created or replaced it first: look again.
                Err(ReplicaError::Changed { .. }) => continue,
                Err(e) => return Err(fail("writing", e)),
            }
        }
        Err(EngineError::Lease {
            location: replica.location(),
            detail: "it kept changing while this run tried to take it".into(),
        })
    }

    fn body(&self, now: i64) -> Vec<u8> {
        let h = Holder {
            host: host_name(),
            pid: std::process::id(),
            run: self.run.clone(),
            expires_ns: now.saturating_add(self.ttl.as_nanos() as i64),
        };
        serde_json::to_vec(&h).expect("a lease serialises")
    }

    fn current(&self) -> String {
        self.version.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Renew the lease every quarter of its time until `stop` is dropped
    /// (or sends); run it on a helper thread for as long as the run writes.
    pub fn keep_renewed(&self, replica: &dyn Replica, stop: mpsc::Receiver<()>) {
        while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(self.ttl / 4) {
            let body = self.body(crate::clock::now_ns());
            match put(
                replica,
                &self.path,
                &body,
                &Expect::Version(self.current().into()),
            ) {
                Ok(entry) => {
                    if let Ok(mut v) = self.version.lock() {
                        *v = entry.version.to_string();
                    }
                }
                Err(ReplicaError::Changed { detail, .. }) => {
                    if let Ok(mut w) = self.lost_why.lock() {
                        *w = format!("another run took the lease over ({detail})");
                    }
                    self.lost.store(true, Ordering::SeqCst);
                    return;
                }
                // A transient failure: the next renewal tries again, well
                // before the lease lapses.
                Err(_) => {}
            }
        }
    }

    /// Why the lease was lost (another run took it over), if it was: the
    /// run must stop writing.
    pub fn lost(&self) -> Option<String> {
        self.lost
            .load(Ordering::SeqCst)
            .then(|| self.lost_why.lock().map(|s| s.clone()).unwrap_or_default())
    }

    /// Remove the lease, if it is still ours.
    pub fn release(self, replica: &dyn Replica) {
        if self.lost().is_none() {
            let _ = replica.remove(&self.path, &Expect::Version(self.current().into()));
        }
    }
}

/// True when `h` no longer holds: expired, or a process of this machine that is gone.
fn stale(h: &Holder, now: i64) -> bool {
    h.expires_ns <= now || (h.host == host_name() && !crate::lock::alive(h.pid))
}
