//! Publishing a report to GitHub Actions from the binary: reads the Actions
//! environment, calls driftsync-github, prints the workflow commands.

use std::path::Path;

use anyhow::Context;
use driftsync_core::report::Report;
use driftsync_github::artifact::Retry;
use driftsync_github::env::{self, ActionsEnv};
use driftsync_github::publish::{publish, CheckRunMode, PublishOptions};
use driftsync_github::workflow_commands;
use driftsync_runner::Masker;

use crate::render::stdout;

/// True inside GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn in_actions() -> bool {
    env::in_actions(|k| std::env::var(k).ok())
}

/// Print `::add-mask::` for every secret value the run read, and for each
/// piece of it the masker masks on its own (each line of a multi-line value,
/// the password of a URL). Call before anything that might echo them. These
/// lines are the only ones not masked: they are how GitHub learns the values.
pub fn mask(masker: &Masker) -> std::io::Result<()> {
    let mut text = String::new();
    for v in masker.add_mask_values() {
        for line in workflow_commands::add_mask(v) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    stdout::write(&text)
}

/// Publish `report` (with `markdown`) from `report_dir`: outputs, summary,
/// annotations, PR comment, check run and artifact as the environment allows.
/// Everything published or printed is masked by `masker` first.
pub fn publish_report(
    report: &Report,
    markdown: &str,
    report_dir: &Path,
    artifact_name: Option<String>,
    merged: bool,
    masker: &Masker,
) -> anyhow::Result<()> {
    let report = &masker
        .mask_report(report)
        .context("masking the report before publishing it")?;
    let markdown = &masker.mask(markdown);
    let mut actions =
        ActionsEnv::from_process().context("reading the GitHub Actions environment")?;
    // The matrix leg names the comment's marker: a secret in it is masked too.
    if let Some(leg) = actions.matrix.as_mut() {
        for v in &mut leg.values {
            *v = masker.mask(v);
        }
    }
    // `report merge` writes the one summary comment even when the legs were
    // told to write none (`DRIFTSYNC_NO_COMMENT=merged`, the action's
    // `comment: merged`); any other value turns every comment off.
    let no_comment = std::env::var(env::DRIFTSYNC_NO_COMMENT).ok();
    let comment = match no_comment.as_deref().map(str::trim) {
        None => true,
        Some("merged") => merged,
        Some(_) => false,
    };
    let options = PublishOptions {
        report_dir: report_dir.to_path_buf(),
        comment,
        check_run: CheckRunMode::from_env_value(
            std::env::var(env::DRIFTSYNC_CHECK_RUN).ok().as_deref(),
        ),
        artifact_name,
        retry: Retry::default(),
        merged,
    };
    let publication =
        driftsync_github::client::block_on(publish(&actions, report, markdown, &options))
            .context("publishing the report to GitHub Actions")?;
    let mut text = String::new();
    for line in &publication.lines {
        text.push_str(&format!("{line}\n"));
    }
    if let Some(c) = &publication.comment {
        text.push_str(&format!("{}\n", crate::render::github::comment(c)));
    }
    if let Some(c) = &publication.check {
        text.push_str(&format!("{}\n", crate::render::github::check_run(c)));
    }
    stdout::write(&masker.mask(&text))?;
    Ok(())
}

/// Publish the report files `run`/`check` just wrote (already masked). A
/// failure to publish is a warning: the run's own result stands.
pub fn publish_written(json: &Path, md: &Path, dir: &Path, masker: &Masker) {
    let result = (|| -> anyhow::Result<()> {
        let report: Report = serde_json::from_str(
            &std::fs::read_to_string(json)
                .with_context(|| format!("reading {}", json.display()))?,
        )?;
        let markdown =
            std::fs::read_to_string(md).with_context(|| format!("reading {}", md.display()))?;
        let actions =
            ActionsEnv::from_process().context("reading the GitHub Actions environment")?;
        publish_report(
            &report,
            &markdown,
            dir,
            Some(actions.artifact_name()),
            false,
            masker,
        )
    })();
    if let Err(e) = result {
        let warning =
            workflow_commands::message(workflow_commands::Level::Warning, &format!("{e:#}"));
        let _ = stdout::line(&masker.mask(&warning));
    }
}
