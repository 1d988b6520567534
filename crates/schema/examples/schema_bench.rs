//! Benchmark (run by `bench/schema.sh`, not a test): introspect a PostgreSQL
//! schema of TABLES tables × COLUMNS columns, generate and read back the
//! Python modules, and diff against a changed database.

use std::time::Instant;

use driftsync_core::redact::RedactedUrl;
use driftsync_schema::pyread::read_dir;
use driftsync_schema::workflow::{apply_update, compare, plan_update};
use driftsync_schema::{introspect, Dialect, Options, SchemaFilter};
use driftsync_testkit::PgCluster;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let tables = env_usize("TABLES", 1000);
    let columns = env_usize("COLUMNS", 20);
    let types = [
        "integer",
        "text",
        "bigint",
        "timestamptz",
        "numeric(10,2)",
        "boolean",
        "uuid",
        "jsonb",
    ];
    let enums = env_usize("ENUMS", 20);
    let mut sql = String::from(
        "CREATE ROLE bench_user;\n\
         CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
    );
    for e in 0..enums {
        sql.push_str(&format!(
            "CREATE TYPE status_{e} AS ENUM ('new', 'active', 'closed', 'archived_{e}');\n"
        ));
    }
    for t in 0..tables {
        sql.push_str(&format!("CREATE TABLE items_{t} (id bigint PRIMARY KEY"));
        for c in 1..columns {
            let status = format!("status_{}", t % enums.max(1));
            let ty = if c == 1 {
                status.as_str()
            } else {
                types[(t + c) % types.len()]
            };
            let null = if c % 3 == 0 {
                " NOT NULL DEFAULT 0::text"
            } else {
                ""
            };
            let null = if ty == "text" { null } else { "" };
            sql.push_str(&format!(", col_{c} {ty}{null}"));
        }
        sql.push_str(");\n");
        if t % 10 == 0 {
            sql.push_str(&format!(
                "CREATE INDEX items_{t}_col_2 ON items_{t} (col_2);\n\
                 ALTER TABLE items_{t} ENABLE ROW LEVEL SECURITY;\n\
                 CREATE POLICY items_{t}_read ON items_{t} FOR SELECT TO bench_user USING (id > 0);\n\
                 CREATE TRIGGER items_{t}_stamp BEFORE UPDATE ON items_{t} \
                 FOR EACH ROW EXECUTE FUNCTION stamp();\n"
            ));
        }
    }
    let pg = PgCluster::start();
    let url = RedactedUrl::new(pg.create_database("bench"));
    pg.psql("bench", &sql);
    let filter = SchemaFilter::default();

    let t0 = Instant::now();
    let db = introspect(&url, &filter).expect("introspect");
    let introspect_s = t0.elapsed().as_secs_f64();
    let ncols: usize = db.relations.values().map(|r| r.columns.len()).sum();

    let dir = tempfile::tempdir().unwrap();
    let empty = read_dir(dir.path(), "schemas").unwrap();
    let t0 = Instant::now();
    let plan = plan_update(
        dir.path(),
        &db,
        &empty,
        &Options::default(),
        Dialect::Postgres,
        "2026-01-01T00:00:00Z",
        false,
    )
    .unwrap();
    apply_update(dir.path(), &plan).unwrap();
    let generate_s = t0.elapsed().as_secs_f64();
    let bytes: usize = plan.files.values().map(String::len).sum();

    // A migration: one column more in every tenth table.
    let mut alter = String::new();
    for t in (0..tables).step_by(10) {
        alter.push_str(&format!("ALTER TABLE items_{t} ADD COLUMN extra text;\n"));
    }
    pg.psql("bench", &alter);

    let t0 = Instant::now();
    let db2 = introspect(&url, &filter).expect("introspect");
    let t1 = Instant::now();
    let repo = read_dir(dir.path(), "schemas").unwrap();
    let t2 = Instant::now();
    let changes = compare(&db2, &repo, &Options::default(), Dialect::Postgres);
    let t3 = Instant::now();
    assert_eq!(changes.len(), tables.div_ceil(10));
    println!(
        "schema: {} tables, {ncols} columns, {} enum(s), {} policies, {} triggers; modules {} KiB",
        db.relations.len(),
        db.enums.len(),
        db.relations
            .values()
            .map(|r| r.policies.len())
            .sum::<usize>(),
        db.relations
            .values()
            .map(|r| r.triggers.len())
            .sum::<usize>(),
        bytes / 1024
    );
    println!("introspect (first)           {introspect_s:.3} s");
    println!("generate + write modules     {generate_s:.3} s");
    println!(
        "introspect                   {:.3} s",
        (t1 - t0).as_secs_f64()
    );
    println!(
        "parse Python modules         {:.3} s",
        (t2 - t1).as_secs_f64()
    );
    println!(
        "diff ({} findings)           {:.3} s",
        changes.len(),
        (t3 - t2).as_secs_f64()
    );
    println!(
        "introspect + parse + diff    {:.3} s (target < 1 s, PROFILE=release)",
        (t3 - t0).as_secs_f64()
    );
}
