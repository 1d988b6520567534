//! `driftsync list`: the targets, their direction and schedule.

use clap::Args;
use serde::Serialize;

use super::run::SelectArgs;
use crate::cli::Global;
use crate::exit::Exit;

/// Options of `list`.
#[derive(Debug, Args)]
#[command(
    about = "List targets: name, type, direction, schedule, description",
    long_about = "List the targets of .driftsync/sync.yaml, honouring the same filters as `run` \
(--target, --direction, --schedule).",
    after_help = "Examples:\n  driftsync list\n  driftsync list --direction pull --json\n  driftsync list --schedule '0 2 * * *'"
)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    direction: &'a str,
    schedule: Option<&'a str>,
    description: Option<&'a str>,
}

pub fn run(global: &Global, args: ListArgs) -> anyhow::Result<Exit> {
    let config = crate::workspace::load_unset_allowed(global)?;
    let rows: Vec<Row<'_>> = args
        .select
        .select(&config)?
        .into_iter()
        .map(|t| Row {
            name: &t.name,
            kind: t.type_name(),
            direction: t.direction.as_str(),
            schedule: t.schedule.as_ref().map(|c| c.as_str()),
            description: t.description.as_deref(),
        })
        .collect();
    let mut out = String::new();
    if args.json {
        out = serde_json::to_string_pretty(&rows)?;
        out.push('\n');
    } else {
        let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let sw = rows
            .iter()
            .filter_map(|r| r.schedule.map(str::len))
            .max()
            .unwrap_or(8)
            .max(8);
        out.push_str(&format!(
            "{:<w$}  {:<8} {:<13} {:<sw$}  DESCRIPTION\n",
            "NAME", "TYPE", "DIRECTION", "SCHEDULE"
        ));
        for r in &rows {
            out.push_str(&format!(
                "{:<w$}  {:<8} {:<13} {:<sw$}  {}\n",
                r.name,
                r.kind,
                r.direction,
                r.schedule.unwrap_or("-"),
                r.description.unwrap_or("")
            ));
        }
    }
    let masker = driftsync_runner::Masker::from_config(&config, std::env::vars());
    crate::render::stdout::write(&masker.mask(&out))?;
    Ok(Exit::Ok)
}
