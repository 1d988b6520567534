//! Backups inside the bucket and restoring them, on a real S3-compatible
//! server (moto) on loopback: the engine asks the bucket for a server-side
//! copy under `<backup_prefix><run>/` before it overwrites or deletes an
//! object, the scan never lists those copies, and `restore` puts them back
//! byte for byte.

use std::fs;

use driftsync_core::{Direction, RelPath, Side};
use driftsync_engine::backup::Manifest;
use driftsync_engine::restore::{self, Current, Source};
use driftsync_engine::{sync, Silent, SyncOptions};
use driftsync_replica::local::LocalReplica;
use driftsync_replica::{Replica, ScanRequest};
use driftsync_replica_object::{ObjectOptions, ObjectReplica};
use driftsync_testkit::s3::{FaultProxy, S3Server};

/// Bytes that are not UTF-8, to prove the round trip is byte-exact.
const ORIGINAL: &[u8] = b"first \xff\xfe version\n\x00end";

fn object_body(server: &S3Server, key: &str) -> Vec<u8> {
    let hex = server.python_eval(&format!(
        "print(s3.get_object(Bucket='site', Key={key:?})['Body'].read().hex())"
    ));
    (0..hex.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).unwrap())
        .collect()
}

fn push_opts(work: &std::path::Path) -> SyncOptions {
    let mut o = SyncOptions::new(work.join("state.json"), work.join(".driftsync"));
    o.plan.direction = Direction::Push;
    o.plan.delete_orphans = true;
    o.limits.max_delete = driftsync_core::guard::MaxDelete::Count(100);
    o
}

#[test]
fn overwritten_and_deleted_objects_are_copied_in_the_bucket_and_restored_byte_for_byte() {
    let server = S3Server::start();
    server.create_bucket("site");
    let proxy = FaultProxy::start(server.port());
    let env = driftsync_testkit::s3::env_for(
        &proxy.endpoint(),
        driftsync_testkit::s3::TEST_KEY_ID,
        driftsync_testkit::s3::TEST_SECRET,
    );
    let options = ObjectOptions {
        backup_prefix: "_bak/".into(),
        ..ObjectOptions::default()
    };
    let bucket = ObjectReplica::open_with_env("s3://site/www/", options, &env).unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("site");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("a.bin"), ORIGINAL).unwrap();
    fs::write(dir.join("gone.txt"), "to be deleted\n").unwrap();
    let local = LocalReplica::new(&dir);
    let opts = push_opts(work.path());

    let first = sync(&local, &bucket, &opts, &Silent).unwrap();
    assert!(first.clean(), "{:?}", first.records());
    assert_eq!(first.backed_up, 0, "nothing was overwritten yet");

    // Overwrite one object, delete the other.
    fs::write(dir.join("a.bin"), "second version\n").unwrap();
    fs::remove_file(dir.join("gone.txt")).unwrap();
    proxy.reset_counts();
    let second = sync(&local, &bucket, &opts, &Silent).unwrap();
    assert!(second.clean(), "{:?}", second.records());
    let run = second.run_id.clone();
    assert!(!run.is_empty());
    assert_eq!(second.backed_up, 2);
    // The copies are server-side: no object body came down to be backed up.
    assert_eq!(proxy.counts().get, 0, "{:?}", proxy.counts());
    let keys = server.keys("site");
    assert!(
        keys.contains(&format!("www/_bak/{run}/a.bin"))
            && keys.contains(&format!("www/_bak/{run}/gone.txt")),
        "{keys:?}"
    );
    assert!(!keys.contains(&"www/gone.txt".to_string()), "{keys:?}");
    assert_eq!(
        object_body(&server, &format!("www/_bak/{run}/a.bin")),
        ORIGINAL
    );
    // Nothing was copied locally for the bucket side; the manifest says where the copies are.
    assert!(!work
        .path()
        .join(".driftsync/backup")
        .join(&run)
        .join("right")
        .exists());
    let manifest = Manifest::load(&work.path().join(".driftsync"), &run)
        .unwrap()
        .expect("manifest written");
    assert_eq!(manifest.saved.len(), 2);
    assert_eq!(
        manifest.saved[0].copy.as_deref(),
        Some(format!("_bak/{run}/a.bin").as_str())
    );
    // The records say where each backup went.
    assert!(second.records().iter().any(|r| r.detail.as_deref()
        == Some(&format!("backed up to s3://site/www/_bak/{run}/a.bin")[..])));

    // A scan never lists the backups.
    let scan = bucket.scan(&ScanRequest::default()).unwrap();
    let listed: Vec<&str> = scan.snapshot.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(listed, ["a.bin"]);

    // The run shows up in the list; the plan says what it would overwrite.
    let reps: [&dyn Replica; 2] = [&local, &bucket];
    let runs = restore::list_runs(&work.path().join(".driftsync"), Some(reps)).unwrap();
    let this = runs.iter().find(|r| r.run == run).expect("run listed");
    assert_eq!((this.local, this.in_left, this.in_right), (0, 0, 2));
    let items = restore::plan(&work.path().join(".driftsync"), &run, reps).unwrap();
    let summary: Vec<(Side, &str, Current)> = items
        .iter()
        .map(|i| (i.side, i.path.as_str(), i.current))
        .collect();
    assert_eq!(
        summary,
        [
            (Side::Right, "a.bin", Current::Differs),
            (Side::Right, "gone.txt", Current::Absent)
        ]
    );
    assert!(
        matches!(&items[0].source, Source::Copy(c) if c.as_str() == format!("_bak/{run}/a.bin"))
    );

    let done = restore::apply(&work.path().join(".driftsync"), &items, reps).unwrap();
    assert!(done.iter().all(|r| matches!(r, Ok(true))), "{done:?}");
    assert_eq!(object_body(&server, "www/a.bin"), ORIGINAL);
    assert_eq!(object_body(&server, "www/gone.txt"), b"to be deleted\n");
    // Restoring again finds everything identical and writes nothing.
    let again = restore::plan(&work.path().join(".driftsync"), &run, reps).unwrap();
    assert!(again.iter().all(|i| i.current == Current::Same));

    // The next two-way sync sees the restored objects as ordinary remote changes.
    let mut both = push_opts(work.path());
    both.plan.direction = Direction::Bidirectional;
    let third = sync(&local, &bucket, &both, &Silent).unwrap();
    assert!(third.clean(), "{:?}", third.records());
    assert_eq!(fs::read(dir.join("a.bin")).unwrap(), ORIGINAL);
    assert_eq!(
        fs::read_to_string(dir.join("gone.txt")).unwrap(),
        "to be deleted\n"
    );
}

#[test]
fn a_run_without_backups_is_an_error_naming_where_it_looked() {
    let bucket = ObjectReplica::open("memory:", ObjectOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let local = LocalReplica::new(work.path());
    let err = restore::plan(work.path(), "20260101T000000Z-1", [&local, &bucket])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no backups") && err.contains("--list"),
        "{err}"
    );
    let err = restore::plan(work.path(), "../x", [&local, &bucket])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a run id"), "{err}");
    // A local backup of the left side is found and put back too.
    let saved = work.path().join("backup/R1/left/docs/x.md");
    fs::create_dir_all(saved.parent().unwrap()).unwrap();
    fs::write(&saved, "old\n").unwrap();
    let items = restore::plan(work.path(), "R1", [&local, &bucket]).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].path, RelPath::new("docs/x.md").unwrap());
    assert_eq!(items[0].current, Current::Absent);
}
