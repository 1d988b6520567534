//! Adopt a team's own modules: any tree of `.py` files with `Enum` and
//! `TypedDict` classes (no generated header, no `ENUMS` or `RELATIONS`
//! registry, no `# sql:` comments) is read class by class and matched to the
//! database by name, so `check` reports drift on day one without regenerating.
//!
//! Matching: a `class_names` override first (`organizations: Org`); else the
//! class name, case and underscores ignored, against the table's name, its
//! singular, either with `Row` appended, each with the schema as a prefix
//! (`Organization`, `Organizations`, `OrganizationRow`, `AppUser` for
//! `app.users`); an enum class against the enum's name (`OrganizationType`
//! for `organization_type`). Classes that match nothing are
//! `class-unmatched`; tables and enums no class matches are `table-added` /
//! `enum-added`. Annotations are compared by the type mapping, as the
//! database's columns would be generated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use driftsync_core::schema::{Change, ChangeCode, Column, DbSchema, EnumType, Subject, TypeRef};
use rustpython_parser::ast::{Expr, Stmt};

use crate::naming::singularize;
use crate::pyread::{
    canonical_annotation, is_auto, is_from, string, Module, RepoSchema, Unreadable, NO_SQL_COMMENT,
};
use crate::{Options, SchemaError};

/// The classes of a hand-written module tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// Every module read that defines a class, relative to the local directory
    /// (`database/entities.py`), with how findings name it.
    pub files: Vec<(String, String)>,
    /// `Enum` classes, in file and line order.
    pub enums: Vec<HandEnum>,
    /// `TypedDict` classes, in file and line order.
    pub dicts: Vec<HandDict>,
}

/// An `Enum` class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandEnum {
    /// Class name.
    pub class: String,
    /// File as findings name it.
    pub file: String,
    /// Line of the class.
    pub line: u32,
    /// Its members' string values, in order.
    pub labels: Vec<String>,
    /// Members that are not string literals: (line, message).
    pub unreadable: Vec<(u32, String)>,
}

/// A `TypedDict` class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandDict {
    /// Class name.
    pub class: String,
    /// File as findings name it.
    pub file: String,
    /// Line of the class.
    pub line: u32,
    /// Fields: (name, canonical annotation, annotation admits None, line).
    pub fields: Vec<(String, String, bool, u32)>,
}

/// Read every `.py` file under `dir` (sorted, `__pycache__` and hidden
/// directories skipped) for `Enum` and `TypedDict` classes; `None` when there
/// is none. `shown` names a file relative to `dir` as findings show it.
pub fn scan(dir: &Path, shown: &dyn Fn(&str) -> String) -> Result<Option<Tree>, SchemaError> {
    let mut paths = Vec::new();
    walk(dir, dir, &mut paths)?;
    paths.sort();
    let mut tree = Tree::default();
    for rel in paths {
        let file = shown(&rel);
        let m = Module::parse(&dir.join(&rel), &file)?;
        let before = tree.enums.len() + tree.dicts.len();
        read_classes(&m, &mut tree);
        if tree.enums.len() + tree.dicts.len() > before {
            tree.files.push((rel, file));
        }
    }
    Ok((!tree.files.is_empty()).then_some(tree))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), SchemaError> {
    let io = |e| SchemaError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if name.ends_with(".py") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// `X[...]` where X is `name` or `module.name` for any module.
fn wrapper<'a>(e: &'a Expr, names: &[&str]) -> Option<&'a Expr> {
    let Expr::Subscript(s) = e else { return None };
    let hit = match &*s.value {
        Expr::Name(n) => names.contains(&n.id.as_str()),
        Expr::Attribute(a) => names.contains(&a.attr.as_str()),
        _ => false,
    };
    if !hit {
        return None;
    }
    match &*s.slice {
        // `Annotated[X, meta]`: X.
        Expr::Tuple(t) => t.elts.first(),
        one => Some(one),
    }
}

/// The annotation a hand-written field declares, spelled as generated code
/// spells it: `NotRequired[…]`, `Required[…]`, `ReadOnly[…]` and
/// `Annotated[X, …]` unwrapped; `Optional[X]` → `X | None`; module prefixes
/// of the standard types dropped (`datetime.datetime` → `datetime`); `List`,
/// `Dict` as `list`, `dict`.
fn field_annotation(m: &Module, e: &Expr) -> (String, bool) {
    let mut e = e;
    while let Some(inner) = wrapper(e, &["NotRequired", "Required", "ReadOnly", "Annotated"]) {
        e = inner;
    }
    let (text, nullable) = canonical_annotation(m, e);
    let mut text = unqualified(&text);
    for (from, to) in [("List[", "list["), ("Dict[", "dict["), ("Tuple[", "tuple[")] {
        text = text.replace(from, to);
    }
    (text, nullable)
}

/// Every dotted name with its modules dropped: `datetime.datetime` →
/// `datetime`, `enums.Plan | None` → `Plan | None` (generated code imports
/// names, so that is how it spells them).
fn unqualified(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word.rsplit('.').next().unwrap_or_default());
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn read_classes(m: &Module, tree: &mut Tree) {
    for stmt in &m.suite {
        let Stmt::ClassDef(def) = stmt else { continue };
        let class = def.name.to_string();
        let base_named = |b: &Expr, names: &[&str]| match b {
            Expr::Name(n) => names.contains(&n.id.as_str()),
            Expr::Attribute(a) => names.contains(&a.attr.as_str()),
            _ => false,
        };
        if def
            .bases
            .iter()
            .any(|b| base_named(b, &["Enum", "StrEnum", "IntEnum"]))
        {
            let str_enum = def.bases.iter().any(|b| is_from(b, "enum", "StrEnum"));
            let mut e = HandEnum {
                class,
                file: m.file.clone(),
                line: m.line(def),
                labels: Vec::new(),
                unreadable: Vec::new(),
            };
            for s in &def.body {
                let Stmt::Assign(a) = s else { continue };
                let [Expr::Name(member)] = a.targets.as_slice() else {
                    continue;
                };
                if let Some(v) = string(&a.value) {
                    e.labels.push(v.to_string());
                } else if str_enum && is_auto(&a.value) {
                    e.labels.push(member.id.to_lowercase());
                } else {
                    e.unreadable.push((
                        m.line(a),
                        format!(
                            "member {} = {} of class {} cannot be read: it is not a string literal; \
                             write its label as a string",
                            member.id,
                            m.text(&*a.value),
                            e.class
                        ),
                    ));
                }
            }
            tree.enums.push(e);
            continue;
        }
        // A TypedDict, directly or through another TypedDict of the tree.
        let inherited: Vec<&HandDict> = def
            .bases
            .iter()
            .filter_map(|b| match b {
                Expr::Name(n) => tree.dicts.iter().find(|d| d.class == n.id.as_str()),
                _ => None,
            })
            .collect();
        if inherited.is_empty() && !def.bases.iter().any(|b| base_named(b, &["TypedDict"])) {
            continue;
        }
        let mut fields: Vec<(String, String, bool, u32)> = inherited
            .iter()
            .flat_map(|d| d.fields.iter().cloned())
            .collect();
        for s in &def.body {
            let Stmt::AnnAssign(a) = s else { continue };
            let Expr::Name(n) = &*a.target else { continue };
            let (ann, nullable) = field_annotation(m, &a.annotation);
            fields.retain(|f| f.0 != n.id.as_str());
            fields.push((n.id.to_string(), ann, nullable, m.line(a)));
        }
        tree.dicts.push(HandDict {
            class,
            file: m.file.clone(),
            line: m.line(def),
            fields,
        });
    }
}

/// Lower case, letters and digits only: `Organization_Type` → `organizationtype`.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn prefixes(schema: &str) -> Vec<String> {
    if schema == "public" || schema == "main" || schema.is_empty() {
        vec![String::new()]
    } else {
        vec![String::new(), schema.to_string()]
    }
}

/// The class names (normalised) a relation matches.
fn relation_keys(schema: &str, name: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for p in prefixes(schema) {
        for n in [name.to_string(), singularize(name)] {
            keys.insert(norm(&format!("{p}{n}")));
            keys.insert(norm(&format!("{p}{n}row")));
        }
    }
    keys
}

fn enum_keys(schema: &str, name: &str) -> BTreeSet<String> {
    prefixes(schema)
        .into_iter()
        .map(|p| norm(&format!("{p}{name}")))
        .collect()
}

fn override_for<'a>(options: &'a Options, schema: &str, name: &str) -> Option<&'a String> {
    options
        .class_names
        .get(&format!("{schema}.{name}"))
        .or_else(|| options.class_names.get(name))
}

/// Match the adopted tree of `repo` to `db` and fill `repo`'s model,
/// locations, annotations and class names as the generated modules would;
/// unmatched classes become `class-unmatched` changes in `repo.adoption`.
/// Nothing happens for generated modules.
pub fn resolve(repo: &mut RepoSchema, db: &DbSchema, options: &Options) {
    let Some(tree) = repo.adopted.clone() else {
        return;
    };
    let mut model = DbSchema {
        objects: db.objects.clone(),
        unmodelled: db.unmodelled.clone(),
        ..DbSchema::default()
    };
    if let Some(f) = tree.dicts.first() {
        repo.locations.relations_file = f.file.clone();
    }
    if let Some(f) = tree.enums.first() {
        repo.locations.enums_file = f.file.clone();
    }
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for e in &tree.enums {
        let hit = db
            .enums
            .iter()
            .find(|(_, t)| match override_for(options, &t.schema, &t.name) {
                Some(o) => *o == e.class,
                None => enum_keys(&t.schema, &t.name).contains(&norm(&e.class)),
            });
        let Some((q, t)) = hit else {
            unmatched.push((e.class.clone(), e.file.clone(), e.line, "enum"));
            continue;
        };
        let key = format!("enum:{q}");
        if let Some(first) = taken.get(&key) {
            unmatched.push((e.class.clone(), e.file.clone(), e.line, "duplicate"));
            let _ = first;
            continue;
        }
        taken.insert(key.clone(), e.class.clone());
        repo.class_names.insert(key, e.class.clone());
        let subject = Subject::Enum { name: q.clone() };
        repo.locations.lines.insert(subject.key(), e.line);
        repo.locations.files.insert(subject.key(), e.file.clone());
        for (line, message) in &e.unreadable {
            repo.unreadable.push(Unreadable {
                subject: subject.clone(),
                file: e.file.clone(),
                line: *line,
                message: message.clone(),
            });
        }
        model.enums.insert(
            q.clone(),
            EnumType {
                schema: t.schema.clone(),
                name: t.name.clone(),
                labels: e.labels.clone(),
            },
        );
    }
    for d in &tree.dicts {
        let class_norm = norm(&d.class);
        let hit =
            db.relations
                .iter()
                .find(|(_, r)| match override_for(options, &r.schema, &r.name) {
                    Some(o) => *o == d.class,
                    None => relation_keys(&r.schema, &r.name).contains(&class_norm),
                });
        let Some((q, r)) = hit else {
            unmatched.push((d.class.clone(), d.file.clone(), d.line, "table"));
            continue;
        };
        let key = format!("rel:{q}");
        if taken.contains_key(&key) {
            unmatched.push((d.class.clone(), d.file.clone(), d.line, "duplicate"));
            continue;
        }
        taken.insert(key.clone(), d.class.clone());
        repo.class_names.insert(key, d.class.clone());
        let subject = Subject::Relation { name: q.clone() };
        repo.locations.lines.insert(subject.key(), d.line);
        repo.locations.files.insert(subject.key(), d.file.clone());
        // What the class does not describe (constraints, indexes, a view's
        // query, options) is taken from the database: only columns compare.
        let mut rel = r.clone();
        rel.columns = d
            .fields
            .iter()
            .map(|(name, ann, nullable, line)| {
                repo.locations.lines.insert(
                    Subject::Column {
                        relation: q.clone(),
                        column: name.clone(),
                    }
                    .key(),
                    *line,
                );
                repo.annotations.insert(format!("{q}.{name}"), ann.clone());
                r.column(name).cloned().unwrap_or_else(|| Column {
                    name: name.clone(),
                    type_ref: TypeRef::Other {
                        name: NO_SQL_COMMENT.to_string(),
                    },
                    data_type: NO_SQL_COMMENT.to_string(),
                    nullable: *nullable,
                    value: None,
                    collation: None,
                })
            })
            .collect();
        model.relations.insert(q.clone(), rel);
    }
    for (class, file, line, what) in unmatched {
        let subject = Subject::Class {
            name: class.clone(),
        };
        repo.locations.lines.insert(subject.key(), line);
        repo.locations.files.insert(subject.key(), file);
        let message = match what {
            "duplicate" => format!(
                "class {class} names a database object another class already matches: \
                 remove one, or map it with class_names"
            ),
            "enum" => format!(
                "enum class {class} matches no database enum: map it with class_names \
                 (`--class-name <schema.enum>={class}`) or remove it"
            ),
            _ => format!(
                "TypedDict {class} matches no table or view: map it with class_names \
                 (`--class-name <schema.table>={class}`) or remove it"
            ),
        };
        repo.adoption
            .push(Change::new(ChangeCode::ClassUnmatched, subject, message));
    }
    model.canonicalize();
    repo.model = model;
}

/// The class names a relation of `db` would match, for messages: `Organization`,
/// `OrganizationRow`, `Organizations`.
pub fn wanted_names(schema: &str, name: &str) -> String {
    let p = |s: &str| {
        if schema == "public" || schema == "main" {
            String::new()
        } else {
            crate::naming::pascal_case(s)
        }
    };
    let single = format!(
        "{}{}",
        p(schema),
        crate::naming::pascal_case(&singularize(name))
    );
    let plural = format!("{}{}", p(schema), crate::naming::pascal_case(name));
    let mut names = vec![format!("`{single}`"), format!("`{single}Row`")];
    if plural != single {
        names.push(format!("`{plural}`"));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_match_tables_in_the_usual_spellings() {
        let keys = relation_keys("public", "organizations");
        for class in [
            "Organization",
            "Organizations",
            "OrganizationRow",
            "organization_row",
            "ORGANIZATION",
        ] {
            assert!(keys.contains(&norm(class)), "{class}");
        }
        for class in ["Org", "OrganizationInsert", "PublicOrganizationRowX"] {
            assert!(!keys.contains(&norm(class)), "{class}");
        }
        let keys = relation_keys("app", "users");
        assert!(keys.contains(&norm("AppUser")) && keys.contains(&norm("User")));
        assert!(enum_keys("public", "organization_type").contains(&norm("OrganizationType")));
        assert_eq!(
            unqualified("typing.Optional[enums.Plan] | datetime.datetime"),
            "Optional[Plan] | datetime"
        );
        assert_eq!(
            wanted_names("public", "people"),
            "`Person`, `PersonRow`, `People`"
        );
    }
}
