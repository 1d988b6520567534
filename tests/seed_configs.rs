//! The files teams bring from the tools driftsync replaces work as written.
//! `fixtures/seed-001/`: the directional sync runner's `.insightpulse/sync.yaml`
//! exactly as its document describes it (no `type:`, `idempotent`, the
//! document's checks and gates), with small stand-in scripts.

mod cli_support;

use std::path::Path;

use cli_support::Repo;

/// A fresh repository holding a copy of `fixtures/<name>/`, committed.
fn repo_from_fixture(name: &str) -> Repo {
    let r = Repo::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    copy_tree(&src, r.path());
    r.commit_all("the old tool's files");
    r
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            // fs::copy keeps the executable bit of the stand-in scripts.
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

const CONFIG: [&str; 2] = ["-c", ".insightpulse/sync.yaml"];

fn with_config<'a>(args: &[&'a str]) -> Vec<&'a str> {
    CONFIG.iter().copied().chain(args.iter().copied()).collect()
}

#[test]
fn the_sync_runners_own_sync_yaml_loads_and_runs_unchanged() {
    let r = repo_from_fixture("seed-001");
    let out = r.run(&with_config(&["config", "validate"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(
            "valid (8 target(s), 2 pre-sync check(s), 2 post-sync check(s), 2 drift gate(s))"
        ),
        "{}",
        out.stdout
    );
    let out = r.run(&with_config(&["list", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 8, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["type"] == "command"),
        "{listed}"
    );

    // The document's CLI habits: pattern and direction, dry run.
    let out = r.run(&with_config(&[
        "run",
        "--target",
        "notion_*",
        "--direction",
        "push",
        "--dry-run",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    let rep = r.report();
    assert_eq!(rep["total_targets"], 3, "{rep}");

    // A full run with verification: every target, check and gate passes,
    // and the pull outputs are committed in one commit.
    let before = r.commits();
    let out = r.run(&with_config(&["run", "--verify"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let rep = r.report();
    assert_eq!(rep["successful"], 8, "{rep}");
    assert!(
        rep["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["passed"] == true),
        "{rep}"
    );
    assert_eq!(r.commits(), before + 1);
    let committed = r.git(&["show", "--name-only", "--format=", "HEAD"]);
    for path in [
        "insightpulse_odoo/addons/oca/module_1/__manifest__.py",
        "docs/runtime/apps_truth.json",
        "docs/runtime/ENV_VARS.prod.txt",
        "docs/claude-config-drift.md",
        "docs/claude-code-skills/fix-odoo-imports/SKILL.md",
    ] {
        assert!(
            committed.lines().any(|l| l == path),
            "{path} not committed:\n{committed}"
        );
    }

    // Idempotent: a second run commits nothing new and pushes nothing again.
    let out = r.run(&with_config(&["run"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r.commits(), before + 1, "{}", out.all());

    // The schedule selects the target the document runs at 2 AM.
    let out = r.run(&with_config(&["list", "--schedule", "0 2 * * *", "--json"]));
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "oca_repos", "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}
