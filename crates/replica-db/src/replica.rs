//! [`DbReplica`]: a tree of files stored as rows of a document table.

use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use driftsync_core::redact::RedactedUrl;
use driftsync_core::{Entry, Hash, RelPath};
use driftsync_replica::filter::PathFilter;
use driftsync_replica::{
    Capabilities, Expect, Listing, Replica, ReplicaError, Scan, ScanNote, ScanRequest, WriteMeta,
};

use crate::db::{Db, DbError, DbErrorKind, Dialect, Value};
use crate::url::DbUrl;

/// The table used when the URL names none.
pub const DEFAULT_TABLE: &str = "documents";

/// How [`DbReplica::open_with`] opens a table.
#[derive(Clone, Debug, Default)]
pub struct DbOpen {
    /// For a dry run (see [`DbReplica::open_read_only`]).
    pub read_only: bool,
    /// Deadline of one operation (see [`crate::DbUrl::timeout`]).
    pub timeout: Option<std::time::Duration>,
}

/// A document table in SQLite or PostgreSQL seen as a replica.
///
/// Columns: `path` (primary key), `content`, `sha256`, `size`, `modified_at`
/// (ns since the epoch), `executable`, `version` (a number drawn from a
/// per-table sequence on every write: the version token).
pub struct DbReplica {
    db: Mutex<Db>,
    table: String,
    location: RedactedUrl,
    /// Opened for a dry run: every write is refused.
    read_only: bool,
}

fn migrations(dialect: Dialect, table: &str) -> Vec<String> {
    let bytes = match dialect {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    let seq = match dialect {
        Dialect::Sqlite => format!(
            "CREATE TABLE {table}_version_seq (last BIGINT NOT NULL);\
             INSERT INTO {table}_version_seq (last) VALUES (0);"
        ),
        Dialect::Postgres => format!("CREATE SEQUENCE {table}_version_seq;"),
    };
    vec![format!(
        "CREATE TABLE {table} (\
           path TEXT PRIMARY KEY,\
           content {bytes} NOT NULL,\
           sha256 TEXT NOT NULL,\
           size BIGINT NOT NULL,\
           modified_at BIGINT NOT NULL,\
           executable BOOLEAN NOT NULL DEFAULT FALSE,\
           version BIGINT NOT NULL);\
         {seq}"
    )]
}

/// What was being done when the driver failed.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
struct Step {
    what: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// A database failure as a replica error.
pub fn replica_error(e: DbError) -> ReplicaError {
    let location = e.location.clone();
    let kind = e.kind;
    // The replica error names the location; its source says what failed and why.
    let e = Step {
        what: e.what,
        source: e.source,
    };
    match kind {
        DbErrorKind::Unavailable => ReplicaError::Unavailable {
            location,
            source: Box::new(e),
        },
        DbErrorKind::PermissionDenied => ReplicaError::PermissionDenied {
            location,
            source: Box::new(e),
        },
        // Worth a retry (with backoff): the lock may be released.
        DbErrorKind::Transient | DbErrorKind::Timeout => ReplicaError::Transient {
            location,
            source: Box::new(e),
        },
        DbErrorKind::UniqueViolation | DbErrorKind::Other => ReplicaError::Other {
            context: location,
            source: Box::new(e),
        },
    }
}

impl DbReplica {
    /// Connect to a database URL and create the document table on first use.
    /// A relative SQLite path is resolved against `base` (the repository root).
    pub fn open(url: &str, base: &Path) -> Result<DbReplica, ReplicaError> {
        DbReplica::open_with(url, base, &DbOpen::default())
    }

    /// Open for a look that changes nothing (a dry run, `check`): no SQLite
    /// file, folder or table is created and no migration runs; a database or
    /// table that does not exist yet reads as an empty side. Writes are refused.
    pub fn open_read_only(url: &str, base: &Path) -> Result<DbReplica, ReplicaError> {
        let how = DbOpen {
            read_only: true,
            ..DbOpen::default()
        };
        DbReplica::open_with(url, base, &how)
    }

    /// [`DbReplica::open`] or, with `how.read_only`,
    /// [`DbReplica::open_read_only`], each operation bounded by `how.timeout`.
    pub fn open_with(url: &str, base: &Path, how: &DbOpen) -> Result<DbReplica, ReplicaError> {
        let mut parsed = DbUrl::parse(url, base).map_err(|e| ReplicaError::Unavailable {
            location: driftsync_core::redact::redact_url(url),
            source: Box::new(e),
        })?;
        parsed.timeout = how.timeout;
        let table = parsed.table.clone().unwrap_or_else(|| DEFAULT_TABLE.into());
        let steps = |db: &Db| migrations(db.dialect(), &table);
        let db = if how.read_only {
            let (mut db, scratch) =
                Db::connect_existing(&parsed, &[&table]).map_err(replica_error)?;
            if scratch {
                // An empty table in memory: scans find nothing, nothing is kept.
                db.migrate(&format!("documents:{table}"), &steps(&db))
                    .map_err(replica_error)?;
            }
            db
        } else {
            let mut db = Db::connect(&parsed).map_err(replica_error)?;
            db.migrate(&format!("documents:{table}"), &steps(&db))
                .map_err(replica_error)?;
            db
        };
        Ok(DbReplica {
            db: Mutex::new(db),
            table,
            location: parsed.url,
            read_only: how.read_only,
        })
    }

    fn refuse_if_read_only(&self, path: &RelPath) -> Result<(), ReplicaError> {
        if self.read_only {
            return Err(ReplicaError::Other {
                context: self.location.redacted(),
                source: format!("{path}: opened for a dry run; nothing is written").into(),
            });
        }
        Ok(())
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_version(&self, db: &mut Db) -> Result<i64, ReplicaError> {
        let t = &self.table;
        let sql = match db.dialect() {
            Dialect::Sqlite => format!("UPDATE {t}_version_seq SET last = last + 1 RETURNING last"),
            Dialect::Postgres => format!("SELECT nextval('{t}_version_seq')"),
        };
        let rows = db.query(&sql, &[]).map_err(replica_error)?;
        Ok(rows.first().map_or(0, |r| r[0].int()))
    }

    fn current_version(&self, db: &mut Db, path: &RelPath) -> Result<Option<i64>, ReplicaError> {
        let rows = db
            .query(
                &format!("SELECT version FROM {} WHERE path = $1", self.table),
                &[Value::Text(path.as_str().into())],
            )
            .map_err(replica_error)?;
        Ok(rows.first().map(|r| r[0].int()))
    }

    fn changed(path: &RelPath, detail: String) -> ReplicaError {
        ReplicaError::Changed {
            path: path.as_str().into(),
            detail,
        }
    }
}

fn parse_version(path: &RelPath, v: &str) -> Result<i64, ReplicaError> {
    v.parse().map_err(|_| ReplicaError::Changed {
        path: path.as_str().into(),
        detail: format!("version token {v:?} is not a row version"),
    })
}

impl Replica for DbReplica {
    fn location(&self) -> String {
        self.location.redacted()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            conditional_write: true,
            conditional_delete: true,
            preserves_mtime: true,
            preserves_executable: true,
        }
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        let filter = PathFilter::new(request.include, request.exclude)?;
        // Rows stream in byte order of their paths (PostgreSQL sorts by the
        // column's collation unless told otherwise), merged with the prior
        // listing as they come: a re-scan holds only what changed.
        let mut db = self.db();
        let order = match db.dialect() {
            Dialect::Sqlite => "path",
            Dialect::Postgres => "path COLLATE \"C\"",
        };
        let mut scan = Scan::default();
        let mut listing = Listing::new(request.prior.filter(|_| request.changes_only));
        let mut each = |row: Vec<Value>| {
            let raw = row[0].text();
            let path = match RelPath::new(raw) {
                Ok(p) => p,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path: raw.into(),
                        reason: format!("unsafe path refused: {e}"),
                    });
                    return;
                }
            };
            if !filter.matches(path.as_str()) || driftsync_replica::is_record(path.as_str()) {
                return;
            }
            let hash: Hash = match row[1].text().parse() {
                Ok(h) => h,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path: raw.into(),
                        reason: format!("sha256 column unreadable: {e}"),
                    });
                    return;
                }
            };
            listing.push(
                path,
                Entry {
                    size: row[2].int() as u64,
                    mtime_ns: row[3].int(),
                    hash,
                    version: row[4].int().to_string().into(),
                    executable: row[5].bool(),
                },
            );
        };
        db.query_each(
            &format!(
                "SELECT path, sha256, size, modified_at, version, executable FROM {} ORDER BY {order}",
                self.table
            ),
            &[],
            &mut each,
        )
        .map_err(replica_error)?;
        listing.finish(&mut scan);
        Ok(scan)
    }

    /// Records are rows whose path starts with `.driftsync/`, never listed.
    fn keeps_records(&self) -> bool {
        true
    }

    fn version(&self, path: &RelPath) -> Result<Option<driftsync_core::SmallStr>, ReplicaError> {
        let mut db = self.db();
        Ok(self
            .current_version(&mut db, path)?
            .map(|v| v.to_string().into()))
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        let rows = self
            .db()
            .query(
                &format!("SELECT content FROM {} WHERE path = $1", self.table),
                &[Value::Text(path.as_str().into())],
            )
            .map_err(replica_error)?;
        match rows.into_iter().next() {
            Some(mut row) => Ok(Box::new(Cursor::new(row.swap_remove(0).into_bytes()))),
            None => Err(ReplicaError::NotFound {
                path: path.as_str().into(),
            }),
        }
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        self.refuse_if_read_only(path)?;
        let mut bytes = Vec::with_capacity(meta.size as usize);
        content
            .read_to_end(&mut bytes)
            .map_err(|e| ReplicaError::other(format!("{path}: read the content to write"), e))?;
        let hash = Hash::of(&bytes);
        let size = bytes.len() as u64;
        let t = &self.table;
        let mut db = self.db();
        let version = self.next_version(&mut db)?;
        let mut params = vec![
            Value::Text(path.as_str().into()),
            Value::Bytes(bytes),
            Value::Text(hash.to_hex()),
            Value::Int(size as i64),
            Value::Int(meta.mtime_ns),
            Value::Bool(meta.executable),
            Value::Int(version),
        ];
        let cols = "(path, content, sha256, size, modified_at, executable, version) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let n = match expect {
            Expect::Absent => db.execute(
                &format!("INSERT INTO {t} {cols} ON CONFLICT (path) DO NOTHING"),
                &params,
            ),
            Expect::Version(v) => {
                params.push(Value::Int(parse_version(path, v)?));
                db.execute(
                    &format!(
                        "UPDATE {t} SET content = $2, sha256 = $3, size = $4, modified_at = $5, \
                         executable = $6, version = $7 WHERE path = $1 AND version = $8"
                    ),
                    &params,
                )
            }
            Expect::Any => db.execute(
                &format!(
                    "INSERT INTO {t} {cols} ON CONFLICT (path) DO UPDATE SET \
                     content = excluded.content, sha256 = excluded.sha256, size = excluded.size, \
                     modified_at = excluded.modified_at, executable = excluded.executable, \
                     version = excluded.version"
                ),
                &params,
            ),
        }
        .map_err(replica_error)?;
        if n == 0 {
            let now = self.current_version(&mut db, path)?;
            return Err(Self::changed(
                path,
                match (expect, now) {
                    (Expect::Absent, Some(v)) => format!("expected no row, found version {v}"),
                    (Expect::Version(want), Some(v)) => {
                        format!("expected version {want}, found version {v}")
                    }
                    (Expect::Version(want), None) => {
                        format!("expected version {want}, the row is gone")
                    }
                    _ => "the row changed concurrently".into(),
                },
            ));
        }
        Ok(Entry {
            size,
            mtime_ns: meta.mtime_ns,
            hash,
            version: version.to_string().into(),
            executable: meta.executable,
        })
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        self.refuse_if_read_only(path)?;
        let t = &self.table;
        let mut db = self.db();
        let p = Value::Text(path.as_str().into());
        let (n, wanted) = match expect {
            Expect::Absent => {
                return match self.current_version(&mut db, path)? {
                    None => Ok(()),
                    Some(v) => Err(Self::changed(
                        path,
                        format!("expected no row, found version {v}"),
                    )),
                }
            }
            Expect::Any => (
                db.execute(&format!("DELETE FROM {t} WHERE path = $1"), &[p])
                    .map_err(replica_error)?,
                None,
            ),
            Expect::Version(v) => {
                let want = parse_version(path, v)?;
                (
                    db.execute(
                        &format!("DELETE FROM {t} WHERE path = $1 AND version = $2"),
                        &[p, Value::Int(want)],
                    )
                    .map_err(replica_error)?,
                    Some(want),
                )
            }
        };
        if n > 0 {
            return Ok(());
        }
        match (self.current_version(&mut db, path)?, wanted) {
            // Removing what is not there, with no expectation, is done already.
            (None, None) => Ok(()),
            (None, Some(want)) => Err(Self::changed(
                path,
                format!("expected version {want}, the row is gone"),
            )),
            (Some(now), Some(want)) => Err(Self::changed(
                path,
                format!("expected version {want}, found version {now}"),
            )),
            (Some(now), None) => Err(Self::changed(path, format!("found version {now}"))),
        }
    }

    fn begin_batch(&self) -> Result<(), ReplicaError> {
        self.db().begin().map_err(replica_error)
    }

    fn commit_batch(&self) -> Result<(), ReplicaError> {
        self.db().commit().map_err(replica_error)
    }

    fn rollback_batch(&self) {
        self.db().rollback();
    }
}
