//! Adopting a team's hand-written module tree (the 004 document's layout:
//! `schemas/enums.py` without an `ENUMS` registry, `schemas/database/entities.py`,
//! `schemas/database/relationships.py`, `schemas/schema_version.py`; plain
//! `TypedDict` and `(str, Enum)` classes, no `# sql:` comments): `check` matches
//! the classes to the database by name and reports the drift on day one;
//! `update` refuses to overwrite the tree without `--force`; `update --force`
//! converts it to the generated layout, keeping the team's class names, and
//! then `check` passes.

use std::path::Path;

use cli_support::Repo;
use driftsync_testkit::PgCluster;

mod cli_support;

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schema/handwritten")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn schema_check_adopts_a_hand_written_tree_and_update_force_converts_it() {
    let pg = PgCluster::start();
    let url = pg.create_database("atoms");
    pg.psql_file("atoms", &fixture_dir().join("db.sql"));
    let repo = Repo::new();
    copy_tree(&fixture_dir().join("schemas"), &repo.p("schemas"));
    repo.commit_all("the team's own schema modules");
    let schema = |args: &[&str]| {
        let mut all = vec!["schema"];
        all.extend(args);
        all.extend(["--database", url.as_str()]);
        repo.run(&all)
    };

    let o = schema(&["check"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let mut lines: Vec<&str> = o.stdout.lines().collect();
    let summary = lines.pop().unwrap_or_default();
    lines.sort();
    assert_eq!(
        lines,
        [
            "schemas/database/entities.py: low table-added: no class of the modules matches table public.audit_log (looked for `AuditLog`, `AuditLogRow`, any case): add a TypedDict, map one with class_names (`--class-name public.audit_log=Class`), or convert the tree with `driftsync schema update --force`",
            "schemas/database/entities.py:15: high python-annotation-changed: the module's annotation of public.organizations.description is `str`, but the database column (text, nullable) maps to `str | None`",
            "schemas/database/entities.py:20: medium column-added: new column public.projects.metadata (jsonb) in the database",
            "schemas/database/entities.py:25: critical column-removed: the module declares public.projects.owner_email, which the database does not have",
            "schemas/database/entities.py:31: high python-annotation-changed: the module's annotation of public.documents.project_id is `str`, but the database column (uuid, NOT NULL) maps to `UUID`",
            "schemas/database/entities.py:38: medium class-unmatched: TypedDict OrganizationSummary matches no table or view: map it with class_names (`--class-name <schema.table>=OrganizationSummary`) or remove it",
            "schemas/enums.py:12: high enum-labels-changed: enum public.project_status labels changed: added deleted",
            "schemas/enums.py:24: medium class-unmatched: enum class Priority matches no database enum: map it with class_names (`--class-name <schema.enum>=Priority`) or remove it",
        ],
        "{}",
        o.all()
    );
    assert_eq!(
        summary,
        "schema drift: 8 finding(s) at or above low (8 in all); run `driftsync schema update --force` to convert the hand-written modules into generated ones"
    );

    // class_names first: a class named for the table it describes.
    let o = schema(&["check", "--class-name", "audit_log=OrganizationSummary"]);
    assert_eq!(o.code, 1, "{}", o.all());
    for want in [
        "schemas/database/entities.py:41: critical column-removed: the module declares public.audit_log.member_count",
        "schemas/database/entities.py:38: high column-added: new column public.audit_log.action (text NOT NULL, no default: inserts must now give it)",
        "schemas/database/entities.py:39: high python-annotation-changed: the module's annotation of public.audit_log.id is `UUID`, but the database column (bigint, NOT NULL) maps to `int`",
    ] {
        assert!(o.stdout.contains(want), "{want}\n{}", o.all());
    }
    assert!(
        !o.stdout
            .contains("class-unmatched: TypedDict OrganizationSummary"),
        "{}",
        o.all()
    );
    assert!(!o.stdout.contains("table-added"), "{}", o.all());

    // The same tree under a `type: schema` target: `driftsync check` drifts.
    repo.config(&format!(
        "targets:\n  db:\n    type: schema\n    direction: pull\n    database: {url}\n    local: schemas/\n"
    ));
    let o = repo.run(&["check", "--json"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let report: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let t = &report["results"][0];
    assert_eq!(t["status"], "drift", "{report}");
    let codes: Vec<&str> = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 8, "{report}");
    assert_eq!(
        codes.iter().filter(|c| **c == "class-unmatched").count(),
        2,
        "{report}"
    );
    std::fs::remove_dir_all(repo.p(".driftsync")).unwrap();

    // `update` never overwrites what driftsync did not write.
    let before = cli_support::tree(&repo.p("schemas"));
    let o = schema(&["update"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(
        o.stderr.contains(
            "schemas/database/entities.py:1:1: schemas is a hand-written module tree \
             (schemas/database/entities.py, schemas/database/relationships.py, schemas/enums.py), \
             not generated by driftsync: `update` would convert it to the generated layout, \
             replacing or removing these files; pass --force to convert it (git keeps the old files)"
        ),
        "{}",
        o.all()
    );
    assert_eq!(cli_support::tree(&repo.p("schemas")), before);

    // `--force` converts it: the generated layout, the team's class names kept.
    let o = schema(&["update", "--force"]);
    assert_eq!(o.code, 0, "{}", o.all());
    for want in [
        "wrote schemas/tables.py",
        "wrote schemas/enums.py",
        "wrote schemas/schema_version.py",
        "removed schemas/database/entities.py (converted into the generated modules; git keeps the old file)",
        "removed schemas/database/relationships.py (converted into the generated modules; git keeps the old file)",
    ] {
        assert!(o.stdout.contains(want), "{want}\n{}", o.all());
    }
    let files: Vec<String> = cli_support::tree(&repo.p("schemas")).into_keys().collect();
    assert_eq!(
        files,
        [
            "__init__.py",
            "enums.py",
            "objects.py",
            "schema_version.py",
            "tables.py"
        ]
    );
    let tables = repo.read("schemas/tables.py");
    for want in [
        "class Organization(TypedDict):",
        "class ProjectMembers(TypedDict):",
        "class OrganizationMember(TypedDict):",
        "class AuditLogRow(TypedDict):",
        "    description: str | None  # sql: text\n",
        "    metadata: Any | None  # sql: jsonb\n",
    ] {
        assert!(tables.contains(want), "{want}\n{tables}");
    }
    assert!(!tables.contains("owner_email"), "{tables}");
    let enums = repo.read("schemas/enums.py");
    assert!(enums.contains("    DELETED = \"deleted\"\n"), "{enums}");
    assert!(!enums.contains("Priority"), "{enums}");
    let o = schema(&["check"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("schema in sync"), "{}", o.all());
    // Git has what was removed.
    let old = repo.git(&["show", "HEAD:schemas/database/entities.py"]);
    assert!(
        old.contains("class OrganizationSummary(TypedDict):"),
        "{old}"
    );

    // The converted tree is strict, black-formatted Python.
    driftsync_testkit::python::strict(&[repo.p("schemas")]);
}
