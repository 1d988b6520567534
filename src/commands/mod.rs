//! One module per command; `dispatch` routes a parsed command line to it.

pub mod publish;
pub mod report;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    let _global = &cli.global;
    match cli.command {
        // One arm per command: `Command::Name(args) => name::run(&cli.global, args),`
        Command::Publish(args) => publish::run(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
    }
}
