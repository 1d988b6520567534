//! Lint a directory of SQL migrations: file names (the directory's
//! convention, duplicate versions, files added out of order), syntax (every
//! file parsed by PostgreSQL's own parser, libpg_query through the
//! `pg_query` crate) and risky statements (drops, renames, NOT NULL without
//! a default, type changes, blocking index builds, constraints validated
//! under lock).
//!
//! The crate reads files and returns findings; it never prints or exits.
//! `driftsync schema lint-migrations DIR` renders them (docs/schema.md,
//! "Linting migrations").

pub mod naming;
pub mod position;
pub mod rules;
mod syntax;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use driftsync_core::report::Severity;
use serde::Serialize;

use naming::{Convention, Name, Version};
use position::LineIndex;

/// What a finding is about: a stable kebab-case code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A file PostgreSQL's parser rejects.
    SyntaxError,
    /// A file name that does not follow the directory's convention.
    MigrationName,
    /// Two files with the same version.
    DuplicateVersion,
    /// A file added (since `--since`) with a version older than one already there.
    OutOfOrder,
    /// `DROP TABLE`.
    DropTable,
    /// `ALTER TABLE … DROP COLUMN`.
    DropColumn,
    /// `ADD COLUMN … NOT NULL` without a default, on an existing table.
    AddRequiredColumn,
    /// `ALTER COLUMN … TYPE`.
    ChangeColumnType,
    /// `CREATE INDEX` without `CONCURRENTLY` on an existing table.
    NonConcurrentIndex,
    /// `DROP INDEX` without `CONCURRENTLY`.
    NonConcurrentDropIndex,
    /// `ALTER TABLE … RENAME TO`.
    RenameTable,
    /// `ALTER TABLE … RENAME COLUMN`.
    RenameColumn,
    /// `ALTER COLUMN … SET NOT NULL` on an existing table.
    SetNotNull,
    /// A CHECK or FOREIGN KEY constraint added to an existing table without `NOT VALID`.
    ConstraintWithoutNotValid,
    /// `CREATE`/`DROP INDEX CONCURRENTLY` inside `BEGIN … COMMIT`.
    ConcurrentlyInTransaction,
}

impl Code {
    /// Every code, in the order of the documentation.
    pub const ALL: [Code; 15] = [
        Code::SyntaxError,
        Code::MigrationName,
        Code::DuplicateVersion,
        Code::OutOfOrder,
        Code::DropTable,
        Code::DropColumn,
        Code::AddRequiredColumn,
        Code::ChangeColumnType,
        Code::NonConcurrentIndex,
        Code::RenameTable,
        Code::RenameColumn,
        Code::NonConcurrentDropIndex,
        Code::SetNotNull,
        Code::ConstraintWithoutNotValid,
        Code::ConcurrentlyInTransaction,
    ];

    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::SyntaxError => "syntax-error",
            Code::MigrationName => "migration-name",
            Code::DuplicateVersion => "duplicate-version",
            Code::OutOfOrder => "out-of-order",
            Code::DropTable => "drop-table",
            Code::DropColumn => "drop-column",
            Code::AddRequiredColumn => "add-required-column",
            Code::ChangeColumnType => "change-column-type",
            Code::NonConcurrentIndex => "non-concurrent-index",
            Code::NonConcurrentDropIndex => "non-concurrent-drop-index",
            Code::RenameTable => "rename-table",
            Code::RenameColumn => "rename-column",
            Code::SetNotNull => "set-not-null",
            Code::ConstraintWithoutNotValid => "constraint-without-not-valid",
            Code::ConcurrentlyInTransaction => "concurrently-in-transaction",
        }
    }

    /// How serious it is: critical when the migration cannot run or data is
    /// deleted; high when it fails on existing rows, rewrites or blocks a
    /// table for as long as it runs, or breaks deployed clients; medium
    /// when it holds a lock for a scan that a two-step migration avoids.
    pub fn severity(self) -> Severity {
        match self {
            Code::SyntaxError
            | Code::ConcurrentlyInTransaction
            | Code::DropTable
            | Code::DropColumn => Severity::Critical,
            Code::MigrationName
            | Code::DuplicateVersion
            | Code::OutOfOrder
            | Code::AddRequiredColumn
            | Code::ChangeColumnType
            | Code::NonConcurrentIndex
            | Code::RenameTable
            | Code::RenameColumn => Severity::High,
            Code::NonConcurrentDropIndex | Code::SetNotNull | Code::ConstraintWithoutNotValid => {
                Severity::Medium
            }
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, placed in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, as the directory was named plus the file name.
    pub file: String,
    /// 1-based line; absent for findings about the file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column (characters); absent with `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// How serious it is.
    pub severity: Severity,
    /// What it is.
    pub code: Code,
    /// One line for people, naming the fix.
    pub message: String,
}

/// The result of linting a directory (`--json` prints it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// The directory, as given.
    pub directory: String,
    /// The naming convention most files follow (`timestamp`, `flyway`,
    /// `numbered`), or null when there is no migration.
    pub convention: Option<Convention>,
    /// `.sql` files read.
    pub migrations: usize,
    /// Statements parsed.
    pub statements: usize,
    /// Findings silenced by a `-- driftsync: allow CODE` comment before
    /// their statement.
    pub allowed: usize,
    /// Every finding, in migration order, then by line.
    pub findings: Vec<Finding>,
}

impl Lint {
    /// The findings at or above `severity`.
    pub fn at_or_above(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }
}

/// What the lint can be asked beyond the directory.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The migration file names that were already there before this change
    /// (`--since REF`): a new file with a version older than the newest of
    /// them is `out-of-order`, and only new files are checked for risky
    /// statements (the others were applied already; their names and syntax
    /// are still checked).
    pub previous: Option<BTreeSet<String>>,
}

/// Why a directory could not be linted.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// No such directory.
    #[error("migrations directory {0} does not exist or is not a directory")]
    NotADirectory(PathBuf),
    /// Listing or reading failed.
    #[error("reading {path}: {source}")]
    Read {
        /// What.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Lint every `*.sql` file directly inside `dir` (not recursive; other
/// files and hidden ones are ignored). `shown` names the directory in
/// findings (joined with each file name by `/`).
pub fn lint_dir(dir: &Path, shown: &str, options: &Options) -> Result<Lint, LintError> {
    if !dir.is_dir() {
        return Err(LintError::NotADirectory(dir.to_path_buf()));
    }
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LintError::Read { path, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
        let entry = entry.map_err(read_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".sql") || !entry.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(read_err(&entry.path()))?;
        files.push((name, bytes));
    }
    Ok(lint_files(shown, files, options))
}

/// Lint files given as (name, contents): the pure heart of [`lint_dir`].
pub fn lint_files(shown: &str, files: Vec<(String, Vec<u8>)>, options: &Options) -> Lint {
    let prefix = shown.trim_end_matches('/');
    let path = |name: &str| {
        if prefix.is_empty() || prefix == "." {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    let names: Vec<Name> = files.iter().map(|(n, _)| naming::classify(n)).collect();
    let convention = naming::detect(&names);

    // Migration order: by version within the convention, others by name after.
    let mut order: Vec<usize> = (0..files.len()).collect();
    let version_of = |i: usize| match (&names[i], convention) {
        (
            Name::Follows {
                convention: c,
                version,
            },
            Some(d),
        ) if *c == d => version.clone(),
        _ => None,
    };
    order.sort_by(|&a, &b| {
        let (va, vb) = (version_of(a), version_of(b));
        (va.is_none(), va, &files[a].0).cmp(&(vb.is_none(), vb, &files[b].0))
    });

    let mut findings = Vec::new();
    let mut statements = 0;
    let mut allowed = 0;
    let mut seen: BTreeMap<Version, &str> = BTreeMap::new();
    let newest_before = options.previous.as_ref().and_then(|prev| {
        order
            .iter()
            .filter(|&&i| prev.contains(&files[i].0))
            .filter_map(|&i| version_of(i).map(|v| (v, files[i].0.as_str())))
            .max()
    });
    for &i in &order {
        let (name, bytes) = (&files[i].0, &files[i].1);
        let file = path(name);
        let mut name_finding = |code: Code, message: String| {
            findings.push(Finding {
                file: file.clone(),
                line: None,
                column: None,
                severity: code.severity(),
                code,
                message,
            })
        };
        match (&names[i], convention) {
            (Name::Follows { convention: c, .. }, Some(d)) if *c == d => {}
            (Name::BadTimestamp { prefix }, _) => name_finding(
                Code::MigrationName,
                format!(
                    "{prefix} is not a date and time YYYYMMDDHHMMSS: rename the file with the time it was written (supabase migration new NAME does)"
                ),
            ),
            (_, Some(d)) => name_finding(
                Code::MigrationName,
                format!(
                    "{name} does not follow the directory's {} convention {}, so tools expecting it skip or refuse the file: rename it{}",
                    d.as_str(),
                    d.pattern(),
                    match d {
                        Convention::Timestamp => " (supabase migration new NAME gives such a name)",
                        _ => "",
                    }
                ),
            ),
            (_, None) => {}
        }
        if let Some(v) = version_of(i) {
            if let Some(first) = seen.get(&v) {
                name_finding(
                    Code::DuplicateVersion,
                    format!(
                        "version {} is also the version of {first}: only one of them is applied; give this one a new, later version",
                        v.text
                    ),
                );
            } else {
                seen.insert(v.clone(), name);
            }
            if let (Some(prev), Some((newest, newest_name))) = (&options.previous, &newest_before) {
                if !prev.contains(name) && v < *newest {
                    name_finding(
                        Code::OutOfOrder,
                        format!(
                            "{name} is new but older than {newest_name}, which was already there: databases that applied it skip or refuse this one; rename it with a version after {}",
                            newest.text
                        ),
                    );
                }
            }
        }
        let risky = options.previous.as_ref().is_none_or(|p| !p.contains(name));
        let f = lint_file(&file, bytes, risky);
        statements += f.statements;
        allowed += f.allowed;
        findings.extend(f.findings);
    }
    Lint {
        directory: shown.to_string(),
        convention,
        migrations: files.len(),
        statements,
        allowed,
        findings,
    }
}

/// What one file gave: statements parsed, findings, and findings a
/// `driftsync: allow CODE` comment silenced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileLint {
    /// Statements parsed.
    pub statements: usize,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Findings silenced by an allow comment.
    pub allowed: usize,
}

/// The codes a `-- driftsync: allow CODE[, CODE…]` comment (or `/* … */`)
/// in `comments` (the text between the previous statement and this one)
/// silences.
fn allowed_codes(comments: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = comments;
    while let Some(i) = rest.find("driftsync: allow") {
        rest = &rest[i + "driftsync: allow".len()..];
        let end = rest.find(['\n', '*']).unwrap_or(rest.len());
        out.extend(
            rest[..end]
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-')),
        );
    }
    out
}

/// Parse one file and check its statements: (statements, findings).
pub fn lint_sql(file: &str, bytes: &[u8]) -> (usize, Vec<Finding>) {
    let f = lint_file(file, bytes, true);
    (f.statements, f.findings)
}

/// [`lint_sql`] with the allowed count; `risky: false` checks the syntax
/// only (for files `--since` says were already there).
pub fn lint_file(file: &str, bytes: &[u8], risky: bool) -> FileLint {
    let done = |statements, findings| FileLint {
        statements,
        findings,
        allowed: 0,
    };
    let place = |code: Code, (line, column): (u32, u32), message: String| Finding {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        severity: code.severity(),
        code,
        message,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // Safe: valid up to here by construction.
            let ix_text = std::str::from_utf8(good).unwrap_or_default();
            let pos = LineIndex::new(ix_text).at_byte(ix_text.len());
            return done(
                0,
                vec![place(
                    Code::SyntaxError,
                    pos,
                    "the file is not UTF-8 text: save it as UTF-8".into(),
                )],
            );
        }
    };
    let ix = LineIndex::new(text);
    if let Some(nul) = text.find('\0') {
        return done(
            0,
            vec![place(
                Code::SyntaxError,
                ix.at_byte(nul),
                "the file holds a NUL byte, which PostgreSQL never accepts: remove it".into(),
            )],
        );
    }
    let parsed = match pg_query::parse(text, pg_query::ParserOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            let (message, cursor) = syntax::error_at(text).unwrap_or_else(|| (e.to_string(), 0));
            let byte = if cursor > 0 {
                ix.byte_of_char(cursor)
            } else {
                0
            };
            return done(
                0,
                vec![place(
                    Code::SyntaxError,
                    ix.at_byte(byte),
                    format!("PostgreSQL's parser: {message}"),
                )],
            );
        }
    };
    let mut created = rules::Created::default();
    let mut out = done(parsed.protobuf.stmts.len(), Vec::new());
    // PostgreSQL's scanner, run once when an ALTER TABLE needs it: the
    // parser records no position for an ALTER TABLE's commands.
    let mut tokens: Option<Vec<pg_query::protobuf::ScanToken>> = None;
    // Where the text before the next statement begins: after the previous
    // statement and the rest of its last line (a comment there is its own).
    let mut prev_end = 0;
    for raw in &parsed.protobuf.stmts {
        let from = usize::try_from(raw.stmt_location).unwrap_or(0);
        let start = ix.skip_blank(from);
        let before = &text[prev_end.min(start)..start];
        let before = match before.find('\n') {
            Some(nl) if prev_end > 0 => &before[nl..],
            _ => before,
        };
        let allowed = allowed_codes(before);
        prev_end = from + usize::try_from(raw.stmt_len).unwrap_or(0);
        let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
            continue;
        };
        let end = match usize::try_from(raw.stmt_len).unwrap_or(0) {
            0 => text.len(),
            n => from + n,
        };
        let cmd_starts = match node {
            pg_query::NodeEnum::AlterTableStmt(a) if risky => {
                let tokens = tokens.get_or_insert_with(|| {
                    pg_query::scan(text).map(|r| r.tokens).unwrap_or_default()
                });
                let name_at = a.relation.as_ref().map_or(-1, |r| r.location);
                position::command_starts(tokens, name_at, end)
            }
            _ => Vec::new(),
        };
        for hit in rules::check(node, &mut created, &cmd_starts) {
            if !risky {
                continue;
            }
            if allowed.contains(&hit.code.as_str()) {
                out.allowed += 1;
                continue;
            }
            let pos = ix.at_byte(hit.at.unwrap_or(start));
            out.findings.push(place(hit.code, pos, hit.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(sql: &str) -> Vec<(Code, u32, u32)> {
        lint_sql("m.sql", sql.as_bytes())
            .1
            .into_iter()
            .map(|f| (f.code, f.line.unwrap(), f.column.unwrap()))
            .collect()
    }

    #[test]
    fn a_syntax_error_is_placed_where_postgres_points_counting_characters() {
        let sql =
            "-- café ☕\ncreate table \"café\" (id int);\nalter table \"café\" add colum x int;\n";
        let (n, f) = lint_sql("m.sql", sql.as_bytes());
        assert_eq!(n, 0);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].code, f[0].line, f[0].column),
            (Code::SyntaxError, Some(3), Some(32))
        );
        assert!(
            f[0].message.contains("syntax error at or near \"int\""),
            "{}",
            f[0].message
        );
        let end = codes("select 1;\nselect (");
        assert_eq!(end, vec![(Code::SyntaxError, 2, 9)]);
    }

    #[test]
    fn risky_statements_are_found_at_their_clause_or_start() {
        let sql = "\n-- c\nalter table a\n  add column b int not null;\nalter table a add column c int not null default 0;\n\
                   drop table a, b;\ncreate index on a (x);\ncreate index concurrently on a (y);\n\
                   alter table a alter column b type bigint, alter column c set not null, drop column d;\n\
                   alter table a rename to z;\nalter table a rename column b to c;\n\
                   alter table a add constraint k check (b > 0), add constraint f foreign key (b) references c (id) not valid;\n\
                   drop index concurrently i;\ndrop index i;\n\
                   begin;\ncreate index concurrently on a (z);\ndrop index concurrently j;\ncommit;\ncreate index concurrently on a (z);\n";
        assert_eq!(
            codes(sql),
            vec![
                (Code::AddRequiredColumn, 4, 3),
                (Code::DropTable, 6, 1),
                (Code::NonConcurrentIndex, 7, 1),
                (Code::ChangeColumnType, 9, 15),
                (Code::SetNotNull, 9, 43),
                (Code::DropColumn, 9, 72),
                (Code::RenameTable, 10, 1),
                (Code::RenameColumn, 11, 1),
                (Code::ConstraintWithoutNotValid, 12, 15),
                (Code::NonConcurrentDropIndex, 14, 1),
                (Code::ConcurrentlyInTransaction, 16, 1),
                (Code::ConcurrentlyInTransaction, 17, 1),
            ]
        );
    }

    #[test]
    fn a_table_created_in_the_same_file_is_new_and_empty() {
        let sql = "create table s.t (id int);\ncreate index on s.t (id);\nalter table s.t add column x int not null, alter column id type bigint, alter column id set not null, add constraint c check (id > 0);\n\
                   create index on t (id);\nalter table s.t drop column x;\n";
        assert_eq!(
            codes(sql),
            vec![(Code::NonConcurrentIndex, 4, 1), (Code::DropColumn, 5, 17)]
        );
    }

    #[test]
    fn an_allow_comment_silences_the_codes_it_names_for_its_statement_only() {
        let sql = "create table t (id int);\n-- driftsync: allow drop-table, rename-table (archived in #42)\ndrop table t;\n\
                   /* driftsync: allow drop-column */\nalter table u rename to v;\ndrop table w;\n";
        let f = lint_file("m.sql", sql.as_bytes(), true);
        let got: Vec<(Code, u32)> = f
            .findings
            .iter()
            .map(|f| (f.code, f.line.unwrap()))
            .collect();
        assert_eq!(got, vec![(Code::RenameTable, 5), (Code::DropTable, 6)]);
        assert_eq!(f.allowed, 1);
        assert_eq!(
            allowed_codes("-- driftsync: allow a-b c\n-- x"),
            vec!["a-b", "c"]
        );
        let quiet = lint_file("m.sql", sql.as_bytes(), false);
        assert!(quiet.findings.is_empty());
        assert_eq!(quiet.statements, 4);
    }

    fn files(names: &[&str]) -> Vec<(String, Vec<u8>)> {
        names
            .iter()
            .map(|n| (n.to_string(), b"select 1;".to_vec()))
            .collect()
    }

    #[test]
    fn names_duplicates_and_out_of_order_files() {
        let set = files(&[
            "20240102000000_b.sql",
            "20240101000000_a.sql",
            "20240102000000_dup.sql",
            "0001_other.sql",
            "20241301000000_month.sql",
            "notes.sql",
        ]);
        let lint = lint_files("db/migrations/", set, &Options::default());
        assert_eq!(lint.convention, Some(Convention::Timestamp));
        assert_eq!(lint.statements, 6);
        let got: Vec<(&str, Code)> = lint
            .findings
            .iter()
            .map(|f| (f.file.as_str(), f.code))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "db/migrations/20240102000000_dup.sql",
                    Code::DuplicateVersion
                ),
                ("db/migrations/0001_other.sql", Code::MigrationName),
                (
                    "db/migrations/20241301000000_month.sql",
                    Code::MigrationName
                ),
                ("db/migrations/notes.sql", Code::MigrationName),
            ]
        );
        let previous = ["V1__a.sql", "V3__c.sql"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let lint = lint_files(
            ".",
            files(&[
                "V1__a.sql",
                "V3__c.sql",
                "V2__late.sql",
                "V4__d.sql",
                "R__views.sql",
            ]),
            &Options {
                previous: Some(previous),
            },
        );
        let got: Vec<(&str, Code)> = lint
            .findings
            .iter()
            .map(|f| (f.file.as_str(), f.code))
            .collect();
        assert_eq!(got, vec![("V2__late.sql", Code::OutOfOrder)]);
        assert!(lint.findings[0].message.contains("older than V3__c.sql"));
        let previous = ["V1__a.sql".to_string()].into_iter().collect();
        let set = vec![
            ("V1__a.sql".to_string(), b"drop table a;".to_vec()),
            ("V2__b.sql".to_string(), b"drop table b;".to_vec()),
        ];
        let lint = lint_files(
            ".",
            set,
            &Options {
                previous: Some(previous),
            },
        );
        let got: Vec<(&str, Code)> = lint
            .findings
            .iter()
            .map(|f| (f.file.as_str(), f.code))
            .collect();
        assert_eq!(
            got,
            vec![("V2__b.sql", Code::DropTable)],
            "files already there are not re-judged"
        );
    }

    #[test]
    fn every_code_has_a_distinct_name_and_a_severity() {
        let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for c in Code::ALL {
            assert_eq!(serde_json_name(c), c.as_str());
        }
    }

    fn serde_json_name(c: Code) -> String {
        let v = serde_json::to_value(c).unwrap();
        v.as_str().unwrap().to_string()
    }
}
