//! The replica contract (`driftsync_replica::conformance`) on every flavour
//! of object store we can run here: a real S3-compatible server (moto) on
//! loopback, `object_store`'s in-memory store and its local file system.

use std::sync::atomic::{AtomicUsize, Ordering};

use driftsync_replica::conformance;
use driftsync_replica::Replica;
use driftsync_replica_object::{ObjectOptions, ObjectReplica};
use driftsync_testkit::s3::S3Server;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn options() -> ObjectOptions {
    ObjectOptions {
        // Small parts, so the suite's 6 MiB file goes through a multipart upload.
        part_size: 5 * 1024 * 1024,
        ..ObjectOptions::default()
    }
}

#[test]
fn s3_on_moto_passes_the_conformance_suite() {
    let server = S3Server::start();
    server.create_bucket("conformance");
    let env = server.env();
    conformance::run_all(&|| {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let url = format!("s3://conformance/run-{n}/");
        Box::new(ObjectReplica::open_with_env(&url, options(), &env).unwrap()) as Box<dyn Replica>
    });
}

#[test]
fn memory_passes_the_conformance_suite() {
    conformance::run_all(&|| Box::new(ObjectReplica::open("memory:", options()).unwrap()));
}

#[test]
fn local_file_system_passes_the_conformance_suite() {
    let root = tempfile::tempdir().unwrap();
    conformance::run_all(&|| {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = root.path().join(format!("run-{n}"));
        std::fs::create_dir(&dir).unwrap();
        let url = format!("file:{}", dir.display());
        Box::new(ObjectReplica::open(&url, options()).unwrap())
    });
}
