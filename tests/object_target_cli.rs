//! Object-store sync targets and `driftsync restore` as a user runs them,
//! against a real S3-compatible server (moto) on loopback: backups inside the
//! bucket and restoring them, `validate:` holding back files that do not
//! parse, `after:` commands with the changed paths, and `request_timeout`.

mod cli_support;

use std::fs;
use std::path::Path;

use cli_support::{Out, Repo};
use driftsync_testkit::s3::{env_for, FaultProxy, S3Server, TEST_KEY_ID, TEST_SECRET};

fn repo_for(env: &[(String, String)], yaml: &str) -> Repo {
    let mut r = Repo::new();
    for (k, v) in env {
        r.env(k, v);
    }
    r.env("AWS_PROFILE", "none");
    r.write(".driftsync/sync.yaml", yaml);
    r
}

fn body(server: &S3Server, key: &str) -> String {
    server.python_eval(&format!(
        "import sys; sys.stdout.write(s3.get_object(Bucket='site', Key={key:?})['Body'].read().decode())"
    ))
}

/// The run id in a target's report message (`…; run <id>: N file(s) backed up…`).
fn run_id(r: &Repo) -> String {
    let rep = r.report();
    let msg = rep["results"][0]["message"].as_str().unwrap().to_string();
    let at = msg
        .find("; run ")
        .unwrap_or_else(|| panic!("no run id in {msg:?}"))
        + 6;
    msg[at..].split(':').next().unwrap().to_string()
}

fn ok(out: &Out) {
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn adhoc_sync_backs_up_inside_the_bucket_and_restore_puts_it_back() {
    let server = S3Server::start();
    server.create_bucket("site");
    let r = repo_for(&server.env(), "version: \"1.0\"\n");
    r.write("site/a.txt", "first version\n");
    r.write("site/b.txt", "will be deleted\n");
    let args = [
        "sync",
        "site",
        "s3://site/www/",
        "--direction",
        "push",
        "--delete-orphans",
        "--max-delete",
        "100",
    ];
    ok(&r.run(&args));
    r.write("site/a.txt", "second version\n");
    fs::remove_file(r.p("site/b.txt")).unwrap();
    let out = r.run(&[&args[..], &["--json"]].concat());
    ok(&out);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let run = doc["run"].as_str().unwrap().to_string();
    assert_eq!(doc["backed_up"], 2, "{doc}");
    let keys = server.keys("site");
    assert!(
        keys.contains(&format!("www/.driftsync-backup/{run}/a.txt"))
            && keys.contains(&format!("www/.driftsync-backup/{run}/b.txt")),
        "{keys:?}"
    );
    // The human summary names the run and how to undo it.
    r.write("site/a.txt", "third version\n");
    let human = r.run(&args);
    ok(&human);
    assert!(
        human.stderr.contains("; run ") && human.stderr.contains("undo: driftsync restore "),
        "{}",
        human.all()
    );

    let list = r.run(&["restore", "--list"]);
    ok(&list);
    assert!(list.stdout.contains(&run), "{}", list.all());

    let dry = r.run(&["restore", &run, "--dry-run"]);
    ok(&dry);
    assert!(
        dry.stdout.contains("would overwrite") && dry.stdout.contains("s3://site/www/a.txt"),
        "{}",
        dry.all()
    );
    assert!(
        dry.stdout.contains("would recreate") && dry.stdout.contains("s3://site/www/b.txt"),
        "{}",
        dry.all()
    );
    assert_eq!(
        body(&server, "www/a.txt"),
        "third version\n",
        "dry run wrote"
    );

    let done = r.run(&["restore", &run]);
    ok(&done);
    assert!(done.stderr.contains("2 file(s)"), "{}", done.all());
    assert_eq!(body(&server, "www/a.txt"), "first version\n");
    assert_eq!(body(&server, "www/b.txt"), "will be deleted\n");

    let unknown = r.run(&["restore", "20200101T000000Z-1"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(unknown.stderr.contains("--list"), "{}", unknown.all());
}

const TARGET: &str = r#"version: "1.0"
targets:
  assets:
    type: sync
    direction: push
    local: assets/
    remote: s3://site/assets/
    validate: [yaml, json]
    backup_prefix: .bak/
    after:
      - 'cp "$DRIFTSYNC_CHANGED" "$OUT_DIR/changed.txt"; echo "after for $DRIFTSYNC_TARGET"'
"#;

#[test]
fn a_target_holds_back_files_that_do_not_parse_runs_after_commands_and_restores() {
    let server = S3Server::start();
    server.create_bucket("site");
    let out_dir = tempfile::tempdir().unwrap();
    let mut r = repo_for(&server.env(), TARGET);
    r.env("OUT_DIR", out_dir.path().to_str().unwrap());
    r.write("assets/ok.yaml", "a: 1\n");
    r.write("assets/bad.yaml", "a: 1\nb: [\n");
    r.write("assets/bad.json", "{\n  \"a\": 1,\n}\n");
    r.write("assets/page.html", "<p>hi</p>\n");
    r.commit_all("assets");

    let first = r.run(&["run"]);
    assert_eq!(
        first.code,
        1,
        "held-back files fail the target: {}",
        first.all()
    );
    let keys = server.keys("site");
    assert_eq!(
        keys,
        ["assets/ok.yaml", "assets/page.html"],
        "{}",
        first.all()
    );
    let rep = r.report();
    let findings = rep["results"][0]["findings"].as_array().unwrap();
    let at: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("assets/bad.json".to_string(), 3),
            ("assets/bad.yaml".to_string(), 3)
        ],
        "{rep}"
    );
    assert!(
        findings[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("assets/bad.yaml:3:"),
        "{rep}"
    );
    let state = r.read(".driftsync/state/assets.json");
    assert!(
        !state.contains("bad.yaml"),
        "base advanced for a held-back file"
    );
    // The after command ran once with the changed paths.
    let changed = fs::read_to_string(out_dir.path().join("changed.txt")).unwrap();
    assert_eq!(changed, "remote\tok.yaml\nremote\tpage.html\n");
    assert!(
        rep["results"][0]["output_tail"]
            .as_str()
            .unwrap()
            .contains("after for assets"),
        "{rep}"
    );

    // Fixed files go; an edited one is first copied under the backup prefix.
    fs::remove_file(out_dir.path().join("changed.txt")).unwrap();
    r.write("assets/bad.yaml", "a: 1\nb: [2]\n");
    r.write("assets/bad.json", "{\"a\": 1}\n");
    r.write("assets/ok.yaml", "a: 2\n");
    let second = r.run(&["run"]);
    ok(&second);
    let run = run_id(&r);
    assert!(
        server
            .keys("site")
            .contains(&format!("assets/.bak/{run}/ok.yaml")),
        "{:?}",
        server.keys("site")
    );
    assert_eq!(body(&server, "assets/ok.yaml"), "a: 2\n");
    let changed = fs::read_to_string(out_dir.path().join("changed.txt")).unwrap();
    assert_eq!(
        changed,
        "remote\tbad.json\nremote\tbad.yaml\nremote\tok.yaml\n"
    );

    // Nothing changed: the after command does not run.
    fs::remove_file(out_dir.path().join("changed.txt")).unwrap();
    ok(&r.run(&["run"]));
    assert!(!out_dir.path().join("changed.txt").exists());

    // Without --target, the run's manifest names the copies under the custom prefix.
    let dry = r.run(&["restore", &run, "--dry-run"]);
    ok(&dry);
    assert!(
        dry.stdout.contains("would overwrite")
            && dry.stdout.contains(&format!(".bak/{run}/ok.yaml")),
        "{}",
        dry.all()
    );
    let list = r.run(&["restore", "--list", "--target", "assets"]);
    ok(&list);
    assert!(list.stdout.contains(&run), "{}", list.all());
    let restored = r.run(&["restore", &run, "--target", "assets"]);
    ok(&restored);
    assert!(restored.stdout.contains("overwrote"), "{}", restored.all());
    assert_eq!(body(&server, "assets/ok.yaml"), "a: 1\n");
    // The backups are still not synced.
    assert!(!Path::new(&r.p("assets/.bak")).exists());
}

#[test]
fn a_failing_after_command_fails_the_target_with_its_exit_code_and_output() {
    let server = S3Server::start();
    server.create_bucket("site");
    let r = repo_for(
        &server.env(),
        "version: \"1.0\"\ntargets:\n  assets:\n    type: sync\n    direction: push\n    local: assets/\n    remote: s3://site/assets/\n    after: ['echo purge failed >&2; exit 3']\n",
    );
    r.write("assets/a.txt", "a\n");
    r.commit_all("assets");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rep = r.report();
    let t = &rep["results"][0];
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{rep}"
    );
    assert!(
        t["output_tail"].as_str().unwrap().contains("purge failed"),
        "{rep}"
    );
    // The sync itself happened.
    assert_eq!(server.keys("site"), ["assets/a.txt"]);
}

#[test]
fn request_timeout_is_validated_and_bounds_each_request() {
    let r = repo_for(
        &[],
        "version: \"1.0\"\ntargets:\n  a:\n    type: sync\n    local: a/\n    remote: s3://b/p/\n    request_timeout: soon\n  d:\n    type: sync\n    local: d/\n    remote: other/\n    request_timeout: 5s\n    backup_prefix: /abs\n",
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("sync.yaml:7:"), "{}", out.all());
    assert!(out.stderr.contains("bad duration"), "{}", out.all());
    // A directory remote takes a per-operation deadline too.
    assert!(!out.stderr.contains("request_timeout"), "{}", out.all());
    assert!(
        out.stderr.contains("`backup_prefix` applies"),
        "{}",
        out.all()
    );

    // Through a proxy that answers after 1.5 s, a 300 ms deadline fails the
    // target (after its retries); 20 s lets it through.
    let server = S3Server::start();
    server.create_bucket("site");
    let proxy = FaultProxy::start(server.port());
    proxy.delay_ms(1500);
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let yaml = |t: &str| {
        format!("version: \"1.0\"\ntargets:\n  assets:\n    type: sync\n    direction: push\n    local: assets/\n    remote: s3://site/assets/\n    retries: 0\n    request_timeout: {t}\n")
    };
    let r = repo_for(&env, &yaml("300ms"));
    r.write("assets/a.txt", "a\n");
    r.commit_all("assets");
    let slow = r.run(&["run"]);
    assert_ne!(slow.code, 0, "{}", slow.all());
    assert!(
        slow.all().to_lowercase().contains("timed out")
            || slow.all().to_lowercase().contains("timeout"),
        "{}",
        slow.all()
    );
    assert!(server.keys("site").is_empty());
    r.write(".driftsync/sync.yaml", &yaml("20s"));
    r.commit_all("longer deadline");
    ok(&r.run(&["run"]));
    assert_eq!(server.keys("site"), ["assets/a.txt"]);
}

#[test]
fn adhoc_flags_validate_and_timeout() {
    let server = S3Server::start();
    server.create_bucket("site");
    let r = repo_for(&server.env(), "version: \"1.0\"\n");
    r.write("site/conf.toml", "a = 1\nb = \n");
    r.write("site/x.txt", "x\n");
    let out = r.run(&[
        "sync",
        "site",
        "s3://site/www/",
        "--validate",
        "toml,json",
        "--timeout",
        "20s",
    ]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("held back: left conf.toml:2:"),
        "{}",
        out.all()
    );
    assert_eq!(server.keys("site"), ["www/x.txt"]);
    let bad = r.run(&["sync", "site", "s3://site/www/", "--timeout", "0s"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    let bad = r.run(&["sync", "site", "s3://site/www/", "--validate", "xml"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
}

/// `backup: false` (`--no-backup` ad hoc): an edited object costs one PUT,
/// seen at a proxy in front of moto, where the default run first makes a
/// server-side copy of each; no copy is left in the bucket and `restore`
/// has nothing to put back. (A run's own records, the lease and the journal
/// under `.driftsync/`, are the same either way and not counted here.)
#[test]
fn without_backups_an_edit_is_one_request() {
    let server = S3Server::start();
    server.create_bucket("site");
    let proxy = FaultProxy::start(server.port());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = std::sync::Arc::clone(&seen);
    proxy.on_request(move |method, target| {
        log.lock().unwrap().push(format!("{method} {target}"));
    });
    // The requests on synced objects and on backups since the last call.
    let taken = || {
        let all = std::mem::take(&mut *seen.lock().unwrap());
        let mut on: Vec<String> = all
            .into_iter()
            .filter(|r| r.contains("/assets/f") || r.contains(".driftsync-backup"))
            .map(|r| r.split('?').next().unwrap().to_string())
            .collect();
        on.sort();
        on
    };
    let env = env_for(&proxy.endpoint(), TEST_KEY_ID, TEST_SECRET);
    let yaml = |backup: bool| {
        format!("version: \"1.0\"\ntargets:\n  assets:\n    type: sync\n    direction: push\n    delete_orphans: true\n    max_delete: 100%\n    local: assets/\n    remote: s3://site/assets/\n    backup: {backup}\n")
    };
    let r = repo_for(&env, &yaml(false));
    for i in 0..6 {
        r.write(&format!("assets/f{i}.txt"), &format!("first {i}\n"));
    }
    r.commit_all("assets");
    ok(&r.run(&["run"]));
    assert_eq!(taken().len(), 6, "one PUT per new object");
    let change = |round: &str| {
        for i in 0..3 {
            r.write(&format!("assets/f{i}.txt"), &format!("{round} {i}\n"));
        }
        r.commit_all(round);
    };
    change("second");
    fs::remove_file(r.p("assets/f5.txt")).unwrap();
    r.commit_all("delete f5");
    ok(&r.run(&["run"]));
    assert_eq!(
        taken(),
        [
            // A delete checks the version first (S3 has no conditional DELETE).
            "HEAD /site/assets/f5.txt",
            "PUT /site/assets/f0.txt",
            "PUT /site/assets/f1.txt",
            "PUT /site/assets/f2.txt"
        ]
    );
    assert_eq!(body(&server, "assets/f1.txt"), "second 1\n");
    let keys = server.keys("site");
    assert!(!keys.contains(&"assets/f5.txt".to_string()), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.contains(".driftsync-backup")),
        "{keys:?}"
    );
    let none = r.run(&["restore", "--list"]);
    assert!(!none.stdout.contains("assets"), "{}", none.all());
    taken(); // restore's listing of the backup folder

    // The default keeps a copy of each: one more PUT (a server-side copy) per edit.
    r.write(".driftsync/sync.yaml", &yaml(true));
    change("third");
    ok(&r.run(&["run"]));
    let on = taken();
    assert_eq!(on.len(), 6, "{on:?}");
    assert_eq!(
        on.iter()
            .filter(|r| r.contains(".driftsync-backup/"))
            .count(),
        3,
        "{on:?}"
    );

    // Ad hoc: the flag, and a clear refusal of both it and a backup folder.
    let both = r.run(&[
        "sync",
        "assets",
        "s3://site/assets/",
        "--no-backup",
        "--backup-prefix",
        ".bak/",
    ]);
    assert_eq!(both.code, 2, "{}", both.all());
    assert!(both.stderr.contains("--no-backup"), "{}", both.all());
    r.write(
        ".driftsync/sync.yaml",
        "version: \"1.0\"\ntargets:\n  a:\n    type: sync\n    local: a/\n    remote: s3://b/p/\n    backup: false\n    backup_prefix: .bak/\n",
    );
    let conf = r.run(&["config", "validate"]);
    assert_eq!(conf.code, 2, "{}", conf.all());
    assert!(
        conf.stderr.contains("sync.yaml:8:") && conf.stderr.contains("backup: false"),
        "{}",
        conf.all()
    );
}
