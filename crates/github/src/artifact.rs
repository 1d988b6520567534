//! Artifact upload through the Actions results service, as
//! `actions/upload-artifact` v4 does it: Twirp `CreateArtifact` → `PUT` the
//! zip to the signed blob URL → `FinalizeArtifact` with size and SHA-256.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use driftsync_core::redact::Secret;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::client::Response;
use crate::{GithubError, Result};

/// The Twirp service path.
pub const SERVICE: &str = "github.actions.results.api.v1.ArtifactService";
/// The artifact protocol version upload-artifact v4 sends.
pub const VERSION: u32 = 4;

/// The workflow run and job backend ids from the runtime token's `scp` claim
/// (`Actions.Results:<run>:<job>`).
pub fn backend_ids(runtime_token: &str) -> Result<(String, String)> {
    let invalid = |why: &str| {
        GithubError::Environment(format!("ACTIONS_RUNTIME_TOKEN is not a usable JWT: {why}"))
    };
    let payload = runtime_token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("no payload part"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the payload is not base64url"))?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|_| invalid("the payload is not JSON"))?;
    let scp = claims
        .get("scp")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no scp claim"))?;
    scp.split(' ')
        .find_map(|scope| {
            let parts: Vec<&str> = scope.split(':').collect();
            (parts.len() == 3 && parts[0] == "Actions.Results")
                .then(|| (parts[1].to_string(), parts[2].to_string()))
        })
        .ok_or_else(|| invalid("the scp claim has no Actions.Results:<run>:<job> scope"))
}

/// Zip every file under `dir` (paths relative to it, `/`-separated, sorted).
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>> {
    let io = |path: &Path, source| GithubError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let entry = entry.map_err(|e| io(&d, e))?;
            let path = entry.path();
            let ft = entry.file_type().map_err(|e| io(&path, e))?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for path in files {
        let rel = path.strip_prefix(dir).expect("walked under dir");
        let name: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let zip_err = |e: zip::result::ZipError| io(&path, std::io::Error::other(e));
        zip.start_file(name.join("/"), options).map_err(zip_err)?;
        let data = std::fs::read(&path).map_err(|e| io(&path, e))?;
        zip.write_all(&data).map_err(|e| io(&path, e))?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| io(dir, std::io::Error::other(e)))?;
    Ok(cursor.into_inner())
}

/// A field of a results-service answer, in protobuf JSON's camelCase or in
/// snake_case (the service has sent both).
pub fn field<'a>(answer: &'a Value, snake: &str) -> Option<&'a Value> {
    answer.get(snake).or_else(|| {
        let mut camel = String::new();
        let mut up = false;
        for c in snake.chars() {
            if c == '_' {
                up = true;
            } else if up {
                camel.push(c.to_ascii_uppercase());
                up = false;
            } else {
                camel.push(c);
            }
        }
        answer.get(&camel)
    })
}

/// How many names [`ArtifactClient::upload_dir`] tries when the name is taken
/// in this run (`NAME`, `NAME-2`, … `NAME-5`).
pub const NAME_ATTEMPTS: u32 = 5;

/// A finished upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The name it was uploaded under (a suffixed one when the asked name was
    /// taken in this run).
    pub name: String,
    /// The name asked for, when it was taken and another was used.
    pub taken: Option<String>,
    /// The artifact's id.
    pub id: String,
    /// Zip size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the zip.
    pub hash: String,
}

/// Retry policy for 429 and 5xx answers.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all.
    pub attempts: u32,
    /// Wait before the second attempt; grows ×1.5 per attempt.
    pub base: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 5,
            base: Duration::from_secs(3),
        }
    }
}

/// The results service client.
pub struct ArtifactClient {
    octo: Octocrab,
    results_url: String,
    token: Secret,
    retry: Retry,
    timeout: Duration,
}

impl ArtifactClient {
    /// A client for `ACTIONS_RESULTS_URL` with `ACTIONS_RUNTIME_TOKEN`.
    /// Must be called inside a tokio runtime.
    pub fn new(results_url: &str, token: Secret, retry: Retry) -> Result<ArtifactClient> {
        let transport = |e: octocrab::Error| GithubError::Transport {
            what: format!("results service client for {results_url}"),
            message: e.to_string(),
        };
        // No GitHub auth: the runtime token goes in each Twirp call, the blob
        // URL carries its own signature.
        let octo = Octocrab::builder()
            .base_uri(results_url)
            .map_err(transport)?
            .build()
            .map_err(transport)?;
        Ok(ArtifactClient {
            octo,
            results_url: results_url.trim_end_matches('/').to_string(),
            token,
            retry,
            timeout: Duration::from_secs(crate::client::DEFAULT_TIMEOUT_SECS),
        })
    }

    /// The same client with another whole-request timeout per call.
    pub fn with_timeout(mut self, timeout: Duration) -> ArtifactClient {
        self.timeout = timeout;
        self
    }

    /// Zip `dir` and upload it as artifact `name`.
    pub async fn upload_dir(&self, name: &str, dir: &Path) -> Result<Uploaded> {
        let zip = zip_dir(dir)?;
        self.upload_zip(name, zip).await
    }

    /// Upload an already zipped artifact as `name`; when the service answers
    /// 409 (the name is taken in this run, e.g. by another step of the job)
    /// it is uploaded as `name-2`, `name-3`… and [`Uploaded::taken`] says so.
    pub async fn upload_zip(&self, name: &str, zip: Vec<u8>) -> Result<Uploaded> {
        let mut attempt = 1;
        loop {
            let candidate = if attempt == 1 {
                name.to_string()
            } else {
                format!("{name}-{attempt}")
            };
            match self.upload_once(&candidate, &zip).await {
                Err(GithubError::Api { status: 409, .. }) if attempt < NAME_ATTEMPTS => {
                    attempt += 1;
                }
                Ok(mut u) => {
                    if attempt > 1 {
                        u.taken = Some(name.to_string());
                    }
                    return Ok(u);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn upload_once(&self, name: &str, zip: &[u8]) -> Result<Uploaded> {
        let zip = zip.to_vec();
        let (run, job) = backend_ids(self.token.expose())?;
        let created = self
            .twirp(
                "CreateArtifact",
                &json!({
                    "workflow_run_backend_id": run,
                    "workflow_job_run_backend_id": job,
                    "name": name,
                    "version": VERSION,
                }),
            )
            .await?;
        if field(&created, "ok").and_then(Value::as_bool) != Some(true) {
            return Err(GithubError::Api {
                what: "CreateArtifact".into(),
                status: 200,
                message: format!("the service did not accept artifact {name:?} (ok is not true)"),
            });
        }
        let url = field(&created, "signed_upload_url")
            .and_then(Value::as_str)
            .ok_or_else(|| GithubError::Transport {
                what: "CreateArtifact".into(),
                message: "no signed_upload_url in the response".into(),
            })?
            .to_string();
        let size = zip.len() as u64;
        let hash = format!("sha256:{:x}", Sha256::digest(&zip));
        let body = bytes_of(zip);
        self.with_retry("uploading the artifact zip", || {
            http::Request::builder()
                .method(Method::PUT)
                .uri(url.as_str())
                .header("x-ms-blob-type", "BlockBlob")
                .header(http::header::CONTENT_TYPE, "application/zip")
                .body(body.clone())
        })
        .await?;
        let finalized = self
            .twirp(
                "FinalizeArtifact",
                &json!({
                    "workflow_run_backend_id": run,
                    "workflow_job_run_backend_id": job,
                    "name": name,
                    "size": size.to_string(),
                    "hash": hash,
                }),
            )
            .await?;
        if field(&finalized, "ok").and_then(Value::as_bool) != Some(true) {
            return Err(GithubError::Api {
                what: "FinalizeArtifact".into(),
                status: 200,
                message: format!("the service did not finalize artifact {name:?}"),
            });
        }
        let id = match field(&finalized, "artifact_id") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        Ok(Uploaded {
            name: name.to_string(),
            taken: None,
            id,
            size,
            hash,
        })
    }

    async fn twirp(&self, method: &str, body: &Value) -> Result<Value> {
        let url = format!("{}/twirp/{SERVICE}/{method}", self.results_url);
        let text = body.to_string();
        let auth = format!("Bearer {}", self.token.expose());
        let response = self
            .with_retry(method, || {
                http::Request::builder()
                    .method(Method::POST)
                    .uri(url.as_str())
                    .header(http::header::AUTHORIZATION, auth.as_str())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::ACCEPT, "application/json")
                    .body(bytes_of(text.clone().into_bytes()))
            })
            .await?;
        response.json(method)
    }

    async fn with_retry(
        &self,
        what: &str,
        build: impl Fn() -> http::Result<http::Request<bytes_body::Body>>,
    ) -> Result<Response> {
        let mut wait = self.retry.base;
        let mut attempt = 1;
        loop {
            let request = build().map_err(|e| GithubError::Transport {
                what: what.to_string(),
                message: e.to_string(),
            })?;
            let outcome = self.send(request, what).await;
            let retryable = match &outcome {
                Ok(r) => r.status == StatusCode::TOO_MANY_REQUESTS || r.status.is_server_error(),
                Err(_) => true,
            };
            if !retryable || attempt >= self.retry.attempts {
                let response = outcome?;
                return crate::client::check_status(response, what);
            }
            tokio::time::sleep(wait).await;
            wait = wait.mul_f32(1.5);
            attempt += 1;
        }
    }

    async fn send(&self, request: http::Request<bytes_body::Body>, what: &str) -> Result<Response> {
        let transport = |e: octocrab::Error| GithubError::Transport {
            what: what.to_string(),
            // octocrab errors name the URL; the signed URL's query is a credential.
            message: driftsync_core::redact::redact_url(&e.to_string()),
        };
        crate::client::within(self.timeout, what, async {
            let response = self.octo.execute(request).await.map_err(transport)?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(transport)?.to_bytes().to_vec();
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        })
        .await
    }
}

/// Request bodies: cheap to clone for retries.
mod bytes_body {
    /// The body type octocrab accepts.
    pub type Body = Vec<u8>;
}

fn bytes_of(v: Vec<u8>) -> bytes_body::Body {
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn jwt(scp: &str) -> String {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.c2ln",
            enc(&json!({"alg": "RS256", "typ": "JWT"})),
            enc(&json!({"scp": scp, "exp": 1}))
        )
    }

    #[test]
    fn answers_are_read_in_both_spellings() {
        let camel = json!({"ok": true, "signedUploadUrl": "u1", "artifactId": "7"});
        let snake = json!({"ok": true, "signed_upload_url": "u2", "artifact_id": 8});
        assert_eq!(field(&camel, "signed_upload_url"), Some(&json!("u1")));
        assert_eq!(field(&snake, "signed_upload_url"), Some(&json!("u2")));
        assert_eq!(field(&camel, "artifact_id"), Some(&json!("7")));
        assert_eq!(field(&snake, "artifact_id"), Some(&json!(8)));
        assert_eq!(field(&snake, "missing_field"), None);
    }

    #[test]
    fn backend_ids_come_from_the_results_scope() {
        let t = jwt("Actions.ExampleScope Actions.Results:ce7f54c7-61c7:ca395085-040a");
        assert_eq!(
            backend_ids(&t).unwrap(),
            ("ce7f54c7-61c7".to_string(), "ca395085-040a".to_string())
        );
    }

    #[test]
    fn a_token_without_the_scope_is_refused_without_echoing_it() {
        let t = jwt("Actions.GenericRead:1");
        let e = backend_ids(&t).unwrap_err().to_string();
        assert!(e.contains("Actions.Results"), "{e}");
        assert!(!e.contains(&t));
        assert!(backend_ids("not-a-jwt").is_err());
    }

    #[test]
    fn zips_a_folder_with_relative_sorted_paths() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("report.json"), "{}").unwrap();
        std::fs::write(d.path().join("sub/report.md"), "# r").unwrap();
        let bytes = zip_dir(d.path()).unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, vec!["report.json", "sub/report.md"]);
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("sub/report.md").unwrap(), &mut s).unwrap();
        assert_eq!(s, "# r");
    }
}
