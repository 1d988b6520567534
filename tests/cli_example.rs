//! The bundled demo (examples/demo) works on a fresh copy, and a second run does nothing new.

mod cli_support;

use std::path::Path;
use std::process::Command;

use cli_support::git;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn the_demo_syncs_every_direction_and_a_second_run_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    // The same remote the README's first command makes.
    let made = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo-remote.sh"))
        .arg(&remote)
        .output()
        .expect("bash examples/demo-remote.sh");
    assert!(
        made.status.success(),
        "demo-remote.sh: {made:?} (it needs git and python3)"
    );

    let repo = tmp.path().join("repo");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo"),
        &repo,
    );
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Demo"]);
    git(&repo, &["config", "user.email", "demo@example.com"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "demo"]);

    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
            .args(["run", "--verify"])
            .current_dir(&repo)
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_EVENT_NAME")
            .env_remove("DEMO_REMOTE")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{text}");
        text
    };
    let count = || {
        git(&repo, &["rev-list", "--count", "HEAD"])
            .trim()
            .to_string()
    };
    let first = run();
    assert_eq!(count(), "2");
    let files = git(&repo, &["show", "--name-only", "--format=", "HEAD"]);
    for f in [
        "addons/community/accounting/manifest.json",
        "assets/site.css",
        ".driftsync/state/site_assets.json",
        "schemas/tables.py",
        "docs/runtime/hosts.json",
        "catalog.txt",
        "templates/about.html",
        ".driftsync/state/publish_docs.push.json",
    ] {
        assert!(files.contains(f), "{f} not committed:\n{files}");
    }
    assert!(
        remote.join("site/index.md").exists(),
        "push did not publish"
    );
    // The sync target: both ways, and the one conflict resolved and reported.
    assert!(remote.join("bucket/README.md").is_file(), "{first}");
    assert_eq!(
        std::fs::read(remote.join("bucket/img/logo.svg")).unwrap(),
        std::fs::read(repo.join("assets/img/logo.svg")).unwrap(),
        "the newer (repository) logo won"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join(".driftsync/reports/report.json")).unwrap(),
    )
    .unwrap();
    let target = |name: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {report}"))
    };
    assert_eq!(
        target("site_assets")["conflicts"][0]["path"],
        "img/logo.svg",
        "{report}"
    );
    // The bundle is stored in the database; the schema target typed the tables.
    assert_eq!(target("frameworks")["status"], "ok", "{report}");
    assert!(remote.join("frameworks.db").is_file());
    let tables = std::fs::read_to_string(repo.join("schemas/tables.py")).unwrap();
    assert!(
        tables.contains("class Customers") || tables.contains("class Customer"),
        "{tables}"
    );
    let second = run();
    assert_eq!(count(), "2", "the second run committed something");
    assert!(
        second.contains("inputs unchanged since the last push"),
        "{second}"
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("site/publish.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    assert_eq!(git(&repo, &["status", "--porcelain"]).trim(), "");
}
