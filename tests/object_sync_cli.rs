//! `driftsync sync DIR s3://BUCKET/PREFIX/` as a user runs it, against a real
//! S3-compatible server (moto) on loopback, with a fault-injecting proxy in
//! front where the test disturbs the run.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use driftsync_testkit::s3::{env_for, put_object, FaultProxy, S3Server, TEST_KEY_ID, TEST_SECRET};

fn driftsync(dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftsync"));
    c.current_dir(dir).args(args).env("CI", "true");
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run driftsync")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write_tree(dir: &Path, files: &[(String, String)]) {
    for (p, body) in files {
        let path = dir.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body).unwrap();
    }
}

fn files(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("site/d{}/f{i}.txt", i % 4),
                format!("content {i}\n"),
            )
        })
        .collect()
}

/// Paths recorded in the base (`.driftsync` state file).
fn base_paths(state: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(state).unwrap()).unwrap();
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(map) = v.as_object() {
            for (k, child) in map {
                if child.get("hash").is_some() || child.get("left").is_some() {
                    out.push(k.clone());
                } else {
                    walk(child, out);
                }
            }
        }
    }
    // State format 2: one `[path, size, hash, left, right]` row per file.
    for row in v["files"].as_array().into_iter().flatten() {
        out.extend(row[0].as_str().map(String::from));
    }
    walk(&v["base"], &mut out);
    out.sort();
    out.dedup();
    out
}

#[test]
fn push_then_nothing_to_do() {
    let server = S3Server::start();
    server.create_bucket("site");
    let repo = tempfile::tempdir().unwrap();
    write_tree(repo.path(), &files(12));
    let args = ["sync", "site", "s3://site/www/", "--state", "st.json"];
    let out = driftsync(repo.path(), &args, &server.env());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let keys = server.keys("site");
    assert_eq!(keys.len(), 12, "{keys:?}");
    assert!(keys.contains(&"www/d1/f5.txt".to_string()), "{keys:?}");
    // A second run finds nothing to do.
    let again = driftsync(
        repo.path(),
        &[&args[..], &["--json"]].concat(),
        &server.env(),
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let doc: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(doc["actions"].as_array().map(Vec::len), Some(0), "{doc}");
    // An edit in the bucket comes back down.
    server.put_raw("site", "www/d0/f0.txt", b"edited in the bucket\n");
    let pull = driftsync(repo.path(), &args, &server.env());
    assert_eq!(pull.status.code(), Some(0), "{}", text(&pull));
    assert_eq!(
        fs::read_to_string(repo.path().join("site/d0/f0.txt")).unwrap(),
        "edited in the bucket\n"
    );
}

#[test]
fn a_concurrent_writer_during_a_sync_is_detected_and_the_next_run_converges() {
    let server = S3Server::start();
    server.create_bucket("race");
    let repo = tempfile::tempdir().unwrap();
    write_tree(
        repo.path(),
        &[("site/settings.json".into(), "{\"v\":1}\n".into())],
    );
    let args = ["sync", "site", "s3://race/", "--state", "st.json"];
    let out = driftsync(repo.path(), &args, &server.env());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The local copy is edited; while driftsync uploads it, someone else
    // replaces the object in the bucket.
    fs::write(repo.path().join("site/settings.json"), "{\"v\":2}\n").unwrap();
    let proxy = FaultProxy::start(server.port());
    let endpoint = server.endpoint();
    let mut fired = false;
    proxy.on_request(move |method, target| {
        if method == "PUT" && target.contains("settings.json") && !fired {
            fired = true;
            put_object(
                &endpoint,
                TEST_KEY_ID,
                TEST_SECRET,
                "race",
                "settings.json",
                b"{\"v\":\"theirs\"}\n",
            );
        }
    });
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let out = driftsync(repo.path(), &args, &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("settings.json") && shown.contains("skipped"),
        "{shown}"
    );
    // Their write survived.
    let keys = server.python_eval(
        "print(s3.get_object(Bucket='race', Key='settings.json')['Body'].read().decode())",
    );
    assert_eq!(keys.trim_end(), "{\"v\":\"theirs\"}");

    // Next run: both sides changed since the base — a conflict the policy
    // settles; with `remote` the bucket's version wins and ours is backed up.
    let next = driftsync(
        repo.path(),
        &[&args[..], &["--on-conflict", "remote"]].concat(),
        &server.env(),
    );
    assert_eq!(next.status.code(), Some(0), "{}", text(&next));
    assert_eq!(
        fs::read_to_string(repo.path().join("site/settings.json")).unwrap(),
        "{\"v\":\"theirs\"}\n"
    );
    let last = driftsync(
        repo.path(),
        &[&args[..], &["--json"]].concat(),
        &server.env(),
    );
    let doc: serde_json::Value = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(doc["actions"].as_array().map(Vec::len), Some(0), "{doc}");
}

#[test]
fn thirty_percent_503_still_converges() {
    let server = S3Server::start();
    server.create_bucket("flaky");
    let repo = tempfile::tempdir().unwrap();
    write_tree(repo.path(), &files(30));
    let proxy = FaultProxy::start(server.port());
    proxy.fail_percent(30);
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let args = [
        "sync",
        "site",
        "s3://flaky/",
        "--state",
        "st.json",
        "--retries",
        "10",
    ];
    let out = driftsync(repo.path(), &args, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.keys("flaky").len(), 30);
    assert!(proxy.counts().injected_503 >= 5, "{:?}", proxy.counts());
    let again = driftsync(repo.path(), &[&args[..], &["--json"]].concat(), &env);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let doc: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(doc["actions"].as_array().map(Vec::len), Some(0), "{doc}");
}

#[test]
fn server_dying_mid_run_exits_1_with_a_consistent_base_and_the_rerun_converges() {
    let server = S3Server::start();
    server.create_bucket("dies");
    let repo = tempfile::tempdir().unwrap();
    write_tree(repo.path(), &files(24));
    let proxy = Arc::new(FaultProxy::start(server.port()));
    let puts = Arc::new(Mutex::new(0usize));
    {
        let proxy2 = Arc::clone(&proxy);
        let puts = Arc::clone(&puts);
        proxy.on_request(move |method, _| {
            if method == "PUT" {
                let mut n = puts.lock().unwrap();
                *n += 1;
                if *n == 8 {
                    // From the 8th upload on, the server is gone.
                    proxy2.set_down(true);
                }
            }
        });
    }
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let args = [
        "sync",
        "site",
        "s3://dies/",
        "--state",
        "st.json",
        "--retries",
        "1",
        "--concurrency",
        "2",
    ];
    let out = driftsync(repo.path(), &args, &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // The base records exactly files the server acknowledged, nothing else.
    let stored: Vec<String> = proxy
        .successful_puts()
        .iter()
        .map(|t| {
            t.trim_start_matches("/dies/")
                .split('?')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let base = base_paths(&repo.path().join("st.json"));
    assert!(!base.is_empty() && base.len() < 24, "base: {base:?}");
    for p in &base {
        assert!(
            stored.contains(p),
            "{p} is in the base but was never stored: {stored:?}"
        );
    }

    // The server comes back; the rerun finishes the job.
    proxy.set_down(false);
    proxy.on_request(|_, _| {});
    let out = driftsync(repo.path(), &args, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.keys("dies").len(), 24);
}

fn assert_env_error(out: &Output, url: &str, secret: &str) {
    let shown = text(out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains(url),
        "the message should name {url}: {shown}"
    );
    assert!(!shown.contains(secret), "secret leaked: {shown}");
}

#[test]
fn wrong_bucket_bad_credentials_and_unreachable_endpoint_exit_2() {
    let secret = "sEcReT-DoNoTpRiNt-42";
    let repo = tempfile::tempdir().unwrap();
    write_tree(repo.path(), &files(2));

    let server = S3Server::start_with_auth();
    server.create_bucket("real");
    let mut env = server.env();
    let good_secret = server.env()[1].1.clone();
    let out = driftsync(
        repo.path(),
        &[
            "sync",
            "site",
            "s3://missing-bucket/p/",
            "--retries",
            "0",
            "--state",
            "st.json",
        ],
        &env,
    );
    assert_env_error(&out, "s3://missing-bucket/p/", &good_secret);

    env = env_for(&server.endpoint(), "AKIAEXAMPLEBADKEY", secret);
    let out = driftsync(
        repo.path(),
        &[
            "sync",
            "site",
            "s3://real/",
            "--retries",
            "0",
            "--state",
            "st.json",
        ],
        &env,
    );
    assert_env_error(&out, "s3://real/", secret);

    let dead = driftsync_testkit::free_port();
    env = env_for(&format!("http://127.0.0.1:{dead}"), TEST_KEY_ID, secret);
    let out = driftsync(
        repo.path(),
        &[
            "sync",
            "site",
            "s3://real/",
            "--retries",
            "0",
            "--state",
            "st.json",
        ],
        &env,
    );
    assert_env_error(&out, "s3://real/", secret);

    // Nothing was written anywhere.
    assert!(server.keys("real").is_empty());
    let listing: BTreeMap<String, ()> = fs::read_dir(repo.path())
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), ()))
        .collect();
    assert!(!listing.contains_key("st.json"), "{listing:?}");
}

#[test]
fn a_file_bucket_whose_folder_is_missing_is_named_and_not_created() {
    let repo = tempfile::tempdir().unwrap();
    write_tree(repo.path(), &files(2));
    let missing = repo.path().join("no-such-share");
    let url = format!("file:{}", missing.display());
    let out = driftsync(
        repo.path(),
        &["sync", "site", &url, "--state", "st.json"],
        &[],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains(&format!("the folder {} does not exist", missing.display())),
        "{shown}"
    );
    assert!(!missing.exists(), "a typo is not made into a bucket");
    assert!(!repo.path().join("st.json").exists(), "no base written");
}
