//! Bundles against SQLite and a real PostgreSQL: round trip, every status
//! state, refusals, concurrent imports, a connection killed mid-import.

use std::path::Path;

use driftsync_bundle::{Bump, BundleError, BundleStore, ImportOutcome, SyncState, Workspace};
use driftsync_replica_db::DbUrl;
use driftsync_testkit::PgCluster;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn make_bundle(root: &Path, name: &str, version: &str) {
    write(
        root,
        &format!("{name}/bundle.yaml"),
        &format!(
            "name: {name}\nversion: {version}\nspec_version: 1\ndescription: Test framework {name}\nfiles:\n  - controls.yaml\n  - docs/intro.md\n  - data.bin\n"
        ),
    );
    write(
        root,
        &format!("{name}/controls.yaml"),
        "controls:\n  - id: A.1\n",
    );
    write(root, &format!("{name}/docs/intro.md"), "# Intro\n");
    std::fs::write(root.join(name).join("data.bin"), [0u8, 159, 146, 150, 255]).unwrap();
}

fn workspace(repo: &Path, url: &str) -> Workspace {
    let parsed = DbUrl::parse(url, repo).unwrap();
    Workspace {
        root: repo.join("frameworks"),
        state_path: repo.join(".driftsync/state/bundles.json"),
        store: BundleStore::open(&parsed).unwrap(),
    }
}

fn state_of(ws: &mut Workspace, name: &str) -> SyncState {
    ws.status()
        .unwrap()
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{name} not in status"))
        .state
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Everything that does not need two connections, on a fresh database.
fn scenario(url: &str) {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    let fw = repo.join("frameworks");
    make_bundle(&fw, "iso", "1.0.0");
    let mut ws = workspace(repo, url);

    // only-local, then import → in-sync.
    assert_eq!(state_of(&mut ws, "iso"), SyncState::OnlyLocal);
    let stored = match ws.import("iso", None, "tester").unwrap() {
        ImportOutcome::Stored(info) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!(stored.version.to_string(), "1.0.0");
    assert_eq!(stored.file_count, 4);
    assert_eq!(state_of(&mut ws, "iso"), SyncState::InSync);

    // Unchanged import is a no-op.
    assert_eq!(
        ws.import("iso", None, "tester").unwrap(),
        ImportOutcome::Unchanged("1.0.0".into())
    );

    // Round trip: export into an empty folder gives byte-identical files and the same hash.
    let before = tree(&fw.join("iso"));
    std::fs::remove_dir_all(fw.join("iso")).unwrap();
    assert_eq!(state_of(&mut ws, "iso"), SyncState::OnlyDatabase);
    let out = ws.export("iso", None, false).unwrap();
    assert_eq!(out.version, "1.0.0");
    let mut after = tree(&fw.join("iso"));
    let readme = after
        .iter()
        .position(|(p, _)| p == "README.md")
        .expect("README generated");
    let (_, readme) = after.remove(readme);
    assert_eq!(before, after);
    let readme = String::from_utf8(readme).unwrap();
    assert!(
        readme.contains("# iso 1.0.0") && readme.contains(&stored.tree_hash.to_hex()),
        "{readme}"
    );
    assert_eq!(state_of(&mut ws, "iso"), SyncState::InSync);
    // Re-export rewrites nothing.
    let again = ws.export("iso", None, false).unwrap();
    assert!(again.written.is_empty(), "{again:?}");

    // modified-locally; the same version again is refused and nothing is written.
    write(
        &fw,
        "iso/controls.yaml",
        "controls:\n  - id: A.1\n  - id: A.2\n",
    );
    assert_eq!(state_of(&mut ws, "iso"), SyncState::ModifiedLocally);
    let err = ws.import("iso", None, "tester").unwrap_err();
    assert!(matches!(err, BundleError::VersionExists { .. }), "{err}");
    assert_eq!(ws.store.versions("iso").unwrap().len(), 1);
    // Export over local edits is refused without --force.
    assert!(matches!(
        ws.export("iso", None, false),
        Err(BundleError::LocalChanges { .. })
    ));

    // --bump stores 1.1.0 and writes the version back into bundle.yaml.
    let v2 = match ws.import("iso", Some(Bump::Minor), "tester").unwrap() {
        ImportOutcome::Stored(info) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!(v2.version.to_string(), "1.1.0");
    let yaml = std::fs::read_to_string(fw.join("iso/bundle.yaml")).unwrap();
    assert!(yaml.contains("version: 1.1.0\n"), "{yaml}");
    assert_eq!(state_of(&mut ws, "iso"), SyncState::InSync);

    // newer-in-database: roll the directory back to 1.0.0.
    ws.export("iso", Some("1.0.0".parse().unwrap()), false)
        .unwrap();
    assert_eq!(state_of(&mut ws, "iso"), SyncState::NewerInDatabase);
    // diverged: edit it too.
    write(&fw, "iso/docs/intro.md", "# Intro, edited\n");
    assert_eq!(state_of(&mut ws, "iso"), SyncState::Diverged);
    // Forced export takes the database's latest.
    ws.export("iso", None, true).unwrap();
    assert_eq!(state_of(&mut ws, "iso"), SyncState::InSync);
    let files = ws.store.files("iso", "1.1.0".parse().unwrap()).unwrap();
    assert_eq!(driftsync_bundle::local::tree_hash(&files), v2.tree_hash);

    // A second workspace (no state file) recognises versions by hash.
    let other = tempfile::tempdir().unwrap();
    let mut ws2 = workspace(other.path(), url);
    ws2.export("iso", Some("1.0.0".parse().unwrap()), false)
        .unwrap();
    std::fs::remove_file(other.path().join(".driftsync/state/bundles.json")).unwrap();
    assert_eq!(state_of(&mut ws2, "iso"), SyncState::NewerInDatabase);

    // Malformed bundle.yaml: line and column.
    write(
        &fw,
        "bad/bundle.yaml",
        "name: bad\nversion: 1.0.0\nspec_version: 1\nfiles:\n  - ok.txt\n  - ../escape\n",
    );
    write(&fw, "bad/ok.txt", "ok");
    let err = ws.import("bad", None, "tester").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bundle.yaml:6:5: files:"), "{text}");
    assert!(ws.store.versions("bad").unwrap().is_empty());
}

#[test]
fn bundle_scenario_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&format!("sqlite://{}/frameworks.db", dir.path().display()));
}

#[test]
fn bundle_concurrent_imports_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_imports(&format!("sqlite://{}/frameworks.db", dir.path().display()));
}

/// Two importers of the same bundle and version at once: one version, one clean refusal.
fn concurrent_imports(url: &str) {
    let repos: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, r) in repos.iter().enumerate() {
        make_bundle(&r.path().join("frameworks"), "race", "2.0.0");
        write(
            &r.path().join("frameworks"),
            "race/docs/intro.md",
            &format!("# writer {i}\n"),
        );
    }
    // The stores are opened (and the database created) first, one after the
    // other: the race under test is the imports. A failed open then fails the
    // test here instead of leaving the other thread at the barrier forever.
    let workspaces: Vec<Workspace> = repos.iter().map(|r| workspace(r.path(), url)).collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let results: Vec<Result<ImportOutcome, BundleError>> = std::thread::scope(|s| {
        let handles: Vec<_> = workspaces
            .into_iter()
            .map(|mut ws| {
                let barrier = barrier.clone();
                s.spawn(move || {
                    barrier.wait();
                    ws.import("race", None, "racer")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored = results
        .iter()
        .filter(|r| matches!(r, Ok(ImportOutcome::Stored(_))))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(BundleError::VersionExists { .. })))
        .count();
    assert_eq!((stored, refused), (1, 1), "{results:?}");
    let mut ws = workspace(repos[0].path(), url);
    let versions = ws.store.versions("race").unwrap();
    assert_eq!(versions.len(), 1);
    // The stored version is whole: its files verify against its tree hash.
    ws.store.files("race", versions[0].version).unwrap();
}

#[test]
fn bundle_postgres() {
    let pg = PgCluster::start();
    scenario(&pg.create_database("bundles_scenario"));
    concurrent_imports(&pg.create_database("bundles_race"));

    // A connection killed while the import transaction is open leaves no partial version.
    let url = pg.create_database("bundles_kill");
    let repo = tempfile::tempdir().unwrap();
    make_bundle(&repo.path().join("frameworks"), "killed", "1.0.0");
    let mut ws = workspace(repo.path(), &url);
    let (tx, rx) = std::sync::mpsc::channel::<i64>();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let resume_rx = std::sync::Mutex::new(resume_rx);
    ws.store.pause_before_commit = Some(Box::new(move |pid| {
        tx.send(pid).unwrap();
        resume_rx.lock().unwrap().recv().unwrap();
    }));
    let result = std::thread::scope(|s| {
        let h = s.spawn(|| ws.import("killed", None, "tester"));
        let pid = rx.recv().unwrap();
        assert!(pid > 0);
        let out = pg.psql(
            "bundles_kill",
            &format!("SELECT pg_terminate_backend({pid})"),
        );
        assert_eq!(out.trim(), "t");
        resume_tx.send(()).unwrap();
        h.join().unwrap()
    });
    assert!(result.is_err(), "{result:?}");
    let count = pg.psql(
        "bundles_kill",
        "SELECT count(*) FROM driftsync_bundle_versions; SELECT count(*) FROM driftsync_bundle_files;",
    );
    assert_eq!(count.split_whitespace().collect::<Vec<_>>(), ["0", "0"]);
    // And a retry succeeds.
    let mut ws = workspace(repo.path(), &url);
    assert!(matches!(
        ws.import("killed", None, "tester"),
        Ok(ImportOutcome::Stored(_))
    ));
}

#[test]
fn bundle_migrate_sqlite() {
    use driftsync_bundle::migrate::{load_migrations, migrate};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/frameworks.db", dir.path().display());
    let repo = dir.path();
    make_bundle(&repo.join("frameworks"), "alpha", "1.0.0");
    make_bundle(&repo.join("frameworks"), "beta", "3.2.1");
    let mut ws = workspace(repo, &url);
    ws.import("alpha", None, "t").unwrap();
    ws.import("beta", None, "t").unwrap();
    let mdir = repo.join(".driftsync/bundle-migrations");
    write(
        &mdir,
        "001-controls.yaml",
        "from: 1\nto: 2\nsteps:\n  - rename_file: { from: controls.yaml, to: requirements.yaml }\n  - replace_text: { path: '*', find: 'id: A.', replace: 'id: REQ-' }\n",
    );
    write(
        &mdir,
        "002-drop.yaml",
        "from: \"2\"\nto: \"3\"\nsteps:\n  - delete_file: { path: data.bin }\n",
    );
    let migrations = load_migrations(&mdir).unwrap();

    // Dry run: a plan, nothing stored.
    let plans = migrate(&mut ws.store, &migrations, "3", false, "t").unwrap();
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[1].to_version, "3.3.0");
    assert_eq!(plans[0].specs, ["1", "2", "3"]);
    assert_eq!(ws.store.versions("alpha").unwrap().len(), 1);

    // Apply: new versions with the transformed files; the old ones untouched.
    migrate(&mut ws.store, &migrations, "3", true, "t").unwrap();
    let versions = ws.store.versions("alpha").unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].spec_version, "3");
    let files = ws.store.files("alpha", versions[1].version).unwrap();
    let paths: Vec<&str> = files.keys().map(|p| p.as_str()).collect();
    assert_eq!(paths, ["bundle.yaml", "docs/intro.md", "requirements.yaml"]);
    let req = String::from_utf8(
        files[&driftsync_core::RelPath::new("requirements.yaml").unwrap()].clone(),
    )
    .unwrap();
    assert_eq!(req, "controls:\n  - id: REQ-1\n");
    let m = driftsync_bundle::manifest::parse_manifest(
        std::str::from_utf8(&files[&driftsync_core::RelPath::new("bundle.yaml").unwrap()]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (m.version.to_string(), m.spec_version.as_str()),
        ("1.1.0".into(), "3")
    );
    assert_eq!(
        ws.store.files("alpha", versions[0].version).unwrap().len(),
        4
    );
    // Now everything is at 3: nothing to do; an unknown target is an error.
    assert!(migrate(&mut ws.store, &migrations, "3", true, "t")
        .unwrap()
        .is_empty());
    assert!(matches!(
        migrate(&mut ws.store, &migrations, "9", false, "t"),
        Err(BundleError::Migration(_))
    ));
    // Status says the directories are behind.
    assert_eq!(state_of(&mut ws, "alpha"), SyncState::NewerInDatabase);

    // A malformed migration names file, line and column.
    write(
        &mdir,
        "003-bad.yaml",
        "from: 3\nto: 4\nsteps:\n  - rename_file: { from: a }\n",
    );
    let err = load_migrations(&mdir).unwrap_err().to_string();
    assert!(
        err.contains("003-bad.yaml:4:18: steps[0].rename_file: missing required key `to`"),
        "{err}"
    );
}
