//! `driftsync space export|import`: a document space (a database table, or
//! any replica URL the database backend reads) to and from a folder, in a
//! layout that suits the reader, with `.driftsync-manifest.json`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use driftsync_bundle::space::{
    export_with, import, ExportOptions, ImportOptions, Layout, OnConflict, SpaceReport,
};
use driftsync_replica_db::DbReplica;

use crate::cli::Global;
use crate::exit::{Exit, Failed};

/// Export a document space to a folder, or import the folder's edits back.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync space export --database 'sqlite://site.db?table=docs' docs/\n  driftsync space import --database 'sqlite://site.db?table=docs' docs/ --dry-run\n  driftsync space export --target site"
)]
pub struct SpaceArgs {
    /// The `type: sync` target of sync.yaml whose remote is the space (a
    /// sqlite:// or postgres:// table): its remote is the database and its
    /// `local` the folder (default: the only such target, when there is
    /// exactly one). --database and DIR override one setting each.
    #[arg(long, global = true, value_name = "NAME")]
    pub target: Option<String>,
    /// Print what was done as JSON (lists and counts) instead of lines.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: SpaceCommand,
}

/// Which way.
#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// Write every document into DIR (unchanged files are not rewritten).
    #[command(
        after_help = "Examples:\n  driftsync space export --database 'sqlite://site.db?table=docs' docs/\n  driftsync space export --database \"$SPACE_URL\" --layout flat out/\n  driftsync space export --database \"$SPACE_URL\" --layout by-path --group-by section docs/\n  driftsync space export --database \"$SPACE_URL\" --metadata docs/"
    )]
    Export {
        /// The space: sqlite://FILE?table=T or postgres://…?table=T (default:
        /// the target's remote, else $DRIFTSYNC_SPACE_DATABASE).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// How documents map to files.
        #[arg(long, value_enum, default_value = "hierarchical")]
        layout: LayoutArg,
        /// The metadata field the by-path layout groups by (default: none, the
        /// document's own path).
        #[arg(long, value_name = "FIELD")]
        group_by: Option<String>,
        /// Show what would be written and removed; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write F.meta.json beside each file F: the document's id (its path
        /// in the space), title, updated, version, sha256 and size. Import
        /// reads them back. Without it, those of an earlier export are removed.
        #[arg(long)]
        metadata: bool,
        /// The folder (default: the target's `local`).
        dir: Option<PathBuf>,
    },
    /// Bring edits, new files, renames and deletions in DIR back into the space
    /// (layout from DIR/.driftsync-manifest.json), then refresh DIR. Metadata
    /// files of an export with --metadata are never stored as documents; a new
    /// file with one is stored under the document its `id` names.
    #[command(
        after_help = "Examples:\n  driftsync space import --database 'sqlite://site.db?table=docs' docs/\n  driftsync space import --database \"$SPACE_URL\" docs/ --dry-run\n  driftsync space import --database \"$SPACE_URL\" docs/ --on-conflict keep-both"
    )]
    Import {
        /// The space (default: the target's remote, else $DRIFTSYNC_SPACE_DATABASE).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// A file changed in DIR whose document also changed in the space since
        /// the export: skip (store nothing, keep the file, exit 1), overwrite
        /// (the folder's copy replaces the document), rename or keep-both
        /// (store the folder's copy as NAME.conflict-local-STAMP.EXT).
        #[arg(long, value_enum, value_name = "STRATEGY", default_value = "skip")]
        on_conflict: OnConflictArg,
        /// Import only new files matching GLOB (repeatable; default: all).
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Never import new files matching GLOB (repeatable). Editor and OS
        /// leftovers (.DS_Store, *.swp, *~, .#*) are never imported.
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
        /// Show what would be stored and removed; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The folder (default: the target's `local`).
        dir: Option<PathBuf>,
    },
}

/// Import conflict strategies.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OnConflictArg {
    /// Store nothing for the file; it keeps the edit on disk (exit 1).
    /// Also `space-wins`.
    #[value(aliases = ["space-wins", "space_wins"])]
    Skip,
    /// The folder's copy replaces the document. Also `directory-wins`.
    #[value(aliases = ["directory-wins", "directory_wins"])]
    Overwrite,
    /// Store the folder's copy beside the document as NAME.conflict-local-STAMP.EXT.
    /// Also `keep-both`, `backup-both`.
    #[value(aliases = ["keep-both", "keep_both", "backup-both", "backup_both"])]
    Rename,
}

/// Export layouts.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    /// Document paths as folders.
    Hierarchical,
    /// One folder; the path encoded in the file name (`a%2Fb.md`).
    Flat,
    /// `<metadata value>/<path>`, grouped by --group-by FIELD; without it,
    /// by the document's own path. Also `by_path`.
    #[value(alias = "by_path")]
    ByPath,
}

fn print(report: &SpaceReport, details: bool) {
    let would = if report.dry_run { "would be " } else { "" };
    println!(
        "{} {would}written, {} unchanged, {} {would}renamed, {} {would}removed, {} conflict(s) {would}resolved, {} skipped",
        report.written.len(),
        report.unchanged,
        report.renamed.len(),
        report.removed.len(),
        report.resolved.len(),
        report.skipped.len()
    );
    if details {
        for w in &report.written {
            println!("  {would}written {w}");
        }
        for r in &report.removed {
            println!("  {would}removed {r}");
        }
    }
    for r in &report.renamed {
        println!("  {would}renamed {r}");
    }
    for r in &report.resolved {
        println!("  {would}resolved {r}");
    }
    for s in &report.skipped {
        println!("  skipped {s}");
    }
    if report.dry_run {
        println!("dry run: nothing written to the space or the folder");
    }
}

/// The space and the folder: a flag (relative to the current directory) over
/// the chosen target's remote and `local` (relative to the repository root),
/// over `$DRIFTSYNC_SPACE_DATABASE` for the database.
fn settle(
    cwd: &std::path::Path,
    chosen: &Option<super::target_of::Chosen>,
    database: Option<String>,
    dir: Option<PathBuf>,
) -> anyhow::Result<(DbReplica, PathBuf)> {
    let target = chosen.as_ref().and_then(|c| match &c.target().kind {
        driftsync_config::TargetKind::Sync(s) => Some((&c.config.root, s)),
        _ => None,
    });
    let space = match (database, target) {
        (Some(url), _) => DbReplica::open(&url, cwd)?,
        (None, Some((root, t))) => DbReplica::open(&t.remote, root)?,
        (None, None) => match std::env::var(crate::env::DRIFTSYNC_SPACE_DATABASE) {
            Ok(url) if !url.is_empty() => DbReplica::open(&url, cwd)?,
            _ => anyhow::bail!(
                "no space given: pass --database URL, set DRIFTSYNC_SPACE_DATABASE, or give --target NAME (a sync target whose remote is a database table)"
            ),
        },
    };
    let dir = match (dir, target) {
        (Some(d), _) => cwd.join(d),
        (None, Some((root, t))) => root.join(t.local.as_str()),
        (None, None) => anyhow::bail!("no folder given: pass DIR, or give --target NAME"),
    };
    Ok((space, dir))
}

/// Run `driftsync space …`.
pub fn run(global: &Global, args: SpaceArgs) -> anyhow::Result<Exit> {
    let cwd = std::env::current_dir().context("current directory")?;
    let chosen = super::target_of::choose(
        global,
        super::target_of::Kind::Space,
        args.target.as_deref(),
    )?;
    let settle =
        |database: Option<String>, dir: Option<PathBuf>| settle(&cwd, &chosen, database, dir);
    let started = std::time::Instant::now();
    let (report, details) = match args.command {
        SpaceCommand::Export {
            database,
            layout,
            group_by,
            dry_run,
            metadata,
            dir,
        } => {
            let (space, dir) = settle(database, dir)?;
            let how = ExportOptions {
                layout: match layout {
                    LayoutArg::Hierarchical => Layout::Hierarchical,
                    LayoutArg::Flat => Layout::Flat,
                    LayoutArg::ByPath => Layout::ByPath,
                },
                group_by,
                dry_run,
                metadata,
            };
            (export_with(&space, &dir, &how)?, false)
        }
        SpaceCommand::Import {
            database,
            on_conflict,
            include,
            exclude,
            dry_run,
            dir,
        } => {
            let (space, dir) = settle(database, dir)?;
            let opts = ImportOptions {
                on_conflict: match on_conflict {
                    OnConflictArg::Skip => OnConflict::Skip,
                    OnConflictArg::Overwrite => OnConflict::Overwrite,
                    OnConflictArg::Rename => OnConflict::Rename,
                },
                dry_run,
                stamp: None,
                include,
                exclude,
            };
            (import(&space, &dir, &opts)?, true)
        }
    };
    if args.json {
        let mut doc = serde_json::to_value(&report)?;
        doc["summary"] = serde_json::json!({
            "written": report.written.len(),
            "unchanged": report.unchanged,
            "renamed": report.renamed.len(),
            "deleted": report.removed.len(),
            "conflicts": report.resolved.len(),
            "skipped": report.skipped.len(),
            "dry_run": report.dry_run,
            "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print(&report, details);
    }
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
