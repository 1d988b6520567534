//! The one comparison of a database with the repository's modules, made by
//! `driftsync schema check|diff|update|report` and by `type: schema`
//! targets alike, and the one rule for which findings are drift.

use std::collections::BTreeSet;
use std::path::Path;

use driftsync_core::redact::RedactedUrl;
use driftsync_core::report::{Finding, Severity};
use driftsync_core::schema::{Change, DbSchema};

use crate::pyread::{read_dir, read_dir_repairing, RepoSchema};
use crate::workflow::{compare, findings};
use crate::{introspect, Dialect, Options, SchemaError, SchemaFilter};

/// Both sides read, and their differences.
pub struct Comparison {
    /// The database URL (password hidden when shown).
    pub url: RedactedUrl,
    /// Its dialect.
    pub dialect: Dialect,
    /// The database's model.
    pub db: DbSchema,
    /// The repository's modules.
    pub repo: RepoSchema,
    /// Naming and typing options.
    pub options: Options,
    /// The differences.
    pub changes: Vec<Change>,
    /// The differences as findings placed in the repository.
    pub findings: Vec<Finding>,
    /// Generated modules that did not read and will be regenerated (`repair` only).
    pub repairs: Vec<String>,
}

/// What to compare: the database and the directory of modules.
pub struct Sides<'a> {
    /// The database URL.
    pub url: RedactedUrl,
    /// Its dialect (from [`crate::dialect_of`]; the caller says what an
    /// unsupported URL means).
    pub dialect: Dialect,
    /// Which schemas of the database.
    pub filter: &'a SchemaFilter,
    /// The directory of the generated modules.
    pub dir: &'a Path,
    /// How findings name that directory (relative to the repository root).
    pub shown: &'a str,
    /// Naming and typing options.
    pub options: Options,
}

impl Sides<'_> {
    /// Introspect the database, read the modules, compare. With `repair`,
    /// generated modules that no longer read are skipped with a note (for
    /// an update, which rewrites them).
    pub fn compare(self, repair: bool) -> Result<Comparison, SchemaError> {
        let db = introspect(&self.url, self.filter)?;
        let (mut repo, repairs) = if repair {
            read_dir_repairing(self.dir, self.shown)?
        } else {
            (read_dir(self.dir, self.shown)?, Vec::new())
        };
        // A hand-written tree: match its classes to the database's objects.
        crate::adopt::resolve(&mut repo, &db, &self.options);
        let changes = compare(&db, &repo, &self.options, self.dialect);
        let findings = findings(&changes, &repo);
        Ok(Comparison {
            url: self.url,
            dialect: self.dialect,
            db,
            repo,
            options: self.options,
            changes,
            findings,
            repairs,
        })
    }
}

/// The findings that are drift: those at or above `fail_on`.
pub fn failing(findings: &[Finding], fail_on: Severity) -> Vec<&Finding> {
    findings.iter().filter(|f| f.severity >= fail_on).collect()
}

/// The files the `failing` findings are in, sorted, each once.
pub fn drifted_files(failing: &[&Finding]) -> Vec<String> {
    failing
        .iter()
        .filter_map(|f| f.file.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, file: Option<&str>) -> Finding {
        Finding {
            code: "x".into(),
            severity,
            message: String::new(),
            file: file.map(String::from),
            line: None,
            column: None,
        }
    }

    #[test]
    fn findings_at_or_above_fail_on_are_drift_and_name_their_files_once() {
        let found = [
            finding(Severity::Low, Some("schemas/a.py")),
            finding(Severity::High, Some("schemas/b.py")),
            finding(Severity::Medium, Some("schemas/b.py")),
            finding(Severity::Critical, None),
            finding(Severity::Medium, Some("schemas/a.py")),
        ];
        let failing = failing(&found, Severity::Medium);
        assert_eq!(failing.len(), 4);
        assert_eq!(drifted_files(&failing), ["schemas/a.py", "schemas/b.py"]);
        assert!(super::failing(&found, Severity::Critical)
            .iter()
            .all(|f| f.file.is_none()));
    }
}
