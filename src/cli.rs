//! The command line: global options and one variant per command.
//!
//! Each command's arguments live beside its implementation in
//! `src/commands/<name>.rs`; this file only lists them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keep a repository in step with directories, buckets, database tables and
/// schemas — and tell CI precisely when they have drifted.
///
/// Exit codes: 0 in sync, 1 drift / conflicts / failed target or gate,
/// 2 usage, configuration or environment error.
#[derive(Debug, Parser)]
#[command(
    name = "driftsync",
    version,
    propagate_version = true,
    after_help = "Examples:\n  driftsync list\n  driftsync run --target 'oca_*' --direction pull\n  driftsync check --ci\n  driftsync -C path/to/repo config validate\n\nConfiguration: .driftsync/sync.yaml in the repository root (see README.md)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file [default: .driftsync/sync.yaml, searched from the
    /// current directory upwards]
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run as if started in DIR (like `git -C`)
    // Entered once by `workspace::enter` before any command runs; commands
    // never read it.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Run as in CI: no prompts, no colour, no progress bars, GitHub log groups
    /// and annotations. Also on when CI=true.
    #[arg(long, global = true)]
    pub ci: bool,
    /// More output: a sync prints one line per file (the summary is the default)
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

impl Global {
    /// True under `--ci` or `CI=true`.
    pub fn in_ci(&self) -> bool {
        self.ci || crate::env::is_true(crate::env::CI)
    }
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    // One line per command: `Name(crate::commands::name::NameArgs),`
    Run(crate::commands::run::RunArgs),
    Check(crate::commands::check::CheckArgs),
    List(crate::commands::list::ListArgs),
    Config(crate::commands::config::ConfigArgs),
    /// Sync two locations ad hoc, both ways or one way, with a committed base.
    Sync(crate::commands::sync::SyncArgs),
    /// Framework bundles: versioned directories stored in a database.
    Bundle(crate::commands::bundle::BundleArgs),
    /// Export a document space (database table) to a folder and import it back.
    Space(crate::commands::space::SpaceArgs),
    /// Schema drift: a live database against typed Python modules.
    Schema(crate::commands::schema::SchemaArgs),
    /// Git hooks: `hook install` writes a pre-commit hook.
    Hook(crate::commands::hook::HookArgs),
    /// Print the selected targets as a GitHub Actions job matrix
    Matrix(crate::commands::matrix::MatrixArgs),
    /// Work with reports (merge the reports of a job matrix)
    Report(crate::commands::report::ReportArgs),
    /// Publish a report folder to GitHub Actions (outputs, summary, annotations, PR comment)
    Publish(crate::commands::publish::PublishArgs),
    /// Check or generate the scheduled workflow from sync.yaml
    Workflow(crate::commands::workflow::WorkflowArgs),
    Restore(crate::commands::restore::RestoreArgs),
    Conflicts(crate::commands::conflicts::ConflictsArgs),
}
