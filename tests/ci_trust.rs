//! What a CI user relies on when a sync job fails or runs next to another:
//! a failed target commits its local writes with the base that records
//! them, a second job on the same remote is refused while the first holds
//! the lease, and many simultaneous starts of one pair apply once.

mod cli_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::Repo;

/// `driftsync ARGS` in `dir` as a CI job runs it: exit code and all output.
fn job(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GITHUB_ACTIONS")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

fn sync_target(remote: &Path) -> String {
    format!(
        "version: \"1.0\"\ntargets:\n  settings:\n    type: sync\n    direction: bidirectional\n    local: config/\n    remote: {}\n    validate: [yaml]\n    outputs: [\"config/**\"]\n",
        remote.display()
    )
}

#[test]
fn a_failed_sync_target_commits_its_local_writes_with_its_base() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir_all(&remote).unwrap();
    let r = Repo::new();
    r.config(&sync_target(&remote));
    r.write("config/a.yaml", "a: 1\n");
    r.write("config/c.yaml", "c: old\n");
    r.commit_all("settings");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // On the remote: an edit, and a file that does not parse.
    std::fs::write(remote.join("c.yaml"), "c: newer on the remote\n").unwrap();
    std::fs::write(remote.join("b.yaml"), "b: [never closed\n").unwrap();
    let out = r.run(&["run"]);
    assert_eq!(
        out.code,
        1,
        "the held-back file fails the run: {}",
        out.all()
    );
    let report = r.report().to_string();
    assert!(report.contains("b.yaml"), "{report}");
    // The pulled file went into the commit with the base that records it.
    let dirty = r.git(&["status", "--porcelain", "config", ".driftsync/state"]);
    assert_eq!(dirty, "", "left uncommitted: {dirty}");
    assert_eq!(
        r.git(&["show", "HEAD:config/c.yaml"]),
        "c: newer on the remote\n"
    );
    assert!(
        !r.exists("config/b.yaml"),
        "the invalid file was propagated"
    );
    // The next job starts from a fresh clone of that commit: the remote's
    // newer content stays.
    let clone = tmp.path().join("next-job");
    r.git(&[
        "clone",
        "-q",
        r.path().to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    std::fs::write(remote.join("b.yaml"), "b: fixed\n").unwrap();
    let (code, text) = job(&clone, &["run", "--no-push"], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        std::fs::read_to_string(remote.join("c.yaml")).unwrap(),
        "c: newer on the remote\n",
        "the remote's newer content was overwritten: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("config/b.yaml")).unwrap(),
        "b: fixed\n"
    );
}

#[test]
fn a_second_job_on_the_same_remote_waits_for_the_lease() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir_all(&remote).unwrap();
    let r = Repo::new();
    r.config(&sync_target(&remote));
    r.write("config/a.yaml", "a: 1\n");
    r.commit_all("settings");
    // Two checkouts of the same repository, as two CI jobs have.
    let other = tmp.path().join("other-job");
    r.git(&[
        "clone",
        "-q",
        r.path().to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    // The first job stalls at its second crash point: the first is the
    // lease's own write, the second the journal's, before any data.
    let mut first = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(["run", "--no-commit"])
        .current_dir(r.path())
        .env("DRIFTSYNC_TEST_STALL_AT", "2")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lease = remote.join(".driftsync/lease/settings.json");
    let start = Instant::now();
    while !std::fs::read_to_string(&lease).is_ok_and(|s| s.contains("pid")) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the first job never took the lease"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, text) = job(&other, &["run", "--no-commit"], &[]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("another run is syncing this remote")
            && text.contains(&format!("pid {}", first.id())),
        "{text}"
    );
    // The first job was killed: its lease is taken over by the next run on
    // this machine at once (its process is gone), and the run completes.
    let (code, text) = job(&other, &["run", "--no-commit"], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        std::fs::read_to_string(remote.join("a.yaml")).unwrap(),
        "a: 1\n"
    );
}

/// 100 runs of the same pair started together, each from its own
/// directory (so each has its own state file and lock): exactly one copies.
#[test]
fn a_hundred_simultaneous_starts_of_one_pair_apply_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (left, right) = (tmp.path().join("left"), tmp.path().join("right"));
    std::fs::create_dir_all(&right).unwrap();
    for i in 0..40 {
        let f = left.join(format!("d{}/f{i}.txt", i % 4));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, format!("file {i}\n")).unwrap();
    }
    let children: Vec<_> = (0..100)
        .map(|i| {
            let cwd = tmp.path().join(format!("cwd-{i}"));
            std::fs::create_dir_all(&cwd).unwrap();
            Command::new(env!("CARGO_BIN_EXE_driftsync"))
                .args([
                    "sync",
                    left.to_str().unwrap(),
                    right.to_str().unwrap(),
                    "-v",
                ])
                .current_dir(&cwd)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut copied = 0;
    let mut refused = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => copied += usize::from(text.contains("+ left→right")),
            Some(2) => {
                assert!(
                    text.contains("another run is syncing this remote"),
                    "exit 2 for another reason: {text}"
                );
                refused += 1;
            }
            other => panic!("exit {other:?}: {text}"),
        }
    }
    assert_eq!(copied, 1, "{copied} runs copied files ({refused} refused)");
    for i in 0..40 {
        assert_eq!(
            std::fs::read_to_string(right.join(format!("d{}/f{i}.txt", i % 4))).unwrap(),
            format!("file {i}\n")
        );
    }
}

/// A job in a fresh clone of a repository in step commits nothing: its files
/// have new inodes and mtimes, which alone never rewrite the committed base.
#[test]
fn a_fresh_clone_in_step_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir_all(&remote).unwrap();
    let r = Repo::new();
    r.config(&sync_target(&remote));
    r.write("config/a.yaml", "a: 1\n");
    r.commit_all("settings");
    std::fs::write(remote.join("b.yaml"), "b: 2\n").unwrap();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let head = r.head();
    for job in ["job-1", "job-2"] {
        let clone = tmp.path().join(job);
        r.git(&[
            "clone",
            "-q",
            r.path().to_str().unwrap(),
            clone.to_str().unwrap(),
        ]);
        let (code, text) = job_run(&clone);
        assert_eq!(code, Some(0), "{text}");
        let at = git_head(&clone);
        assert_eq!(at, head, "{job} committed something: {text}");
    }
}

fn job_run(dir: &Path) -> (Option<i32>, String) {
    job(dir, &["run", "--no-push"], &[])
}

fn git_head(dir: &Path) -> String {
    cli_support::git(dir, &["rev-parse", "HEAD"])
        .trim()
        .to_string()
}

/// `P`, `P/`, `../x/P` and a link to `P` are one location: the same base
/// and the same lease, so a deleted file stays deleted.
#[test]
fn an_ad_hoc_pair_is_one_pair_however_it_is_spelled() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("P")).unwrap();
    std::fs::create_dir_all(dir.join("Q")).unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("P/keep.txt"), "1\n").unwrap();
    std::fs::write(dir.join("P/gone.txt"), "2\n").unwrap();
    let (code, text) = job(dir, &["sync", "P", "Q"], &[]);
    assert_eq!(code, Some(0), "{text}");
    std::fs::remove_file(dir.join("P/gone.txt")).unwrap();
    let (code, text) = job(dir, &["sync", "P/", "sub/../Q/"], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        !dir.join("P/gone.txt").exists() && !dir.join("Q/gone.txt").exists(),
        "the deleted file came back: {text}"
    );
    let states = std::fs::read_dir(dir.join(".driftsync/state"))
        .unwrap()
        .count();
    assert_eq!(states, 1, "one base for one pair");
}
