//! The bundle operations: status, import, export, validate.

use std::path::{Path, PathBuf};

use driftsync_core::{Hash, RelPath};
use serde::Serialize;

use crate::local::{self, Folder, LocalBundle};
use crate::manifest::{rewrite_version, Bump, Semver, MANIFEST_FILE};
use crate::readme::readme;
use crate::state::{BaseRecord, BundleState};
use crate::store::{BundleStore, NewVersion, VersionInfo};
use crate::BundleError;

/// Where a bundle directory stands against the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncState {
    /// Directory and latest database version hold the same tree.
    InSync,
    /// The directory changed since the version it came from; the database did not move.
    ModifiedLocally,
    /// The directory is unchanged since its version; the database has a newer one.
    NewerInDatabase,
    /// Only the directory exists.
    OnlyLocal,
    /// Only the database has it.
    OnlyDatabase,
    /// Both moved (or the directory's origin is unknown and it matches no stored version).
    Diverged,
}

impl SyncState {
    /// The kebab-case name shown in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::InSync => "in-sync",
            SyncState::ModifiedLocally => "modified-locally",
            SyncState::NewerInDatabase => "newer-in-database",
            SyncState::OnlyLocal => "only-local",
            SyncState::OnlyDatabase => "only-database",
            SyncState::Diverged => "diverged",
        }
    }
}

/// One line of `bundle status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusLine {
    /// Bundle name.
    pub name: String,
    /// The directory's tree hash.
    pub local_hash: Option<Hash>,
    /// The directory's declared version.
    pub local_version: Option<String>,
    /// The latest stored version's tree hash.
    pub database_hash: Option<Hash>,
    /// The latest stored version.
    pub database_version: Option<String>,
    /// The version the directory was exported from or imported as.
    pub base_version: Option<String>,
    /// Where it stands.
    pub state: SyncState,
}

/// Decide the state from the three hashes (pure).
pub fn classify(local: Option<Hash>, db: Option<Hash>, base: Option<Hash>) -> SyncState {
    match (local, db) {
        (None, None) | (None, Some(_)) => SyncState::OnlyDatabase,
        (Some(_), None) => SyncState::OnlyLocal,
        (Some(l), Some(d)) if l == d => SyncState::InSync,
        (Some(l), Some(d)) => match base {
            Some(b) if b == l => SyncState::NewerInDatabase,
            Some(b) if b == d => SyncState::ModifiedLocally,
            _ => SyncState::Diverged,
        },
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new version was stored.
    Stored(VersionInfo),
    /// The directory already equals this stored version; nothing written.
    Unchanged(String),
}

/// What an export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportOutcome {
    /// The version exported.
    pub version: String,
    /// Files written (new or changed).
    pub written: Vec<String>,
    /// Files left alone because they already held the right bytes.
    pub unchanged: usize,
    /// Declared files of the old directory that the version does not have.
    pub removed: Vec<String>,
}

/// Bundles under one folder of a repository, against one database.
pub struct Workspace {
    /// Where bundles live: `<root>/<name>/bundle.yaml`.
    pub root: PathBuf,
    /// The state file.
    pub state_path: PathBuf,
    /// The database.
    pub store: BundleStore,
}

impl Workspace {
    /// The directory of bundle `name` (the name is checked to be a safe folder name).
    pub fn dir(&self, name: &str) -> Result<PathBuf, BundleError> {
        if !crate::manifest::is_bundle_name(name) {
            return Err(BundleError::BadName(name.into()));
        }
        Ok(self.root.join(name))
    }

    fn local(&self, name: &str) -> Result<Option<LocalBundle>, BundleError> {
        self.dir(name)?;
        match local::load(&self.root, name) {
            Err(BundleError::NoLocal(_)) => Ok(None),
            other => other.map(Some),
        }
    }

    /// `name/path` inside the bundles folder.
    fn in_bundle(name: &str, path: &str) -> Result<RelPath, BundleError> {
        RelPath::new(format!("{name}/{path}"))
            .map_err(|e| BundleError::Corrupt(format!("{name}: stored path {path:?}: {e}")))
    }

    /// The status of every bundle found in the folder or the database.
    pub fn status(&mut self) -> Result<Vec<StatusLine>, BundleError> {
        let state = BundleState::load(&self.state_path)?;
        let mut names = local::local_names(&self.root)?;
        names.extend(self.store.names()?);
        names.sort();
        names.dedup();
        let mut out = Vec::new();
        for name in names {
            let local = self.local(&name)?;
            let versions = self.store.versions(&name)?;
            let latest = versions.last();
            let local_hash = local.as_ref().map(LocalBundle::tree_hash);
            let base = state.bundles.get(&name).cloned().or_else(|| {
                // No record: a directory equal to some stored version came from it.
                versions
                    .iter()
                    .find(|v| Some(v.tree_hash) == local_hash)
                    .map(|v| BaseRecord {
                        version: v.version.to_string(),
                        tree_hash: v.tree_hash,
                    })
            });
            out.push(StatusLine {
                state: classify(
                    local_hash,
                    latest.map(|v| v.tree_hash),
                    base.as_ref().map(|b| b.tree_hash),
                ),
                local_version: local.as_ref().map(|l| l.manifest.version.to_string()),
                local_hash,
                database_hash: latest.map(|v| v.tree_hash),
                database_version: latest.map(|v| v.version.to_string()),
                base_version: base.map(|b| b.version),
                name,
            });
        }
        Ok(out)
    }

    fn record(&self, name: &str, version: &str, hash: Hash) -> Result<(), BundleError> {
        let mut state = BundleState::load(&self.state_path)?;
        state.version = 1;
        state.bundles.insert(
            name.into(),
            BaseRecord {
                version: version.into(),
                tree_hash: hash,
            },
        );
        state.save(&self.state_path)
    }

    /// Store the directory as a new version. Without `bump` the version in
    /// `bundle.yaml` is used and must not exist yet; with it, the next version
    /// after the highest stored (or declared) one is used and written back
    /// into `bundle.yaml` once the database has committed.
    pub fn import(
        &mut self,
        name: &str,
        bump: Option<Bump>,
        created_by: &str,
    ) -> Result<ImportOutcome, BundleError> {
        let mut local = self
            .local(name)?
            .ok_or_else(|| BundleError::NoLocal(self.root.join(name)))?;
        let versions = self.store.versions(name)?;
        let hash = local.tree_hash();
        if let Some(v) = versions.iter().rev().find(|v| v.tree_hash == hash) {
            if Some(v) == versions.last() || bump.is_none() {
                self.record(name, &v.version.to_string(), hash)?;
                return Ok(ImportOutcome::Unchanged(v.version.to_string()));
            }
        }
        let declared = local.manifest.version;
        let target = match bump {
            None => declared,
            Some(part) => versions
                .last()
                .map(|v| v.version)
                .max(Some(declared))
                .unwrap_or(declared)
                .bump(part),
        };
        let mut new_yaml = None;
        if target != declared {
            let path = RelPath::new(MANIFEST_FILE).expect("valid path");
            let old = String::from_utf8_lossy(&local.files[&path]).into_owned();
            let text = rewrite_version(&old, local.manifest.version_at, &declared.to_string(), &target.to_string())
                .ok_or_else(|| BundleError::Invalid {
                    file: local.dir.join(MANIFEST_FILE),
                    problems: vec![crate::schema::Problem {
                        line: local.manifest.version_at.0,
                        col: local.manifest.version_at.1,
                        message: "version: cannot rewrite this value; write it as a plain or quoted MAJOR.MINOR.PATCH".into(),
                    }],
                })?;
            local.files.insert(path, text.clone().into_bytes());
            new_yaml = Some(text);
        }
        let info = self.store.insert(&NewVersion {
            name,
            version: target,
            spec_version: &local.manifest.spec_version,
            description: &local.manifest.description,
            files: &local.files,
            created_by,
        })?;
        if let Some(text) = new_yaml {
            Folder::new(&self.root)
                .write_if_changed(&Self::in_bundle(name, MANIFEST_FILE)?, text.as_bytes())?;
        }
        self.record(name, &info.version.to_string(), info.tree_hash)?;
        Ok(ImportOutcome::Stored(info))
    }

    /// Write a stored version (default: the latest) into the bundle's
    /// directory, plus a generated README.md. Refuses to overwrite local
    /// changes that are in no stored version unless `force`.
    pub fn export(
        &mut self,
        name: &str,
        version: Option<Semver>,
        force: bool,
    ) -> Result<ExportOutcome, BundleError> {
        let versions = self.store.versions(name)?;
        let info = match version {
            Some(v) => versions.iter().find(|i| i.version == v),
            None => versions.last(),
        }
        .cloned()
        .ok_or_else(|| BundleError::NoSuchVersion {
            name: name.into(),
            version: version.map_or_else(|| "any".into(), |v| v.to_string()),
        })?;
        let dir = self.dir(name)?;
        let local = self.local(name)?;
        if let Some(l) = &local {
            let h = l.tree_hash();
            let known = versions.iter().any(|v| v.tree_hash == h);
            if !known && !force {
                return Err(BundleError::LocalChanges {
                    name: name.into(),
                    dir: dir.clone(),
                });
            }
        }
        let files = self.store.files(name, info.version)?;
        let mut out = ExportOutcome {
            version: info.version.to_string(),
            ..ExportOutcome::default()
        };
        let readme_path = RelPath::new("README.md").expect("valid path");
        let readme_text =
            (!files.contains_key(&readme_path)).then(|| readme(&info, &files).into_bytes());
        let mut writes: Vec<(RelPath, &[u8])> = Vec::new();
        for (path, bytes) in &files {
            writes.push((path.clone(), bytes));
        }
        if let Some(text) = &readme_text {
            writes.push((readme_path, text));
        }
        let removes: Vec<RelPath> = local
            .iter()
            .flat_map(|l| l.files.keys())
            .filter(|p| !files.contains_key(*p))
            .cloned()
            .collect();
        // Every path is checked before anything is written: a link inside
        // the folder (to a file or a folder) refuses the whole export.
        let folder = Folder::new(&self.root);
        let refused: Vec<String> = writes
            .iter()
            .map(|(p, _)| p)
            .chain(&removes)
            .filter_map(|p| {
                Self::in_bundle(name, p.as_str())
                    .map_err(|e| e.to_string())
                    .and_then(|rel| folder.check(&rel).map_err(|e| e.to_string()))
                    .err()
            })
            .collect();
        if !refused.is_empty() {
            return Err(BundleError::Unsafe(format!(
                "{name}: export refused, nothing written:\n  {}",
                refused.join("\n  ")
            )));
        }
        for (path, bytes) in &writes {
            if folder.write_if_changed(&Self::in_bundle(name, path.as_str())?, bytes)? {
                out.written.push(path.to_string());
            } else if readme_text.is_none() || path.as_str() != "README.md" {
                out.unchanged += 1;
            }
        }
        for old in &removes {
            folder.remove(&Self::in_bundle(name, old.as_str())?)?;
            out.removed.push(old.to_string());
        }
        self.record(name, &info.version.to_string(), info.tree_hash)?;
        Ok(out)
    }
}

/// Check `bundle.yaml` and the declared files of each named bundle (all when
/// `names` is empty). Returns the problems per bundle; empty means valid.
pub fn validate(root: &Path, names: &[String]) -> Result<Vec<(String, BundleError)>, BundleError> {
    let names = if names.is_empty() {
        local::local_names(root)?
    } else {
        names.to_vec()
    };
    let mut bad = Vec::new();
    for name in names {
        if !crate::manifest::is_bundle_name(&name) {
            bad.push((name.clone(), BundleError::BadName(name)));
            continue;
        }
        if let Err(e) = local::load(root, &name) {
            bad.push((name, e));
        }
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_covers_every_state() {
        let (a, b, c) = (Hash::of(b"a"), Hash::of(b"b"), Hash::of(b"c"));
        assert_eq!(classify(Some(a), Some(a), None), SyncState::InSync);
        assert_eq!(
            classify(Some(b), Some(a), Some(a)),
            SyncState::ModifiedLocally
        );
        assert_eq!(
            classify(Some(a), Some(b), Some(a)),
            SyncState::NewerInDatabase
        );
        assert_eq!(classify(Some(a), None, None), SyncState::OnlyLocal);
        assert_eq!(classify(None, Some(a), None), SyncState::OnlyDatabase);
        assert_eq!(classify(Some(b), Some(c), Some(a)), SyncState::Diverged);
        assert_eq!(classify(Some(b), Some(c), None), SyncState::Diverged);
    }
}
