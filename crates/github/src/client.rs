//! A small REST client over octocrab: explicit method, path, headers and body,
//! status mapped to [`GithubError`], `Link` pagination.

use std::future::Future;
use std::time::Duration;

use driftsync_core::redact::Secret;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::Value;

use crate::{GithubError, Result};

/// The media type GitHub's REST documentation asks clients to send.
pub const ACCEPT_GITHUB_JSON: &str = "application/vnd.github+json";

/// Run a future to completion on a fresh current-thread runtime (for the
/// synchronous binary). Do not call from inside a tokio runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime can always be built")
        .block_on(f)
}

/// An HTTP response: status, headers, body bytes.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| GithubError::Transport {
            what: what.to_string(),
            message: format!("the response is not JSON: {e}"),
        })
    }

    /// GitHub's `message` field, or the body's first 200 characters.
    pub fn message(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").or_else(|| v.get("msg")).cloned())
            .and_then(|m| m.as_str().map(String::from))
            .unwrap_or_else(|| text.chars().take(200).collect())
    }
}

/// The `rel="next"` URL of a `Link` header, if any.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        (is_next && url.starts_with('<') && url.ends_with('>'))
            .then(|| url[1..url.len() - 1].to_string())
    })
}

/// Timeout and retries of GitHub calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpPolicy {
    /// The whole request (connect, send, answer, body) must finish within this.
    pub timeout: Duration,
    /// Attempts in all for a retryable answer (5xx, or a secondary rate limit).
    pub attempts: u32,
    /// Wait before the second attempt; doubles per attempt.
    pub backoff: Duration,
    /// The longest `retry-after` honoured; a longer one gives up at once.
    pub max_retry_after: Duration,
}

/// Default whole-request timeout in seconds (`DRIFTSYNC_GITHUB_TIMEOUT`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

impl Default for HttpPolicy {
    fn default() -> HttpPolicy {
        HttpPolicy {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Authenticated access to the GitHub REST API at `GITHUB_API_URL`.
pub struct RestClient {
    octo: Octocrab,
    policy: HttpPolicy,
}

impl RestClient {
    /// A client for `api_url` (e.g. `https://api.github.com`, or
    /// `https://ghe.example.com/api/v3`) with `token` as bearer token.
    /// Must be called inside a tokio runtime.
    pub fn new(api_url: &str, token: &Secret) -> Result<RestClient> {
        let transport = |message: String| GithubError::Transport {
            what: format!("GitHub API client for {api_url}"),
            message,
        };
        let octo = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|e| transport(e.to_string()))?
            .personal_token(token.expose().to_string())
            .build()
            .map_err(|e| transport(e.to_string()))?;
        Ok(RestClient {
            octo,
            policy: HttpPolicy::default(),
        })
    }

    /// The same client with another timeout and retry policy.
    pub fn with_policy(mut self, policy: HttpPolicy) -> RestClient {
        self.policy = policy;
        self
    }

    /// The timeout and retry policy in use.
    pub fn policy(&self) -> HttpPolicy {
        self.policy
    }

    /// Send one request, retrying a 5xx answer (and, for idempotent methods,
    /// a failed or timed-out connection) with backoff, and a secondary rate
    /// limit after its `retry-after` when that is within the policy's cap.
    pub async fn send_retrying(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Response> {
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::PATCH | Method::DELETE | Method::HEAD
        );
        let mut wait = self.policy.backoff;
        let mut attempt = 1;
        loop {
            let outcome = self.send(method.clone(), path, body, what).await;
            let last = attempt >= self.policy.attempts.max(1);
            let pause = match &outcome {
                Err(GithubError::Api { status, .. }) if *status >= 500 && !last => Some(wait),
                Err(GithubError::Transport { .. }) if idempotent && !last => Some(wait),
                Err(GithubError::RateLimited {
                    retry_after: Some(after),
                    ..
                }) if !last && *after <= self.policy.max_retry_after => Some(*after),
                _ => None,
            };
            match pause {
                None => return outcome,
                Some(p) => {
                    tokio::time::sleep(p).await;
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }

    /// Send one request. `path` is `/repos/...` or an absolute URL (a `Link`
    /// header's next page). `what` names the operation in errors.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Response> {
        let builder = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::ACCEPT, ACCEPT_GITHUB_JSON);
        let request = self
            .octo
            .build_request(builder, body)
            .map_err(|e| transport(what, e))?;
        let exchange = async {
            let response = self
                .octo
                .execute(request)
                .await
                .map_err(|e| transport(what, e))?;
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| transport(what, e))?
                .to_bytes()
                .to_vec();
            Ok::<_, GithubError>(Response {
                status: parts.status,
                headers: parts.headers,
                body: bytes,
            })
        };
        let response = within(self.policy.timeout, what, exchange).await?;
        check_status(response, what)
    }

    /// GET every page of a list endpoint, following `Link: rel="next"`.
    pub async fn get_all(&self, path: &str, what: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(url) = next.take() {
            let response = self.send(Method::GET, &url, None, what).await?;
            match response.json(what)? {
                Value::Array(page) => items.extend(page),
                other => {
                    return Err(GithubError::Transport {
                        what: what.to_string(),
                        message: format!("expected a JSON array, got {}", kind(&other)),
                    })
                }
            }
            next = response
                .headers
                .get(http::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
        }
        Ok(items)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Null => "null",
        _ => "a scalar",
    }
}

/// Run `exchange` with a deadline: no answer within `timeout` is a
/// [`GithubError::Transport`] error naming the timeout and how to change it.
pub async fn within<T>(
    timeout: Duration,
    what: &str,
    exchange: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(GithubError::Transport {
            what: what.to_string(),
            message: format!(
                "no complete answer within {} s (set DRIFTSYNC_GITHUB_TIMEOUT to wait longer)",
                timeout.as_secs_f64()
            ),
        }),
    }
}

fn transport(what: &str, e: impl std::fmt::Display) -> GithubError {
    GithubError::Transport {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// The `retry-after` header in seconds, if present and numeric.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Map a non-2xx status to an error: a rate limit (429, or a 403 with
/// `retry-after`, an exhausted `x-ratelimit-remaining` or GitHub's "rate
/// limit" message) is [`GithubError::RateLimited`]; other 401 and 403 answers
/// are [`GithubError::Forbidden`].
pub fn check_status(response: Response, what: &str) -> Result<Response> {
    let status = response.status;
    if status.is_success() {
        return Ok(response);
    }
    let message = response.message();
    let after = retry_after(&response.headers);
    let exhausted = response
        .headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    let says_rate_limit = message.to_ascii_lowercase().contains("rate limit");
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && (after.is_some() || exhausted || says_rate_limit))
    {
        return Err(GithubError::RateLimited {
            what: what.to_string(),
            status: status.as_u16(),
            retry_after: after,
            message,
        });
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(GithubError::Forbidden {
            what: what.to_string(),
            status: status.as_u16(),
            hint: format!(" ({message}); grant the job `pull-requests: write` / `checks: write`"),
        });
    }
    Err(GithubError::Api {
        what: what.to_string(),
        status: status.as_u16(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let h = r#"<https://api.github.com/repositories/1/issues/2/comments?page=3>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=3")
        );
        let last = r#"<https://x/?page=1>; rel="prev", <https://x/?page=1>; rel="first""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn forbidden_and_other_statuses_map_to_errors() {
        let r = |s: u16, body: &str| Response {
            status: StatusCode::from_u16(s).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let e = check_status(
            r(
                403,
                r#"{"message":"Resource not accessible by integration"}"#,
            ),
            "comment",
        )
        .unwrap_err();
        assert!(e.is_forbidden());
        assert!(
            e.to_string()
                .contains("Resource not accessible by integration"),
            "{e}"
        );
        let e = check_status(r(422, r#"{"message":"Validation Failed"}"#), "comment").unwrap_err();
        assert!(!e.is_forbidden());
        assert_eq!(e.to_string(), "comment failed: HTTP 422: Validation Failed");
        assert!(check_status(r(201, "{}"), "x").is_ok());
    }

    #[test]
    fn rate_limits_are_not_permission_refusals() {
        let with = |s: u16, headers: &[(&'static str, &str)], body: &str| {
            let mut h = HeaderMap::new();
            for (k, v) in headers {
                h.insert(*k, v.parse().unwrap());
            }
            Response {
                status: StatusCode::from_u16(s).unwrap(),
                headers: h,
                body: body.as_bytes().to_vec(),
            }
        };
        let secondary = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        for (resp, after) in [
            (with(403, &[], secondary), None),
            (with(403, &[("retry-after", "7")], "{}"), Some(7)),
            (with(429, &[], "{}"), None),
            (with(403, &[("x-ratelimit-remaining", "0")], "{}"), None),
        ] {
            match check_status(resp, "comment").unwrap_err() {
                GithubError::RateLimited { retry_after, .. } => {
                    assert_eq!(retry_after, after.map(Duration::from_secs))
                }
                other => panic!("not a rate limit: {other}"),
            }
        }
        let e = check_status(
            with(
                403,
                &[],
                r#"{"message":"Resource not accessible by integration"}"#,
            ),
            "c",
        )
        .unwrap_err();
        assert!(e.is_forbidden());
    }
}
