//! An in-memory replica: the reference backend for tests and property tests.
//!
//! Clones share the same tree, so a test can hand one clone to the engine and
//! inspect the other. Versions are a counter that grows on every write.
//! [`MemoryReplica::fail_next`] makes the next operations fail with a
//! transient error, to exercise retries. Batches are real: `begin_batch`
//! saves the tree, `rollback_batch` puts it back, and
//! [`MemoryReplica::fail_commit`] makes the next commit fail.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use driftsync_core::{Entry, Hash, RelPath};

use crate::{
    Capabilities, Expect, PathFilter, Replica, ReplicaError, Scan, ScanRequest, WriteMeta,
};

type Files = BTreeMap<RelPath, (Arc<Vec<u8>>, Entry)>;

#[derive(Debug, Default)]
struct Inner {
    files: Mutex<Files>,
    counter: AtomicU64,
    fail_next: AtomicUsize,
    /// The tree as it was when the open batch began.
    saved: Mutex<Option<Files>>,
    fail_commit: AtomicUsize,
    commits: AtomicUsize,
}

/// A tree of files held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryReplica {
    name: String,
    inner: Arc<Inner>,
}

impl MemoryReplica {
    /// A new, empty replica; `name` appears in `location()` as `memory:<name>`.
    pub fn new(name: impl Into<String>) -> MemoryReplica {
        MemoryReplica {
            name: name.into(),
            inner: Arc::default(),
        }
    }

    /// Make the next `n` operations (scan, read, write, remove) fail with a transient error.
    pub fn fail_next(&self, n: usize) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }

    /// Make the next `n` batch commits fail (the batch must then be rolled back).
    pub fn fail_commit(&self, n: usize) {
        self.inner.fail_commit.store(n, Ordering::SeqCst);
    }

    /// How many batches were committed.
    pub fn commits(&self) -> usize {
        self.inner.commits.load(Ordering::SeqCst)
    }

    fn saved(&self) -> MutexGuard<'_, Option<Files>> {
        self.inner.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Put a file in place directly (test setup), with the given mtime.
    pub fn put(&self, path: &str, content: &[u8], mtime_ns: i64) {
        let path = RelPath::new(path).expect("valid test path");
        let entry = self.entry_for(content, mtime_ns, false);
        self.files()
            .insert(path, (Arc::new(content.to_vec()), entry));
    }

    /// Every file's content, by path (test inspection).
    pub fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.files()
            .iter()
            .map(|(p, (c, _))| (p.as_str().to_string(), c.as_ref().clone()))
            .collect()
    }

    fn files(&self) -> MutexGuard<'_, Files> {
        self.inner.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry_for(&self, content: &[u8], mtime_ns: i64, executable: bool) -> Entry {
        let v = self.inner.counter.fetch_add(1, Ordering::SeqCst) + 1;
        Entry {
            size: content.len() as u64,
            mtime_ns,
            hash: Hash::of(content),
            version: format!("v{v}").into(),
            executable,
        }
    }

    fn injected(&self) -> Result<(), ReplicaError> {
        let took = self
            .inner
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if took.is_ok() {
            return Err(ReplicaError::Transient {
                location: self.location(),
                source: "injected transient failure".into(),
            });
        }
        Ok(())
    }
}

fn check(path: &RelPath, current: Option<&Entry>, expect: &Expect) -> Result<(), ReplicaError> {
    let changed = |detail: String| ReplicaError::Changed {
        path: path.to_string(),
        detail,
    };
    match (expect, current) {
        (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(e)) => Err(changed(format!("exists (version {})", e.version))),
        (Expect::Version(v), Some(e)) if &e.version == v => Ok(()),
        (Expect::Version(v), Some(e)) => {
            Err(changed(format!("version {} instead of {v}", e.version)))
        }
        (Expect::Version(v), None) => Err(changed(format!("missing, expected version {v}"))),
    }
}

impl Replica for MemoryReplica {
    fn location(&self) -> String {
        format!("memory:{}", self.name)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            conditional_write: true,
            conditional_delete: true,
            preserves_mtime: true,
            preserves_executable: true,
        }
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        self.injected()?;
        let filter = PathFilter::new(request.include, request.exclude)?;
        // Changes only when asked, so the engine's reading of such scans is
        // exercised by every test that syncs memory replicas.
        let mut listing = crate::Listing::new(request.prior.filter(|_| request.changes_only));
        for (p, (_, e)) in self.files().iter() {
            if filter.matches(p.as_str()) {
                listing.push(p.clone(), e.clone());
            }
        }
        let mut scan = Scan::default();
        listing.finish(&mut scan);
        Ok(scan)
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        self.injected()?;
        let content = self
            .files()
            .get(path)
            .map(|(c, _)| Arc::clone(c))
            .ok_or_else(|| ReplicaError::NotFound {
                path: path.to_string(),
            })?;
        Ok(Box::new(Cursor::new(ArcBytes(content))))
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        self.injected()?;
        let mut buf = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        content
            .read_to_end(&mut buf)
            .map_err(|e| ReplicaError::other(format!("{path}: reading the source"), e))?;
        let mut files = self.files();
        check(path, files.get(path).map(|(_, e)| e), expect)?;
        let entry = self.entry_for(&buf, meta.mtime_ns, meta.executable);
        files.insert(path.clone(), (Arc::new(buf), entry.clone()));
        Ok(entry)
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        self.injected()?;
        let mut files = self.files();
        check(path, files.get(path).map(|(_, e)| e), expect)?;
        files.remove(path);
        Ok(())
    }

    fn begin_batch(&self) -> Result<(), ReplicaError> {
        let tree = self.files().clone();
        *self.saved() = Some(tree);
        Ok(())
    }

    fn commit_batch(&self) -> Result<(), ReplicaError> {
        let failed = self
            .inner
            .fail_commit
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failed.is_ok() {
            return Err(ReplicaError::Unavailable {
                location: self.location(),
                source: "injected commit failure".into(),
            });
        }
        *self.saved() = None;
        self.inner.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn rollback_batch(&self) {
        if let Some(tree) = self.saved().take() {
            *self.files() = tree;
        }
    }
}

/// Shared bytes readable through a `Cursor` without copying.
struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_conformance_suite() {
        crate::conformance::run_all(&|| Box::new(MemoryReplica::new("conformance")));
    }

    #[test]
    fn injected_failures_are_transient_and_run_out() {
        let m = MemoryReplica::new("t");
        m.fail_next(2);
        let req = ScanRequest::default();
        assert!(m.scan(&req).unwrap_err().is_transient());
        assert!(m.scan(&req).unwrap_err().is_transient());
        assert!(m.scan(&req).is_ok());
    }

    #[test]
    fn clones_share_the_tree() {
        let m = MemoryReplica::new("t");
        let c = m.clone();
        m.put("a/b", b"x", 1);
        assert_eq!(c.contents()["a/b"], b"x");
    }
}
