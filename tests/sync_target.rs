//! `type: sync` targets in `.driftsync/sync.yaml`, run by `driftsync run` and `check`.

mod cli_support;

use cli_support::Repo;

fn repo_with_sync_target(remote: &std::path::Path) -> Repo {
    let r = Repo::new();
    r.write(
        ".driftsync/sync.yaml",
        &format!(
            "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: {}\n    outputs: [\"docs/**\"]\n",
            remote.display()
        ),
    );
    r.write("docs/a.md", "from the repo\n");
    r.commit_all("docs and config");
    std::fs::create_dir_all(remote).unwrap();
    std::fs::write(remote.join("b.md"), "from the remote\n").unwrap();
    r
}

#[test]
fn a_sync_target_syncs_both_ways_and_commits_files_and_state() {
    let remote = tempfile::tempdir().unwrap();
    let r = repo_with_sync_target(&remote.path().join("share"));
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(remote.path().join("share/a.md")).unwrap(),
        "from the repo\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.p("docs/b.md")).unwrap(),
        "from the remote\n"
    );
    assert!(r.exists(".driftsync/state/docs.json"), "base not written");
    let rep = r.report();
    let actions = rep["results"][0]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2, "{rep}");
    // In check mode nothing is pending now.
    let check = r.run(&["check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    // A change on the remote is drift for `check`, and `check` changes nothing.
    std::fs::write(remote.path().join("share/b.md"), "edited remotely\n").unwrap();
    let check = r.run(&["check"]);
    assert_eq!(check.code, 1, "{}", check.all());
    assert_eq!(
        std::fs::read_to_string(r.p("docs/b.md")).unwrap(),
        "from the remote\n"
    );
}

#[test]
fn a_conflict_left_by_skip_fails_the_run() {
    let remote = tempfile::tempdir().unwrap();
    let share = remote.path().join("share");
    let r = repo_with_sync_target(&share);
    std::fs::write(share.join("a.md"), "a different a\n").unwrap();
    let yaml = std::fs::read_to_string(r.p(".driftsync/sync.yaml")).unwrap();
    r.write(
        ".driftsync/sync.yaml",
        &format!("{yaml}    on_conflict: skip\n"),
    );
    r.commit_all("skip conflicts");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rep = r.report();
    assert_eq!(rep["results"][0]["conflicts"][0]["path"], "a.md", "{rep}");
    assert_eq!(
        rep["results"][0]["conflicts"][0]["resolution"],
        "unresolved"
    );
}

#[test]
fn a_sync_target_whose_remote_overlaps_local_is_a_config_error() {
    let outside = tempfile::tempdir().unwrap();
    for (local, remote, want) in [
        (
            "docs/",
            "docs/mirror".to_string(),
            "`remote` docs/mirror is inside `local` docs",
        ),
        (
            "docs/sub",
            "docs".to_string(),
            "`local` docs/sub is inside `remote` docs",
        ),
        (
            "docs",
            "./docs/".to_string(),
            "is the same directory as `local` docs",
        ),
        (
            "docs",
            "{ROOT}/docs".to_string(),
            "is the same directory as `local` docs",
        ),
    ] {
        let r = Repo::new();
        let remote = remote.replace("{ROOT}", &r.path().display().to_string());
        r.write(
            ".driftsync/sync.yaml",
            &format!(
                "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: {local}\n    remote: {remote}\n"
            ),
        );
        r.write("docs/a.md", "x\n");
        for cmd in [&["config", "validate"][..], &["run"], &["check"]] {
            let out = r.run(cmd);
            assert_eq!(out.code, 2, "{cmd:?} {local} {remote}: {}", out.all());
            assert!(
                out.stderr.contains(".driftsync/sync.yaml:6:13:") && out.stderr.contains(want),
                "{cmd:?} {local} {remote}: {}",
                out.stderr
            );
        }
        assert!(!r.exists("docs/mirror"), "nothing copied");
    }
    // A directory outside the repository is fine.
    let r = Repo::new();
    r.write(
        ".driftsync/sync.yaml",
        &format!(
            "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs\n    remote: {}\n",
            outside.path().join("share").display()
        ),
    );
    assert_eq!(r.run(&["config", "validate"]).code, 0);
}

/// The strategy names of the tools driftsync replaces, in both spellings,
/// are accepted by sync.yaml and by `--on-conflict` alike; anything else is
/// refused by both.
#[test]
fn config_and_cli_accept_the_same_conflict_policy_names() {
    let names = [
        "newer",
        "local",
        "remote",
        "keep-both",
        "skip",
        "fail",
        "newer-wins",
        "newest-wins",
        "local-wins",
        "remote-wins",
        "directory-wins",
        "space-wins",
        "backup-both",
        "left",
        "right",
    ];
    let remote = tempfile::tempdir().unwrap();
    let r = repo_with_sync_target(&remote.path().join("share"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let spellings = names
        .iter()
        .flat_map(|n| [n.to_string(), n.replace('-', "_")]);
    for name in spellings.chain(["manual".into(), "MANUAL".into(), "newest_winner".into()]) {
        let known = name != "newest_winner";
        r.write(
            ".driftsync/sync.yaml",
            &format!(
                "version: \"1.0\"\ndefaults:\n  on_conflict: {name}\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: {}\n    on_conflict: {name}\n",
                remote.path().join("share").display()
            ),
        );
        let cfg = r.run(&["config", "validate"]);
        let cli = r.run(&["sync", a, b, "--dry-run", "--on-conflict", &name]);
        if known {
            assert_eq!(cfg.code, 0, "{name}: {}", cfg.all());
            assert_eq!(cli.code, 0, "{name}: {}", cli.all());
        } else {
            assert_eq!(cfg.code, 2, "{name}: {}", cfg.all());
            assert_eq!(cli.code, 2, "{name}: {}", cli.all());
            for at in ["sync.yaml:3:16:", "sync.yaml:9:18:"] {
                assert!(cfg.all().contains(at), "{name}: {}", cfg.all());
            }
            for out in [&cfg, &cli] {
                assert!(out.all().contains("skip"), "{name}: {}", out.all());
            }
        }
    }
    let unknown = r.run(&["config", "validate"]);
    assert!(unknown.all().contains("newest_wins"), "{}", unknown.all());
    // Directions take the space coordinator's names too.
    r.write(
        ".driftsync/sync.yaml",
        &format!(
            "version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    direction: space_to_directory\n    local: docs/\n    remote: {}\n",
            remote.path().join("share").display()
        ),
    );
    let pulls = r.run(&["list", "--direction", "pull", "--json"]);
    assert_eq!(pulls.code, 0, "{}", pulls.all());
    assert!(pulls.all().contains("\"docs\""), "{}", pulls.all());
    let aliased = r.run(&["list", "--direction", "SPACE-TO-DIRECTORY", "--json"]);
    assert_eq!(aliased.stdout, pulls.stdout, "{}", aliased.all());
}

/// `directory_wins` (the space coordinator's name) lets the repository's
/// folder win a conflict, as `local` does.
#[test]
fn directory_wins_resolves_a_conflict_for_the_repository_side() {
    let remote = tempfile::tempdir().unwrap();
    let share = remote.path().join("share");
    let r = repo_with_sync_target(&share);
    std::fs::write(share.join("a.md"), "edited in the share\n").unwrap();
    let yaml = std::fs::read_to_string(r.p(".driftsync/sync.yaml")).unwrap();
    r.write(
        ".driftsync/sync.yaml",
        &format!("{yaml}    on_conflict: directory_wins\n"),
    );
    r.write("docs/a.md", "edited in the repo\n");
    r.commit_all("directory wins");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(share.join("a.md")).unwrap(),
        "edited in the repo\n"
    );
    let rep = r.report();
    assert_eq!(rep["results"][0]["conflicts"][0]["path"], "a.md", "{rep}");
}

/// `retry_delay` sits next to `retries` in sync.yaml and on the command line;
/// a value that is not a duration is refused at its line and column.
#[test]
fn retry_delay_is_a_duration_in_config_and_cli() {
    let remote = tempfile::tempdir().unwrap();
    let r = repo_with_sync_target(&remote.path().join("share"));
    let yaml = r.read(".driftsync/sync.yaml");
    r.write(
        ".driftsync/sync.yaml",
        &format!("{yaml}    retries: 5\n    retry_delay: 1s\n"),
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    r.write(
        ".driftsync/sync.yaml",
        &format!("{yaml}    retry_delay: soon\n"),
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("sync.yaml:8:18: bad duration"),
        "{}",
        out.all()
    );
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let ok = r.run(&["sync", a, b, "--retry-delay", "500ms", "--dry-run"]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let bad = r.run(&["sync", a, b, "--retry-delay", "soon"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(bad.all().contains("--retry-delay"), "{}", bad.all());
}
