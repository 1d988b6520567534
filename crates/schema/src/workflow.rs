//! `check`, `diff` and `update` as functions: compare a database model with the
//! repository's modules, and plan the files an update writes.

use std::collections::BTreeMap;
use std::path::Path;

use driftsync_core::report::Finding;
use driftsync_core::schema::{diff, Change, ChangeCode, DbSchema, Subject};

use crate::generate::{annotations, class_names, generate, VERSION_FILE};
use crate::pyread::{is_generated, RepoSchema, NO_SQL_COMMENT};
use crate::version::VersionModule;
use crate::{Dialect, Options, SchemaError};

/// Every difference between the repository (`repo`) and the database (`db`):
/// the model diff, plus hand-edited annotations that no longer match a column.
pub fn compare(
    db: &DbSchema,
    repo: &RepoSchema,
    options: &Options,
    dialect: Dialect,
) -> Vec<Change> {
    let options = &keeping_names(options, repo);
    let mut changes = diff(&repo.model, db);
    let expected = annotations(db, options, dialect);
    for (q, rel) in &db.relations {
        let Some(repo_rel) = repo.model.relations.get(q) else {
            continue;
        };
        for col in &rel.columns {
            let Some(rc) = repo_rel.column(&col.name) else {
                continue;
            };
            let key = format!("{q}.{}", col.name);
            let (Some(want), Some(have)) = (expected.get(&key), repo.annotations.get(&key)) else {
                continue;
            };
            // A changed type or nullability is already reported by the model diff.
            if want != have && rc.data_type == col.data_type && rc.nullable == col.nullable {
                let null = if col.nullable {
                    ", nullable"
                } else {
                    ", NOT NULL"
                };
                let message = if repo.adopted.is_some() {
                    format!(
                        "the module's annotation of {key} is `{have}`, but the database column ({}{null}) maps to `{want}`",
                        col.data_type
                    )
                } else {
                    format!(
                        "the module's annotation of {key} is `{have}`, but the column it records ({}{null}) is `{want}`: edited by hand; `driftsync schema update` restores it",
                        col.data_type
                    )
                };
                changes.push(Change::new(
                    ChangeCode::PythonAnnotationChanged,
                    Subject::Column {
                        relation: q.clone(),
                        column: col.name.clone(),
                    },
                    message,
                ));
            }
        }
    }
    variant_drift(db, repo, options, dialect, &mut changes);
    unreadable_and_unmodelled(db, repo, &mut changes);
    speak_of_the_module(repo, &mut changes);
    if repo.adopted.is_some() {
        unmatched_objects(db, &mut changes);
        changes.extend(repo.adoption.iter().cloned());
    } else {
        collisions(db, options, &mut changes);
    }
    changes
}

/// The `…Insert` / `…Update` classes against what `options` asks for: a
/// missing or unwanted class, a field edited by hand, added or dropped. A
/// relation whose row already differs is left to those findings (its
/// variants follow from its columns).
fn variant_drift(
    db: &DbSchema,
    repo: &RepoSchema,
    options: &Options,
    dialect: Dialect,
    changes: &mut Vec<Change>,
) {
    if repo.adopted.is_some() {
        return;
    }
    let mut found = Vec::new();
    // The row style the options ask for: one finding, at the first row
    // class written the other way.
    if let Some((class, _)) = repo.row_styles.iter().find(|(_, s)| **s != options.style) {
        let (want, have) = match options.style {
            crate::generate::Style::Pydantic => ("pydantic", "TypedDict"),
            crate::generate::Style::TypedDict => ("typeddict", "pydantic BaseModel"),
        };
        found.push(Change::new(
            ChangeCode::PythonAnnotationChanged,
            Subject::Class {
                name: class.clone(),
            },
            format!(
                "row class {class} is a {have}, but the options ask for style: {want}: \
                 `driftsync schema update` rewrites the row types"
            ),
        ));
    }
    if options.variants.list().is_empty() && repo.variants.is_empty() {
        changes.extend(found);
        return;
    }
    let expected = crate::generate::variant_annotations(db, options, dialect);
    let row_changed = |q: &str| {
        changes.iter().any(|c| match &c.subject {
            Subject::Relation { name } => name == q,
            Subject::Column { relation, .. } | Subject::Part { relation, .. } => relation == q,
            _ => false,
        })
    };
    let class_change = |name: String, message: String| {
        Change::new(
            ChangeCode::PythonAnnotationChanged,
            Subject::Class { name },
            message,
        )
    };
    for q in db.relations.keys() {
        if !repo.model.relations.contains_key(q) || row_changed(q) {
            continue;
        }
        let want = expected.get(q).map(Vec::as_slice).unwrap_or_default();
        let have = repo.variants.get(q).map(Vec::as_slice).unwrap_or_default();
        for (variant, class, fields) in want {
            let Some(h) = have.iter().find(|h| h.variant == *variant) else {
                found.push(class_change(
                    class.clone(),
                    format!(
                        "the modules have no {class} (the {} type of {q} the options ask for): \
                         `driftsync schema update` writes it",
                        variant.as_str()
                    ),
                ));
                continue;
            };
            for (col, ann) in fields {
                let key = format!("{}.{col}", h.class);
                match h.fields.iter().find(|(n, _)| n == col) {
                    None => found.push(class_change(
                        key,
                        format!(
                            "{} has no field {col} (`{ann}`) for column {q}.{col}: edited by hand; \
                             `driftsync schema update` restores it",
                            h.class
                        ),
                    )),
                    Some((_, have)) if have != ann => found.push(class_change(
                        key,
                        format!(
                            "the module's annotation of {}.{col} is `{have}`, but column {q}.{col} \
                             gives `{ann}`: edited by hand; `driftsync schema update` restores it",
                            h.class
                        ),
                    )),
                    Some(_) => {}
                }
            }
            for (col, _) in &h.fields {
                if !fields.iter().any(|(n, _)| n == col) {
                    let why = if db.relations[q].column(col).is_some() {
                        "the database writes that column itself (GENERATED ALWAYS)"
                    } else {
                        "the table has no such column"
                    };
                    found.push(class_change(
                        format!("{}.{col}", h.class),
                        format!(
                            "{} declares {col}, which an {} cannot set: {why}; \
                             `driftsync schema update` removes it",
                            h.class,
                            variant.as_str()
                        ),
                    ));
                }
            }
        }
        for h in have {
            if !want.iter().any(|(v, _, _)| *v == h.variant) {
                found.push(class_change(
                    h.class.clone(),
                    format!(
                        "the modules have {}, but the options do not ask for {} types \
                         (variants): `driftsync schema update` removes it",
                        h.class,
                        h.variant.as_str()
                    ),
                ));
            }
        }
    }
    changes.extend(found);
}

/// In a hand-written tree, a new table or enum is one no class matches: say
/// which names were looked for and how to fix it.
fn unmatched_objects(db: &DbSchema, changes: &mut [Change]) {
    for c in changes.iter_mut() {
        let hint = match (&c.subject, c.code) {
            (Subject::Relation { name }, ChangeCode::TableAdded | ChangeCode::ViewAdded) => {
                let Some(r) = db.relations.get(name) else {
                    continue;
                };
                format!(
                    "no class of the modules matches {} {name} (looked for {}, any case): \
                     add a TypedDict, map one with class_names (`--class-name {name}=Class`), \
                     or convert the tree with `driftsync schema update --force`",
                    r.kind.as_str(),
                    crate::adopt::wanted_names(&r.schema, &r.name)
                )
            }
            (Subject::Enum { name }, ChangeCode::EnumAdded) => {
                let Some(e) = db.enums.get(name) else {
                    continue;
                };
                format!(
                    "no enum class of the modules matches enum {name} (looked for `{}`, any case): \
                     add one, map one with class_names (`--class-name {name}=Class`), \
                     or convert the tree with `driftsync schema update --force`",
                    crate::naming::pascal_case(&e.name)
                )
            }
            _ => continue,
        };
        c.message = hint;
    }
}

/// `options` with the class names the modules already use, so no existing
/// class is renamed by a new object.
fn keeping_names(options: &Options, repo: &RepoSchema) -> Options {
    Options {
        previous_class_names: repo.class_names.clone(),
        ..options.clone()
    }
}

/// A new object whose natural class name is taken by an existing one.
fn collisions(db: &DbSchema, options: &Options, changes: &mut Vec<Change>) {
    for c in class_names(db, options).collisions() {
        let (subject, what, q) = match c.key.split_once(':') {
            Some(("enum", q)) => (
                Subject::Enum {
                    name: q.to_string(),
                },
                "enum",
                q,
            ),
            Some((_, q)) => (
                Subject::Relation {
                    name: q.to_string(),
                },
                db.relations.get(q).map_or("table", |r| r.kind.as_str()),
                q,
            ),
            None => continue,
        };
        let holder = c
            .holder
            .split_once(':')
            .map_or(c.holder.as_str(), |(_, q)| q);
        changes.push(Change::new(
            ChangeCode::ClassNameCollision,
            subject,
            format!(
                "new {what} {q} would be class {}, which {holder} already has (kept): it is {}; \
                 name it with class_names (`--class-name {q}=…`)",
                c.wanted, c.chosen
            ),
        ));
    }
}

/// A field without a `# sql:` comment was written by hand, not generated:
/// say so, instead of speaking of a database change.
fn speak_of_the_module(repo: &RepoSchema, changes: &mut [Change]) {
    for c in changes.iter_mut() {
        let Subject::Column { relation, column } = &c.subject else {
            continue;
        };
        let hand_written = repo
            .model
            .relations
            .get(relation)
            .and_then(|r| r.column(column))
            .is_some_and(|col| col.data_type == NO_SQL_COMMENT);
        if !hand_written {
            continue;
        }
        match c.code {
            ChangeCode::ColumnRemoved if repo.adopted.is_some() => {
                c.message = format!(
                    "the module declares {relation}.{column}, which the database does not have"
                );
            }
            ChangeCode::ColumnRemoved => {
                c.message = format!(
                    "the module declares {relation}.{column}, which the database does not have \
                     (a field added by hand: it has no `# sql:` comment)"
                );
            }
            ChangeCode::ColumnTypeChanged => {
                let actual = c
                    .message
                    .rsplit(" → ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                c.message = format!(
                    "the module's field {relation}.{column} has no `# sql:` comment (edited by hand); \
                     the database column is {actual}"
                );
            }
            _ => {}
        }
    }
}

/// Enums with members the reader could not read are not compared label by
/// label (that would report labels as added that are merely unreadable); each
/// unreadable member is a finding instead. A `DB_HASH` change that no
/// modelled difference explains is a finding of its own.
fn unreadable_and_unmodelled(db: &DbSchema, repo: &RepoSchema, changes: &mut Vec<Change>) {
    changes.retain(|c| {
        !(matches!(
            c.code,
            ChangeCode::EnumLabelsChanged | ChangeCode::EnumLabelsReordered
        ) && repo.unreadable.iter().any(|u| u.subject == c.subject))
    });
    for u in &repo.unreadable {
        changes.push(Change::new(
            ChangeCode::PythonUnreadable,
            u.subject.clone(),
            format!("{}:{}: {}", u.file, u.line, u.message),
        ));
    }
    let hash = db.hash().to_hex();
    if let Some(v) = repo.version.as_ref().filter(|v| !v.db_hash.is_empty()) {
        if changes.is_empty() && v.db_hash != hash {
            changes.push(Change::new(
                ChangeCode::DatabaseChangedUnmodelled,
                Subject::Database,
                format!(
                    "database changed in a way driftsync does not model: DB_HASH {} → {} \
                     (extension versions, or what an older driftsync hashed differently); \
                     `driftsync schema update` records it",
                    short(&v.db_hash),
                    short(&hash)
                ),
            ));
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The changes as report findings placed in the repository files.
pub fn findings(changes: &[Change], repo: &RepoSchema) -> Vec<Finding> {
    changes
        .iter()
        .map(|c| c.to_finding(&repo.locations))
        .collect()
}

/// What `update` writes: file name → content, and which of them differ from disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdatePlan {
    /// Every file the directory should hold after the update.
    pub files: BTreeMap<String, String>,
    /// The files whose bytes change (or that are new).
    pub changed: Vec<String>,
    /// The changes the update resolves.
    pub resolved: Vec<Change>,
    /// Modules of a hand-written tree that the generated ones replace
    /// (relative to the directory; removed by [`apply_update`]).
    pub removed: Vec<String>,
}

/// Plan an update of `dir` to match `db`. `now` is the RFC 3339 time recorded
/// as LAST_SYNC when the schema changed; an unchanged schema keeps the version
/// file as it is, so a second update changes no byte.
pub fn plan_update(
    dir: &Path,
    db: &DbSchema,
    repo: &RepoSchema,
    options: &Options,
    dialect: Dialect,
    now: &str,
    force: bool,
) -> Result<UpdatePlan, SchemaError> {
    if let Some(u) = repo.unreadable.first().filter(|_| !force) {
        return Err(SchemaError::Python {
            file: u.file.clone(),
            line: u.line,
            column: 1,
            message: format!(
                "{}; `update` would drop what it cannot read (pass --force to regenerate anyway)",
                u.message
            ),
        });
    }
    if let Some(tree) = repo.adopted.as_ref().filter(|_| !force) {
        let (first, shown) = tree.files.first().cloned().unwrap_or_default();
        let _ = first;
        return Err(SchemaError::Python {
            file: shown,
            line: 1,
            column: 1,
            message: format!(
                "{} is a hand-written module tree ({}), not generated by driftsync: `update` \
                 would convert it to the generated layout, replacing or removing these files; \
                 pass --force to convert it (git keeps the old files)",
                repo.locations
                    .version_file
                    .rsplit_once('/')
                    .map_or(".", |(d, _)| d),
                tree.files
                    .iter()
                    .map(|(_, f)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let resolved = compare(db, repo, options, dialect);
    let options = &keeping_names(options, repo);
    let mut files = generate(db, options, dialect);
    let hash = db.hash().to_hex();
    let version_path = dir.join(VERSION_FILE);
    let keep = repo.version.as_ref().is_some_and(|v| v.db_hash == hash) && version_path.exists();
    let version = if keep {
        read(&version_path)?
    } else {
        VersionModule {
            schema_version: repo.version.as_ref().map_or(0, |v| v.schema_version) + 1,
            last_sync: now.to_string(),
            db_hash: hash,
            tables_count: db.tables_count(),
            enums_count: db.enums.len(),
            differences: resolved
                .iter()
                .map(|c| format!("{} {}", c.code.as_str(), c.subject.object()))
                .collect(),
        }
        .render()
    };
    files.insert(VERSION_FILE.to_string(), version);
    let mut changed = Vec::new();
    for (name, content) in &files {
        let path = dir.join(name);
        let existing = if path.exists() {
            Some(read(&path)?)
        } else {
            None
        };
        if existing.as_deref() == Some(content.as_str()) {
            continue;
        }
        // Never overwrite a module someone wrote: only files that carry the
        // generated header (in their first line) are ours to replace.
        if let Some(text) = existing.filter(|t| !force && !is_generated(t)) {
            let first = text.lines().next().unwrap_or_default();
            return Err(SchemaError::Python {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                message: format!(
                    "not generated by driftsync (its first line is `{first}`): update would \
                     overwrite it; move it, choose another --local, or pass --force"
                ),
            });
        }
        changed.push(name.clone());
    }
    let removed = repo
        .adopted
        .iter()
        .flat_map(|t| t.files.iter().map(|(rel, _)| rel.clone()))
        .filter(|rel| !files.contains_key(rel))
        .collect();
    Ok(UpdatePlan {
        files,
        changed,
        resolved,
        removed,
    })
}

fn read(path: &Path) -> Result<String, SchemaError> {
    std::fs::read_to_string(path).map_err(|e| SchemaError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

/// Write the plan's changed files into `dir` (each through a temporary file and a rename).
pub fn apply_update(dir: &Path, plan: &UpdatePlan) -> Result<(), SchemaError> {
    let io = |p: &Path, e| SchemaError::Io {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for name in &plan.changed {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.driftsync-tmp"));
        std::fs::write(&tmp, &plan.files[name]).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    }
    for rel in &plan.removed {
        let path = dir.join(rel);
        std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
        // A folder the conversion emptied (`database/`, maybe with its
        // `__pycache__`) goes too; one holding anything else stays.
        let mut parent = path.parent();
        while let Some(p) = parent.filter(|p| *p != dir) {
            let _ = std::fs::remove_dir_all(p.join("__pycache__"));
            if std::fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    Ok(())
}
