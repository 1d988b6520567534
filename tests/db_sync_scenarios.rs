//! The engine's scenario folders (`tests/scenarios/<case>/`) with the right
//! side a document table: in SQLite and in a real PostgreSQL cluster.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use driftsync_engine::scenarios;
use driftsync_replica_db::DbReplica;
use driftsync_testkit::PgCluster;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios"))
}

#[test]
fn db_scenarios_with_sqlite_right_side() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    scenarios::run_all(root(), &|| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let url = format!("sqlite://{}/s{i}.db?table=docs", dir.path().display());
        Box::new(DbReplica::open(&url, Path::new("/")).expect("open SQLite"))
    });
}

#[test]
fn db_scenarios_with_postgres_right_side() {
    let pg = PgCluster::start();
    let n = AtomicUsize::new(0);
    scenarios::run_all(root(), &|| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let url = pg.create_database(&format!("scenario{i}"));
        Box::new(
            DbReplica::open(&format!("{url}?table=docs"), Path::new("/")).expect("open PostgreSQL"),
        )
    });
}
