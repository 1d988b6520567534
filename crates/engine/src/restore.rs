//! Putting one run's backups back (`driftsync restore RUN`).
//!
//! A run's backups are on either side: local copies under
//! `<work>/backup/<run>/{left,right}/<path>`, and copies a replica kept inside
//! itself ([`Replica::list_backups`], e.g. `<bucket prefix>.driftsync-backup/<run>/`).
//! [`plan`] finds them all and says, for each, what it would overwrite;
//! [`apply`] writes them back. The base is left alone, so the next sync sees
//! restored files as ordinary changes on that side.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use driftsync_core::{Hash, RelPath, Side};
use driftsync_replica::{Expect, Replica, ReplicaError, WriteMeta};

use crate::backup::{Manifest, MANIFEST, PARTIAL};
use crate::{clock, lock, EngineError};

/// Where a backup copy is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A local file under `<work>/backup/<run>/<side>/`.
    Local(PathBuf),
    /// A copy inside the replica, relative to its root.
    Copy(RelPath),
}

impl Source {
    /// For messages: the local file or `<location><copy>`.
    pub fn describe(&self, replica: &dyn Replica) -> String {
        match self {
            Source::Local(p) => p.display().to_string(),
            Source::Copy(c) => format!("{}{c}", replica.location()),
        }
    }
}

/// What restoring a file would do to what is there now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Current {
    /// Nothing is there: the file is recreated.
    Absent,
    /// The same content is there: nothing to do.
    Same,
    /// Other content is there: it is overwritten.
    Differs,
}

/// One file to put back.
#[derive(Clone, Debug)]
pub struct Item {
    /// The side it goes back to.
    pub side: Side,
    /// Its path on that side.
    pub path: RelPath,
    /// Where the backup is.
    pub source: Source,
    /// What is there now.
    pub current: Current,
    /// SHA-256 of the backup.
    pub hash: Hash,
    /// Size of the backup.
    pub size: u64,
}

/// A run that has backups, for `restore --list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunBackups {
    /// The run id.
    pub run: String,
    /// Files backed up locally.
    pub local: usize,
    /// Files backed up inside the left replica.
    pub in_left: usize,
    /// Files backed up inside the right replica.
    pub in_right: usize,
}

fn io_err(context: String) -> impl FnOnce(io::Error) -> EngineError {
    move |source| EngineError::Io { context, source }
}

fn side_err(side: Side) -> impl Fn(ReplicaError) -> EngineError {
    move |source| EngineError::Replica { side, source }
}

fn idx(side: Side) -> usize {
    match side {
        Side::Left => 0,
        Side::Right => 1,
    }
}

/// Local backup files of `run` on `side`: (path, file).
fn local_files(work_dir: &Path, run: &str, side: Side) -> Vec<(RelPath, PathBuf)> {
    let root = work_dir.join("backup").join(run).join(side.name());
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            // Never through a link: only real directories and regular files.
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() && p.extension().is_none_or(|x| x != PARTIAL) {
                let rel = p.strip_prefix(&root).unwrap_or(&p).to_string_lossy();
                if let Ok(path) = RelPath::new(rel.replace('\\', "/")) {
                    out.push((path, p));
                }
            }
        }
    }
    out.sort();
    out
}

fn entry<'a>(runs: &'a mut BTreeMap<String, RunBackups>, run: &str) -> &'a mut RunBackups {
    runs.entry(run.to_string()).or_insert_with(|| RunBackups {
        run: run.to_string(),
        local: 0,
        in_left: 0,
        in_right: 0,
    })
}

/// Every run with backups: local ones under `<work>/backup/` and those kept
/// inside `replicas` (left, right), newest first.
pub fn list_runs(
    work_dir: &Path,
    replicas: Option<[&dyn Replica; 2]>,
) -> Result<Vec<RunBackups>, EngineError> {
    let mut runs: BTreeMap<String, RunBackups> = BTreeMap::new();
    for e in fs::read_dir(work_dir.join("backup"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if !e.path().is_dir() {
            continue;
        }
        let run = e.file_name().to_string_lossy().into_owned();
        let n = local_files(work_dir, &run, Side::Left).len()
            + local_files(work_dir, &run, Side::Right).len();
        let has_manifest = e.path().join(MANIFEST).exists();
        if n > 0 || has_manifest {
            entry(&mut runs, &run).local = n;
        }
    }
    if let Some(reps) = replicas {
        for side in [Side::Left, Side::Right] {
            for copy in reps[idx(side)].list_backups().map_err(side_err(side))? {
                let r = entry(&mut runs, &copy.run);
                match side {
                    Side::Left => r.in_left += 1,
                    Side::Right => r.in_right += 1,
                }
            }
        }
    }
    let mut out: Vec<RunBackups> = runs.into_values().collect();
    out.reverse();
    Ok(out)
}

/// Hash and size of a stream.
fn digest(mut r: impl Read) -> io::Result<(Hash, u64)> {
    let mut h = Hash::hasher();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok((h.finish(), size));
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
}

/// Open a local backup file, never through a symbolic link at its name.
fn open_backup(p: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(p)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// The mtime (ns) and executable bit a restored file gets: the local
/// backup's own (a hard link keeps the original's; a copy was given them),
/// else now and not executable.
fn restored_meta(source: &Source) -> (i64, bool) {
    use std::os::unix::fs::MetadataExt;
    match source {
        Source::Local(p) => match fs::symlink_metadata(p) {
            Ok(m) if m.is_file() => (
                m.mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(m.mtime_nsec()),
                m.mode() & 0o111 != 0,
            ),
            _ => (clock::now_ns(), false),
        },
        Source::Copy(_) => (clock::now_ns(), false),
    }
}

fn open_source<'a>(
    replica: &'a dyn Replica,
    side: Side,
    source: &Source,
) -> Result<Box<dyn Read + Send + 'a>, EngineError> {
    match source {
        Source::Local(p) => Ok(Box::new(
            open_backup(p).map_err(io_err(format!("reading {}", p.display())))?,
        )),
        Source::Copy(c) => replica.read(c).map_err(side_err(side)),
    }
}

/// Find run `run`'s backups on both sides and compare each with what is there now.
/// A run with no backups anywhere is an error naming where it looked.
pub fn plan(
    work_dir: &Path,
    run: &str,
    replicas: [&dyn Replica; 2],
) -> Result<Vec<Item>, EngineError> {
    if RelPath::new(run).map_or(true, |p| p.as_str().contains('/')) {
        return Err(EngineError::Io {
            context: format!("run `{run}`"),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a run id; `driftsync restore --list` shows the runs",
            ),
        });
    }
    let mut found: BTreeMap<(Side, RelPath), Source> = BTreeMap::new();
    for side in [Side::Left, Side::Right] {
        for (path, file) in local_files(work_dir, run, side) {
            found.insert((side, path), Source::Local(file));
        }
        for copy in replicas[idx(side)]
            .list_backups()
            .map_err(side_err(side))?
            .into_iter()
            .filter(|c| c.run == run)
        {
            found.insert((side, copy.path), Source::Copy(copy.copy));
        }
    }
    // Copies the manifest names (a replica opened without the run's
    // backup prefix does not list them, but reads them all the same).
    for saved in Manifest::load(work_dir, run)?.map_or(Vec::new(), |m| m.saved) {
        if let (Ok(path), Some(Ok(copy))) = (RelPath::new(saved.path), saved.copy.map(RelPath::new))
        {
            found
                .entry((saved.side, path))
                .or_insert(Source::Copy(copy));
        }
    }
    if found.is_empty() {
        return Err(EngineError::Io {
            context: format!("run `{run}`"),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no backups under {} nor inside {} or {}; `driftsync restore --list` shows the runs",
                    work_dir.join("backup").join(run).display(),
                    replicas[0].location(),
                    replicas[1].location()
                ),
            ),
        });
    }
    let mut items = Vec::new();
    for ((side, path), source) in found {
        let replica = replicas[idx(side)];
        let what = source.describe(replica);
        let (hash, size) = digest(open_source(replica, side, &source)?)
            .map_err(io_err(format!("reading the backup {what}")))?;
        let current = match replica.read(&path) {
            Ok(r) => {
                let (now, _) = digest(r).map_err(io_err(format!("reading {side} {path}")))?;
                if now == hash {
                    Current::Same
                } else {
                    Current::Differs
                }
            }
            Err(ReplicaError::NotFound { .. }) => Current::Absent,
            Err(e) => return Err(side_err(side)(e)),
        };
        items.push(Item {
            side,
            path,
            source,
            current,
            hash,
            size,
        });
    }
    Ok(items)
}

/// Write every item that differs from what is there (under the lock);
/// one result per item, in order (`Ok(false)`: already identical, left alone).
pub fn apply(
    work_dir: &Path,
    items: &[Item],
    replicas: [&dyn Replica; 2],
) -> Result<Vec<Result<bool, String>>, EngineError> {
    let (_lock, _) = lock::Lock::acquire(&work_dir.join("lock"), clock::now_ns())?;
    let mut out = Vec::new();
    for item in items {
        if item.current == Current::Same {
            out.push(Ok(false));
            continue;
        }
        let replica = replicas[idx(item.side)];
        let (mtime_ns, executable) = restored_meta(&item.source);
        let meta = WriteMeta {
            size: item.size,
            hash: item.hash,
            mtime_ns,
            executable,
        };
        let result = open_source(replica, item.side, &item.source)
            .map_err(|e| e.to_string())
            .and_then(|mut r| {
                replica
                    .write(&item.path, &mut r, &meta, &Expect::Any)
                    .map_err(|e| e.to_string())
            });
        out.push(result.map(|_| true));
    }
    Ok(out)
}
