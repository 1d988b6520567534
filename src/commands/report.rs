//! `driftsync report merge DIR…`: join the reports of a matrix's jobs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use driftsync_github::merge::{merge_reports, merged_markdown, JobReport};

use crate::cli::Global;
use crate::commands::publish::read_report_dir;
use crate::exit::Exit;

/// Work with reports.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync report merge reports/ --out merged\n  driftsync report merge reports/*/ --ci   # the one summary of a job matrix"
)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// Report subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join report folders (each with report.json, e.g. downloaded artifacts)
    /// into one report, one job summary and one PR comment.
    ///
    /// Inside GitHub Actions (GITHUB_ACTIONS=true, or --ci with the Actions
    /// variables set) the merged report is published: outputs, summary,
    /// annotations and one sticky PR comment whose marker names no matrix leg.
    #[command(
        after_help = "Examples:\n  driftsync report merge reports/ --out merged\n  driftsync report merge driftsync-report-linux driftsync-report-macos --ci"
    )]
    Merge(MergeArgs),
    /// Print the JSON Schema of report.json (what `run`, `check` and
    /// `report merge` write), for the scripts and dashboards that read it.
    #[command(
        after_help = "Examples:\n  driftsync report schema > report.schema.json\n  # then: check-jsonschema --schemafile report.schema.json .driftsync/reports/report.json"
    )]
    Schema,
}

/// Arguments of `report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report folders, or folders whose subfolders hold report.json
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged report.json and report.md
    #[arg(long, value_name = "DIR", default_value = "driftsync-report")]
    pub out: PathBuf,
}

/// Run `report …`.
pub fn run(global: &Global, args: ReportArgs) -> anyhow::Result<Exit> {
    match args.command {
        ReportCommand::Merge(m) => merge(global, m),
        ReportCommand::Schema => {
            let mut schema =
                serde_json::to_value(schemars::schema_for!(driftsync_core::report::Report))?;
            schema["title"] = "driftsync report.json".into();
            crate::render::stdout::line(&serde_json::to_string_pretty(&schema)?)?;
            Ok(Exit::Ok)
        }
    }
}

fn report_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join("report.json").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        if p.join("report.json").is_file() {
            found.push(p);
        }
    }
    found.sort();
    if found.is_empty() {
        anyhow::bail!(
            "{}: no report.json in it or in its subfolders",
            dir.display()
        );
    }
    Ok(found)
}

fn merge(global: &Global, args: MergeArgs) -> anyhow::Result<Exit> {
    let mut jobs = Vec::new();
    for d in &args.dirs {
        for dir in report_dirs(d)? {
            let (report, markdown) = read_report_dir(&dir)?;
            jobs.push(JobReport {
                source: dir.file_name().map_or_else(
                    || dir.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                report,
                markdown: (!markdown.trim().is_empty()).then_some(markdown),
            });
        }
    }
    let merged = merge_reports(&jobs).expect("at least one report was found");
    let markdown = merged_markdown(&merged, &jobs);
    // The job reports were masked by their runs; mask once more what this
    // machine knows, and credentials of well-known formats.
    let masker = crate::env::masker();
    let merged = masker.mask_report(&merged)?;
    let markdown = masker.mask(&markdown);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&merged)? + "\n",
    )
    .with_context(|| format!("writing {}", args.out.join("report.json").display()))?;
    std::fs::write(args.out.join("report.md"), &markdown)
        .with_context(|| format!("writing {}", args.out.join("report.md").display()))?;
    println!(
        "merged {} report(s): {} target(s), {} failed or drifted -> {}",
        jobs.len(),
        merged.total_targets,
        merged.failed,
        args.out.display()
    );
    let actions_vars = std::env::var_os(driftsync_github::env::GITHUB_EVENT_NAME).is_some();
    if crate::github::in_actions() || (global.ci && actions_vars) {
        crate::github::publish_report(&merged, &markdown, &args.out, None, true, &masker)?;
    }
    Ok(Exit::of_report(&merged))
}
