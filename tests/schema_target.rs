//! `type: schema` targets in `.driftsync/sync.yaml`, run by `driftsync run`
//! and `driftsync check` in a real git repository against a real PostgreSQL.

use std::path::Path;
use std::process::{Command, Output};

use driftsync_testkit::{git, temp_repo, text, PgCluster};

fn driftsync(dir: &Path, args: &[&str], database: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", database)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run driftsync")
}

const CONFIG: &str = r#"version: "1.0"
targets:
  db_schema:
    type: schema
    direction: pull
    database: ${DATABASE_URL}
    local: schemas/
    fail_on: medium
    outputs: ["schemas/**"]
"#;

#[test]
fn schema_target_check_and_run() {
    let pg = PgCluster::start();
    let url = pg.create_database("app");
    pg.psql("app", "CREATE TYPE kind AS ENUM ('a', 'b'); CREATE TABLE organizations (id int PRIMARY KEY, k kind)");
    let repo = temp_repo();
    let dir = repo.path();
    std::fs::create_dir_all(dir.join(".driftsync")).unwrap();
    std::fs::write(dir.join(".driftsync/sync.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join(".gitignore"), ".driftsync/reports/\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "config"]);

    // Nothing generated: the new table and enum are only `low`, below fail_on: medium.
    let o = driftsync(dir, &["check", "--json"], &url);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = report["results"][0]["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["enum-added", "table-added"], "{report}");

    // `run` regenerates the modules (and commits them: they are outputs).
    let o = driftsync(dir, &["run"], &url);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(dir.join("schemas/tables.py").exists());
    assert!(
        git(dir, &["status", "--porcelain", "schemas"]).is_empty(),
        "modules not committed"
    );

    // A removed column is critical: check exits 1 and names the file.
    pg.psql("app", "ALTER TABLE organizations DROP COLUMN k");
    let o = driftsync(dir, &["check", "--json"], &url);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &report["results"][0];
    assert_eq!(t["status"], "drift", "{report}");
    assert_eq!(t["findings"][0]["code"], "column-removed", "{report}");
    assert_eq!(t["findings"][0]["file"], "schemas/tables.py", "{report}");
    assert!(
        !text(&o).contains(":postgres@"),
        "password leaked: {}",
        text(&o)
    );

    // An unreachable database: exit 2, password hidden.
    let port = driftsync_testkit::free_port();
    let bad = format!("postgres://app:topsecret@127.0.0.1:{port}/app");
    let o = driftsync(dir, &["check"], &bad);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("topsecret"), "{}", text(&o));
}

/// `docs:` keeps Markdown schema docs committed: `run` regenerates them with
/// the modules (committed through `outputs`), `check` reports a stale page as
/// `docs-stale` naming the file, whatever `fail_on`.
#[test]
fn schema_target_commits_docs_and_check_reports_them_stale() {
    let pg = PgCluster::start();
    let url = pg.create_database("app");
    pg.psql(
        "app",
        "CREATE TABLE organizations (id int PRIMARY KEY); CREATE TABLE tmp (x int)",
    );
    let repo = temp_repo();
    let dir = repo.path();
    std::fs::create_dir_all(dir.join(".driftsync")).unwrap();
    std::fs::write(
        dir.join(".driftsync/sync.yaml"),
        r#"version: "1.0"
targets:
  db_schema:
    type: schema
    direction: pull
    database: ${DATABASE_URL}
    local: schemas/
    fail_on: critical
    docs: docs/schema/
    outputs: ["schemas/**", "docs/schema/**"]
"#,
    )
    .unwrap();
    std::fs::write(dir.join(".gitignore"), ".driftsync/reports/\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "config"]);

    let check = |want: i32| {
        let o = driftsync(dir, &["check", "--json"], &url);
        assert_eq!(o.status.code(), Some(want), "{}", text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        report["results"][0].clone()
    };
    let stale = |t: &serde_json::Value| -> Vec<String> {
        t["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["code"] == "docs-stale")
            .map(|f| f["file"].as_str().unwrap().to_string())
            .collect()
    };

    // Before the first run the pages are missing: drift naming each of them.
    let t = check(1);
    assert_eq!(
        stale(&t),
        [
            "docs/schema/README.md",
            "docs/schema/enums.md",
            "docs/schema/objects.md",
            "docs/schema/tables/public.organizations.md",
            "docs/schema/tables/public.tmp.md",
        ],
        "{t}"
    );

    let o = driftsync(dir, &["run"], &url);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let page =
        std::fs::read_to_string(dir.join("docs/schema/tables/public.organizations.md")).unwrap();
    assert!(page.contains("| `id` | `integer` | no |"), "{page}");
    assert!(
        git(dir, &["status", "--porcelain"]).is_empty(),
        "docs not committed: {}",
        git(dir, &["status", "--porcelain"])
    );
    let t = check(0);
    assert!(stale(&t).is_empty(), "{t}");

    // A column added (medium, below fail_on: critical) still makes its page stale.
    pg.psql(
        "app",
        "ALTER TABLE organizations ADD COLUMN note text; DROP TABLE tmp",
    );
    let t = check(1);
    assert_eq!(t["status"], "drift", "{t}");
    assert_eq!(
        stale(&t),
        [
            "docs/schema/README.md",
            "docs/schema/tables/public.organizations.md",
            "docs/schema/tables/public.tmp.md",
        ],
        "{t}"
    );
    let messages = t.to_string();
    assert!(
        messages.contains("schema docs page docs/schema/tables/public.tmp.md describes a relation the database no longer has"),
        "{t}"
    );
    // `run` rewrites the stale pages, removes the dropped table's, commits.
    let o = driftsync(dir, &["run"], &url);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!dir.join("docs/schema/tables/public.tmp.md").exists());
    let page =
        std::fs::read_to_string(dir.join("docs/schema/tables/public.organizations.md")).unwrap();
    assert!(page.contains("| `note` | `text` | yes |"), "{page}");
    assert!(git(dir, &["status", "--porcelain"]).is_empty());
    check(0);
    // `schema docs --target` writes into the target's `docs:` folder: the same pages.
    let o = driftsync(dir, &["schema", "docs", "--target", "db_schema"], &url);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 written, 4 unchanged"),
        "{}",
        text(&o)
    );

    // A page edited by hand is stale too.
    let readme = dir.join("docs/schema/README.md");
    let text_now = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(&readme, text_now + "\nhand note\n").unwrap();
    let t = check(1);
    assert_eq!(stale(&t), ["docs/schema/README.md"], "{t}");
}
