//! Every flag of the command line, in one place. Flags validate; they do not act.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use detwiki_ir::Language;

const AFTER_HELP: &str = "\
Exit codes:
  0  everything was read and built
  1  a source or file could not be read, a language engine failed on a
     rule, a source yielded fewer rules than its expect_rules_at_least,
     or (analyze) a rule has errors or no rule was found
  2  usage or configuration error (bad flag, missing or invalid sources
     file, output folder that is not a detwiki site)";

/// detwiki reads detection-rule repositories (Sigma, KQL, Splunk, Elastic,
/// YARA-L) and publishes a static wiki with a page per rule.
#[derive(Debug, Parser)]
#[command(name = "detwiki", version, max_term_width = 80, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site from a sources file
    Build(BuildArgs),
    /// Print the rules of files or folders and their analyses
    Analyze(AnalyzeArgs),
    /// Serve a built site on http://127.0.0.1
    Serve(ServeArgs),
    /// Print a rule's catalog view: ATT&CK, events, indicators with counts
    Show(ShowArgs),
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct BuildArgs {
    /// Sources file (TOML with [[source]] entries)
    #[arg(long, value_name = "FILE", default_value = "detwiki.toml")]
    pub config: PathBuf,
    /// Folder the site is written to (replaced atomically)
    #[arg(long, value_name = "DIR", default_value = "site")]
    pub out: PathBuf,
    /// Folder where git sources are cloned [default: the user cache
    /// folder, else .detwiki-cache]
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// List every skipped file with its reason
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct AnalyzeArgs {
    /// Read files as this language instead of detecting it (kql, sigma,
    /// spl, eql, kuery, lucene, esql, yaral); in folders, keep only rules
    /// with a query in it
    #[arg(long, value_name = "L", value_parser = parse_language)]
    pub lang: Option<Language>,
    /// Print one JSON document per rule per line (docs/json.md)
    #[arg(long)]
    pub json: bool,
    /// Files or folders to read; - reads standard input
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ServeArgs {
    /// Folder of a built site
    #[arg(long, value_name = "DIR", default_value = "site")]
    pub dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, value_name = "P", default_value_t = 8000)]
    pub port: u16,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ShowArgs {
    /// Sources file the catalog is built from
    #[arg(long, value_name = "FILE", default_value = "detwiki.toml")]
    pub config: PathBuf,
    /// Folder where git sources are cloned [default: .detwiki-cache]
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Print the rule page's JSON twin instead of text
    #[arg(long)]
    pub json: bool,
    /// Rule id, or path to a rule file
    #[arg(value_name = "RULE")]
    pub rule: String,
}

fn parse_language(name: &str) -> Result<Language, String> {
    Language::from_name(name).filter(|language| *language != Language::None).ok_or_else(|| {
        format!("unknown language {name:?}; expected one of kql, sigma, spl, eql, kuery, lucene, esql, yaral")
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_fits_80_columns() {
        let mut command = Cli::command().term_width(80);
        let mut texts = vec![command.render_long_help().to_string()];
        for name in ["build", "analyze", "serve", "show"] {
            if let Some(sub) = command.find_subcommand_mut(name) {
                texts.push(sub.render_long_help().to_string());
            }
        }
        for text in texts {
            for line in text.lines() {
                assert!(line.chars().count() <= 80, "help line over 80 columns: {line:?}");
            }
        }
    }
}
