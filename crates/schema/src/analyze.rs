//! `driftsync schema analyze`: what a schema holds, in numbers, and the
//! tables that lack a primary key or row-level security.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use driftsync_core::schema::{ConstraintKind, DbSchema, RelationKind};

/// How many of the largest tables are listed.
const LARGEST: usize = 10;

/// The analysis of one schema model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// Tables (ordinary, partitioned, foreign).
    pub tables: usize,
    /// Views and materialised views.
    pub views: usize,
    /// Columns of tables and views.
    pub columns: usize,
    /// Enums.
    pub enums: usize,
    /// Domains, composite types, sequences and functions, by kind.
    pub objects: BTreeMap<String, usize>,
    /// Indexes not backing a constraint.
    pub indexes: usize,
    /// Constraints of every kind.
    pub constraints: usize,
    /// Triggers.
    pub triggers: usize,
    /// Row-level security policies.
    pub policies: usize,
    /// The tables with the most columns: (name, columns), most first.
    pub largest_tables: Vec<(String, usize)>,
    /// The longest chain of foreign keys (a table referencing a table referencing …).
    pub foreign_key_depth: usize,
    /// Tables without a primary key.
    pub without_primary_key: Vec<String>,
    /// Tables without row-level security enabled.
    pub without_row_level_security: Vec<String>,
}

/// The table a `FOREIGN KEY (…) REFERENCES s.t(…)` definition points at.
fn referenced(definition: &str) -> Option<&str> {
    let rest = definition.split_once(" REFERENCES ")?.1;
    Some(rest.split('(').next()?.trim())
}

/// Analyse `db`.
pub fn analyze(db: &DbSchema) -> Analysis {
    let tables: Vec<_> = db
        .relations
        .iter()
        .filter(|(_, r)| !r.kind.is_view())
        .collect();
    let mut objects = BTreeMap::new();
    for o in db.objects.values() {
        *objects.entry(o.kind.as_str().to_string()).or_insert(0) += 1;
    }
    let mut largest: Vec<(String, usize)> = tables
        .iter()
        .map(|(q, r)| ((*q).clone(), r.columns.len()))
        .collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    largest.truncate(LARGEST);
    // Foreign-key edges: table → tables it references (self-references ignored).
    let edges: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|(q, r)| {
            let refs = r
                .constraints
                .values()
                .filter(|c| c.kind == ConstraintKind::ForeignKey)
                .filter_map(|c| referenced(&c.definition))
                .filter(|t| *t != q.as_str())
                .collect();
            (q.as_str(), refs)
        })
        .collect();
    let mut depth_of = BTreeMap::new();
    let foreign_key_depth = edges
        .keys()
        .map(|t| depth(t, &edges, &mut depth_of, &mut BTreeSet::new()))
        .max()
        .unwrap_or(0);
    let count = |f: &dyn Fn(&driftsync_core::schema::Relation) -> usize| {
        db.relations.values().map(f).sum::<usize>()
    };
    Analysis {
        tables: tables.len(),
        views: db.relations.len() - tables.len(),
        columns: count(&|r| r.columns.len()),
        enums: db.enums.len(),
        objects,
        indexes: count(&|r| r.indexes.len()),
        constraints: count(&|r| r.constraints.len()),
        triggers: count(&|r| r.triggers.len()),
        policies: count(&|r| r.policies.len()),
        largest_tables: largest,
        foreign_key_depth,
        without_primary_key: tables
            .iter()
            .filter(|(_, r)| {
                r.kind != RelationKind::ForeignTable
                    && !r
                        .constraints
                        .values()
                        .any(|c| c.kind == ConstraintKind::PrimaryKey)
            })
            .map(|(q, _)| (*q).clone())
            .collect(),
        without_row_level_security: tables
            .iter()
            .filter(|(_, r)| !r.options.iter().any(|o| o == "row level security"))
            .map(|(q, _)| (*q).clone())
            .collect(),
    }
}

/// The length of the longest foreign-key chain starting at `t` (cycles cut).
fn depth<'a>(
    t: &'a str,
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    memo: &mut BTreeMap<&'a str, usize>,
    path: &mut BTreeSet<&'a str>,
) -> usize {
    if let Some(d) = memo.get(t) {
        return *d;
    }
    if !path.insert(t) {
        return 0;
    }
    let d = edges.get(t).map_or(0, |refs| {
        refs.iter()
            .map(|r| 1 + depth(r, edges, memo, path))
            .max()
            .unwrap_or(0)
    });
    path.remove(t);
    memo.insert(t, d);
    d
}

impl Analysis {
    /// For people: one fact per line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} table(s), {} view(s), {} column(s), {} enum(s)",
            self.tables, self.views, self.columns, self.enums
        );
        for (kind, n) in &self.objects {
            let _ = writeln!(out, "{n} {kind}(s)");
        }
        let _ = writeln!(
            out,
            "{} index(es), {} constraint(s), {} trigger(s), {} policy(ies)",
            self.indexes, self.constraints, self.triggers, self.policies
        );
        let _ = writeln!(out, "foreign-key depth: {}", self.foreign_key_depth);
        out.push_str("largest tables:\n");
        for (q, n) in &self.largest_tables {
            let _ = writeln!(out, "  {q}  {n} column(s)");
        }
        for (title, list) in [
            ("without a primary key", &self.without_primary_key),
            (
                "without row-level security",
                &self.without_row_level_security,
            ),
        ] {
            let _ = writeln!(out, "{title}: {}", list.len());
            for q in list {
                let _ = writeln!(out, "  {q}");
            }
        }
        out
    }
}
