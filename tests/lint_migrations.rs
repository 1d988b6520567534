//! `driftsync schema lint-migrations DIR` on the fixture migrations
//! (`fixtures/migrations/`): the exact findings of the real binary, its exit
//! codes, JSON and GitHub annotations, `--since` on a real git history; the
//! same files run by squawk (the PostgreSQL migration linter) with every
//! difference listed and explained; and the fixture applied to a throwaway
//! PostgreSQL, so the files linted are migrations PostgreSQL really runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use driftsync_testkit::{git, temp_repo, PgCluster};

const SUPABASE: &str = "fixtures/migrations/supabase";
const SQUAWK_VERSION: &str = "2.70.0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn driftsync_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftsync"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the driftsync binary");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn lint(args: &[&str]) -> Out {
    let mut all = vec!["schema", "lint-migrations"];
    all.extend_from_slice(args);
    driftsync_in(&root(), &all, &[])
}

/// (file name, line, code) of every finding line `path:line:col: severity code: message`.
fn findings(stdout: &str) -> Vec<(String, u32, String)> {
    stdout
        .lines()
        .filter(|l| {
            l.split_once(": ").is_some_and(|(_, rest)| {
                ["info ", "low ", "medium ", "high ", "critical "]
                    .iter()
                    .any(|s| rest.starts_with(s))
            })
        })
        .map(|l| {
            let (place, rest) = l.split_once(": ").expect("place: rest");
            let mut p = place.split(':');
            let file = p.next().unwrap().rsplit('/').next().unwrap().to_string();
            let line = p.next().map_or(0, |n| n.parse().unwrap());
            let code = rest
                .split_whitespace()
                .nth(1)
                .unwrap()
                .trim_end_matches(':');
            (file, line, code.to_string())
        })
        .collect()
}

fn owned(v: &[(&str, u32, &str)]) -> Vec<(String, u32, String)> {
    v.iter()
        .map(|(f, l, c)| (f.to_string(), *l, c.to_string()))
        .collect()
}

/// Every risky statement of the Supabase-style fixture, where it is.
const EXPECTED: &[(&str, u32, &str)] = &[
    (
        "20240201080000_index_leases_by_tenant.sql",
        3,
        "non-concurrent-index",
    ),
    (
        "20240215120000_require_lease_deposit.sql",
        5,
        "add-required-column",
    ),
    ("20240301093000_widen_rent.sql", 2, "change-column-type"),
    ("20240310110000_rename_tenant_phone.sql", 2, "rename-column"),
    ("20240322150000_rename_units.sql", 3, "rename-table"),
    ("20240405100000_drop_legacy_notes.sql", 3, "drop-column"),
    ("20240405100000_drop_legacy_notes.sql", 4, "drop-column"),
    ("20240418083000_drop_import_staging.sql", 2, "drop-table"),
    (
        "20240502120000_tenant_email_required.sql",
        4,
        "set-not-null",
    ),
    (
        "20240515090000_lease_constraints.sql",
        2,
        "constraint-without-not-valid",
    ),
    (
        "20240610143000_drop_legacy_code.sql",
        2,
        "non-concurrent-drop-index",
    ),
];

#[test]
fn the_supabase_fixture_gives_exactly_its_risky_statements() {
    let out = lint(&[SUPABASE]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(findings(&out.stdout), owned(EXPECTED), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "fixtures/migrations/supabase/20240215120000_require_lease_deposit.sql:5:3: high add-required-column: adding NOT NULL column deposit_cents to existing table public.leases without a DEFAULT"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("then SET NOT NULL"),
        "the message names the fix"
    );
    assert!(out.stdout.contains("use CREATE INDEX CONCURRENTLY"));
    assert!(
        out.stdout.ends_with(
            "15 migration(s), 33 statement(s), naming convention timestamp: 11 finding(s), 8 at or above high\n"
        ),
        "{}",
        out.stdout
    );
    // No annotations outside CI.
    assert!(!out.stdout.contains("::"), "{}", out.stdout);
}

#[test]
fn fail_on_sets_the_exit_code_and_json_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_tenants.sql"),
        "create table tenants (id int, email text);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("0002_email_required.sql"),
        "-- medium only\nalter table tenants alter column email set not null;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("0003_archive.sql"),
        "-- driftsync: allow drop-table (archived to cold storage first, see #42)\ndrop table legacy_invoices;\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let default = lint(&[d]);
    assert_eq!(
        default.code, 0,
        "medium is below the default high: {}",
        default.stdout
    );
    assert!(default
        .stdout
        .contains("0002_email_required.sql:2:21: medium set-not-null: "));
    assert!(
        default.stdout.contains(
            "3 migration(s), 3 statement(s), naming convention numbered: 1 finding(s), 0 at or above high (1 allowed by a `driftsync: allow` comment)"
        ),
        "{}",
        default.stdout
    );
    let medium = lint(&[d, "--fail-on", "medium", "--json"]);
    assert_eq!(medium.code, 1, "{}", medium.stdout);
    let v: serde_json::Value = serde_json::from_str(&medium.stdout).expect("JSON");
    assert_eq!(v["convention"], "numbered");
    assert_eq!(v["migrations"], 3);
    assert_eq!(v["statements"], 3);
    assert_eq!(v["allowed"], 1);
    assert_eq!(v["fail_on"], "medium");
    assert_eq!(v["failing"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "set-not-null");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 21);
    assert!(f["file"]
        .as_str()
        .unwrap()
        .ends_with("/0002_email_required.sql"));
    let bad = lint(&[d, "--fail-on", "severe"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad
        .stderr
        .contains("`severe` is not one of info, low, medium, high, critical"));
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let out = lint(&["fixtures/migrations/bad-syntax"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    // Column 90 counts characters: the line holds two two-byte é before the comma.
    assert_eq!(
        out.stdout.lines().next().unwrap(),
        "fixtures/migrations/bad-syntax/20240702100000_invoice_status.sql:5:90: critical syntax-error: PostgreSQL's parser: syntax error at or near \",\""
    );
    assert!(
        out.stdout.contains("2 migration(s), 1 statement(s)"),
        "{}",
        out.stdout
    );
}

#[test]
fn badly_named_and_duplicate_migrations_are_reported() {
    let out = lint(&["fixtures/migrations/bad-names", "--fail-on", "critical"]);
    assert_eq!(out.code, 0, "naming findings are high: {}", out.stdout);
    assert_eq!(
        findings(&out.stdout),
        owned(&[
            ("20240101000000_second_init.sql", 0, "duplicate-version"),
            ("20240105_short.sql", 0, "migration-name"),
            ("20241301000000_bad_month.sql", 0, "migration-name"),
            ("add_users.sql", 0, "migration-name"),
        ]),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(
        "fixtures/migrations/bad-names/20240101000000_second_init.sql: high duplicate-version: version 20240101000000 is also the version of 20240101000000_init.sql"
    ));
    assert!(out
        .stdout
        .contains("does not follow the directory's timestamp convention YYYYMMDDHHMMSS_name.sql"));
    assert!(out.stdout.contains("20241301000000 is not a date and time"));
    assert!(
        !out.stdout.contains("README"),
        "only .sql files are migrations"
    );
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let out = lint(&["fixtures/migrations/nowhere"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("migrations directory fixtures/migrations/nowhere does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn in_ci_findings_become_github_annotations() {
    for env in [[("CI", "true")], [("GITHUB_ACTIONS", "true")]] {
        let out = driftsync_in(&root(), &["schema", "lint-migrations", SUPABASE], &env);
        assert_eq!(out.code, 1);
        let notes: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
        assert_eq!(notes.len(), 11, "{env:?}: {}", out.stdout);
        // Most severe first, file and line escaped by crates/github.
        assert_eq!(
            notes[0],
            "::error file=fixtures/migrations/supabase/20240405100000_drop_legacy_notes.sql,line=3,col=3,title=drop-column (critical)::dropping column legacy_notes of public.properties deletes its data and breaks clients still reading it: stop using it in a release first, then drop it in a later migration"
        );
        assert!(notes.iter().any(|l| l.starts_with(
            "::warning file=fixtures/migrations/supabase/20240502120000_tenant_email_required.sql,line=4,col=3,title=set-not-null (medium)::"
        )));
    }
}

#[test]
fn since_reports_migrations_added_out_of_order() {
    let repo = temp_repo();
    let r = repo.path();
    let dir = r.join("supabase/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str| std::fs::write(dir.join(name), "select 1;\n").unwrap();
    write("20240101000000_init.sql");
    // Already applied: --since does not judge its statements again.
    std::fs::write(
        dir.join("20240301000000_march.sql"),
        "drop table if exists legacy;\n",
    )
    .unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "migrations"]);
    git(r, &["branch", "base"]);
    write("20240201000000_written_in_february.sql");
    write("20240401000000_april.sql");
    let out = driftsync_in(
        r,
        &[
            "schema",
            "lint-migrations",
            "supabase/migrations",
            "--since",
            "base",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        findings(&out.stdout),
        owned(&[("20240201000000_written_in_february.sql", 0, "out-of-order")]),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("is new but older than 20240301000000_march.sql"));
    // From elsewhere with -C REPO: the same finding.
    let elsewhere = tempfile::tempdir().unwrap();
    let r_str = r.to_str().unwrap();
    let with_c = driftsync_in(
        elsewhere.path(),
        &[
            "-C",
            r_str,
            "schema",
            "lint-migrations",
            "supabase/migrations",
            "--since",
            "base",
        ],
        &[],
    );
    assert_eq!(
        findings(&with_c.stdout),
        findings(&out.stdout),
        "{}{}",
        with_c.stdout,
        with_c.stderr
    );
    // Without --since nothing is out of order, and every file is judged.
    let plain = driftsync_in(
        r,
        &["schema", "lint-migrations", "supabase/migrations"],
        &[],
    );
    assert_eq!(
        findings(&plain.stdout),
        owned(&[("20240301000000_march.sql", 1, "drop-table")]),
        "{}",
        plain.stdout
    );
    let bad = driftsync_in(
        r,
        &[
            "schema",
            "lint-migrations",
            "supabase/migrations",
            "--since",
            "no-such-ref",
        ],
        &[],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("no-such-ref names no commit here"),
        "{}",
        bad.stderr
    );
}

// ---------------------------------------------------------------------------
// squawk on the same files.

/// squawk's rules and the driftsync code each corresponds to.
const SQUAWK_RULES: &[(&str, &str)] = &[
    ("ban-drop-table", "drop-table"),
    ("ban-drop-column", "drop-column"),
    ("adding-required-field", "add-required-column"),
    ("changing-column-type", "change-column-type"),
    ("require-concurrent-index-creation", "non-concurrent-index"),
    (
        "require-concurrent-index-deletion",
        "non-concurrent-drop-index",
    ),
    ("renaming-table", "rename-table"),
    ("renaming-column", "rename-column"),
    ("adding-not-nullable-field", "set-not-null"),
    (
        "constraint-missing-not-valid",
        "constraint-without-not-valid",
    ),
    (
        "adding-foreign-key-constraint",
        "constraint-without-not-valid",
    ),
    ("syntax-error", "syntax-error"),
    (
        "ban-concurrent-index-creation-in-transaction",
        "concurrently-in-transaction",
    ),
];

/// squawk rules driftsync does not have, and why.
const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "prefer-robust-stmts",
        "style: IF [NOT] EXISTS and transactions for re-runs; migration tools run each file once",
    ),
    (
        "require-lock-timeout",
        "operational setting (SET lock_timeout), not a statement's risk",
    ),
    (
        "require-statement-timeout",
        "operational setting (SET statement_timeout), not a statement's risk",
    ),
    (
        "prefer-bigint-over-int",
        "a type preference, not a migration hazard",
    ),
    (
        "prefer-bigint-over-smallint",
        "a type preference, not a migration hazard",
    ),
];

/// Where squawk and driftsync deliberately disagree on the Supabase fixture:
/// (file, line, driftsync code, who reports it, why). Every row must still
/// happen: a row that no longer does fails the test.
const DIFFERENCES: &[(&str, u32, &str, &str, &str)] = &[
    (
        "20240105090000_create_properties.sql",
        20,
        "non-concurrent-index",
        "squawk",
        "the table is created earlier in the same migration: it is empty and nobody waits on it",
    ),
    (
        "20240105090000_create_properties.sql",
        21,
        "non-concurrent-index",
        "squawk",
        "the table is created earlier in the same migration",
    ),
    (
        "20240601100000_maintenance_requests.sql",
        9,
        "add-required-column",
        "squawk",
        "a NOT NULL column without default on a table created in the same migration has no rows to fail on",
    ),
    (
        "20240601100000_maintenance_requests.sql",
        10,
        "non-concurrent-index",
        "squawk",
        "the table is created earlier in the same migration",
    ),
    (
        "20240601100000_maintenance_requests.sql",
        13,
        "constraint-without-not-valid",
        "squawk",
        "validating a foreign key of a table created in the same migration scans no rows",
    ),
];

fn squawk_findings(files: &[PathBuf]) -> BTreeSet<(String, u32, String)> {
    let out = Command::new("squawk")
        .args(["--reporter", "json"])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("squawk is required for this test ({e}); install with: pip install squawk-cli=={SQUAWK_VERSION} (bash .ci/install/35-squawk.sh does)")
        });
    let version = Command::new("squawk").arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("squawk {SQUAWK_VERSION}"),
        "rule names and positions are compared against one squawk; install with: pip install squawk-cli=={SQUAWK_VERSION}"
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "squawk's JSON: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let mut got = BTreeSet::new();
    for v in all.as_array().expect("a list of violations") {
        let rule = v["rule_name"].as_str().unwrap();
        if NOT_COMPARED.iter().any(|(r, _)| *r == rule) {
            continue;
        }
        let code = SQUAWK_RULES
            .iter()
            .find(|(r, _)| *r == rule)
            .unwrap_or_else(|| {
                panic!("squawk rule {rule} is neither compared nor listed in NOT_COMPARED: {v}")
            })
            .1;
        let file = Path::new(v["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // squawk's lines are 0-based; driftsync's (like editors') 1-based.
        let line = v["line"].as_u64().unwrap() as u32 + 1;
        got.insert((file, line, code.to_string()));
    }
    got
}

fn sql_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn squawk_reports_the_same_risky_statements_but_the_listed_differences() {
    let squawk = squawk_findings(&sql_files(SUPABASE));
    let ours: BTreeSet<(String, u32, String)> =
        findings(&lint(&[SUPABASE]).stdout).into_iter().collect();
    let listed = |who: &str| -> BTreeSet<(String, u32, String)> {
        DIFFERENCES
            .iter()
            .filter(|d| d.3 == who)
            .map(|(f, l, c, _, _)| (f.to_string(), *l, c.to_string()))
            .collect()
    };
    let only_squawk: BTreeSet<_> = squawk.difference(&ours).cloned().collect();
    let only_ours: BTreeSet<_> = ours.difference(&squawk).cloned().collect();
    assert_eq!(only_squawk, listed("squawk"), "reported by squawk only");
    assert_eq!(only_ours, listed("driftsync"), "reported by driftsync only");
    assert_eq!(
        squawk.intersection(&ours).count(),
        EXPECTED.len(),
        "every driftsync finding of the fixture is one squawk makes too"
    );
    for (_, _, _, _, why) in DIFFERENCES {
        assert!(!why.is_empty());
    }
}

#[test]
fn squawk_and_driftsync_find_the_same_syntax_error_line() {
    let squawk = squawk_findings(&sql_files("fixtures/migrations/bad-syntax"));
    let ours: BTreeSet<(String, u32, String)> =
        findings(&lint(&["fixtures/migrations/bad-syntax"]).stdout)
            .into_iter()
            .collect();
    assert_eq!(
        ours,
        BTreeSet::from([(
            "20240702100000_invoice_status.sql".to_string(),
            5,
            "syntax-error".to_string()
        )])
    );
    assert_eq!(squawk, ours);
}

#[test]
fn an_index_built_concurrently_inside_begin_is_critical_for_both_linters_and_postgres() {
    const DIR: &str = "fixtures/migrations/in-transaction";
    let out = lint(&[DIR]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with(
            "fixtures/migrations/in-transaction/20240625090000_index_tenant_emails.sql:5:1: critical concurrently-in-transaction: CREATE INDEX CONCURRENTLY inside BEGIN … COMMIT"
        ),
        "{}",
        out.stdout
    );
    let ours: BTreeSet<(String, u32, String)> = findings(&out.stdout).into_iter().collect();
    assert_eq!(squawk_findings(&sql_files(DIR)), ours);
    // And PostgreSQL indeed refuses it.
    let pg = PgCluster::start();
    pg.create_database("tx");
    pg.psql("tx", "create table tenants (email text)");
    let out = psql_on(&pg, "tx", &sql_files(DIR)[0]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
        "{err}"
    );
}

/// `psql -f FILE` on `database`, its output kept whatever the outcome.
fn psql_on(pg: &PgCluster, database: &str, file: &Path) -> std::process::Output {
    let psql = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/psql"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("psql"));
    Command::new(psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["-d", database, "-p", &pg.port().to_string(), "-f"])
        .arg(file)
        .env("PGPASSWORD", "postgres")
        .output()
        .expect("run psql")
}

// ---------------------------------------------------------------------------
// The fixture is real: PostgreSQL applies it, in order, and rejects the bad one where we say.

#[test]
fn postgres_applies_the_fixture_migrations_in_order() {
    let pg = PgCluster::start();
    pg.create_database("lint");
    for file in sql_files(SUPABASE) {
        pg.psql_file("lint", &file);
    }
    let tables = pg.psql(
        "lint",
        "select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
    );
    assert_eq!(
        tables.trim(),
        "leases,maintenance_requests,properties,property_units,tenants"
    );
    let files = sql_files("fixtures/migrations/bad-syntax");
    pg.psql_file("lint", &files[0]);
    let out = psql_on(&pg, "lint", &files[1]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // psql names the line the statement ends on (6) and the statement's own
    // line (LINE 2 of the statement starting on line 4: the file's line 5).
    assert!(
        err.contains("20240702100000_invoice_status.sql:6: ERROR:  syntax error at or near \",\""),
        "{err}"
    );
    assert!(err.contains("LINE 2: "), "{err}");
}
