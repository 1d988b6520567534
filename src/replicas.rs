//! Location string → replica. One match on the scheme; each backend adds an arm.
//!
//! - a plain path (`docs/`, `/srv/site`) — a local directory;
//! - `memory:NAME` — an empty in-memory tree (for trying things out; it lives
//!   only as long as the process);
//! - `s3://`, `gs://`, `az://`, `file:` — object storage (`driftsync-replica-object`).
//! - `sqlite://FILE?table=T`, `postgres://…?table=T` — a document table
//!   (`driftsync-replica-db`; a relative SQLite path is under the current directory).

use anyhow::bail;
use driftsync_core::location::{Location, Scheme};
use driftsync_replica::local::LocalReplica;
use driftsync_replica::memory::MemoryReplica;
use driftsync_replica::Replica;

/// How replicas are opened.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Local directories also apply `.gitignore` files.
    pub gitignore: bool,
    /// Object storage: retries of one request on a transient fault (None = default).
    pub retries: Option<usize>,
    /// Base for relative SQLite paths (None = the current directory).
    pub root: Option<std::path::PathBuf>,
    /// Object storage: backup folder relative to the prefix (None = `.driftsync-backup/`).
    pub backup_prefix: Option<String>,
    /// Deadline of one operation (None = each kind's default): a bucket
    /// request; a database connection, statement or lock wait; a directory's
    /// file operation (no deadline by default).
    pub request_timeout: Option<std::time::Duration>,
    /// A dry run or a check: open without creating anything (a database
    /// file or table that does not exist yet reads as an empty side).
    pub dry_run: bool,
}

/// Refuse two locations that are the same local directory, or where one
/// local directory is inside the other: syncing them would copy the inner one
/// into itself on every run (or sync a directory with itself). Paths are
/// compared in canonical form (links, `.` and `..` resolved).
pub fn refuse_nested(left: &str, right: &str) -> anyhow::Result<()> {
    use driftsync_config::nesting::{canonical, nesting, Nesting};
    let dir = |s: &str| Location::parse(s).is_ok_and(|l| l.scheme() == Scheme::Dir);
    if !dir(left) || !dir(right) {
        return Ok(());
    }
    let (l, r) = (std::path::Path::new(left), std::path::Path::new(right));
    match nesting(l, r) {
        None => Ok(()),
        Some(Nesting::Same) => bail!(
            "`{left}` and `{right}` are the same directory ({}); give two different directories",
            canonical(l).display()
        ),
        Some(Nesting::FirstInsideSecond) => bail!(
            "`{left}` is inside `{right}`: each run would copy the inner directory into itself again; give two directories neither of which holds the other"
        ),
        Some(Nesting::SecondInsideFirst) => bail!(
            "`{right}` is inside `{left}`: each run would copy the inner directory into itself again; give two directories neither of which holds the other"
        ),
    }
}

/// Open the replica a location names.
pub fn open_replica(spec: &str, opts: &OpenOptions) -> anyhow::Result<Box<dyn Replica>> {
    let location = Location::parse(spec)?;
    match location.scheme() {
        Scheme::Dir => {
            // One spelling per directory (`d`, `d/`, `../x/d`, a link to
            // it): the location names the ad hoc pair's base and lease.
            let path = std::fs::canonicalize(spec).or_else(|_| std::path::absolute(spec))?;
            if path.exists() && !path.is_dir() {
                bail!("{}: not a directory", path.display());
            }
            let dir = LocalReplica::new(path).respect_gitignore(opts.gitignore);
            Ok(match opts.request_timeout {
                Some(t) => Box::new(driftsync_replica::deadline::Deadline::local(dir, t)),
                None => Box::new(dir),
            })
        }
        Scheme::Memory => Ok(Box::new(MemoryReplica::new(location.rest()))),
        Scheme::S3 | Scheme::Gs | Scheme::Az | Scheme::File => {
            let mut o = driftsync_replica_object::ObjectOptions::default();
            o.retries = opts.retries.unwrap_or(o.retries);
            o.timeout = opts.request_timeout.unwrap_or(o.timeout);
            if let Some(p) = &opts.backup_prefix {
                o.backup_prefix =
                    driftsync_replica_object::backup_prefix(p).map_err(anyhow::Error::msg)?;
            }
            Ok(Box::new(driftsync_replica_object::ObjectReplica::open(
                spec, o,
            )?))
        }
        Scheme::Sqlite | Scheme::Postgres => {
            let base = match &opts.root {
                Some(root) => root.clone(),
                None => std::env::current_dir()?,
            };
            let how = driftsync_replica_db::DbOpen {
                read_only: opts.dry_run,
                timeout: opts.request_timeout,
            };
            Ok(Box::new(driftsync_replica_db::DbReplica::open_with(
                spec, &base, &how,
            )?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_paths() {
        let scheme = |s: &str| Location::parse(s).unwrap().scheme();
        assert_eq!(scheme("s3://bucket/x"), Scheme::S3);
        assert_eq!(scheme("memory:x"), Scheme::Memory);
        assert_eq!(scheme("docs/"), Scheme::Dir);
        assert_eq!(scheme("./a:b"), Scheme::Dir);
        assert_eq!(scheme("C:\\x"), Scheme::Dir);
        assert!(open_replica("memory:t", &OpenOptions::default()).is_ok());
        let err = open_replica("nope://u:secret@h/x", &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nope") && !err.contains("secret"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/d.db?table=docs", dir.path().display());
        assert!(open_replica(&url, &OpenOptions::default()).is_ok());
        let err = open_replica("postgres://u:pw-x@127.0.0.1:1/d", &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("u:***@") && !err.contains("pw-x"), "{err}");
    }
}
