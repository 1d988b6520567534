//! PostgreSQL introspection through `pg_catalog` into the canonical model.

use std::collections::{BTreeMap, HashMap};

use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::{
    normalize_sql, qualified, Column, ColumnValue, Constraint, DbSchema, EnumType, Relation,
    RelationKind, TypeRef,
};

use crate::{SchemaError, SchemaFilter};

/// Settings that change how the server prints types, expressions and
/// constants. Pinned at connect, so a database's or role's own settings
/// (`ALTER DATABASE … SET search_path`, a `timezone`) change no finding and no
/// `DB_HASH`: with only `pg_catalog` on the search path, every user type,
/// table and function is printed schema-qualified.
const PIN_SESSION: &str = "
SET search_path = pg_catalog;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SET standard_conforming_strings = on;
SET quote_all_identifiers = off;
SET lc_monetary = 'C';
SET lc_numeric = 'C';";

const SCHEMAS: &str = "
SELECT n.nspname::text FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
  AND NOT (n.nspname = ANY($2::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                  AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1";

const EXTENSIONS: &str = "SELECT extname::text, extversion FROM pg_extension";

const TYPES: &str = "
SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text, t.typelem, t.typbasetype,
       t.typcategory::text
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace";

const ENUMS: &str = "
SELECT n.nspname::text, t.typname::text,
       coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                FILTER (WHERE e.enumlabel IS NOT NULL), '{}')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typtype = 'e' AND n.nspname = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')
GROUP BY 1, 2";

const RELATIONS: &str = "
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
          FROM pg_inherits i WHERE i.inhrelid = c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND n.nspname = ANY($1::text[])
  AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')";

const COLUMNS: &str = "
SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.atttypid,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
       a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND NOT c.relispartition AND n.nspname = ANY($1::text[])
ORDER BY a.attrelid, a.attnum";

const CONSTRAINTS: &str = "
SELECT co.conrelid, co.conname::text, pg_get_constraintdef(co.oid, true)
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND NOT c.relispartition
  AND n.nspname = ANY($1::text[])";

const INDEXES: &str = "
SELECT i.indrelid, ic.relname::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid
                  AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x'))";

struct PgType {
    schema: String,
    name: String,
    typtype: String,
    elem: u32,
    base: u32,
    category: String,
}

fn type_ref(types: &HashMap<u32, PgType>, oid: u32, depth: u32) -> TypeRef {
    let Some(t) = types.get(&oid).filter(|_| depth < 8) else {
        return TypeRef::Other {
            name: format!("oid {oid}"),
        };
    };
    let q = qualified(&t.schema, &t.name);
    match t.typtype.as_str() {
        "e" => TypeRef::Enum { name: q },
        "d" => TypeRef::Domain {
            name: q,
            base: Box::new(type_ref(types, t.base, depth + 1)),
        },
        "b" if t.category == "A" && t.elem != 0 => TypeRef::Array {
            element: Box::new(type_ref(types, t.elem, depth + 1)),
        },
        "b" => TypeRef::Base {
            name: t.name.clone(),
        },
        _ => TypeRef::Other { name: q },
    }
}

fn kind_of(relkind: &str) -> RelationKind {
    match relkind {
        "p" => RelationKind::PartitionedTable,
        "f" => RelationKind::ForeignTable,
        "v" => RelationKind::View,
        "m" => RelationKind::MaterializedView,
        _ => RelationKind::Table,
    }
}

/// Introspect the PostgreSQL database at `url`.
pub fn introspect(url: &RedactedUrl, filter: &SchemaFilter) -> Result<DbSchema, SchemaError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SchemaError::Io {
            path: "tokio runtime".into(),
            source: e,
        })?;
    rt.block_on(introspect_async(url, filter))
}

async fn introspect_async(
    url: &RedactedUrl,
    filter: &SchemaFilter,
) -> Result<DbSchema, SchemaError> {
    let unreachable = |e: tokio_postgres::Error| SchemaError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    let driftsync_replica_db::tls::PgConnect {
        mut config, tls, ..
    } = driftsync_replica_db::tls::pg_connect(url.expose()).map_err(|reason| {
        SchemaError::Unreachable {
            url: url.clone(),
            reason,
        }
    })?;
    config.connect_timeout(std::time::Duration::from_secs(10));
    let (client, connection) = config.connect(tls).await.map_err(unreachable)?;
    let conn = tokio::spawn(connection);
    let query_err = |e: tokio_postgres::Error| SchemaError::Query {
        url: url.clone(),
        reason: e.to_string(),
    };
    client.batch_execute(PIN_SESSION).await.map_err(query_err)?;
    let schemas: Vec<String> = client
        .query(SCHEMAS, &[&filter.include, &filter.exclude])
        .await
        .map_err(query_err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let types: HashMap<u32, PgType> = client
        .query(TYPES, &[])
        .await
        .map_err(query_err)?
        .iter()
        .map(|r| {
            (
                r.get::<_, u32>(0),
                PgType {
                    schema: r.get(1),
                    name: r.get(2),
                    typtype: r.get(3),
                    elem: r.get(4),
                    base: r.get(5),
                    category: r.get(6),
                },
            )
        })
        .collect();
    let mut model = DbSchema::default();
    for r in client.query(ENUMS, &[&schemas]).await.map_err(query_err)? {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        model.enums.insert(
            qualified(&schema, &name),
            EnumType {
                schema,
                name,
                labels: r.get(2),
            },
        );
    }
    for r in client.query(EXTENSIONS, &[]).await.map_err(query_err)? {
        model.unmodelled.insert(
            format!("extension {}", r.get::<_, String>(0)),
            r.get::<_, String>(1),
        );
    }
    let mut by_oid: BTreeMap<u32, Relation> = BTreeMap::new();
    for r in client
        .query(RELATIONS, &[&schemas])
        .await
        .map_err(query_err)?
    {
        let oid: u32 = r.get(0);
        let (schema, name, relkind): (String, String, String) = (r.get(1), r.get(2), r.get(3));
        let mut rel = Relation::new(&schema, &name, kind_of(&relkind));
        if r.get::<_, String>(4) == "u" {
            rel.options.push("unlogged".into());
        }
        rel.definition = r.get::<_, Option<String>>(5).map(|d| normalize_sql(&d));
        if let Some(key) = r.get::<_, Option<String>>(6) {
            rel.options.push(format!("partition by {key}"));
        }
        // Partitions are folded into their parent (they are not read at all):
        // a new monthly partition is not a new table.
        if let Some(p) = r.get::<_, Option<String>>(7) {
            rel.options.push(format!("inherits {p}"));
        }
        by_oid.insert(oid, rel);
    }
    for r in client
        .query(COLUMNS, &[&schemas])
        .await
        .map_err(query_err)?
    {
        let Some(rel) = by_oid.get_mut(&r.get::<_, u32>(0)) else {
            continue;
        };
        let expr: Option<String> = r.get::<_, Option<String>>(5).map(|e| normalize_sql(&e));
        let identity: String = r.get(6);
        let generated: String = r.get(7);
        let value = match (identity.as_str(), generated.as_str(), expr) {
            ("a", _, _) => Some(ColumnValue::IdentityAlways),
            ("d", _, _) => Some(ColumnValue::IdentityByDefault),
            (_, g, Some(e)) if !g.is_empty() => Some(ColumnValue::Generated(e)),
            (_, _, Some(e)) => Some(ColumnValue::Default(e)),
            _ => None,
        };
        rel.columns.push(Column {
            name: r.get(1),
            data_type: r.get(2),
            type_ref: type_ref(&types, r.get(3), 0),
            nullable: !r.get::<_, bool>(4),
            value,
            collation: r.get(8),
        });
    }
    for r in client
        .query(CONSTRAINTS, &[&schemas])
        .await
        .map_err(query_err)?
    {
        let Some(rel) = by_oid.get_mut(&r.get::<_, u32>(0)) else {
            continue;
        };
        let def: String = r.get(2);
        if let Some(c) = Constraint::from_definition(&normalize_sql(&def)) {
            rel.constraints.insert(r.get(1), c);
        }
    }
    for r in client
        .query(INDEXES, &[&schemas])
        .await
        .map_err(query_err)?
    {
        if let Some(rel) = by_oid.get_mut(&r.get::<_, u32>(0)) {
            rel.indexes
                .insert(r.get(1), normalize_sql(&r.get::<_, String>(2)));
        }
    }
    for rel in by_oid.into_values() {
        model
            .relations
            .insert(qualified(&rel.schema, &rel.name), rel);
    }
    model.canonicalize();
    drop(client);
    let _ = conn.await;
    Ok(model)
}
