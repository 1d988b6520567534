//! Benchmark: push 10,000 small files to a local S3-compatible server (moto)
//! with 1 and with 8 concurrent transfers, then rescan them against the
//! first scan and count the requests by type. Run through `bench/object_push.sh`.
//!
//! Optional arguments: FILES (default 10000), LATENCY_MS added per request by
//! the proxy to stand in for a network round trip (default 0).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ScanRequest, WriteMeta};
use driftsync_replica_object::{ObjectOptions, ObjectReplica};
use driftsync_testkit::s3::{env_for, FaultProxy, S3Server, TEST_KEY_ID, TEST_SECRET};

fn push(r: &ObjectReplica, files: usize, threads: usize, tag: &str) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= files {
                    break;
                }
                let body = format!("{tag} file {i}\n");
                let meta = WriteMeta {
                    size: body.len() as u64,
                    hash: Hash::of(body.as_bytes()),
                    mtime_ns: 0,
                    executable: false,
                };
                let path = RelPath::new(format!("d{}/f{i}.txt", i % 100)).unwrap();
                r.write(&path, &mut body.as_bytes(), &meta, &Expect::Absent)
                    .unwrap_or_else(|e| panic!("write {path}: {e}"));
            });
        }
    });
    start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files: usize = args.get(1).map_or(10_000, |s| s.parse().expect("FILES"));
    let latency_ms: u64 = args.get(2).map_or(0, |s| s.parse().expect("LATENCY_MS"));
    // DRIFTSYNC_BENCH_S3S_FS=path/to/s3s-fs measures against a multi-threaded
    // Rust server instead of moto (one Python core).
    let s3s_fs = std::env::var_os("DRIFTSYNC_BENCH_S3S_FS");
    let server = match &s3s_fs {
        Some(bin) => S3Server::start_s3s_fs(std::path::Path::new(bin)),
        None => S3Server::start(),
    };
    server.create_bucket("bench");
    let proxy = FaultProxy::start(server.port());
    proxy.delay_ms(latency_ms);
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let open = |prefix: &str| {
        ObjectReplica::open_with_env(
            &format!("s3://bench/{prefix}/"),
            ObjectOptions::default(),
            &env,
        )
        .unwrap()
    };

    println!("files: {files}, added latency per request: {latency_ms} ms");
    // One phase: push with `threads`, then say what it cost the server.
    let phase = |prefix: &str, threads: usize| {
        let r = open(prefix);
        proxy.reset_counts();
        let cpu = server.cpu_seconds();
        let t = push(&r, files, threads, prefix);
        let cpu = server.cpu_seconds() - cpu;
        let c = proxy.counts();
        println!(
            "push, concurrency {threads}: {t:.1} s ({:.0} files/s); requests per file: {:.2} \
             (PUT {} HEAD {} GET {} POST {}); server CPU {cpu:.1} s = {:.0} % of one core, \
             {:.1} ms per file",
            files as f64 / t,
            c.total() as f64 / files as f64,
            c.put,
            c.head,
            c.get,
            c.post,
            100.0 * cpu / t,
            1000.0 * cpu / files as f64,
        );
        (r, t)
    };
    let (_r1, t1) = phase("c1", 1);
    let (r8, t8) = phase("c8", 8);
    println!("speed-up: {:.1}x", t1 / t8);

    let first = r8.scan(&ScanRequest::default()).expect("first scan");
    assert_eq!(first.snapshot.len(), files);
    proxy.reset_counts();
    let start = Instant::now();
    let again = r8
        .scan(&ScanRequest {
            prior: Some(&first.snapshot),
            ..ScanRequest::default()
        })
        .expect("rescan");
    let t = start.elapsed().as_secs_f64();
    assert_eq!(again.snapshot, first.snapshot);
    let c = proxy.counts();
    println!(
        "rescan of {files} unchanged objects: {t:.1} s; requests: LIST {} GET {} HEAD {} PUT {} POST {} DELETE {}",
        c.list, c.get, c.head, c.put, c.post, c.delete
    );
    if s3s_fs.is_some() {
        // s3s-fs lists no ETags, so a rescan cannot trust a listing alone there.
        println!("(s3s-fs: its LIST carries no ETag, so each object is checked with HEAD)");
    } else {
        assert_eq!(c.total(), c.list, "rescan issued more than LIST requests");
    }
}
