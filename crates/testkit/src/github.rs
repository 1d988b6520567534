//! The local GitHub double's common checks: every request a test's wiremock
//! server received follows GitHub's documented REST conventions.

use wiremock::Request;

/// `Authorization: Bearer TOKEN`, `Accept: application/vnd.github+json`,
/// `X-GitHub-Api-Version: 2022-11-28`, a `User-Agent`; no body on GET and
/// DELETE; a JSON body with its content type on POST and PATCH. Each test
/// checks its endpoints' own paths and fields on top.
pub fn assert_rest_conventions(req: &Request, token: &str) {
    let h = |name: &str| {
        req.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{} {} lacks {name}", req.method, req.url))
    };
    assert_eq!(h("authorization"), format!("Bearer {token}"));
    assert_eq!(h("accept"), "application/vnd.github+json");
    assert_eq!(h("x-github-api-version"), "2022-11-28");
    assert!(!h("user-agent").is_empty());
    match req.method.as_str() {
        "GET" | "DELETE" => assert!(req.body.is_empty(), "{} {}", req.method, req.url),
        "POST" | "PATCH" => {
            assert_eq!(h("content-type"), "application/json");
            let _: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_else(|e| {
                panic!("{} {}: the body is not JSON: {e}", req.method, req.url)
            });
        }
        m => panic!("unexpected method {m} {}", req.url),
    }
}
