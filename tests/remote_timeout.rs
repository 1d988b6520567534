//! `request_timeout` bounds one operation on every kind of remote, not only
//! buckets: a database table locked by another session fails the sync with a
//! clear timeout naming the URL (password hidden), and loses nothing; once
//! the lock is gone the next run syncs, and the one after does nothing.

mod cli_support;

use std::path::Path;

use cli_support::Repo;
use driftsync_replica_db::{Db, DbUrl};
use driftsync_testkit::PgCluster;

const PASSWORD: &str = "Pw-7f3k-Secret";

fn repo(remote: &str) -> Repo {
    let mut r = Repo::new();
    r.config(
        r#"version: "1.0"
targets:
  docs:
    type: sync
    local: docs/
    remote: "${DOCS_DB}"
    retries: 0
    request_timeout: 10s
"#,
    );
    r.env("DOCS_DB", remote);
    r.write("docs/a.md", "a v1\n");
    r.commit_all("docs");
    r
}

/// What the base and the local files hold, to prove a failed run kept them.
fn local_state(r: &Repo) -> (String, String, String) {
    (
        r.read(".driftsync/state/docs.json"),
        r.read("docs/a.md"),
        r.read("docs/c.md"),
    )
}

#[test]
fn a_postgres_table_locked_by_another_session_times_out_clearly_and_loses_nothing() {
    let pg = PgCluster::start();
    pg.psql(
        "postgres",
        &format!(
            "CREATE ROLE syncer LOGIN PASSWORD '{PASSWORD}'; CREATE DATABASE app OWNER syncer;"
        ),
    );
    let url = format!(
        "postgres://syncer:{PASSWORD}@127.0.0.1:{}/app?table=docs",
        pg.port()
    );
    let shown = format!("postgres://syncer:***@127.0.0.1:{}/app", pg.port());
    let r = repo(&url);
    let first = r.run(&["run"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let row = |path: &str| {
        pg.psql(
            "app",
            &format!("SELECT convert_from(content, 'UTF8') FROM docs WHERE path = '{path}'"),
        )
    };
    assert_eq!(row("a.md"), "a v1\n\n");

    // Edits in the repo, then another session takes the table.
    r.write("docs/a.md", "a v2\n").write("docs/c.md", "c new\n");
    let before = local_state(&r);
    let lock = pg.hold("app", "BEGIN; LOCK TABLE docs IN ACCESS EXCLUSIVE MODE;");
    let out = r.run(&["run"]);
    assert_ne!(out.code, 0, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("timed out after 10s (request_timeout"),
        "{all}"
    );
    assert!(all.contains(&shown), "the URL is named: {all}");
    assert!(!all.contains(PASSWORD), "{all}");
    assert!(!r.read(".driftsync/reports/report.json").contains(PASSWORD));
    assert_eq!(
        local_state(&r),
        before,
        "the failed run changed the repo side"
    );
    drop(lock);
    assert_eq!(row("a.md"), "a v1\n\n", "the table changed under the lock");
    assert_eq!(row("c.md"), "", "c.md reached the table under the lock");

    // The lock gone, the edits go through; the next run has nothing to do.
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(row("a.md"), "a v2\n\n");
    assert_eq!(row("c.md"), "c new\n\n");
    let again = r.run(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    let report = r.report();
    assert_eq!(
        report["results"][0]["actions"],
        serde_json::json!(null),
        "{report:#}"
    );
}

#[test]
fn an_sqlite_table_locked_by_another_writer_times_out_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docs.db");
    let url = format!("sqlite://{}?table=docs", file.display());
    let r = repo(&url);
    let first = r.run(&["run"]);
    assert_eq!(first.code, 0, "{}", first.all());

    r.write("docs/a.md", "a v2\n").write("docs/c.md", "c new\n");
    let before = local_state(&r);
    // Another writer holds SQLite's write lock.
    let mut other = Db::connect(&DbUrl::parse(&url, Path::new("/")).unwrap()).unwrap();
    other.begin().unwrap();
    let out = r.run(&["run"]);
    assert_ne!(out.code, 0, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("timed out after 10s (request_timeout"),
        "{all}"
    );
    assert!(
        all.contains(&format!("sqlite://{}", file.display())),
        "{all}"
    );
    assert_eq!(
        local_state(&r),
        before,
        "the failed run changed the repo side"
    );
    other.rollback();
    drop(other);

    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let again = r.run(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(r.report()["results"][0]["actions"], serde_json::json!(null));
}

/// A directory remote takes the same key: each file operation runs under the
/// deadline (a hung mount is reported, see the replica's own tests), and an
/// answering directory syncs as without it.
#[test]
fn a_directory_remote_with_a_deadline_syncs_both_ways() {
    let share = tempfile::tempdir().unwrap();
    std::fs::write(share.path().join("b.md"), "b remote\n").unwrap();
    let r = repo(&share.path().display().to_string());
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r.read("docs/b.md"), "b remote\n");
    assert_eq!(
        std::fs::read_to_string(share.path().join("a.md")).unwrap(),
        "a v1\n"
    );
    r.write("docs/a.md", "a v2\n");
    std::fs::write(share.path().join("b.md"), "b v2\n").unwrap();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r.read("docs/b.md"), "b v2\n");
    assert_eq!(
        std::fs::read_to_string(share.path().join("a.md")).unwrap(),
        "a v2\n"
    );
    let again = r.run(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(r.report()["results"][0]["actions"], serde_json::json!(null));
}
