//! A dry run (and `check`) against a database side creates nothing: no
//! SQLite file or folder, no table, no schema-version row; a database or table
//! that does not exist yet reads as an empty side.

mod cli_support;

use std::collections::BTreeMap;
use std::path::Path;

use cli_support::Repo;
use driftsync_replica_db::{Db, DbUrl};
use driftsync_testkit::PgCluster;

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn tables(file: &Path) -> Vec<String> {
    let url = DbUrl::parse(&format!("sqlite://{}", file.display()), Path::new("/")).unwrap();
    let mut db = Db::connect(&url).unwrap();
    db.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r[0].text().to_string())
    .collect()
}

#[test]
fn ad_hoc_dry_run_with_sqlite_creates_no_file_no_folder_no_table() {
    let r = Repo::new();
    r.write("docs/a.md", "a\n");
    let url = "sqlite://db/docs.db?table=docs";
    let out = r.run(&["sync", "docs", url, "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("+ left→right  a.md"), "{}", out.all());
    assert!(!r.exists("db"), "the dry run created the database folder");

    // A file that exists but holds another table: the table is not created.
    let other = r.p("other.db");
    {
        let u = DbUrl::parse(&format!("sqlite://{}", other.display()), Path::new("/")).unwrap();
        Db::connect(&u)
            .unwrap()
            .batch("CREATE TABLE notes (x TEXT)")
            .unwrap();
    }
    let before = std::fs::read(&other).unwrap();
    let out = r.run(&["sync", "docs", "sqlite://other.db?table=docs", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("+ left→right  a.md"), "{}", out.all());
    assert_eq!(
        tables(&other),
        ["notes"],
        "no table, no schema-version table"
    );
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "file bytes unchanged"
    );

    // A real sync creates it; then a dry run sees the table and changes nothing.
    let out = r.run(&["sync", "docs", url]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(r.exists("db/docs.db"));
    r.write("docs/a.md", "a, edited\n");
    let before = files(&r.p("db"));
    let out = r.run(&["sync", "docs", url, "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("~ left→right  a.md"), "{}", out.all());
    assert_eq!(
        files(&r.p("db")),
        before,
        "the database folder is unchanged"
    );
}

#[test]
fn ad_hoc_dry_run_with_postgres_creates_no_table() {
    let pg = PgCluster::start();
    let url = pg.create_database("dry");
    let r = Repo::new();
    r.write("docs/a.md", "a\n");
    let side = format!("{url}?table=docs");
    let out = r.run(&["sync", "docs", &side, "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("+ left→right  a.md"), "{}", out.all());
    let rel = |name: &str| {
        pg.psql(
            "dry",
            &format!("SELECT coalesce(to_regclass('{name}')::text, 'none')"),
        )
    };
    assert_eq!(rel("docs").trim(), "none", "the dry run created the table");
    assert_eq!(rel("driftsync_schema_version").trim(), "none");
    assert_eq!(rel("docs_version_seq").trim(), "none");

    // Once synced for real, a dry run reads the table and plans the edit.
    let out = r.run(&["sync", "docs", &side]);
    assert_eq!(out.code, 0, "{}", out.all());
    r.write("docs/a.md", "a, edited\n");
    let out = r.run(&["sync", "docs", &side, "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("~ left→right  a.md"), "{}", out.all());
    let content = pg.psql("dry", "SELECT convert_from(content, 'UTF8') FROM docs");
    assert_eq!(content, "a\n\n", "the dry run wrote nothing");
}

#[test]
fn run_dry_run_and_check_of_a_sync_target_with_a_sqlite_remote_create_nothing() {
    let r = Repo::new();
    r.write(
        ".driftsync/sync.yaml",
        "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs\n    remote: sqlite://store/docs.db?table=docs\n",
    );
    r.write("docs/a.md", "a\n");
    r.commit_all("config");
    let out = r.run(&["run", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!r.exists("store"), "run --dry-run created the database");
    let out = r.run(&["check"]);
    assert_eq!(
        out.code,
        1,
        "drift: a.md is not in the table\n{}",
        out.all()
    );
    assert!(out.all().contains("a.md"), "{}", out.all());
    assert!(!r.exists("store"), "check created the database");
}

#[test]
fn run_dry_run_and_check_of_a_bundle_target_leave_no_database_file() {
    let r = Repo::new();
    r.write(
        ".driftsync/sync.yaml",
        "version: \"1.0\"\ntargets:\n  frameworks:\n    type: bundle\n    direction: push\n    local: frameworks/\n",
    );
    r.write(
        "frameworks/nist/bundle.yaml",
        "name: nist\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml]\n",
    );
    r.write("frameworks/nist/rules.yaml", "rules: [x]\n");
    r.commit_all("bundle");
    let out = r.run(&["check"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("nist: only-local"), "{}", out.all());
    assert!(
        !r.exists(".driftsync/frameworks.db"),
        "check created the database"
    );
    let out = r.run(&["run", "--dry-run"]);
    assert!(out.all().contains("nist: only-local"), "{}", out.all());
    assert!(
        !r.exists(".driftsync/frameworks.db"),
        "run --dry-run created the database"
    );
    // A real run stores it; then check reads the existing file and sees no drift.
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(r.exists(".driftsync/frameworks.db"));
    let out = r.run(&["check"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
