//! Mapping `object_store` errors to [`ReplicaError`]s the engine can act on.
//!
//! `object_store` keeps the HTTP status of a failed request inside a private
//! error type, so the status and the S3 error code are read from the error
//! chain's text; transport failures are read from the public `HttpError`.
//! Every message that leaves this module has passed through `redact_url`.

use driftsync_replica::{BoxError, ReplicaError};
use object_store::client::{HttpError, HttpErrorKind};

/// What kind of failure an `object_store` error is, for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The object does not exist.
    NotFound,
    /// A precondition (If-Match / If-None-Match) failed.
    Changed,
    /// Credentials refused.
    Denied,
    /// The bucket does not exist or the endpoint cannot be reached.
    Unavailable,
    /// Worth retrying: 5xx, throttling, timeouts, resets.
    Transient,
    /// Anything else.
    Other,
}

/// An error message with URLs redacted, kept as the source of a [`ReplicaError`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Redacted(String);

pub(crate) use driftsync_core::redact::error_chain as chain_text;

/// The HTTP status a failed request reported, read from the message.
fn status_in(text: &str) -> Option<u16> {
    let marker = "status code: ";
    let at = text.find(marker)? + marker.len();
    text.get(at..at + 3)?.parse().ok()
}

/// The transport failure kind in the chain, if any.
fn transport_kind(err: &(dyn std::error::Error + 'static)) -> Option<HttpErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<HttpError>() {
            return Some(h.kind());
        }
        cur = e.source();
    }
    None
}

const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "Throttling",
    "TooManyRequests",
    "ServerBusy",
    "OperationTimedOut",
];
const DENIED_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "ExpiredToken",
    "InvalidToken",
    "AuthenticationFailed",
    "AuthorizationFailure",
];
const UNAVAILABLE_CODES: &[&str] = &["NoSuchBucket", "ContainerNotFound", "PermanentRedirect"];

/// Classify an `object_store` error.
pub(crate) fn kind_of(err: &object_store::Error) -> Kind {
    use object_store::Error as E;
    let text = chain_text(err);
    let has = |codes: &[&str]| codes.iter().any(|c| text.contains(c));
    if has(UNAVAILABLE_CODES) {
        return Kind::Unavailable;
    }
    match err {
        E::Precondition { .. } | E::AlreadyExists { .. } => return Kind::Changed,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => return Kind::Denied,
        E::NotFound { .. } => return Kind::NotFound,
        _ => {}
    }
    if has(DENIED_CODES) {
        return Kind::Denied;
    }
    if has(TRANSIENT_CODES) {
        return Kind::Transient;
    }
    if let Some(status) = status_in(&text) {
        return match status {
            401 | 403 => Kind::Denied,
            404 => Kind::NotFound,
            409 | 412 => Kind::Changed,
            408 | 429 | 500..=599 => Kind::Transient,
            _ => Kind::Other,
        };
    }
    match transport_kind(err) {
        Some(HttpErrorKind::Connect) => Kind::Unavailable,
        Some(HttpErrorKind::Timeout | HttpErrorKind::Interrupted | HttpErrorKind::Request) => {
            Kind::Transient
        }
        _ => Kind::Other,
    }
}

/// Turn an `object_store` error about `path` (empty for the whole store) into
/// a [`ReplicaError`] naming `location` (already redacted).
pub(crate) fn map(err: object_store::Error, location: &str, path: &str) -> ReplicaError {
    let kind = kind_of(&err);
    let source: BoxError = Box::new(Redacted(chain_text(&err)));
    let at = if path.is_empty() {
        location.to_string()
    } else {
        format!("{location}{path}")
    };
    match kind {
        Kind::NotFound if !path.is_empty() => ReplicaError::NotFound { path: at },
        Kind::NotFound | Kind::Unavailable => ReplicaError::Unavailable {
            location: at,
            source,
        },
        Kind::Changed => ReplicaError::Changed {
            path: at,
            detail: "the store refused the conditional request (precondition failed)".into(),
        },
        Kind::Denied => ReplicaError::PermissionDenied {
            location: at,
            source,
        },
        Kind::Transient => ReplicaError::Transient {
            location: at,
            source,
        },
        Kind::Other => ReplicaError::Other {
            context: at,
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(msg: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: msg.to_string().into(),
        }
    }

    #[test]
    fn classifies_by_status_and_code() {
        let cases = [
            (
                "Server returned non-2xx status code: 503 Service Unavailable: ",
                Kind::Transient,
            ),
            (
                "Server returned non-2xx status code: 500 Internal Server Error: x",
                Kind::Transient,
            ),
            (
                "Server returned non-2xx status code: 429 Too Many Requests: ",
                Kind::Transient,
            ),
            (
                "Server returned non-2xx status code: 403 Forbidden: ",
                Kind::Denied,
            ),
            (
                "Server returned error response: <Code>SlowDown</Code>",
                Kind::Transient,
            ),
            (
                "<Error><Code>NoSuchBucket</Code></Error>",
                Kind::Unavailable,
            ),
            ("<Code>InvalidAccessKeyId</Code>", Kind::Denied),
            (
                "Server returned non-2xx status code: 400 Bad Request: ",
                Kind::Other,
            ),
            ("something odd", Kind::Other),
        ];
        for (msg, want) in cases {
            assert_eq!(kind_of(&generic(msg)), want, "{msg}");
        }
        let pre = object_store::Error::Precondition {
            path: "a".into(),
            source: "412".to_string().into(),
        };
        assert_eq!(kind_of(&pre), Kind::Changed);
    }

    #[test]
    fn messages_are_redacted() {
        let e = generic("Error performing GET https://u:hunter2@host/b?X-Amz-Signature=abc in 1s");
        let mapped = map(e, "s3://b/", "");
        let shown = format!("{mapped} {:?}", std::error::Error::source(&mapped));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
    }

    #[test]
    fn not_found_names_the_object() {
        let e = object_store::Error::NotFound {
            path: "p/a.txt".into(),
            source: "404".to_string().into(),
        };
        assert!(
            matches!(map(e, "s3://b/p/", "a.txt"), ReplicaError::NotFound { path } if path == "s3://b/p/a.txt")
        );
    }
}
