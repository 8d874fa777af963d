//! The `detwiki` binary: parses flags and hands over to the library crates. Everything that could
//! be reused lives in `detwiki-sources`, `detwiki-catalog`, `detwiki-site` and `detwiki-db`.

mod analyze;
mod build;
mod catalog_input;
mod coverage;
mod export;
mod find;
mod flags;
mod lint;
mod messages;
mod output;
mod serve;
mod show;

use std::process::ExitCode;

use clap::Parser;

use crate::flags::{Cli, Command};
use crate::messages::Outcome;

fn main() -> ExitCode {
    // A panic in a language engine is caught per rule by the catalog and counted; this hook only
    // makes its message look like every other message (CI looks for the word "panicked").
    std::panic::set_hook(Box::new(|info| eprintln!("detwiki: {info}")));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            let rendered = error.render().to_string();
            eprint!("detwiki: {}", rendered.strip_prefix("error: ").unwrap_or(&rendered));
            return ExitCode::from(Outcome::Usage.code());
        }
        Err(error) => {
            // --help and --version.
            let _ = error.print();
            return ExitCode::from(Outcome::Success.code());
        }
    };
    let outcome = match &cli.command {
        Command::Build(args) => build::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Show(args) => show::run(args),
        Command::Find(args) => find::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Export(args) => export::run(args),
    };
    ExitCode::from(outcome.code())
}
