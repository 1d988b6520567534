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
    /// Holds the `flock` until dropped.
    _file: fs::File,
}

/// Whether process `pid` is alive: it exists (`kill(pid, 0)`, or EPERM
/// for another user's) and is not a zombie. One answer for the lock, the
/// lease and the local replica's temp files.
#[cfg(unix)]
pub(crate) fn alive(pid: u32) -> bool {
    driftsync_replica::local::process_alive(pid)
}

/// Without a portable liveness check the expiry alone decides.
#[cfg(not(unix))]
pub(crate) fn alive(_pid: u32) -> bool {
    true
}

/// The lock's directory made, and this run's holder record.
fn prepare(path: &Path, now_ns: i64) -> Result<Holder, EngineError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| io_error(path, e))?;
    }
    Ok(Holder {
        pid: std::process::id(),
        expires_ns: now_ns.saturating_add(LOCK_TTL_NS),
    })
}

fn io_error(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Io {
        context: format!("taking the lock {}", path.display()),
        source: e,
    }
}

impl Lock {
    /// Take the lock at `path`. Returns the lock and, if a run that was
    /// killed left its lock file behind, the pid it named. A lock another
    /// live run holds is [`EngineError::Locked`].
    ///
    /// The lock is an exclusive `flock` on the file, which the kernel drops
    /// when its process ends however it ends: a run that is starting (its
    /// file created, its pid not yet written) holds it as firmly as one that
    /// has run for an hour, and a killed run never leaves a lock anyone must
    /// judge stale. The pid in the file is only for the message.
    #[cfg(unix)]
    pub fn acquire(path: &Path, now_ns: i64) -> Result<(Lock, Option<u32>), EngineError> {
        use std::io::{Read, Seek};
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let io = |e: std::io::Error| io_error(path, e);
        let me = prepare(path, now_ns)?;
        for _ in 0..10 {
            let mut f = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            // SAFETY: flock on a descriptor we own; no memory is involved.
            let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            let named = serde_json::from_str::<Holder>(&text).ok();
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    return Err(EngineError::Locked {
                        pid: named.map_or(0, |h| h.pid),
                        path: path.display().to_string(),
                    });
                }
                return Err(io(e));
            }
            // The holder before us may have removed the file between our
            // open and our flock: then we lock a file nobody else will.
            let same = fs::metadata(path)
                .ok()
                .zip(f.metadata().ok())
                .is_some_and(|(p, h)| p.ino() == h.ino() && p.dev() == h.dev());
            if !same {
                continue;
            }
            f.set_len(0).map_err(io)?;
            f.rewind().map_err(io)?;
            f.write_all(
                serde_json::to_string(&me)
                    .expect("lock serialises")
                    .as_bytes(),
            )
            .map_err(io)?;
            let taken_over = named.map(|h| h.pid).filter(|&p| p != me.pid);
            return Ok((
                Lock {
                    path: path.to_path_buf(),
                    _file: f,
                },
                taken_over,
            ));
        }
        Err(io_error(
            path,
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }

    /// Without `flock`: the file is created exclusively; one whose process
    /// is gone or whose expiry passed is taken over.
    #[cfg(not(unix))]
    pub fn acquire(path: &Path, now_ns: i64) -> Result<(Lock, Option<u32>), EngineError> {
        let io = |e: std::io::Error| io_error(path, e);
        let me = prepare(path, now_ns)?;
        let mut taken_over = None;
        for _ in 0..3 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    f.write_all(serde_json::to_string(&me).expect("serialises").as_bytes())
                        .map_err(io)?;
                    return Ok((
                        Lock {
                            path: path.to_path_buf(),
                            _file: f,
                        },
                        taken_over,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(path).unwrap_or_default();
                    match serde_json::from_str::<Holder>(&text) {
                        Ok(h) if h.pid != me.pid && h.expires_ns > now_ns => {
                            return Err(EngineError::Locked {
                                pid: h.pid,
                                path: path.display().to_string(),
                            })
                        }
                        Ok(h) => taken_over = Some(h.pid),
                        Err(_) => taken_over = None,
                    }
                    let _ = fs::remove_file(path);
                }
                Err(e) => return Err(io(e)),
            }
        }
        Err(io_error(
            path,
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held: a run that opened the file meanwhile
        // finds, once it gets the flock, that the path is no longer its file.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_a_left_one_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lock");
        let (held, taken) = Lock::acquire(&path, 0).unwrap();
        assert_eq!(taken, None);
        // Another open file description: refused, naming the holder.
        let err = Lock::acquire(&path, 0).unwrap_err();
        assert_eq!(
            err.to_string().split(" (").next().unwrap(),
            format!("locked by pid {}", std::process::id())
        );
        drop(held);
        assert!(!path.exists(), "lock not released");
        // A file a killed run left (no flock on it): taken over, its pid named.
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
        // Half-written or garbage: taken over, nobody named.
        fs::write(&path, "").unwrap();
        assert_eq!(Lock::acquire(&path, 10).unwrap().1, None);
    }

    #[test]
    fn a_zombie_is_not_alive() {
        // Killed but not reaped: a zombie until `wait`.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(alive(pid));
        child.kill().unwrap();
        let start = std::time::Instant::now();
        while alive(pid) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "a killed, unreaped child still counts as alive"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait().unwrap();
    }

    #[test]
    fn threads_racing_for_the_lock_hold_it_one_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("lock");
        let inside = AtomicUsize::new(0);
        let max = AtomicUsize::new(0);
        let got = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..200 {
                        if let Ok((lock, _)) = Lock::acquire(&path, 0) {
                            let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            max.fetch_max(n, Ordering::SeqCst);
                            got.fetch_add(1, Ordering::SeqCst);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                });
            }
        });
        assert_eq!(max.load(Ordering::SeqCst), 1, "two holders at once");
        assert!(got.load(Ordering::SeqCst) > 0, "nobody ever got the lock");
    }
}
