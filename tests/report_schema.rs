//! `driftsync report schema` describes report.json exactly: the real reports
//! of `run`, `check`, a dry run and `report merge` — command targets that
//! pass, fail and verify, a two-way sync target with a conflict, gates with
//! findings — validate against it (with check-jsonschema, which
//! `.ci/install/40-actions-lint.sh` installs), and a field it does not know
//! is refused.

mod cli_support;

use std::path::Path;
use std::process::Command;

use cli_support::Repo;

fn check_jsonschema() -> String {
    let found = Command::new("check-jsonschema").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "check-jsonschema is missing: run `bash .ci/install/40-actions-lint.sh` (pip install check-jsonschema)"
    );
    "check-jsonschema".into()
}

fn validates(schema: &Path, doc: &Path) -> (bool, String) {
    let out = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(schema)
        .arg(doc)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn real_reports_validate_against_the_report_schema() {
    let remote = tempfile::tempdir().unwrap();
    let share = remote.path().join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("a.md"), "the share's a\n").unwrap();
    let r = Repo::new();
    r.script(
        "scripts/ok.sh",
        "mkdir -p docs\necho fact > docs/fact.txt\necho ok",
    );
    r.script("scripts/fail.sh", "echo broken >&2; exit 3");
    r.write("local/a.md", "the repo's a\n");
    r.config(&format!(
        r#"version: "1.0"
targets:
  facts:
    direction: pull
    entrypoint: scripts/ok.sh
    outputs: ["docs/**"]
    verification: {{ command: "echo 1", expected_min: 1 }}
  broken:
    direction: pull
    entrypoint: scripts/fail.sh
  share:
    type: sync
    local: local/
    remote: {}
    on_conflict: keep-both
safety:
  post_sync_checks:
    - {{ name: Valid, builtin: validate, paths: ["docs/**"] }}
  drift_gates:
    - {{ name: Count, command: "echo 5", min_value: 1 }}
"#,
        share.display()
    ));
    r.commit_all("targets");
    let schema = r.p("report.schema.json");
    let out = r.run(&["report", "schema"]);
    assert_eq!(out.code, 0, "{}", out.all());
    std::fs::write(&schema, &out.stdout).unwrap();

    let reports = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    for (name, args) in [
        ("dry-run", &["run", "--dry-run"][..]),
        ("run", &["run", "--verify"]),
        ("check", &["check"]),
    ] {
        let out = r.run(args);
        assert!(out.code == 0 || out.code == 1, "{name}: {}", out.all());
        let dir = reports.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            r.p(".driftsync/reports/report.json"),
            dir.join("report.json"),
        )
        .unwrap();
        std::fs::copy(r.p(".driftsync/reports/report.md"), dir.join("report.md")).unwrap();
        checked.push(dir.join("report.json"));
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checked[1]).unwrap()).unwrap();
    let share_report = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "share")
        .unwrap();
    assert_eq!(share_report["conflicts"][0]["path"], "a.md", "{run}");
    assert!(!run["gates"].as_array().unwrap().is_empty(), "{run}");
    let merged = reports.path().join("merged");
    let out = r.run(&[
        "report",
        "merge",
        reports.path().join("run").to_str().unwrap(),
        reports.path().join("check").to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(out.code == 0 || out.code == 1, "{}", out.all());
    checked.push(merged.join("report.json"));

    for doc in &checked {
        let (ok, text) = validates(&schema, doc);
        assert!(ok, "{} does not match the schema:\n{text}", doc.display());
    }
    // The schema is exact: a field it does not describe is refused.
    let mut bad = run.clone();
    bad["results"][0]["surprise"] = serde_json::json!(true);
    let bad_path = reports.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let (ok, text) = validates(&schema, &bad_path);
    assert!(!ok, "an unknown field passed:\n{text}");
}
