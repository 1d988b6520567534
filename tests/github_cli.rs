//! `matrix`, `workflow check|generate`, and `run --ci` publishing inside a
//! GitHub Actions environment (masks, groups, outputs, summary).

mod cli_support;

use cli_support::Repo;

const CONFIG: &str = "defaults: { direction: pull }\ntargets:\n  nightly:\n    type: command\n    run: echo \"token is $API_TOKEN\"\n    schedule: '0 2 * * *'\n    env: { API_TOKEN: \"${API_TOKEN}\" }\n    outputs: [out.txt]\n  hourly:\n    type: command\n    direction: push\n    run: 'true'\n    schedule: '0 * * * *'\n  manual:\n    type: command\n    run: 'true'\n";

#[test]
fn github_matrix_lists_selected_targets() {
    let mut r = Repo::new();
    r.config(CONFIG);
    r.env("API_TOKEN", "token-for-matrix");
    let out = r.run(&["matrix", "--direction", "pull"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let m: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        m,
        serde_json::json!({"include": [
            {"target": "nightly", "direction": "pull", "type": "command"},
            {"target": "manual", "direction": "pull", "type": "command"},
        ]})
    );
    let outputs = r.p("gh-output");
    r.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap());
    assert_eq!(r.run(&["matrix", "--target", "hourly"]).code, 0);
    let text = std::fs::read_to_string(outputs).unwrap();
    assert!(text.starts_with("matrix<<ghadelimiter_"), "{text}");
    assert!(
        text.contains(r#"{"include":[{"direction":"push","target":"hourly","type":"command"}]}"#)
            || text.contains(r#""target":"hourly""#),
        "{text}"
    );
}

#[test]
fn github_workflow_generate_then_check_agree_and_drift_is_reported() {
    let mut r = Repo::new();
    r.config(CONFIG);
    r.env("API_TOKEN", "token-for-workflow");
    let out = r.run(&["workflow", "generate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let wf = r.read(".github/workflows/driftsync-sync.yml");
    assert!(wf.contains("- cron: \"0 2 * * *\"  # nightly"), "{wf}");
    assert!(wf.contains("- cron: \"0 * * * *\"  # hourly"), "{wf}");
    let out = r.run(&["workflow", "check"]);
    assert_eq!(out.code, 0, "{}", out.all());

    // A cron nobody uses, and a target whose schedule is missing.
    r.write(
        ".github/workflows/driftsync-sync.yml",
        &wf.replace("0 * * * *", "0 5 * * *"),
    );
    let out = r.run(&["workflow", "check"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("target `hourly` has schedule \"0 * * * *\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            ".github/workflows/driftsync-sync.yml:7: cron \"0 5 * * *\" selects no target"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn github_generated_workflow_passes_the_workflow_schema() {
    let mut r = Repo::new();
    r.config(CONFIG);
    r.env("API_TOKEN", "token-for-workflow");
    let out = r.run(&["workflow", "generate", "-o", "gen.yml"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let probe = std::process::Command::new("check-jsonschema")
        .arg("--version")
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "check-jsonschema is not installed: bash .ci/install/40-actions-lint.sh"
    );
    let o = std::process::Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(r.p("gen.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn github_run_in_actions_masks_groups_and_publishes() {
    let mut r = Repo::new();
    r.config(CONFIG);
    r.commit_all("setup");
    r.write("event.json", r#"{"inputs": {"direction": "pull"}}"#);
    let (ev, out_f, sum_f) = (r.p("event.json"), r.p("gh-output"), r.p("gh-summary"));
    r.env("GITHUB_ACTIONS", "true")
        .env("API_TOKEN", "s3cr3t-value-xyz")
        .env("GITHUB_EVENT_NAME", "workflow_dispatch")
        .env("GITHUB_EVENT_PATH", ev.to_str().unwrap())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_RUN_ID", "1")
        .env("GITHUB_OUTPUT", out_f.to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", sum_f.to_str().unwrap());
    let out = r.run(&["run", "--ci", "--target", "nightly", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let first = out.stdout.lines().next().unwrap();
    assert_eq!(
        first, "::add-mask::s3cr3t-value-xyz",
        "masks come first:\n{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("s3cr3t-value-xyz").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("::group::nightly"), "{}", out.stdout);
    assert!(out.stdout.contains("::endgroup::"), "{}", out.stdout);
    let outputs = std::fs::read_to_string(out_f).unwrap();
    assert!(outputs.contains("drift<<ghadelimiter_"), "{outputs}");
    assert!(outputs.contains("report-path<<ghadelimiter_"), "{outputs}");
    let summary = std::fs::read_to_string(sum_f).unwrap();
    assert!(summary.contains("nightly"), "{summary}");
    assert!(!summary.contains("s3cr3t-value-xyz"));
}

/// `schema check --ci` annotates its findings through the same code as
/// `run --ci`: GitHub's limit of 10 per level and step, the most severe
/// first, an overflow notice, and escaped properties; every finding is still
/// printed as a line.
#[test]
fn schema_check_ci_annotations_follow_the_per_step_limits() {
    let mut r = Repo::new();
    let db = r.p("app.db");
    let sql = |statements: &str| {
        let py = format!(
            "import sqlite3; c = sqlite3.connect({:?}); c.executescript({statements:?}); c.commit()",
            db.to_str().unwrap()
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &py])
            .output()
            .expect("python3 (apt-get install python3)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let tables: Vec<String> = (0..12).map(|i| format!("t{i:02}")).collect();
    sql(&tables
        .iter()
        .map(|t| format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, note TEXT);"))
        .collect::<String>());
    r.env("DATABASE_URL", "sqlite://app.db");
    let out = r.run(&["schema", "update"]);
    assert_eq!(out.code, 0, "{}", out.all());
    sql(&tables
        .iter()
        .map(|t| format!("DROP TABLE {t};"))
        .collect::<String>());
    let out = r.run(&["schema", "check", "--ci"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    let removed = lines
        .iter()
        .filter(|l| l.contains("table-removed") && !l.starts_with("::"))
        .count();
    assert_eq!(removed, 12, "every finding is a line:\n{}", out.stdout);
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "at most 10 per level:\n{}", out.stdout);
    assert!(
        errors
            .iter()
            .all(|l| l.contains("file=schemas/tables.py,line=")
                && l.contains("title=table-removed (critical)")),
        "{errors:?}"
    );
    let notice = lines
        .iter()
        .find(|l| l.starts_with("::notice "))
        .unwrap_or_else(|| panic!("no overflow notice:\n{}", out.stdout));
    assert!(notice.contains("2 more finding(s) not shown"), "{notice}");
}
