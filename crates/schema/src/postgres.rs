//! PostgreSQL introspection through `pg_catalog` into the canonical model.

use std::collections::{BTreeMap, HashMap};

use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::{
    normalize_sql, qualified, Column, ColumnValue, Constraint, DbObject, DbSchema, EnumType,
    ObjectKind, Relation, RelationKind, TypeRef,
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

/// Schemas Supabase manages: skipped when a `supabase_*` role owns them,
/// unless named with `--schema`.
const SUPABASE_SCHEMAS: [&str; 13] = [
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "pgbouncer",
    "vault",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "pgsodium",
];

const SCHEMAS: &str = "
SELECT n.nspname::text FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
  AND NOT (n.nspname = ANY($2::text[]))
  AND NOT (n.nspname = ANY($3::text[]) AND pg_get_userbyid(n.nspowner) LIKE 'supabase\\_%'
           AND NOT n.nspname = ANY($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                  AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1";

const EXTENSIONS: &str = "SELECT extname::text, extversion FROM pg_extension";

/// Not owned by an extension (`pg_depend` deptype `e`) and, for sequences, not
/// an identity column's own (deptype `i`).
macro_rules! not_extension {
    ($catalog:literal, $oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '",
            $catalog,
            "'::regclass AND d.objid = ",
            $oid,
            " AND d.deptype IN ('e', 'i'))"
        )
    };
}

const DOMAINS: &str = concat!(
    "
SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
       pg_get_expr(t.typdefaultbin, 0),
       coalesce((SELECT array_agg(c.conname::text || ': ' || pg_get_constraintdef(c.oid, true)
                                  ORDER BY c.conname)
                 FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND n.nspname = ANY($1::text[]) AND ",
    not_extension!("pg_type", "t.oid")
);

const COMPOSITES: &str = concat!(
    "
SELECT n.nspname::text, t.typname::text,
       coalesce((SELECT array_agg(a.attname::text || ': ' || format_type(a.atttypid, a.atttypmod)
                                  ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '{}')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND n.nspname = ANY($1::text[]) AND ",
    not_extension!("pg_type", "t.oid")
);

const SEQUENCES: &str = concat!(
    "
SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart,
       s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname)
          FROM pg_depend d
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
           AND d.refclassid = 'pg_class'::regclass)
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[]) AND ",
    not_extension!("pg_class", "c.oid")
);

const FUNCTIONS: &str = concat!(
    "
SELECT p.oid::regprocedure::text, p.prokind::text, pg_get_function_arguments(p.oid),
       pg_get_function_result(p.oid), l.lanname::text, p.provolatile::text, p.prosecdef
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p') AND n.nspname = ANY($1::text[]) AND ",
    not_extension!("pg_proc", "p.oid")
);

const TRIGGERS: &str = "
SELECT t.tgrelid, t.tgname::text, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND NOT c.relispartition AND n.nspname = ANY($1::text[])";

const POLICIES: &str = "
SELECT p.polrelid, p.polname::text,
       concat_ws(' ',
         CASE WHEN NOT p.polpermissive THEN 'AS RESTRICTIVE' END,
         'FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                   WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
         'TO ' || (SELECT string_agg(r.name, ', ' ORDER BY r.name)
                   FROM (SELECT CASE WHEN o = 0 THEN 'public'
                                ELSE quote_ident(pg_get_userbyid(o)) END AS name
                         FROM unnest(p.polroles) o) r),
         'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
         'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT c.relispartition AND n.nspname = ANY($1::text[])";

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
          FROM pg_inherits i WHERE i.inhrelid = c.oid),
       c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND n.nspname = ANY($1::text[])
  AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')";

const COLUMNS: &str = "
SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.atttypid,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
       a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
       t.typtype = 'd' AND t.typnotnull AND c.relkind IN ('r', 'p', 'f'),
       col_description(a.attrelid, a.attnum)
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
        .query(
            SCHEMAS,
            &[&filter.include, &filter.exclude, &&SUPABASE_SCHEMAS[..]],
        )
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
        if r.get::<_, bool>(8) {
            rel.options.push("row level security".into());
        }
        if r.get::<_, bool>(9) {
            rel.options.push("force row level security".into());
        }
        if let Some(c) = r.get::<_, Option<String>>(10) {
            model.comments.insert(format!("{schema}.{name}"), c);
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
        if let Some(c) = r.get::<_, Option<String>>(10) {
            model.comments.insert(
                format!("{}.{}.{}", rel.schema, rel.name, r.get::<_, String>(1)),
                c,
            );
        }
        rel.columns.push(Column {
            name: r.get(1),
            data_type: r.get(2),
            type_ref: type_ref(&types, r.get(3), 0),
            // A table column of a NOT NULL domain never holds NULL either.
            nullable: !(r.get::<_, bool>(4) || r.get::<_, bool>(9)),
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
    // Named parts of a relation: (relation oid, name, definition) rows.
    let parts: [(&str, NamedParts); 3] = [
        (INDEXES, |r| &mut r.indexes),
        (TRIGGERS, |r| &mut r.triggers),
        (POLICIES, |r| &mut r.policies),
    ];
    for (query, map) in parts {
        for r in client.query(query, &[&schemas]).await.map_err(query_err)? {
            if let Some(rel) = by_oid.get_mut(&r.get::<_, u32>(0)) {
                map(rel).insert(r.get(1), normalize_sql(&r.get::<_, String>(2)));
            }
        }
    }
    read_objects(&client, &schemas, &mut model)
        .await
        .map_err(query_err)?;
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

/// Where a relation keeps one kind of named part (indexes, triggers, policies).
type NamedParts = fn(&mut Relation) -> &mut BTreeMap<String, String>;

fn add_object(model: &mut DbSchema, kind: ObjectKind, name: String, facts: Vec<String>) {
    let o = DbObject { kind, name, facts };
    model.objects.insert(o.key(), o);
}

/// Domains, composite types, sequences and functions of the selected schemas.
async fn read_objects(
    client: &tokio_postgres::Client,
    schemas: &[String],
    model: &mut DbSchema,
) -> Result<(), tokio_postgres::Error> {
    for r in client.query(DOMAINS, &[&schemas]).await? {
        let mut facts = vec![format!("type: {}", r.get::<_, String>(2))];
        if r.get::<_, bool>(3) {
            facts.push("not null".into());
        }
        if let Some(d) = r.get::<_, Option<String>>(4) {
            facts.push(format!("default: {}", normalize_sql(&d)));
        }
        for c in r.get::<_, Vec<String>>(5) {
            facts.push(format!("check {}", normalize_sql(&c)));
        }
        let name = qualified(&r.get::<_, String>(0), &r.get::<_, String>(1));
        add_object(model, ObjectKind::Domain, name, facts);
    }
    for r in client.query(COMPOSITES, &[&schemas]).await? {
        let facts = r
            .get::<_, Vec<String>>(2)
            .into_iter()
            .map(|a| format!("attribute {a}"))
            .collect();
        let name = qualified(&r.get::<_, String>(0), &r.get::<_, String>(1));
        add_object(model, ObjectKind::CompositeType, name, facts);
    }
    for r in client.query(SEQUENCES, &[&schemas]).await? {
        let mut facts = vec![
            format!("type: {}", r.get::<_, String>(2)),
            format!("start: {}", r.get::<_, i64>(3)),
            format!("increment: {}", r.get::<_, i64>(4)),
            format!("min: {}", r.get::<_, i64>(5)),
            format!("max: {}", r.get::<_, i64>(6)),
            format!("cache: {}", r.get::<_, i64>(7)),
        ];
        if r.get::<_, bool>(8) {
            facts.push("cycle".into());
        }
        if let Some(owner) = r.get::<_, Option<String>>(9) {
            facts.push(format!("owned by: {owner}"));
        }
        let name = qualified(&r.get::<_, String>(0), &r.get::<_, String>(1));
        add_object(model, ObjectKind::Sequence, name, facts);
    }
    for r in client.query(FUNCTIONS, &[&schemas]).await? {
        let procedure = r.get::<_, String>(1) == "p";
        let mut facts = vec![format!("arguments: ({})", r.get::<_, String>(2))];
        match r.get::<_, Option<String>>(3) {
            Some(ret) if !procedure => facts.push(format!("returns: {ret}")),
            _ => facts.push("procedure".into()),
        }
        facts.push(format!("language: {}", r.get::<_, String>(4)));
        facts.push(
            match r.get::<_, String>(5).as_str() {
                "i" => "immutable",
                "s" => "stable",
                _ => "volatile",
            }
            .into(),
        );
        if r.get::<_, bool>(6) {
            facts.push("security definer".into());
        }
        add_object(model, ObjectKind::Function, r.get(0), facts);
    }
    Ok(())
}
