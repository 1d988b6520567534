//! `bundle migrate --to SPEC`: declared, versioned transformations from one
//! spec version to the next, applied to each bundle's latest stored version
//! as a new (minor-bumped) version.
//!
//! Migrations live in `.driftsync/bundle-migrations/*.yaml`, each one step
//! `from` → `to` with `steps` of `rename_file`, `delete_file` and
//! `replace_text`; they chain until the target spec.

use std::path::{Path, PathBuf};

use driftsync_core::RelPath;

use crate::local::Files;
use crate::manifest::{parse_manifest, render_manifest, Bump, MANIFEST_FILE};
use crate::schema::{self, Problem};
use crate::store::{BundleStore, NewVersion};
use crate::yaml::{self, Node, NodeValue};
use crate::BundleError;

/// The JSON Schema of a migration file.
pub const MIGRATION_SCHEMA: &str = include_str!("migration.schema.json");

/// One transformation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Rename a declared file (skipped where the bundle lacks it).
    RenameFile {
        /// Old path.
        from: RelPath,
        /// New path.
        to: RelPath,
    },
    /// Drop a declared file (skipped where the bundle lacks it).
    DeleteFile(RelPath),
    /// Replace text in one declared file, or in all (`*`).
    ReplaceText {
        /// A path, or None for every declared file.
        path: Option<RelPath>,
        /// Text to find.
        find: String,
        /// Its replacement.
        replace: String,
    },
}

/// One declared migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The file it came from.
    pub file: PathBuf,
    /// Spec version it applies to.
    pub from: String,
    /// Spec version it produces.
    pub to: String,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// What migrating one bundle does (or would do).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MigrationPlan {
    /// Bundle.
    pub name: String,
    /// The stored version it starts from.
    pub from_version: String,
    /// The version it will be stored as.
    pub to_version: String,
    /// Spec versions passed through, first to last.
    pub specs: Vec<String>,
    /// Human-readable changes.
    pub changes: Vec<String>,
    /// Whether it was stored.
    pub applied: bool,
}

fn invalid(file: &Path, problems: Vec<Problem>) -> BundleError {
    BundleError::Invalid {
        file: file.to_path_buf(),
        problems,
    }
}

fn rel(file: &Path, n: Option<&Node>) -> Result<RelPath, BundleError> {
    let n = n.expect("required by the schema");
    RelPath::new(n.as_str().unwrap_or("")).map_err(|e| {
        invalid(
            file,
            vec![Problem {
                line: n.line,
                col: n.col,
                message: format!("path refused: {e}"),
            }],
        )
    })
}

/// Parse one migration file.
pub fn parse_migration(file: &Path, text: &str) -> Result<Migration, BundleError> {
    let node = yaml::parse(text).map_err(|e| {
        invalid(
            file,
            vec![Problem {
                line: e.line,
                col: e.col,
                message: format!("invalid YAML: {}", e.message),
            }],
        )
    })?;
    let schema: serde_json::Value = serde_json::from_str(MIGRATION_SCHEMA)
        .expect("the embedded migration schema is valid JSON");
    let mut problems = Vec::new();
    schema::validate(&schema, &node, "", &mut problems);
    if !problems.is_empty() {
        return Err(invalid(file, problems));
    }
    let text_of = |k: &str| node.get(k).and_then(Node::as_str).unwrap_or("").to_string();
    let mut steps = Vec::new();
    if let Some(NodeValue::Seq(items)) = node.get("steps").map(|n| &n.value) {
        for item in items {
            let NodeValue::Map(pairs) = &item.value else {
                continue;
            };
            if pairs.len() != 1 {
                return Err(invalid(
                    file,
                    vec![Problem {
                        line: item.line,
                        col: item.col,
                        message: "steps: each step has exactly one of rename_file, delete_file, replace_text".into(),
                    }],
                ));
            }
            let (k, v) = &pairs[0];
            steps.push(match k.as_str() {
                Some("rename_file") => Step::RenameFile {
                    from: rel(file, v.get("from"))?,
                    to: rel(file, v.get("to"))?,
                },
                Some("delete_file") => Step::DeleteFile(rel(file, v.get("path"))?),
                _ => Step::ReplaceText {
                    path: match v.get("path").and_then(Node::as_str) {
                        Some("*") => None,
                        _ => Some(rel(file, v.get("path"))?),
                    },
                    find: v.get("find").and_then(Node::as_str).unwrap_or("").into(),
                    replace: v.get("replace").and_then(Node::as_str).unwrap_or("").into(),
                },
            });
        }
    }
    Ok(Migration {
        file: file.to_path_buf(),
        from: text_of("from"),
        to: text_of("to"),
        steps,
    })
}

/// Every migration in `dir` (`*.yaml`, `*.yml`), sorted by file name.
pub fn load_migrations(dir: &Path) -> Result<Vec<Migration>, BundleError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(BundleError::Io {
                path: dir.into(),
                source: e,
            })
        }
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| BundleError::Io {
                path: f.clone(),
                source: e,
            })?;
            parse_migration(f, &text)
        })
        .collect()
}

/// Apply one migration's steps to a bundle's files (pure); returns the changes made.
pub fn apply_steps(m: &Migration, files: &mut Files) -> Result<Vec<String>, BundleError> {
    let manifest_path = RelPath::new(MANIFEST_FILE).expect("valid path");
    let yaml = String::from_utf8_lossy(&files[&manifest_path]).into_owned();
    let mut manifest = parse_manifest(&yaml).map_err(|p| invalid(Path::new(MANIFEST_FILE), p))?;
    let mut changes = Vec::new();
    for step in &m.steps {
        match step {
            Step::RenameFile { from, to } => {
                if let Some(bytes) = files.remove(from) {
                    files.insert(to.clone(), bytes);
                    for f in manifest.files.iter_mut().filter(|f| *f == from) {
                        *f = to.clone();
                    }
                    changes.push(format!("rename {from} -> {to}"));
                }
            }
            Step::DeleteFile(path) => {
                if files.remove(path).is_some() {
                    manifest.files.retain(|f| f != path);
                    changes.push(format!("delete {path}"));
                }
            }
            Step::ReplaceText {
                path,
                find,
                replace,
            } => {
                for f in manifest
                    .files
                    .iter()
                    .filter(|f| path.as_ref().is_none_or(|p| p == *f))
                {
                    let Some(bytes) = files.get_mut(f) else {
                        continue;
                    };
                    let Ok(text) = std::str::from_utf8(bytes) else {
                        continue;
                    };
                    let n = text.matches(find.as_str()).count();
                    if n > 0 {
                        *bytes = text.replace(find.as_str(), replace).into_bytes();
                        changes.push(format!("replace {find:?} with {replace:?} in {f} ({n}x)"));
                    }
                }
            }
        }
    }
    manifest.spec_version = m.to.clone();
    files.insert(manifest_path, render_manifest(&manifest).into_bytes());
    Ok(changes)
}

/// Plan (and with `apply`, store) the migration of every stored bundle to spec `to`.
pub fn migrate(
    store: &mut BundleStore,
    migrations: &[Migration],
    to: &str,
    apply: bool,
    created_by: &str,
) -> Result<Vec<MigrationPlan>, BundleError> {
    let mut plans = Vec::new();
    for name in store.names()? {
        let versions = store.versions(&name)?;
        let Some(latest) = versions.last() else {
            continue;
        };
        if latest.spec_version == to {
            continue;
        }
        let mut files = store.files(&name, latest.version)?;
        let mut spec = latest.spec_version.clone();
        let mut specs = vec![spec.clone()];
        let mut changes = Vec::new();
        while spec != to {
            let m = migrations.iter().find(|m| m.from == spec).ok_or_else(|| {
                BundleError::Migration(format!(
                    "{name} {}: no declared migration from spec {spec:?} towards {to:?} (add one to .driftsync/bundle-migrations/)",
                    latest.version
                ))
            })?;
            changes.extend(apply_steps(m, &mut files)?);
            spec = m.to.clone();
            if specs.contains(&spec) {
                return Err(BundleError::Migration(format!(
                    "migrations loop: spec {spec:?} reached twice ({})",
                    m.file.display()
                )));
            }
            specs.push(spec.clone());
        }
        let next = latest.version.bump(Bump::Minor);
        // The version inside bundle.yaml follows the stored version.
        let manifest_path = RelPath::new(MANIFEST_FILE).expect("valid path");
        let yaml = String::from_utf8_lossy(&files[&manifest_path]).into_owned();
        let mut manifest =
            parse_manifest(&yaml).map_err(|p| invalid(Path::new(MANIFEST_FILE), p))?;
        manifest.version = next;
        files.insert(manifest_path, render_manifest(&manifest).into_bytes());
        if apply {
            store.insert(&NewVersion {
                name: &name,
                version: next,
                spec_version: to,
                description: &manifest.description,
                files: &files,
                created_by,
            })?;
        }
        plans.push(MigrationPlan {
            name,
            from_version: latest.version.to_string(),
            to_version: next.to_string(),
            specs,
            changes,
            applied: apply,
        });
    }
    Ok(plans)
}
