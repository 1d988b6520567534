//! Where a side of a sync, a database or a bucket lives: the one parser for
//! every location a user writes, on the command line or in `sync.yaml`.
//!
//! | written | scheme | kind |
//! |---|---|---|
//! | `docs`, `./out`, `/srv/site` | [`Scheme::Dir`] | directory |
//! | `s3://bucket/prefix/` | [`Scheme::S3`] | object store |
//! | `gs://bucket/prefix/` | [`Scheme::Gs`] | object store |
//! | `az://container/prefix/` | [`Scheme::Az`] | object store |
//! | `file:dir`, `file:///abs/dir` | [`Scheme::File`] | object store (a bucket on disk) |
//! | `memory:` , `memory:name` | [`Scheme::Memory`] | in-process store (tests, demos) |
//! | `sqlite://app.db`, `sqlite:app.db`, `sqlite:///abs.db` | [`Scheme::Sqlite`] | database |
//! | `postgres://…`, `postgresql://…` | [`Scheme::Postgres`] | database |
//!
//! A relative path — a directory, `file:dir` or `sqlite:app.db` — is relative
//! to the repository root when it comes from `sync.yaml`
//! ([`Location::under`]); the backends interpret what follows the scheme
//! (a bucket and prefix, a `?table=` query).

use std::fmt;
use std::path::Path;

use crate::redact::redact_url;

/// Which database engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// SQLite (embedded; a file).
    Sqlite,
    /// PostgreSQL (a server).
    Postgres,
}

impl Dialect {
    /// The name used in messages and reports (`sqlite`, `postgres`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// The scheme a location is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// A plain path: a local directory.
    Dir,
    /// Amazon S3 or an S3-compatible server.
    S3,
    /// Google Cloud Storage.
    Gs,
    /// Azure Blob Storage.
    Az,
    /// A directory used as a bucket (`file:`).
    File,
    /// An in-process store (`memory:`).
    Memory,
    /// An SQLite database file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// What kind of place a location is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A local directory.
    Directory,
    /// A bucket (or a directory or memory standing in for one).
    ObjectStore,
    /// A database.
    Database,
}

/// The prefixes, in the order they are tried (longer first where one starts
/// another).
const PREFIXES: &[(&str, Scheme)] = &[
    ("s3://", Scheme::S3),
    ("gs://", Scheme::Gs),
    ("az://", Scheme::Az),
    ("file://", Scheme::File),
    ("file:", Scheme::File),
    ("memory:", Scheme::Memory),
    ("sqlite://", Scheme::Sqlite),
    ("sqlite:", Scheme::Sqlite),
    ("postgres://", Scheme::Postgres),
    ("postgresql://", Scheme::Postgres),
];

/// Every spelling driftsync opens, for messages.
pub const KNOWN: &str =
    "a directory path, s3://, gs://, az://, file:, memory:, sqlite:// or postgres://";

/// A location, as written, split into its scheme and the rest.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Location {
    scheme: Scheme,
    /// The whole text, as written (after [`Location::under`], with its absolute path).
    text: String,
    /// Where the part after the prefix starts (the prefix as written:
    /// `sqlite:` or `sqlite://`; none for a path).
    split: usize,
}

/// Why a text is not a location.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// Nothing was written.
    #[error("empty location; give {KNOWN}")]
    Empty,
    /// A `scheme:` driftsync does not open.
    #[error("{shown}: unknown scheme `{scheme}:`; give {KNOWN}")]
    UnknownScheme {
        /// The scheme as written.
        scheme: String,
        /// The whole location, password redacted.
        shown: String,
    },
}

/// The scheme a text is written with (`s3` in `s3://b/p`), if it has one: a
/// letter, then letters, digits, `+`, `-` or `.`, then `:`. A single letter is
/// not a scheme (`C:` is a drive).
pub fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

impl Location {
    /// Read a location as a user wrote it.
    pub fn parse(text: &str) -> Result<Location, LocationError> {
        if text.is_empty() {
            return Err(LocationError::Empty);
        }
        for &(prefix, scheme) in PREFIXES {
            if let Some(rest) = text.strip_prefix(prefix) {
                return Ok(Location {
                    scheme,
                    text: text.to_string(),
                    split: text.len() - rest.len(),
                });
            }
        }
        match scheme_of(text) {
            Some(scheme) => Err(LocationError::UnknownScheme {
                scheme: scheme.to_string(),
                shown: redact_url(text),
            }),
            None => Ok(Location {
                scheme: Scheme::Dir,
                text: text.to_string(),
                split: 0,
            }),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// What kind of place it is.
    pub fn kind(&self) -> Kind {
        match self.scheme {
            Scheme::Dir => Kind::Directory,
            Scheme::S3 | Scheme::Gs | Scheme::Az | Scheme::File | Scheme::Memory => {
                Kind::ObjectStore
            }
            Scheme::Sqlite | Scheme::Postgres => Kind::Database,
        }
    }

    /// The database engine, for a database URL.
    pub fn dialect(&self) -> Option<Dialect> {
        match self.scheme {
            Scheme::Sqlite => Some(Dialect::Sqlite),
            Scheme::Postgres => Some(Dialect::Postgres),
            _ => None,
        }
    }

    /// True for a database URL.
    pub fn is_database(&self) -> bool {
        self.kind() == Kind::Database
    }

    /// What follows the scheme: a path, `bucket/prefix`, an SQLite file with
    /// its query, or (for PostgreSQL) the whole URL.
    pub fn rest(&self) -> &str {
        match self.scheme {
            Scheme::Postgres => &self.text,
            _ => &self.text[self.split..],
        }
    }

    /// The whole location as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The file system path a directory, `file:` bucket or SQLite database
    /// names (without an SQLite URL's `?query`); `None` for the others and for
    /// `sqlite::memory:`.
    pub fn path(&self) -> Option<&str> {
        let rest = &self.text[self.split..];
        match self.scheme {
            Scheme::Dir | Scheme::File => Some(rest),
            Scheme::Sqlite => {
                let file = rest.split('?').next().unwrap_or(rest);
                (!file.is_empty() && !file.starts_with(":memory:")).then_some(file)
            }
            _ => None,
        }
    }

    /// The same location with a relative path made absolute under `root`
    /// (the repository root): `docs` → `/repo/docs`, `file:out` →
    /// `file:/repo/out`, `sqlite://app.db` → `sqlite:///repo/app.db`. Absolute
    /// paths and every other scheme are unchanged.
    pub fn under(&self, root: &Path) -> Location {
        match self.path() {
            Some(p) if !Path::new(p).is_absolute() => {
                let after = &self.text[self.split + p.len()..];
                Location {
                    scheme: self.scheme,
                    text: format!(
                        "{}{}{after}",
                        &self.text[..self.split],
                        root.join(p).display()
                    ),
                    split: self.split,
                }
            }
            _ => self.clone(),
        }
    }
}

impl fmt::Display for Location {
    /// The location as written (after [`Location::under`], with its absolute path).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Location {
    /// Redacted: a location may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({})", redact_url(&self.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> (Scheme, Kind) {
        let l = Location::parse(s).unwrap();
        (l.scheme(), l.kind())
    }

    #[test]
    fn every_spelling_has_one_scheme_and_kind() {
        use Kind::*;
        for (text, scheme, k) in [
            ("docs", Scheme::Dir, Directory),
            ("./out/", Scheme::Dir, Directory),
            ("/srv/site", Scheme::Dir, Directory),
            ("C:/x", Scheme::Dir, Directory),
            ("s3://b/p/", Scheme::S3, ObjectStore),
            ("gs://b", Scheme::Gs, ObjectStore),
            ("az://c/p", Scheme::Az, ObjectStore),
            ("file:out", Scheme::File, ObjectStore),
            ("file:///abs", Scheme::File, ObjectStore),
            ("memory:", Scheme::Memory, ObjectStore),
            ("memory:x", Scheme::Memory, ObjectStore),
            ("sqlite://app.db?table=docs", Scheme::Sqlite, Database),
            ("sqlite:app.db", Scheme::Sqlite, Database),
            ("sqlite::memory:", Scheme::Sqlite, Database),
            ("postgres://u@h/d", Scheme::Postgres, Database),
            ("postgresql://u@h/d", Scheme::Postgres, Database),
        ] {
            assert_eq!(kind(text), (scheme, k), "{text}");
            assert_eq!(Location::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn unknown_schemes_and_empty_text_are_refused_with_the_known_ones() {
        assert_eq!(Location::parse(""), Err(LocationError::Empty));
        let e = Location::parse("http://u:pw@h/x").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown scheme `http:`"), "{msg}");
        assert!(msg.contains("s3://") && msg.contains("sqlite://"), "{msg}");
        assert!(!msg.contains("pw"), "password shown: {msg}");
        // `postgres:` without `//` is not a URL driftsync opens.
        assert!(Location::parse("postgres:db").is_err());
    }

    #[test]
    fn dialects() {
        let d = |s: &str| Location::parse(s).unwrap().dialect();
        assert_eq!(d("sqlite://a.db"), Some(Dialect::Sqlite));
        assert_eq!(d("postgresql://h/d"), Some(Dialect::Postgres));
        assert_eq!(d("s3://b"), None);
        assert_eq!(Dialect::Postgres.as_str(), "postgres");
    }

    #[test]
    fn relative_paths_resolve_under_the_root_keeping_the_spelling() {
        let root = Path::new("/repo");
        let u = |s: &str| Location::parse(s).unwrap().under(root).to_string();
        assert_eq!(u("docs"), "/repo/docs");
        assert_eq!(u("/abs"), "/abs");
        assert_eq!(u("file:out"), "file:/repo/out");
        assert_eq!(u("file:///abs"), "file:///abs");
        assert_eq!(u("sqlite://app.db"), "sqlite:///repo/app.db");
        assert_eq!(u("sqlite:db/app.db"), "sqlite:/repo/db/app.db");
        assert_eq!(u("sqlite:///abs.db"), "sqlite:///abs.db");
        assert_eq!(
            u("sqlite://f.db?table=docs"),
            "sqlite:///repo/f.db?table=docs"
        );
        assert_eq!(u("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(u("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(u("s3://b/p"), "s3://b/p");
    }

    #[test]
    fn paths() {
        let p = |s: &str| Location::parse(s).unwrap().path().map(str::to_string);
        assert_eq!(p("sqlite://x.db?table=t").as_deref(), Some("x.db"));
        assert_eq!(p("sqlite://"), None);
        assert_eq!(p("file:d").as_deref(), Some("d"));
        assert_eq!(p("s3://b/p"), None);
    }

    #[test]
    fn debug_hides_passwords() {
        let l = Location::parse("postgres://u:hunter2@h/d").unwrap();
        assert!(!format!("{l:?}").contains("hunter2"));
    }

    #[test]
    fn a_single_letter_is_a_drive_not_a_scheme() {
        assert_eq!(scheme_of("C:/x"), None);
        assert_eq!(scheme_of("s3://b"), Some("s3"));
        assert_eq!(scheme_of("a+b-c.d:x"), Some("a+b-c.d"));
        assert_eq!(scheme_of("plain"), None);
    }
}
