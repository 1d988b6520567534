//! The base on disk: `.driftsync/state/<target>.json`, versioned, sorted, pretty.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use driftsync_core::Base;

use crate::EngineError;

/// The state file format version this build writes and reads.
pub const STATE_VERSION: u32 = 1;

/// The contents of a state file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// When the base was written, ns since the epoch (for the racy quick check).
    pub written_ns: i64,
    /// The left location, for people.
    pub left: String,
    /// The right location, for people.
    pub right: String,
    /// What both sides held after the last sync, with each side's quick-check data.
    pub base: Base,
}

impl State {
    /// Read a state file; a missing file is the empty state (first run).
    pub fn load(path: &Path) -> Result<Option<State>, EngineError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EngineError::State {
                    path: path.display().to_string(),
                    detail: e.to_string(),
                })
            }
        };
        let state: State = serde_json::from_str(&text).map_err(|e| EngineError::State {
            path: format!("{}:{}:{}", path.display(), e.line(), e.column()),
            detail: format!(
                "{e}; fix or delete the file (deleting it makes the next run a first run)"
            ),
        })?;
        if state.version != STATE_VERSION {
            return Err(EngineError::State {
                path: path.display().to_string(),
                detail: format!(
                    "state version {} is not supported (this build reads {STATE_VERSION})",
                    state.version
                ),
            });
        }
        Ok(Some(state))
    }

    /// Write atomically: a temp file in the same directory (fsynced when `durable`), then rename.
    pub fn save(&self, path: &Path, durable: bool) -> Result<(), EngineError> {
        let err = |e: std::io::Error| EngineError::State {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
            std::process::id()
        ));
        let f = fs::File::create(&tmp).map_err(err)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        serde_json::to_writer_pretty(&mut w, self).map_err(|e| err(e.into()))?;
        w.write_all(b"\n").map_err(err)?;
        let f = w.into_inner().map_err(|e| err(e.into_error()))?;
        if durable {
            f.sync_all().map_err(err)?;
        }
        drop(f);
        driftsync_replica::fault::crash_point();
        fs::rename(&tmp, path).map_err(err)
    }
}
