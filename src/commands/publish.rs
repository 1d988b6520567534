//! `driftsync publish DIR`: publish a finished report to GitHub Actions.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use driftsync_core::report::Report;

use crate::cli::Global;
use crate::exit::Exit;

/// Publish `report.json` / `report.md` from a folder to GitHub Actions: step
/// outputs, job summary, annotations, sticky PR comment, check run, artifact.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync publish\n  driftsync publish path/to/report --artifact-name nightly\n  DRIFTSYNC_MATRIX='{\"os\":\"linux\"}' driftsync publish --no-artifact\n\nInside a matrix leg the PR comment and the artifact are named per leg (DRIFTSYNC_MATRIX); see docs/github.md."
)]
pub struct PublishArgs {
    /// Folder holding report.json (and report.md); run and check write it there
    #[arg(value_name = "DIR", default_value = crate::render::report_files::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Name of the artifact the binary uploads when the Actions runtime
    /// allows [default: $DRIFTSYNC_ARTIFACT_NAME, else driftsync-report, or
    /// driftsync-report-<matrix values> in a matrix leg ($DRIFTSYNC_MATRIX)]
    #[arg(long)]
    pub artifact_name: Option<String>,
    /// Do not upload an artifact (the action's upload step does it)
    #[arg(long)]
    pub no_artifact: bool,
}

/// Read the report folder and publish it; the exit code follows the report.
pub fn run(_global: &Global, args: PublishArgs) -> anyhow::Result<Exit> {
    let (report, markdown) = read_report_dir(&args.dir)?;
    if !crate::github::in_actions() {
        anyhow::bail!(
            "driftsync publish runs inside GitHub Actions (GITHUB_ACTIONS=true is not set)"
        );
    }
    let actions = driftsync_github::ActionsEnv::from_process()
        .context("reading the GitHub Actions environment")?;
    let artifact = (!args.no_artifact).then(|| {
        args.artifact_name
            .unwrap_or_else(|| actions.artifact_name())
    });
    let masker = crate::env::masker();
    crate::github::publish_report(&report, &markdown, &args.dir, artifact, false, &masker)?;
    Ok(Exit::of_report(&report))
}

/// `DIR/report.json` parsed, and `DIR/report.md` (empty when absent).
pub fn read_report_dir(dir: &std::path::Path) -> anyhow::Result<(Report, String)> {
    let json_path = dir.join("report.json");
    let text = std::fs::read_to_string(&json_path)
        .with_context(|| format!("reading {}", json_path.display()))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not a driftsync report: {e}",
            json_path.display(),
            e.line(),
            e.column()
        )
    })?;
    let md_path = dir.join("report.md");
    let markdown = match std::fs::read_to_string(&md_path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", md_path.display())),
    };
    Ok((report, markdown))
}
