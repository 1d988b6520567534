//! `driftsync config validate|schema`.

use clap::{Args, Subcommand};

use crate::cli::Global;
use crate::exit::Exit;

/// Options of `config`.
#[derive(Debug, Args)]
#[command(
    about = "Validate the configuration or print its JSON Schema",
    after_help = "Examples:\n  driftsync config validate\n  driftsync -c other/sync.yaml config validate\n  driftsync config schema > sync.schema.json"
)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// What to do with the configuration.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Check .driftsync/sync.yaml; every problem is reported as file:line:column
    /// with what to write instead (exit 2), else prints a one-line summary (exit 0)
    #[command(
        after_help = "Examples:\n  driftsync config validate\n  driftsync -C ../other-repo config validate"
    )]
    Validate,
    /// Print the JSON Schema of sync.yaml (for editors: yaml-language-server)
    #[command(
        after_help = "Examples:\n  driftsync config schema > .driftsync/sync.schema.json\n  # then, first line of sync.yaml:\n  # yaml-language-server: $schema=./sync.schema.json"
    )]
    Schema,
}

pub fn run(global: &Global, args: ConfigArgs) -> anyhow::Result<Exit> {
    match args.action {
        ConfigAction::Validate => {
            let c = crate::workspace::load_unset_allowed(global)?;
            for u in &c.unset {
                let d = &u.diagnostic;
                let needs = u
                    .target
                    .as_ref()
                    .map_or("every run".to_string(), |t| format!("target `{t}`"));
                eprintln!(
                    "note: {}:{}:{}: {}; {needs} needs it when it runs",
                    d.file.display(),
                    d.line,
                    d.column,
                    d.message
                );
            }
            println!(
                "{}: valid ({} target(s), {} pre-sync check(s), {} post-sync check(s), {} drift gate(s))",
                c.file.display(),
                c.targets.len(),
                c.safety.pre_sync_checks.len(),
                c.safety.post_sync_checks.len(),
                c.safety.drift_gates.len()
            );
        }
        ConfigAction::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&driftsync_config::json_schema())?
            );
        }
    }
    Ok(Exit::Ok)
}
