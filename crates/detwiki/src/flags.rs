//! Every flag of the command line, in one place. Flags validate; they do not act.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use detwiki_ir::Language;

/// The exit codes, shared by every command's help.
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0  everything was read and built
  1  a source or file could not be read, a language engine failed on a
     rule, a source yielded fewer rules than its expect_rules_at_least,
     (analyze) a rule has errors or no rule was found, (show) no such
     rule or an ambiguous one, (lint) findings at or above --severity
  2  usage or configuration error (bad flag, missing or invalid sources
     file, output folder that is not a detwiki site, missing catalog)"
    };
}

const AFTER_HELP: &str = exit_codes!();

/// The help of the commands that read a catalog: which catalog wins.
const CATALOG_HELP: &str = concat!(
    "\
Catalog: --catalog FILE wins, then --config FILE (the catalog is built
from the sources file, which takes seconds), then ./site/catalog.sqlite
when it exists, then ./detwiki.toml.

",
    exit_codes!()
);

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
    /// Find rules by indicator, technique, event, language or source
    Find(FindArgs),
    /// ATT&CK coverage, and which rules can fire with a telemetry profile
    Coverage(CoverageArgs),
    /// Report rule problems: engine diagnostics and catalog checks
    Lint(LintArgs),
    /// Write the catalog as SQLite, NDJSON or ATT&CK Navigator layers
    Export(ExportArgs),
}

/// Where `show`, `find`, `coverage` and `export` take the catalog from.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Catalog database written by `detwiki build` [default:
    /// ./site/catalog.sqlite]
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Build the catalog from this sources file instead of reading a
    /// database [default: ./detwiki.toml when there is no database]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder where git sources are cloned (with --config) [default: the
    /// user cache folder]
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
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
    /// Where the site will be hosted: a URL or a path (https://example.org/
    /// wiki/ or /wiki/); the sitemap and the 404 page link with it, other
    /// pages link relatively
    #[arg(long, value_name = "URL", default_value = "/", value_parser = parse_base_url)]
    pub base_url: String,
    /// Rows per page of the rule lists
    #[arg(long, value_name = "N", default_value_t = detwiki_site::DEFAULT_PAGE_SIZE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub page_size: usize,
    /// Skip the search index (pagefind/): a faster preview build whose
    /// search page finds nothing
    #[arg(long)]
    pub no_search: bool,
}

/// A base URL: an http(s) URL or a path from the host's root, always ending with `/`. Anything
/// else (a relative path, another scheme, a quote or space that would break a link) is refused.
fn parse_base_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let path = if let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) {
        if rest.is_empty() || rest.starts_with('/') {
            return Err("the URL has no host".to_owned());
        }
        rest
    } else if text.starts_with('/') {
        text
    } else {
        return Err("expected an http(s) URL or a path starting with /".to_owned());
    };
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '?' | '#'))
    {
        return Err("the URL has a space, quote, angle bracket, query or fragment".to_owned());
    }
    Ok(if text.ends_with('/') { text.to_owned() } else { format!("{text}/") })
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
#[command(after_help = CATALOG_HELP)]
pub struct ShowArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Print the rule page's JSON twin instead of text
    #[arg(long)]
    pub json: bool,
    /// Rule id, file path as the page shows it (or absolute), or a unique
    /// title fragment
    #[arg(value_name = "RULE")]
    pub rule: String,
}

#[derive(Debug, Args)]
#[command(after_help = CATALOG_HELP)]
pub struct FindArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Indicator field: canonical (process_name) or raw (FileName, Image)
    #[arg(long, value_name = "F")]
    pub field: Option<String>,
    /// Indicator value, matched as the catalog matches it (case-folded for
    /// case-insensitive tests; *x* means contains x)
    #[arg(long, value_name = "V")]
    pub value: Option<String>,
    /// Indicator kind: eq, contains, starts_with, ends_with, match, regex_match,
    /// ...
    #[arg(long, value_name = "K", requires = "value")]
    pub kind: Option<String>,
    /// ATT&CK technique ID; a technique finds its sub-techniques too
    #[arg(long, value_name = "T")]
    pub technique: Option<String>,
    /// Telemetry event the rule needs: PROVIDER or PROVIDER:ID (Sysmon:1,
    /// DeviceProcessEvents)
    #[arg(long, value_name = "PROVIDER[:ID]")]
    pub event: Option<String>,
    /// Language or family (kql, sigma, spl, eql, esql, kusto, elastic, ...)
    #[arg(long, value_name = "L")]
    pub language: Option<String>,
    /// Source name, its owner part, or its slug
    #[arg(long, value_name = "S")]
    pub source: Option<String>,
    /// Print one JSON document with every match and why
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = CATALOG_HELP)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Only rules of this source
    #[arg(long, value_name = "S")]
    pub source: Option<String>,
    /// Only rules of this language or family
    #[arg(long, value_name = "L")]
    pub language: Option<String>,
    /// Telemetry profile (TOML): which rules can fire with these events
    /// (examples/telemetry/)
    #[arg(long, value_name = "PROFILE")]
    pub telemetry: Option<PathBuf>,
    /// ATT&CK Navigator layer to write [default with --telemetry:
    /// PROFILE-NAME-layer.json]
    #[arg(long, value_name = "FILE")]
    pub layer: Option<PathBuf>,
    /// Print one JSON document instead of text
    #[arg(long)]
    pub json: bool,
}

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Sqlite,
    Ndjson,
    Navigator,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct LintArgs {
    /// Sources file to lint [default: ./detwiki.toml when no PATH is given]
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub config: Option<PathBuf>,
    /// Folder where git sources are cloned [default: the user cache folder]
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report findings at or above this severity: error, warning, note
    #[arg(long, value_name = "LEVEL", default_value = "warning", value_parser = parse_severity)]
    pub severity: detwiki_catalog::FindingSeverity,
    /// Baseline file: findings listed there are known and not reported
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the reported findings to FILE as a baseline
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Rule files or a repository folder to lint instead of a sources file
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = CATALOG_HELP)]
pub struct ExportArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// sqlite: the catalog database; ndjson: one rule twin per line;
    /// navigator: ATT&CK Navigator layers per family and for all rules
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// File to write (a folder for navigator)
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

fn parse_severity(name: &str) -> Result<detwiki_catalog::FindingSeverity, String> {
    detwiki_catalog::FindingSeverity::from_name(name)
        .ok_or_else(|| format!("unknown severity {name:?}; expected error, warning or note"))
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
        for name in ["build", "analyze", "serve", "show", "find", "coverage", "lint", "export"] {
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
