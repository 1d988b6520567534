//! `type: schema` targets: what is accepted, and where mistakes point.

use std::path::Path;

use driftsync_config::{parse, Config, ConfigError, SchemaStyle, SchemaVariants, TargetKind};
use driftsync_core::report::Severity;

fn env(name: &str) -> Option<String> {
    match name {
        "DATABASE_URL" => Some("postgres://app:pw@db/app".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let root = tempfile::tempdir().unwrap();
    parse(text, Path::new(".driftsync/sync.yaml"), root.path(), &env)
}

#[test]
fn schema_target_loads_with_defaults_and_overrides() {
    let c = load(
        "targets:\n  db:\n    type: schema\n    database: ${DATABASE_URL}\n    local: app/schemas/\n    fail_on: high\n    schemas: [public]\n    class_names: { properties: Property }\n",
    )
    .unwrap();
    let TargetKind::Schema(s) = &c.targets[0].kind else {
        panic!("not a schema target");
    };
    assert_eq!(s.database, "postgres://app:pw@db/app");
    assert_eq!(s.local.as_str(), "app/schemas");
    assert_eq!(s.fail_on, Severity::High);
    assert_eq!(s.schemas, ["public"]);
    assert_eq!(s.class_names["properties"], "Property");
    let c = load("targets:\n  db:\n    type: schema\n    database: sqlite://app.db\n").unwrap();
    let TargetKind::Schema(s) = &c.targets[0].kind else {
        panic!("not a schema target");
    };
    assert_eq!((s.local.as_str(), s.fail_on), ("schemas", Severity::Low));
    assert_eq!(s.variants, SchemaVariants::default());
    assert_eq!((s.style, s.docs.is_none()), (SchemaStyle::TypedDict, true));
    let c = load(
        "targets:\n  db:\n    type: schema\n    database: sqlite://app.db\n    variants: [row, insert, update]\n    style: pydantic\n    docs: docs/schema/\n",
    )
    .unwrap();
    let TargetKind::Schema(s) = &c.targets[0].kind else {
        panic!("not a schema target");
    };
    assert_eq!(
        s.variants,
        SchemaVariants {
            insert: true,
            update: true
        }
    );
    assert_eq!(s.style, SchemaStyle::Pydantic);
    assert_eq!(s.docs.as_ref().map(|d| d.as_str()), Some("docs/schema"));
}

#[test]
fn schema_target_mistakes_point_at_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "targets:\n  db:\n    type: schema\n    database: sqlite://x.db\n    fail_on: severe\n",
            5,
            14,
            "not a severity",
        ),
        (
            "targets:\n  db:\n    type: schema\n    database: sqlite://x.db\n    variants: [row, insrt]\n",
            5,
            21,
            "`insrt` is not a variant",
        ),
        (
            "targets:\n  db:\n    type: schema\n    database: sqlite://x.db\n    variants: [insert]\n",
            5,
            15,
            "must include `row`",
        ),
        (
            "targets:\n  db:\n    type: schema\n    database: sqlite://x.db\n    style: attrs\n",
            5,
            12,
            "not a style",
        ),
        (
            "targets:\n  db:\n    type: schema\n    database: mysql://x\n",
            4,
            15,
            "postgres://",
        ),
        ("targets:\n  db:\n    type: schema\n", 2, 3, "no `database`"),
        (
            "targets:\n  db:\n    type: schema\n    database: sqlite://x.db\n    entrypoint: x.sh\n",
            5,
            5,
            "belongs to type `command`",
        ),
    ];
    for (text, line, column, needle) in cases {
        let e = load(text).expect_err("config should be rejected");
        let d = &e.diagnostics()[0];
        let msg = format!("{} / {}", d.message, d.help.clone().unwrap_or_default());
        assert!(msg.contains(needle), "{text}: {msg}");
        assert_eq!((d.line, d.column), (*line, *column), "{text}: {msg}");
    }
}
