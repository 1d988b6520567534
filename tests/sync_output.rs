//! What `driftsync sync` and `type: sync` targets print: a summary by
//! default, one line per file with `-v`, bars only on a terminal outside CI,
//! and the summary inside a log group under `run` in CI.

mod cli_support;

use std::path::Path;
use std::process::Command;

use cli_support::{run_in, Repo};

/// A left folder of `n` small files and an empty right one.
fn tree_of(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    for i in 0..n {
        std::fs::write(dir.join(format!("a/f{i:03}.txt")), format!("file {i}\n")).unwrap();
    }
}

fn assert_plain(text: &str) {
    assert!(!text.contains('\r'), "a carriage return: {text:?}");
    assert!(!text.contains('\x1b'), "an escape sequence: {text:?}");
}

#[test]
fn an_initial_sync_of_300_files_prints_a_summary_not_300_lines() {
    let d = tempfile::tempdir().unwrap();
    tree_of(d.path(), 300);
    let out = run_in(d.path(), &["sync", "a", "b"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "", "no line per file by default");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].starts_with(
            "300 applied, 0 not done, 0 conflict(s) left: 300 created, 0 updated, 0 deleted, "
        ),
        "{}",
        lines[0]
    );
    // 300 files of "file N\n": 10×7 + 90×8 + 200×9 bytes.
    assert!(lines[0].contains("2.53 KiB copied"), "{}", lines[0]);
    assert_plain(&out.stderr);
    assert_eq!(std::fs::read_dir(d.path().join("b")).unwrap().count(), 300);
}

#[test]
fn verbose_prints_one_line_per_file() {
    let d = tempfile::tempdir().unwrap();
    tree_of(d.path(), 300);
    let out = run_in(d.path(), &["sync", "a", "b", "-v"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 300, "{}", out.stdout);
    assert_eq!(lines[0], "+ left→right  f000.txt  new on left");
    assert!(lines.iter().all(|l| l.starts_with("+ left→right  f")));
    // The long form, as a global option before the command.
    std::fs::write(d.path().join("a/f001.txt"), "changed\n").unwrap();
    let out = run_in(d.path(), &["--verbose", "sync", "a", "b"], &[]);
    assert_eq!(out.stdout, "~ left→right  f001.txt  changed on left\n");
    assert!(
        out.stderr.contains("0 created, 1 updated, 0 deleted"),
        "{}",
        out.stderr
    );
}

#[test]
fn conflicts_show_without_verbose() {
    let d = tempfile::tempdir().unwrap();
    tree_of(d.path(), 3);
    assert_eq!(run_in(d.path(), &["sync", "a", "b"], &[]).code, 0);
    std::fs::write(d.path().join("a/f001.txt"), "left edit\n").unwrap();
    std::fs::write(d.path().join("b/f001.txt"), "right edit\n").unwrap();
    std::fs::write(d.path().join("a/f002.txt"), "only left\n").unwrap();
    let out = run_in(d.path(), &["sync", "a", "b", "--on-conflict", "skip"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the conflict: {}", out.stdout);
    assert!(
        lines[0].starts_with("! conflict") && lines[0].contains("f001.txt"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("1 applied, 0 not done, 1 conflict(s) left: 0 created, 1 updated"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dry_run_still_lists_the_plan() {
    let d = tempfile::tempdir().unwrap();
    tree_of(d.path(), 5);
    let out = run_in(d.path(), &["sync", "a", "b", "--dry-run"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("dry run: 5 action(s) planned, nothing changed: 5 to create"),
        "{}",
        out.stderr
    );
}

/// Run `driftsync ARGS` in `dir` on a pseudo-terminal (util-linux `script`);
/// stdout and stderr arrive together.
fn on_a_terminal(dir: &Path, args: &str, ci: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("{} {args}", env!("CARGO_BIN_EXE_driftsync")),
        "/dev/null",
    ])
    .current_dir(dir)
    .env_remove("CI")
    .env_remove("GITHUB_ACTIONS");
    if ci {
        cmd.env("CI", "true");
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux) runs the binary on a pseudo-terminal; install it with `apt-get install util-linux` (.ci/run does)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bars_on_a_terminal_none_in_ci() {
    let d = tempfile::tempdir().unwrap();
    tree_of(d.path(), 50);
    let shown = on_a_terminal(d.path(), "sync a b", false);
    assert!(shown.contains("scanning"), "the scan spinner: {shown:?}");
    assert!(shown.contains("\r\x1b[2K"), "redrawn in place: {shown:?}");
    assert!(shown.contains("50 applied"), "{shown:?}");
    std::fs::write(d.path().join("a/f001.txt"), "changed\n").unwrap();
    let ci = on_a_terminal(d.path(), "sync a b", true);
    assert!(ci.contains("1 applied"), "{ci:?}");
    assert!(!ci.contains("scanning"), "{ci:?}");
    assert_plain(&ci.replace("\r\n", "\n"));
}

#[test]
fn run_in_ci_prints_the_summary_inside_the_targets_log_group() {
    let remote = tempfile::tempdir().unwrap();
    let share = remote.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    let r = Repo::new();
    r.write(
        ".driftsync/sync.yaml",
        &format!(
            "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: {}\n    outputs: [\"docs/**\"]\n",
            share.display()
        ),
    );
    for i in 0..20 {
        r.write(&format!("docs/f{i:02}.md"), "text\n");
    }
    r.commit_all("docs and config");
    let out = r.run(&["run", "--ci"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let group: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("::group::docs (sync"))
        .take_while(|l| *l != "::endgroup::")
        .collect();
    assert_eq!(group.len(), 2, "{}", out.stdout);
    assert!(
        group[1].starts_with("20 created, 0 updated, 0 deleted, 100 B copied in "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("::endgroup::"), "{}", out.stdout);
    assert_plain(&out.all());
    // With -v, one line per file inside the group.
    r.write("docs/new.md", "new\n");
    r.commit_all("one more");
    let out = r.run(&["run", "--ci", "-v"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(
            "::group::docs (sync, bidirectional)\n+ left→right  new.md  new on left\n1 created"
        ),
        "{}",
        out.stdout
    );
}
