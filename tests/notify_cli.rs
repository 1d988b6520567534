//! `notify:` end to end: the built binary runs targets that pass, drift and
//! fail, and posts its summary to local webhook doubles. Each kind's JSON is
//! checked whole against the format its service documents; `on:` decides who
//! hears of a run; a broken endpoint is a warning that leaves the exit code
//! alone; secrets (the target's output, the webhook URL itself) never leak.

mod cli_support;

use cli_support::{Out, Repo};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A GitHub token the failing target prints: only its format gives it away.
const GHP: &str = "ghp_Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFeDcBa";
/// A secret driftsync knows by its variable's name only (`*_TOKEN`).
const SERVICE_TOKEN: &str = "plain-service-value-123";
/// The secret part of every webhook URL (path and query).
const HOOK_SECRET: &str = "T0001/B0001/XXXXhookSECRET";
const QUERY_SECRET: &str = "sig=QQQQquerySECRET";

const TARGETS: &str = r#"version: "1.0"
targets:
  good:
    type: command
    direction: pull
    run: "true"
  drifty:
    type: command
    direction: pull
    run: echo changed > gen.txt
    outputs: [gen.txt]
    fail_on_diff: true
  bad:
    type: command
    direction: pull
    run: 'echo "calling the API with token={GHP}"; echo "refused: {GHP} is revoked for $SERVICE_TOKEN"; exit 3'
"#;

/// A repository with the three targets and `notify` appended; the webhook
/// URLs come from the environment as `${HOOK_<n>}` like real secrets.
fn repo(server: &MockServer, notify: &str, hooks: &[&str]) -> Repo {
    let mut r = Repo::new();
    r.write("gen.txt", "orig\n");
    r.config(&format!(
        "{}notify:\n{notify}",
        TARGETS.replace("{GHP}", GHP)
    ));
    r.commit_all("setup");
    for (i, h) in hooks.iter().enumerate() {
        r.env(
            &format!("HOOK_{i}"),
            &format!("{}/{h}/{HOOK_SECRET}?{QUERY_SECRET}", server.uri()),
        );
    }
    // A fixed Actions context, whatever the machine running the tests sets.
    for (k, v) in [
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/site"),
        ("GITHUB_RUN_ID", "4242"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        ("GITHUB_REF_NAME", "main"),
        ("GITHUB_SHA", "0a0b0c0d0e0f10111213141516171819202122ab"),
        ("DRIFTSYNC_NO_NOTIFY", ""),
        ("SERVICE_TOKEN", SERVICE_TOKEN),
    ] {
        r.env(k, v);
    }
    r
}

async fn answer(server: &MockServer, status: u16) {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(server)
        .await;
}

/// The requests `server` received whose path starts with `/<hook>/`.
async fn received(server: &MockServer, hook: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().starts_with(&format!("/{hook}/")))
        .collect()
}

/// The one request `hook` received: checked as a JSON POST to its exact
/// path and query; its body.
async fn one_body(server: &MockServer, hook: &str) -> Value {
    let reqs = received(server, hook).await;
    assert_eq!(reqs.len(), 1, "{hook}: one request, got {}", reqs.len());
    let r = &reqs[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), format!("/{hook}/{HOOK_SECRET}"));
    assert_eq!(r.url.query(), Some(QUERY_SECRET));
    assert_eq!(
        r.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json")
    );
    assert!(r
        .headers
        .get("user-agent")
        .is_some_and(|v| v.to_str().unwrap().starts_with("driftsync/")));
    let body = String::from_utf8(r.body.clone()).unwrap();
    assert!(
        !body.contains(GHP) && !body.contains(SERVICE_TOKEN),
        "{hook}: a token leaked: {body}"
    );
    assert!(
        !body.contains("XXXXhookSECRET") && !body.contains("QQQQquerySECRET"),
        "{hook}: the URL leaked: {body}"
    );
    serde_json::from_str(&body).unwrap()
}

/// No path or query of a webhook URL anywhere in the output, except in the
/// `::add-mask::` lines that tell GitHub to hide it.
fn assert_no_url_secret(out: &Out) {
    let all: String = out
        .all()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for s in ["XXXXhookSECRET", "QQQQquerySECRET", HOOK_SECRET] {
        assert!(!all.contains(s), "the webhook URL leaked:\n{all}");
    }
}

/// The JSON example under `### <heading>` in docs/notifications.md.
fn doc_example(heading: &str) -> Value {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/notifications.md"),
    )
    .unwrap();
    let section = doc
        .split_once(&format!("\n### {heading}\n"))
        .unwrap_or_else(|| panic!("no `### {heading}` in docs/notifications.md"))
        .1;
    let json = section.split_once("```json\n").unwrap().1;
    let json = json.split_once("```").unwrap().0;
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{heading}: {e}"))
}

const RUN_URL: &str = "https://github.com/acme/site/actions/runs/4242/attempts/2";
const TITLE: &str = "driftsync run on acme/site (main): failure";
const COUNTS: &str = "1 ok, 1 drift, 1 failed";
const BAD_MESSAGE: &str = "run: exited with code 3 — refused: *** is revoked for ***";
const DRIFT_MESSAGE: &str = "1 output file(s) differ from HEAD";

#[tokio::test]
async fn each_kind_posts_the_json_its_service_documents() {
    let server = MockServer::start().await;
    answer(&server, 200).await;
    let r = repo(
        &server,
        "  - kind: slack\n    url: ${HOOK_0}\n    on: always\n\
         \x20 - kind: mattermost\n    url: ${HOOK_1}\n    on: always\n    username: driftsync\n\
         \x20 - kind: teams\n    url: ${HOOK_2}\n    on: always\n\
         \x20 - kind: webhook\n    name: ops\n    url: ${HOOK_3}\n    on: always\n",
        &["slack", "mattermost", "teams", "webhook"],
    );
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1, "a failed target exits 1:\n{}", out.all());
    assert_no_url_secret(&out);
    for line in [
        "notified slack (http://127.0.0.1:",
        "notified mattermost (http://127.0.0.1:",
        "notified teams (http://127.0.0.1:",
        "notified ops (http://127.0.0.1:",
    ] {
        assert!(out.stderr.contains(line), "{line}:\n{}", out.stderr);
    }

    // Slack incoming webhook: `text` is the notification fallback, `blocks`
    // are mrkdwn sections and a context with the link.
    let body = one_body(&server, "slack").await;
    assert_eq!(
        body,
        doc_example("Slack"),
        "docs/notifications.md shows the body sent"
    );
    assert_eq!(
        body,
        json!({
            "text": format!("{TITLE} — {COUNTS}"),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{TITLE}*\n{COUNTS}")}},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!(
                    "• *drifty* (drift): {DRIFT_MESSAGE}\n• *bad* (failed): {BAD_MESSAGE}")}},
                {"type": "context", "elements": [{"type": "mrkdwn",
                    "text": format!("<{RUN_URL}|View the job run> (attempt 2)")}]}
            ]
        })
    );
    // Mattermost incoming webhook: Markdown `text`, and the `username` override.
    let body = one_body(&server, "mattermost").await;
    assert_eq!(
        body,
        doc_example("Mattermost"),
        "docs/notifications.md shows the body sent"
    );
    assert_eq!(
        body,
        json!({
            "text": format!(
                "#### {TITLE}\n{COUNTS}\n\n- **drifty** (drift): {DRIFT_MESSAGE}\n- **bad** (failed): {BAD_MESSAGE}\n\n[View the job run]({RUN_URL}) (attempt 2)\n"),
            "username": "driftsync"
        })
    );
    // Teams Workflows ("When a Teams webhook request is received"): a message
    // whose one attachment is an Adaptive Card.
    let body = one_body(&server, "teams").await;
    assert_eq!(
        body,
        doc_example("Microsoft Teams"),
        "docs/notifications.md shows the body sent"
    );
    assert_eq!(
        body,
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": TITLE, "weight": "Bolder", "size": "Medium", "wrap": true},
                        {"type": "TextBlock", "text": COUNTS, "wrap": true},
                        {"type": "FactSet", "facts": [
                            {"title": "drifty", "value": format!("drift: {DRIFT_MESSAGE}")},
                            {"title": "bad", "value": format!("failed: {BAD_MESSAGE}")}
                        ]}
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "View the job run (attempt 2)", "url": RUN_URL}]
                }
            }]
        })
    );
    // The generic webhook: driftsync's documented object, every target listed.
    let body = one_body(&server, "webhook").await;
    assert_eq!(
        body,
        doc_example("Generic webhook"),
        "docs/notifications.md shows the body sent"
    );
    assert_eq!(
        body,
        json!({
            "event": "driftsync.run",
            "status": "failure",
            "summary": format!("{TITLE} — {COUNTS}"),
            "counts": {"ok": 1, "drift": 1, "failed": 1, "skipped": 0, "gates_failed": 0},
            "targets": [
                {"name": "good", "status": "ok", "message": "run: exited with code 0"},
                {"name": "drifty", "status": "drift", "message": DRIFT_MESSAGE},
                {"name": "bad", "status": "failed", "message": BAD_MESSAGE}
            ],
            "run_url": RUN_URL,
            "repository": "acme/site",
            "ref": "main",
            "sha": "0a0b0c0d0e0f10111213141516171819202122ab",
            "attempt": 2
        })
    );
}

#[tokio::test]
async fn on_decides_who_hears_of_a_run() {
    let server = MockServer::start().await;
    answer(&server, 200).await;
    let r = repo(
        &server,
        "  - kind: webhook\n    url: ${HOOK_0}\n    on: failure\n\
         \x20 - kind: webhook\n    url: ${HOOK_1}\n    on: [drift]\n\
         \x20 - kind: webhook\n    url: ${HOOK_2}\n    on: always\n\
         \x20 - kind: webhook\n    url: ${HOOK_3}\n\
         \x20 - kind: webhook\n    url: ${HOOK_4}\n    on: failure\n    targets: ['dr*']\n",
        &["failure", "drift", "always", "default", "filtered"],
    );
    let hooks = ["failure", "drift", "always", "default", "filtered"];
    let cases: [(&str, i32, [usize; 5]); 3] = [
        ("good", 0, [0, 0, 1, 0, 0]),
        ("drifty", 1, [0, 1, 1, 1, 0]),
        ("bad", 1, [1, 0, 1, 1, 0]),
    ];
    for (target, code, want) in cases {
        server.reset().await;
        answer(&server, 200).await;
        let out = r.run(&["run", "--no-commit", "--target", target]);
        assert_eq!(out.code, code, "{target}:\n{}", out.all());
        let mut got = [0; 5];
        for (i, h) in hooks.iter().enumerate() {
            got[i] = received(&server, h).await.len();
        }
        assert_eq!(
            got,
            want,
            "{target}: requests per endpoint {hooks:?}:\n{}",
            out.all()
        );
    }
    // A run with drift and a failure: the drift subscriber hears of it too; the
    // filtered entry sees only `drifty`, which did not fail.
    server.reset().await;
    answer(&server, 200).await;
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1);
    assert_eq!(received(&server, "drift").await.len(), 1);
    assert_eq!(received(&server, "filtered").await.len(), 0);
    assert_eq!(
        one_body(&server, "failure").await["status"],
        json!("failure")
    );
}

#[tokio::test]
async fn targets_narrows_what_is_counted_and_listed() {
    let server = MockServer::start().await;
    answer(&server, 200).await;
    let r = repo(
        &server,
        "  - kind: webhook\n    url: ${HOOK_0}\n    on: drift\n    targets: ['dr*', 'go*']\n",
        &["filtered"],
    );
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let body = one_body(&server, "filtered").await;
    assert_eq!(body["status"], json!("drift"));
    assert_eq!(
        body["counts"],
        json!({"ok": 1, "drift": 1, "failed": 0, "skipped": 0, "gates_failed": 0})
    );
    let names: Vec<&str> = body["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["good", "drifty"]);
}

#[tokio::test]
async fn a_broken_endpoint_is_a_warning_and_the_exit_code_stands() {
    let server = MockServer::start().await;
    answer(&server, 500).await;
    // A port nothing listens on: bound, then closed.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut r = repo(
        &server,
        "  - kind: slack\n    url: ${HOOK_0}\n    on: always\n\
         \x20 - kind: webhook\n    name: down\n    url: ${DOWN}\n    on: always\n",
        &["slack"],
    );
    r.env(
        "DOWN",
        &format!("http://127.0.0.1:{closed}/down/{HOOK_SECRET}?{QUERY_SECRET}"),
    );
    let out = r.run(&["run", "--no-commit", "--target", "good"]);
    assert_eq!(
        out.code,
        0,
        "notifications never fail a run:\n{}",
        out.all()
    );
    assert_no_url_secret(&out);
    assert_eq!(
        received(&server, "slack").await.len(),
        2,
        "a 5xx is tried once more"
    );
    assert!(
        out.stderr.contains(&format!(
            "warning: notification slack ({}) failed: the endpoint answered HTTP 500 Internal Server Error (after one retry)",
            server.uri()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "warning: notification down (http://127.0.0.1:{closed}) failed: cannot connect"
        )),
        "{}",
        out.stderr
    );
    // A failing run keeps its own code, 1, whatever the notifications do.
    let out = r.run(&["run", "--no-commit", "--target", "bad"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_no_url_secret(&out);

    // In GitHub Actions the warning is a workflow command.
    let dir = tempfile::tempdir().unwrap();
    r.env("GITHUB_ACTIONS", "true")
        .env(
            "GITHUB_OUTPUT",
            &dir.path().join("output").display().to_string(),
        )
        .env(
            "GITHUB_STEP_SUMMARY",
            &dir.path().join("summary").display().to_string(),
        );
    let out = r.run(&["run", "--no-commit", "--target", "good"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "::warning::notification slack ({}) failed: the endpoint answered HTTP 500",
            server.uri()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.starts_with(&format!(
            "::add-mask::{}/slack/{HOOK_SECRET}?{QUERY_SECRET}\n",
            server.uri()
        )),
        "GitHub is told to hide the webhook URL first:\n{}",
        out.stdout
    );
    assert_no_url_secret(&out);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/gone/{HOOK_SECRET}")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let r = repo(
        &server,
        "  - kind: teams\n    url: ${HOOK_0}\n    on: always\n",
        &["gone"],
    );
    let out = r.run(&["run", "--no-commit", "--target", "good"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(received(&server, "gone").await.len(), 1);
    assert!(
        out.stderr
            .contains("failed: the endpoint answered HTTP 404 Not Found"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("retry"), "{}", out.stderr);
}

#[tokio::test]
async fn no_notify_dry_run_list_and_validate_send_nothing() {
    let server = MockServer::start().await;
    answer(&server, 200).await;
    let mut r = repo(
        &server,
        "  - kind: webhook\n    url: ${HOOK_0}\n    on: always\n",
        &["hook"],
    );
    for args in [
        &["run", "--no-commit", "--no-notify"][..],
        &["check", "--no-notify"],
        &["run", "--dry-run"],
        &["list"],
        &["config", "validate"],
    ] {
        let out = r.run(args);
        assert!(out.code <= 1, "{args:?}:\n{}", out.all());
        assert_no_url_secret(&out);
        assert_eq!(received(&server, "hook").await.len(), 0, "{args:?} sent");
    }
    r.env("DRIFTSYNC_NO_NOTIFY", "1");
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        received(&server, "hook").await.len(),
        0,
        "DRIFTSYNC_NO_NOTIFY=1 sent"
    );
    // `check` does notify (drift is what it is for).
    r.env("DRIFTSYNC_NO_NOTIFY", "0");
    let out = r.run(&["check", "--target", "drifty"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let body = one_body(&server, "hook").await;
    assert_eq!(body["event"], json!("driftsync.check"));
    assert_eq!(body["status"], json!("drift"));
}

#[test]
fn a_bad_notify_entry_is_a_placed_error_without_the_url() {
    let mut r = Repo::new();
    r.config(
        "version: \"1.0\"\ntargets: {}\nnotify:\n  - kind: slak\n    url: ${HOOK}\n  - kind: slack\n    url: ${NOT_A_URL}\n",
    );
    r.env(
        "HOOK",
        &format!("https://hooks.slack.com/services/{HOOK_SECRET}"),
    );
    r.env(
        "NOT_A_URL",
        &format!("hooks.slack.com/services/{HOOK_SECRET}"),
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("sync.yaml:4:11: unknown notification kind `slak`"),
        "{}",
        out.all()
    );
    assert!(out.all().contains("did you mean `slack`?"), "{}", out.all());
    assert!(
        out.all()
            .contains("sync.yaml:7:10: the notification URL does not start with `https://`"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("XXXXhookSECRET"), "{}", out.all());
}

#[test]
fn the_config_schema_describes_notify() {
    let out = Repo::new().run(&["config", "schema"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let schema: Value = serde_json::from_str(&out.stdout).unwrap();
    let notify = &schema["properties"]["notify"];
    assert!(notify.is_object(), "{schema}");
    let text = schema.to_string();
    for key in [
        "RawNotify",
        "\"kind\"",
        "\"url\"",
        "\"on\"",
        "\"timeout\"",
        "\"targets\"",
        "\"username\"",
    ] {
        assert!(text.contains(key), "{key} missing from the schema");
    }
    let entry = &schema["$defs"]["RawNotify"];
    assert_eq!(entry["required"], json!(["kind", "url"]), "{entry}");
    assert_eq!(entry["additionalProperties"], json!(false), "{entry}");
}

/// A self-signed certificate for `127.0.0.1`: (certificate PEM, key PEM).
fn self_signed(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        // Its own root, but a server certificate (webpki refuses a CA as one).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("the openssl command makes the test certificate (apt-get install openssl, or .ci/install/05-build-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read(dir.join("cert.pem")).unwrap(),
        std::fs::read(dir.join("key.pem")).unwrap(),
    )
}

/// Serve one HTTPS connection on `listener`: read one request, answer 200.
/// Returns the request's head and body as text.
fn serve_one_tls(
    listener: std::net::TcpListener,
    cert: Vec<u8>,
    key: Vec<u8>,
) -> std::thread::JoinHandle<Result<String, String>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| e.to_string())?;
        let config = rustls::ServerConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        let conn = rustls::ServerConnection::new(std::sync::Arc::new(config))
            .map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tls.read(&mut buf).map_err(|e| format!("TLS read: {e}"))?;
            if n == 0 {
                return Err("closed before the request was complete".into());
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
        }
        tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .map_err(|e| e.to_string())?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        Ok(String::from_utf8_lossy(&request).to_string())
    })
}

#[test]
fn https_endpoints_are_verified_against_the_system_roots() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_one_tls(listener, cert, key);
    let mut r = Repo::new();
    r.config("version: \"1.0\"\ntargets:\n  bad:\n    type: command\n    direction: pull\n    run: exit 4\nnotify:\n  - kind: webhook\n    url: ${HOOK}\n    timeout: 20s\n");
    r.commit_all("setup");
    r.env(
        "HOOK",
        &format!("https://127.0.0.1:{port}/hook/{HOOK_SECRET}?{QUERY_SECRET}"),
    )
    // The roots rustls-native-certs reads: here only the test's certificate.
    .env(
        "SSL_CERT_FILE",
        &certs.path().join("cert.pem").display().to_string(),
    )
    .env("DRIFTSYNC_NO_NOTIFY", "");
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let request = server
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{}", out.all()));
    assert!(
        out.stderr.contains(&format!(
            "notified webhook (https://127.0.0.1:{port}): HTTP 200"
        )),
        "{}",
        out.stderr
    );
    assert!(
        request.starts_with(&format!(
            "POST /hook/{HOOK_SECRET}?{QUERY_SECRET} HTTP/1.1\r\n"
        )),
        "{request}"
    );
    let body: Value = serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["status"], json!("failure"));
    assert_eq!(
        body["targets"][0]["message"],
        json!("run: exited with code 4")
    );
    assert_no_url_secret(&out);

    // Another certificate authority: the handshake fails, a warning, exit code unchanged.
    let other = tempfile::tempdir().unwrap();
    self_signed(other.path());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (cert, key) = (
        std::fs::read(certs.path().join("cert.pem")).unwrap(),
        std::fs::read(certs.path().join("key.pem")).unwrap(),
    );
    let server = serve_one_tls(listener, cert, key);
    r.env(
        "HOOK",
        &format!("https://127.0.0.1:{port}/hook/{HOOK_SECRET}?{QUERY_SECRET}"),
    )
    .env(
        "SSL_CERT_FILE",
        &other.path().join("cert.pem").display().to_string(),
    );
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(server.join().unwrap().is_err(), "the server saw no request");
    assert!(
        out.stderr.contains(&format!(
            "warning: notification webhook (https://127.0.0.1:{port}) failed: cannot connect"
        )) && out.stderr.contains("certificate"),
        "{}",
        out.stderr
    );
    assert_no_url_secret(&out);
}
