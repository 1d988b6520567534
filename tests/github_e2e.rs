//! The built binary inside a realistic GitHub Actions environment: the event
//! payloads of `pull_request`, `workflow_dispatch` and `schedule`, the
//! outputs and summary files, annotations on stdout, the PR comment against a
//! REST double and the artifact against a results-service double.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghs_e2e_secret_token_value";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/github")
}

struct Step {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Step {
    /// A fresh step of a run of `event` on acme/site.
    fn new(event: &str) -> Step {
        let dir = tempfile::tempdir().unwrap();
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        set("CI", "true".into());
        set("GITHUB_ACTIONS", "true".into());
        set("GITHUB_EVENT_NAME", event.into());
        set(
            "GITHUB_EVENT_PATH",
            fixtures()
                .join(format!("event-{event}.json"))
                .display()
                .to_string(),
        );
        set("GITHUB_REPOSITORY", "acme/site".into());
        set("GITHUB_REPOSITORY_OWNER", "acme".into());
        set(
            "GITHUB_SHA",
            "0a0b0c0d0e0f10111213141516171819202122ab".into(),
        );
        set("GITHUB_REF", "refs/heads/main".into());
        set("GITHUB_WORKFLOW", "driftsync check".into());
        set("GITHUB_JOB", "check".into());
        set("GITHUB_RUN_ID", "4242".into());
        set("GITHUB_RUN_ATTEMPT", "1".into());
        set("GITHUB_SERVER_URL", "https://github.com".into());
        set("GITHUB_API_URL", "http://127.0.0.1:9/unreachable".into());
        set(
            "GITHUB_OUTPUT",
            dir.path().join("output").display().to_string(),
        );
        set(
            "GITHUB_STEP_SUMMARY",
            dir.path().join("summary").display().to_string(),
        );
        set("RUNNER_TEMP", dir.path().display().to_string());
        Step { dir, env }
    }

    fn set(&mut self, k: &str, v: &str) -> &mut Step {
        self.env.insert(k.into(), v.into());
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftsync"));
        c.env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.envs(&self.env);
        c.args(args);
        c.current_dir(self.dir.path());
        c.output().unwrap()
    }

    /// `$GITHUB_OUTPUT` parsed (heredoc form).
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.dir.path().join("output")).unwrap();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (name, delim) = l.split_once("<<").expect("heredoc form");
            assert!(delim.starts_with("ghadelimiter_"), "{delim}");
            let mut value = Vec::new();
            for v in lines.by_ref() {
                if v == delim {
                    break;
                }
                value.push(v);
            }
            out.insert(name.to_string(), value.join("\n"));
        }
        out
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("summary")).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `GET /user` as GitHub answers it for the Actions `GITHUB_TOKEN` (an
/// installation token): 403.
async fn actions_token_user(api: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"
        })))
        .mount(api)
        .await;
}

fn report_dir(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

#[tokio::test]
async fn github_pull_request_publishes_outputs_summary_annotations_and_comment() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
        .expect(1)
        .mount(&api)
        .await;
    actions_token_user(&api).await;
    let mut step = Step::new("pull_request");
    step.set("GITHUB_API_URL", &api.uri())
        .set("GITHUB_TOKEN", TOKEN);
    let out = step.run(&["publish", &report_dir("report-drift")]);
    let so = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "drift exits 1\n{so}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let o = step.outputs();
    assert_eq!(o["drift"], "true");
    assert_eq!(o["failed"], "1");
    assert_eq!(o["changed"], "templates/a.html\ntemplates/b.html");
    assert_eq!(o["report-path"], report_dir("report-drift"));

    assert!(step
        .summary()
        .contains("| db_schema | ⚠️ drift | 2 schema differences |"));

    assert!(so.contains(
        "::error file=schemas/tables.py,line=12,col=5,title=column-removed (critical)::column users.email was removed, in the code: still there\n"
    ), "{so}");
    assert!(so.contains(
        "::error file=schemas/enums.py,line=3,title=enum-changed (high)::enum status: label 'archived' added, 50%25 of rows, a:b,c\n"
    ), "{so}");
    assert!(so.contains("the action's upload step uploads"), "{so}");
    assert!(!so.contains(TOKEN) && !String::from_utf8_lossy(&out.stderr).contains(TOKEN));

    let posts: Vec<_> = api
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "the comment and the check run");
    // On a pull request with a token the check run is on by default, on the PR head.
    let check: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(posts[1].url.path(), "/repos/acme/site/check-runs");
    assert_eq!(
        check["head_sha"],
        "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"
    );
    assert_eq!(check["conclusion"], "failure");
    assert_eq!(check["output"]["annotations"].as_array().unwrap().len(), 2);
    assert!(
        so.contains("check run: created (id 5, 1 request(s))"),
        "{so}"
    );
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    let body = body["body"].as_str().unwrap();
    assert!(
        body.starts_with("<!-- driftsync:driftsync check/check -->\n<!-- driftsync-digest:"),
        "{body}"
    );
    assert!(body.contains(" -->\n## driftsync check"), "{body}");
    assert_eq!(
        posts[0].headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn github_workflow_dispatch_in_sync_writes_no_annotations_and_no_comment() {
    let step = Step::new("workflow_dispatch");
    let out = step.run(&["publish", &report_dir("report-ok"), "--no-artifact"]);
    let so = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{so}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = step.outputs();
    assert_eq!(o["drift"], "false");
    assert_eq!(o["failed"], "0");
    assert_eq!(o["changed"], "templates/a.html");
    assert!(step.summary().starts_with("## driftsync run — ✅ in sync"));
    assert!(!so.contains("::error") && !so.contains("::warning"), "{so}");
    assert!(!so.contains("PR comment"), "not a pull request: {so}");
}

#[tokio::test]
async fn github_schedule_uploads_the_artifact_through_the_results_service() {
    let results = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "signed_upload_url": format!("{}/blob/a.zip?sig=s", results.uri())
        })))
        .expect(1)
        .mount(&results)
        .await;
    Mock::given(method("PUT"))
        .and(path("/blob/a.zip"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&results)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "artifact_id": "77"})),
        )
        .expect(1)
        .mount(&results)
        .await;
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let jwt = format!(
        "{}.{}.sig",
        enc(json!({"alg": "RS256"})),
        enc(json!({"scp": "Actions.Results:r1:j1"}))
    );
    let mut step = Step::new("schedule");
    step.set("ACTIONS_RUNTIME_TOKEN", &jwt)
        .set("ACTIONS_RESULTS_URL", &format!("{}/", results.uri()));
    let out = step.run(&[
        "publish",
        &report_dir("report-drift"),
        "--artifact-name",
        "nightly",
    ]);
    let so = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{so}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(so.contains("artifact nightly: uploaded ("), "{so}");
    assert!(so.contains("id 77"), "{so}");
    assert!(!so.contains(&jwt));
    assert_eq!(step.outputs()["drift"], "true");
    assert!(
        so.contains("::error file=schemas/tables.py,line=12"),
        "{so}"
    );
}

#[test]
fn github_publish_outside_actions_is_a_usage_error() {
    let mut step = Step::new("push");
    step.set("GITHUB_ACTIONS", "false");
    let out = step.run(&["publish", &report_dir("report-ok")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_ACTIONS=true"));
}

#[test]
fn github_report_merge_joins_job_reports() {
    let step = Step::new("workflow_dispatch");
    let jobs = step.dir.path().join("artifacts");
    for name in ["report-drift", "report-ok"] {
        let d = jobs.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in ["report.json", "report.md"] {
            std::fs::copy(fixtures().join(name).join(f), d.join(f)).unwrap();
        }
    }
    let out = step.run(&["report", "merge", jobs.to_str().unwrap(), "--out", "merged"]);
    let so = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{so}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Value = serde_json::from_str(
        &std::fs::read_to_string(step.dir.path().join("merged/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(merged["total_targets"], 3);
    assert_eq!(merged["failed"], 1);
    assert_eq!(merged["results"].as_array().unwrap().len(), 3);
    let summary = step.summary();
    assert!(
        summary.contains("3 target(s): 2 ok, 1 failed or drifted"),
        "{summary}"
    );
    assert!(
        summary.contains("<details><summary>report-ok</summary>"),
        "{summary}"
    );
    assert_eq!(step.outputs()["failed"], "1");
    assert!(so.contains("::error file=schemas/tables.py"), "{so}");
}

#[tokio::test]
async fn github_pull_request_check_run_refused_is_a_notice_and_changes_nothing() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/check-runs"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let mut step = Step::new("pull_request");
    step.set("GITHUB_API_URL", &api.uri())
        .set("GITHUB_TOKEN", TOKEN);
    let out = step.run(&["publish", &report_dir("report-drift")]);
    let so = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "drift still exits 1\n{so}");
    let notice = so
        .lines()
        .find(|l| l.starts_with("::notice::check run not created"))
        .unwrap_or_else(|| panic!("no notice: {so}"));
    assert!(notice.contains("checks: write"), "{notice}");
    assert!(!so.contains("::warning::check run"), "{so}");
    assert!(!so.contains(TOKEN));

    // DRIFTSYNC_CHECK_RUN=false: no check run at all.
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
        .mount(&api)
        .await;
    step.set("GITHUB_API_URL", &api.uri())
        .set("DRIFTSYNC_CHECK_RUN", "false");
    let out = step.run(&["publish", &report_dir("report-drift")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let paths: Vec<String> = api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert!(!paths.iter().any(|p| p.contains("check-runs")), "{paths:?}");
}

async fn empty_comment_list(api: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(api)
        .await;
}

#[tokio::test]
async fn github_a_hung_api_is_cut_off_by_the_timeout_and_only_warns() {
    let api = MockServer::start().await;
    actions_token_user(&api).await;
    empty_comment_list(&api).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 1}))
                .set_delay(std::time::Duration::from_secs(60)),
        )
        .mount(&api)
        .await;
    let mut step = Step::new("pull_request");
    step.set("GITHUB_API_URL", &api.uri())
        .set("GITHUB_TOKEN", TOKEN)
        .set("DRIFTSYNC_CHECK_RUN", "false")
        .set("DRIFTSYNC_GITHUB_TIMEOUT", "1");
    let out = step.run(&["publish", &report_dir("report-drift"), "--no-artifact"]);
    let so = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the report's exit code stands\n{so}"
    );
    let warning = so
        .lines()
        .find(|l| l.starts_with("::warning::PR comment not written"))
        .unwrap_or_else(|| panic!("no warning: {so}"));
    assert!(
        warning.contains("no complete answer within 1 s"),
        "{warning}"
    );
    assert!(warning.contains("DRIFTSYNC_GITHUB_TIMEOUT"), "{warning}");

    // A bad value is a clear error, not a silent default.
    step.set("DRIFTSYNC_GITHUB_TIMEOUT", "soon");
    let out = step.run(&["publish", &report_dir("report-drift"), "--no-artifact"]);
    assert_eq!(out.status.code(), Some(2));
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(se.contains("DRIFTSYNC_GITHUB_TIMEOUT=\"soon\""), "{se}");
}

#[tokio::test]
async fn github_only_a_refusal_on_a_fork_gets_the_fork_hint_and_a_rate_limit_has_its_own_warning() {
    let refusal = || {
        ResponseTemplate::new(403)
            .set_body_json(json!({"message": "Resource not accessible by integration"}))
    };
    let run = |step: &Step| {
        let out = step.run(&["publish", &report_dir("report-drift"), "--no-artifact"]);
        assert_eq!(out.status.code(), Some(1));
        let so = stdout(&out);
        so.lines()
            .find(|l| l.starts_with("::warning::PR comment not written"))
            .unwrap_or_else(|| panic!("no warning: {so}"))
            .to_string()
    };

    // Same repository, no permission: the permission hint, not the fork one.
    let api = MockServer::start().await;
    actions_token_user(&api).await;
    empty_comment_list(&api).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(refusal())
        .mount(&api)
        .await;
    let mut step = Step::new("pull_request");
    step.set("GITHUB_API_URL", &api.uri())
        .set("GITHUB_TOKEN", TOKEN)
        .set("DRIFTSYNC_CHECK_RUN", "false");
    let w = run(&step);
    assert!(w.contains("pull-requests: write"), "{w}");
    assert!(!w.contains("fork"), "{w}");

    // The same refusal on a fork's pull request: the fork hint.
    let fork = step.dir.path().join("event-fork.json");
    std::fs::write(
        &fork,
        json!({"number": 7, "pull_request": {"number": 7,
            "head": {"sha": "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c", "repo": {"full_name": "mallory/site", "fork": true}}}})
        .to_string(),
    )
    .unwrap();
    step.set("GITHUB_EVENT_PATH", fork.to_str().unwrap());
    let w = run(&step);
    assert!(
        w.contains("a pull request from a fork gets a read-only token"),
        "{w}"
    );

    // A secondary rate limit (no retry-after): its own warning, even on a fork.
    let api = MockServer::start().await;
    actions_token_user(&api).await;
    empty_comment_list(&api).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
        })))
        .expect(1)
        .mount(&api)
        .await;
    step.set("GITHUB_API_URL", &api.uri());
    let w = run(&step);
    assert!(w.contains("secondary rate limit"), "{w}");
    assert!(w.contains("the next run writes it"), "{w}");
    assert!(!w.contains("fork"), "{w}");
}

#[tokio::test]
async fn github_a_502_then_201_writes_the_comment_once() {
    let api = MockServer::start().await;
    actions_token_user(&api).await;
    empty_comment_list(&api).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/7/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 31})))
        .with_priority(2)
        .expect(1)
        .mount(&api)
        .await;
    let mut step = Step::new("pull_request");
    step.set("GITHUB_API_URL", &api.uri())
        .set("GITHUB_TOKEN", TOKEN)
        .set("DRIFTSYNC_CHECK_RUN", "false");
    let out = step.run(&["publish", &report_dir("report-drift"), "--no-artifact"]);
    let so = stdout(&out);
    assert!(so.contains("PR comment: created (id 31)"), "{so}");
    assert!(!so.contains("::warning::PR comment"), "{so}");
}

#[tokio::test]
async fn github_a_taken_artifact_name_is_suffixed_said_and_written_as_the_output() {
    let results = MockServer::start().await;
    let create = "/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact";
    Mock::given(method("POST"))
        .and(path(create))
        .and(wiremock::matchers::body_partial_json(
            json!({"name": "driftsync-report-ubuntu-latest-docs"}),
        ))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"code": "already_exists"})))
        .expect(1)
        .mount(&results)
        .await;
    Mock::given(method("POST"))
        .and(path(create))
        .and(wiremock::matchers::body_partial_json(
            json!({"name": "driftsync-report-ubuntu-latest-docs-2"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "signedUploadUrl": format!("{}/blob/b.zip?sig=s", results.uri())
        })))
        .expect(1)
        .mount(&results)
        .await;
    Mock::given(method("PUT"))
        .and(path("/blob/b.zip"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&results)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "artifactId": "78"})),
        )
        .expect(1)
        .mount(&results)
        .await;
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let jwt = format!(
        "{}.{}.sig",
        enc(json!({"alg": "RS256"})),
        enc(json!({"scp": "Actions.Results:r1:j1"}))
    );
    let mut step = Step::new("schedule");
    step.set("ACTIONS_RUNTIME_TOKEN", &jwt)
        .set("ACTIONS_RESULTS_URL", &results.uri())
        .set(
            "DRIFTSYNC_MATRIX",
            r#"{"target": "docs", "os": "ubuntu-latest"}"#,
        );
    let out = step.run(&["publish", &report_dir("report-ok")]);
    let so = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{so}");
    assert!(
        so.contains("::warning::artifact name driftsync-report-ubuntu-latest-docs is already taken in this run; uploaded as driftsync-report-ubuntu-latest-docs-2"),
        "{so}"
    );
    assert!(so.contains("id 78"), "{so}");
    assert_eq!(
        step.outputs()["artifact-name"],
        "driftsync-report-ubuntu-latest-docs-2"
    );

    // Without the runtime (the action uploads): the output names the leg's artifact,
    // DRIFTSYNC_ARTIFACT_NAME overrides it.
    let mut step = Step::new("schedule");
    step.set("DRIFTSYNC_MATRIX", r#"{"os": "macos-14"}"#);
    step.run(&["publish", &report_dir("report-ok")]);
    assert_eq!(step.outputs()["artifact-name"], "driftsync-report-macos-14");
    let mut step = Step::new("schedule");
    step.set("DRIFTSYNC_MATRIX", r#"{"os": "macos-14"}"#)
        .set("DRIFTSYNC_ARTIFACT_NAME", "nightly-mac");
    step.run(&["publish", &report_dir("report-ok")]);
    assert_eq!(step.outputs()["artifact-name"], "nightly-mac");
}

#[test]
fn github_publish_reads_the_folder_run_and_check_write() {
    let step = Step::new("workflow_dispatch");
    let d = step.dir.path().join(".driftsync/reports");
    std::fs::create_dir_all(&d).unwrap();
    for f in ["report.json", "report.md"] {
        std::fs::copy(fixtures().join("report-ok").join(f), d.join(f)).unwrap();
    }
    let out = step.run(&["publish", "--no-artifact"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(step.outputs()["report-path"], ".driftsync/reports");
}
