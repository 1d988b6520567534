//! The engine's scenario folders (`tests/scenarios/<case>/`) with the right
//! side a bucket prefix on a real S3-compatible server (moto), and with the
//! right side `object_store`'s in-memory store.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use driftsync_engine::scenarios;
use driftsync_replica_object::{ObjectOptions, ObjectReplica};
use driftsync_testkit::s3::S3Server;

fn root() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scenarios"
    ))
}

#[test]
fn scenarios_with_a_bucket_as_the_right_side() {
    let server = S3Server::start();
    server.create_bucket("scenarios");
    let env = server.env();
    let next = AtomicUsize::new(0);
    scenarios::run_all(root(), &|| {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let url = format!("s3://scenarios/case-{n}/");
        Box::new(ObjectReplica::open_with_env(&url, ObjectOptions::default(), &env).unwrap())
    });
}

#[test]
fn scenarios_with_object_store_memory_as_the_right_side() {
    scenarios::run_all(root(), &|| {
        Box::new(ObjectReplica::open("memory:", ObjectOptions::default()).unwrap())
    });
}
