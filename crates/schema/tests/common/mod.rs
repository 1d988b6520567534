//! Shared helpers for the schema tests: a PostgreSQL cluster, generating the
//! Python modules, and running Python's own tools over them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use driftsync_core::redact::RedactedUrl;
use driftsync_core::schema::{Change, DbSchema};
use driftsync_schema::pyread::{read_dir, RepoSchema};
use driftsync_schema::workflow::{apply_update, compare, findings, plan_update};
use driftsync_schema::{introspect, Dialect, Options, SchemaFilter};
use driftsync_testkit::PgCluster;

/// One cluster for a test binary; a fresh database per load.
pub struct Harness {
    pub cluster: PgCluster,
}

impl Harness {
    pub fn start() -> Harness {
        Harness {
            cluster: PgCluster::start(),
        }
    }

    /// Create database `name`, run `file` in it, introspect it.
    pub fn load(&self, name: &str, file: &Path, filter: &SchemaFilter) -> DbSchema {
        let url = self.cluster.create_database(name);
        self.cluster.psql_file(name, file);
        introspect(&RedactedUrl::new(url), filter).expect("introspect")
    }

    /// Create database `name` from SQL text, introspect it.
    pub fn load_sql(&self, name: &str, sql: &str) -> DbSchema {
        let url = self.cluster.create_database(name);
        self.cluster.psql(name, sql);
        introspect(&RedactedUrl::new(url), &SchemaFilter::default()).expect("introspect")
    }
}

/// A directory of generated modules and what reading it back gives.
pub struct Generated {
    pub dir: PathBuf,
    pub repo: RepoSchema,
    pub dialect: Dialect,
}

impl Generated {
    /// `update` into `dir` from `db`, then check the update is a fixed point:
    /// reading back gives no differences and a second update changes no byte.
    pub fn update(dir: &Path, db: &DbSchema) -> Generated {
        Generated::update_with(dir, db, Dialect::Postgres, &Options::default())
    }

    pub fn update_with(
        dir: &Path,
        db: &DbSchema,
        dialect: Dialect,
        options: &Options,
    ) -> Generated {
        let before = read_dir(dir, "schemas").expect("read before update");
        let plan = plan_update(
            dir,
            db,
            &before,
            options,
            dialect,
            "2026-01-01T00:00:00Z",
            false,
        )
        .expect("plan update");
        apply_update(dir, &plan).expect("apply update");
        let repo = read_dir(dir, "schemas")
            .unwrap_or_else(|e| panic!("generated modules do not read back: {e}"));
        let left = compare(db, &repo, options, dialect);
        assert!(
            left.is_empty(),
            "generated modules differ from the database they came from: {left:#?}"
        );
        let again = plan_update(
            dir,
            db,
            &repo,
            options,
            dialect,
            "2030-01-01T00:00:00Z",
            false,
        )
        .expect("plan second update");
        assert!(
            again.changed.is_empty(),
            "a second update would change {:?}",
            again.changed
        );
        Generated {
            dir: dir.to_path_buf(),
            repo,
            dialect,
        }
    }

    pub fn changes(&self, db: &DbSchema) -> Vec<Change> {
        compare(db, &self.repo, &Options::default(), self.dialect)
    }

    /// `severity code object` per finding, in report order; every finding is
    /// placed in a repository file, and on a line when its object is in it.
    pub fn finding_lines(&self, db: &DbSchema) -> Vec<String> {
        let changes = self.changes(db);
        let found = findings(&changes, &self.repo);
        changes
            .iter()
            .zip(found)
            .map(|(c, f)| {
                let file = f.file.as_deref().expect("every finding names a file");
                assert!(file.starts_with("schemas/"), "{file}");
                let in_repo = self.repo.locations.lines.contains_key(&c.subject.key());
                if in_repo {
                    assert!(f.line.is_some(), "finding without a line: {f:?}");
                }
                format!("{} {} {}", f.severity.as_str(), f.code, c.subject.object())
            })
            .collect()
    }
}

/// Python compiles every generated package, `mypy --strict` accepts them, and
/// black would not change a byte.
pub fn python_checks(packages: &[PathBuf]) {
    driftsync_testkit::python::strict(packages);
}
