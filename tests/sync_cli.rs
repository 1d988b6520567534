//! `driftsync sync` as a user runs it: crash recovery, the lock, names, exit codes.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod cli_support;

use cli_support::tree;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftsync"));
    c.env_remove("DRIFTSYNC_TEST_CRASH_AT")
        .env_remove("DRIFTSYNC_TEST_STALL_AT")
        .env("CI", "true");
    c
}

fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = bin();
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run driftsync")
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

fn write(path: PathBuf, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Two trees synced once, then edited on both sides: every kind of action is pending.
fn pending_sync(dir: &Path) {
    for side in ["a", "b"] {
        for f in [
            "keep", "ledit", "redit", "ldel", "rdel", "conflict", "d/deep/x", "d/y",
        ] {
            write(dir.join(side).join(f), &format!("{f} v1\n"));
        }
    }
    let out = run(dir, &["sync", "a", "b"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write(dir.join("a/ledit"), "edited on a\n");
    write(dir.join("b/redit"), "edited on b\n");
    fs::remove_file(dir.join("a/ldel")).unwrap();
    fs::remove_file(dir.join("b/rdel")).unwrap();
    write(dir.join("a/conflict"), "conflict a\n");
    write(dir.join("b/conflict"), "conflict b, a longer one\n");
    write(dir.join("a/new/in/dir"), "new on a\n");
    write(dir.join("b/newb"), "new on b\n");
    fs::remove_file(dir.join("b/d/deep/x")).unwrap();
}

#[test]
fn killed_at_every_point_then_rerun_converges_without_loss() {
    let mut points = 0;
    for k in 1.. {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        pending_sync(dir);
        let before: BTreeSet<Vec<u8>> = tree(&dir.join("a"))
            .into_values()
            .chain(tree(&dir.join("b")).into_values())
            .collect();
        let args = [
            "sync",
            "a",
            "b",
            "--on-conflict",
            "keep-both",
            "--concurrency",
            "2",
        ];
        let crashed = run(dir, &args, &[("DRIFTSYNC_TEST_CRASH_AT", k.to_string())]);
        if crashed.status.success() {
            break; // k is past the last crash point
        }
        assert_eq!(
            crashed.status.signal(),
            Some(9),
            "run {k} ended otherwise: {crashed:?}"
        );
        points += 1;
        let rerun = run(dir, &args, &[]);
        let stderr = String::from_utf8_lossy(&rerun.stderr);
        assert!(rerun.status.success(), "rerun after kill at {k}: {stderr}");
        assert!(
            stderr.contains("took over a stale lock"),
            "after kill at {k}: {stderr}"
        );
        let (a, b) = (tree(&dir.join("a")), tree(&dir.join("b")));
        assert_eq!(a, b, "sides differ after kill at {k} and rerun");
        let mut after: BTreeSet<Vec<u8>> = a.into_values().collect();
        for f in all_files(&dir.join(".driftsync/backup")) {
            after.insert(fs::read(f).unwrap());
        }
        for c in &before {
            assert!(
                after.contains(c),
                "kill at {k}: lost {:?}",
                String::from_utf8_lossy(c)
            );
        }
        for f in all_files(dir) {
            let name = f.to_string_lossy();
            assert!(
                !name.contains("driftsync-tmp")
                    && !name.contains(".tmp-")
                    && !name.ends_with("driftsync-partial"),
                "kill at {k}: temp file left: {name}"
            );
        }
        plans_nothing(dir, k);
    }
    assert!(points >= 15, "only {points} crash points were reached");
}

/// After the rerun that followed a kill at `k`, a further run plans nothing.
fn plans_nothing(dir: &Path, k: usize) {
    let again = run(dir, &["sync", "a", "b", "--dry-run"], &[]);
    assert!(
        again.stdout.is_empty(),
        "kill at {k}: a third run still plans:\n{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

/// A first sync of several batches (the journal of the right side's writes
/// is named ahead in growing windows) killed part-way, at points spread
/// over its later batches: the rerun converges, nothing is lost, and a third
/// run plans nothing.
#[test]
fn a_first_sync_of_many_batches_killed_midway_then_rerun_converges() {
    let mut killed = 0;
    for k in [700, 1300, 1900, 2500, 3100] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for i in 0..1300 {
            write(
                dir.join(format!("a/d{}/f{i:04}", i % 7)),
                &format!("file {i}\n"),
            );
        }
        if k == 1900 {
            // Some files already on the right: a write there is a conflict-free overwrite.
            for i in (0..1300).step_by(10) {
                write(
                    dir.join(format!("b/d{}/f{i:04}", i % 7)),
                    &format!("file {i}\n"),
                );
            }
        }
        let before = tree(&dir.join("a"));
        let args = ["sync", "a", "b", "--concurrency", "4"];
        let crashed = run(dir, &args, &[("DRIFTSYNC_TEST_CRASH_AT", k.to_string())]);
        if crashed.status.success() {
            continue; // past the last crash point of this run
        }
        assert_eq!(crashed.status.signal(), Some(9), "kill at {k}: {crashed:?}");
        killed += 1;
        let rerun = run(dir, &args, &[]);
        assert!(
            rerun.status.success(),
            "rerun after kill at {k}: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let (a, b) = (tree(&dir.join("a")), tree(&dir.join("b")));
        assert_eq!(a, before, "kill at {k}: the source side changed");
        assert_eq!(a, b, "kill at {k}: sides differ after the rerun");
        plans_nothing(dir, k);
    }
    assert!(killed >= 3, "only {killed} kills landed inside the run");
}

#[test]
fn a_second_run_while_one_runs_exits_2_locked_by_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pending_sync(dir);
    let mut first = bin()
        .current_dir(dir)
        .args(["sync", "a", "b"])
        .env("DRIFTSYNC_TEST_STALL_AT", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.join(".driftsync/lock");
    let start = Instant::now();
    while !fs::read_to_string(&lock).is_ok_and(|s| s.contains("pid")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run(dir, &["sync", "a", "b"], &[]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("locked by pid {}", first.id())),
        "{stderr}"
    );
}

#[test]
fn names_non_utf8_skipped_symlinks_reported_others_synced() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("a")).unwrap();
    fs::create_dir_all(dir.join("b")).unwrap();
    fs::write(
        dir.join("a")
            .join(std::ffi::OsStr::from_bytes(b"latin1-\xe9t\xe9")),
        "x",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("a/outside")).unwrap();
    write(dir.join("a/with space.txt"), "s");
    write(dir.join("a/caf\u{e9}"), "nfc");
    write(dir.join("a/cafe\u{301}"), "nfd");
    write(dir.join("a/Readme.md"), "r");
    let out = run(dir, &["sync", "a", "b"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("not valid UTF-8; skipped"), "{stderr}");
    assert!(stderr.contains("outside: symbolic link"), "{stderr}");
    let b = tree(&dir.join("b"));
    let names: Vec<&str> = b.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        ["Readme.md", "cafe\u{301}", "caf\u{e9}", "with space.txt"]
    );
    // A case-only rename is a delete plus a new file (one line each with -v;
    // the summary counts them).
    fs::rename(dir.join("a/Readme.md"), dir.join("a/README.md")).unwrap();
    let out = run(dir, &["sync", "a", "b", "-v"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 created, 0 updated, 1 deleted"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("- left→right  Readme.md  deleted on left"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+ left→right  README.md  new on left"),
        "{stdout}"
    );
    assert!(dir.join("b/README.md").exists() && !dir.join("b/Readme.md").exists());
}

/// `--json` carries the counts: created, updated, deleted, skipped,
/// conflicts with both sides' modification times, backups, duration.
#[test]
fn json_summary_counts_what_the_sync_did() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir.join("a/new-left"), "l");
    write(dir.join("b/new-right"), "r");
    write(dir.join("a/shared"), "same");
    write(dir.join("b/shared"), "same");
    write(dir.join("a/gone"), "bye");
    write(dir.join("b/gone"), "bye");
    write(dir.join("a/edit"), "v1");
    write(dir.join("b/edit"), "v1");
    let first = run(dir, &["sync", "a", "b", "--json"], &[]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(v["summary"]["created"], 2, "{v}");
    assert_eq!(v["summary"]["updated"], 0, "{v}");
    write(dir.join("a/edit"), "v2");
    std::fs::remove_file(dir.join("b/gone")).unwrap();
    write(dir.join("a/shared"), "left's");
    write(dir.join("b/shared"), "right's");
    let left = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(dir.join("a/shared"))
        .unwrap()
        .set_modified(left)
        .unwrap();
    let out = run(
        dir,
        &["sync", "a", "b", "--json", "--on-conflict", "keep-both"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(s["created"], 1, "the kept copy: {v}");
    assert_eq!(s["updated"], 2, "edit and the conflict's winner: {v}");
    assert_eq!(s["deleted"], 1, "{v}");
    assert_eq!(s["skipped"], 0, "{v}");
    assert_eq!(s["conflicts"], 1, "{v}");
    assert_eq!(s["unresolved"], 0, "{v}");
    assert_eq!(s["conflict_files"][0]["path"], "shared", "{v}");
    assert_eq!(
        s["conflict_files"][0]["left_mtime"], "2023-11-14T22:13:20Z",
        "{v}"
    );
    assert!(
        s["conflict_files"][0]["right_mtime"]
            .as_str()
            .unwrap()
            .starts_with("20"),
        "{v}"
    );
    assert!(s["duration_ms"].is_u64(), "{v}");
    assert!(s["backed_up"].is_u64(), "{v}");
}

#[test]
fn conflicts_left_exit_1_and_json_prints_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir.join("a/f"), "left");
    write(dir.join("b/f"), "right");
    let out = run(
        dir,
        &["sync", "a", "b", "--on-conflict", "skip", "--json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["plan"]["conflicts"][0]["path"], "f");
    assert_eq!(v["plan"]["conflicts"][0]["resolution"], "unresolved");
    let dry = run(
        dir,
        &["sync", "a", "b", "--on-conflict", "skip", "--dry-run"],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "! conflict    f  new on both sides, contents differ (unresolved)\n"
    );
    let bad = run(dir, &["sync", "a", "b", "--on-conflict", "coin-flip"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("keep-both"));
}

#[test]
fn max_delete_refuses_with_exit_1_then_force_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for i in 0..4 {
        write(dir.join(format!("a/f{i}")), "x");
    }
    assert!(run(dir, &["sync", "a", "b"], &[]).status.success());
    for i in 0..3 {
        fs::remove_file(dir.join(format!("a/f{i}"))).unwrap();
    }
    let out = run(dir, &["sync", "a", "b"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("above max-delete 50%"));
    assert_eq!(tree(&dir.join("b")).len(), 4);
    let out = run(dir, &["sync", "a", "b", "--force"], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forced: applied despite"));
    assert_eq!(tree(&dir.join("b")).len(), 1);
    let (manifests, backups): (Vec<PathBuf>, Vec<PathBuf>) =
        all_files(&dir.join(".driftsync/backup"))
            .into_iter()
            .filter(|p| !p.ends_with(".gitignore"))
            .partition(|p| p.ends_with("run.json"));
    assert_eq!(backups.len(), 3, "deleted files not backed up");
    assert_eq!(
        manifests.len(),
        1,
        "one manifest for the run: {manifests:?}"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for i in 0..50 {
        write(dir.join(format!("a/f{i}")), "x\n");
    }
    fs::create_dir_all(dir.join("b")).unwrap();
    for args in [&["sync", "a", "b"][..], &["sync", "a", "b", "--json"][..]] {
        let mut child = bin()
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before anything is printed.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    }
    // The files were synced all the same.
    assert_eq!(tree(&dir.join("a")), tree(&dir.join("b")));
}

#[test]
fn nested_or_identical_sides_are_refused_with_exit_2_and_nothing_written() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(root.join("dl/a.txt"), "a\n");
    write(root.join("dl/sub/b.txt"), "b\n");
    fs::create_dir_all(root.join("other")).unwrap();
    // A link to `dl` from outside (the tree walk below does not follow links).
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("link");
    std::os::unix::fs::symlink(root.join("dl"), &link).unwrap();
    let link = link.to_str().unwrap();
    let link_sub = format!("{link}/sub");
    let link_sub_inside = format!("`{link_sub}` is inside `dl`");
    let before = tree(root);
    for (left, right, want) in [
        ("dl", "dl/sub", "`dl/sub` is inside `dl`"),
        ("dl/sub", "dl", "`dl/sub` is inside `dl`"),
        ("dl", "dl/new/deeper", "`dl/new/deeper` is inside `dl`"),
        ("dl", "dl", "are the same directory"),
        ("dl", "./dl/", "are the same directory"),
        ("dl", link, "are the same directory"),
        (&link_sub, "dl", &link_sub_inside),
    ] {
        for extra in [&[][..], &["--dry-run"]] {
            let mut args = vec!["sync", left, right];
            args.extend(extra);
            let out = run(root, &args, &[]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(want), "{args:?}: {err}");
        }
    }
    assert_eq!(tree(root), before, "nothing was copied");
    assert!(!root.join("dl/new").exists());
    assert!(!root.join(".driftsync").exists(), "no state was written");
    // Siblings, and a name that merely starts like the other, still sync.
    let out = run(root, &["sync", "dl", "other"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(root, &["sync", "dl", "dl2"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn control_characters_in_names_cannot_fake_plan_lines() {
    let d = tempfile::tempdir().unwrap();
    let (left, right) = (d.path().join("left"), d.path().join("right"));
    fs::create_dir_all(&right).unwrap();
    let evil = "evil\n+ left→right  fake.txt  new on left";
    write(left.join(evil), "x\n");
    write(left.join("tab\there"), "t\n");
    write(left.join("esc\x1b[2K.txt"), "e\n");
    write(left.join("plain.txt"), "p\n");
    let (l, r) = (left.to_str().unwrap(), right.to_str().unwrap());
    // The plan of a dry run, and the files applied with -v.
    for extra in [&["--dry-run"][..], &["-v"]] {
        let mut args = vec!["sync", l, r];
        args.extend(extra);
        let out = run(d.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            [
                "+ left→right  \"esc\\033[2K.txt\"  new on left",
                "+ left→right  \"evil\\n+ left→right  fake.txt  new on left\"  new on left",
                "+ left→right  plain.txt  new on left",
                "+ left→right  \"tab\\there\"  new on left",
            ],
            "{args:?}"
        );
    }
    // The copy has the exact name, and JSON keeps it exact too.
    assert_eq!(fs::read_to_string(right.join(evil)).unwrap(), "x\n");
    write(left.join(evil), "y\n");
    let out = run(d.path(), &["sync", l, r, "--dry-run", "--json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["plan"]["actions"][0]["path"], evil, "{doc}");
}
