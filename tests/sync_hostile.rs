//! `driftsync sync` and `driftsync restore` on hostile trees: symbolic links
//! on either side (to a directory outside, to `..`, into `.git/hooks`, as a
//! directory in the middle of a path and as the file itself) are reported
//! and never followed — nothing outside the two roots is written, deleted,
//! or read into the other side. Also the engine's temp files: only its own
//! are treated as such.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .env_remove("DRIFTSYNC_TEST_CRASH_AT")
        .env_remove("DRIFTSYNC_TEST_STALL_AT")
        .env("CI", "true")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run driftsync")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(path: impl AsRef<Path>, content: &str) {
    let path = path.as_ref();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Every entry under `dir` (not following links): path → content, or
/// `-> target` for a link.
fn listing(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                out.insert(rel, format!("-> {}", fs::read_link(&p).unwrap().display()));
            } else if t.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    rel,
                    String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned(),
                );
            }
        }
    }
    out
}

/// `left/`, `right/` and `outside/` (with one file) in a fresh directory.
fn setup() -> (tempfile::TempDir, BTreeMap<String, String>) {
    let d = tempfile::tempdir().unwrap();
    for s in ["left", "right"] {
        fs::create_dir_all(d.path().join(s)).unwrap();
    }
    write(d.path().join("outside/secret.txt"), "outside secret");
    let before = listing(&d.path().join("outside"));
    (d, before)
}

#[test]
fn a_directory_link_on_the_destination_is_not_written_through() {
    let (d, outside) = setup();
    let dir = d.path();
    write(dir.join("left/sub/x.txt"), "x");
    symlink(dir.join("outside"), dir.join("right/sub")).unwrap();
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("refusing to write through symbolic link sub/"),
        "{said}"
    );
    assert!(said.contains("sub: symbolic link; not followed"), "{said}");
    assert_eq!(listing(&dir.join("outside")), outside, "{said}");
    assert!(fs::symlink_metadata(dir.join("right/sub"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_link_into_git_hooks_never_becomes_a_hook() {
    let (d, _) = setup();
    let dir = d.path();
    fs::create_dir_all(dir.join("repo/.git/hooks")).unwrap();
    fs::create_dir_all(dir.join("repo/site")).unwrap();
    symlink("../.git/hooks", dir.join("repo/site/hooks")).unwrap();
    write(dir.join("left/hooks/pre-commit"), "#!/bin/sh\necho owned\n");
    fs::set_permissions(
        dir.join("left/hooks/pre-commit"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let out = run(dir, &["sync", "left", "repo/site", "--state", "st.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("refusing to write through symbolic link hooks/"),
        "{}",
        text(&out)
    );
    assert!(
        listing(&dir.join("repo/.git/hooks")).is_empty(),
        "a hook was written"
    );
}

#[test]
fn a_link_to_the_parent_leads_nowhere() {
    let (d, outside) = setup();
    let dir = d.path();
    symlink("..", dir.join("right/up")).unwrap();
    write(dir.join("left/up/escaped.txt"), "escaped");
    write(dir.join("left/up/outside/secret.txt"), "overwritten");
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!dir.join("escaped.txt").exists(), "written above the root");
    assert_eq!(listing(&dir.join("outside")), outside);
    // The other way round: `up/…` on the left is not read into the right.
    let (d, _) = setup();
    let dir = d.path();
    symlink("..", dir.join("left/up")).unwrap();
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("up: symbolic link; not followed"),
        "{}",
        text(&out)
    );
    assert!(listing(&dir.join("right")).is_empty());
}

#[test]
fn links_on_the_source_are_not_read_into_the_other_side() {
    let (d, outside) = setup();
    let dir = d.path();
    symlink(dir.join("outside/secret.txt"), dir.join("left/file-link")).unwrap();
    symlink(dir.join("outside"), dir.join("left/dir-link")).unwrap();
    write(dir.join("left/plain.txt"), "plain");
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("file-link: symbolic link; not followed"),
        "{said}"
    );
    assert!(
        said.contains("dir-link: symbolic link; not followed"),
        "{said}"
    );
    let right = listing(&dir.join("right"));
    assert_eq!(right.keys().collect::<Vec<_>>(), ["plain.txt"]);
    assert_eq!(listing(&dir.join("outside")), outside);
}

#[test]
fn a_file_link_on_the_destination_is_neither_followed_nor_replaced() {
    let (d, outside) = setup();
    let dir = d.path();
    symlink(dir.join("outside/secret.txt"), dir.join("right/secret.txt")).unwrap();
    write(dir.join("left/secret.txt"), "from left");
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("refusing to replace symbolic link secret.txt"),
        "{said}"
    );
    assert_eq!(listing(&dir.join("outside")), outside);
    assert!(fs::symlink_metadata(dir.join("right/secret.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn an_overwrite_after_a_directory_became_a_link_is_refused() {
    let (d, _) = setup();
    let dir = d.path();
    write(dir.join("left/sub/x.txt"), "x v1");
    assert!(run(dir, &["sync", "left", "right", "--state", "st.json"])
        .status
        .success());
    // The right's `sub` is swapped for a link to an empty directory outside.
    fs::create_dir_all(dir.join("elsewhere")).unwrap();
    fs::rename(dir.join("right/sub"), dir.join("old-sub")).unwrap();
    symlink(dir.join("elsewhere"), dir.join("right/sub")).unwrap();
    write(dir.join("left/sub/x.txt"), "x v2, longer");
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(listing(&dir.join("elsewhere")).is_empty(), "{}", text(&out));
}

/// The run id printed by `driftsync sync` (`; run <id>`).
fn run_id(out: &Output) -> String {
    let said = text(out);
    let at = said
        .find("; run ")
        .unwrap_or_else(|| panic!("no run id in {said}"));
    said[at + 6..]
        .split(|c: char| c.is_whitespace() || c == ';' || c == ':' || c == ')')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn restore_never_writes_through_a_link_and_keeps_mode_and_mtime() {
    let (d, _) = setup();
    let dir = d.path();
    write(dir.join("left/sub/x.txt"), "x v1");
    write(dir.join("left/run.sh"), "#!/bin/sh\necho v1\n");
    fs::set_permissions(dir.join("left/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::new(1_600_000_000, 123_000_000);
    fs::File::options()
        .write(true)
        .open(dir.join("left/run.sh"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert!(run(dir, &["sync", "left", "right", "--state", "st.json"])
        .status
        .success());
    write(dir.join("left/sub/x.txt"), "x v2, longer");
    write(dir.join("left/run.sh"), "#!/bin/sh\necho v2, longer\n");
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert!(out.status.success(), "{}", text(&out));
    let id = run_id(&out);
    // Restoring brings back the executable bit and the mtime.
    let out = run(dir, &["restore", &id]);
    assert!(out.status.success(), "{}", text(&out));
    let m = fs::metadata(dir.join("right/run.sh")).unwrap();
    assert_eq!(
        fs::read_to_string(dir.join("right/run.sh")).unwrap(),
        "#!/bin/sh\necho v1\n"
    );
    assert!(
        m.permissions().mode() & 0o111 != 0,
        "lost the executable bit"
    );
    assert_eq!(m.modified().unwrap(), old, "lost the mtime");
    // Now `sub` on the right is a link to an empty directory outside.
    fs::create_dir_all(dir.join("elsewhere")).unwrap();
    fs::rename(dir.join("right/sub"), dir.join("old-sub")).unwrap();
    symlink(dir.join("elsewhere"), dir.join("right/sub")).unwrap();
    let out = run(dir, &["restore", &id]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("symbolic link sub/"), "{}", text(&out));
    assert!(
        listing(&dir.join("elsewhere")).is_empty(),
        "restored through a link"
    );
}

#[test]
fn files_that_only_look_like_temp_files_are_the_users() {
    let (d, _) = setup();
    let dir = d.path();
    write(dir.join("left/x.driftsync-tmp-foo"), "mine");
    write(dir.join("left/.x.driftsync-tmp-1-2"), "mine too");
    write(dir.join("right/.y.tmp-1"), "beside the state file");
    let out = run(
        dir,
        &[
            "sync",
            "left",
            "right",
            "--state",
            "./right/.st.json",
            "--dry-run",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        dir.join("left/x.driftsync-tmp-foo").exists(),
        "deleted by a dry run"
    );
    assert!(
        dir.join("left/.x.driftsync-tmp-1-2").exists(),
        "deleted by a dry run"
    );
    let out = run(
        dir,
        &["sync", "left", "right", "--state", "./right/.st.json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    for f in ["x.driftsync-tmp-foo", ".x.driftsync-tmp-1-2"] {
        assert!(dir.join("left").join(f).exists(), "{f} deleted");
        assert!(dir.join("right").join(f).exists(), "{f} not synced");
    }
    assert!(
        dir.join("right/.y.tmp-1").exists(),
        "a dotfile beside the state file was deleted"
    );
}

#[test]
fn a_killed_runs_temp_files_go_on_the_next_run_but_not_on_a_dry_run() {
    let (d, _) = setup();
    let dir = d.path();
    write(dir.join("left/a.txt"), "a");
    let pid = driftsync_testkit::dead_pid();
    let replica_tmp = dir.join(format!(
        "left/.a.txt.driftsync-tmp-{pid}-0123456789abcdef-3"
    ));
    let state_tmp = dir.join(format!(
        ".state.json.driftsync-tmp-{pid}-0123456789abcdef-0"
    ));
    write(&replica_tmp, "torn");
    write(&state_tmp, "torn state");
    let out = run(
        dir,
        &[
            "sync",
            "left",
            "right",
            "--state",
            "state.json",
            "--dry-run",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        replica_tmp.exists() && state_tmp.exists(),
        "a dry run deleted temp files"
    );
    let out = run(dir, &["sync", "left", "right", "--state", "state.json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!replica_tmp.exists(), "a killed run's temp file stays");
    assert!(!state_tmp.exists(), "a killed run's temp state file stays");
    assert!(!dir.join("right/.a.txt.driftsync-tmp-0").exists());
    assert_eq!(
        listing(&dir.join("right")).keys().collect::<Vec<_>>(),
        ["a.txt"]
    );
}

#[test]
fn names_of_up_to_255_bytes_sync() {
    let (d, _) = setup();
    let dir = d.path();
    let names: Vec<String> = [232, 250, 255].iter().map(|n| "n".repeat(*n)).collect();
    for n in &names {
        write(dir.join("left/d").join(n), "v1");
    }
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert!(out.status.success(), "{}", text(&out));
    for n in &names {
        write(dir.join("left/d").join(n), "v2, longer");
    }
    let out = run(dir, &["sync", "left", "right", "--state", "st.json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(listing(&dir.join("left")), listing(&dir.join("right")));
}
