//! `.driftsync/lock`: one run at a time, with pid and expiry; a stale lock is taken over.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EngineError;

/// How long a lock is valid without its process (a safety net for pid reuse).
pub const LOCK_TTL_NS: i64 = 6 * 3600 * 1_000_000_000;

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    expires_ns: i64,
}

/// A held lock, released on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// Whether process `pid` exists: `kill(pid, 0)` succeeds, or fails with
/// EPERM (it exists but belongs to another user).
#[cfg(unix)]
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // 0 and negative values address process groups, not one process.
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission checks;
    // nothing is delivered, and the call touches no memory of ours.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a portable liveness check the expiry alone decides.
#[cfg(not(unix))]
pub(crate) fn alive(_pid: u32) -> bool {
    true
}

impl Lock {
    /// Take the lock at `path`. Returns the lock and, if a stale one was taken
    /// over, the pid it named. A live lock is [`EngineError::Locked`].
    pub fn acquire(path: &Path, now_ns: i64) -> Result<(Lock, Option<u32>), EngineError> {
        let io = |e: std::io::Error| EngineError::Io {
            context: format!("taking the lock {}", path.display()),
            source: e,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let me = Holder {
            pid: std::process::id(),
            expires_ns: now_ns.saturating_add(LOCK_TTL_NS),
        };
        let mut taken_over = None;
        for _ in 0..3 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    f.write_all(
                        serde_json::to_string(&me)
                            .expect("lock serialises")
                            .as_bytes(),
                    )
                    .map_err(io)?;
                    return Ok((
                        Lock {
                            path: path.to_path_buf(),
                        },
                        taken_over,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(path).unwrap_or_default();
                    match serde_json::from_str::<Holder>(&text) {
                        Ok(h) if h.pid != me.pid && alive(h.pid) && h.expires_ns > now_ns => {
                            return Err(EngineError::Locked {
                                pid: h.pid,
                                path: path.display().to_string(),
                            })
                        }
                        Ok(h) => taken_over = Some(h.pid),
                        Err(_) => taken_over = Some(0),
                    }
                    let _ = fs::remove_file(path);
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(EngineError::Io {
            context: format!("taking the lock {}", path.display()),
            source: std::io::Error::other("another process keeps re-creating it"),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_lock_refuses_stale_lock_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lock");
        // pid 1 is alive in every container and machine.
        fs::write(&path, r#"{"pid":1,"expires_ns":9000000000000000000}"#).unwrap();
        let err = Lock::acquire(&path, 0).unwrap_err();
        assert_eq!(
            err.to_string().split(" (").next().unwrap(),
            "locked by pid 1"
        );
        // Expired: taken over.
        fs::write(&path, r#"{"pid":1,"expires_ns":5}"#).unwrap();
        let (lock, taken) = Lock::acquire(&path, 10).unwrap();
        assert_eq!(taken, Some(1));
        drop(lock);
        assert!(!path.exists(), "lock not released");
        // A process that has exited: taken over before its expiry.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        assert!(!alive(dead), "pid {dead} still reported alive");
        fs::write(
            &path,
            format!(r#"{{"pid":{dead},"expires_ns":9000000000000000000}}"#),
        )
        .unwrap();
        let (lock, taken) = Lock::acquire(&path, 10).unwrap();
        assert_eq!(taken, Some(dead));
        drop(lock);
        // Garbage: taken over.
        fs::write(&path, "garbage").unwrap();
        assert_eq!(Lock::acquire(&path, 10).unwrap().1, Some(0));
    }
}
