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
#[command(name = "driftsync", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file [default: .driftsync/sync.yaml in the repository root]
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run as in CI: no prompts, no colour, no progress bars, GitHub log groups
    /// and annotations. Also on when CI=true.
    #[arg(long, global = true)]
    pub ci: bool,
}

impl Global {
    /// True under `--ci` or `CI=true`.
    #[allow(dead_code)]
    pub fn in_ci(&self) -> bool {
        self.ci || std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
    }
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    // One line per command: `Name(crate::commands::name::NameArgs),`
    /// Publish a report folder to GitHub Actions (outputs, summary, annotations, PR comment)
    Publish(crate::commands::publish::PublishArgs),
    /// Work with reports (merge the reports of a job matrix)
    Report(crate::commands::report::ReportArgs),
}
