//! One module per command; `dispatch` routes a parsed command line to it.

pub mod bundle;
pub mod space;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    let _global = &cli.global;
    match cli.command {
        // One arm per command: `Command::Name(args) => name::run(&cli.global, args),`
        Command::Bundle(args) => bundle::run(&cli.global, args),
        Command::Space(args) => space::run(&cli.global, args),
    }
}
