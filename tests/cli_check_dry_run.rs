//! `driftsync check` and dry runs change nothing: not the working tree, not
//! the index, not HEAD, and no entrypoint that did not declare `dry_run: true`
//! is executed in a dry run.

mod cli_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use cli_support::Repo;

/// Every file of the working tree (not `.git`, not driftsync's own reports):
/// path → (bytes, mode), plus every directory.
fn tree(r: &Repo) -> BTreeMap<String, (Vec<u8>, u32)> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut BTreeMap<String, (Vec<u8>, u32)>,
    ) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".git" || rel == ".driftsync/reports" {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(format!("{rel}/"), (Vec::new(), meta.permissions().mode()));
                walk(root, &p, out);
            } else {
                out.insert(rel, (std::fs::read(&p).unwrap(), meta.permissions().mode()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(r.path(), r.path(), &mut out);
    out
}

/// The state before a command: git gets to refresh its index first (racily
/// clean entries), so that the bytes compared are the settled ones.
fn settled_state(r: &Repo) -> State {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    r.git(&["status", "--porcelain"]);
    state(r)
}

/// Everything `check` must leave as it was. The index is read as bytes
/// before any git command runs (git status may refresh it).
#[derive(Debug, PartialEq)]
struct State {
    index: Vec<u8>,
    files: BTreeMap<String, (Vec<u8>, u32)>,
    head: String,
    stage: String,
    status: String,
}

fn state(r: &Repo) -> State {
    let index = std::fs::read(r.p(".git/index")).unwrap();
    State {
        index,
        files: tree(r),
        head: r.head(),
        stage: r.git(&["ls-files", "--stage"]),
        status: r.git(&["status", "--porcelain", "--untracked-files=all"]),
    }
}

/// A pull target rewriting a tracked output, deleting one and rewriting an
/// executable one as a plain file, and a pull target creating a new untracked
/// output file in a new directory.
fn pull_repo(clean_gate: bool) -> (Repo, tempfile::TempDir) {
    let remote = tempfile::tempdir().unwrap();
    std::fs::write(remote.path().join("fact.txt"), "hosts: 4\n").unwrap();
    let r = Repo::new();
    r.script(
        "scripts/pull.sh",
        "cp \"$REMOTE/fact.txt\" docs/fact.txt\nrm -f docs/old.txt\necho 'echo v2' > docs/tool.sh\nchmod 644 docs/tool.sh\necho pulled",
    );
    r.write("docs/fact.txt", "hosts: 3\n");
    r.write("docs/old.txt", "gone upstream\n");
    r.script("docs/tool.sh", "echo tool");
    r.write("docs/notes.md", "not an output\n");
    let rp = remote.path().display().to_string();
    r.config(&format!(
        r#"version: "1.0"
targets:
  facts:
    type: command
    direction: pull
    entrypoint: scripts/pull.sh
    env: {{ REMOTE: "{rp}" }}
    outputs: ["docs/fact.txt", "docs/old.txt", "docs/tool.sh"]
  generated:
    type: command
    direction: pull
    run: "mkdir -p gen/sub && echo fresh > gen/sub/new.txt && echo generated"
    outputs: ["gen/**"]
{}"#,
        if clean_gate {
            "safety:\n  pre_sync_checks:\n    - name: clean tree\n      builtin: git_clean\n"
        } else {
            ""
        }
    ));
    r.commit_all("setup");
    (r, remote)
}

#[test]
fn check_leaves_working_tree_index_and_head_identical_and_still_reports_drift() {
    let (r, _remote) = pull_repo(true);
    let before = settled_state(&r);
    let out = r.run(&["check"]);
    assert_eq!(out.code, 1, "drift is exit 1: {}", out.all());
    for p in [
        "docs/fact.txt",
        "docs/old.txt",
        "docs/tool.sh",
        "gen/sub/new.txt",
    ] {
        assert!(
            out.stdout.contains(&format!("drifted: {p}")),
            "{p} not reported: {}",
            out.stdout
        );
    }
    let after = state(&r);
    assert_eq!(after.head, before.head, "HEAD moved");
    assert!(after.index == before.index, "check rewrote .git/index");
    assert_eq!(after.stage, before.stage, "the index changed");
    assert_eq!(after.status, before.status, "git status changed");
    assert_eq!(
        after.files.keys().collect::<Vec<_>>(),
        before.files.keys().collect::<Vec<_>>(),
        "files or directories were created or removed"
    );
    assert!(
        after.files == before.files,
        "a file's bytes or mode changed"
    );
    let rep = r.report();
    assert_eq!(rep["results"][0]["status"], "drift");
    assert_eq!(rep["results"][1]["drifted"][0], "gen/sub/new.txt");

    // A second check in the same job sees the same drift, and a run right after
    // passes the clean gate and commits the pulled outputs.
    assert_eq!(r.run(&["check"]).code, 1);
    let head = r.head();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_ne!(r.head(), head, "run committed nothing");
    assert_eq!(r.read("docs/fact.txt"), "hosts: 4\n");
    assert!(!r.exists("docs/old.txt"));
    assert_eq!(r.read("gen/sub/new.txt"), "fresh\n");
    assert_eq!(r.run(&["check"]).code, 0, "in sync after the run");
}

#[test]
fn check_keeps_an_uncommitted_edit_in_an_output_path() {
    let (r, remote) = pull_repo(false);
    r.write("untracked.txt", "keep me\n");
    r.write("docs/fact.txt", "hosts: 3 (my local edit)\n");
    let before = settled_state(&r);
    let out = r.run(&["check", "--target", "facts"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("drifted: docs/fact.txt"),
        "{}",
        out.stdout
    );
    assert_eq!(r.read("docs/fact.txt"), "hosts: 3 (my local edit)\n");
    assert!(state(&r) == before, "check changed the repository");

    // The remote now equals HEAD: in sync, and the edit is still there.
    std::fs::write(remote.path().join("fact.txt"), "hosts: 3\n").unwrap();
    r.script("scripts/pull.sh", "cp \"$REMOTE/fact.txt\" docs/fact.txt");
    r.write("docs/fact.txt", "hosts: 3\n");
    r.commit_all("pull only the fact");
    r.write("docs/fact.txt", "hosts: 3 (my local edit)\n");
    let before = settled_state(&r);
    let out = r.run(&["check", "--target", "facts"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r.read("docs/fact.txt"), "hosts: 3 (my local edit)\n");
    assert!(state(&r) == before, "check changed the repository");
}

/// A target that does not support dry runs (it would leave a marker), one that
/// does (it records DRIFTSYNC_DRY_RUN), a push, a verification and a command gate.
fn dry_repo(defaults: &str) -> (Repo, tempfile::TempDir) {
    let rec = tempfile::tempdir().unwrap();
    let rp = rec.path().display().to_string();
    let r = Repo::new();
    r.script(
        "scripts/unsafe.sh",
        "echo ran > \"$REC/unsafe.marker\"\nmkdir -p out\necho x > out/a.txt",
    );
    r.config(&format!(
        r#"version: "1.0"
{defaults}targets:
  unsafe:
    type: command
    direction: pull
    entrypoint: scripts/unsafe.sh
    env: {{ REC: "{rp}" }}
    inputs: ["src/**"]
    outputs: ["out/**"]
    verification: {{ command: 'echo ran > "{rp}/verify.marker"' }}
  publish:
    type: command
    direction: push
    run: 'echo ran > "$REC/publish.marker"'
    env: {{ REC: "{rp}" }}
  preview:
    type: command
    direction: pull
    dry_run: true
    run: 'echo "$DRIFTSYNC_DRY_RUN" > "$REC/preview.env"'
    env: {{ REC: "{rp}" }}
safety:
  pre_sync_checks:
    - name: prepare
      command: 'echo ran > "{rp}/gate.marker"'
"#
    ));
    r.commit_all("setup");
    (r, rec)
}

fn assert_dry_run(r: &Repo, rec: &tempfile::TempDir, args: &[&str]) {
    let before = settled_state(r);
    let out = r.run(args);
    assert_eq!(out.code, 0, "{}", out.all());
    let m = |n: &str| rec.path().join(n).exists();
    assert!(!m("unsafe.marker"), "the entrypoint ran in a dry run");
    assert!(!m("publish.marker"), "the push ran in a dry run");
    assert!(!m("verify.marker"), "verification ran in a dry run");
    assert!(!m("gate.marker"), "a command gate ran in a dry run");
    assert_eq!(
        std::fs::read_to_string(rec.path().join("preview.env")).unwrap(),
        "1\n",
        "a target with dry_run: true runs with DRIFTSYNC_DRY_RUN=1"
    );
    assert!(state(r) == before, "the dry run changed the repository");
    for what in ["scripts/unsafe.sh", "out/**", "src/**", "pull", "push"] {
        assert!(
            out.stdout.contains(what),
            "`{what}` not named: {}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("echo ran > \"$REC/publish.marker\""),
        "{}",
        out.stdout
    );
    let rep = r.report();
    assert_eq!(rep["dry_run"], true);
    assert_eq!(rep["results"][0]["dry_run_mode"], "listed");
    assert_eq!(rep["results"][0]["status"], "skipped");
    assert!(rep["results"][0]["verification_passed"].is_null());
    assert_eq!(rep["results"][1]["dry_run_mode"], "listed");
    assert_eq!(rep["results"][2]["dry_run_mode"], "previewed");
    assert_eq!(rep["results"][2]["status"], "ok");
    assert_eq!(rep["gates"][0]["dry_run_mode"], "listed");
}

#[test]
fn dry_run_flag_runs_only_targets_that_declare_dry_run() {
    let (r, rec) = dry_repo("");
    assert_dry_run(&r, &rec, &["run", "--dry-run", "--verify"]);
}

#[test]
fn defaults_dry_run_runs_only_targets_that_declare_dry_run() {
    let (r, rec) = dry_repo("defaults:\n  dry_run: true\n");
    assert_dry_run(&r, &rec, &["run", "--verify"]);
}
