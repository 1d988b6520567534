//! Diff two schema models into changes with stable codes and severities.
//!
//! `diff(expected, actual)`: `expected` is what the repository says (the
//! Python modules), `actual` is what the database holds. "Removed" means in
//! the repository but gone from the database.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Column, DbObject, DbSchema, EnumType, ObjectKind, Relation};
use crate::report::{Finding, Severity};

/// A stable finding code. The string forms are what users match on: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeCode {
    /// A database enum the repository does not have.
    EnumAdded,
    /// A repository enum the database no longer has.
    EnumRemoved,
    /// Enum labels added or removed.
    EnumLabelsChanged,
    /// The same enum labels in another order.
    EnumLabelsReordered,
    /// A database table the repository does not have.
    TableAdded,
    /// A repository table the database no longer has.
    TableRemoved,
    /// A database view the repository does not have.
    ViewAdded,
    /// A repository view the database no longer has.
    ViewRemoved,
    /// A relation changed kind (table ↔ view, view ↔ materialised view, partitioned).
    RelationKindChanged,
    /// A view's defining query changed.
    ViewDefinitionChanged,
    /// Table options changed (unlogged, inheritance, partitioning).
    TableOptionsChanged,
    /// A database column the repository does not have.
    ColumnAdded,
    /// A repository column the database no longer has.
    ColumnRemoved,
    /// A column's type changed.
    ColumnTypeChanged,
    /// A column became nullable or NOT NULL.
    ColumnNullabilityChanged,
    /// A column's default, identity or generation expression changed.
    ColumnDefaultChanged,
    /// A column's collation changed.
    ColumnCollationChanged,
    /// A constraint (key, check, exclusion) appeared.
    ConstraintAdded,
    /// A constraint disappeared.
    ConstraintRemoved,
    /// A constraint's definition changed.
    ConstraintChanged,
    /// An index appeared.
    IndexAdded,
    /// An index disappeared.
    IndexRemoved,
    /// An index's definition changed.
    IndexChanged,
    /// A hand-edited Python annotation no longer matches the column's type.
    PythonAnnotationChanged,
    /// A trigger appeared.
    TriggerAdded,
    /// A trigger disappeared.
    TriggerRemoved,
    /// A trigger's definition changed.
    TriggerChanged,
    /// A row-level security policy appeared.
    PolicyAdded,
    /// A row-level security policy disappeared.
    PolicyRemoved,
    /// A policy's command, roles, USING or WITH CHECK changed.
    PolicyChanged,
    /// A database domain the repository does not have.
    DomainAdded,
    /// A repository domain the database no longer has.
    DomainRemoved,
    /// A domain's base type, NOT NULL, default or CHECK changed.
    DomainChanged,
    /// A database composite type the repository does not have.
    CompositeTypeAdded,
    /// A repository composite type the database no longer has.
    CompositeTypeRemoved,
    /// A composite type's attributes changed.
    CompositeTypeChanged,
    /// A database sequence the repository does not have.
    SequenceAdded,
    /// A repository sequence the database no longer has.
    SequenceRemoved,
    /// A sequence's type, bounds, increment, cycle or owner changed.
    SequenceChanged,
    /// A database function the repository does not have (by signature).
    FunctionAdded,
    /// A repository function the database no longer has (by signature).
    FunctionRemoved,
    /// A function's return type, arguments, language, volatility or security changed.
    FunctionChanged,
    /// A new object's natural class name is an existing object's class.
    ClassNameCollision,
    /// Something in a module cannot be read (an enum member that is not a string literal).
    PythonUnreadable,
    /// `DB_HASH` changed but no modelled difference explains it.
    DatabaseChangedUnmodelled,
    /// A class of a hand-written module tree matches no database object.
    ClassUnmatched,
}

impl ChangeCode {
    /// Every code, in documentation order.
    pub const ALL: [ChangeCode; 46] = [
        ChangeCode::EnumAdded,
        ChangeCode::EnumRemoved,
        ChangeCode::EnumLabelsChanged,
        ChangeCode::EnumLabelsReordered,
        ChangeCode::TableAdded,
        ChangeCode::TableRemoved,
        ChangeCode::ViewAdded,
        ChangeCode::ViewRemoved,
        ChangeCode::RelationKindChanged,
        ChangeCode::ViewDefinitionChanged,
        ChangeCode::TableOptionsChanged,
        ChangeCode::ColumnAdded,
        ChangeCode::ColumnRemoved,
        ChangeCode::ColumnTypeChanged,
        ChangeCode::ColumnNullabilityChanged,
        ChangeCode::ColumnDefaultChanged,
        ChangeCode::ColumnCollationChanged,
        ChangeCode::ConstraintAdded,
        ChangeCode::ConstraintRemoved,
        ChangeCode::ConstraintChanged,
        ChangeCode::IndexAdded,
        ChangeCode::IndexRemoved,
        ChangeCode::IndexChanged,
        ChangeCode::PythonAnnotationChanged,
        ChangeCode::TriggerAdded,
        ChangeCode::TriggerRemoved,
        ChangeCode::TriggerChanged,
        ChangeCode::PolicyAdded,
        ChangeCode::PolicyRemoved,
        ChangeCode::PolicyChanged,
        ChangeCode::DomainAdded,
        ChangeCode::DomainRemoved,
        ChangeCode::DomainChanged,
        ChangeCode::CompositeTypeAdded,
        ChangeCode::CompositeTypeRemoved,
        ChangeCode::CompositeTypeChanged,
        ChangeCode::SequenceAdded,
        ChangeCode::SequenceRemoved,
        ChangeCode::SequenceChanged,
        ChangeCode::FunctionAdded,
        ChangeCode::FunctionRemoved,
        ChangeCode::FunctionChanged,
        ChangeCode::ClassNameCollision,
        ChangeCode::PythonUnreadable,
        ChangeCode::DatabaseChangedUnmodelled,
        ChangeCode::ClassUnmatched,
    ];

    /// The stable string, e.g. `column-removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeCode::EnumAdded => "enum-added",
            ChangeCode::EnumRemoved => "enum-removed",
            ChangeCode::EnumLabelsChanged => "enum-labels-changed",
            ChangeCode::EnumLabelsReordered => "enum-labels-reordered",
            ChangeCode::TableAdded => "table-added",
            ChangeCode::TableRemoved => "table-removed",
            ChangeCode::ViewAdded => "view-added",
            ChangeCode::ViewRemoved => "view-removed",
            ChangeCode::RelationKindChanged => "relation-kind-changed",
            ChangeCode::ViewDefinitionChanged => "view-definition-changed",
            ChangeCode::TableOptionsChanged => "table-options-changed",
            ChangeCode::ColumnAdded => "column-added",
            ChangeCode::ColumnRemoved => "column-removed",
            ChangeCode::ColumnTypeChanged => "column-type-changed",
            ChangeCode::ColumnNullabilityChanged => "column-nullability-changed",
            ChangeCode::ColumnDefaultChanged => "column-default-changed",
            ChangeCode::ColumnCollationChanged => "column-collation-changed",
            ChangeCode::ConstraintAdded => "constraint-added",
            ChangeCode::ConstraintRemoved => "constraint-removed",
            ChangeCode::ConstraintChanged => "constraint-changed",
            ChangeCode::IndexAdded => "index-added",
            ChangeCode::IndexRemoved => "index-removed",
            ChangeCode::IndexChanged => "index-changed",
            ChangeCode::PythonAnnotationChanged => "python-annotation-changed",
            ChangeCode::TriggerAdded => "trigger-added",
            ChangeCode::TriggerRemoved => "trigger-removed",
            ChangeCode::TriggerChanged => "trigger-changed",
            ChangeCode::PolicyAdded => "policy-added",
            ChangeCode::PolicyRemoved => "policy-removed",
            ChangeCode::PolicyChanged => "policy-changed",
            ChangeCode::DomainAdded => "domain-added",
            ChangeCode::DomainRemoved => "domain-removed",
            ChangeCode::DomainChanged => "domain-changed",
            ChangeCode::CompositeTypeAdded => "composite-type-added",
            ChangeCode::CompositeTypeRemoved => "composite-type-removed",
            ChangeCode::CompositeTypeChanged => "composite-type-changed",
            ChangeCode::SequenceAdded => "sequence-added",
            ChangeCode::SequenceRemoved => "sequence-removed",
            ChangeCode::SequenceChanged => "sequence-changed",
            ChangeCode::FunctionAdded => "function-added",
            ChangeCode::FunctionRemoved => "function-removed",
            ChangeCode::FunctionChanged => "function-changed",
            ChangeCode::ClassNameCollision => "class-name-collision",
            ChangeCode::PythonUnreadable => "python-unreadable",
            ChangeCode::DatabaseChangedUnmodelled => "database-changed-unmodelled",
            ChangeCode::ClassUnmatched => "class-unmatched",
        }
    }

    /// How serious: removals of what code is typed against critical;
    /// incompatible changes high; compatible shape changes medium; new objects
    /// and indexes low. docs/schema.md gives the reason for each.
    pub fn severity(self) -> Severity {
        use ChangeCode::*;
        match self {
            EnumRemoved | TableRemoved | ViewRemoved | ColumnRemoved | DomainRemoved
            | CompositeTypeRemoved => Severity::Critical,
            DomainChanged | CompositeTypeChanged | FunctionRemoved | FunctionChanged
            | PolicyRemoved | PolicyChanged => Severity::High,
            TriggerAdded | TriggerRemoved | TriggerChanged | PolicyAdded | SequenceRemoved => {
                Severity::Medium
            }
            DomainAdded | CompositeTypeAdded | SequenceAdded | SequenceChanged | FunctionAdded
            | ClassNameCollision => Severity::Low,
            EnumLabelsChanged
            | EnumLabelsReordered
            | ColumnTypeChanged
            | RelationKindChanged
            | PythonAnnotationChanged
            | PythonUnreadable => Severity::High,
            ColumnAdded
            | ColumnNullabilityChanged
            | ColumnDefaultChanged
            | ColumnCollationChanged
            | ViewDefinitionChanged
            | TableOptionsChanged
            | ConstraintAdded
            | ConstraintRemoved
            | ConstraintChanged
            | DatabaseChangedUnmodelled
            | ClassUnmatched => Severity::Medium,
            EnumAdded | TableAdded | ViewAdded | IndexAdded | IndexRemoved | IndexChanged => {
                Severity::Low
            }
        }
    }
}

/// What a change is about, for finding its place in the repository.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Subject {
    /// The database as a whole (its `DB_HASH`).
    Database,
    /// An enum, by qualified name.
    Enum {
        /// Qualified name.
        name: String,
    },
    /// A relation, by qualified name.
    Relation {
        /// Qualified name.
        name: String,
    },
    /// A constraint or index of a relation.
    Part {
        /// The relation's qualified name.
        relation: String,
        /// The constraint's or index's name.
        name: String,
    },
    /// A domain, composite type, sequence or function.
    Object {
        /// What kind.
        #[serde(rename = "object_kind")]
        kind: ObjectKind,
        /// Qualified name (a function's signature).
        name: String,
    },
    /// A column of a relation.
    Column {
        /// The relation's qualified name.
        relation: String,
        /// The column.
        column: String,
    },
    /// A Python class of the modules that matches no database object.
    Class {
        /// The class name.
        name: String,
    },
}

impl Subject {
    /// The key used in [`Locations`]: `enum:s.n`, `relation:s.n`, `column:s.n.c`.
    pub fn key(&self) -> String {
        match self {
            Subject::Database => "database".to_string(),
            Subject::Object { kind, name } => format!("object:{} {name}", kind.as_str()),
            Subject::Enum { name } => format!("enum:{name}"),
            Subject::Relation { name } => format!("relation:{name}"),
            Subject::Column { relation, column } => format!("column:{relation}.{column}"),
            Subject::Part { relation, name } => format!("part:{relation}.{name}"),
            Subject::Class { name } => format!("class:{name}"),
        }
    }

    /// The qualified object name: `s.n` or `s.n.c`.
    pub fn object(&self) -> String {
        match self {
            Subject::Database => "database".to_string(),
            Subject::Enum { name }
            | Subject::Relation { name }
            | Subject::Object { name, .. }
            | Subject::Class { name } => name.clone(),
            Subject::Column { relation, column } => format!("{relation}.{column}"),
            Subject::Part { relation, name } => format!("{relation}.{name}"),
        }
    }
}

/// One difference between the repository and the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Stable code.
    pub code: ChangeCode,
    /// What it concerns.
    pub subject: Subject,
    /// One line for people.
    pub message: String,
    /// How serious: the code's severity, raised for a few changes that break
    /// typed code (see [`diff`]).
    pub severity: Severity,
}

impl Change {
    /// A change with its code's severity.
    pub fn new(code: ChangeCode, subject: Subject, message: String) -> Change {
        Change {
            code,
            subject,
            message,
            severity: code.severity(),
        }
    }

    /// Its severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The same change, at `severity` when that is higher.
    fn at_least(mut self, severity: Severity) -> Change {
        self.severity = self.severity.max(severity);
        self
    }

    /// As a report finding, placed at the repository location of its subject.
    pub fn to_finding(&self, locations: &Locations) -> Finding {
        let (file, line) = locations.locate(&self.subject);
        Finding {
            code: self.code.into(),
            severity: self.severity(),
            message: self.message.clone(),
            file: Some(file),
            line,
            column: None,
        }
    }
}

/// Where each object lives in the repository: file and 1-based line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Locations {
    /// The file enums go in (for new enums and as a fallback).
    pub enums_file: String,
    /// The file relations go in.
    pub relations_file: String,
    /// The version module (where `DB_HASH` is).
    pub version_file: String,
    /// The file domains, composite types, sequences and functions go in.
    pub objects_file: String,
    /// `Subject::key()` → line.
    pub lines: BTreeMap<String, u32>,
    /// `Subject::key()` → file, for objects not in the file of their kind
    /// (a hand-written module tree); a column falls back to its relation's.
    pub files: BTreeMap<String, String>,
}

impl Locations {
    /// The file and line of `subject`: its own line, else its relation's, else
    /// the file it would be written to.
    pub fn locate(&self, subject: &Subject) -> (String, Option<u32>) {
        let own = self.files.get(&subject.key()).or_else(|| match subject {
            Subject::Column { relation, .. } | Subject::Part { relation, .. } => self.files.get(
                &Subject::Relation {
                    name: relation.clone(),
                }
                .key(),
            ),
            _ => None,
        });
        let file = match subject {
            _ if own.is_some() => own.expect("checked"),
            Subject::Database => &self.version_file,
            Subject::Object { .. } => &self.objects_file,
            Subject::Enum { .. } => &self.enums_file,
            _ => &self.relations_file,
        };
        let line = self
            .lines
            .get(&subject.key())
            .copied()
            .or_else(|| match subject {
                Subject::Column { relation, .. } | Subject::Part { relation, .. } => self
                    .lines
                    .get(
                        &Subject::Relation {
                            name: relation.clone(),
                        }
                        .key(),
                    )
                    .copied(),
                _ => None,
            });
        (file.clone(), line)
    }
}

/// Every difference between `expected` (repository) and `actual` (database),
/// ordered by code then object.
pub fn diff(expected: &DbSchema, actual: &DbSchema) -> Vec<Change> {
    let mut out = Vec::new();
    diff_enums(expected, actual, &mut out);
    diff_objects(expected, actual, &mut out);
    for (name, exp) in &expected.relations {
        match actual.relations.get(name) {
            None => {
                let code = if exp.kind.is_view() {
                    ChangeCode::ViewRemoved
                } else {
                    ChangeCode::TableRemoved
                };
                push(
                    &mut out,
                    code,
                    rel_subject(name),
                    format!(
                        "{} {name} no longer exists in the database",
                        exp.kind.as_str()
                    ),
                );
            }
            Some(act) => diff_relation(name, exp, act, &mut out),
        }
    }
    for (name, act) in &actual.relations {
        if !expected.relations.contains_key(name) {
            let code = if act.kind.is_view() {
                ChangeCode::ViewAdded
            } else {
                ChangeCode::TableAdded
            };
            push(
                &mut out,
                code,
                rel_subject(name),
                format!("new {} {name} in the database", act.kind.as_str()),
            );
        }
    }
    out.sort_by(|a, b| {
        (a.subject.object(), a.code, &a.message).cmp(&(b.subject.object(), b.code, &b.message))
    });
    out
}

fn push(out: &mut Vec<Change>, code: ChangeCode, subject: Subject, message: String) {
    out.push(Change::new(code, subject, message));
}

fn rel_subject(name: &str) -> Subject {
    Subject::Relation {
        name: name.to_string(),
    }
}

/// `[added, removed, changed]` codes of an object kind.
fn object_codes(kind: ObjectKind) -> [ChangeCode; 3] {
    use ChangeCode::*;
    match kind {
        ObjectKind::Domain => [DomainAdded, DomainRemoved, DomainChanged],
        ObjectKind::CompositeType => [
            CompositeTypeAdded,
            CompositeTypeRemoved,
            CompositeTypeChanged,
        ],
        ObjectKind::Sequence => [SequenceAdded, SequenceRemoved, SequenceChanged],
        ObjectKind::Function => [FunctionAdded, FunctionRemoved, FunctionChanged],
    }
}

fn diff_objects(expected: &DbSchema, actual: &DbSchema, out: &mut Vec<Change>) {
    let subject = |o: &DbObject| Subject::Object {
        kind: o.kind,
        name: o.name.clone(),
    };
    for (key, exp) in &expected.objects {
        let [_, removed, changed] = object_codes(exp.kind);
        match actual.objects.get(key) {
            None => push(
                out,
                removed,
                subject(exp),
                format!("{key} no longer exists in the database"),
            ),
            Some(act) if act.facts != exp.facts => {
                let only = |a: &DbObject, b: &DbObject| {
                    let v: Vec<&str> = a
                        .facts
                        .iter()
                        .filter(|f| !b.facts.contains(f))
                        .map(String::as_str)
                        .collect();
                    if v.is_empty() {
                        "(order)".to_string()
                    } else {
                        v.join("; ")
                    }
                };
                push(
                    out,
                    changed,
                    subject(exp),
                    format!("{key} changed: {} → {}", only(exp, act), only(act, exp)),
                );
            }
            Some(_) => {}
        }
    }
    for (key, act) in &actual.objects {
        if !expected.objects.contains_key(key) {
            push(
                out,
                object_codes(act.kind)[0],
                subject(act),
                format!("new {key} in the database: {}", act.facts.join("; ")),
            );
        }
    }
}

fn diff_enums(expected: &DbSchema, actual: &DbSchema, out: &mut Vec<Change>) {
    for (name, exp) in &expected.enums {
        let subject = Subject::Enum { name: name.clone() };
        match actual.enums.get(name) {
            None => push(
                out,
                ChangeCode::EnumRemoved,
                subject,
                format!("enum {name} no longer exists in the database"),
            ),
            Some(act) => diff_labels(name, exp, act, subject, out),
        }
    }
    for name in actual.enums.keys() {
        if !expected.enums.contains_key(name) {
            push(
                out,
                ChangeCode::EnumAdded,
                Subject::Enum { name: name.clone() },
                format!("new enum {name} in the database"),
            );
        }
    }
}

fn diff_labels(
    name: &str,
    exp: &EnumType,
    act: &EnumType,
    subject: Subject,
    out: &mut Vec<Change>,
) {
    if exp.labels == act.labels {
        return;
    }
    let added: Vec<&str> = act
        .labels
        .iter()
        .filter(|l| !exp.labels.contains(l))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = exp
        .labels
        .iter()
        .filter(|l| !act.labels.contains(l))
        .map(String::as_str)
        .collect();
    if added.is_empty() && removed.is_empty() {
        push(
            out,
            ChangeCode::EnumLabelsReordered,
            subject,
            format!(
                "enum {name} labels reordered: [{}] → [{}]",
                exp.labels.join(", "),
                act.labels.join(", ")
            ),
        );
        return;
    }
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("added {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", removed.join(", ")));
    }
    // A removed label breaks code that names it, as a removed column does.
    let severity = if removed.is_empty() {
        Severity::High
    } else {
        Severity::Critical
    };
    out.push(
        Change::new(
            ChangeCode::EnumLabelsChanged,
            subject,
            format!("enum {name} labels changed: {}", parts.join("; ")),
        )
        .at_least(severity),
    );
}

fn diff_relation(name: &str, exp: &Relation, act: &Relation, out: &mut Vec<Change>) {
    if exp.kind != act.kind {
        push(
            out,
            ChangeCode::RelationKindChanged,
            rel_subject(name),
            format!(
                "{name} changed from {} to {}",
                exp.kind.as_str(),
                act.kind.as_str()
            ),
        );
    }
    if exp.definition != act.definition && exp.kind.is_view() && act.kind.is_view() {
        push(
            out,
            ChangeCode::ViewDefinitionChanged,
            rel_subject(name),
            format!("the query of {} {name} changed", act.kind.as_str()),
        );
    }
    if exp.options != act.options {
        push(
            out,
            ChangeCode::TableOptionsChanged,
            rel_subject(name),
            format!(
                "options of {name} changed: [{}] → [{}]",
                exp.options.join(", "),
                act.options.join(", ")
            ),
        );
    }
    for col in &exp.columns {
        match act.column(&col.name) {
            None => push(
                out,
                ChangeCode::ColumnRemoved,
                col_subject(name, &col.name),
                format!(
                    "column {name}.{} no longer exists in the database",
                    col.name
                ),
            ),
            Some(a) => diff_column(name, col, a, out),
        }
    }
    for col in &act.columns {
        if exp.column(&col.name).is_none() {
            let null = if col.nullable { "" } else { " NOT NULL" };
            // NOT NULL without a default: every insert written against the old
            // row type now fails.
            let required = !col.nullable && col.value.is_none() && !act.kind.is_view();
            let change = Change::new(
                ChangeCode::ColumnAdded,
                col_subject(name, &col.name),
                format!(
                    "new column {name}.{} ({}{null}{}) in the database",
                    col.name,
                    col.data_type,
                    if required {
                        ", no default: inserts must now give it"
                    } else {
                        ""
                    }
                ),
            );
            out.push(if required {
                change.at_least(Severity::High)
            } else {
                change
            });
        }
    }
    diff_named(
        name,
        "constraint",
        &exp.constraints
            .iter()
            .map(|(k, c)| (k, &c.definition))
            .collect(),
        &act.constraints
            .iter()
            .map(|(k, c)| (k, &c.definition))
            .collect(),
        [
            ChangeCode::ConstraintAdded,
            ChangeCode::ConstraintRemoved,
            ChangeCode::ConstraintChanged,
        ],
        out,
    );
    use ChangeCode::*;
    let named: [(&str, NamedParts, [ChangeCode; 3]); 3] = [
        (
            "trigger",
            |r| &r.triggers,
            [TriggerAdded, TriggerRemoved, TriggerChanged],
        ),
        (
            "policy",
            |r| &r.policies,
            [PolicyAdded, PolicyRemoved, PolicyChanged],
        ),
        (
            "index",
            |r| &r.indexes,
            [IndexAdded, IndexRemoved, IndexChanged],
        ),
    ];
    for (what, map, codes) in named {
        diff_named(
            name,
            what,
            &map(exp).iter().collect(),
            &map(act).iter().collect(),
            codes,
            out,
        );
    }
}

/// The named parts (triggers, policies, indexes) of a relation.
type NamedParts = fn(&Relation) -> &BTreeMap<String, String>;

fn col_subject(relation: &str, column: &str) -> Subject {
    Subject::Column {
        relation: relation.to_string(),
        column: column.to_string(),
    }
}

fn diff_column(rel: &str, exp: &Column, act: &Column, out: &mut Vec<Change>) {
    let subject = || col_subject(rel, &exp.name);
    let what = format!("{rel}.{}", exp.name);
    if exp.data_type != act.data_type {
        push(
            out,
            ChangeCode::ColumnTypeChanged,
            subject(),
            format!(
                "type of {what} changed: {} → {}",
                exp.data_type, act.data_type
            ),
        );
    }
    if exp.nullable != act.nullable {
        let change = Change::new(
            ChangeCode::ColumnNullabilityChanged,
            subject(),
            if act.nullable {
                format!("{what} is now nullable (was NOT NULL): readers typed for a value get None")
            } else {
                format!("{what} is now NOT NULL (was nullable)")
            },
        );
        // Loosened to nullable: code typed for a value now meets None.
        out.push(if act.nullable {
            change.at_least(Severity::High)
        } else {
            change
        });
    }
    if exp.value != act.value {
        let show = |v: &Option<_>| {
            v.as_ref()
                .map_or_else(|| "none".to_string(), super::model::ColumnValue::describe)
        };
        push(
            out,
            ChangeCode::ColumnDefaultChanged,
            subject(),
            format!(
                "default of {what} changed: {} → {}",
                show(&exp.value),
                show(&act.value)
            ),
        );
    }
    if exp.collation != act.collation {
        let show = |c: &Option<String>| c.clone().unwrap_or_else(|| "default".to_string());
        push(
            out,
            ChangeCode::ColumnCollationChanged,
            subject(),
            format!(
                "collation of {what} changed: {} → {}",
                show(&exp.collation),
                show(&act.collation)
            ),
        );
    }
}

fn diff_named(
    rel: &str,
    what: &str,
    exp: &BTreeMap<&String, &String>,
    act: &BTreeMap<&String, &String>,
    [added, removed, changed]: [ChangeCode; 3],
    out: &mut Vec<Change>,
) {
    for (name, def) in exp {
        match act.get(name) {
            None => push(
                out,
                removed,
                part(rel, name),
                format!("{what} {name} on {rel} no longer exists: {def}"),
            ),
            Some(a) if a != def => push(
                out,
                changed,
                part(rel, name),
                format!("{what} {name} on {rel} changed: {def} → {a}"),
            ),
            Some(_) => {}
        }
    }
    for (name, def) in act {
        if !exp.contains_key(name) {
            push(
                out,
                added,
                part(rel, name),
                format!("new {what} {name} on {rel}: {def}"),
            );
        }
    }
}

fn part(relation: &str, name: &str) -> Subject {
    Subject::Part {
        relation: relation.to_string(),
        name: name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{ColumnValue, Constraint, RelationKind, TypeRef};

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type: ty.into(),
            type_ref: TypeRef::Base { name: ty.into() },
            nullable,
            value: None,
            collation: None,
        }
    }

    fn base() -> DbSchema {
        let mut s = DbSchema::default();
        s.enums.insert(
            "public.kind".into(),
            EnumType {
                schema: "public".into(),
                name: "kind".into(),
                labels: vec!["a".into(), "b".into()],
            },
        );
        let mut t = Relation::new("public", "orgs", RelationKind::Table);
        t.columns = vec![col("id", "integer", false), col("name", "text", true)];
        t.constraints.insert(
            "orgs_pkey".into(),
            Constraint::from_definition("PRIMARY KEY (id)").unwrap(),
        );
        s.relations.insert("public.orgs".into(), t);
        s
    }

    fn codes(changes: &[Change]) -> Vec<(String, &'static str, Severity)> {
        changes
            .iter()
            .map(|c| (c.subject.object(), c.code.as_str(), c.severity()))
            .collect()
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        assert!(diff(&base(), &base()).is_empty());
    }

    #[test]
    fn each_kind_of_change_has_its_code_and_severity() {
        let exp = base();
        let mut act = base();
        act.enums.get_mut("public.kind").unwrap().labels = vec!["b".into(), "a".into()];
        let t = act.relations.get_mut("public.orgs").unwrap();
        t.columns[0].data_type = "bigint".into();
        t.columns[1].nullable = false;
        t.columns[1].value = Some(ColumnValue::Default("''::text".into()));
        t.columns.push(col("extra", "text", true));
        t.constraints.clear();
        t.indexes.insert(
            "orgs_name".into(),
            "CREATE INDEX orgs_name ON orgs (name)".into(),
        );
        act.relations.insert(
            "public.v".into(),
            Relation::new("public", "v", RelationKind::View),
        );
        act.enums.insert(
            "public.new".into(),
            EnumType {
                schema: "public".into(),
                name: "new".into(),
                labels: vec![],
            },
        );
        assert_eq!(
            codes(&diff(&exp, &act)),
            vec![
                (
                    "public.kind".into(),
                    "enum-labels-reordered",
                    Severity::High
                ),
                ("public.new".into(), "enum-added", Severity::Low),
                ("public.orgs.extra".into(), "column-added", Severity::Medium),
                (
                    "public.orgs.id".into(),
                    "column-type-changed",
                    Severity::High
                ),
                (
                    "public.orgs.name".into(),
                    "column-nullability-changed",
                    Severity::Medium
                ),
                (
                    "public.orgs.name".into(),
                    "column-default-changed",
                    Severity::Medium
                ),
                ("public.orgs.orgs_name".into(), "index-added", Severity::Low),
                (
                    "public.orgs.orgs_pkey".into(),
                    "constraint-removed",
                    Severity::Medium
                ),
                ("public.v".into(), "view-added", Severity::Low),
            ]
        );
        // The other way round: removals are critical.
        let back = codes(&diff(&act, &exp));
        assert!(back.contains(&(
            "public.orgs.extra".into(),
            "column-removed",
            Severity::Critical
        )));
        assert!(back.contains(&("public.v".into(), "view-removed", Severity::Critical)));
        assert!(back.contains(&("public.new".into(), "enum-removed", Severity::Critical)));
    }

    #[test]
    fn label_changes_name_what_was_added_and_removed() {
        let exp = base();
        let mut act = base();
        act.enums.get_mut("public.kind").unwrap().labels = vec!["a".into(), "c".into()];
        act.relations.clear();
        let changes = diff(&exp, &act);
        assert_eq!(changes[0].code, ChangeCode::EnumLabelsChanged);
        assert!(
            changes[0].message.contains("added c"),
            "{}",
            changes[0].message
        );
        assert!(
            changes[0].message.contains("removed b"),
            "{}",
            changes[0].message
        );
        assert_eq!(changes[1].code, ChangeCode::TableRemoved);
        assert_eq!(changes[1].severity(), Severity::Critical);
    }

    #[test]
    fn codes_are_unique_and_findings_carry_locations() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ChangeCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
        }
        let mut loc = Locations {
            enums_file: "schemas/enums.py".into(),
            relations_file: "schemas/tables.py".into(),
            version_file: "schemas/schema_version.py".into(),
            objects_file: "schemas/objects.py".into(),
            lines: BTreeMap::new(),
            files: BTreeMap::new(),
        };
        loc.lines.insert("relation:public.orgs".into(), 12);
        let change = Change::new(
            ChangeCode::ColumnAdded,
            Subject::Column {
                relation: "public.orgs".into(),
                column: "x".into(),
            },
            "m".into(),
        );
        let f = change.to_finding(&loc);
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("schemas/tables.py"), Some(12))
        );
        assert_eq!(f.code, "column-added");
    }
}
