//! Artifact upload round trip against a double of the Actions results service
//! (Twirp JSON) and of the signed Azure blob URL: the double checks each call,
//! unzips what was uploaded and checks paths, size and hash.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use driftsync_core::redact::Secret;
use driftsync_github::artifact::{ArtifactClient, Retry};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CREATE: &str = "/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact";
const FINALIZE: &str = "/twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact";

fn runtime_token() -> String {
    let enc = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(json!({"typ": "JWT", "alg": "RS256"})),
        enc(
            json!({"scp": "Actions.GenericRead:x Actions.Results:run-1111:job-2222", "exp": 4_000_000_000u64})
        )
    )
}

fn quick() -> Retry {
    Retry {
        attempts: 5,
        base: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn github_artifact_round_trip() {
    let server = MockServer::start().await;
    let token = runtime_token();
    let bearer = format!("Bearer {token}");
    // One transient failure of each kind first: the client must retry.
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(header("authorization", bearer.as_str()))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "signed_upload_url": format!("{}/blob/container/report.zip?sv=2023&sig=SECRETSIG", server.uri()),
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/blob/container/report.zip"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/blob/container/report.zip"))
        .and(header("x-ms-blob-type", "BlockBlob"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(FINALIZE))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "artifact_id": "98765"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("targets")).unwrap();
    std::fs::write(dir.path().join("report.json"), r#"{"failed":1}"#).unwrap();
    std::fs::write(dir.path().join("report.md"), "# driftsync\n").unwrap();
    std::fs::write(dir.path().join("targets/db.log"), "x".repeat(10_000)).unwrap();

    let client = ArtifactClient::new(&server.uri(), Secret::new(token.clone()), quick()).unwrap();
    let up = client
        .upload_dir("driftsync-report", dir.path())
        .await
        .unwrap();

    let reqs = server.received_requests().await.unwrap();
    let ok: Vec<_> = reqs.iter().collect();
    assert_eq!(ok.len(), 5, "create(503), create, put(429), put, finalize");

    // CreateArtifact: proto field names, version 4, backend ids from the JWT.
    let create: Value = serde_json::from_slice(&reqs[1].body).unwrap();
    assert_eq!(
        create,
        json!({"workflow_run_backend_id": "run-1111", "workflow_job_run_backend_id": "job-2222", "name": "driftsync-report", "version": 4})
    );

    // The blob: no bearer token (the URL is signed), a zip of the folder.
    let put = &reqs[3];
    assert!(
        put.headers.get("authorization").is_none(),
        "the runtime token never goes to blob storage"
    );
    assert_eq!(put.headers.get("content-type").unwrap(), "application/zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(put.body.clone())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["report.json", "report.md", "targets/db.log"]);
    let mut log = String::new();
    zip.by_name("targets/db.log")
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(log.len(), 10_000);

    // FinalizeArtifact: size as an int64 string and the zip's sha256.
    let fin: Value = serde_json::from_slice(&reqs[4].body).unwrap();
    let hash = format!("sha256:{:x}", Sha256::digest(&put.body));
    assert_eq!(
        fin,
        json!({
            "workflow_run_backend_id": "run-1111",
            "workflow_job_run_backend_id": "job-2222",
            "name": "driftsync-report",
            "size": put.body.len().to_string(),
            "hash": hash,
        })
    );
    assert_eq!(up.id, "98765");
    assert_eq!(up.size, put.body.len() as u64);
    assert_eq!(up.hash, hash);
}

#[tokio::test]
async fn github_artifact_gives_up_after_the_retries_without_leaking_the_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "signed_upload_url": format!("{}/blob/r.zip?sig=SECRETSIG", server.uri()),
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<Error>boom</Error>"))
        .expect(5)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), "{}").unwrap();
    let client = ArtifactClient::new(&server.uri(), Secret::new(runtime_token()), quick()).unwrap();
    let err = client
        .upload_dir("r", dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 500"), "{err}");
    assert!(!err.contains("SECRETSIG"), "{err}");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        reqs.iter().filter(|r| r.url.path() == FINALIZE).count(),
        0,
        "nothing finalized"
    );
    assert_eq!(
        reqs.iter().filter(|r| r.method.as_str() == "PUT").count(),
        5,
        "five attempts"
    );
}

#[tokio::test]
async fn github_artifact_name_taken_is_uploaded_under_a_suffixed_name_from_camel_case_answers() {
    let server = MockServer::start().await;
    let create = "/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact";
    // The first name is taken in this run (another step uploaded it).
    Mock::given(method("POST"))
        .and(path(create))
        .and(wiremock::matchers::body_partial_json(json!({"name": "driftsync-report-linux"})))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "code": "already_exists", "msg": "an artifact with this name already exists on the workflow run"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(create))
        .and(wiremock::matchers::body_partial_json(
            json!({"name": "driftsync-report-linux-2"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "signedUploadUrl": format!("{}/blob/r2.zip?sig=SECRETSIG", server.uri())
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/blob/r2.zip"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact",
        ))
        .and(wiremock::matchers::body_partial_json(
            json!({"name": "driftsync-report-linux-2"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "artifactId": "4321"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = ArtifactClient::new(&server.uri(), Secret::new(runtime_token()), quick()).unwrap();
    let u = c
        .upload_zip("driftsync-report-linux", b"PK\x05\x06".to_vec())
        .await
        .unwrap();
    assert_eq!(u.name, "driftsync-report-linux-2");
    assert_eq!(u.taken.as_deref(), Some("driftsync-report-linux"));
    assert_eq!(u.id, "4321");
}

#[tokio::test]
async fn github_artifact_a_hung_service_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let c = ArtifactClient::new(
        &server.uri(),
        Secret::new(runtime_token()),
        Retry {
            attempts: 1,
            base: Duration::from_millis(1),
        },
    )
    .unwrap()
    .with_timeout(Duration::from_millis(300));
    let e = c.upload_zip("x", vec![1]).await.unwrap_err().to_string();
    assert!(e.contains("DRIFTSYNC_GITHUB_TIMEOUT"), "{e}");
}
