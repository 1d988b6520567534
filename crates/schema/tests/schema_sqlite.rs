//! SQLite schemas: generate the modules from one schema, change the database,
//! check the findings; generated code compiles, passes mypy --strict and black.

mod common;

use std::path::Path;

use common::Generated;
use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::DbSchema;
use driftsync_schema::{introspect, Dialect, Options, SchemaFilter};

fn sqlite(dir: &Path, name: &str, sql: &str) -> DbSchema {
    let path = dir.join(format!("{name}.db"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    introspect(
        &RedactedUrl::new(format!("sqlite://{}", path.display())),
        &SchemaFilter::default(),
    )
    .unwrap()
}

const BLOG: &str = "
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name VARCHAR(80),
  karma REAL DEFAULT 0.0,
  avatar BLOB,
  active BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  body TEXT,
  score NUMERIC,
  slug TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL
);
CREATE INDEX posts_author ON posts(author_id);
CREATE TABLE tags (name TEXT PRIMARY KEY, weight INT) WITHOUT ROWID;
CREATE TABLE \"odd table\" (\"first name\" TEXT, \"class\" INTEGER);
CREATE VIEW popular AS SELECT id, title FROM posts WHERE score > 10;
";

/// (name, SQL applied after BLOG, expected `severity code object` lines)
const CASES: &[(&str, &str, &[&str])] = &[
    ("same", "", &[]),
    (
        "column_added",
        "ALTER TABLE users ADD COLUMN bio TEXT;",
        &["medium column-added main.users.bio"],
    ),
    (
        "table_dropped",
        "DROP VIEW popular; DROP TABLE tags;",
        &["critical view-removed main.popular", "critical table-removed main.tags"],
    ),
    (
        "type_and_nullability",
        "DROP TABLE tags; CREATE TABLE tags (name TEXT PRIMARY KEY, weight REAL NOT NULL) WITHOUT ROWID;",
        &[
            "high column-type-changed main.tags.weight",
            "medium column-nullability-changed main.tags.weight",
        ],
    ),
    (
        "new_table_and_index",
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts(id)); CREATE INDEX users_name ON users(name);",
        &["low table-added main.comments", "low index-added main.users.users_name"],
    ),
    (
        "column_dropped",
        "ALTER TABLE users DROP COLUMN avatar;",
        &["critical column-removed main.users.avatar"],
    ),
];

#[test]
fn schema_sqlite_findings_per_change() {
    let tmp = tempfile::tempdir().unwrap();
    let base = sqlite(tmp.path(), "base", BLOG);
    assert_eq!(base.relations.len(), 5);
    let users = &base.relations["main.users"];
    assert!(
        !users.column("id").unwrap().nullable,
        "INTEGER PRIMARY KEY is never NULL"
    );
    assert_eq!(
        users
            .constraints
            .values()
            .map(|c| c.definition.as_str())
            .collect::<Vec<_>>(),
        ["UNIQUE (email)", "PRIMARY KEY (id)"]
    );
    assert_eq!(
        base.relations["main.posts"].constraints["posts_author_id_fkey"].definition,
        "FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE"
    );
    assert_eq!(base.relations["main.tags"].options, ["without rowid"]);
    let package = tmp.path().join("gen_blog");
    let generated = Generated::update_with(&package, &base, Dialect::Sqlite, &Options::default());
    let tables = std::fs::read_to_string(package.join("tables.py")).unwrap();
    assert!(tables.contains("class UserRow(TypedDict):"), "{tables}");
    assert!(
        tables.contains("    score: int | float | None  # sql: NUMERIC\n"),
        "{tables}"
    );
    assert!(tables.contains("OddTableRow = TypedDict(\n"), "{tables}");
    assert!(
        tables.contains("        \"first name\": str | None,  # sql: TEXT\n"),
        "{tables}"
    );
    for (name, change, expected) in CASES {
        let db = sqlite(tmp.path(), name, &format!("{BLOG}{change}"));
        assert_eq!(generated.finding_lines(&db), *expected, "case {name}");
    }
    common::python_checks(&[package]);
}

#[test]
fn schema_sqlite_missing_file_is_unreachable() {
    let err = introspect(
        &RedactedUrl::new("sqlite:///nonexistent/dir/x.db"),
        &SchemaFilter::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, driftsync_schema::SchemaError::Unreachable { .. }),
        "{err}"
    );
}
