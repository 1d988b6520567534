//! One module per command; `dispatch` routes a parsed command line to it.

pub mod bundle;
pub mod check;
pub mod config;
pub mod conflicts;
pub mod hook;
pub mod lint_migrations;
pub mod list;
pub mod matrix;
pub mod publish;
pub mod report;
pub mod restore;
pub mod run;
pub mod schema;
pub mod space;
pub mod sync;
pub mod target_of;
pub mod workflow;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Run the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        // One arm per command: `Command::Name(args) => name::run(&cli.global, args),`
        Command::Run(args) => run::run(&cli.global, args),
        Command::Check(args) => check::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Config(args) => config::run(&cli.global, args),
        Command::Sync(args) => sync::run(&cli.global, args),
        Command::Bundle(args) => bundle::run(&cli.global, args),
        Command::Space(args) => space::run(&cli.global, args),
        Command::Schema(args) => schema::run(&cli.global, args),
        Command::Hook(args) => hook::run(&cli.global, args),
        Command::Matrix(args) => matrix::run(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
        Command::Workflow(args) => workflow::run(&cli.global, args),
        Command::Restore(args) => restore::run(&cli.global, args),
        Command::Conflicts(args) => conflicts::run(&cli.global, args),
    }
}
