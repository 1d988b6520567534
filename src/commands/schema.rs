//! `driftsync schema check|diff|update|report`: a live database against the
//! typed Python modules in the repository (and `lint-migrations`, in
//! `lint_migrations.rs`: the migration files alone).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use driftsync_core::redact::RedactedUrl;
use driftsync_core::report::{Finding, Severity};
use driftsync_core::schema::{Change, DbSchema};
pub use driftsync_schema::comparison::Comparison;
use driftsync_schema::comparison::{failing, Sides};
use driftsync_schema::show::before_after;
use driftsync_schema::version::rfc3339_utc;
use driftsync_schema::workflow::{apply_update, plan_update};
use driftsync_schema::{dialect_of, introspect, Dialect, Options, SchemaFilter};

use crate::cli::Global;
use crate::exit::Exit;

/// Schema drift between a live database and typed Python modules.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  DATABASE_URL=postgres://app@localhost/app driftsync schema check\n  driftsync schema diff --database sqlite://app.db\n  driftsync schema update --local schemas/"
)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub action: SchemaAction,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum SchemaAction {
    /// Exit 1 when the database drifted from the modules at or above --fail-on.
    #[command(
        after_help = "Examples:\n  driftsync schema check\n  driftsync schema check --fail-on high --ci\n  driftsync schema check --database sqlite://app.db --local schemas/"
    )]
    Check {
        #[command(flatten)]
        source: SourceArgs,
        /// Lowest severity that fails: info, low, medium, high, critical
        /// (default: the target's fail_on, else low).
        #[arg(long, value_parser = parse_severity)]
        fail_on: Option<Severity>,
    },
    /// Show every difference, with changed columns and view queries before → after (exit 1 when there is any).
    #[command(
        after_help = "Examples:\n  driftsync schema diff\n  driftsync schema diff --json > drift.json\n  driftsync schema diff --schema public --exclude-schema audit"
    )]
    Diff {
        #[command(flatten)]
        source: SourceArgs,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Regenerate the modules and schema_version.py from the database.
    #[command(
        after_help = "Examples:\n  driftsync schema update\n  driftsync schema update --class-name properties=Property --type-override citext=str\n  driftsync schema update --force"
    )]
    Update {
        #[command(flatten)]
        source: SourceArgs,
        /// Regenerate even when a module holds something driftsync cannot read
        /// (an enum member that is not a string) or was not written by
        /// driftsync (no generated header): it is replaced, not kept.
        #[arg(long)]
        force: bool,
    },
    /// List the database's tables (and views) or enums, with their class names.
    #[command(
        after_help = "Examples:\n  driftsync schema list tables\n  driftsync schema list enums --json\n  driftsync schema list tables --schema billing"
    )]
    List {
        /// What to list.
        what: ListWhat,
        #[command(flatten)]
        source: SourceArgs,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Counts, the largest tables, foreign-key depth, tables without a primary key or row-level security.
    #[command(
        after_help = "Examples:\n  driftsync schema analyze\n  driftsync schema analyze --json\n  driftsync schema analyze --schema app"
    )]
    Analyze {
        #[command(flatten)]
        source: SourceArgs,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write Markdown pages describing the database: an overview with metrics, one per table, enums, other objects.
    #[command(
        after_help = "Examples:\n  driftsync schema docs\n  driftsync schema docs --out docs/database\n  driftsync schema docs --schema app --out docs/app-schema"
    )]
    Docs {
        #[command(flatten)]
        source: SourceArgs,
        /// Directory to write the pages into (created; pages no longer describing
        /// anything are not removed). Default: the target's `docs:`, else schema-docs.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Markdown report: findings table and totals by severity.
    #[command(
        after_help = "Examples:\n  driftsync schema report\n  driftsync schema report --output schema-drift.md"
    )]
    Report {
        #[command(flatten)]
        source: SourceArgs,
        /// Write the report here instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Lint SQL migrations (no database): file names, syntax with PostgreSQL's parser, risky statements.
    LintMigrations(super::lint_migrations::LintMigrationsArgs),
}

/// What `schema list` lists.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ListWhat {
    /// Tables, views and materialised views (partitions are folded into their parent).
    Tables,
    /// Enums with their labels.
    Enums,
}

/// Where the two sides are, as given on the command line; a `type: schema`
/// target of sync.yaml supplies what is not (see `target_of::schema_source`).
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// The `type: schema` target of sync.yaml to use: its database, folder,
    /// schemas, class names, type overrides and fail_on (default: the only
    /// schema target, when there is exactly one). Flags override single settings.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Database URL: postgres://… or sqlite://PATH (default: the target's,
    /// else $DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Directory of the generated Python modules (default: the target's
    /// `local`, else schemas).
    #[arg(long, value_name = "DIR")]
    pub local: Option<PathBuf>,
    /// Only this schema (repeatable; default: the target's, else every non-system schema).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Never this schema (repeatable).
    #[arg(long = "exclude-schema", value_name = "NAME")]
    pub exclude_schemas: Vec<String>,
    /// Class name for a table or enum (`properties=Property`; repeatable).
    #[arg(long = "class-name", value_name = "NAME=CLASS", value_parser = parse_pair)]
    pub class_names: Vec<(String, String)>,
    /// Python type for a database type (`citext=str`, `jsonb=mylib.Json`; repeatable).
    #[arg(long = "type-override", value_name = "TYPE=PYTHON", value_parser = parse_pair)]
    pub type_overrides: Vec<(String, String)>,
    /// Classes per table, comma-separated: row (always), insert, update —
    /// Supabase-style `…Insert` / `…Update` TypedDicts (default: the target's `variants`, else row).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = ["row", "insert", "update"])]
    pub variants: Vec<String>,
    /// How row types are written: typeddict or pydantic (BaseModel rows;
    /// default: the target's `style`, else typeddict).
    #[arg(long, value_name = "STYLE", value_parser = ["typeddict", "pydantic"])]
    pub style: Option<String>,
}

/// Where the two sides are, settled.
#[derive(Debug, Clone)]
pub struct Source {
    /// The schema target used, if any.
    pub target: Option<String>,
    /// Database URL.
    pub database: Option<String>,
    /// Directory of the generated modules.
    pub local: PathBuf,
    /// How findings name that directory (relative to the repository root
    /// for a target's folder).
    pub shown: String,
    /// Lowest severity that fails `check` when no --fail-on is given.
    pub fail_on: Severity,
    /// Only these schemas.
    pub schemas: Vec<String>,
    /// Never these.
    pub exclude_schemas: Vec<String>,
    /// Class names.
    pub class_names: Vec<(String, String)>,
    /// Python types.
    pub type_overrides: Vec<(String, String)>,
    /// Write types beside the rows.
    pub variants: driftsync_schema::generate::Variants,
    /// How rows are written.
    pub style: driftsync_schema::generate::Style,
    /// The target's `docs:` folder (under the repository root).
    pub docs: Option<PathBuf>,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// Parse a severity name.
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
}

impl Source {
    fn options(&self) -> Options {
        Options {
            class_names: self.class_names.iter().cloned().collect(),
            type_overrides: self.type_overrides.iter().cloned().collect(),
            variants: self.variants,
            style: self.style,
            ..Options::default()
        }
    }

    /// How findings name the directory.
    fn rel_dir(&self) -> String {
        self.shown.clone()
    }

    /// Introspect the database only.
    fn introspect(&self) -> anyhow::Result<DbSchema> {
        Ok(self.database()?.2)
    }

    /// The database's URL and dialect.
    fn url(&self) -> anyhow::Result<(RedactedUrl, Dialect)> {
        let Some(raw) = self.database.as_deref().filter(|s| !s.is_empty()) else {
            bail!("no database given: pass --database URL, set DATABASE_URL, or add a `type: schema` target to sync.yaml");
        };
        let url = RedactedUrl::new(raw);
        let Some(dialect) = dialect_of(raw) else {
            bail!("unsupported database URL {url}: use postgres://… or sqlite://PATH");
        };
        Ok((url, dialect))
    }

    /// Which schemas of the database.
    fn filter(&self) -> SchemaFilter {
        SchemaFilter {
            include: self.schemas.clone(),
            exclude: self.exclude_schemas.clone(),
        }
    }

    /// The database's URL, dialect and model.
    fn database(&self) -> anyhow::Result<(RedactedUrl, Dialect, DbSchema)> {
        let (url, dialect) = self.url()?;
        let db = introspect(&url, &self.filter())?;
        Ok((url, dialect, db))
    }

    /// Introspect the database, read the modules, compare.
    pub fn compare(&self) -> anyhow::Result<Comparison> {
        self.compare_with(false)
    }

    /// As [`Source::compare`]; with `repair`, generated modules that no longer
    /// read are skipped with a note (for `update`, which rewrites them).
    pub fn compare_with(&self, repair: bool) -> anyhow::Result<Comparison> {
        let (url, dialect) = self.url()?;
        let sides = Sides {
            url,
            dialect,
            filter: &self.filter(),
            dir: &self.local,
            shown: &self.rel_dir(),
            options: self.options(),
        };
        Ok(sides.compare(repair)?)
    }
}

/// Run a `schema` command.
pub fn run(global: &Global, args: SchemaArgs) -> anyhow::Result<Exit> {
    let settle = |args| super::target_of::schema_source(global, args);
    match args.action {
        SchemaAction::Check { source, fail_on } => {
            let source = settle(source)?;
            let fail_on = fail_on.unwrap_or(source.fail_on);
            let c = source.compare()?;
            print_findings(&c.findings, global.in_ci());
            let failing = failing(&c.findings, fail_on).len();
            if failing > 0 {
                let mut update = match &source.target {
                    Some(t) => format!("driftsync schema update --target {t}"),
                    None => "driftsync schema update".to_string(),
                };
                let what = if c.repo.adopted.is_some() {
                    update.push_str(" --force");
                    "to convert the hand-written modules into generated ones"
                } else {
                    "to regenerate"
                };
                println!(
                    "schema drift: {failing} finding(s) at or above {} ({} in all); run `{update}` {what}",
                    fail_on.as_str(),
                    c.findings.len()
                );
                Ok(Exit::Drift)
            } else {
                println!(
                    "schema in sync: {} matches {} ({} finding(s) below {})",
                    source.rel_dir(),
                    c.url,
                    c.findings.len(),
                    fail_on.as_str()
                );
                Ok(Exit::Ok)
            }
        }
        SchemaAction::Diff { source, json } => {
            let source = settle(source)?;
            let c = source.compare()?;
            if json {
                let doc = serde_json::json!({
                    "database": c.url.redacted(),
                    "local": source.rel_dir(),
                    "db_hash": c.db.hash().to_hex(),
                    "findings": findings_with_objects(&c),
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else if c.findings.is_empty() {
                println!("no differences");
            } else {
                print_findings(&c.findings, false);
                let shown = before_after(&c.changes, &c.repo.model, &c.db);
                if !shown.is_empty() {
                    println!("\nbefore → after (the modules → the database):");
                    for line in shown {
                        println!("  {line}");
                    }
                }
            }
            Ok(if c.findings.is_empty() {
                Exit::Ok
            } else {
                Exit::Drift
            })
        }
        SchemaAction::Update { source, force } => {
            let source = settle(source)?;
            let c = source.compare_with(true)?;
            for note in &c.repairs {
                println!("note: {note}");
            }
            let plan = plan_update(
                &source.local,
                &c.db,
                &c.repo,
                &c.options,
                c.dialect,
                &now(),
                force,
            )?;
            apply_update(&source.local, &plan)?;
            if plan.changed.is_empty() {
                println!("{} is up to date with {}", source.rel_dir(), c.url);
            }
            for name in &plan.changed {
                println!("wrote {}", display_join(&source.local, name));
            }
            for name in &plan.removed {
                println!(
                    "removed {} (converted into the generated modules; git keeps the old file)",
                    display_join(&source.local, name)
                );
            }
            if !plan.resolved.is_empty() {
                println!("{} difference(s) resolved", plan.resolved.len());
            }
            Ok(Exit::Ok)
        }
        SchemaAction::List { what, source, json } => {
            list(what, &settle(source)?, json)?;
            Ok(Exit::Ok)
        }
        SchemaAction::Analyze { source, json } => {
            let db = settle(source)?.introspect()?;
            let a = driftsync_schema::analyze::analyze(&db);
            if json {
                let doc = serde_json::json!({
                    "tables": a.tables,
                    "views": a.views,
                    "columns": a.columns,
                    "enums": a.enums,
                    "objects": a.objects,
                    "indexes": a.indexes,
                    "constraints": a.constraints,
                    "triggers": a.triggers,
                    "policies": a.policies,
                    "largest_tables": a.largest_tables.iter()
                        .map(|(name, columns)| serde_json::json!({"name": name, "columns": columns}))
                        .collect::<Vec<_>>(),
                    "foreign_key_depth": a.foreign_key_depth,
                    "without_primary_key": a.without_primary_key,
                    "without_row_level_security": a.without_row_level_security,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                print!("{}", a.render());
            }
            Ok(Exit::Ok)
        }
        SchemaAction::Docs { source, out } => {
            let source = settle(source)?;
            let out = out
                .or_else(|| source.docs.clone())
                .unwrap_or_else(|| PathBuf::from("schema-docs"));
            let db = source.introspect()?;
            // The class names the modules use (as a target's `docs:` does).
            let options = Options {
                previous_class_names: driftsync_schema::pyread::read_dir(
                    &source.local,
                    &source.rel_dir(),
                )
                .map(|r| r.class_names)
                .unwrap_or_default(),
                ..source.options()
            };
            let names = driftsync_schema::generate::class_names(&db, &options);
            let pages = driftsync_schema::docs::render(&db, &names);
            let mut written = 0;
            for (rel, text) in &pages {
                let path = out.join(rel);
                if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
                    continue;
                }
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                written += 1;
            }
            println!(
                "{} page(s) in {}: {written} written, {} unchanged",
                pages.len(),
                out.display(),
                pages.len() - written
            );
            Ok(Exit::Ok)
        }
        SchemaAction::LintMigrations(args) => super::lint_migrations::run(global, args),
        SchemaAction::Report { source, output } => {
            let source = settle(source)?;
            let c = source.compare()?;
            let md = markdown(&c, &source.rel_dir());
            match output {
                Some(path) => std::fs::write(&path, md)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{md}"),
            }
            Ok(Exit::Ok)
        }
    }
}

/// The findings as JSON, each with the `object` it concerns (`schema.table.column`).
fn findings_with_objects(c: &Comparison) -> Vec<serde_json::Value> {
    c.findings
        .iter()
        .zip(&c.changes)
        .map(|(f, ch)| {
            let mut v = serde_json::to_value(f).expect("a finding serialises");
            if let Some(map) = v.as_object_mut() {
                map.insert("object".into(), ch.subject.object().into());
            }
            v
        })
        .collect()
}

/// `schema list`: the database side only, with the class names update would use.
fn list(what: ListWhat, source: &Source, json: bool) -> anyhow::Result<()> {
    let db = source.introspect()?;
    let names = driftsync_schema::generate::class_names(&db, &source.options());
    let rows: Vec<serde_json::Value> = match what {
        ListWhat::Tables => db
            .relations
            .iter()
            .map(|(q, r)| {
                serde_json::json!({
                    "name": q,
                    "kind": r.kind.as_str(),
                    "columns": r.columns.len(),
                    "class": names.relation_class(q),
                })
            })
            .collect(),
        ListWhat::Enums => db
            .enums
            .iter()
            .map(|(q, e)| {
                serde_json::json!({
                    "name": q,
                    "labels": e.labels,
                    "class": names.enum_class(q),
                })
            })
            .collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    match what {
        ListWhat::Tables => {
            for (q, r) in &db.relations {
                let (kind, n) = (r.kind.as_str(), r.columns.len());
                println!("{q}  {kind}  {n} column(s)  {}", names.relation_class(q));
            }
        }
        ListWhat::Enums => {
            for (q, e) in &db.enums {
                println!("{q}  {}  {}", e.labels.join(", "), names.enum_class(q));
            }
        }
    }
    Ok(())
}

fn display_join(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339_utc(secs)
}

/// `file:line: severity code: message`, plus GitHub annotations in CI (the
/// same annotations, limits and escaping as `run` and `check`, from
/// `driftsync_github::annotations`).
pub fn print_findings(findings: &[Finding], ci: bool) {
    for f in findings {
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!("{file}:{line}: "),
            (Some(file), None) => format!("{file}: "),
            _ => String::new(),
        };
        println!("{at}{} {}: {}", f.severity.as_str(), f.code, f.message);
    }
    if ci {
        use driftsync_github::annotations::{annotations_of, AnnotationSet};
        for line in AnnotationSet::limit(annotations_of(findings)).lines() {
            println!("{line}");
        }
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report: a findings table and totals by severity.
pub fn markdown(c: &Comparison, local: &str) -> String {
    let mut out = format!(
        "## Schema drift: `{local}` vs `{}`\n\nDB_HASH `{}` · {} table(s) · {} enum(s)\n\n",
        c.url,
        c.db.hash().short(),
        c.db.tables_count(),
        c.db.enums.len()
    );
    if c.findings.is_empty() {
        out.push_str("No drift: the Python modules match the database.\n");
        return out;
    }
    out.push_str("| Severity | Code | Object | Location | Message |\n|---|---|---|---|---|\n");
    let mut sorted: Vec<(&Finding, &Change)> = c.findings.iter().zip(&c.changes).collect();
    sorted.sort_by_key(|(f, _)| std::cmp::Reverse(f.severity));
    for (f, ch) in sorted {
        let loc = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!("`{file}:{line}`"),
            (Some(file), None) => format!("`{file}`"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {loc} | {} |\n",
            f.severity.as_str(),
            f.code,
            cell(&ch.subject.object()),
            cell(&f.message)
        ));
    }
    out.push_str("\n**Totals:** ");
    let totals: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .into_iter()
    .map(|s| {
        let n = c.findings.iter().filter(|f| f.severity == s).count();
        format!("{} {n}", s.as_str())
    })
    .collect();
    out.push_str(&totals.join(" · "));
    out.push('\n');
    out
}
