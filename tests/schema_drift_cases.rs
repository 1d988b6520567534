//! Drift cases against a realistic multi-schema PostgreSQL database
//! (`fixtures/schema/saas.sql`): the built binary generates the Python modules
//! once, then each case applies a SQL snippet to a fresh copy of the database
//! (`CREATE DATABASE … TEMPLATE`) and/or edits the modules by hand, runs
//! `driftsync schema diff --json`, and must report exactly the expected
//! findings (`severity code object`), no more and no fewer.

use std::path::{Path, PathBuf};

use cli_support::{Out, Repo};
use driftsync_testkit::PgCluster;

mod cli_support;

/// One drift case.
struct Case {
    /// What it is about (shown on failure).
    name: &'static str,
    /// SQL run in a fresh copy of the fixture database ("" for none).
    sql: &'static str,
    /// Hand edits of the generated modules: (file, text, replacement).
    edits: &'static [(&'static str, &'static str, &'static str)],
    /// The findings, `severity code object`, in any order.
    expect: &'static [&'static str],
    /// Words the findings' messages must contain.
    says: &'static [&'static str],
}

impl Case {
    const fn says(self, says: &'static [&'static str]) -> Case {
        Case { says, ..self }
    }
}

const fn case(name: &'static str, sql: &'static str, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        sql,
        edits: &[],
        expect,
        says: &[],
    }
}

const fn edit(
    name: &'static str,
    edits: &'static [(&'static str, &'static str, &'static str)],
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        sql: "",
        edits,
        expect,
        says: &[],
    }
}

/// `ALTER DATABASE <this database> SET …` from inside it.
macro_rules! alter_database {
    ($setting:literal) => {
        concat!(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET ",
            $setting,
            "', current_database()); END $$;"
        )
    };
}

const CASES: &[Case] = &[
    case("the fixture against itself", "", &[]),
    // Session independence: settings a database (or role) carries must not
    // change what introspection sees.
    case(
        "database search_path puts billing and app first",
        alter_database!("search_path = billing, app, public"),
        &[],
    ),
    case(
        "database search_path is empty",
        alter_database!("search_path = ''''"),
        &[],
    ),
    case(
        "database timezone is Asia/Tokyo",
        alter_database!("timezone = ''Asia/Tokyo''"),
        &[],
    ),
    case(
        "database DateStyle is SQL, DMY",
        alter_database!("DateStyle = ''SQL, DMY''"),
        &[],
    ),
    case(
        "database IntervalStyle is sql_standard",
        alter_database!("IntervalStyle = ''sql_standard''"),
        &[],
    ),
    case(
        "database extra_float_digits is 0",
        alter_database!("extra_float_digits = 0"),
        &[],
    ),
    case(
        "the role's search_path in this database is app",
        "DO $$ BEGIN EXECUTE format('ALTER ROLE postgres IN DATABASE %I SET search_path = app',
           current_database()); END $$;",
        &[],
    ),
    // Supabase's own schemas are not the application's.
    case(
        "Supabase's auth and storage schemas (owned by supabase_admin)",
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_admin') THEN
             CREATE ROLE supabase_admin;
           END IF;
         END $$;
         CREATE SCHEMA auth AUTHORIZATION supabase_admin;
         CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
         CREATE SCHEMA storage AUTHORIZATION supabase_admin;
         CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS');",
        &[],
    ),
    case(
        "a schema named auth that the application owns is read",
        "CREATE SCHEMA auth; CREATE TABLE auth.sessions (id uuid PRIMARY KEY);",
        &["low table-added auth.sessions"],
    ),
    // Partitions fold into their parent.
    case(
        "a new monthly partition",
        "CREATE TABLE audit.events_2026_04 PARTITION OF audit.events
           FOR VALUES FROM ('2026-04-01 00:00:00+00') TO ('2026-05-01 00:00:00+00');",
        &[],
    ),
    case(
        "a partition dropped",
        "DROP TABLE audit.events_2026_01;",
        &[],
    ),
    case(
        "a partition detached becomes a table of its own",
        "ALTER TABLE audit.events DETACH PARTITION audit.events_2026_01;",
        &["low table-added audit.events_2026_01"],
    ),
    case(
        "a column added to a partitioned table is one finding",
        "ALTER TABLE audit.events ADD COLUMN source text;",
        &["medium column-added audit.events.source"],
    ),
    // Ordinary structural changes across schemas.
    case(
        "a column Python would mangle (`__version`) is read back from the functional form",
        "ALTER TABLE billing.invoices ALTER COLUMN \"__version\" SET DEFAULT 2;",
        &["medium column-default-changed billing.invoices.__version"],
    ),
    case(
        "a column dropped",
        "ALTER TABLE billing.invoices DROP COLUMN notes;",
        &["critical column-removed billing.invoices.notes"],
    ),
    case(
        "a table added in another schema",
        "CREATE TABLE billing.coupons (code text PRIMARY KEY);",
        &["low table-added billing.coupons"],
    ),
    case(
        "a column type changed",
        "ALTER TABLE billing.invoices ALTER COLUMN issued_on TYPE timestamptz;",
        &["high column-type-changed billing.invoices.issued_on"],
    ),
    case(
        "an enum label added (the enum is also used in an array)",
        "ALTER TYPE app.plan_tier ADD VALUE 'team' AFTER 'pro';",
        &["high enum-labels-changed app.plan_tier"],
    ),
    case(
        "a view's query changed",
        "CREATE OR REPLACE VIEW app.active_users AS
           SELECT id, email, display_name FROM app.users WHERE deleted_at IS NULL AND id > 0;",
        &["medium view-definition-changed app.active_users"],
    ),
    case(
        "a materialised view dropped",
        "DROP MATERIALIZED VIEW billing.revenue_by_org;",
        &["critical view-removed billing.revenue_by_org"],
    ),
    case(
        "a check constraint with a timestamptz literal replaced by the same in another zone",
        "ALTER TABLE app.organizations DROP CONSTRAINT organizations_created_check;
         ALTER TABLE app.organizations ADD CONSTRAINT organizations_created_check
           CHECK (created_at >= '2020-01-01 09:00:00+09'::timestamptz);",
        &[],
    ),
    // Python spellings of a nullable column are equal; hand edits are module changes.
    edit(
        "Optional[X] for X | None",
        &[(
            "tables.py",
            "display_name: str | None",
            "display_name: Optional[str]",
        )],
        &[],
    ),
    edit(
        "typing.Optional[X] for X | None",
        &[(
            "tables.py",
            "display_name: str | None",
            "display_name: typing.Optional[str]",
        )],
        &[],
    ),
    edit(
        "Union[X, None] for X | None",
        &[(
            "tables.py",
            "display_name: str | None",
            "display_name: Union[str, None]",
        )],
        &[],
    ),
    edit(
        "None | X for X | None",
        &[(
            "tables.py",
            "display_name: str | None",
            "display_name: None | str",
        )],
        &[],
    ),
    edit(
        "a hand-removed | None",
        &[("tables.py", "display_name: str | None", "display_name: str")],
        &["high python-annotation-changed app.active_users.display_name"],
    )
    .says(&["the module's annotation of app.active_users.display_name is `str`"]),
    edit(
        "a hand-added | None",
        &[("tables.py", "    slug: str  #", "    slug: str | None  #")],
        &["high python-annotation-changed app.organizations.slug"],
    ),
    edit(
        "a field added by hand",
        &[(
            "tables.py",
            "    deleted_at: datetime | None  # sql: timestamp with time zone\n",
            "    deleted_at: datetime | None  # sql: timestamp with time zone\n    nickname: str\n",
        )],
        &["critical column-removed app.users.nickname"],
    )
    .says(&["the module declares app.users.nickname, which the database does not have (a field added by hand"]),
    // A change the modules do not describe still fails.
    case(
        "an extension installed",
        "CREATE EXTENSION pg_trgm;",
        &["medium database-changed-unmodelled database"],
    ),
    // Enum members the reader cannot read are reported, not taken for removed labels.
    edit(
        "an enum member written as auto() in a (str, Enum)",
        &[("enums.py", "    PRO = \"pro\"", "    PRO = auto()")],
        &["high python-unreadable app.plan_tier"],
    ),
    edit(
        "an enum member written as a constant",
        &[("enums.py", "    PAID = \"paid\"", "    PAID = PAID_LABEL")],
        &["high python-unreadable billing.invoice_status"],
    ),
    edit(
        "StrEnum with auto() members reads as the lower-case names",
        &[
            (
                "enums.py",
                "class AppPlanTier(str, Enum):",
                "class AppPlanTier(StrEnum):",
            ),
            ("enums.py", "    FREE = \"free\"", "    FREE = auto()"),
            (
                "enums.py",
                "    ENTERPRISE = \"enterprise\"",
                "    ENTERPRISE = enum.auto()",
            ),
        ],
        &[],
    ),
    // Domains: base type, NOT NULL, default, CHECK.
    case(
        "a domain's CHECK tightened",
        "ALTER DOMAIN app.email DROP CONSTRAINT email_check;
         ALTER DOMAIN app.email ADD CONSTRAINT email_check CHECK (VALUE ~ '^[^@]+@[^@]+[.][a-z]+$');",
        &["high domain-changed app.email"],
    ),
    case(
        "a domain made NOT NULL: its nullable table columns become NOT NULL",
        "ALTER DOMAIN app.email SET NOT NULL;",
        &[
            "high domain-changed app.email",
            "medium column-nullability-changed app.organizations.billing_email",
        ],
    ),
    case(
        "a domain over an enum gets another default",
        "ALTER DOMAIN app.tier SET DEFAULT 'pro';",
        &["high domain-changed app.tier"],
    ),
    case(
        "a domain added",
        "CREATE DOMAIN app.slug AS text CHECK (VALUE ~ '^[a-z0-9-]+$');",
        &["low domain-added app.slug"],
    ),
    // Composite types.
    case(
        "a composite type gains an attribute",
        "ALTER TYPE billing.money_amount ADD ATTRIBUTE rate numeric;",
        &["high composite-type-changed billing.money_amount"],
    ),
    case(
        "a composite type added",
        "CREATE TYPE app.address AS (street text, city text);",
        &["low composite-type-added app.address"],
    ),
    // Sequences: definition, not value.
    case(
        "a sequence's increment changed",
        "ALTER SEQUENCE billing.invoice_number_seq INCREMENT BY 10;",
        &["low sequence-changed billing.invoice_number_seq"],
    ),
    case(
        "a sequence advanced (its value is data, not schema)",
        "SELECT nextval('billing.invoice_number_seq'); SELECT setval('billing.invoices_id_seq', 500);",
        &[],
    ),
    case(
        "a sequence dropped with the default that used it",
        "ALTER TABLE billing.invoices ALTER COLUMN number DROP DEFAULT;
         DROP SEQUENCE billing.invoice_number_seq;",
        &[
            "medium column-default-changed billing.invoices.number",
            "medium sequence-removed billing.invoice_number_seq",
        ],
    ),
    // Functions: signature and return type, not body.
    case(
        "a function's return type changed",
        "DROP FUNCTION app.member_count(uuid);
         CREATE FUNCTION app.member_count(org uuid) RETURNS bigint LANGUAGE sql STABLE AS
           $$ SELECT count(*) FROM app.memberships WHERE organization_id = org $$;",
        &["high function-changed app.member_count(uuid)"],
    ),
    case(
        "a function's body changed only",
        "CREATE OR REPLACE FUNCTION app.member_count(org uuid) RETURNS integer LANGUAGE sql STABLE AS
           $$ SELECT count(*)::integer FROM app.memberships WHERE organization_id = org AND role <> 'viewer' $$;",
        &[],
    ),
    case(
        "a function overload added",
        "CREATE FUNCTION app.member_count(org uuid, r app.member_role) RETURNS integer LANGUAGE sql AS
           $$ SELECT count(*)::integer FROM app.memberships WHERE organization_id = org AND role = r $$;",
        &["low function-added app.member_count(uuid,app.member_role)"],
    ),
    case(
        "a function dropped",
        "DROP FUNCTION app.member_count(uuid);",
        &["high function-removed app.member_count(uuid)"],
    ),
    case(
        "a function's volatility changed",
        "ALTER FUNCTION app.member_count(uuid) VOLATILE;",
        &["high function-changed app.member_count(uuid)"],
    ),
    // Triggers.
    case(
        "a trigger dropped",
        "DROP TRIGGER memberships_audit ON app.memberships;",
        &["medium trigger-removed app.memberships.memberships_audit"],
    ),
    case(
        "a trigger's events changed",
        "DROP TRIGGER memberships_audit ON app.memberships;
         CREATE TRIGGER memberships_audit AFTER INSERT OR UPDATE OR DELETE ON app.memberships
           FOR EACH ROW EXECUTE FUNCTION audit.log_change();",
        &["medium trigger-changed app.memberships.memberships_audit"],
    ),
    case(
        "a trigger on a partitioned table is one finding, not one per partition",
        "CREATE TRIGGER events_stamp BEFORE INSERT ON audit.events
           FOR EACH ROW EXECUTE FUNCTION audit.log_change();",
        &["medium trigger-added audit.events.events_stamp"],
    ),
    // Row-level security.
    case(
        "a policy's roles changed",
        "ALTER POLICY invoices_by_org ON billing.invoices TO app_user, billing_admin;",
        &["high policy-changed billing.invoices.invoices_by_org"],
    ),
    case(
        "a policy's USING changed",
        "ALTER POLICY invoices_by_org ON billing.invoices USING (true);",
        &["high policy-changed billing.invoices.invoices_by_org"],
    ),
    case(
        "a policy's WITH CHECK changed",
        "ALTER POLICY invoices_insert_draft ON billing.invoices WITH CHECK (status IN ('draft', 'open'));",
        &["high policy-changed billing.invoices.invoices_insert_draft"],
    ),
    case(
        "a policy dropped",
        "DROP POLICY invoices_insert_draft ON billing.invoices;",
        &["high policy-removed billing.invoices.invoices_insert_draft"],
    ),
    case(
        "a restrictive policy for all commands added",
        "CREATE POLICY invoices_admin ON billing.invoices AS RESTRICTIVE FOR ALL TO billing_admin
           USING (true) WITH CHECK (true);",
        &["medium policy-added billing.invoices.invoices_admin"],
    ),
    case(
        "row-level security disabled",
        "ALTER TABLE billing.invoices DISABLE ROW LEVEL SECURITY;",
        &["medium table-options-changed billing.invoices"],
    ),
    case(
        "row-level security forced",
        "ALTER TABLE billing.invoices FORCE ROW LEVEL SECURITY;",
        &["medium table-options-changed billing.invoices"],
    ),
    case(
        "an enum label renamed (the enum is behind a domain and in an array)",
        "ALTER TYPE app.plan_tier RENAME VALUE 'pro' TO 'professional';",
        &["critical enum-labels-changed app.plan_tier"],
    ),
    // Severities of changes that break typed code.
    case(
        "a NOT NULL column without a default added",
        "ALTER TABLE app.users ADD COLUMN locale text NOT NULL;",
        &["high column-added app.users.locale"],
    ),
    case(
        "a NOT NULL column with a default added",
        "ALTER TABLE app.users ADD COLUMN locale text NOT NULL DEFAULT 'en';",
        &["medium column-added app.users.locale"],
    ),
    case(
        "a column loosened to nullable",
        "ALTER TABLE app.organizations ALTER COLUMN name DROP NOT NULL;",
        &["high column-nullability-changed app.organizations.name"],
    )
    .says(&["app.organizations.name is now nullable (was NOT NULL)"]),
    case(
        "a column tightened to NOT NULL",
        "ALTER TABLE billing.invoices ALTER COLUMN notes SET NOT NULL;",
        &["medium column-nullability-changed billing.invoices.notes"],
    ),
];

/// `driftsync ARGS --database URL` in the fixture's repository.
fn driftsync(repo: &Repo, args: &[&str], database: &str) -> Out {
    let mut all = args.to_vec();
    all.extend(["--database", database]);
    repo.run(&all)
}

/// `severity code object` of every finding `diff --json` reports, sorted, the
/// `DB_HASH`, and the messages.
fn findings(repo: &Repo, local: &Path, url: &str) -> Result<(Vec<String>, String, String), String> {
    let o = driftsync(
        repo,
        &[
            "schema",
            "diff",
            "--json",
            "--local",
            local.to_str().unwrap(),
        ],
        url,
    );
    if !matches!(o.code, 0 | 1) {
        return Err(format!("diff failed: {}", o.all()));
    }
    let doc: serde_json::Value = serde_json::from_str(&o.stdout)
        .map_err(|e| format!("diff --json is not JSON ({e}): {}", o.all()))?;
    let mut lines: Vec<String> = doc["findings"]
        .as_array()
        .ok_or("no findings array")?
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["severity"].as_str().unwrap_or("?"),
                f["code"].as_str().unwrap_or("?"),
                f["object"].as_str().unwrap_or("?")
            )
        })
        .collect();
    lines.sort();
    let hash = doc["db_hash"].as_str().ok_or("no db_hash")?.to_string();
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["message"].as_str())
        .collect();
    Ok((lines, hash, messages.join("\n")))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The fixture loaded into `saas`, and its modules generated by `schema update`.
struct Fixture {
    pg: PgCluster,
    repo: Repo,
    modules: PathBuf,
}

impl Fixture {
    /// `driftsync schema ARGS --local LOCAL --database URL`.
    fn schema(&self, args: &[&str], local: &str, url: &str) -> Out {
        let mut all = vec!["schema"];
        all.extend(args);
        all.extend(["--local", local]);
        driftsync(&self.repo, &all, url)
    }
}

fn fixture() -> Fixture {
    let pg = PgCluster::start();
    let url = pg.create_database("saas");
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schema/saas.sql");
    pg.psql_file("saas", &sql);
    let repo = Repo::new();
    let modules = repo.p("saas_schema");
    let o = driftsync(&repo, &["schema", "update", "--local", "saas_schema"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    Fixture { pg, repo, modules }
}

#[test]
fn schema_drift_cases_on_the_saas_fixture() {
    let f = fixture();
    let (none, base_hash, _) = findings(&f.repo, &f.modules, &f.pg.url("saas")).unwrap();
    assert!(none.is_empty(), "{none:?}");
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let db = format!("case_{i}");
        f.pg.psql("postgres", &format!("CREATE DATABASE {db} TEMPLATE saas"));
        if !c.sql.is_empty() {
            f.pg.psql(&db, c.sql);
        }
        let local = if c.edits.is_empty() {
            f.modules.clone()
        } else {
            let local = f.repo.p(&format!("edited_{i}"));
            copy_dir(&f.modules, &local);
            for (file, from, to) in c.edits {
                let path = local.join(file);
                let src = std::fs::read_to_string(&path).unwrap();
                assert!(
                    src.contains(from),
                    "case `{}`: {file} has no `{from}`:\n{src}",
                    c.name
                );
                std::fs::write(&path, src.replacen(from, to, 1)).unwrap();
            }
            local
        };
        let mut expect: Vec<String> = c.expect.iter().map(|s| s.to_string()).collect();
        expect.sort();
        match findings(&f.repo, &local, &f.pg.url(&db)) {
            // A case without findings must not move DB_HASH either.
            Ok((actual, hash, messages))
                if actual == expect
                    && (!expect.is_empty() || hash == base_hash)
                    && c.says.iter().all(|w| messages.contains(w)) => {}
            Ok((actual, hash, messages)) => failures.push(format!(
                "case {i} `{}`:\n  expected {expect:#?}\n  actual   {actual:#?}\n  DB_HASH {hash} (fixture {base_hash})\n  messages {messages}\n  must say {:?}",
                c.name,
                c.says
            )),
            Err(e) => failures.push(format!("case {i} `{}`: {e}", c.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// The generated package of the fixture compiles, passes `mypy --strict` and
/// is black-formatted (domains over enums, enum arrays and composites included).
#[test]
fn schema_drift_fixture_modules_are_strict_python() {
    let f = fixture();
    let tables = std::fs::read_to_string(f.modules.join("tables.py")).unwrap();
    assert!(
        tables.contains("BillingInvoiceRow = TypedDict(\n    \"BillingInvoiceRow\",\n")
            && tables
                .contains("        \"__version\": int,  # sql: integer not null; default: 1\n"),
        "{tables}"
    );
    driftsync_testkit::python::strict(&[f.repo.path().join("saas_schema")]);
}

/// A change only `DB_HASH` sees fails `check` with its own message, and
/// `update` records it in `LAST_SYNC_DIFFERENCES` instead of bumping the
/// version with an empty list; an unreadable enum member, or a module
/// driftsync did not write, stops `update` unless `--force`.
#[test]
fn schema_drift_unmodelled_change_and_unreadable_member() {
    let f = fixture();
    f.pg.psql("postgres", "CREATE DATABASE ext TEMPLATE saas");
    let url = f.pg.url("ext");
    f.pg.psql("ext", "CREATE EXTENSION citext;");
    let local = f.repo.p("ext_schema");
    copy_dir(&f.modules, &local);
    let run = |args: &[&str]| f.schema(args, "ext_schema", &url);
    let o = run(&["check"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.all().contains(
            "ext_schema/schema_version.py:7: medium database-changed-unmodelled: \
             database changed in a way driftsync does not model: DB_HASH "
        ),
        "{}",
        o.all()
    );
    let o = run(&["update"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let version = std::fs::read_to_string(local.join("schema_version.py")).unwrap();
    assert!(version.contains("SCHEMA_VERSION: Final = 2\n"), "{version}");
    assert!(
        version.contains(
            "LAST_SYNC_DIFFERENCES: Final[list[str]] = [\n    \"database-changed-unmodelled database\",\n]"
        ),
        "{version}"
    );
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{}", o.all());

    // An enum member update cannot read: refused with file:line, kept on disk.
    let enums = local.join("enums.py");
    let src = std::fs::read_to_string(&enums).unwrap();
    let edited = src.replacen("    PRO = \"pro\"", "    PRO = auto()", 1);
    assert_ne!(src, edited);
    std::fs::write(&enums, &edited).unwrap();
    let line = edited
        .lines()
        .position(|l| l == "    PRO = auto()")
        .unwrap()
        + 1;
    let o = run(&["update"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.all().contains(&format!(
            "ext_schema/enums.py:{line}:1: member PRO = auto() of enum app.plan_tier cannot be read"
        )),
        "{}",
        o.all()
    );
    assert!(o.all().contains("--force"), "{}", o.all());
    assert_eq!(std::fs::read_to_string(&enums).unwrap(), edited);
    let o = run(&["update", "--force"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(std::fs::read_to_string(&enums).unwrap(), src);

    // A module driftsync did not write (no generated header) is never overwritten.
    let mine = "from .models import *  # the team's own package marker\n";
    std::fs::write(local.join("__init__.py"), mine).unwrap();
    std::fs::write(local.join("enums.py"), "class Mine:\n    pass\n").unwrap();
    let o = run(&["update"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.all()
            .contains("__init__.py:1:1: not generated by driftsync")
            && o.all().contains("pass --force"),
        "{}",
        o.all()
    );
    assert_eq!(
        std::fs::read_to_string(local.join("__init__.py")).unwrap(),
        mine
    );
    let o = run(&["update", "--force"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(std::fs::read_to_string(&enums).unwrap(), src);
}

/// `schema diff` shows a changed column's facts and a changed view's query
/// before → after.
#[test]
fn schema_drift_diff_shows_before_and_after() {
    let f = fixture();
    f.pg.psql("postgres", "CREATE DATABASE shown TEMPLATE saas");
    f.pg.psql(
        "shown",
        "ALTER TABLE billing.invoices ALTER COLUMN notes TYPE varchar(500);
         ALTER TABLE billing.invoices ALTER COLUMN notes SET NOT NULL;
         ALTER TABLE billing.invoices ALTER COLUMN notes SET DEFAULT '';
         CREATE OR REPLACE VIEW app.active_users AS
           SELECT id, email, display_name FROM app.users WHERE deleted_at IS NULL AND id > 0;",
    );
    let o = driftsync(
        &f.repo,
        &["schema", "diff", "--local", "saas_schema"],
        &f.pg.url("shown"),
    );
    assert_eq!(o.code, 1, "{}", o.all());
    let out = o.all();
    for want in [
        "before → after (the modules → the database):\n",
        "  column billing.invoices.notes:\n      before: text NULL\n      after:  character varying(500) NOT NULL, default: ''::character varying\n",
        "  query of app.active_users:\n        SELECT users.id, users.email, users.display_name\n        FROM app.users\n      - WHERE users.deleted_at IS NULL;\n      + WHERE users.deleted_at IS NULL AND users.id > 0;\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

/// A new table whose natural class name an existing table has: the existing
/// class keeps its name, the new one is numbered, and the collision is a
/// finding that names the fix.
#[test]
fn schema_drift_class_names_are_stable() {
    let f = fixture();
    f.pg.psql("postgres", "CREATE DATABASE names TEMPLATE saas");
    let url = f.pg.url("names");
    // `app.user` singularises to AppUserRow, the class of `app.users`; it sorts first.
    f.pg.psql(
        "names",
        "CREATE TABLE app.\"user\" (id integer PRIMARY KEY);",
    );
    let local = f.repo.p("names_schema");
    copy_dir(&f.modules, &local);
    let (found, _, messages) = findings(&f.repo, &local, &url).unwrap();
    assert_eq!(
        found,
        [
            "low class-name-collision app.user",
            "low table-added app.user"
        ],
        "{messages}"
    );
    assert!(
        messages.contains(
            "new table app.user would be class AppUserRow, which app.users already has (kept): \
             it is AppUserRow2; name it with class_names (`--class-name app.user=…`)"
        ),
        "{messages}"
    );
    let o = driftsync(
        &f.repo,
        &["schema", "update", "--local", "names_schema"],
        &url,
    );
    assert_eq!(o.code, 0, "{}", o.all());
    let tables = std::fs::read_to_string(local.join("tables.py")).unwrap();
    assert!(
        tables.contains("class AppUserRow(TypedDict):\n    \"\"\"Row of table app.users.\"\"\"")
            && tables
                .contains("class AppUserRow2(TypedDict):\n    \"\"\"Row of table app.user.\"\"\""),
        "{tables}"
    );
    let (after, _, _) = findings(&f.repo, &local, &url).unwrap();
    assert!(after.is_empty(), "{after:?}");
}

/// `update` repairs a generated module that no longer reads (merge-conflict
/// markers, a deleted class) by regenerating it, with a note; `check` reports
/// it as an error.
#[test]
fn schema_drift_update_repairs_unreadable_generated_modules() {
    let f = fixture();
    let url = f.pg.url("saas");
    let local = f.repo.p("repair_schema");
    copy_dir(&f.modules, &local);
    let tables = std::fs::read_to_string(local.join("tables.py")).unwrap();
    let enums = std::fs::read_to_string(local.join("enums.py")).unwrap();
    let conflicted = tables.replacen(
        "class AppUserRow(TypedDict):\n",
        "<<<<<<< ours\nclass AppUserRow(TypedDict):\n=======\nclass AppUserRow(TypedDict):\n>>>>>>> theirs\n",
        1,
    );
    assert_ne!(conflicted, tables);
    std::fs::write(local.join("tables.py"), &conflicted).unwrap();
    // A deleted class: ENUMS still names it.
    let start = enums.find("class AppPlanTier(str, Enum):").unwrap();
    let end = enums.find("class BillingInvoiceStatus").unwrap();
    std::fs::write(
        local.join("enums.py"),
        format!("{}{}", &enums[..start], &enums[end..]),
    )
    .unwrap();
    let run = |args: &[&str]| f.schema(args, "repair_schema", &url);
    let o = run(&["check"]);
    assert_eq!(o.code, 2, "{}", o.all());
    let o = run(&["update"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.all().contains("note: repair_schema/enums.py:")
            && o.all()
                .contains("class AppPlanTier is not defined in this module: regenerating it")
            && o.all().contains("note: repair_schema/tables.py:"),
        "{}",
        o.all()
    );
    assert_eq!(
        std::fs::read_to_string(local.join("tables.py")).unwrap(),
        tables
    );
    assert_eq!(
        std::fs::read_to_string(local.join("enums.py")).unwrap(),
        enums
    );
    let o = run(&["check"]);
    assert_eq!(o.code, 0, "{}", o.all());
}

/// `schema list tables|enums`: the database's objects with the class names
/// `update` gives them; partitions folded into their parent.
#[test]
fn schema_list_tables_and_enums() {
    let f = fixture();
    let url = f.pg.url("saas");
    let o = driftsync(&f.repo, &["schema", "list", "tables"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("audit.events  partitioned table  5 column(s)  AuditEventRow\n")
            && o.stdout
                .contains("app.active_users  view  3 column(s)  AppActiveUserRow\n")
            && !o.stdout.contains("events_2026_01"),
        "{}",
        o.all()
    );
    let o = driftsync(&f.repo, &["schema", "list", "enums", "--json"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        doc[1],
        serde_json::json!({
            "name": "app.plan_tier",
            "labels": ["free", "pro", "enterprise"],
            "class": "AppPlanTier",
        })
    );
    assert_eq!(doc.as_array().map(Vec::len), Some(3));
    let o = driftsync(
        &f.repo,
        &["schema", "list", "tables", "--schema", "billing"],
        &url,
    );
    assert_eq!(
        o.stdout.lines().count(),
        2,
        "billing.invoices and billing.revenue_by_org only: {}",
        o.all()
    );
}

/// `schema analyze`: counts, the largest tables, foreign-key depth, tables
/// without a primary key or row-level security.
#[test]
fn schema_analyze_counts_and_gaps() {
    let f = fixture();
    f.pg.psql("postgres", "CREATE DATABASE analyzed TEMPLATE saas");
    f.pg.psql(
        "analyzed",
        "CREATE TABLE billing.invoice_lines (invoice_id bigint REFERENCES billing.invoices (id));",
    );
    let url = f.pg.url("analyzed");
    let o = driftsync(&f.repo, &["schema", "analyze", "--json"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    let a: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        (
            &a["tables"],
            &a["views"],
            &a["enums"],
            &a["triggers"],
            &a["policies"]
        ),
        (&6.into(), &2.into(), &3.into(), &1.into(), &2.into()),
        "{a:#}"
    );
    assert_eq!(
        a["objects"],
        serde_json::json!({"composite type": 1, "domain": 3, "function": 2, "sequence": 2})
    );
    // invoice_lines → invoices → organizations.
    assert_eq!(a["foreign_key_depth"], 2, "{a:#}");
    assert_eq!(a["largest_tables"][0]["name"], "billing.invoices", "{a:#}");
    assert_eq!(
        a["without_primary_key"],
        serde_json::json!(["billing.invoice_lines"])
    );
    assert_eq!(
        a["without_row_level_security"],
        serde_json::json!([
            "app.memberships",
            "app.organizations",
            "app.users",
            "audit.events",
            "billing.invoice_lines"
        ])
    );
    let o = driftsync(&f.repo, &["schema", "analyze"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains("6 table(s), 2 view(s), ")
            && o.stdout.contains("foreign-key depth: 2\n")
            && o.stdout
                .contains("without a primary key: 1\n  billing.invoice_lines\n"),
        "{}",
        o.all()
    );
}

/// `schema docs`: an overview, a page per relation, enums and other objects;
/// a second run writes nothing (deterministic).
#[test]
fn schema_docs_pages_are_deterministic() {
    let f = fixture();
    let url = f.pg.url("saas");
    let o = driftsync(&f.repo, &["schema", "docs", "--out", "dbdocs"], &url);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("10 page(s) in dbdocs: 10 written, 0 unchanged"),
        "{}",
        o.all()
    );
    let overview = f.repo.read("dbdocs/README.md");
    assert!(
        overview.contains(
            "| [`audit.events`](tables/audit.events.md) | partitioned table | 5 | `AuditEventRow` |"
        ) && !overview.contains("events_2026_01"),
        "{overview}"
    );
    let invoices = f.repo.read("dbdocs/tables/billing.invoices.md");
    for want in [
        "# table `billing.invoices`\n\nPython: `BillingInvoiceRow`\n",
        "| `status` | `billing.invoice_status` | no | `default: 'draft'::billing.invoice_status` |",
        "## Policies\n\n- `invoices_by_org`: `FOR SELECT TO app_user USING ",
        "## Options\n\n- row level security\n",
    ] {
        assert!(invoices.contains(want), "missing {want:?} in:\n{invoices}");
    }
    assert!(f.repo.read("dbdocs/enums.md").contains(
        "## `app.plan_tier`\n\nPython: `AppPlanTier`\n\n- `free`\n- `pro`\n- `enterprise`\n"
    ));
    assert!(f
        .repo
        .read("dbdocs/objects.md")
        .contains("## domain `app.tier`\n\n- type: app.plan_tier\n- not null\n"));
    let o = driftsync(&f.repo, &["schema", "docs", "--out", "dbdocs"], &url);
    assert!(o.stdout.contains("0 written, 10 unchanged"), "{}", o.all());

    // Comments are shown on the pages, and are no drift: same findings
    // (none), same DB_HASH.
    let (before, hash, _) = findings(&f.repo, &f.modules, &url).unwrap();
    f.pg.psql(
        "saas",
        "COMMENT ON TABLE billing.invoices IS 'One invoice per billing period.';
         COMMENT ON COLUMN billing.invoices.status IS 'Lifecycle | paid when settled';",
    );
    let o = driftsync(&f.repo, &["schema", "docs", "--out", "dbdocs"], &url);
    assert!(o.stdout.contains("1 written, 9 unchanged"), "{}", o.all());
    let invoices = f.repo.read("dbdocs/tables/billing.invoices.md");
    for want in [
        "Python: `BillingInvoiceRow`\n\nOne invoice per billing period.\n\n| Column | Type | Nullable | Default | Comment |\n|---|---|---|---|---|\n",
        "| `status` | `billing.invoice_status` | no | `default: 'draft'::billing.invoice_status` | Lifecycle \\| paid when settled |",
    ] {
        assert!(invoices.contains(want), "missing {want:?} in:\n{invoices}");
    }
    assert_eq!(
        findings(&f.repo, &f.modules, &url).unwrap(),
        (before, hash, String::new())
    );
}
