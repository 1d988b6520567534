//! Behaviour specific to S3, against a real S3-compatible server (moto) on
//! loopback, with a counting and fault-injecting proxy in front where the
//! test needs to see or disturb the requests.

use std::io::Read;
use std::time::Duration;

use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ReplicaError, ScanRequest, WriteMeta};
use driftsync_replica_object::{ObjectOptions, ObjectReplica};
use driftsync_testkit::s3::{env_for, FaultProxy, S3Server, TEST_KEY_ID, TEST_SECRET};

fn p(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

fn meta(content: &[u8]) -> WriteMeta {
    WriteMeta {
        size: content.len() as u64,
        hash: Hash::of(content),
        mtime_ns: 1_700_000_000_000_000_000,
        executable: false,
    }
}

fn put(r: &ObjectReplica, path: &str, content: &[u8], expect: &Expect) -> driftsync_core::Entry {
    r.write(&p(path), &mut &content[..], &meta(content), expect)
        .unwrap_or_else(|e| panic!("write {path}: {e}"))
}

fn read(r: &ObjectReplica, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    r.read(&p(path)).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn through_proxy(server: &S3Server, url: &str, opts: ObjectOptions) -> (FaultProxy, ObjectReplica) {
    let proxy = FaultProxy::start(server.port());
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let r = ObjectReplica::open_with_env(url, opts, &env).unwrap();
    (proxy, r)
}

#[test]
fn rescan_of_unchanged_objects_lists_only() {
    let server = S3Server::start();
    server.create_bucket("quick");
    let (proxy, r) = through_proxy(&server, "s3://quick/site/", ObjectOptions::default());
    for i in 0..30 {
        put(
            &r,
            &format!("f{i:02}.txt"),
            format!("file {i}").as_bytes(),
            &Expect::Absent,
        );
    }
    proxy.reset_counts();
    let first = r.scan(&ScanRequest::default()).unwrap();
    assert_eq!(first.snapshot.len(), 30);
    assert_eq!(first.hashed, 0, "hashes come from metadata, not downloads");
    let c = proxy.counts();
    assert_eq!(
        (c.get, c.head),
        (0, 30),
        "a scan without a base HEADs each object once: {c:?}"
    );

    proxy.reset_counts();
    let again = r
        .scan(&ScanRequest {
            prior: Some(&first.snapshot),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(again.snapshot, first.snapshot);
    let c = proxy.counts();
    assert!(c.list >= 1, "{c:?}");
    assert_eq!(
        c.total(),
        c.list,
        "a rescan of unchanged objects issues LIST only: {c:?}"
    );
}

#[test]
fn hash_and_times_are_stored_as_object_metadata() {
    let server = S3Server::start();
    server.create_bucket("meta");
    let r = ObjectReplica::open_with_env("s3://meta/", ObjectOptions::default(), &server.env())
        .unwrap();
    let m = WriteMeta {
        executable: true,
        ..meta(b"#!/bin/sh\necho hi\n")
    };
    r.write(
        &p("bin/run.sh"),
        &mut &b"#!/bin/sh\necho hi\n"[..],
        &m,
        &Expect::Absent,
    )
    .unwrap();
    // Another S3 client sees the metadata under x-amz-meta-driftsync-*.
    let shown = server.python_eval(
        "h = s3.head_object(Bucket='meta', Key='bin/run.sh')['Metadata']\n\
         print(h['driftsync-sha256']); print(h['driftsync-mtime-ns']); print(h['driftsync-exec'])",
    );
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines,
        [m.hash.to_hex().as_str(), "1700000000000000000", "1"]
    );
}

#[test]
fn foreign_objects_without_metadata_are_hashed_by_download() {
    let server = S3Server::start();
    server.create_bucket("foreign");
    server.put_raw("foreign", "in/uploaded-by-console.txt", b"made elsewhere");
    let r =
        ObjectReplica::open_with_env("s3://foreign/in", ObjectOptions::default(), &server.env())
            .unwrap();
    let scan = r.scan(&ScanRequest::default()).unwrap();
    assert_eq!(scan.hashed, 1);
    let e = scan.snapshot.get(&p("uploaded-by-console.txt")).unwrap();
    assert_eq!(e.hash, Hash::of(b"made elsewhere"));
    assert_eq!(e.size, 14);
}

#[test]
fn unsafe_keys_in_the_bucket_are_refused() {
    let server = S3Server::start();
    server.create_bucket("evil");
    server.put_raw("evil", "ok.txt", b"fine");
    server.put_raw("evil", "../escape.txt", b"boom");
    let r = ObjectReplica::open_with_env("s3://evil/", ObjectOptions::default(), &server.env())
        .unwrap();
    match r.scan(&ScanRequest::default()) {
        Err(ReplicaError::InvalidPath { path, reason }) => {
            assert_eq!(path, "s3://evil/");
            assert!(reason.contains(".."), "{reason}");
        }
        other => panic!("expected the listing to be refused, got {other:?}"),
    }
}

#[test]
fn backups_folder_is_not_part_of_the_tree() {
    let server = S3Server::start();
    server.create_bucket("bkup");
    let r = ObjectReplica::open_with_env("s3://bkup/", ObjectOptions::default(), &server.env())
        .unwrap();
    put(&r, "a.txt", b"a", &Expect::Absent);
    server.put_raw("bkup", ".driftsync-backup/run-1/a.txt", b"old a");
    let scan = r.scan(&ScanRequest::default()).unwrap();
    let paths: Vec<&str> = scan.snapshot.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["a.txt"]);
}

#[test]
fn a_concurrent_writer_is_never_overwritten() {
    let server = S3Server::start();
    server.create_bucket("race");
    let r = ObjectReplica::open_with_env("s3://race/", ObjectOptions::default(), &server.env())
        .unwrap();
    let seen = put(&r, "settings.json", b"{\"v\":1}", &Expect::Absent);
    // Someone else replaces the object after our scan.
    server.put_raw("race", "settings.json", b"{\"v\":\"theirs\"}");
    let ours = b"{\"v\":2}";
    let err = r
        .write(
            &p("settings.json"),
            &mut &ours[..],
            &meta(ours),
            &Expect::Version(seen.version.clone()),
        )
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    let err = r
        .remove(&p("settings.json"), &Expect::Version(seen.version))
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    assert_eq!(read(&r, "settings.json"), b"{\"v\":\"theirs\"}");
    // And a create never replaces an object that appeared meanwhile.
    server.put_raw("race", "new.txt", b"theirs");
    let err = r
        .write(
            &p("new.txt"),
            &mut &b"ours"[..],
            &meta(b"ours"),
            &Expect::Absent,
        )
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    assert_eq!(read(&r, "new.txt"), b"theirs");
}

#[test]
fn content_that_does_not_match_its_hash_is_not_stored() {
    let server = S3Server::start();
    server.create_bucket("torn");
    let opts = ObjectOptions {
        part_size: 5 * 1024 * 1024,
        ..ObjectOptions::default()
    };
    let r = ObjectReplica::open_with_env("s3://torn/", opts, &server.env()).unwrap();
    let wrong = meta(b"what the scan saw");
    let err = r
        .write(
            &p("small"),
            &mut &b"what is there now"[..],
            &wrong,
            &Expect::Absent,
        )
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    let big = vec![7u8; 11 * 1024 * 1024];
    let mut m = meta(&big);
    m.hash = Hash::of(b"something else");
    let err = r
        .write(&p("big"), &mut &big[..], &m, &Expect::Absent)
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    assert!(server.keys("torn").is_empty(), "{:?}", server.keys("torn"));
}

#[test]
fn large_files_go_up_in_parts() {
    let server = S3Server::start();
    server.create_bucket("parts");
    let opts = ObjectOptions {
        part_size: 5 * 1024 * 1024,
        ..ObjectOptions::default()
    };
    let (proxy, r) = through_proxy(&server, "s3://parts/", opts);
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    proxy.reset_counts();
    let e = put(&r, "video.bin", &big, &Expect::Absent);
    let c = proxy.counts();
    // Create + complete (POST) and three parts (PUT), plus the absence re-check (HEAD).
    assert_eq!((c.post, c.put), (2, 3), "{c:?}");
    assert_eq!(e.hash, Hash::of(&big));
    assert!(read(&r, "video.bin") == big, "content differs");
    let scan = r.scan(&ScanRequest::default()).unwrap();
    assert_eq!(
        scan.snapshot.get(&p("video.bin")).unwrap().hash,
        Hash::of(&big)
    );
    assert_eq!(
        scan.hashed, 0,
        "multipart uploads carry the hash metadata too"
    );
}

#[test]
fn thirty_percent_of_requests_failing_with_503_still_converges() {
    let server = S3Server::start();
    server.create_bucket("flaky");
    let opts = ObjectOptions {
        retries: 12,
        ..ObjectOptions::default()
    };
    let (proxy, r) = through_proxy(&server, "s3://flaky/", opts);
    proxy.fail_percent(30);
    let mut versions = Vec::new();
    for i in 0..20 {
        let body = format!("body {i}");
        versions.push(put(&r, &format!("d/{i}.txt"), body.as_bytes(), &Expect::Absent).version);
    }
    let scan = r.scan(&ScanRequest::default()).unwrap();
    assert_eq!(scan.snapshot.len(), 20);
    for i in 0..20 {
        assert_eq!(
            read(&r, &format!("d/{i}.txt")),
            format!("body {i}").as_bytes()
        );
    }
    for (i, v) in versions.into_iter().enumerate().take(10) {
        r.remove(&p(&format!("d/{i}.txt")), &Expect::Version(v))
            .unwrap();
    }
    proxy.fail_percent(0);
    assert_eq!(server.keys("flaky").len(), 10);
    assert!(proxy.counts().injected_503 > 10, "{:?}", proxy.counts());
}

fn quick() -> ObjectOptions {
    ObjectOptions {
        retries: 1,
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        ..ObjectOptions::default()
    }
}

#[test]
fn wrong_bucket_is_unavailable_and_names_the_url() {
    let server = S3Server::start();
    let r = ObjectReplica::open_with_env("s3://no-such-bucket/x/", quick(), &server.env()).unwrap();
    let err = r.scan(&ScanRequest::default()).unwrap_err();
    assert!(matches!(err, ReplicaError::Unavailable { .. }), "{err:?}");
    assert!(err.is_environment());
    assert!(err.to_string().contains("s3://no-such-bucket/x/"), "{err}");
}

#[test]
fn bad_credentials_are_permission_denied_without_the_secret() {
    let server = S3Server::start_with_auth();
    server.create_bucket("locked");
    let good = ObjectReplica::open_with_env("s3://locked/", quick(), &server.env()).unwrap();
    good.scan(&ScanRequest::default()).unwrap();
    let secret = "sEcReT-DoNoTpRiNt-123";
    let env = env_for(&server.endpoint(), "AKIAEXAMPLEBADKEY", secret);
    let bad = ObjectReplica::open_with_env("s3://locked/", quick(), &env).unwrap();
    let err = bad.scan(&ScanRequest::default()).unwrap_err();
    assert!(
        matches!(err, ReplicaError::PermissionDenied { .. }),
        "{err:?}"
    );
    let shown = format!(
        "{err} {err:?} {:?}",
        std::error::Error::source(&err).map(|s| s.to_string())
    );
    assert!(shown.contains("s3://locked/"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
}

#[test]
fn unreachable_endpoint_is_unavailable() {
    let port = driftsync_testkit::free_port();
    let env = env_for(
        &format!("http://127.0.0.1:{port}"),
        TEST_KEY_ID,
        TEST_SECRET,
    );
    let r = ObjectReplica::open_with_env("s3://anything/", quick(), &env).unwrap();
    let err = r.scan(&ScanRequest::default()).unwrap_err();
    assert!(matches!(err, ReplicaError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("s3://anything/"), "{err}");
}
