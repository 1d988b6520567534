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
    let seed = tmp.path().join("seed");
    std::fs::create_dir_all(remote.join("facts")).unwrap();
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    for m in ["a", "b", "c"] {
        std::fs::create_dir_all(seed.join(m)).unwrap();
        std::fs::write(
            seed.join(m).join("manifest.json"),
            format!("{{\"name\": \"{m}\"}}\n"),
        )
        .unwrap();
    }
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "modules"]);
    git(
        tmp.path(),
        &["clone", "-q", "--bare", "seed", "remote/modules.git"],
    );
    std::fs::write(remote.join("facts/hosts.json"), "{\"hosts\": 2}\n").unwrap();

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
    run();
    assert_eq!(count(), "2");
    let files = git(&repo, &["show", "--name-only", "--format=", "HEAD"]);
    for f in [
        "addons/community/a/manifest.json",
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
