//! Subcommands work on the targets of sync.yaml: `schema …`, `bundle …`,
//! `space …` and `restore` take `--target NAME` (the only target of their
//! kind by default) and read their settings from it; flags override single
//! settings. `hook install` writes a pre-commit hook that checks the
//! configured schema target, not `DATABASE_URL` and `./schemas`.

use std::path::Path;
use std::process::{Command, Output};

use driftsync_testkit::{git, isolated, temp_repo, text};

/// Decoys: were a command to read them instead of the target, it would
/// fail (an unreachable database) or see drift (a module of no table).
const DECOY_URL: &str = "postgres://decoy@127.0.0.1:1/decoy";

fn driftsync(dir: &Path, args: &[&str]) -> Output {
    run(dir, env!("CARGO_BIN_EXE_driftsync"), args)
}

/// Run driftsync and require exit `code` (the output is in the message).
fn expect(dir: &Path, args: &[&str], code: i32) -> Output {
    let o = driftsync(dir, args);
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    o
}

/// Run driftsync and require a usage error (exit 2) that says `says`; its output.
fn refused(dir: &Path, args: &[&str], says: &str) -> String {
    let out = text(&expect(dir, args, 2));
    assert!(out.contains(says), "{out}");
    out
}

fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    isolated(Command::new(program).args(args).current_dir(dir))
        .env("DATABASE_URL", DECOY_URL)
        .env("DRIFTSYNC_BUNDLE_DATABASE", DECOY_URL)
        .env("DRIFTSYNC_SPACE_DATABASE", DECOY_URL)
        .output()
        .expect("run")
}

fn sql(db: &Path, statements: &str) {
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(statements)
        .unwrap();
}

fn write(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// A git repository with `config` as its sync.yaml.
fn repo_with(config: &str) -> tempfile::TempDir {
    let repo = temp_repo();
    write(repo.path(), ".driftsync/sync.yaml", config);
    repo
}

/// A repository with a schema target over `var/app.db` and `db/types/`, and
/// a decoy `schemas/` module.
fn schema_repo(config: &str) -> tempfile::TempDir {
    let repo = repo_with(config);
    let dir = repo.path();
    sql(
        &dir.join("var/app.db"),
        "CREATE TABLE organizations (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    );
    write(
        dir,
        "schemas/tables.py",
        "class Ghost:\n    __tablename__ = \"ghost\"\n    id: int\n",
    );
    write(dir, ".gitignore", "var/\n.driftsync/reports/\n");
    repo
}

const ONE_TARGET: &str = r#"version: "1.0"
targets:
  app_types:
    type: schema
    database: sqlite://var/app.db
    local: db/types/
"#;

#[test]
fn pre_commit_hook_checks_the_configured_schema_target() {
    let repo = schema_repo(ONE_TARGET);
    let dir = repo.path();
    let exe = env!("CARGO_BIN_EXE_driftsync");

    let o = expect(dir, &["schema", "update", "--target", "app_types"], 0);
    assert!(dir.join("db/types/tables.py").is_file(), "{}", text(&o));
    assert!(!dir.join("schemas/schema_version.py").exists());

    let o = expect(dir, &["hook", "install"], 0);
    assert!(
        text(&o).contains("driftsync schema check --target app_types"),
        "{}",
        text(&o)
    );
    let script = std::fs::read_to_string(dir.join(".git/hooks/pre-commit")).unwrap();
    assert!(
        script.contains("'schema' 'check' '--target' 'app_types'"),
        "{script}"
    );

    // In sync with the target (the decoys would fail): the commit goes through.
    git(dir, &["add", "-A"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "types"]);
    assert!(o.status.success(), "in-sync commit refused: {}", text(&o));

    // A migration lands in the target's database; nobody regenerated.
    sql(
        &dir.join("var/app.db"),
        "ALTER TABLE organizations DROP COLUMN name;",
    );
    write(dir, "notes.txt", "x\n");
    git(dir, &["add", "notes.txt"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "notes"]);
    assert!(!o.status.success(), "drifted commit was accepted");
    let out = text(&o);
    assert!(out.contains("critical column-removed"), "{out}");
    assert!(out.contains("db/types/tables.py"), "{out}");
    assert!(
        out.contains("driftsync schema update --target app_types"),
        "{out}"
    );
    assert!(!out.contains("decoy"), "{out}");
    assert!(!git(dir, &["log", "--oneline"]).contains("notes"));

    // Regenerating from the target fixes it.
    let o = run(dir, exe, &["schema", "update", "--target", "app_types"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    git(dir, &["add", "db"]);
    let o = run(dir, "git", &["commit", "-q", "-m", "regenerate"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(git(dir, &["log", "--oneline"]).contains("regenerate"));
}

const TWO_TARGETS: &str = r#"version: "1.0"
targets:
  app_types:
    type: schema
    database: sqlite://var/app.db
    local: db/types/
    fail_on: high
  audit_types:
    type: schema
    database: sqlite://var/audit.db
    local: db/audit/
  notes:
    type: command
    run: "true"
"#;

#[test]
fn schema_commands_take_their_target() {
    let repo = schema_repo(ONE_TARGET);
    let dir = repo.path();

    // The only schema target is the default, from any directory.
    expect(dir, &["schema", "update"], 0);
    assert!(dir.join("db/types/tables.py").is_file());
    std::fs::create_dir_all(dir.join("db/types/sub")).unwrap();
    let o = expect(&dir.join("db/types/sub"), &["schema", "check"], 0);
    assert!(
        text(&o).contains("schema in sync: db/types matches"),
        "{}",
        text(&o)
    );

    // An unknown target is a usage error that lists the schema targets.
    let out = refused(
        dir,
        &["schema", "diff", "--target", "nope"],
        "no target `nope`",
    );
    assert!(out.contains("schema targets: app_types"), "{out}");

    // Two schema targets and no --target: exit 2, naming both.
    write(dir, ".driftsync/sync.yaml", TWO_TARGETS);
    sql(
        &dir.join("var/audit.db"),
        "CREATE TABLE organizations (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         CREATE TABLE events (id INTEGER PRIMARY KEY);",
    );
    let o = expect(dir, &["schema", "check"], 2);
    let out = text(&o);
    assert!(out.contains("pass --target NAME"), "{out}");
    assert!(out.contains("app_types, audit_types"), "{out}");

    // A target of another type is refused.
    let o = expect(dir, &["schema", "check", "--target", "notes"], 2);
    assert!(
        text(&o).contains("is of type command, not schema"),
        "{}",
        text(&o)
    );

    // A flag overrides one setting: the audit database against app_types'
    // folder is one `table-added` (low), below app_types' fail_on: high…
    let audit = format!("sqlite://{}", dir.join("var/audit.db").display());
    let o = expect(
        dir,
        &[
            "schema",
            "check",
            "--target",
            "app_types",
            "--database",
            &audit,
        ],
        0,
    );
    let out = text(&o);
    assert!(out.contains("db/types/tables.py"), "{out}");
    assert!(out.contains("table-added"), "{out}");
    assert!(out.contains("below high"), "{out}");
    // …and --fail-on overrides the target's policy.
    expect(
        dir,
        &[
            "schema",
            "check",
            "--target",
            "app_types",
            "--database",
            &audit,
            "--fail-on",
            "low",
        ],
        1,
    );
    // The other target reads its own folder (nothing generated there yet).
    let o = expect(
        dir,
        &["schema", "diff", "--json", "--target", "audit_types"],
        1,
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["local"], "db/audit", "{doc}");
    assert!(
        doc["database"].as_str().unwrap().ends_with("var/audit.db"),
        "{doc}"
    );

    // The hook checks every schema target, and names each one that drifted.
    let out = text(&expect(dir, &["hook", "install"], 0));
    assert!(out.contains("`driftsync schema check --target app_types`, `driftsync schema check --target audit_types`"), "{out}");
    let o = run(dir, ".git/hooks/pre-commit", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("schema in sync: db/types"), "{out}");
    assert!(
        out.contains("driftsync schema update --target audit_types"),
        "{out}"
    );

    // With -c FILE, the hook passes the file on.
    std::fs::rename(dir.join(".driftsync/sync.yaml"), dir.join("ci.yaml")).unwrap();
    let out = text(&expect(dir, &["-c", "ci.yaml", "hook", "install"], 0));
    let file = dir.join("ci.yaml").canonicalize().unwrap();
    assert!(
        out.contains(&format!(
            "`driftsync -c {} schema check --target app_types`",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn bundle_reads_its_database_and_folder_from_the_target() {
    let repo = repo_with("version: \"1.0\"\ntargets:\n  catalog:\n    type: bundle\n    local: catalog/\n    database: sqlite://var/bundles.db\n");
    let dir = repo.path();
    write(
        dir,
        "catalog/soc2/bundle.yaml",
        "name: soc2\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml]\n",
    );
    write(dir, "catalog/soc2/rules.yaml", "rules: [a]\n");

    // The only bundle target is the default (the decoy database is not read).
    let o = expect(&dir.join("catalog"), &["bundle", "import", "soc2"], 0);
    assert!(dir.join("var/bundles.db").is_file(), "{}", text(&o));
    assert!(!dir.join(".driftsync/frameworks.db").exists());
    let o = expect(
        dir,
        &["bundle", "--target", "catalog", "status", "--json"],
        0,
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["bundles"][0]["name"], "soc2", "{doc}");
    assert_eq!(doc["bundles"][0]["state"], "in-sync", "{doc}");

    // --dir overrides the folder only: the target's database still has soc2.
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    let o = expect(
        dir,
        &["bundle", "--dir", "elsewhere", "status", "--json"],
        1,
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["bundles"][0]["state"], "only-database", "{doc}");

    refused(
        dir,
        &["bundle", "--target", "nope", "status"],
        "bundle targets: catalog",
    );
}

#[test]
fn space_reads_its_table_and_folder_from_the_target() {
    use driftsync_core::{Hash, RelPath};
    use driftsync_replica::{Expect, Replica, WriteMeta};
    let repo = repo_with("version: \"1.0\"\ntargets:\n  site:\n    type: sync\n    local: pages/\n    remote: sqlite://var/site.db?table=docs\n  other:\n    type: sync\n    local: other/\n    remote: mirror/\n");
    let dir = repo.path();
    std::fs::create_dir_all(dir.join("var")).unwrap();
    let url = format!("sqlite://{}/var/site.db?table=docs", dir.display());
    let space = driftsync_replica_db::DbReplica::open(&url, Path::new("/")).unwrap();
    let body = b"# Home\n";
    let meta = WriteMeta {
        size: body.len() as u64,
        hash: Hash::of(body),
        mtime_ns: 0,
        executable: false,
    };
    space
        .write(
            &RelPath::new("home.md").unwrap(),
            &mut &body[..],
            &meta,
            &Expect::Any,
        )
        .unwrap();

    // The only sync target with a database remote is the default; its
    // folder is under the repository root wherever the command starts.
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    expect(&dir.join("sub"), &["space", "export"], 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("pages/home.md")).unwrap(),
        "# Home\n"
    );

    // DIR overrides the folder only.
    expect(dir, &["space", "export", "--target", "site", "copy"], 0);
    assert!(dir.join("copy/home.md").is_file());

    // A sync target whose remote is not a database is not a space.
    refused(
        dir,
        &["space", "export", "--target", "other"],
        "targets: site",
    );
}

#[test]
fn restore_defaults_to_the_only_sync_target() {
    let repo = repo_with("version: \"1.0\"\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: mirror/\n    outputs: [\"docs/**\"]\n");
    let dir = repo.path();
    write(dir, ".gitignore", ".driftsync/\nmirror/\n");
    write(dir, "docs/a.md", "first\n");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "docs"]);
    std::fs::create_dir_all(dir.join("mirror")).unwrap();
    expect(dir, &["run"], 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("mirror/a.md")).unwrap(),
        "first\n"
    );

    // The remote changes; the next run overwrites docs/a.md (backed up).
    write(dir, "mirror/a.md", "second\n");
    expect(dir, &["run"], 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/a.md")).unwrap(),
        "second\n"
    );

    // From a subdirectory, with no --target: the target's backups.
    let sub = dir.join("docs");
    let o = expect(&sub, &["restore", "--list", "--json"], 0);
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let run_id = runs[0]["run"]
        .as_str()
        .expect("a run with backups")
        .to_string();
    expect(&sub, &["restore", &run_id], 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/a.md")).unwrap(),
        "first\n"
    );

    refused(
        dir,
        &["restore", &run_id, "--target", "nope"],
        "sync targets: docs",
    );
}
