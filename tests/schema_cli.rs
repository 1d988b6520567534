//! `driftsync schema …` end to end: the built binary, a real PostgreSQL, files
//! in a temporary repository, output and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use driftsync_testkit::{text, PgCluster};

fn driftsync(dir: &Path, args: &[&str], database: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", database)
        .env_remove("CI")
        .output()
        .expect("run driftsync")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

const SCHEMA: &str = "
CREATE TYPE organization_type AS ENUM ('nonprofit', 'for-profit', 'government');
CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  kind organization_type NOT NULL DEFAULT 'nonprofit',
  founded date,
  tags text[] NOT NULL DEFAULT '{}',
  budget numeric(12,2),
  settings jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE properties (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  address varchar(200) NOT NULL,
  area real,
  ip inet,
  photo bytea,
  open_from time,
  lease interval,
  active boolean NOT NULL DEFAULT true
);
CREATE INDEX properties_org ON properties (organization_id);
CREATE VIEW active_properties AS SELECT id, address FROM properties WHERE active;
";

#[test]
fn schema_update_check_diff_report_against_postgres() {
    let pg = PgCluster::start();
    let url = pg.create_database("app");
    pg.psql("app", SCHEMA);
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();

    // Nothing generated yet: everything is new, check fails at the default `low`.
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("schemas/tables.py: low table-added"),
        "{}",
        text(&o)
    );

    let o = driftsync(dir, &["schema", "update"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let tables = std::fs::read_to_string(dir.join("schemas/tables.py")).unwrap();
    assert!(
        tables.contains("class OrganizationRow(TypedDict):"),
        "{tables}"
    );
    assert!(tables.contains("class PropertyRow(TypedDict):"), "{tables}");
    assert!(tables.contains("    # sql: public.organization_type not null; default: 'nonprofit'::public.organization_type\n    kind: OrganizationType\n"), "{tables}");
    assert!(
        tables.contains("    founded: date | None  # sql: date\n"),
        "{tables}"
    );
    assert!(
        tables.contains("    tags: list[str]  # sql: text[] not null; default: '{}'::text[]\n"),
        "{tables}"
    );
    assert!(
        tables.contains("    id: int  # sql: bigint not null; identity: always\n"),
        "{tables}"
    );
    let enums = std::fs::read_to_string(dir.join("schemas/enums.py")).unwrap();
    assert!(
        enums.contains("class OrganizationType(str, Enum):"),
        "{enums}"
    );
    assert!(
        enums.contains("    FOR_PROFIT = \"for-profit\"\n"),
        "{enums}"
    );
    let version = std::fs::read_to_string(dir.join("schemas/schema_version.py")).unwrap();
    for key in [
        "SCHEMA_VERSION: Final = 1",
        "TABLES_COUNT: Final = 2",
        "ENUMS_COUNT: Final = 1",
        "DB_HASH: Final = \"",
        "LAST_SYNC: Final = \"20",
        "LAST_SYNC_DIFFERENCES",
    ] {
        assert!(version.contains(key), "{key} missing from {version}");
    }

    // In sync now; a second update changes no byte (LAST_SYNC included).
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let before: Vec<Vec<u8>> = ["enums.py", "tables.py", "schema_version.py", "__init__.py"]
        .iter()
        .map(|f| std::fs::read(dir.join("schemas").join(f)).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = driftsync(dir, &["schema", "update"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("up to date"), "{}", text(&o));
    let after: Vec<Vec<u8>> = ["enums.py", "tables.py", "schema_version.py", "__init__.py"]
        .iter()
        .map(|f| std::fs::read(dir.join("schemas").join(f)).unwrap())
        .collect();
    assert_eq!(before, after, "a second update must not change a byte");

    // A migration lands: a medium change only.
    pg.psql("app", "ALTER TABLE organizations ADD COLUMN website text");
    let o = driftsync(dir, &["schema", "check", "--fail-on", "high"], &url);
    assert_eq!(code(&o), 0, "medium is below high: {}", text(&o));
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let line = tables
        .lines()
        .position(|l| l == "class OrganizationRow(TypedDict):")
        .unwrap()
        + 1;
    assert!(
        text(&o).contains(&format!("schemas/tables.py:{line}: medium column-added: new column public.organizations.website")),
        "{}",
        text(&o)
    );

    // Something removed is critical and points at the field's line.
    pg.psql("app", "ALTER TABLE properties DROP COLUMN photo");
    let photo_line = tables
        .lines()
        .position(|l| l.starts_with("    photo: "))
        .unwrap()
        + 1;
    let o = driftsync(dir, &["schema", "diff", "--json"], &url);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let removed = findings
        .iter()
        .find(|f| f["code"] == "column-removed")
        .expect("column-removed finding");
    assert_eq!(removed["severity"], "critical");
    assert_eq!(removed["file"], "schemas/tables.py");
    assert_eq!(removed["line"], photo_line);
    assert_eq!(findings.len(), 2, "{doc}");
    assert_eq!(
        doc["database"].as_str().unwrap(),
        url.replace(":postgres@", ":***@")
    );

    // Enum labels changed: high.
    pg.psql(
        "app",
        "ALTER TYPE organization_type ADD VALUE 'cooperative'",
    );
    let o = driftsync(dir, &["schema", "check", "--fail-on", "high"], &url);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("high enum-labels-changed: enum public.organization_type labels changed: added cooperative"), "{}", text(&o));

    // The Markdown report: table and totals.
    let o = driftsync(dir, &["schema", "report"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let md = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        md.contains("| Severity | Code | Object | Location | Message |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| critical | `column-removed` | `public.properties.photo` | `schemas/tables.py:"
        ),
        "{md}"
    );
    assert!(
        md.contains("**Totals:** critical 1 · high 1 · medium 1 · low 0"),
        "{md}"
    );
    assert!(
        !md.contains(":postgres@"),
        "the password must not appear: {md}"
    );

    // Update resolves everything and bumps the version.
    let o = driftsync(dir, &["schema", "update"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let version = std::fs::read_to_string(dir.join("schemas/schema_version.py")).unwrap();
    assert!(version.contains("SCHEMA_VERSION: Final = 2"), "{version}");
    assert!(
        version.contains("    \"column-removed public.properties.photo\",\n"),
        "{version}"
    );
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn schema_hand_edits_are_seen() {
    let pg = PgCluster::start();
    let url = pg.create_database("app");
    pg.psql("app", SCHEMA);
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let o = driftsync(dir, &["schema", "update"], &url);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let path = dir.join("schemas/tables.py");
    let tables = std::fs::read_to_string(&path).unwrap();
    // Someone "fixes" a type by hand and deletes a field.
    let edited = tables
        .replace(
            "    name: str  # sql: text not null\n",
            "    name: int  # sql: text not null\n",
        )
        .replace("    area: float | None  # sql: real\n", "");
    assert_ne!(edited, tables);
    std::fs::write(&path, &edited).unwrap();
    let name_line = edited
        .lines()
        .position(|l| l.starts_with("    name: int"))
        .unwrap()
        + 1;
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!(
            "schemas/tables.py:{name_line}: high python-annotation-changed"
        )),
        "{out}"
    );
    assert!(
        out.contains("medium column-added: new column public.properties.area"),
        "{out}"
    );
    // A syntax error is reported with file:line:column, exit 2.
    std::fs::write(&path, "class Broken(\n").unwrap();
    let o = driftsync(dir, &["schema", "check"], &url);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("schemas/tables.py:"), "{}", text(&o));
}

#[test]
fn schema_unreachable_database_exits_2_with_password_redacted() {
    let port = driftsync_testkit::free_port();
    let url = format!("postgres://app:hunter2secret@127.0.0.1:{port}/prod");
    let repo = tempfile::tempdir().unwrap();
    let o = driftsync(repo.path(), &["schema", "check"], &url);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(&format!("postgres://app:***@127.0.0.1:{port}/prod")),
        "{out}"
    );
    assert!(!out.contains("hunter2secret"), "{out}");
    // No database at all is a usage error too.
    let o = driftsync(repo.path(), &["schema", "diff"], "");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("--database"), "{}", text(&o));
    // Nothing was written.
    assert!(!repo.path().join("schemas").exists());
}
