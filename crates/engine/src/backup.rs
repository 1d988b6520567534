//! Backups of everything overwritten or deleted.
//!
//! A replica that keeps copies of its own (object storage: a server-side copy
//! under `<backup_prefix><run>/<path>`) is asked first; otherwise the file is
//! saved to `.driftsync/backup/<run>/<side>/<path>`: a hard link to it when
//! the replica is a local directory ([`Replica::local_file`]) and the link
//! works, else a copy read through the replica. Either way the run's
//! manifest, `.driftsync/backup/<run>/run.json`, lists what was saved and from
//! which locations, so `driftsync restore RUN` can put it back.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use driftsync_core::{Entry, RelPath, Side};
use driftsync_replica::local::LinkOut;
use driftsync_replica::{Replica, ReplicaError};
use serde::{Deserialize, Serialize};

use crate::EngineError;

/// The extension of a backup being written (removed by the next run if a crash leaves it).
pub const PARTIAL: &str = "driftsync-partial";

/// The manifest file in a run's backup directory.
pub const MANIFEST: &str = "run.json";

/// Where one saved file went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// The side it was on.
    pub side: Side,
    /// Its path.
    pub path: String,
    /// Inside the replica: the copy's path relative to the replica root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
    /// Outside it: the local backup file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// `.driftsync/backup/<run>/run.json`: what a run backed up, and where from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The run id.
    pub run: String,
    /// The left replica's location (never a secret).
    pub left: String,
    /// The right replica's location (never a secret).
    pub right: String,
    /// The base the run advanced.
    pub state: PathBuf,
    /// Every file saved.
    pub saved: Vec<Saved>,
}

impl Manifest {
    /// Read the manifest of run `run_id` under `work_dir/backup/`, if there is one.
    pub fn load(work_dir: &Path, run_id: &str) -> Result<Option<Manifest>, EngineError> {
        let path = work_dir.join("backup").join(run_id).join(MANIFEST);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EngineError::Io {
                    context: format!("reading {}", path.display()),
                    source: e,
                })
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| EngineError::State {
                path: format!("{}:{}:{}", path.display(), e.line(), e.column()),
                detail: format!("not a backup manifest: {e}"),
            })
    }
}

/// Where one run keeps its backups.
#[derive(Debug)]
pub struct Backups {
    dir: PathBuf,
    run_id: String,
    saved: Mutex<Vec<Saved>>,
    /// Directories under `dir` this run has created.
    dirs: Mutex<HashSet<PathBuf>>,
}

impl Backups {
    /// Backups for run `run_id` under `work_dir/backup/`.
    pub fn new(work_dir: &Path, run_id: &str) -> Backups {
        Backups {
            dir: work_dir.join("backup").join(run_id),
            run_id: run_id.to_string(),
            saved: Mutex::new(Vec::new()),
            dirs: Mutex::new(HashSet::new()),
        }
    }

    /// The run's backup directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run id (`<UTC stamp>-<pid>`).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// How many files were saved so far.
    pub fn count(&self) -> usize {
        self.saved.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn note(&self, saved: Saved) {
        self.saved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(saved);
    }

    /// Save `path` of `replica` (side `side`): inside the replica when it
    /// keeps copies of its own, else in the local backup directory. Returns
    /// where it went, for the report.
    ///
    /// `seen` is what the scan saw: a hard-linked backup must be that very
    /// file (its version: the inode the write will replace), or the file has
    /// changed since the scan and the action is skipped
    /// ([`ReplicaError::Changed`]); a copied backup gets its mtime and
    /// executable bit.
    pub fn save(
        &self,
        replica: &dyn Replica,
        side: Side,
        path: &RelPath,
        seen: Option<&Entry>,
    ) -> Result<String, EngineError> {
        if let Some(copy) = replica
            .backup(path, &self.run_id)
            .map_err(|e| EngineError::Replica { side, source: e })?
        {
            self.note(Saved {
                side,
                path: path.to_string(),
                copy: Some(copy.copy.to_string()),
                file: None,
            });
            return Ok(format!("{}{}", replica.location(), copy.copy));
        }
        let dest = self.save_local(replica, side, path, seen)?;
        self.note(Saved {
            side,
            path: path.to_string(),
            copy: None,
            file: Some(dest.clone()),
        });
        Ok(dest.display().to_string())
    }

    /// Save into `<dir>/<side>/<path>`: a hard link to the file when the
    /// replica is a local directory (its writes never change an inode in
    /// place, so the link keeps the old content at the cost of one `link`;
    /// the file is reached beneath the replica's root by directory handle,
    /// never through a symbolic link), else, or when the link fails (another
    /// file system, no permission, too many links), a copy through the
    /// replica, written to a `.driftsync-partial` file and renamed into place.
    fn save_local(
        &self,
        replica: &dyn Replica,
        side: Side,
        path: &RelPath,
        seen: Option<&Entry>,
    ) -> Result<PathBuf, EngineError> {
        let dest = self.dir.join(side.name()).join(path.as_str());
        let io = |e: io::Error| EngineError::Io {
            context: format!("backing up {side} {path} to {}", dest.display()),
            source: e,
        };
        self.make_dir(dest.parent().expect("backup path has a parent"))
            .map_err(io)?;
        if let Some(src) = replica.local_file(path) {
            let expect = seen.map(|e| e.version.as_str());
            match driftsync_replica::local::link_out(&src, path, &dest, expect) {
                Ok(LinkOut::Linked) => return Ok(dest),
                Ok(LinkOut::Changed(detail)) => {
                    return Err(EngineError::Replica {
                        side,
                        source: ReplicaError::Changed {
                            path: path.to_string(),
                            detail,
                        },
                    })
                }
                Err(_) => {} // a copy, below
            }
        }
        let mut reader = replica
            .read(path)
            .map_err(|e| EngineError::Replica { side, source: e })?;
        let tmp = dest.with_extension(PARTIAL);
        let mut f = fs::File::create(&tmp).map_err(io)?;
        io::copy(&mut reader, &mut f).map_err(io)?;
        if let Some(seen) = seen {
            use std::os::unix::fs::PermissionsExt;
            let mode = if seen.executable { 0o755 } else { 0o644 };
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io)?;
            let mtime = std::time::UNIX_EPOCH
                + std::time::Duration::from_nanos(seen.mtime_ns.max(0) as u64);
            f.set_modified(mtime).map_err(io)?;
        }
        drop(f);
        fs::rename(&tmp, &dest).map_err(io)?;
        Ok(dest)
    }

    /// Take back the local backup of `path` on `side`: the write or delete it
    /// was made for did not happen (the file had changed since the scan), so
    /// nothing was overwritten, and a hard-linked backup would otherwise stay
    /// a second name of the live file, changing with it. A copy kept inside
    /// the replica (object storage) stays: it is independent of the original.
    pub fn forget(&self, side: Side, path: &RelPath) {
        let mut saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = saved
            .iter()
            .rposition(|s| s.side == side && s.path == path.as_str() && s.file.is_some())
        else {
            return;
        };
        let gone = saved.swap_remove(i);
        drop(saved);
        if let Some(file) = gone.file {
            // Directories stay until `finish`: another action may be linking into them.
            let _ = fs::remove_file(file);
        }
    }

    /// `create_dir_all`, once per directory and run.
    fn make_dir(&self, dir: &Path) -> io::Result<()> {
        if self
            .dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(dir)
        {
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        self.dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf());
        Ok(())
    }

    /// Write the run's manifest when anything was saved; returns whether it was.
    pub fn finish(&self, left: String, right: String, state: &Path) -> Result<bool, EngineError> {
        let mut saved = self.saved.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if saved.is_empty() {
            // Directories made for backups that were all taken back.
            remove_empty_dirs(&self.dir);
            return Ok(false);
        }
        saved.sort_by(|a, b| (a.side.name(), &a.path).cmp(&(b.side.name(), &b.path)));
        let manifest = Manifest {
            run: self.run_id.clone(),
            left,
            right,
            state: state.to_path_buf(),
            saved,
        };
        let path = self.dir.join(MANIFEST);
        let io = |e: io::Error| EngineError::Io {
            context: format!("writing {}", path.display()),
            source: e,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        if let Some(root) = self.dir.parent() {
            keep_out_of_git(root);
        }
        let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
        fs::write(&path, text + "\n").map_err(io)?;
        Ok(true)
    }
}

/// Make git ignore the folder `dir` that driftsync owns (backups, reports):
/// a `.gitignore` in it that ignores everything, itself included, as pytest
/// and mypy do for their caches. Without it every `git status` lists the
/// folder as untracked. Best effort: a folder that cannot take the file
/// is still used.
pub fn keep_out_of_git(dir: &Path) {
    let file = dir.join(".gitignore");
    if !file.exists() {
        let _ = fs::write(
            file,
            "# Written by driftsync: this folder stays out of git.\n*\n",
        );
    }
}

/// Remove `dir` and the directories under it, bottom-up, as far as they are
/// empty; anything that holds a file stays.
fn remove_empty_dirs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(&e.path());
        }
    }
    let _ = fs::remove_dir(dir);
}
