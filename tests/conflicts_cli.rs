//! `on_conflict: manual` and `driftsync conflicts list|show|resolve`, as a
//! user meets them: a `type: sync` target in a real git repository (a folder
//! remote and a `file:` bucket), fresh clones as in CI, and ad hoc
//! `driftsync sync` pairs for a property check that no edit is lost.

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};

use cli_support::{tree, Out, Repo};

/// A repository with target `docs` (`docs/` ↔ `remote`, policy manual),
/// synced once with a.md, b.md, c.md and d.md on both sides.
fn synced(remote: &str, remote_dir: &Path) -> Repo {
    let r = Repo::new();
    r.config(&format!(
        "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: {remote}\n    on_conflict: manual\n"
    ));
    for f in ["a", "b", "c", "d"] {
        r.write(&format!("docs/{f}.md"), &format!("{f} as it was\n"));
    }
    r.commit_all("docs");
    fs::create_dir_all(remote_dir).unwrap();
    let first = r.run(&["run"]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        fs::read_to_string(remote_dir.join("d.md")).unwrap(),
        "d as it was\n"
    );
    r
}

/// Edit a.md, b.md and c.md on both sides (conflicts) and d.md locally only.
fn conflict(r: &Repo, remote_dir: &Path) {
    for f in ["a", "b", "c"] {
        r.write(
            &format!("docs/{f}.md"),
            &format!("{f}: the repository's edit\n"),
        );
        fs::write(
            remote_dir.join(format!("{f}.md")),
            format!("{f}: the remote's edit\n"),
        )
        .unwrap();
    }
    r.write("docs/d.md", "d: edited in the repository only\n");
    r.commit_all("edits");
}

fn remote_text(remote_dir: &Path, f: &str) -> String {
    fs::read_to_string(remote_dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn driftsync_in(dir: &Path, args: &[&str]) -> Out {
    cli_support::run_in(dir, args, &[])
}

/// `git status --porcelain`: driftsync's backups and reports are kept out of
/// git by the `.gitignore` it writes in their folders, so nothing else shows.
fn uncommitted(dir: &Path) -> String {
    cli_support::git(dir, &["status", "--porcelain", "--ignored=no"])
}

fn clone_of(r: &Repo) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clone");
    cli_support::git(
        dir.path(),
        &[
            "clone",
            "-q",
            r.path().to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
    );
    dir
}

/// The manual workflow against a folder remote: detect and keep for review
/// (committed by the run), the same open conflicts in a fresh clone,
/// decisions made there, and the next run applying them.
#[test]
fn manual_keeps_conflicts_for_review_and_applies_each_decision() {
    let outside = tempfile::tempdir().unwrap();
    let share = outside.path().join("share");
    let r = synced(share.to_str().unwrap(), &share);
    conflict(&r, &share);

    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.all().contains("driftsync conflicts list"),
        "{}",
        out.all()
    );
    // Every other change is applied; the conflicts are left on both sides.
    assert_eq!(
        remote_text(&share, "d.md"),
        "d: edited in the repository only\n"
    );
    for f in ["a", "b", "c"] {
        assert_eq!(
            r.read(&format!("docs/{f}.md")),
            format!("{f}: the repository's edit\n")
        );
        assert_eq!(
            remote_text(&share, &format!("{f}.md")),
            format!("{f}: the remote's edit\n")
        );
        assert_eq!(
            r.read(&format!(".driftsync/conflicts/docs/remote/{f}.md")),
            format!("{f}: the remote's edit\n")
        );
        assert_eq!(
            r.read(&format!(".driftsync/conflicts/docs/local/{f}.md")),
            format!("{f}: the repository's edit\n")
        );
    }
    let rep = r.report();
    let conflicts = rep["results"][0]["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 3, "{rep}");
    let resolution = conflicts[0]["resolution"].as_str().unwrap();
    assert!(
        resolution.starts_with("unresolved") && resolution.contains("manual"),
        "{resolution}"
    );
    // The run committed the copies and the record with the base.
    assert_eq!(uncommitted(r.path()), "", "left uncommitted");
    let tracked = r.git(&["ls-files", ".driftsync/conflicts/docs"]);
    assert!(
        tracked.contains("conflicts.json") && tracked.contains("remote/a.md"),
        "{tracked}"
    );

    // A re-run with nothing new: the same exit, no new commit, same bytes.
    let (head, record) = (r.head(), r.read(".driftsync/conflicts/docs/conflicts.json"));
    let again = r.run(&["run"]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert_eq!(r.head(), head, "a re-run committed again");
    assert_eq!(r.read(".driftsync/conflicts/docs/conflicts.json"), record);

    // A fresh clone (a CI run) sees the same open conflicts.
    let clone_dir = clone_of(&r);
    let clone = clone_dir.path().join("clone");
    let listed = driftsync_in(&clone, &["conflicts", "list", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.all());
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let paths: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.md", "b.md", "c.md"], "{rows}");
    assert_eq!(rows[0]["target"], "docs");
    assert_eq!(rows[0]["local"]["size"], 25, "{rows}");
    assert!(rows[0]["remote"]["sha256"].as_str().unwrap().len() == 64);
    let shown = driftsync_in(&clone, &["conflicts", "show", "a.md"]);
    assert_eq!(shown.code, 0, "{}", shown.all());
    assert!(
        shown.stdout.contains("-a: the repository's edit")
            && shown.stdout.contains("+a: the remote's edit"),
        "{}",
        shown.all()
    );

    // An unknown path is a clear error naming the open ones.
    let unknown = driftsync_in(
        &clone,
        &["conflicts", "resolve", "nope.md", "--keep", "local"],
    );
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown.stderr.contains("nope.md") && unknown.stderr.contains("a.md (--target docs)"),
        "{}",
        unknown.all()
    );

    // A run in the fresh clone (new mtimes everywhere) finds the same
    // conflicts and commits nothing new.
    let clone_head = cli_support::git(&clone, &["rev-parse", "HEAD"]);
    let rerun = driftsync_in(&clone, &["run"]);
    assert_eq!(rerun.code, 1, "{}", rerun.all());
    assert_eq!(cli_support::git(&clone, &["rev-parse", "HEAD"]), clone_head);
    assert_eq!(uncommitted(&clone), "");

    // Decide in the clone; its next run applies them.
    for (f, keep) in [("a.md", "local"), ("b.md", "remote"), ("docs/c.md", "both")] {
        let d = driftsync_in(&clone, &["conflicts", "resolve", f, "--keep", keep]);
        assert_eq!(d.code, 0, "{}", d.all());
    }
    let applied = driftsync_in(&clone, &["run"]);
    assert_eq!(applied.code, 0, "{}", applied.all());
    let local = |f: &str| fs::read_to_string(clone.join("docs").join(f)).unwrap();
    assert_eq!(local("a.md"), "a: the repository's edit\n");
    assert_eq!(remote_text(&share, "a.md"), "a: the repository's edit\n");
    assert_eq!(local("b.md"), "b: the remote's edit\n");
    assert_eq!(remote_text(&share, "b.md"), "b: the remote's edit\n");
    assert_eq!(local("c.md"), "c: the repository's edit\n");
    assert_eq!(remote_text(&share, "c.md"), "c: the repository's edit\n");
    let kept: Vec<String> = fs::read_dir(clone.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("c.conflict-right-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(local(&kept[0]), "c: the remote's edit\n");
    assert_eq!(remote_text(&share, &kept[0]), "c: the remote's edit\n");
    // The copies are gone, and their removal is committed.
    assert!(!clone.join(".driftsync/conflicts/docs").exists());
    assert_eq!(uncommitted(&clone), "");
    assert_eq!(
        cli_support::git(&clone, &["ls-files", ".driftsync/conflicts"]),
        ""
    );
    let listed = driftsync_in(&clone, &["conflicts", "list"]);
    assert!(
        listed.all().contains("no open conflicts"),
        "{}",
        listed.all()
    );
}

/// A `file:` bucket as the remote: the bucket's version is kept in the
/// repository (it is not on disk locally) and `--keep remote` brings it.
#[test]
fn manual_against_a_file_bucket_keeps_the_remote_version_in_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    let bucket = outside.path().join("bucket");
    let r = synced(&format!("file:{}", bucket.display()), &bucket);
    conflict(&r, &bucket);
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        remote_text(&bucket, "d.md"),
        "d: edited in the repository only\n"
    );
    assert_eq!(remote_text(&bucket, "a.md"), "a: the remote's edit\n");
    assert_eq!(r.read("docs/a.md"), "a: the repository's edit\n");
    assert_eq!(
        r.read(".driftsync/conflicts/docs/remote/a.md"),
        "a: the remote's edit\n"
    );
    assert_eq!(uncommitted(r.path()), "");
    for f in ["a.md", "b.md", "c.md"] {
        let d = r.run(&[
            "conflicts",
            "resolve",
            f,
            "--keep",
            "remote",
            "--target",
            "docs",
        ]);
        assert_eq!(d.code, 0, "{}", d.all());
    }
    let applied = r.run(&["run"]);
    assert_eq!(applied.code, 0, "{}", applied.all());
    for f in ["a", "b", "c"] {
        assert_eq!(
            r.read(&format!("docs/{f}.md")),
            format!("{f}: the remote's edit\n")
        );
    }
    assert!(!r.exists(".driftsync/conflicts/docs"));
    assert_eq!(uncommitted(r.path()), "");
}

/// r_stale_decision: a decision is about the versions a person saw; an edit
/// made after it is a new conflict, never overwritten by the old decision.
#[test]
fn an_edit_after_the_decision_is_not_overwritten() {
    let outside = tempfile::tempdir().unwrap();
    let share = outside.path().join("share");
    let r = synced(share.to_str().unwrap(), &share);
    conflict(&r, &share);
    assert_eq!(r.run(&["run"]).code, 1);
    let d = r.run(&["conflicts", "resolve", "a.md", "--keep", "local"]);
    assert_eq!(d.code, 0, "{}", d.all());
    // The remote is edited again after the decision.
    fs::write(share.join("a.md"), "a: the remote's second edit\n").unwrap();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(remote_text(&share, "a.md"), "a: the remote's second edit\n");
    assert_eq!(r.read("docs/a.md"), "a: the repository's edit\n");
    let rep = r.report();
    let findings = rep["results"][0]["findings"].to_string();
    assert!(findings.contains("conflict-decision-stale"), "{rep}");
    // Recorded anew, about the new version, with no decision.
    assert_eq!(
        r.read(".driftsync/conflicts/docs/remote/a.md"),
        "a: the remote's second edit\n"
    );
    let listed = r.run(&["conflicts", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert!(rows[0]["decision"].is_null(), "{rows}");

    // Keeping the remote while the local file was edited since: refused.
    r.write("docs/b.md", "b: merged by hand\n");
    let refused = r.run(&["conflicts", "resolve", "b.md", "--keep", "remote"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.stderr.contains("changed since"),
        "{}",
        refused.all()
    );
    // Keeping local decides about the merge as saved.
    let merged = r.run(&["conflicts", "resolve", "b.md", "--keep", "local"]);
    assert_eq!(merged.code, 0, "{}", merged.all());
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all()); // a.md and c.md are still open
    assert_eq!(remote_text(&share, "b.md"), "b: merged by hand\n");
}

/// Ad hoc `driftsync sync --on-conflict manual --json`: the summary counts
/// the open conflict and names where both versions are kept; `show` of a
/// binary file gives sizes and hashes.
#[test]
fn ad_hoc_sync_reports_open_conflicts_in_its_json() {
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    for (dir, bytes) in [(&a, &b"\0left"[..]), (&b, &b"\0right"[..])] {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("logo.bin"), bytes).unwrap();
    }
    let out = driftsync_in(
        work.path(),
        &["sync", "a", "b", "--on-conflict", "manual", "--json"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["conflicts"], 1, "{doc}");
    assert_eq!(doc["summary"]["unresolved"], 1, "{doc}");
    let dir = doc["conflicts_dir"].as_str().unwrap();
    assert!(dir.starts_with(".driftsync/conflicts/adhoc-"), "{dir}");
    assert_eq!(
        fs::read(work.path().join(dir).join("remote/logo.bin")).unwrap(),
        b"\0right"
    );
    let shown = driftsync_in(work.path(), &["conflicts", "show", "logo.bin"]);
    assert_eq!(shown.code, 0, "{}", shown.all());
    assert!(
        shown.stdout.contains("binary: local 5 byte(s)")
            && shown.stdout.contains("remote 6 byte(s)"),
        "{}",
        shown.all()
    );
}

/// With nothing open, `resolve` says so.
#[test]
fn resolve_with_nothing_open_is_a_clear_error() {
    let r = Repo::new();
    let out = r.run(&["conflicts", "resolve", "x.md", "--keep", "local"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no conflict is open"), "{}", out.all());
}

/// A small xorshift generator: the cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Every content found on either side or among the kept conflict copies.
fn everywhere(work: &Path, left: &Path, right: &Path) -> Vec<String> {
    let mut all: Vec<String> = [
        left.to_path_buf(),
        right.to_path_buf(),
        work.join(".driftsync/conflicts"),
    ]
    .iter()
    .flat_map(|d| {
        tree(d)
            .into_values()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
    })
    .collect();
    all.sort();
    all.dedup();
    all
}

/// Over 30 random cases of edits, deletes and creations on both sides,
/// manual conflicts and random decisions (some made stale by a later edit):
/// every edit a person made is still on a side or kept for review, and a
/// run whose decisions all still apply leaves both sides equal, exit 0.
#[test]
fn no_edit_is_lost_under_manual() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // How many cases had conflicts, and decisions made stale: the cases must
    // exercise both.
    let (mut with_conflicts, mut with_stale) = (0, 0);
    for case in 0..30 {
        let work = tempfile::tempdir().unwrap();
        let (left, right) = (work.path().join("left"), work.path().join("right"));
        fs::create_dir_all(&left).unwrap();
        fs::create_dir_all(&right).unwrap();
        let files = ["a.txt", "b.txt", "d/c.txt", "d/e.txt", "f.txt"];
        for f in &files[..4] {
            for side in [&left, &right] {
                fs::create_dir_all(side.join(f).parent().unwrap()).unwrap();
                fs::write(side.join(f), format!("{f} base\n")).unwrap();
            }
        }
        let sync = |extra: &[&str]| {
            let mut args = vec![
                "sync",
                "left",
                "right",
                "--on-conflict",
                "manual",
                "--max-delete",
                "100%",
            ];
            args.extend_from_slice(extra);
            driftsync_in(work.path(), &args)
        };
        let first = sync(&[]);
        assert_eq!(first.code, 0, "case {case}: {}", first.all());
        // Random edits (0), deletes (1) or nothing on each side of each file.
        let mut edits: Vec<String> = Vec::new();
        for f in files {
            for (name, side) in [("left", &left), ("right", &right)] {
                match rng.below(3) {
                    0 => {
                        let text = format!("{f} edited on {name} in case {case}\n");
                        fs::create_dir_all(side.join(f).parent().unwrap()).unwrap();
                        fs::write(side.join(f), &text).unwrap();
                        edits.push(text);
                    }
                    1 => {
                        let _ = fs::remove_file(side.join(f));
                    }
                    _ => {}
                }
            }
        }
        let out = sync(&[]);
        let have = everywhere(work.path(), &left, &right);
        for e in &edits {
            assert!(have.contains(e), "case {case}: lost {e:?}: {}", out.all());
        }
        let listed = driftsync_in(work.path(), &["conflicts", "list", "--json"]);
        let open: Vec<String> = serde_json::from_str::<serde_json::Value>(&listed.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            out.code,
            if open.is_empty() { 0 } else { 1 },
            "case {case}: {}",
            out.all()
        );
        if open.is_empty() {
            assert_eq!(tree(&left), tree(&right), "case {case}");
            continue;
        }
        // Decide each; now and then a side changes after the decision.
        let mut later: Vec<(PathBuf, String)> = Vec::new();
        for p in &open {
            let keep = ["local", "remote", "both"][rng.below(3) as usize];
            let d = driftsync_in(work.path(), &["conflicts", "resolve", p, "--keep", keep]);
            assert_eq!(d.code, 0, "case {case}: {}", d.all());
            if rng.below(4) == 0 {
                let side = if rng.below(2) == 0 { &left } else { &right };
                let text = format!("{p} edited after the decision in case {case}\n");
                fs::write(side.join(p), &text).unwrap();
                later.push((side.join(p), text));
            }
        }
        with_conflicts += 1;
        with_stale += usize::from(!later.is_empty());
        let out = sync(&[]);
        let have = everywhere(work.path(), &left, &right);
        for (file, e) in &later {
            // Not replaced by the decision made before it.
            assert_eq!(
                &fs::read_to_string(file).unwrap(),
                e,
                "case {case}: {}",
                out.all()
            );
            assert!(have.contains(e), "case {case}: lost {e:?}: {}", out.all());
        }
        if later.is_empty() {
            assert_eq!(out.code, 0, "case {case}: {}", out.all());
            assert_eq!(tree(&left), tree(&right), "case {case}");
            assert!(
                !work.path().join(".driftsync/conflicts").exists(),
                "case {case}"
            );
        } else {
            assert_eq!(out.code, 1, "case {case}: {}", out.all());
        }
    }
    assert!(
        with_conflicts >= 10 && with_stale >= 3,
        "{with_conflicts} case(s) with conflicts, {with_stale} with stale decisions"
    );
}

/// `run --pull-request`: both versions of a conflicted file arrive in the
/// pull request's branch, for a person to review there.
#[tokio::test]
async fn conflicted_files_arrive_in_the_pull_request() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let outside = tempfile::tempdir().unwrap();
    let share = outside.path().join("share");
    let r = synced(share.to_str().unwrap(), &share);
    let (_, url) = driftsync_testkit::bare_repo(outside.path());
    r.git(&["remote", "add", "origin", &url]);
    r.git(&["push", "-q", "-u", "origin", "main"]);
    conflict(&r, &share);
    r.git(&["push", "-q", "origin", "main"]);
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "number": 7,
            "node_id": "PR_7",
            "html_url": "https://github.com/acme/site/pull/7",
            "state": "open",
            "body": "",
            "head": {"ref": "driftsync/sync", "label": "acme:driftsync/sync"},
            "base": {"ref": "main"},
        })))
        .expect(1)
        .mount(&api)
        .await;
    let env = [
        ("GITHUB_API_URL", api.uri()),
        (
            "GITHUB_TOKEN",
            "ghs_conflictsPullRequest0123456789".to_string(),
        ),
        ("GITHUB_REPOSITORY", "acme/site".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let out = cli_support::run_in(
        r.path(),
        &["run", "--pull-request", "--pr-branch", "driftsync/sync"],
        &env,
    );
    let all = out.all();
    assert_eq!(out.code, 1, "{all}");
    let origin = outside.path().join("origin.git");
    for (file, want) in [
        ("remote/a.md", "a: the remote's edit\n"),
        ("local/a.md", "a: the repository's edit\n"),
    ] {
        let shown = cli_support::git(
            &origin,
            &[
                "show",
                &format!("driftsync/sync:.driftsync/conflicts/docs/{file}"),
            ],
        );
        assert_eq!(shown, want, "{all}");
    }
    let record = cli_support::git(
        &origin,
        &[
            "show",
            "driftsync/sync:.driftsync/conflicts/docs/conflicts.json",
        ],
    );
    assert!(record.contains("\"path\": \"b.md\""), "{record}");
    api.verify().await;

    // The next scheduled runs, each in a fresh clone of the base branch, find
    // the same open conflicts: the branch they build holds the same result
    // (the base differs only in the checkout's mtimes), so the pull request
    // gets no new commit. The first of them finds d.md copied already, so its
    // report (the pull request's body) differs once; the next is unchanged.
    let tip = |rev: &str| {
        cli_support::git(&origin, &["rev-parse", rev])
            .trim()
            .to_string()
    };
    let first_tip = tip("driftsync/sync");
    let body_of = |q: &wiremock::Request| {
        serde_json::from_slice::<serde_json::Value>(&q.body).unwrap()["body"].clone()
    };
    let mut body = body_of(
        api.received_requests()
            .await
            .unwrap()
            .iter()
            .find(|q| q.method.as_str() == "POST")
            .expect("the pull request was opened"),
    );
    for round in 0..2 {
        api.reset().await;
        let pr = serde_json::json!({
            "number": 7,
            "node_id": "PR_7",
            "html_url": "https://github.com/acme/site/pull/7",
            "state": "open",
            "body": body,
            "head": {"ref": "driftsync/sync", "label": "acme:driftsync/sync"},
            "base": {"ref": "main"},
        });
        Mock::given(method("GET"))
            .and(path("/repos/acme/site/pulls"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([pr])))
            .mount(&api)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/site/pulls/7"))
            .respond_with(ResponseTemplate::new(200).set_body_json(pr.clone()))
            .mount(&api)
            .await;
        let clone = outside.path().join(format!("ci-clone-{round}"));
        cli_support::git(
            outside.path(),
            &["clone", "-q", &url, clone.to_str().unwrap()],
        );
        for (k, v) in [("user.name", "CI"), ("user.email", "ci@example.com")] {
            cli_support::git(&clone, &["config", k, v]);
        }
        let again = cli_support::run_in(
            &clone,
            &["run", "--pull-request", "--pr-branch", "driftsync/sync"],
            &env,
        );
        let all = again.all();
        let changed = cli_support::git(&origin, &["diff", &first_tip, "driftsync/sync"]);
        assert_eq!(changed, "", "round {round}: {all}");
        assert_eq!(tip("driftsync/sync"), first_tip, "no new commit: {all}");
        assert_eq!(again.code, 1, "the conflicts are still open: {all}");
        let writes: Vec<wiremock::Request> = api
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|q| q.method.as_str() != "GET")
            .collect();
        let routes: Vec<String> = writes
            .iter()
            .map(|q| format!("{} {}", q.method, q.url.path()))
            .collect();
        if round == 0 {
            // This run's report differs from the first's (d.md is copied
            // already): the body is rewritten, nothing is pushed.
            assert_eq!(routes, ["PATCH /repos/acme/site/pulls/7"], "{all}");
            body = body_of(&writes[0]);
            assert!(!body.as_str().unwrap().contains("d.md"), "{body}");
        } else {
            assert!(routes.is_empty(), "{routes:?}: {all}");
            assert!(all.contains("pull request #7 unchanged"), "{all}");
        }
    }
}
