//! Content checks before a file is propagated (`validate: [yaml, json, toml]`).
//!
//! The engine knows no file format: the caller hands it a [`ContentCheck`].
//! A file the check rejects is held back — its action is skipped, reported
//! with the check's line and message, and the base is not advanced for it —
//! while every other action goes ahead.

use driftsync_core::{RelPath, Side};

/// Why a file's content was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// 1-based line of the problem, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// The parser's message.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l} column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Decides whether a file may be propagated.
pub trait ContentCheck: Send + Sync + std::fmt::Debug {
    /// True when `path` is checked (usually by its extension); other files are
    /// copied without being read twice.
    fn applies(&self, path: &RelPath) -> bool;

    /// `Some` when `content` must not be propagated.
    fn check(&self, path: &RelPath, content: &[u8]) -> Option<Invalid>;
}

/// A file held back by the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldBack {
    /// The side the content came from.
    pub side: Side,
    /// The file.
    pub path: RelPath,
    /// What is wrong with it.
    pub invalid: Invalid,
}

impl HeldBack {
    /// `path:line:column` (as much as is known).
    pub fn at(&self) -> String {
        match (self.invalid.line, self.invalid.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.path),
            (Some(l), None) => format!("{}:{l}", self.path),
            _ => self.path.to_string(),
        }
    }
}
