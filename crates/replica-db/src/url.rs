//! Database URLs: `sqlite://path/to.db?table=docs` and `postgres://user:pass@host:port/db?table=docs`.

use std::path::{Path, PathBuf};

use driftsync_core::redact::RedactedUrl;
use driftsync_core::{Dialect, Location};

/// Which database a URL names, with everything needed to connect.
#[derive(Clone, Debug)]
pub enum DbTarget {
    /// An SQLite file (created on first use).
    Sqlite {
        /// The file, resolved against the base directory when relative.
        path: PathBuf,
    },
    /// A PostgreSQL server.
    Postgres {
        /// The connection URL without driftsync's own query parameters.
        conn: RedactedUrl,
    },
}

/// A parsed database URL.
#[derive(Clone, Debug)]
pub struct DbUrl {
    /// Where to connect.
    pub target: DbTarget,
    /// The `table=` parameter, if given (validated as a plain SQL identifier).
    pub table: Option<String>,
    /// The URL as given, for messages (its `Display` hides the password).
    pub url: RedactedUrl,
    /// Deadline of one operation (`request_timeout`): the connection, and
    /// each statement (PostgreSQL `statement_timeout`) or lock wait (SQLite
    /// `busy_timeout`). `None`: connect within 10 s, wait 30 s for an SQLite
    /// lock, no statement deadline.
    pub timeout: Option<std::time::Duration>,
}

/// A URL driftsync cannot use.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// Neither `sqlite://` nor `postgres://`/`postgresql://`.
    #[error(
        "{url}: not a database URL (write sqlite://path/to.db or postgres://user@host:port/db)"
    )]
    Scheme {
        /// The URL, redacted.
        url: String,
    },
    /// The table name is not a plain identifier.
    #[error(
        "{url}: table {table:?} is not a plain SQL identifier (letters, digits, _; at most 63)"
    )]
    Table {
        /// The URL, redacted.
        url: String,
        /// The table name.
        table: String,
    },
    /// An SQLite URL without a file.
    #[error("{url}: no database file (write sqlite://path/to.db)")]
    NoFile {
        /// The URL, redacted.
        url: String,
    },
}

/// True when `s` looks like a database URL this crate handles.
pub fn is_db_url(s: &str) -> bool {
    Location::parse(s).is_ok_and(|l| l.is_database())
}

/// True for a name usable unquoted as a table name.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

impl DbUrl {
    /// Parse `url`; a relative SQLite path is resolved against `base` (the repository root).
    pub fn parse(url: &str, base: &Path) -> Result<DbUrl, UrlError> {
        let redacted = RedactedUrl::new(url);
        let (head, query) = match url.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (url, None),
        };
        let mut table = None;
        let mut rest = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("table", t)) => table = Some(t.to_string()),
                _ => rest.push(pair),
            }
        }
        if let Some(t) = &table {
            if !is_identifier(t) {
                return Err(UrlError::Table {
                    url: redacted.redacted(),
                    table: t.clone(),
                });
            }
        }
        let location = Location::parse(head).ok();
        let target = if let Some(file) = location
            .as_ref()
            .filter(|l| l.dialect() == Some(Dialect::Sqlite))
            .map(Location::rest)
        {
            if file.is_empty() {
                return Err(UrlError::NoFile {
                    url: redacted.redacted(),
                });
            }
            let path = Path::new(file);
            DbTarget::Sqlite {
                path: if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    base.join(path)
                },
            }
        } else if location.as_ref().and_then(Location::dialect) == Some(Dialect::Postgres) {
            let conn = if rest.is_empty() {
                head.to_string()
            } else {
                format!("{head}?{}", rest.join("&"))
            };
            DbTarget::Postgres {
                conn: RedactedUrl::new(conn),
            }
        } else {
            return Err(UrlError::Scheme {
                url: redacted.redacted(),
            });
        };
        Ok(DbUrl {
            target,
            table,
            url: redacted,
            timeout: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_and_strips_table() {
        let u = DbUrl::parse("sqlite://.driftsync/f.db?table=docs", Path::new("/repo")).unwrap();
        assert_eq!(u.table.as_deref(), Some("docs"));
        assert!(
            matches!(u.target, DbTarget::Sqlite { ref path } if path == Path::new("/repo/.driftsync/f.db"))
        );
        let u = DbUrl::parse(
            "postgresql://u:secretpw@h:5/db?sslmode=disable&table=t1",
            Path::new("/"),
        )
        .unwrap();
        match &u.target {
            DbTarget::Postgres { conn } => {
                assert_eq!(
                    conn.expose(),
                    "postgresql://u:secretpw@h:5/db?sslmode=disable"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{u:?}").contains("secretpw"));
    }

    #[test]
    fn refuses_bad_tables_and_schemes() {
        assert!(matches!(
            DbUrl::parse("sqlite://x.db?table=a;drop", Path::new("/")),
            Err(UrlError::Table { .. })
        ));
        let err = DbUrl::parse("mysql://u:pw@h/d", Path::new("/")).unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
        assert!(matches!(
            DbUrl::parse("sqlite://", Path::new("/")),
            Err(UrlError::NoFile { .. })
        ));
    }
}
