//! `driftsync matrix`: the selected targets as a job matrix for `strategy.matrix`.

use clap::Args;
use serde_json::json;

use super::run::SelectArgs;
use crate::cli::Global;
use crate::exit::Exit;

/// Print the selected targets as `{"include":[{"target":…,"direction":…,"type":…}]}`
/// (and, inside Actions, set the step output `matrix` to it).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync matrix --direction pull\n  driftsync matrix --schedule '0 2 * * *'\n\n\
In a workflow: `matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`, then \
`driftsync run --target \"${TARGET}\"` with TARGET from `matrix.target`."
)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub select: SelectArgs,
}

/// Run `matrix`.
pub fn run(global: &Global, args: MatrixArgs) -> anyhow::Result<Exit> {
    let config = crate::workspace::load(global)?;
    let targets = args.select.select(&config)?;
    let include: Vec<_> = targets
        .iter()
        .map(|t| {
            json!({
                "target": t.name,
                "direction": t.direction.as_str(),
                "type": t.kind.type_name(),
            })
        })
        .collect();
    let matrix = json!({ "include": include }).to_string();
    println!("{matrix}");
    if crate::github::in_actions() {
        if include.is_empty() {
            println!(
                "::warning::no target selected: a job matrix with no entries fails the workflow"
            );
        }
        if let Some(out) = std::env::var_os(driftsync_github::env::GITHUB_OUTPUT) {
            driftsync_github::files::write_outputs(
                std::path::Path::new(&out),
                &[("matrix", matrix)],
            )?;
        }
    }
    Ok(Exit::Ok)
}
