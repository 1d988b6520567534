//! Before → after, for `driftsync schema diff`: a changed column as its old and
//! new facts on one line, a changed view as a line diff of its query.

use driftsync_core::schema::{Change, ChangeCode, Column, DbSchema, Subject};

/// Clause keywords a view's query is broken before, so its diff reads by clause.
const CLAUSES: &[&str] = &[
    " FROM ",
    " LEFT JOIN ",
    " RIGHT JOIN ",
    " FULL JOIN ",
    " JOIN ",
    " WHERE ",
    " GROUP BY ",
    " HAVING ",
    " WINDOW ",
    " UNION ",
    " EXCEPT ",
    " INTERSECT ",
    " ORDER BY ",
    " LIMIT ",
];

/// A normalised query broken into lines before each clause keyword.
pub fn sql_lines(query: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut rest, mut skip) = (query, 0);
    // The clause keyword (after its leading space) starts the next line; the
    // search resumes after it (so `LEFT JOIN` is not broken again at `JOIN`).
    while let Some((i, k)) = CLAUSES
        .iter()
        .filter_map(|k| rest[skip..].find(k).map(|i| (skip + i, k.trim().len())))
        .min()
    {
        lines.push(rest[..i].to_string());
        rest = &rest[i + 1..];
        skip = k;
    }
    lines.push(rest.to_string());
    lines.retain(|l| !l.trim().is_empty());
    lines
}

/// A line diff (longest common subsequence): `  same`, `- old`, `+ new`.
pub fn line_diff(old: &[String], new: &[String]) -> Vec<String> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push(format!("  {}", old[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", old[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", new[j]));
            j += 1;
        }
    }
    out
}

/// A column's facts on one line: `varchar(100) NOT NULL, default: 'x'::text`.
pub fn column_facts(c: &Column) -> String {
    let mut s = c.data_type.clone();
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(v) = &c.value {
        s.push_str(", ");
        s.push_str(&v.describe());
    }
    if let Some(coll) = &c.collation {
        s.push_str(", collate ");
        s.push_str(coll);
    }
    s
}

/// Before → after blocks for the changed columns and view queries among
/// `changes` (`expected`: the modules; `actual`: the database), each block a
/// heading line and indented lines, in the order of `changes`.
pub fn before_after(changes: &[Change], expected: &DbSchema, actual: &DbSchema) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in changes {
        match (&c.subject, c.code) {
            (
                Subject::Column { relation, column },
                ChangeCode::ColumnTypeChanged
                | ChangeCode::ColumnNullabilityChanged
                | ChangeCode::ColumnDefaultChanged
                | ChangeCode::ColumnCollationChanged,
            ) => {
                if !seen.insert(c.subject.key()) {
                    continue;
                }
                let col = |s: &DbSchema| {
                    s.relations
                        .get(relation)
                        .and_then(|r| r.column(column))
                        .map(column_facts)
                };
                if let (Some(before), Some(after)) = (col(expected), col(actual)) {
                    out.push(format!("column {relation}.{column}:"));
                    out.push(format!("    before: {before}"));
                    out.push(format!("    after:  {after}"));
                }
            }
            (Subject::Relation { name }, ChangeCode::ViewDefinitionChanged) => {
                let def = |s: &DbSchema| {
                    s.relations
                        .get(name)
                        .and_then(|r| r.definition.as_deref())
                        .map(sql_lines)
                        .unwrap_or_default()
                };
                out.push(format!("query of {name}:"));
                for l in line_diff(&def(expected), &def(actual)) {
                    out.push(format!("    {l}"));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_break_before_clauses_and_diff_by_line() {
        let old = sql_lines("SELECT a, b FROM t LEFT JOIN u ON u.id = t.id WHERE a > 0;");
        assert_eq!(
            old,
            [
                "SELECT a, b",
                "FROM t",
                "LEFT JOIN u ON u.id = t.id",
                "WHERE a > 0;"
            ]
        );
        let new = sql_lines("SELECT a, b FROM t LEFT JOIN u ON u.id = t.id WHERE a > 1;");
        assert_eq!(
            line_diff(&old, &new),
            [
                "  SELECT a, b",
                "  FROM t",
                "  LEFT JOIN u ON u.id = t.id",
                "- WHERE a > 0;",
                "+ WHERE a > 1;"
            ]
        );
    }
}
