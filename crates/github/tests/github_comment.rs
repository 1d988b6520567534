//! The sticky PR comment and the check run against a local double of the
//! GitHub REST API that checks every call against the documented contract:
//! `GET /repos/{owner}/{repo}/issues/{issue_number}/comments` (paginated by
//! `Link`), `POST` the same path with `{"body"}` (201),
//! `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}` with `{"body"}`,
//! `POST /repos/{owner}/{repo}/check-runs`, `PATCH …/check-runs/{id}`; headers
//! `Authorization: Bearer`, `Accept: application/vnd.github+json`,
//! `X-GitHub-Api-Version: 2022-11-28`, a `User-Agent`, JSON content type.

use driftsync_core::redact::Secret;
use driftsync_github::annotations::Annotation;
use driftsync_github::checks::{self, CheckOutcome};
use std::time::Duration;

use driftsync_github::client::{HttpPolicy, RestClient};
use driftsync_github::comment::{self, CommentOutcome};
use driftsync_github::workflow_commands::Level;
use driftsync_github::GithubError;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ghs_test_token_0123456789";
const LIST: &str = "/repos/acme/site/issues/7/comments";

fn client(server: &MockServer) -> RestClient {
    RestClient::new(&server.uri(), &Secret::new(TOKEN)).unwrap()
}

/// Every request must follow GitHub's documented REST conventions.
fn assert_contract(req: &Request) {
    driftsync_testkit::github::assert_rest_conventions(req, TOKEN);
}

fn comment_body_of(req: &Request) -> String {
    let v: Value = serde_json::from_slice(&req.body).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 1, "only `body` is sent: {v}");
    v["body"].as_str().unwrap().to_string()
}

async fn writes(server: &MockServer) -> Vec<Request> {
    let all = server.received_requests().await.unwrap();
    all.iter().for_each(assert_contract);
    all.into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .collect()
}

fn marker() -> String {
    comment::marker("driftsync check", "check")
}

fn body(md: &str) -> String {
    comment::body(
        &marker(),
        md,
        "https://github.com/acme/site/actions/runs/42",
    )
}

async fn list_returns(server: &MockServer, comments: Value) {
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments))
        .mount(server)
        .await;
}

#[tokio::test]
async fn github_first_run_creates_the_comment() {
    let server = MockServer::start().await;
    list_returns(&server, json!([{"id": 1, "body": "LGTM"}])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 555, "body": "x"})))
        .expect(1)
        .mount(&server)
        .await;
    let b = body("# driftsync\n\n1 target drifted\n");
    let out = comment::upsert(&client(&server), "acme", "site", 7, &marker(), &b, None)
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Created { id: 555 });
    let w = writes(&server).await;
    assert_eq!(w.len(), 1);
    assert_eq!(comment_body_of(&w[0]), b);
    assert!(b.starts_with("<!-- driftsync:driftsync check/check -->\n"));
}

#[tokio::test]
async fn github_same_report_writes_nothing() {
    let server = MockServer::start().await;
    let b = body("# driftsync\n\nall in sync\n");
    // GitHub hands the body back with CRLF line endings.
    list_returns(
        &server,
        json!([{"id": 9, "body": "hi"}, {"id": 10, "body": b.replace('\n', "\r\n")}]),
    )
    .await;
    let out = comment::upsert(&client(&server), "acme", "site", 7, &marker(), &b, None)
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Unchanged { id: 10 });
    assert!(writes(&server).await.is_empty(), "no POST or PATCH");
}

#[tokio::test]
async fn github_changed_report_patches_the_same_comment() {
    let server = MockServer::start().await;
    list_returns(&server, json!([{"id": 10, "body": body("old report")}])).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/issues/comments/10"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 10})))
        .expect(1)
        .mount(&server)
        .await;
    let b = body("new report");
    let out = comment::upsert(&client(&server), "acme", "site", 7, &marker(), &b, None)
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Updated { id: 10 });
    let w = writes(&server).await;
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].method.as_str(), "PATCH");
    assert_eq!(comment_body_of(&w[0]), b);
}

#[tokio::test]
async fn github_three_pages_of_comments_are_paged_through() {
    let server = MockServer::start().await;
    let page = |n: u32| format!("{}{LIST}?per_page=100&page={n}", server.uri());
    let others = |from: u64| -> Value {
        (from..from + 100)
            .map(|i| json!({"id": i, "body": format!("comment {i}")}))
            .collect()
    };
    let link = |next: u32, last: u32| {
        format!(
            r#"<{}>; rel="next", <{}>; rel="last""#,
            page(next),
            page(last)
        )
    };
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(others(200))
                .insert_header("link", link(3, 3).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut last_page = match others(300) {
        Value::Array(a) => a,
        _ => unreachable!(),
    };
    last_page.truncate(20);
    last_page.push(json!({"id": 777, "body": body("stale")}));
    Mock::given(method("GET"))
        .and(path(LIST))
        .and(query_param("page", "3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(Value::Array(last_page))
                .insert_header(
                    "link",
                    format!(r#"<{}>; rel="prev", <{}>; rel="first""#, page(2), page(1)).as_str(),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The first page (no `page` parameter) is the least specific match: mount last.
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(others(100))
                .insert_header("link", link(2, 3).as_str()),
        )
        .with_priority(10)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/issues/comments/777"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 777})))
        .expect(1)
        .mount(&server)
        .await;
    let out = comment::upsert(
        &client(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("fresh"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(out, CommentOutcome::Updated { id: 777 });
    let gets: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| r.url.query().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        gets,
        vec!["per_page=100", "per_page=100&page=2", "per_page=100&page=3"]
    );
}

#[tokio::test]
async fn github_forbidden_degrades_to_a_warning() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let out = comment::upsert(
        &client(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("x"),
        None,
    )
    .await
    .unwrap();
    let CommentOutcome::Forbidden { warning } = out else {
        panic!("{out:?}")
    };
    assert!(warning.contains("403"), "{warning}");
    assert!(
        warning.contains("Resource not accessible by integration"),
        "{warning}"
    );
    // The fork hint is only given on a fork's pull request (see the binary's tests).
    assert!(!warning.contains("fork"), "{warning}");
    assert!(!warning.contains(TOKEN));
}

#[tokio::test]
async fn github_check_run_sends_annotations_in_batches_of_fifty() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/check-runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 31})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/check-runs/31"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 31})))
        .expect(2)
        .mount(&server)
        .await;
    let anns: Vec<Annotation> = (0..105)
        .map(|i| Annotation {
            level: Level::Error,
            file: "schemas/tables.py".into(),
            line: i + 1,
            column: None,
            title: "column-removed (critical)".into(),
            message: format!("column {i} removed"),
        })
        .collect();
    let out = checks::create(
        &client(&server),
        "acme",
        "site",
        "driftsync",
        "deadbeef",
        "failure",
        "Schema drift",
        "# drift",
        &anns,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        CheckOutcome::Created {
            id: 31,
            requests: 3
        }
    );
    let w = writes(&server).await;
    let sizes: Vec<usize> = w
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            v["output"]["annotations"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes, vec![50, 50, 5]);
    let create: Value = serde_json::from_slice(&w[0].body).unwrap();
    assert_eq!(create["head_sha"], "deadbeef");
    assert_eq!(create["conclusion"], "failure");
    assert_eq!(
        create["output"]["annotations"][0]["annotation_level"],
        "failure"
    );
    assert_eq!(
        create["output"]["annotations"][0]["path"],
        "schemas/tables.py"
    );
}

#[tokio::test]
async fn github_check_run_forbidden_is_a_warning() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/site/check-runs"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&server)
        .await;
    let out = checks::create(
        &client(&server),
        "acme",
        "site",
        "d",
        "s",
        "success",
        "t",
        "s",
        &[],
    )
    .await
    .unwrap();
    assert!(matches!(out, CheckOutcome::Forbidden { .. }), "{out:?}");
}

fn quick(server: &MockServer) -> RestClient {
    client(server).with_policy(HttpPolicy {
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
    })
}

#[tokio::test]
async fn github_a_persons_comment_quoting_the_marker_is_never_edited() {
    let server = MockServer::start().await;
    // Someone pasted the marker (first line and all) into their own comment.
    list_returns(
        &server,
        json!([
            {"id": 1, "user": {"login": "alice"}, "body": body("my own words")},
            {"id": 2, "user": {"login": "bob"}, "body": format!("> {}\n> quoted", marker())},
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 3})))
        .expect(1)
        .mount(&server)
        .await;
    let c = quick(&server);
    // The Actions GITHUB_TOKEN may not read /user: its comments are the bot's.
    let login = comment::token_login(&c, None).await.unwrap();
    assert_eq!(login, comment::ACTIONS_BOT);
    let out = comment::upsert(
        &c,
        "acme",
        "site",
        7,
        &marker(),
        &body("report"),
        Some(&login),
    )
    .await
    .unwrap();
    assert_eq!(out, CommentOutcome::Created { id: 3 });
    let w = writes(&server).await;
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].method.as_str(),
        "POST",
        "alice's comment is not patched"
    );
}

#[tokio::test]
async fn github_the_tokens_own_comment_is_found_by_login() {
    let server = MockServer::start().await;
    list_returns(
        &server,
        json!([
            {"id": 1, "user": {"login": "alice"}, "body": body("alice quoting")},
            {"id": 2, "user": {"login": "sync-bot"}, "body": body("old")},
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"login": "sync-bot", "id": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/site/issues/comments/2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 2})))
        .expect(1)
        .mount(&server)
        .await;
    let c = quick(&server);
    let login = comment::token_login(&c, None).await.unwrap();
    assert_eq!(login, "sync-bot");
    assert_eq!(
        comment::token_login(&c, Some("other-bot")).await.unwrap(),
        "other-bot",
        "the override asks nothing"
    );
    let out = comment::upsert(&c, "acme", "site", 7, &marker(), &body("new"), Some(&login))
        .await
        .unwrap();
    assert_eq!(out, CommentOutcome::Updated { id: 2 });
    assert_eq!(writes(&server).await.len(), 1);
}

#[tokio::test]
async fn github_a_502_is_retried_and_the_comment_created_once() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 8})))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let out = comment::upsert(
        &quick(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("r"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(out, CommentOutcome::Created { id: 8 });
    let w = writes(&server).await;
    assert_eq!(w.len(), 2, "one failed and one good POST");
    assert_eq!(comment_body_of(&w[0]), comment_body_of(&w[1]));
}

#[tokio::test]
async fn github_a_lasting_5xx_gives_up_after_the_attempts() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let e = comment::upsert(
        &quick(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("r"),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, GithubError::Api { status: 503, .. }), "{e}");
}

#[tokio::test]
async fn github_a_secondary_rate_limit_is_waited_out_within_the_cap() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 4})))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let out = comment::upsert(
        &quick(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("r"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(out, CommentOutcome::Created { id: 4 });
}

#[tokio::test]
async fn github_a_rate_limit_beyond_the_cap_is_its_own_error_not_a_permission_one() {
    let server = MockServer::start().await;
    list_returns(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("retry-after", "120")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = comment::upsert(
        &quick(&server),
        "acme",
        "site",
        7,
        &marker(),
        &body("r"),
        None,
    )
    .await
    .unwrap_err();
    match &e {
        GithubError::RateLimited {
            status: 403,
            retry_after,
            ..
        } => assert_eq!(*retry_after, Some(Duration::from_secs(120))),
        other => panic!("{other:?}"),
    }
    assert!(!e.to_string().contains("fork"), "{e}");
}

#[tokio::test]
async fn github_a_hung_api_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let c = client(&server).with_policy(HttpPolicy {
        timeout: Duration::from_millis(300),
        attempts: 1,
        ..HttpPolicy::default()
    });
    let e = comment::upsert(&c, "acme", "site", 7, &marker(), &body("r"), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("DRIFTSYNC_GITHUB_TIMEOUT"), "{e}");
}

#[tokio::test]
async fn github_a_502_after_github_stored_the_comment_posts_no_second_one() {
    let server = MockServer::start().await;
    let b = body("r");
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // After the 502 the comment is there all the same.
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 70, "user": {"login": "github-actions[bot]"}, "body": b}
        ])))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let out = comment::upsert(
        &quick(&server),
        "acme",
        "site",
        7,
        &marker(),
        &b,
        Some(comment::ACTIONS_BOT),
    )
    .await
    .unwrap();
    assert_eq!(out, CommentOutcome::Created { id: 70 });
    assert_eq!(writes(&server).await.len(), 1, "one POST, no second one");
}
