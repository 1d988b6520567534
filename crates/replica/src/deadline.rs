//! [`Deadline`]: every operation of a replica bounded in time, for a
//! directory on a network mount that may hang (NFS, SMB, FUSE). A blocked
//! file-system call cannot be interrupted: the operation runs on a thread of
//! its own, and when it has not answered within the deadline the caller gets
//! [`ReplicaError::Unavailable`] naming the location and the deadline, and
//! goes on (the blocked thread is abandoned). A scan may take longer than
//! the deadline as long as it keeps listing and hashing files: only a scan
//! that stops advancing for that long is given up.

use std::io::Read;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use driftsync_core::{Entry, RelPath, SmallStr, Snapshot};

use crate::local::LocalReplica;
use crate::{
    BackupCopy, Capabilities, Expect, Replica, ReplicaError, Scan, ScanProgress, ScanRequest,
    WriteMeta,
};

/// A replica whose operations each answer within `timeout`.
pub struct Deadline {
    inner: Arc<dyn Replica>,
    timeout: Duration,
}

impl Deadline {
    /// A local directory, each operation bounded by `timeout`.
    pub fn local(replica: LocalReplica, timeout: Duration) -> Deadline {
        Deadline {
            inner: Arc::new(replica),
            timeout,
        }
    }

    /// Run `op` on its own thread and wait for it up to the deadline (for a
    /// scan that counts into `progress`: up to the deadline without progress).
    fn call<T: Send + 'static>(
        &self,
        what: String,
        progress: Option<Arc<ScanProgress>>,
        op: impl FnOnce(&dyn Replica) -> Result<T, ReplicaError> + Send + 'static,
    ) -> Result<T, ReplicaError> {
        let inner = Arc::clone(&self.inner);
        let (tx, rx) = sync_channel(1);
        std::thread::Builder::new()
            .name("driftsync-deadline".into())
            .spawn(move || {
                let _ = tx.send(op(&*inner));
            })
            .map_err(|e| ReplicaError::other(format!("{}: {what}", self.location()), e))?;
        let progress = || progress.as_ref().map_or(0, |p| p.steps());
        let mut seen = progress();
        loop {
            match rx.recv_timeout(self.timeout) {
                Ok(r) => return r,
                Err(RecvTimeoutError::Timeout) => {
                    let now = progress();
                    if now != seen {
                        seen = now;
                        continue;
                    }
                    return Err(ReplicaError::Unavailable {
                        location: self.location(),
                        source: format!(
                            "{what}: no answer within {:?} (request_timeout); the directory may be on a network mount that hangs — the operation is abandoned and nothing after it is done",
                            self.timeout
                        )
                        .into(),
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ReplicaError::other(
                        format!("{}: {what}", self.location()),
                        "the operation ended without an answer",
                    ))
                }
            }
        }
    }
}

impl Replica for Deadline {
    fn location(&self) -> String {
        self.inner.location()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        let include = request.include.to_vec();
        let exclude = request.exclude.to_vec();
        let prior: Option<Snapshot> = request.prior.cloned();
        let (written, changes_only) = (request.prior_written_ns, request.changes_only);
        let progress = request.progress.clone().unwrap_or_default();
        let counts = Arc::clone(&progress);
        self.call("scan".into(), Some(progress), move |r| {
            r.scan(&ScanRequest {
                include: &include,
                exclude: &exclude,
                prior: prior.as_ref(),
                prior_written_ns: written,
                changes_only,
                progress: Some(counts),
            })
        })
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        let p = path.clone();
        let content = self.call(format!("{path}: reading"), None, move |r| {
            let mut content = Vec::new();
            r.read(&p)?
                .read_to_end(&mut content)
                .map_err(|e| ReplicaError::other(format!("{p}: reading"), e))?;
            Ok(content)
        })?;
        Ok(Box::new(std::io::Cursor::new(content)))
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        // Read from the other side here: only this side's writing is bounded.
        let mut bytes = Vec::new();
        content
            .read_to_end(&mut bytes)
            .map_err(|e| ReplicaError::other(format!("{path}: reading the source"), e))?;
        let (p, meta, expect) = (path.clone(), meta.clone(), expect.clone());
        self.call(format!("{path}: writing"), None, move |r| {
            r.write(&p, &mut bytes.as_slice(), &meta, &expect)
        })
    }

    fn set_meta(
        &self,
        path: &RelPath,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let (p, meta, expect) = (path.clone(), meta.clone(), expect.clone());
        self.call(
            format!("{path}: setting its time and mode"),
            None,
            move |r| r.set_meta(&p, &meta, &expect),
        )
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        let (p, expect) = (path.clone(), expect.clone());
        self.call(format!("{path}: removing"), None, move |r| {
            r.remove(&p, &expect)
        })
    }

    fn begin_batch(&self) -> Result<(), ReplicaError> {
        self.call("begin".into(), None, |r| r.begin_batch())
    }

    fn commit_batch(&self) -> Result<(), ReplicaError> {
        self.call("commit".into(), None, |r| r.commit_batch())
    }

    fn rollback_batch(&self) {
        let _ = self.call("roll back".into(), None, |r| {
            r.rollback_batch();
            Ok(())
        });
    }

    fn backup(&self, path: &RelPath, run_id: &str) -> Result<Option<BackupCopy>, ReplicaError> {
        let (p, run) = (path.clone(), run_id.to_string());
        self.call(format!("{path}: backing up"), None, move |r| {
            r.backup(&p, &run)
        })
    }

    // `local_file` stays `None`: a direct copy would bypass the deadline.

    fn remove_leftovers(&self) -> usize {
        self.call("removing leftover temp files".into(), None, |r| {
            Ok(r.remove_leftovers())
        })
        .unwrap_or(0)
    }

    fn list_backups(&self) -> Result<Vec<BackupCopy>, ReplicaError> {
        self.call("listing backups".into(), None, |r| r.list_backups())
    }

    fn keeps_records(&self) -> bool {
        self.inner.keeps_records()
    }

    fn version(&self, path: &RelPath) -> Result<Option<SmallStr>, ReplicaError> {
        let p = path.clone();
        self.call(format!("{path}: reading its version"), None, move |r| {
            r.version(&p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    #[test]
    fn a_directory_behind_a_deadline_is_still_a_replica() {
        let dirs = std::sync::Mutex::new(Vec::new());
        conformance::run_all(&|| {
            let d = tempfile::tempdir().unwrap();
            let r = LocalReplica::new(d.path().join("root"));
            dirs.lock().unwrap().push(d);
            Box::new(Deadline::local(r, Duration::from_secs(30)))
        });
    }

    /// A replica whose every call blocks: a mount that stopped answering.
    struct Hung;

    impl Replica for Hung {
        fn location(&self) -> String {
            "/mnt/share".into()
        }
        fn capabilities(&self) -> Capabilities {
            LocalReplica::new("/").capabilities()
        }
        fn scan(&self, _: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
            std::thread::park();
            unreachable!("parked for good")
        }
        fn read(&self, _: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
            std::thread::park();
            unreachable!("parked for good")
        }
        fn write(
            &self,
            _: &RelPath,
            _: &mut dyn Read,
            _: &WriteMeta,
            _: &Expect,
        ) -> Result<Entry, ReplicaError> {
            std::thread::park();
            unreachable!("parked for good")
        }
        fn remove(&self, _: &RelPath, _: &Expect) -> Result<(), ReplicaError> {
            std::thread::park();
            unreachable!("parked for good")
        }
    }

    #[test]
    fn a_hung_operation_is_reported_with_the_location_and_the_deadline() {
        let d = Deadline {
            inner: Arc::new(Hung),
            timeout: Duration::from_millis(50),
        };
        let err = d.scan(&ScanRequest::default()).unwrap_err();
        assert!(err.is_environment(), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("/mnt/share: unavailable: scan: no answer within 50ms"),
            "{text}"
        );
        let p = RelPath::new("a.txt").unwrap();
        let err = d.remove(&p, &Expect::Any).unwrap_err().to_string();
        assert!(
            err.contains("a.txt: removing: no answer within 50ms (request_timeout)"),
            "{err}"
        );
    }
}
