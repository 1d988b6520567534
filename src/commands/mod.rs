//! One module per command; `dispatch` routes a parsed command line to it.

pub mod hook;
pub mod schema;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    let _global = &cli.global;
    match cli.command {
        // One arm per command: `Command::Name(args) => name::run(&cli.global, args),`
        Command::Schema(args) => schema::run(&cli.global, args),
        Command::Hook(args) => hook::run(&cli.global, args),
    }
}
