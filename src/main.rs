//! driftsync: keep a repository in step with the other places its truth lives.

mod after;
mod cli;
mod commands;
mod content_check;
mod env;
mod executors;
mod exit;
mod github;
mod render;
mod replicas;
mod sync_target;
mod workspace;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code.into(),
        Err(err) => exit::report_error(&err).into(),
    }
}
