//! Backups of everything overwritten or deleted: `.driftsync/backup/<run>/<side>/<path>`.

use std::fs;
use std::io;
use std::path::PathBuf;

use driftsync_core::{RelPath, Side};
use driftsync_replica::Replica;

use crate::EngineError;

/// The extension of a backup being written (removed by the next run if a crash leaves it).
pub const PARTIAL: &str = "driftsync-partial";

/// Where one run keeps its backups.
#[derive(Clone, Debug)]
pub struct Backups {
    dir: PathBuf,
}

impl Backups {
    /// Backups for run `run_id` under `work_dir/backup/`.
    pub fn new(work_dir: &std::path::Path, run_id: &str) -> Backups {
        Backups {
            dir: work_dir.join("backup").join(run_id),
        }
    }

    /// The run's backup directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Copy `path` from `replica` (side `side`) into the backup; returns where it went.
    pub fn save(
        &self,
        replica: &dyn Replica,
        side: Side,
        path: &RelPath,
    ) -> Result<PathBuf, EngineError> {
        let dest = self.dir.join(side.name()).join(path.as_str());
        let io = |e: io::Error| EngineError::Io {
            context: format!("backing up {side} {path} to {}", dest.display()),
            source: e,
        };
        fs::create_dir_all(dest.parent().expect("backup path has a parent")).map_err(io)?;
        let mut reader = replica
            .read(path)
            .map_err(|e| EngineError::Replica { side, source: e })?;
        let tmp = dest.with_extension(PARTIAL);
        let mut f = fs::File::create(&tmp).map_err(io)?;
        io::copy(&mut reader, &mut f).map_err(io)?;
        drop(f);
        fs::rename(&tmp, &dest).map_err(io)?;
        Ok(dest)
    }
}
