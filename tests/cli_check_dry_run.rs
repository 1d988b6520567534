//! `driftsync check` changes nothing: not the working tree, not the index,
//! not HEAD.

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
    assert_eq!(rep["targets"][0]["status"], "drift");
    assert_eq!(rep["targets"][1]["drifted"][0], "gen/sub/new.txt");

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
