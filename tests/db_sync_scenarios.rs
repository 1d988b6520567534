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

/// A sync into PostgreSQL whose transaction cannot commit: nothing of the
/// batch is in the table, every copy is reported failed, the base is not
/// advanced, and once the cause is gone the next run converges. Two causes:
/// a statement failing inside the transaction (PostgreSQL then answers
/// COMMIT with a silent ROLLBACK) and a deferred constraint failing at COMMIT.
#[test]
fn postgres_side_takes_a_batch_whole_or_not_at_all() {
    use driftsync_core::report::ActionOutcome;
    use driftsync_engine::{sync, Silent, SyncOptions};
    use driftsync_replica::local::LocalReplica;

    let pg = PgCluster::start();
    for (db, timing) in [
        ("immediate", ""),
        ("deferred", "DEFERRABLE INITIALLY DEFERRED"),
    ] {
        let url = pg.create_database(db);
        let right = DbReplica::open(&format!("{url}?table=docs"), Path::new("/")).unwrap();
        pg.psql(
            db,
            &format!(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.path = 'poison.txt' THEN RAISE EXCEPTION 'poison refused'; END IF; \
                 RETURN NEW; END $$; \
                 CREATE CONSTRAINT TRIGGER poison AFTER INSERT OR UPDATE ON docs {timing} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_poison();"
            ),
        );
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("files");
        for name in ["a.md", "b.md", "poison.txt", "sub/c.md"] {
            let p = files.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, name).unwrap();
        }
        let left = LocalReplica::new(&files);
        let mut opts = SyncOptions::new(dir.path().join("state.json"), dir.path().join("work"));
        opts.concurrency = 1;
        let out = sync(&left, &right, &opts, &Silent).unwrap();
        assert_eq!(out.records().len(), 4, "{db}: {:#?}", out.records());
        assert!(
            out.records()
                .iter()
                .all(|r| r.outcome == ActionOutcome::Failed),
            "{db}: every copy into the table failed with the batch: {:#?}",
            out.records()
        );
        assert_eq!(pg.psql(db, "SELECT count(*) FROM docs").trim(), "0", "{db}");

        std::fs::remove_file(files.join("poison.txt")).unwrap();
        let again = sync(&left, &right, &opts, &Silent).unwrap();
        assert!(again.clean(), "{db}: {:#?}", again.records());
        assert_eq!(pg.psql(db, "SELECT count(*) FROM docs").trim(), "3", "{db}");
    }
}
