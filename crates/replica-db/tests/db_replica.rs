//! The document-table replica's contract, run on SQLite and on a real PostgreSQL.
//!
//! Each case gets a fresh database. PostgreSQL cases share one throwaway
//! cluster, started and stopped by `postgres_replica_contract`.

use std::io::Read;
use std::path::Path;

use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ReplicaError, ScanRequest, WriteMeta};
use driftsync_replica_db::{Db, DbReplica, DbUrl};
use driftsync_testkit::PgCluster;

fn p(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

fn meta(bytes: &[u8], mtime_ns: i64) -> WriteMeta {
    WriteMeta {
        size: bytes.len() as u64,
        hash: Hash::of(bytes),
        mtime_ns,
        executable: false,
    }
}

fn put(
    r: &dyn Replica,
    path: &str,
    bytes: &[u8],
    expect: Expect,
) -> Result<driftsync_core::SmallStr, ReplicaError> {
    r.write(
        &p(path),
        &mut &bytes[..],
        &meta(bytes, 1_700_000_000_123_456_789),
        &expect,
    )
    .map(|e| e.version)
}

fn get(r: &dyn Replica, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    r.read(&p(path)).unwrap().read_to_end(&mut out).unwrap();
    out
}

/// Every case, on a fresh database URL produced by `fresh`.
fn contract(fresh: &mut dyn FnMut() -> String, raw: &dyn Fn(&str, &str)) {
    // Create, scan, read back; metadata survives.
    let url = fresh();
    let r = DbReplica::open(&url, Path::new("/")).unwrap();
    assert!(r.scan(&ScanRequest::default()).unwrap().snapshot.is_empty());
    let v1 = put(&r, "a/b.txt", b"hello", Expect::Absent).unwrap();
    put(&r, "top.md", b"# top", Expect::Absent).unwrap();
    let scan = r.scan(&ScanRequest::default()).unwrap();
    let e = scan.snapshot.get(&p("a/b.txt")).unwrap();
    assert_eq!(
        (e.size, e.hash, e.version.as_str()),
        (5, Hash::of(b"hello"), v1.as_str())
    );
    assert_eq!(e.mtime_ns, 1_700_000_000_123_456_789);
    assert_eq!(get(&r, "a/b.txt"), b"hello");
    assert!(!r.location().contains(":postgres@"), "{}", r.location());

    // Absent refuses an existing row; Version refuses a stale version; the row is untouched.
    let err = put(&r, "a/b.txt", b"other", Expect::Absent).unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err}");
    let v2 = put(&r, "a/b.txt", b"hello v2", Expect::Version(v1.clone())).unwrap();
    assert_ne!(v1, v2);
    let err = put(&r, "a/b.txt", b"stale", Expect::Version(v1.clone())).unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err}");
    assert_eq!(get(&r, "a/b.txt"), b"hello v2");
    // A version on a row that is gone is a change too.
    let err = put(&r, "gone.txt", b"x", Expect::Version(v1.clone())).unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err}");

    // Delete and re-create never reuses a version (no ABA).
    r.remove(&p("top.md"), &Expect::Any).unwrap();
    let recreated = put(&r, "top.md", b"# top", Expect::Absent).unwrap();
    assert!(recreated.parse::<i64>().unwrap() > v2.parse::<i64>().unwrap());

    // Conditional delete.
    let err = r
        .remove(&p("a/b.txt"), &Expect::Version(v1.clone()))
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err}");
    r.remove(&p("a/b.txt"), &Expect::Version(v2)).unwrap();
    assert!(matches!(
        r.read(&p("a/b.txt")),
        Err(ReplicaError::NotFound { .. })
    ));
    // Removing what is gone, with no expectation, is done already.
    r.remove(&p("a/b.txt"), &Expect::Any).unwrap();
    r.remove(&p("a/b.txt"), &Expect::Absent).unwrap();
    put(&r, "any.bin", &[0, 255, 1], Expect::Any).unwrap();
    put(&r, "any.bin", &[9], Expect::Any).unwrap();
    assert_eq!(get(&r, "any.bin"), [9]);

    // Globs.
    put(&r, "docs/x.html", b"<p>", Expect::Absent).unwrap();
    put(&r, "docs/deep/y.html", b"<p>", Expect::Absent).unwrap();
    let include = vec!["**/*.html".to_string()];
    let exclude = vec!["docs/deep/**".to_string()];
    let scan = r
        .scan(&ScanRequest {
            include: &include,
            exclude: &exclude,
            ..ScanRequest::default()
        })
        .unwrap();
    let paths: Vec<&str> = scan.snapshot.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(paths, ["docs/x.html"]);

    // A batch is one transaction: rolled back, nothing happened; committed, all of it.
    r.begin_batch().unwrap();
    put(&r, "batch/1", b"1", Expect::Absent).unwrap();
    put(&r, "batch/2", b"2", Expect::Absent).unwrap();
    r.rollback_batch();
    assert!(matches!(
        r.read(&p("batch/1")),
        Err(ReplicaError::NotFound { .. })
    ));
    r.begin_batch().unwrap();
    put(&r, "batch/1", b"1", Expect::Absent).unwrap();
    put(&r, "batch/2", b"2", Expect::Absent).unwrap();
    r.commit_batch().unwrap();
    assert_eq!(get(&r, "batch/2"), b"2");

    // Reopening keeps data and does not re-run migrations.
    drop(r);
    let r = DbReplica::open(&url, Path::new("/")).unwrap();
    assert_eq!(get(&r, "batch/1"), b"1");

    // A row with an unsafe path is refused with a note, never listed.
    raw(
        &url,
        "INSERT INTO documents (path, content, sha256, size, modified_at, executable, version) \
         VALUES ('../escape', 'x', 'bad', 1, 0, FALSE, 999)",
    );
    let scan = r.scan(&ScanRequest::default()).unwrap();
    assert!(scan
        .snapshot
        .iter()
        .all(|(k, _)| !k.as_str().contains("..")));
    assert_eq!(scan.notes.len(), 1, "{:?}", scan.notes);
    assert!(
        scan.notes[0].reason.contains("unsafe path"),
        "{:?}",
        scan.notes
    );

    // A named table lives beside the default one.
    let named = format!(
        "{url}{}table=notes",
        if url.contains('?') { "&" } else { "?" }
    );
    let n = DbReplica::open(&named, Path::new("/")).unwrap();
    assert!(n.scan(&ScanRequest::default()).unwrap().snapshot.is_empty());
    put(&n, "only-in-notes", b"n", Expect::Absent).unwrap();
    assert!(matches!(
        r.read(&p("only-in-notes")),
        Err(ReplicaError::NotFound { .. })
    ));
}

#[test]
fn sqlite_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    driftsync_replica::conformance::run_all(&|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let url = format!("sqlite://{}/c{i}.db?table=docs", dir.path().display());
        Box::new(DbReplica::open(&url, Path::new("/")).unwrap())
    });
}

#[test]
fn sqlite_replica_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut i = 0;
    let base = dir.path().to_path_buf();
    contract(
        &mut || {
            i += 1;
            format!("sqlite://{}/db{i}/docs.db", base.display())
        },
        &|url, sql| {
            let mut db = Db::connect(&DbUrl::parse(url, Path::new("/")).unwrap()).unwrap();
            db.batch(sql).unwrap();
        },
    );
}

#[test]
fn sqlite_relative_path_is_under_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let r = DbReplica::open("sqlite://.driftsync/space.db?table=docs", dir.path()).unwrap();
    put(&r, "x", b"x", Expect::Absent).unwrap();
    assert!(dir.path().join(".driftsync/space.db").is_file());
}

#[test]
fn sqlite_unopenable_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "not a folder").unwrap();
    let url = format!("sqlite://{}/file/x.db", dir.path().display());
    let err = DbReplica::open(&url, Path::new("/"))
        .err()
        .expect("must fail");
    assert!(err.is_environment(), "{err}");
}

#[test]
fn postgres_replica_contract() {
    let pg = PgCluster::start();
    let mut i = 0;
    let n = std::sync::atomic::AtomicUsize::new(0);
    driftsync_replica::conformance::run_all(&|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let url = pg.create_database(&format!("conformance{i}"));
        Box::new(DbReplica::open(&url, Path::new("/")).unwrap())
    });
    contract(
        &mut || {
            i += 1;
            pg.create_database(&format!("replica{i}"))
        },
        &|url, sql| {
            let db = url.rsplit('/').next().unwrap();
            pg.psql(db, sql);
        },
    );

    // Unreachable: a closed port; wrong password. The password never shows.
    let closed = format!(
        "postgres://app:s3cr3t-pw@127.0.0.1:{}/x",
        driftsync_testkit::free_port()
    );
    let err = DbReplica::open(&closed, Path::new("/"))
        .err()
        .expect("must fail");
    assert!(matches!(err, ReplicaError::Unavailable { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("s3cr3t-pw") && text.contains("app:***@"),
        "{text}"
    );
    let wrong = format!(
        "postgres://postgres:wrong-pw@127.0.0.1:{}/postgres",
        pg.port()
    );
    let err = DbReplica::open(&wrong, Path::new("/"))
        .err()
        .expect("must fail");
    assert!(err.is_environment(), "{err}");
    assert!(!format!("{err} {err:?}").contains("wrong-pw"));
    let missing = pg.url("no_such_db");
    let err = DbReplica::open(&missing, Path::new("/"))
        .err()
        .expect("must fail");
    assert!(matches!(err, ReplicaError::Unavailable { .. }), "{err}");
}

fn ssl_in_use(url: &str) -> Result<bool, String> {
    let mut db =
        Db::connect(&DbUrl::parse(url, Path::new("/")).unwrap()).map_err(|e| e.to_string())?;
    let rows = db
        .query(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .map_err(|e| e.to_string())?;
    Ok(rows[0][0].bool())
}

/// `sslmode` as libpq means it, against a real TLS-enabled cluster with a
/// self-signed certificate: require encrypts without checking, verify-full
/// checks chain and host against `sslrootcert`, a wrong root is refused with
/// the URL named and the password hidden, disable stays in plain text.
#[test]
fn postgres_tls_modes() {
    let (pg, ca) = PgCluster::start_tls();
    let url = pg.create_database("tls");
    let ca = ca.display();
    assert!(ssl_in_use(&format!("{url}?sslmode=require")).unwrap());
    assert!(ssl_in_use(&format!("{url}?sslmode=verify-full&sslrootcert={ca}")).unwrap());
    assert!(ssl_in_use(&format!("{url}?sslmode=verify-ca&sslrootcert={ca}")).unwrap());
    assert!(
        ssl_in_use(&url).unwrap(),
        "prefer (the default) uses TLS when offered"
    );
    assert!(!ssl_in_use(&format!("{url}?sslmode=disable")).unwrap());

    // A root that did not sign the server's certificate.
    let other = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=someone else"])
        .arg("-keyout")
        .arg(other.path().join("k.pem"))
        .arg("-out")
        .arg(other.path().join("ca.pem"))
        .output()
        .expect("openssl (apt-get install openssl)");
    assert!(status.status.success());
    let wrong = format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        other.path().join("ca.pem").display()
    );
    let err = ssl_in_use(&wrong).unwrap_err();
    assert!(err.contains("certificate verify failed"), "{err}");
    assert!(
        err.contains("127.0.0.1") && !err.contains(":postgres@"),
        "{err}"
    );

    // The replica works the same over TLS.
    let r = DbReplica::open(&format!("{url}?sslmode=require&table=docs"), Path::new("/")).unwrap();
    put(&r, "over/tls.txt", b"encrypted", Expect::Absent).unwrap();
    assert_eq!(get(&r, "over/tls.txt"), b"encrypted");
}

#[test]
fn postgres_require_against_a_plain_server_is_refused() {
    let pg = PgCluster::start();
    let url = pg.create_database("plain");
    let err = ssl_in_use(&format!("{url}?sslmode=require")).unwrap_err();
    assert!(
        err.to_lowercase().contains("tls") || err.contains("SSL"),
        "{err}"
    );
    assert!(!err.contains(":postgres@"), "password hidden: {err}");
    assert!(
        !ssl_in_use(&url).unwrap(),
        "prefer falls back to plain text"
    );
}
