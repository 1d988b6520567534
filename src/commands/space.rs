//! `driftsync space export|import`: a document space (a database table, or
//! any replica URL the database backend reads) to and from a folder, in a
//! layout that suits the reader, with `.driftsync-manifest.json`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use driftsync_bundle::space::{export, import, Layout, SpaceReport};
use driftsync_replica_db::DbReplica;

use crate::cli::Global;
use crate::exit::{Exit, Failed};

/// Export a document space to a folder, or import the folder's edits back.
#[derive(Debug, Args)]
pub struct SpaceArgs {
    #[command(subcommand)]
    pub command: SpaceCommand,
}

/// Which way.
#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// Write every document into DIR (unchanged files are not rewritten).
    Export {
        /// The space: sqlite://FILE?table=T or postgres://…?table=T.
        #[arg(
            long,
            value_name = "URL",
            env = "DRIFTSYNC_SPACE_DATABASE",
            hide_env_values = true
        )]
        database: String,
        /// How documents map to files.
        #[arg(long, value_enum, default_value = "hierarchical")]
        layout: LayoutArg,
        /// The metadata field the by-path layout groups by.
        #[arg(long, value_name = "FIELD")]
        group_by: Option<String>,
        /// The folder.
        dir: PathBuf,
    },
    /// Bring edits, new files, renames and deletions in DIR back into the space
    /// (layout from DIR/.driftsync-manifest.json).
    Import {
        /// The space.
        #[arg(
            long,
            value_name = "URL",
            env = "DRIFTSYNC_SPACE_DATABASE",
            hide_env_values = true
        )]
        database: String,
        /// The folder.
        dir: PathBuf,
    },
}

/// Export layouts.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    /// Document paths as folders.
    Hierarchical,
    /// One folder; the path encoded in the file name (`a%2Fb.md`).
    Flat,
    /// `<metadata value>/<path>`, grouped by --group-by FIELD.
    ByPath,
}

fn print(report: &SpaceReport) {
    println!(
        "{} written, {} unchanged, {} renamed, {} removed, {} skipped",
        report.written.len(),
        report.unchanged,
        report.renamed.len(),
        report.removed.len(),
        report.skipped.len()
    );
    for r in &report.renamed {
        println!("  renamed {r}");
    }
    for s in &report.skipped {
        println!("  skipped {s}");
    }
}

/// Run `driftsync space …`.
pub fn run(_global: &Global, args: SpaceArgs) -> anyhow::Result<Exit> {
    let root = std::env::current_dir().context("current directory")?;
    let report = match args.command {
        SpaceCommand::Export {
            database,
            layout,
            group_by,
            dir,
        } => {
            let space = DbReplica::open(&database, &root)?;
            let layout = match layout {
                LayoutArg::Hierarchical => Layout::Hierarchical,
                LayoutArg::Flat => Layout::Flat,
                LayoutArg::ByPath => Layout::ByPath,
            };
            export(&space, &root.join(dir), layout, group_by.as_deref())?
        }
        SpaceCommand::Import { database, dir } => {
            let space = DbReplica::open(&database, &root)?;
            import(&space, &root.join(dir))?
        }
    };
    print(&report);
    if report.skipped.is_empty() {
        Ok(Exit::Ok)
    } else {
        Err(Failed(format!(
            "{} item(s) skipped; see above",
            report.skipped.len()
        ))
        .into())
    }
}
