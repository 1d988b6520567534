//! The scale-out recipe end to end against local doubles of the GitHub REST
//! API and the Actions results service: two matrix legs run the real binary
//! in CI mode on a `pull_request` event (each in its own checkout, as on two
//! runners), each keeps its own sticky comment and uploads its own artifact;
//! a merge job runs `report merge` over both report folders and writes the
//! one summary comment; a re-run that finds the same things writes nothing.
//! Every request is checked against the documented contract.

mod cli_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine;
use cli_support::Repo;
use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghs_scale_out_secret_token";
const BOT: &str = "github-actions[bot]";
const LIST: &str = "/repos/acme/site/issues/7/comments";
const TWIRP: &str = "/twirp/github.actions.results.api.v1.ArtifactService/";

/// The pull request's comments, kept by the REST double.
#[derive(Clone, Default)]
struct Comments(Arc<Mutex<Vec<Value>>>);

impl Respond for Comments {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut all = self.0.lock().unwrap();
        let path = req.url.path();
        match (req.method.as_str(), path) {
            ("GET", "/user") => ResponseTemplate::new(403).set_body_json(json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"
            })),
            ("GET", LIST) => ResponseTemplate::new(200).set_body_json(Value::Array(all.clone())),
            ("POST", LIST) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let c = json!({
                    "id": 1000 + all.len() as u64,
                    "body": body["body"],
                    "user": {"login": BOT, "type": "Bot"},
                });
                all.push(c.clone());
                ResponseTemplate::new(201).set_body_json(c)
            }
            ("PATCH", p) if p.starts_with("/repos/acme/site/issues/comments/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let c = all
                    .iter_mut()
                    .find(|c| c["id"] == id)
                    .expect("PATCH of a comment that exists");
                c["body"] = body["body"].clone();
                ResponseTemplate::new(200).set_body_json(c.clone())
            }
            (m, p) => panic!("unexpected REST call {m} {p}"),
        }
    }
}

/// The results service of one workflow run: artifact names are unique in it.
#[derive(Clone)]
struct Results {
    base: String,
    names: Arc<Mutex<Vec<String>>>,
}

impl Respond for Results {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if req.method.as_str() == "PUT" {
            return ResponseTemplate::new(201);
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let name = body["name"].as_str().unwrap().to_string();
        let mut names = self.names.lock().unwrap();
        match path.strip_prefix(TWIRP) {
            Some("CreateArtifact") => {
                if names.contains(&name) {
                    return ResponseTemplate::new(409)
                        .set_body_json(json!({"code": "already_exists", "msg": "exists"}));
                }
                names.push(name.clone());
                // Protobuf JSON as the service sends it: camelCase.
                ResponseTemplate::new(200).set_body_json(json!({
                    "ok": true,
                    "signedUploadUrl": format!("{}/blob/{name}.zip?sig=SIGNED", self.base)
                }))
            }
            Some("FinalizeArtifact") => ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "artifactId": format!("{}", names.len())})),
            other => panic!("unexpected results call {other:?}"),
        }
    }
}

fn runtime_token(job: &str) -> String {
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.sig",
        enc(json!({"alg": "RS256", "typ": "JWT"})),
        enc(json!({"scp": format!("Actions.Results:run-1:{job}")}))
    )
}

/// GitHub's REST conventions, and each endpoint's own contract.
fn assert_rest_contract(req: &Request) {
    driftsync_testkit::github::assert_rest_conventions(req, TOKEN);
    let path = req.url.path();
    match req.method.as_str() {
        "GET" => {
            assert!(req.body.is_empty());
            match path {
                "/user" => assert_eq!(req.url.query(), None),
                LIST => assert!(
                    req.url.query().unwrap_or("").contains("per_page=100"),
                    "{}",
                    req.url
                ),
                p => panic!("GET {p}"),
            }
        }
        "POST" | "PATCH" => {
            let v: Value = serde_json::from_slice(&req.body).expect("JSON body");
            let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["body"], "a comment write sends only `body`");
            assert!(v["body"].as_str().unwrap().len() <= 65_536);
            if req.method.as_str() == "POST" {
                assert_eq!(path, LIST);
            } else {
                let id = path
                    .strip_prefix("/repos/acme/site/issues/comments/")
                    .expect("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}");
                id.parse::<u64>().expect("numeric comment_id");
            }
        }
        m => panic!("unexpected method {m}"),
    }
}

fn assert_results_contract(req: &Request, jobs: &[&str]) {
    let path = req.url.path();
    if req.method.as_str() == "PUT" {
        assert!(path.starts_with("/blob/"), "{path}");
        assert_eq!(req.headers.get("x-ms-blob-type").unwrap(), "BlockBlob");
        assert!(
            req.headers.get("authorization").is_none(),
            "the signed URL carries its own credential"
        );
        return;
    }
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
    let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(
        jobs.iter()
            .any(|j| auth == format!("Bearer {}", runtime_token(j))),
        "{auth}"
    );
    let v: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(v["workflow_run_backend_id"], "run-1");
    assert!(v["workflow_job_run_backend_id"].is_string());
    assert!(v["name"].as_str().unwrap().starts_with("driftsync-report"));
    match path.strip_prefix(TWIRP) {
        Some("CreateArtifact") => assert_eq!(v["version"], 4),
        Some("FinalizeArtifact") => {
            assert!(v["size"].as_str().unwrap().parse::<u64>().unwrap() > 0);
            assert!(v["hash"].as_str().unwrap().starts_with("sha256:"));
        }
        other => panic!("{other:?}"),
    }
}

/// One checkout of the repository, as a runner has it: two command targets,
/// their outputs committed, so a run finds nothing to commit.
fn checkout() -> Repo {
    let r = Repo::new();
    r.config(
        "defaults: { direction: pull }\ntargets:\n  a:\n    type: command\n    run: echo alpha > a.txt\n    outputs: [a.txt]\n  b:\n    type: command\n    run: echo beta > b.txt\n    outputs: [b.txt]\n",
    );
    r.write("a.txt", "alpha\n").write("b.txt", "beta\n");
    r.commit_all("targets and their outputs");
    r
}

struct Job {
    out: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Job {
    fn new(job: &str, api: &str, results: &str) -> Job {
        let out = tempfile::tempdir().unwrap();
        let event =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/github/event-pull_request.json");
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_EVENT_NAME", "pull_request".into()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_REPOSITORY", "acme/site".into()),
            (
                "GITHUB_SHA",
                "0a0b0c0d0e0f10111213141516171819202122ab".into(),
            ),
            ("GITHUB_WORKFLOW", "driftsync".into()),
            ("GITHUB_JOB", job.into()),
            ("GITHUB_RUN_ID", "4242".into()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_API_URL", api.into()),
            ("GITHUB_TOKEN", TOKEN.into()),
            ("ACTIONS_RESULTS_URL", results.into()),
            (
                "GITHUB_OUTPUT",
                out.path().join("output").display().to_string(),
            ),
            (
                "GITHUB_STEP_SUMMARY",
                out.path().join("summary").display().to_string(),
            ),
            ("DRIFTSYNC_CHECK_RUN", "false".into()),
        ] {
            env.insert(k.to_string(), v);
        }
        Job { out, env }
    }

    fn set(mut self, k: &str, v: &str) -> Job {
        self.env.insert(k.into(), v.into());
        self
    }

    fn run(&self, dir: &Path, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.out.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(&self.env)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // `::add-mask::` is how GitHub learns the value; nothing else may show it.
        let shown: String = text
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        assert!(!shown.contains(TOKEN), "the token leaked: {text}");
        (out.status.code().unwrap_or(-1), text)
    }

    /// `$GITHUB_OUTPUT` values by name (the last one wins).
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.out.path().join("output")).unwrap_or_default();
        let mut out = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (name, delim) = l.split_once("<<").expect("heredoc form");
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
}

struct Doubles {
    api: MockServer,
    results: MockServer,
    comments: Comments,
}

async fn doubles(comments: Comments) -> Doubles {
    let api = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(comments.clone())
        .mount(&api)
        .await;
    let results = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Results {
            base: results.uri(),
            names: Arc::default(),
        })
        .mount(&results)
        .await;
    Doubles {
        api,
        results,
        comments,
    }
}

/// Run both legs and the merge job; the merge job's artifacts folder holds
/// each leg's report folder under its artifact name (as download-artifact
/// leaves them).
fn run_workflow(d: &Doubles, legs: &[(&Repo, &str, &str)], merge_dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let artifacts = merge_dir.join("artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    for (repo, target, job_id) in legs {
        let job = Job::new("sync", &d.api.uri(), &d.results.uri())
            .set("DRIFTSYNC_MATRIX", &format!("{{\"target\":\"{target}\"}}"))
            .set("ACTIONS_RUNTIME_TOKEN", &runtime_token(job_id));
        let (code, text) = job.run(repo.path(), &["run", "--target", target]);
        assert_eq!(code, 0, "leg {target}: {text}");
        let name = job.outputs()["artifact-name"].clone();
        assert!(
            text.contains(&format!("artifact {name}: uploaded (")),
            "{text}"
        );
        let dest = artifacts.join(&name);
        std::fs::create_dir_all(&dest).unwrap();
        for f in ["report.json", "report.md"] {
            std::fs::copy(repo.p(&format!(".driftsync/reports/{f}")), dest.join(f)).unwrap();
        }
        names.push(name);
    }
    let merge =
        Job::new("merge", &d.api.uri(), &d.results.uri()).set("DRIFTSYNC_NO_COMMENT", "merged");
    let (code, text) = merge.run(
        merge_dir,
        &["report", "merge", "artifacts", "--out", "merged", "--ci"],
    );
    assert_eq!(code, 0, "merge: {text}");
    assert!(text.contains("merged 2 report(s)"), "{text}");
    names
}

fn writes(reqs: &[Request]) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.method.as_str() != "GET")
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_scale_out_legs_keep_their_comments_and_the_merge_job_writes_one_summary() {
    let leg_a = checkout();
    let leg_b = checkout();
    let merge_dir = tempfile::tempdir().unwrap();
    // A person quoted the leg's marker in their own comment before the run.
    let quoted = json!({
        "id": 1,
        "user": {"login": "octocat", "type": "User"},
        "body": "<!-- driftsync:driftsync/sync [a] -->\nplease look at leg a",
    });
    let comments = Comments(Arc::new(Mutex::new(vec![quoted.clone()])));
    let d = doubles(comments.clone()).await;
    let legs = [(&leg_a, "a", "job-a"), (&leg_b, "b", "job-b")];

    let names = tokio::task::block_in_place(|| run_workflow(&d, &legs, merge_dir.path()));
    assert_eq!(names, ["driftsync-report-a", "driftsync-report-b"]);

    let rest = d.api.received_requests().await.unwrap();
    rest.iter().for_each(assert_rest_contract);
    assert_eq!(
        writes(&rest),
        [
            format!("POST {LIST}"),
            format!("POST {LIST}"),
            format!("POST {LIST}")
        ],
        "one comment per leg and one for the merge"
    );
    let results = d.results.received_requests().await.unwrap();
    results
        .iter()
        .for_each(|r| assert_results_contract(r, &["job-a", "job-b"]));
    assert_eq!(results.len(), 6, "create, PUT, finalize per leg");

    let all = d.comments.0.lock().unwrap().clone();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], quoted, "the person's comment is untouched");
    let first_lines: Vec<&str> = all[1..]
        .iter()
        .map(|c| c["body"].as_str().unwrap().lines().next().unwrap())
        .collect();
    assert_eq!(
        first_lines,
        [
            "<!-- driftsync:driftsync/sync [a] -->",
            "<!-- driftsync:driftsync/sync [b] -->",
            "<!-- driftsync:driftsync/merge -->",
        ]
    );
    let summary = all[3]["body"].as_str().unwrap();
    assert!(summary.contains("2 job(s), 2 target(s): 2 ok"), "{summary}");
    assert!(summary.contains("<details><summary>driftsync-report-a</summary>"));
    assert!(all[1]["body"]
        .as_str()
        .unwrap()
        .contains("<!-- driftsync-digest:"));

    // Re-run of the whole workflow (a new run: a fresh results service): the
    // same findings, new time stamps and durations — no comment is written.
    let again = doubles(comments.clone()).await;
    let names = tokio::task::block_in_place(|| run_workflow(&again, &legs, merge_dir.path()));
    assert_eq!(names, ["driftsync-report-a", "driftsync-report-b"]);
    let rest = again.api.received_requests().await.unwrap();
    rest.iter().for_each(assert_rest_contract);
    assert!(writes(&rest).is_empty(), "{:?}", writes(&rest));
    assert_eq!(
        rest.iter().filter(|r| r.url.path() == LIST).count(),
        3,
        "each job still looked for its comment"
    );
    assert_eq!(*comments.0.lock().unwrap(), all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_scale_out_a_changed_leg_patches_only_its_own_comment() {
    let leg_a = checkout();
    let leg_b = checkout();
    let merge_dir = tempfile::tempdir().unwrap();
    let comments = Comments::default();
    let d = doubles(comments.clone()).await;
    let legs = [(&leg_a, "a", "job-a"), (&leg_b, "b", "job-b")];
    tokio::task::block_in_place(|| run_workflow(&d, &legs, merge_dir.path()));
    let before = comments.0.lock().unwrap().clone();
    assert_eq!(before.len(), 3);

    // Leg b's target now fails: its comment and the summary change, leg a's not.
    leg_b.config(
        "defaults: { direction: pull }\ntargets:\n  a:\n    type: command\n    run: echo alpha > a.txt\n    outputs: [a.txt]\n  b:\n    type: command\n    run: exit 3\n    outputs: [b.txt]\n",
    );
    leg_b.commit_all("b breaks");
    let again = doubles(comments.clone()).await;
    let artifacts = merge_dir.path().join("artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    tokio::task::block_in_place(|| {
        for (repo, target, job_id, want) in [(&leg_a, "a", "job-a", 0), (&leg_b, "b", "job-b", 1)] {
            let job = Job::new("sync", &again.api.uri(), &again.results.uri())
                .set("DRIFTSYNC_MATRIX", &format!("{{\"target\":\"{target}\"}}"))
                .set("ACTIONS_RUNTIME_TOKEN", &runtime_token(job_id));
            let (code, text) = job.run(repo.path(), &["run", "--target", target]);
            assert_eq!(code, want, "{text}");
            let dest = artifacts.join(format!("driftsync-report-{target}"));
            std::fs::create_dir_all(&dest).unwrap();
            for f in ["report.json", "report.md"] {
                std::fs::copy(repo.p(&format!(".driftsync/reports/{f}")), dest.join(f)).unwrap();
            }
        }
        let merge = Job::new("merge", &again.api.uri(), &again.results.uri());
        let (code, text) = merge.run(
            merge_dir.path(),
            &["report", "merge", "artifacts", "--out", "merged", "--ci"],
        );
        assert_eq!(code, 1, "{text}");
    });
    let rest = again.api.received_requests().await.unwrap();
    rest.iter().for_each(assert_rest_contract);
    let b_id = before[1]["id"].as_u64().unwrap();
    let merge_id = before[2]["id"].as_u64().unwrap();
    assert_eq!(
        writes(&rest),
        [
            format!("PATCH /repos/acme/site/issues/comments/{b_id}"),
            format!("PATCH /repos/acme/site/issues/comments/{merge_id}")
        ]
    );
    let after = comments.0.lock().unwrap().clone();
    assert_eq!(after[0], before[0], "leg a's comment is untouched");
}
