//! `driftsync workflow check|generate`: the scheduled workflow and sync.yaml in step.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use driftsync_config::Config;
use driftsync_github::workflow;

use crate::cli::Global;
use crate::exit::{Exit, Failed};

/// The default scheduled workflow.
const DEFAULT_WORKFLOW: &str = ".github/workflows/driftsync-sync.yml";

/// Keep the scheduled workflow and sync.yaml in step.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync workflow generate\n  driftsync workflow check\n  driftsync workflow generate -o - | less"
)]
pub struct WorkflowArgs {
    #[command(subcommand)]
    pub command: WorkflowCommand,
}

/// Workflow subcommands.
#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Every target's `schedule` is in the workflow's `on.schedule`, and every
    /// cron there selects a target (exit 1 otherwise).
    Check(CheckArgs),
    /// Write the scheduled + manual sync workflow from sync.yaml.
    Generate(GenerateArgs),
}

/// Arguments of `workflow check`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync workflow check\n  driftsync workflow check .github/workflows/nightly.yml"
)]
pub struct CheckArgs {
    /// The workflow file, relative to the repository root
    #[arg(default_value = DEFAULT_WORKFLOW)]
    pub workflow: PathBuf,
}

/// Arguments of `workflow generate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync workflow generate\n  driftsync workflow generate -o .github/workflows/nightly.yml\n  driftsync workflow generate --uses driftsync/driftsync@<commit sha> -o -"
)]
pub struct GenerateArgs {
    /// Where to write it, relative to the repository root ("-" for stdout)
    #[arg(long, short = 'o', default_value = DEFAULT_WORKFLOW)]
    pub output: PathBuf,
    /// The action to use; pin it to the commit SHA of the release you adopt
    /// (`git ls-remote https://github.com/driftsync/driftsync v<version>`),
    /// as zizmor and GitHub's hardening guide ask
    #[arg(long, default_value = concat!("driftsync/driftsync@v", env!("CARGO_PKG_VERSION")))]
    pub uses: String,
}

/// Run `workflow …`.
pub fn run(global: &Global, args: WorkflowArgs) -> anyhow::Result<Exit> {
    let config = crate::workspace::load(global)?;
    match args.command {
        WorkflowCommand::Check(a) => check(&config, a),
        WorkflowCommand::Generate(a) => generate(&config, a),
    }
}

fn scheduled(config: &Config) -> Vec<(String, String)> {
    config
        .targets
        .iter()
        .filter_map(|t| {
            t.schedule
                .as_ref()
                .map(|c| (t.name.clone(), c.as_str().to_string()))
        })
        .collect()
}

fn rel_config(config: &Config) -> String {
    config
        .file
        .strip_prefix(&config.root)
        .unwrap_or(&config.file)
        .display()
        .to_string()
}

fn check(config: &Config, args: CheckArgs) -> anyhow::Result<Exit> {
    let path = config.root.join(&args.workflow);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; create it with `driftsync workflow generate`",
            path.display()
        )
    })?;
    let name = args.workflow.display().to_string();
    let crons = workflow::schedule_crons(&name, &text)?;
    let mismatches = workflow::check(&scheduled(config), &crons);
    if mismatches.is_empty() {
        println!(
            "{name}: {} cron(s), every scheduled target covered",
            crons.len()
        );
        return Ok(Exit::Ok);
    }
    for m in &mismatches {
        eprintln!("{}", m.describe(&name, &rel_config(config)));
    }
    Err(Failed(format!(
        "{name} and {} disagree ({} problem(s))",
        rel_config(config),
        mismatches.len()
    ))
    .into())
}

fn generate(config: &Config, args: GenerateArgs) -> anyhow::Result<Exit> {
    let text = workflow::generate(&scheduled(config), &args.uses, &rel_config(config));
    if args.output.as_os_str() == "-" {
        print!("{text}");
        return Ok(Exit::Ok);
    }
    let path = config.root.join(&args.output);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(Exit::Ok)
}
