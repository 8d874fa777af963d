//! The `detwiki` binary: parses flags and hands over to the library crates. Everything that could
//! be reused lives in `detwiki-sources`, `detwiki-catalog` and `detwiki-site`.

mod analyze;
mod build;
mod flags;
mod messages;
mod output;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::flags::{Cli, Command};
use crate::messages::Outcome;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            let outcome = if error.use_stderr() { Outcome::Usage } else { Outcome::Success };
            return ExitCode::from(outcome.code());
        }
    };
    let outcome = match &cli.command {
        Command::Build(args) => build::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Serve(args) => serve::run(args),
    };
    ExitCode::from(outcome.code())
}
