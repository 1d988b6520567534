//! The canonical schema model: what a database holds, in a deterministic order.
//!
//! Every introspector (PostgreSQL, SQLite) and the Python reader fill this
//! model; the diff and the generator read only this. Maps are `BTreeMap`s
//! keyed by qualified name (`schema.name`), so iteration and serialisation are
//! ordered the same way on every machine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Hash;

/// A whole database schema (the selected schemas of one database).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbSchema {
    /// Enum types by qualified name.
    pub enums: BTreeMap<String, EnumType>,
    /// Tables, views and materialised views by qualified name.
    pub relations: BTreeMap<String, Relation>,
    /// Domains, composite types, sequences and functions, keyed
    /// `<kind> <qualified name>` (`domain app.email`, `function app.f(uuid)`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objects: BTreeMap<String, DbObject>,
    /// Facts hashed into `DB_HASH` that the modules do not describe
    /// (`extension plpgsql` → `1.0`): a change to them alone is
    /// `database-changed-unmodelled`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unmodelled: BTreeMap<String, String>,
    /// `COMMENT ON TABLE` / `COMMENT ON COLUMN` texts, keyed `schema.table`
    /// and `schema.table.column`: shown in the docs pages, not compared and
    /// not hashed (a comment edit is no drift and leaves `DB_HASH` alone).
    #[serde(skip)]
    pub comments: BTreeMap<String, String>,
}

/// What kind of object a [`DbObject`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// `CREATE DOMAIN`.
    Domain,
    /// `CREATE TYPE … AS (…)`.
    CompositeType,
    /// `CREATE SEQUENCE` (not identity columns' own).
    Sequence,
    /// A function or procedure, by signature.
    Function,
}

impl ObjectKind {
    /// Every kind, for parsing.
    pub const ALL: [ObjectKind; 4] = [
        ObjectKind::Domain,
        ObjectKind::CompositeType,
        ObjectKind::Sequence,
        ObjectKind::Function,
    ];

    /// Words for people and for the generated code: `domain`, `composite type`…
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Domain => "domain",
            ObjectKind::CompositeType => "composite type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
        }
    }

    /// The kind named by [`ObjectKind::as_str`].
    pub fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A domain, composite type, sequence or function: its defining facts, one per
/// line, in a fixed order (`type: text`, `not null`, `check c: CHECK (…)`;
/// `attribute a: bigint`; `returns: integer`, `language: sql`…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbObject {
    /// What kind.
    pub kind: ObjectKind,
    /// Qualified name; for a function, its signature (`app.f(uuid)`).
    pub name: String,
    /// The facts that define it.
    pub facts: Vec<String>,
}

impl DbObject {
    /// The key in [`DbSchema::objects`]: `<kind> <name>`.
    pub fn key(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.name)
    }

    /// Parse a key back into kind and name.
    pub fn parse_key(key: &str) -> Option<(ObjectKind, String)> {
        ObjectKind::ALL.into_iter().find_map(|k| {
            key.strip_prefix(k.as_str())
                .and_then(|r| r.strip_prefix(' '))
                .map(|n| (k, n.to_string()))
        })
    }
}

/// An enum type with its labels in declaration (sort) order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    /// The schema it lives in.
    pub schema: String,
    /// Its unqualified name.
    pub name: String,
    /// Labels in sort order.
    pub labels: Vec<String>,
}

/// What kind of relation a [`Relation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// An ordinary table.
    Table,
    /// A partitioned (parent) table.
    PartitionedTable,
    /// A foreign table.
    ForeignTable,
    /// A view.
    View,
    /// A materialised view.
    MaterializedView,
}

impl RelationKind {
    /// Every kind, for parsing.
    pub const ALL: [RelationKind; 5] = [
        RelationKind::Table,
        RelationKind::PartitionedTable,
        RelationKind::ForeignTable,
        RelationKind::View,
        RelationKind::MaterializedView,
    ];

    /// Words for people and for the generated code: `table`, `materialized view`…
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::PartitionedTable => "partitioned table",
            RelationKind::ForeignTable => "foreign table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
        }
    }

    /// The kind named by [`RelationKind::as_str`].
    pub fn parse(s: &str) -> Option<RelationKind> {
        RelationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Views and materialised views (their rows are computed).
    pub fn is_view(self) -> bool {
        matches!(self, RelationKind::View | RelationKind::MaterializedView)
    }
}

/// A table, view or materialised view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// The schema it lives in.
    pub schema: String,
    /// Its unqualified name.
    pub name: String,
    /// Table, view…
    pub kind: RelationKind,
    /// Columns in their ordinal order.
    pub columns: Vec<Column>,
    /// Constraints (primary, unique, foreign keys, checks, exclusions) by name.
    pub constraints: BTreeMap<String, Constraint>,
    /// Indexes that do not back a constraint, by name, with their definition.
    pub indexes: BTreeMap<String, String>,
    /// Extra table properties: `unlogged`, `inherits …`, `partition of …`,
    /// `partition by …`, `without rowid`. Sorted.
    pub options: Vec<String>,
    /// A view's defining query, whitespace-normalised.
    pub definition: Option<String>,
    /// Triggers by name, with their `CREATE TRIGGER` definition.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, String>,
    /// Row-level security policies by name: `FOR SELECT TO r USING (…) WITH CHECK (…)`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, String>,
}

impl Relation {
    /// An empty relation of `kind`.
    pub fn new(schema: &str, name: &str, kind: RelationKind) -> Relation {
        Relation {
            schema: schema.to_string(),
            name: name.to_string(),
            kind,
            columns: Vec::new(),
            constraints: BTreeMap::new(),
            indexes: BTreeMap::new(),
            options: Vec::new(),
            definition: None,
            triggers: BTreeMap::new(),
            policies: BTreeMap::new(),
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// How a column's value is produced when not given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "expr")]
pub enum ColumnValue {
    /// `DEFAULT expr`.
    Default(String),
    /// `GENERATED ALWAYS AS IDENTITY`.
    IdentityAlways,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    IdentityByDefault,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    Generated(String),
}

impl ColumnValue {
    /// The form used in generated code and messages: `default: now()`, `identity: always`…
    pub fn describe(&self) -> String {
        match self {
            ColumnValue::Default(e) => format!("default: {e}"),
            ColumnValue::IdentityAlways => "identity: always".to_string(),
            ColumnValue::IdentityByDefault => "identity: by default".to_string(),
            ColumnValue::Generated(e) => format!("generated: {e}"),
        }
    }

    /// Parse [`ColumnValue::describe`]'s form.
    pub fn parse(s: &str) -> Option<ColumnValue> {
        if let Some(e) = s.strip_prefix("default: ") {
            Some(ColumnValue::Default(e.to_string()))
        } else if let Some(e) = s.strip_prefix("generated: ") {
            Some(ColumnValue::Generated(e.to_string()))
        } else {
            match s {
                "identity: always" => Some(ColumnValue::IdentityAlways),
                "identity: by default" => Some(ColumnValue::IdentityByDefault),
                _ => None,
            }
        }
    }
}

/// One column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The database's own spelling of the type (`character varying(20)`, `integer[]`).
    pub data_type: String,
    /// The type's structure, for mapping to other languages.
    pub type_ref: TypeRef,
    /// May it hold NULL?
    pub nullable: bool,
    /// Default, identity or generation expression.
    pub value: Option<ColumnValue>,
    /// A collation other than the type's default.
    pub collation: Option<String>,
}

/// The structure of a column type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TypeRef {
    /// A built-in or extension base type by its internal name (`int4`, `text`, `citext`).
    Base {
        /// Internal type name.
        name: String,
    },
    /// A user enum by qualified name.
    Enum {
        /// Qualified enum name.
        name: String,
    },
    /// A domain over another type.
    Domain {
        /// Qualified domain name.
        name: String,
        /// What it is a domain over.
        base: Box<TypeRef>,
    },
    /// An array of another type.
    Array {
        /// The element type.
        element: Box<TypeRef>,
    },
    /// Anything else (composite, range…): by its qualified name.
    Other {
        /// Qualified type name.
        name: String,
    },
}

/// What a constraint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `UNIQUE`.
    Unique,
    /// `FOREIGN KEY … REFERENCES`.
    ForeignKey,
    /// `CHECK`.
    Check,
    /// `EXCLUDE`.
    Exclude,
}

impl ConstraintKind {
    /// Words for people: `primary key`, `foreign key`…
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check",
            ConstraintKind::Exclude => "exclude",
        }
    }

    /// The kind a definition (`PRIMARY KEY (id)`, `CHECK (…)`) starts with.
    pub fn of_definition(def: &str) -> Option<ConstraintKind> {
        let d = def.trim_start().to_ascii_uppercase();
        [
            ("PRIMARY KEY", ConstraintKind::PrimaryKey),
            ("UNIQUE", ConstraintKind::Unique),
            ("FOREIGN KEY", ConstraintKind::ForeignKey),
            ("CHECK", ConstraintKind::Check),
            ("EXCLUDE", ConstraintKind::Exclude),
        ]
        .into_iter()
        .find(|(p, _)| d.starts_with(p))
        .map(|(_, k)| k)
    }
}

/// A table constraint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// What kind.
    pub kind: ConstraintKind,
    /// Its definition as the database prints it (`PRIMARY KEY (id)`).
    pub definition: String,
}

impl Constraint {
    /// A constraint whose kind is read from its definition; `None` for an unknown kind.
    pub fn from_definition(definition: &str) -> Option<Constraint> {
        Some(Constraint {
            kind: ConstraintKind::of_definition(definition)?,
            definition: definition.to_string(),
        })
    }
}

/// Collapse runs of whitespace to one space and trim: expressions and view
/// definitions compare by meaning, not by the layout the server chose.
pub fn normalize_sql(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `schema.name`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

impl DbSchema {
    /// The canonical serialisation: compact JSON of the ordered model. The same
    /// schema gives the same bytes on every machine.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the schema model always serialises")
    }

    /// `DB_HASH`: SHA-256 of [`DbSchema::canonical_bytes`].
    pub fn hash(&self) -> Hash {
        Hash::of(&self.canonical_bytes())
    }

    /// Number of tables (not views).
    pub fn tables_count(&self) -> usize {
        self.relations
            .values()
            .filter(|r| !r.kind.is_view())
            .count()
    }

    /// Put every order-free list into its canonical order (options sorted).
    pub fn canonicalize(&mut self) {
        for rel in self.relations.values_mut() {
            rel.options.sort();
            rel.options.dedup();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_content_not_insertion_order() {
        let mut a = DbSchema::default();
        let mut b = DbSchema::default();
        for (k, l) in [("public.x", "a"), ("public.y", "b")] {
            a.enums.insert(
                k.into(),
                EnumType {
                    schema: "public".into(),
                    name: k[7..].into(),
                    labels: vec![l.into()],
                },
            );
        }
        for (k, l) in [("public.y", "b"), ("public.x", "a")] {
            b.enums.insert(
                k.into(),
                EnumType {
                    schema: "public".into(),
                    name: k[7..].into(),
                    labels: vec![l.into()],
                },
            );
        }
        assert_eq!(a.hash(), b.hash());
        b.enums.get_mut("public.x").unwrap().labels.push("c".into());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn column_values_round_trip_through_their_description() {
        for v in [
            ColumnValue::Default("now()".into()),
            ColumnValue::IdentityAlways,
            ColumnValue::IdentityByDefault,
            ColumnValue::Generated("(a + 1)".into()),
        ] {
            assert_eq!(ColumnValue::parse(&v.describe()), Some(v));
        }
        assert_eq!(ColumnValue::parse("nonsense"), None);
    }

    #[test]
    fn constraint_kind_is_read_from_the_definition() {
        assert_eq!(
            ConstraintKind::of_definition("FOREIGN KEY (a) REFERENCES t(id)"),
            Some(ConstraintKind::ForeignKey)
        );
        assert_eq!(
            ConstraintKind::of_definition("EXCLUDE USING gist (x WITH &&)"),
            Some(ConstraintKind::Exclude)
        );
        assert_eq!(ConstraintKind::of_definition("TRIGGER"), None);
        assert_eq!(normalize_sql(" SELECT  a\n   FROM t; "), "SELECT a FROM t;");
    }
}
