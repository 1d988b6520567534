//! One small connection type over SQLite and PostgreSQL, so the replica and
//! the bundle store write their SQL once.
//!
//! SQL is written with PostgreSQL's `$1` placeholders; for SQLite they are
//! rewritten to `?1`. Values travel as [`Value`].

use std::path::Path;
use std::time::Duration;

use driftsync_core::redact::RedactedUrl;

use crate::url::{DbTarget, DbUrl};

/// Which database engine a connection talks to (the one `Dialect` of driftsync).
pub use driftsync_core::Dialect;

/// A value bound to a parameter or read from a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (BIGINT).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (bytea / blob).
    Bytes(Vec<u8>),
    /// A boolean (an integer 0/1 in SQLite).
    Bool(bool),
}

impl Value {
    /// The integer, or 0 for anything else.
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            Value::Bool(b) => i64::from(*b),
            _ => 0,
        }
    }
    /// The text, or "" for anything else.
    pub fn text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }
    /// Take the bytes (text as UTF-8), or empty for anything else.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b,
            Value::Text(s) => s.into_bytes(),
            _ => Vec::new(),
        }
    }
    /// The boolean (non-zero integers are true).
    pub fn bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            _ => false,
        }
    }
}

/// What kind of failure a database operation met: what the caller can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbErrorKind {
    /// Cannot connect, or the database does not exist.
    Unavailable,
    /// Credentials refused.
    PermissionDenied,
    /// Worth retrying: serialization failure, deadlock, lost connection.
    Transient,
    /// A unique constraint refused the row.
    UniqueViolation,
    /// The operation did not finish in time: a statement deadline, a lock
    /// held by another session, a server that stopped answering.
    Timeout,
    /// Anything else.
    Other,
}

/// A database failure, with the location redacted.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {what}: {source}")]
pub struct DbError {
    /// What the caller can do about it.
    pub kind: DbErrorKind,
    /// The database URL, password hidden.
    pub location: String,
    /// What was being done.
    pub what: String,
    /// The driver's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres {
        rt: tokio::runtime::Runtime,
        client: tokio_postgres::Client,
    },
}

/// An open connection to SQLite or PostgreSQL.
pub struct Db {
    inner: Inner,
    location: RedactedUrl,
    /// Inside a transaction: `Some(None)`; after a statement in it failed,
    /// `Some(Some(what failed))` (PostgreSQL then turns COMMIT into a silent ROLLBACK).
    tx: Option<Option<String>>,
    /// The deadline of one operation, for messages and the client-side
    /// backstop: `request_timeout`, or SQLite's default lock wait.
    deadline: Option<Duration>,
}

/// How long to wait for a server or a lock before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_BUSY: Duration = Duration::from_secs(30);

impl Db {
    /// Connect to the database a URL names (creating an SQLite file and its folder on first use).
    pub fn connect(url: &DbUrl) -> Result<Db, DbError> {
        let location = url.url.clone();
        let fail = |kind, what: &str, e: Box<dyn std::error::Error + Send + Sync>| DbError {
            kind,
            location: location.redacted(),
            what: what.to_string(),
            source: e,
        };
        match &url.target {
            DbTarget::Sqlite { path } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        fail(
                            DbErrorKind::Unavailable,
                            "create the database folder",
                            e.into(),
                        )
                    })?;
                }
                let busy = url.timeout.unwrap_or(SQLITE_BUSY);
                let conn = open_sqlite(path, busy)
                    .map_err(|e| fail(DbErrorKind::Unavailable, "open", e.into()))?;
                Ok(Db {
                    inner: Inner::Sqlite(conn),
                    location,
                    tx: None,
                    deadline: Some(busy),
                })
            }
            DbTarget::Postgres { conn } => {
                let crate::tls::PgConnect {
                    mut config, tls, ..
                } = crate::tls::pg_connect(conn.expose()).map_err(|e| {
                    fail(
                        DbErrorKind::Unavailable,
                        "read the connection URL",
                        e.into(),
                    )
                })?;
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(url.timeout.unwrap_or(CONNECT_TIMEOUT));
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| fail(DbErrorKind::Other, "start a runtime", e.into()))?;
                let (client, connection) = rt.block_on(config.connect(tls)).map_err(|e| {
                    let kind = classify_pg(&e, DbErrorKind::Unavailable);
                    // The chain holds the reason (OpenSSL's `certificate verify failed`, …).
                    let text = driftsync_core::redact::error_chain(&e);
                    fail(kind, "connect", text.into())
                })?;
                rt.spawn(async move {
                    // Errors surface on the client's next call.
                    let _ = connection.await;
                });
                let mut db = Db {
                    inner: Inner::Postgres { rt, client },
                    location,
                    tx: None,
                    deadline: url.timeout,
                };
                if let Some(t) = url.timeout {
                    // The server ends a statement (a lock wait included)
                    // that runs longer, with an error naming the cause.
                    db.batch(&format!("SET statement_timeout = {}", t.as_millis().max(1)))?;
                }
                Ok(db)
            }
        }
    }

    /// Connect for a look that must change nothing (a dry run, `check`):
    /// no SQLite file or folder is created and no migration runs. When the
    /// database, or the first of `tables`, does not exist yet, the answer is a
    /// scratch in-memory SQLite database under the same location, and `true`:
    /// the caller creates its tables there and reads an empty store.
    pub fn connect_existing(url: &DbUrl, tables: &[&str]) -> Result<(Db, bool), DbError> {
        let location = url.url.clone();
        let existing = match &url.target {
            DbTarget::Sqlite { path } if !path.exists() => None,
            DbTarget::Sqlite { path } => {
                use rusqlite::OpenFlags;
                // Read-write but never create, and no pragma that changes the
                // file (the journal mode is the file's own).
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let busy = url.timeout.unwrap_or(SQLITE_BUSY);
                let conn = rusqlite::Connection::open_with_flags(path, flags)
                    .and_then(|c| c.busy_timeout(busy).map(|()| c))
                    .map_err(|e| DbError {
                        kind: DbErrorKind::Unavailable,
                        location: location.redacted(),
                        what: "open".into(),
                        source: e.into(),
                    })?;
                Some(Db {
                    inner: Inner::Sqlite(conn),
                    location: location.clone(),
                    tx: None,
                    deadline: Some(busy),
                })
            }
            DbTarget::Postgres { .. } => Some(Db::connect(url)?),
        };
        if let Some(mut db) = existing {
            let mut all = true;
            for t in tables {
                all &= db.table_exists(t)?;
            }
            if all {
                return Ok((db, false));
            }
        }
        let conn = rusqlite::Connection::open_in_memory().map_err(|e| DbError {
            kind: DbErrorKind::Other,
            location: location.redacted(),
            what: "open a scratch database".into(),
            source: e.into(),
        })?;
        Ok((
            Db {
                inner: Inner::Sqlite(conn),
                location,
                tx: None,
                deadline: None,
            },
            true,
        ))
    }

    /// True when a table (or, for SQLite, a view) of this name exists (in
    /// PostgreSQL: on the search path).
    pub fn table_exists(&mut self, name: &str) -> Result<bool, DbError> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = $1"
            }
            Dialect::Postgres => {
                "SELECT count(*)::bigint FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = $1 AND n.nspname = ANY (current_schemas(false))"
            }
        };
        Ok(self
            .query(sql, &[Value::Text(name.into())])?
            .first()
            .is_some_and(|r| r[0].int() > 0))
    }

    /// The engine behind this connection.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// The URL, password hidden.
    pub fn location(&self) -> &RedactedUrl {
        &self.location
    }

    /// The server-side id of this session (PostgreSQL backend pid; 0 for SQLite).
    pub fn session_id(&mut self) -> Result<i64, DbError> {
        match self.dialect() {
            Dialect::Sqlite => Ok(0),
            Dialect::Postgres => Ok(self
                .query("SELECT pg_backend_pid()::bigint", &[])?
                .first()
                .map_or(0, |r| r[0].int())),
        }
    }

    fn err(
        &mut self,
        what: &str,
        kind: DbErrorKind,
        e: Box<dyn std::error::Error + Send + Sync>,
    ) -> DbError {
        let e = match (kind, self.deadline) {
            (DbErrorKind::Timeout, Some(d)) => format!(
                "timed out after {} (request_timeout; a lock held by another session, or a slow statement): {e}",
                human(d)
            )
            .into(),
            (DbErrorKind::Timeout, None) => {
                format!("timed out (the server's own statement or lock timeout): {e}").into()
            }
            _ => e,
        };
        if let Some(failed @ None) = &mut self.tx {
            *failed = Some(format!("{what}: {e}"));
        }
        DbError {
            kind,
            location: self.location.redacted(),
            what: what.to_string(),
            source: e,
        }
    }

    /// Run statements without parameters (DDL, BEGIN, COMMIT).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        let r = match &mut self.inner {
            Inner::Sqlite(c) => c.execute_batch(sql).map_err(sqlite_err),
            Inner::Postgres { rt, client } => {
                pg_block(rt, self.deadline, client.batch_execute(sql))
            }
        };
        r.map_err(|(k, e)| self.err(first_words(sql), k, e))
    }

    /// Run one statement; returns the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let r = match &mut self.inner {
            Inner::Sqlite(c) => {
                let sql = sqlite_sql(sql);
                c.execute(
                    &sql,
                    rusqlite::params_from_iter(params.iter().map(SqliteValue)),
                )
                .map(|n| n as u64)
                .map_err(sqlite_err)
            }
            Inner::Postgres { rt, client } => {
                let p = pg_params(params);
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    p.iter().map(|b| b.as_ref()).collect();
                pg_block(rt, self.deadline, client.execute(sql, &refs))
            }
        };
        r.map_err(|(k, e)| self.err(first_words(sql), k, e))
    }

    /// Run a query; returns every row as a vector of values.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |row| out.push(row))?;
        Ok(out)
    }

    /// Run a query and hand each row to `each` as it arrives, without holding
    /// the result set (a scan of a large table keeps what it needs only).
    pub fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Vec<Value>),
    ) -> Result<(), DbError> {
        let r = match &mut self.inner {
            Inner::Sqlite(c) => sqlite_each(c, sql, params, each),
            Inner::Postgres { rt, client } => {
                let p = pg_params(params);
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    p.iter().map(|b| b.as_ref()).collect();
                let mut unreadable = None;
                pg_block(rt, self.deadline, async {
                    use futures_util::StreamExt;
                    let rows = client.query_raw(sql, refs).await?;
                    let mut rows = std::pin::pin!(rows);
                    while let Some(row) = rows.next().await {
                        match pg_row(&row?) {
                            Ok(values) => each(values),
                            Err(failure) => {
                                unreadable = Some(failure);
                                break;
                            }
                        }
                    }
                    Ok(())
                })
                .and_then(|()| unreadable.map_or(Ok(()), Err))
            }
        };
        r.map_err(|(k, e)| self.err(first_words(sql), k, e))
    }

    /// Start a transaction that takes the write lock at once (SQLite `BEGIN IMMEDIATE`).
    pub fn begin(&mut self) -> Result<(), DbError> {
        match self.dialect() {
            Dialect::Sqlite => self.batch("BEGIN IMMEDIATE")?,
            Dialect::Postgres => self.batch("BEGIN")?,
        }
        self.tx = Some(None);
        Ok(())
    }

    /// Commit the open transaction. Fails, having rolled back, when any
    /// statement inside it failed: PostgreSQL answers COMMIT of an aborted
    /// transaction with a silent ROLLBACK, which must not pass for success.
    pub fn commit(&mut self) -> Result<(), DbError> {
        if let Some(Some(failed)) = self.tx.take() {
            self.rollback();
            return Err(DbError {
                kind: DbErrorKind::Other,
                location: self.location.redacted(),
                what: "COMMIT".into(),
                source: format!("rolled back: a statement in the transaction failed ({failed})")
                    .into(),
            });
        }
        self.batch("COMMIT")
    }

    /// Roll back the open transaction (errors ignored: the connection may be gone).
    pub fn rollback(&mut self) {
        self.tx = None;
        let _ = self.batch("ROLLBACK");
    }

    /// The SQL type for binary content.
    pub fn bytes_type(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        }
    }
}

type Failure = (DbErrorKind, Box<dyn std::error::Error + Send + Sync>);

fn first_words(sql: &str) -> &str {
    let sql = sql.trim_start();
    let end = sql
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .nth(2)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

/// A duration as the config writes it: `2s`, `1500ms`.
fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Wait for a PostgreSQL call. With a deadline, the server ends a slow
/// statement itself (`statement_timeout`); a server that stops answering
/// altogether (a dead link) is given up on at twice the deadline.
fn pg_block<T>(
    rt: &tokio::runtime::Runtime,
    deadline: Option<Duration>,
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, Failure> {
    match deadline {
        None => rt.block_on(call).map_err(pg_err),
        Some(d) => match rt.block_on(async { tokio::time::timeout(d * 2, call).await }) {
            Ok(r) => r.map_err(pg_err),
            Err(_) => Err((
                DbErrorKind::Timeout,
                "the server did not answer".to_string().into(),
            )),
        },
    }
}

fn open_sqlite(path: &Path, busy: Duration) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// `$1` → `?1` (SQLite's explicit-index parameters).
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn sqlite_each(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(Vec<Value>),
) -> Result<(), Failure> {
    let sql = sqlite_sql(sql);
    let mut stmt = c.prepare_cached(&sql).map_err(sqlite_err)?;
    let n = stmt.column_count();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter().map(SqliteValue)))
        .map_err(sqlite_err)?;
    while let Some(row) = rows.next().map_err(sqlite_err)? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            use rusqlite::types::ValueRef;
            vals.push(match row.get_ref(i).map_err(sqlite_err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(f) => Value::Int(f as i64),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            });
        }
        each(vals);
    }
    Ok(())
}

fn sqlite_err(e: rusqlite::Error) -> Failure {
    use rusqlite::ErrorCode;
    let kind = match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => {
            if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
            {
                DbErrorKind::UniqueViolation
            } else {
                DbErrorKind::Other
            }
        }
        // Still locked once `busy_timeout` ran out.
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbErrorKind::Timeout,
        Some(ErrorCode::CannotOpen | ErrorCode::NotADatabase) => DbErrorKind::Unavailable,
        Some(ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => DbErrorKind::PermissionDenied,
        _ => DbErrorKind::Other,
    };
    (kind, e.into())
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn tokio_postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn tokio_postgres::types::ToSql + Sync> {
            match v {
                Value::Null => Box::new(Option::<String>::None),
                Value::Int(i) => Box::new(*i),
                Value::Bool(b) => Box::new(*b),
                Value::Text(s) => Box::new(s.clone()),
                Value::Bytes(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn pg_row(row: &tokio_postgres::Row) -> Result<Vec<Value>, Failure> {
    use tokio_postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let t = col.type_();
        let e = |e: tokio_postgres::Error| pg_err(e);
        let v = if *t == Type::INT8 {
            row.try_get::<_, Option<i64>>(i).map_err(e)?.map(Value::Int)
        } else if *t == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map_err(e)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map_err(e)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map_err(e)?
                .map(Value::Bool)
        } else if *t == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)
                .map_err(e)?
                .map(Value::Bytes)
        } else {
            row.try_get::<_, Option<String>>(i)
                .map_err(e)?
                .map(Value::Text)
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

fn classify_pg(e: &tokio_postgres::Error, fallback: DbErrorKind) -> DbErrorKind {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => DbErrorKind::UniqueViolation,
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::ADMIN_SHUTDOWN =>
        {
            DbErrorKind::Transient
        }
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
                || *c == SqlState::INSUFFICIENT_PRIVILEGE =>
        {
            DbErrorKind::PermissionDenied
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => DbErrorKind::Unavailable,
        Some(c) if *c == SqlState::QUERY_CANCELED || *c == SqlState::LOCK_NOT_AVAILABLE => {
            DbErrorKind::Timeout
        }
        Some(_) => DbErrorKind::Other,
        None if e.is_closed() => DbErrorKind::Transient,
        None => fallback,
    }
}

fn pg_err(e: tokio_postgres::Error) -> Failure {
    // The server's message is in the chain: `db error` alone says nothing.
    let text = driftsync_core::redact::error_chain(&e);
    (classify_pg(&e, DbErrorKind::Other), text.into())
}

/// Forward-only schema migrations, recorded per component in `driftsync_schema_version`.
impl Db {
    /// Bring `component` up to `steps.len()`, applying each missing step in
    /// order inside one transaction (serialised across processes). Returns the
    /// version the database was at before.
    pub fn migrate(&mut self, component: &str, steps: &[String]) -> Result<i64, DbError> {
        self.begin()?;
        let r = self.migrate_in_tx(component, steps);
        match r {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn migrate_in_tx(&mut self, component: &str, steps: &[String]) -> Result<i64, DbError> {
        if self.dialect() == Dialect::Postgres {
            // Two processes creating the same tables at once would race on the catalog.
            self.query("SELECT pg_advisory_xact_lock(7406590137)::text", &[])?;
        }
        self.batch(
            "CREATE TABLE IF NOT EXISTS driftsync_schema_version (\
             component TEXT PRIMARY KEY, version BIGINT NOT NULL)",
        )?;
        let rows = self.query(
            "SELECT version FROM driftsync_schema_version WHERE component = $1",
            &[Value::Text(component.into())],
        )?;
        let before = rows.first().map_or(0, |r| r[0].int());
        if before > steps.len() as i64 {
            return Err(self.err(
                "check the schema version",
                DbErrorKind::Other,
                format!(
                    "{component} is at schema version {before}, newer than this driftsync knows ({}); upgrade driftsync",
                    steps.len()
                )
                .into(),
            ));
        }
        for step in &steps[before as usize..] {
            self.batch(step)?;
        }
        if before < steps.len() as i64 {
            self.execute(
                "INSERT INTO driftsync_schema_version (component, version) VALUES ($1, $2) \
                 ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                &[
                    Value::Text(component.into()),
                    Value::Int(steps.len() as i64),
                ],
            )?;
        }
        Ok(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_placeholders_for_sqlite() {
        assert_eq!(
            sqlite_sql("UPDATE t SET a=$1 WHERE b=$12"),
            "UPDATE t SET a=?1 WHERE b=?12"
        );
        assert_eq!(first_words("  SELECT a FROM t WHERE x"), "SELECT a FROM");
    }
}
