//! `driftsync run --pull-request` as users run it: the built binary in a git
//! repository whose `origin` is a local bare repository, against a GitHub
//! REST/GraphQL double that checks each request's method, path, headers and
//! body against GitHub's documented contract.
//!
//! The life of one proposal: opened (labels, reviewers, draft, auto-merge),
//! left alone when the result is the same, updated when it changes, closed
//! when the change landed on the base branch; and refused, before anything
//! runs, without a token or a repository.

mod cli_support;

use std::process::Command;

use cli_support::{git, Out, Repo};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghs_pullRequestModeSecret0123456789";
const BRANCH: &str = "driftsync/nightly";

/// Every request carries the token as a bearer, GitHub's media type and API
/// version; a write sends JSON, a read or delete sends nothing.
fn assert_contract(req: &Request) {
    driftsync_testkit::github::assert_rest_conventions(req, TOKEN);
}

fn json_of(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

/// A repository with a pull target `nightly` writing `data/out.txt` from a
/// value kept outside it, pushed to a bare `origin`.
struct Setup {
    root: tempfile::TempDir,
    repo: Repo,
}

impl Setup {
    fn new() -> Setup {
        let root = tempfile::tempdir().unwrap();
        let (_, url) = driftsync_testkit::bare_repo(root.path());
        let repo = Repo::new();
        repo.script(
            "scripts/pull.sh",
            r#"mkdir -p data
cp "$SOURCE" data/out.txt"#,
        );
        repo.config(&format!(
            r#"version: "1.0"
defaults:
  pull_request:
    labels: [data-sync]
targets:
  nightly:
    type: command
    direction: pull
    entrypoint: scripts/pull.sh
    env: {{ SOURCE: "{}" }}
    outputs: ["data/**"]
"#,
            root.path().join("source.txt").display()
        ));
        repo.commit_all("setup");
        repo.git(&["remote", "add", "origin", &url]);
        repo.git(&["push", "-q", "-u", "origin", "main"]);
        Setup { root, repo }
    }

    fn source(&self, value: &str) {
        std::fs::write(self.root.path().join("source.txt"), value).unwrap();
    }

    fn origin(&self) -> std::path::PathBuf {
        self.root.path().join("origin.git")
    }

    /// `git rev-parse REV` in the bare origin, `None` when it does not exist.
    fn origin_rev(&self, rev: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["rev-parse", "--verify", "-q", rev])
            .current_dir(self.origin())
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Run the binary with exactly the GitHub variables given (the test's
    /// own environment may hold real ones).
    fn run(&self, api: &str, vars: &[(&str, &str)], args: &[&str]) -> Out {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftsync"));
        c.args(args).current_dir(self.repo.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("GITHUB_") || k == "CI" || k.starts_with("DRIFTSYNC_") {
                c.env_remove(k);
            }
        }
        c.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GITHUB_API_URL", api);
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = c.output().expect("run the driftsync binary");
        let out = Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !out.all().contains(TOKEN),
            "the token leaked: {}",
            out.all()
        );
        if self.repo.exists(".driftsync/reports/report.md") {
            for f in ["report.md", "report.json"] {
                let text = self.repo.read(&format!(".driftsync/reports/{f}"));
                assert!(!text.contains(TOKEN), "the token leaked into {f}");
            }
        }
        out
    }

    fn propose(&self, api: &str, extra: &[&str]) -> Out {
        let mut args = vec!["run", "--pull-request"];
        args.extend_from_slice(extra);
        let output = self.root.path().join("output");
        let _ = std::fs::remove_file(&output);
        self.run(
            api,
            &[
                ("GITHUB_TOKEN", TOKEN),
                ("GITHUB_REPOSITORY", "acme/site"),
                ("GITHUB_OUTPUT", output.to_str().unwrap()),
            ],
            &args,
        )
    }

    /// The step outputs the last [`Setup::propose`] wrote (heredoc form).
    fn outputs(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.root.path().join("output")).unwrap();
        let mut out = Vec::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (name, delim) = l.split_once("<<").expect("heredoc form");
            let value: Vec<&str> = lines.by_ref().take_while(|v| *v != delim).collect();
            out.push((name.to_string(), value.join("\n")));
        }
        out
    }

    fn report_md(&self) -> String {
        self.repo
            .read(".driftsync/reports/report.md")
            .trim_end()
            .to_string()
    }
}

/// The open pull request #5 from the branch, as GitHub lists it.
fn open_pr(body: &str) -> Value {
    json!([{
        "number": 5,
        "node_id": "PR_kwDOnode5",
        "html_url": "https://github.com/acme/site/pull/5",
        "state": "open",
        "body": body,
        "head": {"ref": BRANCH, "label": format!("acme:{BRANCH}")},
        "base": {"ref": "main"},
    }])
}

async fn mount_list(api: &MockServer, answer: Value) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(api)
        .await;
}

/// Every request checked against the contract; the list request asked for
/// the branch's open pull requests. Returns the writes.
async fn writes(api: &MockServer) -> Vec<Request> {
    let all = api.received_requests().await.unwrap();
    all.iter().for_each(assert_contract);
    let lists: Vec<&Request> = all.iter().filter(|r| r.method.as_str() == "GET").collect();
    assert_eq!(lists.len(), 1, "one look-up per run");
    let query: Vec<(String, String)> = lists[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(
        query.contains(&("head".into(), format!("acme:{BRANCH}"))),
        "{query:?}"
    );
    assert!(
        query.contains(&("state".into(), "open".into())),
        "{query:?}"
    );
    all.into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .collect()
}

fn route(r: &Request) -> String {
    format!("{} {}", r.method, r.url.path())
}

#[tokio::test]
async fn a_proposal_is_opened_left_alone_updated_then_closed_when_it_landed() {
    let s = Setup::new();
    let api = MockServer::start().await;
    let main_before = s.origin_rev("main").unwrap();
    let head_before = s.repo.head();

    // 1. First run: the branch is created and the pull request opened.
    s.source("v1\n");
    mount_list(&api, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(open_pr("")[0].clone()))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/5/labels"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "data-sync"}])))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/pulls/5/requested_reviewers"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 5})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"enablePullRequestAutoMerge": {"pullRequest": {"number": 5}}}
        })))
        .expect(1)
        .mount(&api)
        .await;
    let out = s.propose(
        &api.uri(),
        &[
            "--pr-reviewer",
            "octocat",
            "--pr-draft",
            "--pr-auto-merge",
            "squash",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("pull request #5 opened"),
        "{}",
        out.stdout
    );
    assert_eq!(
        s.outputs(),
        [
            ("pull-request-operation".to_string(), "created".to_string()),
            ("pull-request-number".into(), "5".into()),
            (
                "pull-request-url".into(),
                "https://github.com/acme/site/pull/5".into()
            ),
        ]
    );
    let first = s.origin_rev(BRANCH).expect("the branch was pushed");
    assert_eq!(
        git(&s.origin(), &["show", &format!("{BRANCH}:data/out.txt")]),
        "v1\n"
    );
    assert_eq!(
        s.origin_rev(&format!("{BRANCH}^")).unwrap(),
        main_before,
        "made from HEAD"
    );
    assert_eq!(
        s.origin_rev("main").unwrap(),
        main_before,
        "main not pushed"
    );
    assert_eq!(
        s.repo.head(),
        head_before,
        "the checkout's branch not moved"
    );
    let body1 = s.report_md();
    let w = writes(&api).await;
    assert_eq!(
        w.iter().map(route).collect::<Vec<_>>(),
        [
            "POST /repos/acme/site/pulls",
            "POST /repos/acme/site/issues/5/labels",
            "POST /repos/acme/site/pulls/5/requested_reviewers",
            "POST /graphql",
        ]
    );
    assert_eq!(
        json_of(&w[0]),
        json!({
            "title": "driftsync: sync nightly",
            "head": BRANCH,
            "base": "main",
            "body": body1,
            "draft": true,
        })
    );
    assert!(body1.contains("`nightly`"), "{body1}");
    assert_eq!(json_of(&w[1]), json!({"labels": ["data-sync"]}));
    assert_eq!(json_of(&w[2]), json!({"reviewers": ["octocat"]}));
    let gql = json_of(&w[3]);
    assert!(
        gql["query"]
            .as_str()
            .unwrap()
            .contains("enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod})"),
        "{gql}"
    );
    assert_eq!(
        gql["variables"],
        json!({"pullRequestId": "PR_kwDOnode5", "mergeMethod": "SQUASH"})
    );
    api.verify().await;
    api.reset().await;

    // 2. The same result again: nothing pushed, nothing written.
    mount_list(&api, open_pr(&body1)).await;
    let out = s.propose(&api.uri(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("nothing pushed"), "{}", out.stdout);
    assert!(
        out.stdout.contains("pull request #5 unchanged"),
        "{}",
        out.stdout
    );
    assert_eq!(s.origin_rev(BRANCH).unwrap(), first, "not force-pushed");
    assert_eq!(s.outputs()[0].1, "unchanged");
    assert!(writes(&api).await.is_empty(), "nothing patched");
    api.verify().await;
    api.reset().await;

    // 3. A new result: the branch is rebuilt on the base and replaced under a
    // lease, and the body rewritten.
    s.source("v2\n");
    mount_list(&api, open_pr(&body1)).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/pulls/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(open_pr("")[0].clone()))
        .expect(1)
        .mount(&api)
        .await;
    let out = s.propose(&api.uri(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let second = s.origin_rev(BRANCH).unwrap();
    assert_ne!(second, first);
    assert_eq!(
        git(&s.origin(), &["show", &format!("{BRANCH}:data/out.txt")]),
        "v2\n"
    );
    assert_eq!(s.origin_rev(&format!("{BRANCH}^")).unwrap(), main_before);
    assert!(
        out.stdout.contains(&format!("replaced {}", &first[..12])),
        "{}",
        out.stdout
    );
    let w = writes(&api).await;
    assert_eq!(
        w.iter().map(route).collect::<Vec<_>>(),
        ["PATCH /repos/acme/site/pulls/5"]
    );
    assert_eq!(json_of(&w[0]), json!({"body": s.report_md()}));
    assert!(
        s.report_md().contains(&second[..12]),
        "the new commit is named"
    );
    api.verify().await;
    api.reset().await;

    // 4. The change landed on main (merged): the pull request is closed with a
    // comment and its branch deleted.
    s.repo.git(&["add", "data/out.txt"]);
    s.repo.git(&["commit", "-q", "-m", "merge the proposal"]);
    s.repo.git(&["push", "-q", "origin", "main"]);
    mount_list(&api, open_pr(&s.report_md())).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/5/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/pulls/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(open_pr("")[0].clone()))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/repos/acme/site/git/refs/heads/{BRANCH}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&api)
        .await;
    let out = s.propose(&api.uri(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("pull request #5 closed"),
        "{}",
        out.stdout
    );
    let w = writes(&api).await;
    assert_eq!(
        w.iter().map(route).collect::<Vec<_>>(),
        [
            "POST /repos/acme/site/issues/5/comments",
            "PATCH /repos/acme/site/pulls/5",
            format!("DELETE /repos/acme/site/git/refs/heads/{BRANCH}").as_str(),
        ]
    );
    let comment = json_of(&w[0]);
    assert_eq!(comment.as_object().unwrap().len(), 1, "{comment}");
    assert!(
        comment["body"]
            .as_str()
            .unwrap()
            .contains("nothing to change relative to `main`"),
        "{comment}"
    );
    assert_eq!(json_of(&w[1]), json!({"state": "closed"}));
    assert_eq!(s.outputs()[0].1, "closed");
    api.verify().await;
}

#[tokio::test]
async fn without_a_token_or_a_repository_nothing_runs_and_nothing_is_pushed() {
    let s = Setup::new();
    s.source("v1\n");
    let api = MockServer::start().await;
    let out = s.run(
        &api.uri(),
        &[("GITHUB_REPOSITORY", "acme/site")],
        &["run", "--pull-request"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("GITHUB_TOKEN"), "{}", out.stderr);
    assert!(out.stderr.contains("DRIFTSYNC_GIT_TOKEN"), "{}", out.stderr);
    let out = s.run(
        &api.uri(),
        &[("GITHUB_TOKEN", TOKEN)],
        &["run", "--pull-request"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("GITHUB_REPOSITORY"), "{}", out.stderr);
    assert!(!s.repo.exists("data/out.txt"), "the target did not run");
    assert_eq!(s.origin_rev(BRANCH), None, "nothing pushed");
    assert!(api.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_pull_request_is_a_clear_error_and_leaves_the_pushed_branch() {
    let s = Setup::new();
    s.source("v1\n");
    let api = MockServer::start().await;
    mount_list(&api, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "GitHub Actions is not permitted to create or approve pull requests."
        })))
        .expect(1)
        .mount(&api)
        .await;
    let out = s.propose(&api.uri(), &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("GitHub Actions is not permitted to create or approve pull requests"),
        "{}",
        out.all()
    );
    assert!(
        s.origin_rev(BRANCH).is_some(),
        "the branch is there to retry"
    );
    writes(&api).await;
}

#[test]
fn flags_that_contradict_pull_request_mode_are_usage_errors() {
    let s = Setup::new();
    for extra in [["--no-commit"], ["--no-push"], ["--push"]] {
        let mut args = vec!["run", "--pull-request"];
        args.extend_from_slice(&extra);
        let out = s.run("http://127.0.0.1:9", &[("GITHUB_TOKEN", TOKEN)], &args);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.all());
        assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
    }
    let out = s.run("http://127.0.0.1:9", &[], &["run", "--pr-label", "x"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--pull-request"), "{}", out.stderr);
}

#[tokio::test]
async fn on_a_detached_head_the_base_comes_from_the_environment() {
    let s = Setup::new();
    s.source("v1\n");
    s.repo.git(&["checkout", "-q", "--detach"]);
    let api = MockServer::start().await;
    let out = s.propose(&api.uri(), &["--pr-branch", "sync/custom"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("defaults.pull_request.base"),
        "{}",
        out.stderr
    );
    assert!(!s.repo.exists("data/out.txt"), "the target did not run");

    mount_list_for(&api, "sync/custom").await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/pulls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(open_pr("")[0].clone()))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/issues/5/labels"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "data-sync"}])))
        .expect(1)
        .mount(&api)
        .await;
    let output = s.root.path().join("output");
    let out = s.run(
        &api.uri(),
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "acme/site"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
        ],
        &["run", "--pull-request", "--pr-branch", "sync/custom"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let all = api.received_requests().await.unwrap();
    all.iter().for_each(assert_contract);
    let post = all
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path() == "/repos/acme/site/pulls")
        .unwrap();
    let sent = json_of(post);
    assert_eq!(sent["head"], "sync/custom");
    assert_eq!(sent["base"], "main");
    assert_eq!(sent["draft"], false);
    assert!(s.origin_rev("sync/custom").is_some());
    api.verify().await;
}

async fn mount_list_for(api: &MockServer, branch: &str) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/site/pulls"))
        .and(wiremock::matchers::query_param(
            "head",
            format!("acme:{branch}"),
        ))
        .and(wiremock::matchers::query_param("state", "open"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(api)
        .await;
}

#[tokio::test]
async fn refused_reviewers_and_auto_merge_are_warnings_not_failures() {
    let s = Setup::new();
    s.source("v1\n");
    let api = MockServer::start().await;
    mount_list(&api, json!([])).await;
    for (p, status, body) in [
        ("/repos/acme/site/pulls", 201, open_pr("")[0].clone()),
        ("/repos/acme/site/issues/5/labels", 200, json!([])),
        (
            "/repos/acme/site/pulls/5/requested_reviewers",
            422,
            json!({"message": "Reviews may only be requested from collaborators."}),
        ),
        (
            "/graphql",
            200,
            json!({"data": null, "errors": [{"message": "Pull request Auto merge is not allowed for this repository"}]}),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&api)
            .await;
    }
    let out = s.propose(
        &api.uri(),
        &["--pr-reviewer", "stranger", "--pr-auto-merge", "rebase"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("warning: requesting reviewers failed: HTTP 422: Reviews may only be requested from collaborators."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Pull request Auto merge is not allowed for this repository"),
        "{}",
        out.stdout
    );
    let w = writes(&api).await;
    assert_eq!(json_of(&w[3])["variables"]["mergeMethod"], "REBASE");
    api.verify().await;
}
