//! `.driftsync/state/bundles.json`: which version each bundle directory was
//! last exported from or imported as — the base that tells "modified locally"
//! from "newer in the database".

use std::collections::BTreeMap;
use std::path::Path;

use driftsync_core::Hash;
use serde::{Deserialize, Serialize};

use crate::local::write_if_changed;
use crate::BundleError;

/// The version a directory corresponds to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseRecord {
    /// The version exported or imported.
    pub version: String,
    /// Its tree hash.
    pub tree_hash: Hash,
}

/// The whole state file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleState {
    /// Format version (1).
    pub version: u32,
    /// By bundle name.
    pub bundles: BTreeMap<String, BaseRecord>,
}

impl BundleState {
    /// Read the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<BundleState, BundleError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| BundleError::State {
                path: path.to_path_buf(),
                message: format!("{}:{}: {e}", e.line(), e.column()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BundleState {
                version: 1,
                bundles: BTreeMap::new(),
            }),
            Err(e) => Err(BundleError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
        }
    }

    /// Write it (sorted, stable bytes), atomically.
    pub fn save(&self, path: &Path) -> Result<(), BundleError> {
        let mut text = serde_json::to_string_pretty(self).expect("state serialises");
        text.push('\n');
        write_if_changed(path, text.as_bytes()).map(|_| ())
    }
}
