//! `driftsync hook install` with real git commits: a drifted schema refuses
//! the commit, `--no-verify` still commits, an in-sync schema commits.

use std::path::Path;
use std::process::{Command, Output};

use driftsync_testkit::{git, isolated, temp_repo, text, PgCluster};

fn run(dir: &Path, program: &str, args: &[&str], database: &str) -> Output {
    isolated(Command::new(program).args(args).current_dir(dir))
        .env("DATABASE_URL", database)
        .output()
        .expect("run")
}

#[test]
fn hook_pre_commit_refuses_drift_and_no_verify_bypasses() {
    let exe = env!("CARGO_BIN_EXE_driftsync");
    let pg = PgCluster::start();
    let url = pg.create_database("app");
    pg.psql(
        "app",
        "CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL)",
    );
    let repo = temp_repo();
    let dir = repo.path();

    let o = run(dir, exe, &["schema", "update"], &url);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(dir, exe, &["hook", "install"], &url);
    assert!(o.status.success(), "{}", text(&o));
    let hook = dir.join(".git/hooks/pre-commit");
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(script.contains("'schema' 'check'"), "{script}");

    // In sync: the commit goes through.
    git(dir, &["add", "schemas"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "schemas"], &url);
    assert!(o.status.success(), "in-sync commit refused: {}", text(&o));

    // A migration lands but nobody regenerated: the commit is refused.
    pg.psql("app", "ALTER TABLE organizations DROP COLUMN name");
    std::fs::write(dir.join("notes.txt"), "x\n").unwrap();
    git(dir, &["add", "notes.txt"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "notes"], &url);
    assert!(!o.status.success(), "drifted commit was accepted");
    assert!(text(&o).contains("critical column-removed"), "{}", text(&o));
    let head = git(dir, &["log", "--oneline"]);
    assert!(!head.contains("notes"), "{head}");

    // --no-verify bypasses the hook, as git does.
    let o = run(
        dir,
        "git",
        &["commit", "-q", "--no-verify", "-m", "notes"],
        &url,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(git(dir, &["log", "--oneline"]).contains("notes"));

    // Regenerating fixes it.
    let o = run(dir, exe, &["schema", "update"], &url);
    assert!(o.status.success(), "{}", text(&o));
    git(dir, &["add", "schemas"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "regenerate"], &url);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn hook_install_keeps_a_foreign_hook_unless_forced() {
    let exe = env!("CARGO_BIN_EXE_driftsync");
    let repo = temp_repo();
    let dir = repo.path();
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let o = run(dir, exe, &["hook", "install"], "");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let o = run(
        dir,
        exe,
        &[
            "hook",
            "install",
            "--force",
            "--",
            "schema",
            "check",
            "--fail-on",
            "high",
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(
        script.contains("'schema' 'check' '--fail-on' 'high'"),
        "{script}"
    );
    // Reinstalling over our own hook needs no --force.
    let o = run(dir, exe, &["hook", "install"], "");
    assert!(o.status.success(), "{}", text(&o));
    // Outside a repository: exit 2.
    let plain = tempfile::tempdir().unwrap();
    let o = run(plain.path(), exe, &["hook", "install"], "");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
