//! `driftsync bundle …` run as a process: exit codes, redaction, two importers at once.

use std::path::Path;
use std::process::{Command, Output};

use driftsync_testkit::{text, PgCluster};

fn driftsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("DRIFTSYNC_BUNDLE_DATABASE")
        .env("DRIFTSYNC_USER", "cli-test")
        .output()
        .expect("run driftsync")
}

fn make_bundle(repo: &Path, name: &str, body: &str) {
    let dir = repo.join("frameworks").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bundle.yaml"),
        format!("name: {name}\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("rules.yaml"), body).unwrap();
}

#[test]
fn bundle_cli_flow_on_default_sqlite() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    make_bundle(repo, "soc2", "rules: [a]\n");
    let o = driftsync(repo, &["bundle", "status", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["bundles"][0]["state"], "only-local");
    assert_eq!(doc["database"], "sqlite://.driftsync/frameworks.db");

    let o = driftsync(repo, &["bundle", "import", "soc2"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(repo.join(".driftsync/frameworks.db").is_file());
    let o = driftsync(repo, &["bundle", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("in-sync"), "{}", text(&o));

    // Same version, new content: refused (exit 1), nothing stored.
    std::fs::write(repo.join("frameworks/soc2/rules.yaml"), "rules: [a, b]\n").unwrap();
    let o = driftsync(repo, &["bundle", "import", "soc2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = driftsync(repo, &["bundle", "status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["bundles"][0]["state"], "modified-locally");
    assert_eq!(doc["bundles"][0]["database_version"], "1.0.0");

    let o = driftsync(repo, &["bundle", "import", "soc2", "--bump", "patch"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("stored soc2 1.0.1"), "{}", text(&o));

    // Malformed bundle.yaml: validate names file:line:column, exit 1; import exits 2.
    std::fs::write(
        repo.join("frameworks/soc2/bundle.yaml"),
        "name: soc2\nversion: 1.0.1\nspec_version: 1\nfiles: [rules.yaml\n",
    )
    .unwrap();
    let o = driftsync(repo, &["bundle", "validate"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("frameworks/soc2/bundle.yaml:5:1: invalid YAML"),
        "{}",
        text(&o)
    );
    let o = driftsync(repo, &["bundle", "import", "soc2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bundle.yaml:5:1"), "{}", text(&o));
}

#[test]
fn bundle_cli_unreachable_database_is_exit_2_and_redacted() {
    let repo = tempfile::tempdir().unwrap();
    make_bundle(repo.path(), "x", "a: 1\n");
    let url = format!(
        "postgres://app:Sup3rS3cret@127.0.0.1:{}/frameworks",
        driftsync_testkit::free_port()
    );
    for cmd in [
        &["bundle", "status"][..],
        &["bundle", "import", "x"][..],
        &["space", "export", "out"][..],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--database", &url]);
        let o = driftsync(repo.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let t = text(&o);
        assert!(!t.contains("Sup3rS3cret"), "{t}");
        assert!(t.contains("postgres://app:***@127.0.0.1"), "{t}");
    }
}

#[test]
fn bundle_cli_two_processes_import_at_once_on_postgres() {
    let pg = PgCluster::start();
    let url2 = pg.create_database("race2");
    let repos: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, r) in repos.iter().enumerate() {
        make_bundle(r.path(), "race", &format!("writer: {i}\n"));
    }
    // Create the tables first so both processes race on the import itself.
    let o = driftsync(repos[0].path(), &["bundle", "status", "--database", &url2]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Both processes start before either is waited for.
    let mut procs: Vec<_> = repos
        .iter()
        .map(|r| {
            Command::new(env!("CARGO_BIN_EXE_driftsync"))
                .args([
                    "bundle",
                    "import",
                    "race",
                    "--bump",
                    "minor",
                    "--database",
                    &url2,
                ])
                .current_dir(r.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = procs
        .drain(..)
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
    let versions = pg.psql(
        "race2",
        "SELECT version || ' ' || file_count FROM driftsync_bundle_versions ORDER BY id",
    );
    let versions: Vec<&str> = versions.lines().collect();
    match codes.as_slice() {
        // One won, the other was refused cleanly.
        [Some(0), Some(1)] | [Some(1), Some(0)] => {
            assert_eq!(versions, ["1.1.0 2"], "{outs:?}");
            let loser = outs.iter().find(|o| o.status.code() == Some(1)).unwrap();
            assert!(text(loser).contains("already exists"), "{}", text(loser));
        }
        // The second started after the first committed: two whole versions.
        [Some(0), Some(0)] => assert_eq!(versions, ["1.1.0 2", "1.2.0 2"], "{outs:?}"),
        other => panic!("unexpected exits {other:?}: {outs:?}"),
    }
    // Every stored file belongs to a whole version.
    let orphans = pg.psql(
        "race2",
        "SELECT count(*) FROM driftsync_bundle_files f WHERE NOT EXISTS \
         (SELECT 1 FROM driftsync_bundle_versions v WHERE v.id = f.version_id)",
    );
    assert_eq!(orphans.trim(), "0");
}

#[test]
fn bundle_target_status_is_the_drift_check() {
    let repo = driftsync_testkit::temp_repo();
    let repo = repo.path();
    std::fs::create_dir_all(repo.join(".driftsync")).unwrap();
    std::fs::write(
        repo.join(".driftsync/sync.yaml"),
        "version: \"1.0\"\ntargets:\n  frameworks:\n    type: bundle\n    direction: push\n    local: frameworks/\n    database: sqlite://.driftsync/frameworks.db\n",
    )
    .unwrap();
    make_bundle(repo, "nist", "rules: [x]\n");
    let o = driftsync(repo, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nist: only-local"), "{}", text(&o));
    let o = driftsync(repo, &["bundle", "import", "nist"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = driftsync(repo, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A push run stores local edits as the next patch version.
    std::fs::write(repo.join("frameworks/nist/rules.yaml"), "rules: [x, y]\n").unwrap();
    let o = driftsync(repo, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    driftsync(repo, &["run", "--target", "frameworks"]);
    let o = driftsync(repo, &["bundle", "status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc["bundles"][0]["database_version"],
        "1.0.1",
        "{}",
        text(&o)
    );
    assert_eq!(doc["bundles"][0]["state"], "in-sync");
}

/// Every byte under `dir`, for "did anything outside change" checks.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn bundle_import_never_stores_files_read_through_symlinks() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "TOP-SECRET-FILE\n").unwrap();
    std::fs::create_dir_all(outside.path().join("docs")).unwrap();
    std::fs::write(outside.path().join("docs/intro.md"), "TOP-SECRET-DIR\n").unwrap();
    for (declared, link, target) in [
        ("rules.yaml", "rules.yaml", "secret.yaml"),
        ("docs/intro.md", "docs", "docs"),
    ] {
        let repo = tempfile::tempdir().unwrap();
        let repo = repo.path();
        let dir = repo.join("frameworks/leak");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("bundle.yaml"),
            format!("name: leak\nversion: 1.0.0\nspec_version: 1\nfiles: [{declared}]\n"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path().join(target), dir.join(link)).unwrap();
        let o = driftsync(repo, &["bundle", "import", "leak"]);
        let t = text(&o);
        assert_ne!(o.status.code(), Some(0), "{t}");
        assert!(t.contains("symbolic link") && t.contains(declared), "{t}");
        // Nothing of the secret reached the database (or anything else under .driftsync).
        let o = driftsync(repo, &["bundle", "status", "--json"]);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        assert!(
            doc["bundles"][0]["database_version"].is_null(),
            "{}",
            text(&o)
        );
        if repo.join(".driftsync").exists() {
            for (p, bytes) in snapshot(&repo.join(".driftsync")) {
                let s = String::from_utf8_lossy(&bytes);
                assert!(
                    !s.contains("TOP-SECRET"),
                    "{} holds the secret",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn bundle_export_never_writes_or_deletes_through_symlinks() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    let dir = repo.join("frameworks/iso");
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(
        dir.join("bundle.yaml"),
        "name: iso\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml, docs/intro.md]\n",
    )
    .unwrap();
    std::fs::write(dir.join("rules.yaml"), "rules: [a]\n").unwrap();
    std::fs::write(dir.join("docs/intro.md"), "# Intro\n").unwrap();
    let o = driftsync(repo, &["bundle", "import", "iso"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(dir.join("rules.yaml"), "rules: [a, b]\n").unwrap();
    std::fs::write(dir.join("docs/intro.md"), "# Intro v2\n").unwrap();
    let o = driftsync(repo, &["bundle", "import", "iso", "--bump", "patch"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // docs/ becomes a link to an outside folder and rules.yaml a link to an
    // outside file, both holding 1.0.0's bytes: the folder still hashes as
    // 1.0.0, so exporting the latest (1.0.1) would write through both.
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("docs")).unwrap();
    std::fs::write(outside.path().join("docs/intro.md"), "# Intro\n").unwrap();
    std::fs::write(outside.path().join("rules.yaml"), "rules: [a]\n").unwrap();
    std::fs::remove_dir_all(dir.join("docs")).unwrap();
    std::fs::remove_file(dir.join("rules.yaml")).unwrap();
    std::fs::write(
        dir.join("bundle.yaml"),
        "name: iso\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml, docs/intro.md]\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("docs"), dir.join("docs")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("rules.yaml"), dir.join("rules.yaml")).unwrap();
    let before = snapshot(outside.path());
    for args in [
        &["bundle", "export", "iso"][..],
        &["bundle", "export", "iso", "--force"][..],
    ] {
        let o = driftsync(repo, args);
        let t = text(&o);
        assert_ne!(o.status.code(), Some(0), "{t}");
        assert!(t.contains("symbolic link"), "{t}");
        assert_eq!(snapshot(outside.path()), before, "{t}");
        assert!(dir.join("docs").symlink_metadata().unwrap().is_symlink());
    }

    // A version without docs/intro.md: exporting it must not delete the outside file.
    std::fs::remove_file(dir.join("docs")).unwrap();
    std::fs::remove_file(dir.join("rules.yaml")).unwrap();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("rules.yaml"), "rules: [a, b]\n").unwrap();
    std::fs::write(dir.join("docs/intro.md"), "# Intro v2\n").unwrap();
    std::fs::write(
        dir.join("bundle.yaml"),
        "name: iso\nversion: 1.0.1\nspec_version: 1\nfiles: [rules.yaml]\n",
    )
    .unwrap();
    let o = driftsync(repo, &["bundle", "import", "iso", "--bump", "minor"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(
        dir.join("bundle.yaml"),
        "name: iso\nversion: 1.0.1\nspec_version: 1\nfiles: [rules.yaml, docs/intro.md]\n",
    )
    .unwrap();
    std::fs::remove_dir_all(dir.join("docs")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("docs"), dir.join("docs")).unwrap();
    let o = driftsync(repo, &["bundle", "export", "iso", "--force"]);
    let t = text(&o);
    assert_ne!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("symbolic link"), "{t}");
    assert_eq!(snapshot(outside.path()), before, "{t}");
}

/// The framework document's habits: `bundle init`, a bundle.yaml without
/// `files:` (the folder's files, less the generated README and junk),
/// import/export of every bundle without a name, validate that parses the
/// files and names folders without a bundle.yaml, and a README that keeps
/// the word NAME where the description or a file name says it.
#[test]
fn bundles_without_files_lists_init_and_whole_folder_commands() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    let o = driftsync(
        repo,
        &[
            "bundle",
            "init",
            "iso",
            "--description",
            "NAME is a placeholder",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = driftsync(repo, &["bundle", "init", "iso"]);
    assert_eq!(o.status.code(), Some(1), "never overwrites: {}", text(&o));
    let iso = repo.join("frameworks/iso");
    std::fs::write(iso.join("controls.yaml"), "controls: [a]\n").unwrap();
    std::fs::create_dir_all(iso.join("docs")).unwrap();
    std::fs::write(iso.join("docs/NAME.md"), "# NAME\n").unwrap();
    std::fs::write(iso.join(".DS_Store"), "junk").unwrap();
    std::fs::write(iso.join("controls.yaml~"), "backup").unwrap();
    make_bundle(repo, "soc2", "rules: [a]\n");
    let o = driftsync(repo, &["bundle", "validate"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("every bundle is valid (iso, soc2)"),
        "{}",
        text(&o)
    );

    // Import and export without a name act on every bundle.
    let o = driftsync(repo, &["bundle", "import"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("stored iso 0.1.0 (3 files"),
        "bundle.yaml, controls.yaml, docs/NAME.md: {}",
        text(&o)
    );
    assert!(text(&o).contains("stored soc2 1.0.0"), "{}", text(&o));
    std::fs::remove_dir_all(repo.join("frameworks")).unwrap();
    let o = driftsync(repo, &["bundle", "export"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(iso.join("controls.yaml")).unwrap(),
        "controls: [a]\n"
    );
    assert_eq!(
        std::fs::read_to_string(iso.join("docs/NAME.md")).unwrap(),
        "# NAME\n"
    );
    assert!(!iso.join(".DS_Store").exists());
    assert!(repo.join("frameworks/soc2/rules.yaml").is_file());
    let readme = std::fs::read_to_string(iso.join("README.md")).unwrap();
    assert!(readme.contains("NAME is a placeholder"), "{readme}");
    assert!(readme.contains("`docs/NAME.md`"), "{readme}");
    assert!(
        readme.contains("driftsync bundle import iso --bump patch"),
        "{readme}"
    );
    // The generated README is not part of the bundle: still in sync.
    let o = driftsync(repo, &["bundle", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A broken JSON file and a folder without bundle.yaml are reported.
    std::fs::write(iso.join("mapping.json"), "{\"a\": }").unwrap();
    std::fs::create_dir_all(repo.join("frameworks/draft")).unwrap();
    let o = driftsync(repo, &["bundle", "validate"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("frameworks/iso/mapping.json:1:"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("frameworks/draft: no bundle.yaml, so it is not a bundle (`driftsync bundle init draft` writes one)"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("every bundle is valid"), "{}", text(&o));
    let o = driftsync(repo, &["bundle", "import", "draft"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bundle init NAME"), "{}", text(&o));
}
