//! Errors a replica reports, named for what the caller can do about them.

/// Any underlying error, kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a replica operation.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// The path does not exist.
    #[error("{path}: not found")]
    NotFound {
        /// The path.
        path: String,
    },
    /// The destination is no longer what the scan saw: skip, report, let the next run pick it up.
    #[error("{path}: changed since it was scanned ({detail})")]
    Changed {
        /// The path.
        path: String,
        /// What differs.
        detail: String,
    },
    /// A path from the replica is unsafe or unrepresentable (e.g. `../x`).
    #[error("{path}: refused: {reason}")]
    InvalidPath {
        /// The raw path.
        path: String,
        /// Why.
        reason: String,
    },
    /// Credentials were refused.
    #[error("{location}: permission denied: {source}")]
    PermissionDenied {
        /// Where (redacted).
        location: String,
        /// The backend error.
        #[source]
        source: BoxError,
    },
    /// The replica cannot be reached or does not exist (bucket, database, directory).
    #[error("{location}: unavailable: {source}")]
    Unavailable {
        /// Where (redacted).
        location: String,
        /// The backend error.
        #[source]
        source: BoxError,
    },
    /// A fault worth retrying (5xx, throttling, timeout, reset).
    #[error("{location}: transient failure: {source}")]
    Transient {
        /// Where (redacted).
        location: String,
        /// The backend error.
        #[source]
        source: BoxError,
    },
    /// Anything else.
    #[error("{context}: {source}")]
    Other {
        /// What was being done.
        context: String,
        /// The backend error.
        #[source]
        source: BoxError,
    },
}

impl ReplicaError {
    /// True for faults a retry with backoff may cure.
    pub fn is_transient(&self) -> bool {
        matches!(self, ReplicaError::Transient { .. })
    }

    /// True when the replica as a whole is unusable (wrong URL, bad
    /// credentials): a configuration or environment error (exit 2).
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            ReplicaError::PermissionDenied { .. } | ReplicaError::Unavailable { .. }
        )
    }

    /// Wrap any error with what was being done.
    pub fn other(context: impl Into<String>, source: impl Into<BoxError>) -> ReplicaError {
        ReplicaError::Other {
            context: context.into(),
            source: source.into(),
        }
    }
}
