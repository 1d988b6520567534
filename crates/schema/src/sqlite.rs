//! SQLite introspection through its pragmas into the canonical model.

use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::{
    normalize_sql, qualified, Column, ColumnValue, Constraint, DbSchema, Relation, RelationKind,
    TypeRef,
};
use rusqlite::{Connection, OpenFlags};

use crate::SchemaError;

/// The file path of a `sqlite://path`, `sqlite:path` or `sqlite::memory:` URL.
pub fn path_of(url: &str) -> Option<String> {
    let loc = driftsync_core::Location::parse(url).ok()?;
    if loc.dialect() != Some(driftsync_core::Dialect::Sqlite) {
        return None;
    }
    let rest = loc.rest();
    Some(rest.split('?').next().unwrap_or(rest).to_string())
}

/// Introspect the SQLite database at `url` (opened read-only; it must exist).
pub fn introspect(url: &RedactedUrl) -> Result<DbSchema, SchemaError> {
    let path = path_of(url.expose()).unwrap_or_default();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| SchemaError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    introspect_connection(&conn).map_err(|e| SchemaError::Query {
        url: url.clone(),
        reason: e.to_string(),
    })
}

/// Introspect an open connection (schema `main`).
pub fn introspect_connection(conn: &Connection) -> rusqlite::Result<DbSchema> {
    let mut model = DbSchema::default();
    let mut stmt = conn.prepare(
        "SELECT name, type, coalesce(sql, '') FROM sqlite_schema \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (name, kind, sql) in objects {
        let kind = if kind == "view" {
            RelationKind::View
        } else {
            RelationKind::Table
        };
        let mut rel = Relation::new("main", &name, kind);
        if kind == RelationKind::View {
            rel.definition = Some(normalize_sql(&sql));
        } else {
            let (wr, strict): (bool, bool) = conn.query_row(
                "SELECT wr, strict FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
                [&name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if wr {
                rel.options.push("without rowid".into());
            }
            if strict {
                rel.options.push("strict".into());
            }
        }
        read_columns(conn, &name, &mut rel)?;
        if kind == RelationKind::Table {
            read_keys(conn, &name, &mut rel)?;
        }
        model.relations.insert(qualified("main", &name), rel);
    }
    model.canonicalize();
    Ok(model)
}

fn read_columns(conn: &Connection, table: &str, rel: &mut Relation) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    type Row = (String, String, bool, Option<String>, i64, i64);
    let rows: Vec<Row> = stmt
        .query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let pk_count = rows.iter().filter(|r| r.4 > 0).count();
    for (name, declared, notnull, default, pk, hidden) in rows {
        if hidden == 1 {
            continue; // a virtual table's hidden column
        }
        // INTEGER PRIMARY KEY is the rowid: never NULL.
        let rowid = pk > 0 && pk_count == 1 && declared.eq_ignore_ascii_case("INTEGER");
        let value = match (hidden, default) {
            (2, _) => Some(ColumnValue::Generated("virtual".into())),
            (3, _) => Some(ColumnValue::Generated("stored".into())),
            (_, Some(d)) => Some(ColumnValue::Default(normalize_sql(&d))),
            _ => None,
        };
        let base = declared
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        rel.columns.push(Column {
            name,
            data_type: declared,
            type_ref: TypeRef::Base { name: base },
            nullable: !notnull && !rowid,
            value,
            collation: None,
        });
    }
    Ok(())
}

fn quote(ident: &str) -> String {
    if ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

/// `pragma_foreign_key_list`: id, seq, table, from, to, on_update, on_delete.
type ForeignKeyRow = (i64, i64, String, String, Option<String>, String, String);

fn read_keys(conn: &Connection, table: &str, rel: &mut Relation) -> rusqlite::Result<()> {
    let mut pk: Vec<(i64, String)> = conn
        .prepare("SELECT pk, name FROM pragma_table_info(?1) WHERE pk > 0")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    pk.sort();
    if !pk.is_empty() {
        let cols: Vec<String> = pk.iter().map(|(_, n)| quote(n)).collect();
        rel.constraints.insert(
            format!("{table}_pkey"),
            Constraint::from_definition(&format!("PRIMARY KEY ({})", cols.join(", ")))
                .expect("a primary key definition"),
        );
    }
    let indexes: Vec<(String, bool, String)> = conn
        .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (index, _unique, origin) in indexes {
        let cols: Vec<String> = conn
            .prepare("SELECT coalesce(name, '<expr>') FROM pragma_index_info(?1) ORDER BY seqno")?
            .query_map([&index], |r| r.get::<_, String>(0))?
            .map(|r| r.map(|n| quote(&n)))
            .collect::<Result<_, _>>()?;
        match origin.as_str() {
            "u" => {
                rel.constraints.insert(
                    index.clone(),
                    Constraint::from_definition(&format!("UNIQUE ({})", cols.join(", ")))
                        .expect("a unique definition"),
                );
            }
            "c" => {
                let sql: String = conn.query_row(
                    "SELECT coalesce(sql, '') FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [&index],
                    |r| r.get(0),
                )?;
                rel.indexes.insert(index, normalize_sql(&sql));
            }
            _ => {} // the primary key's own index
        }
    }
    let mut fks: Vec<ForeignKeyRow> = conn
        .prepare(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1)",
        )?
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    fks.sort();
    let mut ids: Vec<i64> = fks.iter().map(|f| f.0).collect();
    ids.dedup();
    for id in ids {
        let parts: Vec<_> = fks.iter().filter(|f| f.0 == id).collect();
        let from: Vec<String> = parts.iter().map(|f| quote(&f.3)).collect();
        let to: Vec<String> = parts
            .iter()
            .filter_map(|f| f.4.as_deref().map(quote))
            .collect();
        let target = &parts[0].2;
        let mut def = format!(
            "FOREIGN KEY ({}) REFERENCES {}",
            from.join(", "),
            quote(target)
        );
        if !to.is_empty() {
            def.push_str(&format!("({})", to.join(", ")));
        }
        for (what, action) in [("UPDATE", &parts[0].5), ("DELETE", &parts[0].6)] {
            if action != "NO ACTION" {
                def.push_str(&format!(" ON {what} {action}"));
            }
        }
        let name = format!(
            "{table}_{}_fkey",
            parts
                .iter()
                .map(|f| f.3.as_str())
                .collect::<Vec<_>>()
                .join("_")
        );
        rel.constraints.insert(
            name,
            Constraint::from_definition(&def).expect("a foreign key definition"),
        );
    }
    Ok(())
}
