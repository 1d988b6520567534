//! Credentials never leave the process: not in live output, report.json,
//! report.md or the GitHub step summary, whether driftsync knows the value
//! (an env var, the lines of a key, a URL's password) or only its format.
//! And a closed stdout pipe ends nothing badly.

mod cli_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cli_support::Repo;

/// A GitHub token driftsync never reads: only its format gives it away.
const GHP: &str = "ghp_Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFeDcBa";
/// An AWS access key id, also unknown to driftsync.
const AKIA: &str = "AKIAQWERTYUIOPASDFGH";
/// The body lines of the private key held in DEPLOY_KEY.
const KEY_BODY: [&str; 4] = [
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi5c1q2Cz7fXbFwM2R8DkqPxJvT",
    "kZb1tQ0vYpX7nLw3hGdE5sFjK9aR2cV8mN4uB6yH1oI0pQzXrWlTgSeDfJkAhCu",
    "Rn8Lq3WvYt5ZpK0oMbJc7HxGd2Fs9EaUi4NlPrBg6TyVwQeXjSmAkDhOz1CfIu2",
    "VqLnWp0Xy3Mk",
];
/// The password of DATABASE_URL.
const DB_PASSWORD: &str = "pa55w0rd-Xy7";

fn deploy_key() -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        KEY_BODY.join("\n")
    )
}

fn secrets() -> Vec<&'static str> {
    let mut s = vec![GHP, AKIA, DB_PASSWORD];
    s.extend(KEY_BODY);
    s
}

/// A command target printing every kind of credential, in GitHub Actions.
fn leaky_repo() -> Repo {
    let mut r = Repo::new();
    r.script(
        "scripts/leak.sh",
        &format!(
            r#"echo "token={GHP}"
echo "aws key id: {AKIA}" >&2
printf '%s\n' "$DEPLOY_KEY"
echo "second line alone: $(printf '%s\n' "$DEPLOY_KEY" | sed -n 3p)"
echo "db password: $(echo "$DATABASE_URL" | sed 's|^[a-z]*://[^:]*:\([^@]*\)@.*|\1|')"
exit 1"#
        ),
    );
    r.config(
        r#"version: "1.0"
targets:
  leaky:
    type: command
    direction: pull
    entrypoint: scripts/leak.sh
"#,
    );
    r.commit_all("setup");
    in_github_actions(&mut r)
        .env("DEPLOY_KEY", &deploy_key())
        .env(
            "DATABASE_URL",
            &format!("postgres://app:{DB_PASSWORD}@db.internal:5432/app"),
        );
    r
}

/// Run as a `workflow_dispatch` job of GitHub Actions would: step outputs in
/// `gh-output`, the step summary in `gh-summary`.
fn in_github_actions(r: &mut Repo) -> &mut Repo {
    r.write("event.json", r#"{"inputs": {}}"#);
    let (ev, out_f, sum_f) = (r.p("event.json"), r.p("gh-output"), r.p("gh-summary"));
    r.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "workflow_dispatch")
        .env("GITHUB_EVENT_PATH", ev.to_str().unwrap())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_RUN_ID", "1")
        .env("GITHUB_OUTPUT", out_f.to_str().unwrap())
        .env("GITHUB_STEP_SUMMARY", sum_f.to_str().unwrap())
}

fn assert_clean(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(s), "{what} shows {s}:\n{text}");
    }
}

#[test]
fn no_credential_reaches_stdout_stderr_reports_or_the_step_summary() {
    let r = leaky_repo();
    let out = r.run(&["run", "--ci", "--no-commit"]);
    assert_eq!(out.code, 1, "the target fails: {}", out.all());

    // GitHub learns the pieces it must hide, before anything else…
    let masks: Vec<&str> = out
        .stdout
        .lines()
        .take_while(|l| l.starts_with("::add-mask::"))
        .collect();
    for piece in KEY_BODY.iter().chain([&DB_PASSWORD]) {
        assert!(
            masks.contains(&format!("::add-mask::{piece}").as_str()),
            "no ::add-mask:: for {piece}:\n{}",
            out.stdout
        );
    }
    assert!(
        !masks.iter().any(|m| m.contains("-----")),
        "armour lines are not secrets: {masks:?}"
    );
    // …and nothing else shows them.
    let stdout: String = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_clean("stdout", &stdout);
    assert_clean("stderr", &out.stderr);
    // The script did print them: masked, not missing.
    for line in [
        "token=***",
        "aws key id: ***",
        "second line alone: ***",
        "db password: ***",
        "-----BEGIN RSA PRIVATE KEY-----",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }

    let json = r.read(".driftsync/reports/report.json");
    assert_clean("report.json", &json);
    let tail = r.report()["results"][0]["output_tail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tail.contains("token=***"), "{tail}");
    assert!(tail.contains("db password: ***"), "{tail}");
    let md = r.read(".driftsync/reports/report.md");
    assert_clean("report.md", &md);
    // The tail holds the last lines in arrival order; the stderr line may
    // come first and fall outside it, so check the last one (stdout checked
    // the stderr line above).
    assert!(md.contains("db password: ***"), "{md}");
    let summary = r.read("gh-summary");
    assert_clean("the step summary", &summary);
    assert!(summary.contains("token=***"), "{summary}");

    // The JSON printed on stdout too.
    let out = r.run(&["check", "--json"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let stdout: String = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_clean("check --json", &stdout);
    assert!(stdout.contains("token=***"), "{stdout}");
}

#[test]
fn values_read_by_var_that_are_not_secret_stay_readable() {
    let mut r = Repo::new();
    r.script(
        "scripts/show.sh",
        r#"echo "exporting to $OUT_DIR as $AUTHOR"
echo "token $API_TOKEN""#,
    );
    r.config(
        r#"version: "1.0"
targets:
  show:
    type: command
    direction: pull
    entrypoint: scripts/show.sh
    env:
      OUT_DIR: "${EXPORT_DIR}"
      AUTHOR: "${GIT_AUTHOR_NAME}"
      API_TOKEN: "${SHOW_API_TOKEN}"
"#,
    );
    r.commit_all("setup");
    r.env("EXPORT_DIR", "/srv/exports/nightly-42")
        .env("GIT_AUTHOR_NAME", "Release Robot")
        .env("SHOW_API_TOKEN", "tok-5e3c0a9b");
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let expected = "exporting to /srv/exports/nightly-42 as Release Robot";
    assert!(out.stdout.contains(expected), "{}", out.stdout);
    assert!(out.stdout.contains("token ***"), "{}", out.stdout);
    assert!(!out.all().contains("tok-5e3c0a9b"), "{}", out.all());
    let tail = r.report()["results"][0]["output_tail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tail.contains(expected), "{tail}");
    assert!(!tail.contains("tok-5e3c0a9b"), "{tail}");
}

#[test]
fn check_piped_into_head_ends_quietly() {
    let r = Repo::new();
    // The output comes after the reader has gone.
    r.script("scripts/chatty.sh", "sleep 1\nseq 1 2000");
    r.config(
        r#"version: "1.0"
targets:
  chatty:
    type: command
    direction: pull
    entrypoint: scripts/chatty.sh
"#,
    );
    r.commit_all("setup");
    let mut child = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .arg("check")
        .current_dir(r.path())
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `head -1`: one line, then the pipe is closed.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("chatty"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.trim().is_empty(), "nothing on stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "check's own result: {stderr}");
    // The run went on: its report is written.
    assert!(r.exists(".driftsync/reports/report.json"));
}

#[test]
fn check_piped_into_head_in_a_shell_ends_quietly() {
    let r = Repo::new();
    r.script("scripts/chatty.sh", "sleep 1\nseq 1 2000");
    r.config(
        r#"version: "1.0"
targets:
  chatty:
    type: command
    direction: pull
    entrypoint: scripts/chatty.sh
"#,
    );
    r.commit_all("setup");
    // driftsync's own exit code and stderr go to files: the pipeline's
    // status is head's.
    let files = tempfile::tempdir().unwrap();
    let (err, code) = (files.path().join("err"), files.path().join("code"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"{ "$0" check 2>"$1"; echo $? >"$2"; } | head -1"#)
        .arg(env!("CARGO_BIN_EXE_driftsync"))
        .arg(&err)
        .arg(&code)
        .current_dir(r.path())
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.trim().is_empty(), "nothing on stderr: {stderr}");
    let code = std::fs::read_to_string(&code).unwrap();
    assert_eq!(code.trim(), "0", "{stderr}");
}

/// What a run prints about itself (committer identity, target names, paths)
/// is no secret: only the values that are get `***`. A masker that hid
/// `GIT_AUTHOR_EMAIL` or a target's output folder would make every log
/// unreadable, and the step summary useless.
#[test]
fn identities_target_names_and_paths_stay_readable_while_the_token_is_masked() {
    const NAME: &str = "Release Robot";
    const EMAIL: &str = "release-robot@acme.example";
    const COMMITTER: &str = "Nightly Committer";
    const COMMITTER_EMAIL: &str = "nightly@ci.acme.example";
    const TOKEN: &str = "tk-81c2f0e97d3a4b5c";
    let mut r = Repo::new();
    r.script(
        "scripts/export-handbook.sh",
        r#"mkdir -p exports/handbook-2026
echo "written by $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>" > exports/handbook-2026/index.md
echo "author: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"
echo "committer: $GIT_COMMITTER_NAME <$GIT_COMMITTER_EMAIL>"
echo "wrote $PWD/exports/handbook-2026/index.md"
echo "using token $API_TOKEN""#,
    );
    r.config(
        r#"version: "1.0"
targets:
  handbook-export:
    type: command
    direction: pull
    entrypoint: scripts/export-handbook.sh
    outputs: ["exports/handbook-2026/**"]
    env:
      API_TOKEN: "${TOKEN}"
"#,
    );
    r.commit_all("setup");
    in_github_actions(&mut r)
        .env("GIT_AUTHOR_NAME", NAME)
        .env("GIT_AUTHOR_EMAIL", EMAIL)
        .env("GIT_COMMITTER_NAME", COMMITTER)
        .env("GIT_COMMITTER_EMAIL", COMMITTER_EMAIL)
        .env("TOKEN", TOKEN);
    let out = r.run(&["run", "--ci", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let repo_path = r.path().canonicalize().unwrap();
    let wrote = format!(
        "wrote {}/exports/handbook-2026/index.md",
        repo_path.display()
    );

    // Only the token is announced to GitHub for masking.
    let masks: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::add-mask::"))
        .collect();
    assert!(
        masks.contains(&format!("::add-mask::{TOKEN}").as_str()),
        "the token is announced: {masks:?}"
    );
    for readable in [NAME, EMAIL, COMMITTER, COMMITTER_EMAIL, "handbook"] {
        assert!(
            !masks.iter().any(|m| m.contains(readable)),
            "{readable} is announced as a secret: {masks:?}"
        );
    }

    let expected = [
        format!("author: {NAME} <{EMAIL}>"),
        format!("committer: {COMMITTER} <{COMMITTER_EMAIL}>"),
        wrote.clone(),
        "using token ***".to_string(),
    ];
    for line in &expected {
        assert!(
            out.stdout.contains(line.as_str()),
            "{line:?} not in:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("handbook-export"), "{}", out.stdout);
    let shown = out.all().replace(&format!("::add-mask::{TOKEN}"), "");
    assert!(!shown.contains(TOKEN), "{shown}");

    // The report keeps them too: the target's name, its output path, the tail.
    let report = r.report();
    let result = &report["results"][0];
    assert_eq!(result["target"], "handbook-export", "{report:#}");
    let tail = result["output_tail"].as_str().unwrap();
    for line in &expected {
        assert!(
            tail.contains(line.as_str()),
            "{line:?} not in the tail:\n{tail}"
        );
    }
    let outputs = result["outputs_created"].to_string();
    assert!(outputs.contains("exports/handbook-2026"), "{report:#}");
    let json = r.read(".driftsync/reports/report.json");
    assert!(!json.contains(TOKEN), "{json}");
    let md = r.read(".driftsync/reports/report.md");
    assert!(md.contains("handbook-export"), "{md}");
    assert!(!md.contains(TOKEN), "{md}");
    let summary = r.read("gh-summary");
    assert!(summary.contains("handbook-export"), "{summary}");
    assert!(!summary.contains(TOKEN), "{summary}");
}
