//! A replica's listing at one moment: path → entry, in path order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Entry, RelPath};

/// Every file of one side, sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Snapshot {
    /// The files, by path.
    pub entries: BTreeMap<RelPath, Entry>,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Add or replace an entry.
    pub fn insert(&mut self, path: RelPath, entry: Entry) {
        self.entries.insert(path, entry);
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterate in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&RelPath, &Entry)> {
        self.entries.iter()
    }
}

impl FromIterator<(RelPath, Entry)> for Snapshot {
    fn from_iter<T: IntoIterator<Item = (RelPath, Entry)>>(iter: T) -> Self {
        Snapshot {
            entries: iter.into_iter().collect(),
        }
    }
}
