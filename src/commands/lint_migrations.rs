//! `driftsync schema lint-migrations DIR`: the `validate-migrations` CI job
//! of the schema-sync setup driftsync replaces. The linting is
//! `driftsync-migrations`; this file parses the arguments, renders the
//! findings and chooses the outcome.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use driftsync_core::report::Severity;
use driftsync_github::annotations::{level_for, Annotation, AnnotationSet};
use driftsync_migrations::{lint_dir, Finding, Lint, Options};

use crate::cli::Global;
use crate::exit::Exit;

/// Lint SQL migrations: file names, syntax (PostgreSQL's own parser) and risky statements.
#[derive(Debug, Args)]
#[command(
    after_help = "Every *.sql file directly in DIR is parsed by libpg_query (PostgreSQL's parser). \
Findings print as `file:line:col: severity code: message`; the codes and what to do instead are in \
docs/schema.md, \"Linting migrations\". A comment `-- driftsync: allow CODE` just before a statement \
silences CODE for it. Exit 1 when a finding is at or above --fail-on, 2 when DIR \
cannot be read.\n\n\
Examples:\n  driftsync schema lint-migrations supabase/migrations\n  \
driftsync schema lint-migrations db/migrations --fail-on medium --json > lint.json\n  \
driftsync schema lint-migrations supabase/migrations --since origin/main --ci"
)]
pub struct LintMigrationsArgs {
    /// The migrations directory (e.g. supabase/migrations).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Lowest severity that fails: info, low, medium, high, critical.
    #[arg(long, default_value = "high", value_parser = super::schema::parse_severity)]
    pub fail_on: Severity,
    /// Print the result as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// A git revision (`origin/main`): files not in DIR there are new; only
    /// they are checked for risky statements, and a new file older than the
    /// newest one already there is `out-of-order`.
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
}

/// Lint, print, decide.
pub fn run(global: &Global, args: LintMigrationsArgs) -> anyhow::Result<Exit> {
    let options = Options {
        previous: match &args.since {
            Some(rev) => Some(previous_files(&args.dir, rev)?),
            None => None,
        },
    };
    let shown = args.dir.to_string_lossy().replace('\\', "/");
    let lint = lint_dir(&args.dir, &shown, &options)?;
    let failing = lint.at_or_above(args.fail_on);
    if args.json {
        let doc = Json {
            lint: &lint,
            fail_on: args.fail_on,
            failing,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for f in &lint.findings {
            println!("{}", line(f));
        }
        let allowed = match lint.allowed {
            0 => String::new(),
            n => format!(" ({n} allowed by a `driftsync: allow` comment)"),
        };
        println!(
            "{} migration(s), {} statement(s), naming convention {}: {} finding(s), {failing} at or above {}{allowed}",
            lint.migrations,
            lint.statements,
            lint.convention.map_or("none", |c| c.as_str()),
            lint.findings.len(),
            args.fail_on.as_str(),
        );
    }
    if global.in_ci() || crate::github::in_actions() {
        for l in AnnotationSet::limit(annotations(&lint)).lines() {
            println!("{l}");
        }
    }
    Ok(if failing > 0 { Exit::Drift } else { Exit::Ok })
}

/// What `--json` prints: the lint, plus the threshold and how many findings reach it.
#[derive(serde::Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    lint: &'a Lint,
    fail_on: Severity,
    failing: usize,
}

/// `file:line:col: severity code: message` (`file: …` for a file name).
fn line(f: &Finding) -> String {
    let at = match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", f.file),
        (Some(l), None) => format!("{}:{l}", f.file),
        _ => f.file.clone(),
    };
    format!("{at}: {} {}: {}", f.severity.as_str(), f.code, f.message)
}

/// Every finding as a GitHub annotation, most severe first (a finding
/// about a file name is pinned to its first line).
fn annotations(lint: &Lint) -> Vec<Annotation> {
    let mut all: Vec<(Severity, Annotation)> = lint
        .findings
        .iter()
        .map(|f| {
            (
                f.severity,
                Annotation {
                    level: level_for(f.severity),
                    file: f.file.clone(),
                    line: f.line.unwrap_or(1),
                    column: f.column,
                    title: format!("{} ({})", f.code, f.severity.as_str()),
                    message: f.message.clone(),
                },
            )
        })
        .collect();
    all.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    all.into_iter().map(|(_, a)| a).collect()
}

/// The file names in `dir` at `rev`.
fn previous_files(dir: &Path, rev: &str) -> anyhow::Result<BTreeSet<String>> {
    let repo = driftsync_git::Repo::open(Path::new("."))
        .context("--since compares with a git revision")?;
    let top = repo
        .workdir()
        .canonicalize()
        .with_context(|| format!("resolving {}", repo.workdir().display()))?;
    let full = dir
        .canonicalize()
        .with_context(|| format!("migrations directory {} does not exist", dir.display()))?;
    let rel = full.strip_prefix(&top).map_err(|_| {
        anyhow::anyhow!(
            "{} is outside the repository at {}",
            dir.display(),
            top.display()
        )
    })?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    Ok(repo.files_at(rev, &rel)?.into_iter().collect())
}
