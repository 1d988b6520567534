//! Bundle versions in a database: immutable rows, one transaction per import.

use driftsync_core::{Hash, RelPath};
use driftsync_replica_db::{Db, DbErrorKind, DbUrl, Dialect, Value};

use crate::local::{tree_hash, Files};
use crate::manifest::Semver;
use crate::BundleError;

/// One stored version's metadata.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VersionInfo {
    /// Bundle name.
    pub name: String,
    /// Its version.
    #[serde(serialize_with = "display")]
    pub version: Semver,
    /// The spec version its files follow.
    pub spec_version: String,
    /// Its description.
    pub description: String,
    /// Tree hash of its files.
    pub tree_hash: Hash,
    /// How many files (including bundle.yaml).
    pub file_count: u64,
    /// When it was stored (RFC 3339, UTC).
    pub created_at: String,
    /// Who stored it.
    pub created_by: String,
}

fn display<S: serde::Serializer>(v: &Semver, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A new version to store.
pub struct NewVersion<'a> {
    /// Bundle name.
    pub name: &'a str,
    /// The version; refused if it exists.
    pub version: Semver,
    /// Spec version.
    pub spec_version: &'a str,
    /// Description.
    pub description: &'a str,
    /// Every file (bundle.yaml included).
    pub files: &'a Files,
    /// Who stores it.
    pub created_by: &'a str,
}

/// The bundle tables in one database.
pub struct BundleStore {
    db: Db,
    /// Test hook: called inside the import transaction after the files are
    /// inserted and before the commit, with the session id.
    pub pause_before_commit: Option<Box<dyn FnMut(i64) + Send>>,
}

fn migrations(dialect: Dialect) -> Vec<String> {
    let (id, bytes) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "BLOB"),
        Dialect::Postgres => ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BYTEA"),
    };
    vec![format!(
        "CREATE TABLE driftsync_bundle_versions (\
           id {id},\
           name TEXT NOT NULL,\
           version TEXT NOT NULL,\
           major BIGINT NOT NULL, minor BIGINT NOT NULL, patch BIGINT NOT NULL,\
           spec_version TEXT NOT NULL,\
           description TEXT NOT NULL,\
           tree_hash TEXT NOT NULL,\
           file_count BIGINT NOT NULL,\
           created_at TEXT NOT NULL,\
           created_by TEXT NOT NULL,\
           CONSTRAINT driftsync_bundle_versions_unique UNIQUE (name, version));\
         CREATE TABLE driftsync_bundle_files (\
           version_id BIGINT NOT NULL REFERENCES driftsync_bundle_versions (id) ON DELETE CASCADE,\
           path TEXT NOT NULL,\
           content {bytes} NOT NULL,\
           sha256 TEXT NOT NULL,\
           size BIGINT NOT NULL,\
           PRIMARY KEY (version_id, path));"
    )]
}

const COLUMNS: &str =
    "name, version, spec_version, description, tree_hash, file_count, created_at, created_by";

fn version_info(row: &[Value]) -> Result<VersionInfo, BundleError> {
    let corrupt = |what: String| BundleError::Corrupt(what);
    Ok(VersionInfo {
        name: row[0].text().into(),
        version: row[1]
            .text()
            .parse()
            .map_err(|e| corrupt(format!("stored version: {e}")))?,
        spec_version: row[2].text().into(),
        description: row[3].text().into(),
        tree_hash: row[4]
            .text()
            .parse()
            .map_err(|e| corrupt(format!("stored tree hash: {e}")))?,
        file_count: row[5].int() as u64,
        created_at: row[6].text().into(),
        created_by: row[7].text().into(),
    })
}

impl BundleStore {
    /// Connect and create the bundle tables on first use.
    pub fn open(url: &DbUrl) -> Result<BundleStore, BundleError> {
        let mut db = Db::connect(url)?;
        let steps = migrations(db.dialect());
        db.migrate("bundles", &steps)?;
        Ok(BundleStore {
            db,
            pause_before_commit: None,
        })
    }

    /// Open for a look that changes nothing (`run --dry-run`, `check`): no
    /// SQLite file, folder or table is created and no migration runs; a
    /// database without the bundle tables reads as holding no bundles.
    pub fn open_read_only(url: &DbUrl) -> Result<BundleStore, BundleError> {
        let (mut db, scratch) = Db::connect_existing(
            url,
            &["driftsync_bundle_versions", "driftsync_bundle_files"],
        )?;
        if scratch {
            // Empty tables in memory, gone with the connection.
            let steps = migrations(db.dialect());
            db.migrate("bundles", &steps)?;
        }
        Ok(BundleStore {
            db,
            pause_before_commit: None,
        })
    }

    /// The database URL, password hidden.
    pub fn location(&self) -> String {
        self.db.location().redacted()
    }

    /// Every bundle name with at least one version, sorted.
    pub fn names(&mut self) -> Result<Vec<String>, BundleError> {
        Ok(self
            .db
            .query(
                "SELECT DISTINCT name FROM driftsync_bundle_versions ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| r[0].text().to_string())
            .collect())
    }

    /// Every version of `name`, oldest first.
    pub fn versions(&mut self, name: &str) -> Result<Vec<VersionInfo>, BundleError> {
        self.db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM driftsync_bundle_versions WHERE name = $1 \
                     ORDER BY major, minor, patch"
                ),
                &[Value::Text(name.into())],
            )?
            .iter()
            .map(|r| version_info(r))
            .collect()
    }

    /// The files of one version, verified against the stored hashes.
    pub fn files(&mut self, name: &str, version: Semver) -> Result<Files, BundleError> {
        let rows = self.db.query(
            "SELECT f.path, f.content, f.sha256, v.tree_hash FROM driftsync_bundle_files f \
             JOIN driftsync_bundle_versions v ON v.id = f.version_id \
             WHERE v.name = $1 AND v.version = $2",
            &[Value::Text(name.into()), Value::Text(version.to_string())],
        )?;
        let mut files = Files::new();
        let mut want_tree = None;
        for row in rows {
            let mut row = row.into_iter();
            let path = row.next().unwrap_or(Value::Null);
            let content = row.next().unwrap_or(Value::Null).into_bytes();
            let sha = row.next().unwrap_or(Value::Null);
            want_tree = Some(row.next().unwrap_or(Value::Null).text().to_string());
            let path = RelPath::new(path.text()).map_err(|e| {
                BundleError::Corrupt(format!(
                    "{name} {version}: stored path {:?} refused: {e}",
                    path.text()
                ))
            })?;
            if Hash::of(&content).to_hex() != sha.text() {
                return Err(BundleError::Corrupt(format!(
                    "{name} {version}: {path}: content does not match its stored sha256"
                )));
            }
            files.insert(path, content);
        }
        match want_tree {
            None => Err(BundleError::NoSuchVersion {
                name: name.into(),
                version: version.to_string(),
            }),
            Some(t) if t != tree_hash(&files).to_hex() => Err(BundleError::Corrupt(format!(
                "{name} {version}: files do not match the stored tree hash"
            ))),
            Some(_) => Ok(files),
        }
    }

    /// Store a new version in one transaction. An existing `(name, version)`
    /// is refused ([`BundleError::VersionExists`]) and nothing is written.
    pub fn insert(&mut self, v: &NewVersion<'_>) -> Result<VersionInfo, BundleError> {
        let info = VersionInfo {
            name: v.name.into(),
            version: v.version,
            spec_version: v.spec_version.into(),
            description: v.description.into(),
            tree_hash: tree_hash(v.files),
            file_count: v.files.len() as u64,
            created_at: driftsync_core::time::rfc3339(crate::now_secs()),
            created_by: v.created_by.into(),
        };
        self.db.begin()?;
        match self.insert_in_tx(&info, v.files) {
            Ok(()) => {}
            Err(e) => {
                self.db.rollback();
                return Err(match e {
                    BundleError::Db(d) if d.kind == DbErrorKind::UniqueViolation => {
                        BundleError::VersionExists {
                            name: v.name.into(),
                            version: v.version.to_string(),
                        }
                    }
                    other => other,
                });
            }
        }
        if let Some(hook) = self.pause_before_commit.as_mut() {
            let id = self.db.session_id().unwrap_or(0);
            hook(id);
        }
        if let Err(e) = self.db.commit() {
            self.db.rollback();
            return Err(e.into());
        }
        Ok(info)
    }

    fn insert_in_tx(&mut self, info: &VersionInfo, files: &Files) -> Result<(), BundleError> {
        let rows = self.db.query(
            "INSERT INTO driftsync_bundle_versions \
             (name, version, major, minor, patch, spec_version, description, tree_hash, file_count, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                Value::Text(info.name.clone()),
                Value::Text(info.version.to_string()),
                Value::Int(info.version.major as i64),
                Value::Int(info.version.minor as i64),
                Value::Int(info.version.patch as i64),
                Value::Text(info.spec_version.clone()),
                Value::Text(info.description.clone()),
                Value::Text(info.tree_hash.to_hex()),
                Value::Int(info.file_count as i64),
                Value::Text(info.created_at.clone()),
                Value::Text(info.created_by.clone()),
            ],
        )?;
        let id = rows.first().map_or(0, |r| r[0].int());
        for (path, bytes) in files {
            self.db.execute(
                "INSERT INTO driftsync_bundle_files (version_id, path, content, sha256, size) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    Value::Int(id),
                    Value::Text(path.as_str().into()),
                    Value::Bytes(bytes.clone()),
                    Value::Text(Hash::of(bytes).to_hex()),
                    Value::Int(bytes.len() as i64),
                ],
            )?;
        }
        Ok(())
    }
}
