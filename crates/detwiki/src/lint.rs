//! `detwiki lint`: every engine diagnostic and catalog finding of a sources file or of files on
//! the command line, as text, JSON or SARIF 2.1.0; a severity threshold, a baseline of known
//! findings, and exit code 1 when findings at or above the threshold remain.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use detwiki_catalog::{Catalog, CatalogIndex, Finding, FindingSeverity, catalog_findings};
use detwiki_knowledge::Knowledge;
use detwiki_site::{SarifSource, file_root_uri, sarif_log};
use serde::{Deserialize, Serialize};

use crate::catalog_input::{ReadSources, read_command_line, read_sources_file};
use crate::flags::{LintArgs, LintFormat};
use crate::messages::{Outcome, message};

/// A baseline: the fingerprints of known findings, which later runs do not report.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    version: u32,
    fingerprints: BTreeSet<String>,
}

const BASELINE_VERSION: u32 = 1;

pub fn run(args: &LintArgs) -> Outcome {
    let baseline = match &args.baseline {
        Some(path) => match load_baseline(path) {
            Ok(baseline) => baseline,
            Err(outcome) => return outcome,
        },
        None => Baseline::default(),
    };
    let read: ReadSources = if args.paths.is_empty() {
        let config = args.config.clone().unwrap_or_else(|| "detwiki.toml".into());
        match read_sources_file(&config, args.cache.as_deref()) {
            Ok(read) => read,
            Err(outcome) => return outcome,
        }
    } else {
        read_command_line(&args.paths)
    };
    let roots = read.roots.clone();
    let failed_sources = !read.failed.is_empty();
    let catalog = Catalog::build(read.inputs, &|_| {});
    let knowledge = Knowledge::bundled();
    let index = CatalogIndex::build(&catalog, knowledge);
    let all = catalog_findings(&catalog, &index, knowledge);
    let at_level: Vec<&Finding> = all.iter().filter(|finding| finding.severity.at_least(args.severity)).collect();
    let suppressed = at_level.iter().filter(|finding| baseline.fingerprints.contains(&finding.fingerprint)).count();
    let reported: Vec<Finding> =
        at_level.into_iter().filter(|finding| !baseline.fingerprints.contains(&finding.fingerprint)).cloned().collect();

    let rendered = match args.format {
        LintFormat::Text => render_text(&reported, suppressed, args.severity),
        LintFormat::Json => {
            let document = serde_json::json!({
                "version": 1,
                "severity_threshold": args.severity.as_str(),
                "suppressed_by_baseline": suppressed,
                "findings": reported,
            });
            let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
            text.push('\n');
            text
        }
        LintFormat::Sarif => {
            let sources: Vec<SarifSource> = catalog
                .sources
                .iter()
                .map(|entry| SarifSource {
                    name: entry.info.name.clone(),
                    root_uri: roots.get(&entry.info.name).map(|root| file_root_uri(root)),
                })
                .collect();
            let log = sarif_log(&reported, &sources, env!("CARGO_PKG_VERSION"));
            let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    match &args.output {
        Some(path) => {
            if let Err(error) = std::fs::write(path, &rendered) {
                message!("{}: {error}", path.display());
                return Outcome::Failures;
            }
        }
        None => {
            let _ = crate::output::write_stdout(&rendered);
        }
    }
    if args.format != LintFormat::Text || args.output.is_some() {
        message!("{}", summary(&reported, suppressed, args.severity));
    }
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline {
            version: BASELINE_VERSION,
            fingerprints: reported.iter().map(|finding| finding.fingerprint.clone()).collect(),
        };
        let mut text = serde_json::to_string_pretty(&baseline).unwrap_or_default();
        text.push('\n');
        if let Err(error) = std::fs::write(path, text) {
            message!("{}: {error}", path.display());
            return Outcome::Failures;
        }
    }
    if reported.is_empty() && !failed_sources { Outcome::Success } else { Outcome::Failures }
}

fn load_baseline(path: &Path) -> Result<Baseline, Outcome> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        message!("{}: {error}", path.display());
        Outcome::Usage
    })?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|error| {
        message!("{}: not a detwiki baseline: {error}", path.display());
        Outcome::Usage
    })?;
    if baseline.version != BASELINE_VERSION {
        message!("{}: baseline version {} (expected {BASELINE_VERSION})", path.display(), baseline.version);
        return Err(Outcome::Usage);
    }
    Ok(baseline)
}

fn summary(reported: &[Finding], suppressed: usize, threshold: FindingSeverity) -> String {
    let count = |severity: FindingSeverity| reported.iter().filter(|finding| finding.severity == severity).count();
    let mut text = format!(
        "{} finding(s) at {} or above: {} error(s), {} warning(s), {} note(s)",
        reported.len(),
        threshold.as_str(),
        count(FindingSeverity::Error),
        count(FindingSeverity::Warning),
        count(FindingSeverity::Note)
    );
    if suppressed > 0 {
        text.push_str(&format!("; {suppressed} known finding(s) suppressed by the baseline"));
    }
    text
}

fn render_text(reported: &[Finding], suppressed: usize, threshold: FindingSeverity) -> String {
    let mut out = String::new();
    for finding in reported {
        let _ = writeln!(
            out,
            "{}: {}:{}:{}: {} [{}] {}",
            finding.source,
            finding.path,
            finding.line,
            finding.column,
            finding.severity.as_str(),
            finding.code,
            finding.message
        );
        if let Some(help) = &finding.help {
            let _ = writeln!(out, "    help: {help}");
        }
    }
    let _ = writeln!(out, "{}", summary(reported, suppressed, threshold));
    out
}
