//! `driftsync check`: run in check mode, change nothing, exit 1 on drift.

use clap::Args;
use driftsync_runner::RunOptions;

use super::run::SelectArgs;
use crate::cli::Global;
use crate::env;
use crate::exit::Exit;

/// Options of `check`.
#[derive(Debug, Args)]
#[command(
    about = "Report drift without committing anything (exit 1 on drift)",
    long_about = "Run the selected targets in check mode and change nothing in the repository (working \
tree, index, HEAD): pull and bidirectional command targets run in the working tree with DRIFTSYNC_CHECK=1, \
their outputs are compared with HEAD (changed files are drift), then every path matching their `outputs` is \
put back byte for byte (new files removed, deleted ones recreated, uncommitted edits kept). A target that \
changes paths outside its `outputs` fails. Sync, bundle and schema targets only plan. Push targets with \
`inputs` report drift when their inputs changed since the last push (their entrypoint does not run). \
Gates run as in `run`. Nothing is committed. Notifications (`notify:` in sync.yaml) are sent as \
after `run` unless --no-notify or DRIFTSYNC_NO_NOTIFY=1.\n\n\
Exit codes: 0 in sync, 1 drift or a failed gate/target, 2 configuration or environment error.",
    after_help = "Examples:\n  driftsync check\n  driftsync check --target docs --ci\n  driftsync check --json > drift.json\n  driftsync check --no-notify"
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Run each target's verification command after it
    #[arg(long)]
    pub verify: bool,
    /// Stop at the first failed target
    #[arg(long)]
    pub fail_fast: bool,
    #[command(flatten)]
    pub out: super::run::ReportArgs,
}

pub fn run(global: &Global, args: CheckArgs) -> anyhow::Result<Exit> {
    let opts = RunOptions {
        command: "check".into(),
        dry_run: false,
        check: true,
        verify: args.verify,
        force: false,
        fail_fast: args.fail_fast,
        ci: global.in_ci(),
        commit: false,
        github_actions: env::is_true(env::GITHUB_ACTIONS),
        push: Some(false),
        git_token: None,
        retries: 0,
        proposal_branch: None,
        same_base: Some(driftsync_engine::state::State::same_result),
    };
    super::run::execute(global, &args.select, opts, &args.out)
}
