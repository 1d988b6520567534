//! `RelPath`: a normalised, relative, `/`-separated path that cannot escape its root.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::small::SmallStr;

/// A path relative to a replica's root.
///
/// Invariants, checked at construction: not empty, not absolute, segments
/// separated by a single `/`, no empty, `.` or `..` segment, no NUL, no
/// backslash (which a Windows peer would read as a separator). Every path
/// that comes from a remote goes through [`RelPath::new`], so `../x` from a
/// bucket or a database row is refused before anything touches the disk.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(SmallStr);

/// Why a string is not a valid [`RelPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelPathError {
    /// The empty string.
    #[error("empty path")]
    Empty,
    /// Starts with `/`.
    #[error("{0:?} is absolute; paths must be relative to the replica root")]
    Absolute(String),
    /// Contains `..`, `.` or an empty segment.
    #[error("{0:?} has a `..`, `.` or empty segment; paths must stay inside the replica root")]
    BadSegment(String),
    /// Contains a NUL byte or a backslash.
    #[error("{0:?} contains a NUL byte or a backslash")]
    BadChar(String),
}

impl RelPath {
    /// Validate and wrap a path.
    pub fn new(s: impl AsRef<str>) -> Result<RelPath, RelPathError> {
        let s = s.as_ref();
        if s.is_empty() {
            return Err(RelPathError::Empty);
        }
        if s.starts_with('/') {
            return Err(RelPathError::Absolute(s.to_string()));
        }
        if s.contains('\0') || s.contains('\\') {
            return Err(RelPathError::BadChar(s.to_string()));
        }
        if s.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err(RelPathError::BadSegment(s.to_string()));
        }
        Ok(RelPath(SmallStr::from(s)))
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        let s = self.as_str();
        s.rsplit('/').next().unwrap_or(s)
    }

    /// The parent directory, if the path has one.
    pub fn parent(&self) -> Option<RelPath> {
        let s = self.as_str();
        s.rfind('/').map(|i| RelPath(SmallStr::from(&s[..i])))
    }

    /// `self/child`, where `child` is itself validated.
    pub fn join(&self, child: &str) -> Result<RelPath, RelPathError> {
        RelPath::new(format!("{}/{}", self.as_str(), child))
    }

    /// The segments in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.as_str().split('/')
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RelPath {
    type Err = RelPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RelPath::new(s)
    }
}

impl AsRef<str> for RelPath {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for RelPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RelPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = SmallStr::deserialize(d)?;
        RelPath::new(s.as_str()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_paths() {
        for ok in ["a", "a/b.txt", "dir with space/ü.md", ".hidden/x", "a..b"] {
            assert_eq!(RelPath::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_escapes_and_junk() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            "a/.",
            "a\0b",
            "..\\x",
        ] {
            assert!(RelPath::new(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn parent_and_name() {
        let p = RelPath::new("a/b/c.txt").unwrap();
        assert_eq!(p.file_name(), "c.txt");
        assert_eq!(p.parent().unwrap().as_str(), "a/b");
        assert_eq!(RelPath::new("top").unwrap().parent(), None);
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<RelPath>("\"../x\"").is_err());
        assert_eq!(
            serde_json::from_str::<RelPath>("\"a/b\"").unwrap().as_str(),
            "a/b"
        );
    }
}
