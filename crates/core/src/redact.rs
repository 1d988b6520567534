//! Values that must never be printed: a URL's password, a token.

use std::fmt;

/// A URL whose `Display` and `Debug` hide the password (`user:***@host`) and
/// secret-looking query parameters (`token`, `key`, `secret`, `password`, `sig`).
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// Wrap a URL.
    pub fn new(url: impl Into<String>) -> RedactedUrl {
        RedactedUrl(url.into())
    }

    /// The real URL, for connecting. Never format this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with secrets replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({})", self.redacted())
    }
}

/// A secret string (a token): prints as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The real value, for sending. Never format this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "token",
    "secret",
    "key",
    "sig",
    "signature",
    "credential",
];

/// Replace the password of `scheme://user:password@host` and the values of
/// secret-looking query parameters with `***`. Text that is not a URL is
/// returned unchanged.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let at = rest_start + at;
            if let Some(colon) = out[rest_start..at].find(':') {
                let colon = rest_start + colon;
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _))
                    if SECRET_PARAMS
                        .iter()
                        .any(|s| k.to_ascii_lowercase().contains(s)) =>
                {
                    format!("{k}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

/// An error and its sources as one line (`outer: cause: root cause`), a
/// cause left out when the text before already says it, and every URL in
/// it redacted.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts
        .join(": ")
        .split(' ')
        .map(redact_url)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_password_and_secret_params() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.example:5432/prod?sslmode=require"),
            "postgres://app:***@db.example:5432/prod?sslmode=require"
        );
        assert_eq!(
            redact_url("https://x.test/a?X-Amz-Signature=abc&part=1"),
            "https://x.test/a?X-Amz-Signature=***&part=1"
        );
        assert_eq!(
            redact_url("postgres://app@db/prod"),
            "postgres://app@db/prod"
        );
        assert_eq!(redact_url("templates/"), "templates/");
        let u = RedactedUrl::new("postgres://u:p4ss@h/d");
        assert!(!format!("{u} {u:?}").contains("p4ss"));
        assert_eq!(format!("{:?}", Secret::new("ghp_x")), "Secret(***)");
    }
}
