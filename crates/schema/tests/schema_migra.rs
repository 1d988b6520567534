//! Every migra fixture pair against a real PostgreSQL cluster: generate the
//! Python modules from `a.sql`, load `b.sql` into a fresh database, and check
//! that exactly the expected findings (severity, code, object) come out;
//! `a.sql` against itself gives none. The generated Python of every fixture
//! must compile, pass `mypy --strict` and be black-formatted.

mod common;

use std::path::Path;

use common::{Generated, Harness};
use driftsync_schema::SchemaFilter;

const FIXTURES: &[&str] = &[
    "collations",
    "constraints",
    "dependencies",
    "dependencies2",
    "dependencies3",
    "dependencies4",
    "enumdefaults",
    "enumdeps",
    "everything",
    "excludeschema",
    "extversions",
    "generated",
    "generated_added",
    "identitycols",
    "inherit",
    "inherit2",
    "partitioning",
    "privileges",
    "rls",
    "rls2",
    "seq",
    "singleschema",
    "singleschema_ext",
    "triggers",
    "triggers2",
    "triggers3",
];

fn filter_for(fixture: &str) -> SchemaFilter {
    match fixture {
        "singleschema" | "singleschema_ext" => SchemaFilter {
            include: vec!["goodschema".into()],
            exclude: vec![],
        },
        "excludeschema" => SchemaFilter {
            include: vec![],
            exclude: vec!["excludedschema".into()],
        },
        _ => SchemaFilter::default(),
    }
}

#[test]
fn schema_migra_every_fixture_pair() {
    let h = Harness::start();
    h.cluster
        .psql("postgres", "CREATE ROLE schemainspect_test_role");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/migra");
    let out = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut generated = Vec::new();
    for (i, fixture) in FIXTURES.iter().enumerate() {
        let dir = root.join(fixture);
        let filter = filter_for(fixture);
        let a = h.load(&format!("a{i}"), &dir.join("a.sql"), &filter);
        let a_again = h.load(&format!("aa{i}"), &dir.join("a.sql"), &filter);
        let b = h.load(&format!("b{i}"), &dir.join("b.sql"), &filter);
        assert_eq!(
            a.hash(),
            a_again.hash(),
            "{fixture}: the same schema loaded twice must hash the same"
        );
        let package = out.path().join(format!("gen_{fixture}"));
        let repo = Generated::update(&package, &a);
        let same = repo.changes(&a_again);
        if !same.is_empty() {
            failures.push(format!(
                "{fixture}: a.sql vs a.sql gave findings: {same:#?}"
            ));
        }
        let actual = repo.finding_lines(&b);
        let expected_path = dir.join("expected-findings.txt");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        let expected: Vec<String> = expected
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        if std::env::var_os("DRIFTSYNC_BLESS").is_some() {
            std::fs::write(&expected_path, actual.join("\n") + "\n").unwrap();
        } else if actual != expected {
            failures.push(format!(
                "{fixture}: findings differ\n  expected: {expected:#?}\n  actual: {actual:#?}"
            ));
        }
        generated.push(package);
    }
    common::python_checks(&generated);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
