//! Gates and secrets through the binary.

mod cli_support;

use cli_support::Repo;

const TOKEN: &str = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8";

#[test]
fn a_failing_pre_sync_gate_stops_the_run_before_any_target() {
    let r = Repo::new();
    r.config(
        "safety:\n  pre_sync_checks:\n    - { name: Always fails, command: 'exit 4' }\n    - { name: Exit 4 expected, command: 'exit 4', expected_exit_code: 4 }\ntargets:\n  a:\n    type: command\n    direction: pull\n    run: touch a.ran\n",
    );
    r.commit_all("setup");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        !r.exists("a.ran"),
        "a target ran after a failed pre-sync gate"
    );
    let rep = r.report();
    assert_eq!(rep["gates"][0]["passed"], false);
    assert_eq!(rep["gates"][1]["passed"], true);
    assert_eq!(rep["results"][0]["status"], "skipped");
    assert!(rep["results"][0]["message"]
        .as_str()
        .unwrap()
        .contains("pre-sync"));
}

#[test]
fn git_clean_sees_staged_unstaged_and_untracked_but_not_ignored() {
    let r = Repo::new();
    r.config("safety:\n  pre_sync_checks: [{ name: Clean, builtin: git_clean }]\ntargets:\n  a:\n    type: command\n    direction: pull\n    run: 'true'\n");
    r.write(".gitignore", ".driftsync/reports/\n*.log\n");
    r.commit_all("setup");
    r.write("x.log", "ignored\n");
    assert_eq!(
        r.run(&["run"]).code,
        0,
        "ignored files and our own reports are clean"
    );
    for (file, staged) in [
        ("README.md", false),
        ("new.txt", false),
        ("staged.txt", true),
    ] {
        r.write(file, "change\n");
        if staged {
            r.git(&["add", file]);
        }
        let out = r.run(&["run"]);
        assert_eq!(out.code, 1, "{file}: {}", out.all());
        assert!(
            out.stdout
                .contains(&format!("{file} has uncommitted changes")),
            "{}",
            out.stdout
        );
        r.git(&["reset", "-q", "--hard"]);
        let _ = std::fs::remove_file(r.p(file));
    }
}

#[test]
fn secrets_gate_reports_file_and_line_with_the_value_redacted_and_honours_the_allow_list() {
    let r = Repo::new();
    r.config("safety:\n  secret_patterns: ['NOTION_API_TOKEN\\s*=']\n  pre_sync_checks: [{ name: No secrets, builtin: secrets }]\ntargets:\n  a:\n    type: command\n    direction: pull\n    run: touch a.ran\n");
    r.write(
        "src/settings.py",
        &format!("DEBUG = True\nGITHUB = \"{TOKEN}\"\n"),
    );
    r.write("notes/env.txt", "x\ny\nNOTION_API_TOKEN = abc\n");
    r.write("docs/fixture.md", "password = hunter2hunter2\n");
    r.write("untracked-is-not-scanned.txt", &format!("{TOKEN}\n"));
    r.git(&["add", "src", "notes", "docs", ".driftsync", ".gitignore"]);
    r.git(&["commit", "-q", "-m", "setup"]);
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!r.exists("a.ran"));
    assert!(out.stdout.contains("src/settings.py:2"), "{}", out.stdout);
    assert!(out.stdout.contains("notes/env.txt:3"), "{}", out.stdout);
    assert!(out.stdout.contains("docs/fixture.md:1"), "{}", out.stdout);
    assert!(!out.stdout.contains("untracked-is-not-scanned"));
    let all = format!(
        "{}{}{}",
        out.all(),
        r.read(".driftsync/reports/report.json"),
        r.read(".driftsync/reports/report.md")
    );
    assert!(
        !all.contains(TOKEN) && !all.contains("hunter2"),
        "a secret value leaked"
    );
    let findings = &r.report()["gates"][0]["findings"];
    assert_eq!(findings[0]["file"], "docs/fixture.md");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[0]["code"], "secret-password-assignment");

    r.write(
        ".driftsync/secrets-allowlist",
        "# test fixtures\ndocs/**\nsrc/settings.py:2\nnotes/env.txt:3\n",
    );
    r.git(&["add", ".driftsync/secrets-allowlist"]);
    r.git(&["commit", "-q", "-m", "allow"]);
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(r.exists("a.ran"));
}

#[test]
fn validate_gate_names_each_broken_file_and_line() {
    let r = Repo::new();
    r.config("safety:\n  post_sync_checks: [{ name: Valid, builtin: validate, paths: ['docs/runtime/**'] }]\ntargets:\n  a:\n    type: command\n    direction: pull\n    run: 'mkdir -p docs/runtime && printf \"{\\n  \\\"a\\\": 1,\\n}\" > docs/runtime/bad.json && printf \"a: 1\\n\" > docs/runtime/ok.yaml'\n    outputs: ['docs/runtime/**']\n");
    r.commit_all("setup");
    let before = r.commits();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("docs/runtime/bad.json:3"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("ok.yaml:"), "{}", out.stdout);
    assert_eq!(
        r.commits(),
        before,
        "outputs failing a post-sync gate are not committed"
    );
    let g = &r.report()["gates"][0];
    assert_eq!(g["findings"][0]["line"], 3);
}

#[test]
fn drift_gate_checks_the_printed_number() {
    let r = Repo::new();
    r.config("safety:\n  drift_gates:\n    - { name: Modules, command: 'echo found 120 modules', min_value: 100 }\n    - { name: Score, command: 'echo 0.7', max_drift_score: 0.5 }\ntargets: {}\n");
    r.commit_all("setup");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rep = r.report();
    assert_eq!(rep["gates"][0]["passed"], true);
    assert_eq!(rep["gates"][1]["passed"], false);
    assert!(rep["gates"][1]["message"]
        .as_str()
        .unwrap()
        .contains("above max_drift_score"));
}

#[test]
fn a_planted_token_never_appears_in_output_or_reports() {
    let mut r = Repo::new();
    r.script("scripts/leak.sh", "echo \"token is $API_TOKEN\"\necho \"copied $COPY\" >&2\necho \"config $DRIFTSYNC_CONFIG\"\nexit 1");
    r.config("targets:\n  leaky:\n    type: command\n    direction: pull\n    entrypoint: scripts/leak.sh\n    env: { COPY: \"${PLANTED}\" }\n    config: { auth: \"${PLANTED}\" }\n    verification: { command: 'echo $API_TOKEN; exit 1' }\n");
    r.commit_all("setup");
    r.env("API_TOKEN", TOKEN)
        .env("PLANTED", "planted-Secret-4f7a9c");
    let out = r.run(&["run", "--verify"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("token is ***"), "{}", out.stdout);
    let json = r.read(".driftsync/reports/report.json");
    let md = r.read(".driftsync/reports/report.md");
    for (name, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("report.json", &json),
        ("report.md", &md),
    ] {
        assert!(!text.contains(TOKEN), "token in {name}");
        assert!(
            !text.contains("planted-Secret-4f7a9c"),
            "interpolated secret in {name}"
        );
    }
    assert!(json.contains("copied ***"), "{json}");
}
