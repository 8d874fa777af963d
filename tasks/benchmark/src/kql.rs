//! Side-by-side timing of detwiki-kql and its reference parser (Kusto.Language through
//! `../shared/oracles/kql_batch.js` and `kql_oracle.js --bench`), single-threaded, in one run.
//!
//! The oracle reads the five KQL corpora and reports every query unit with its text and the time
//! Kusto.Language took to parse it; detwiki then parses the same texts. A second comparison
//! parses one query (the seed rule) many times on both sides, once the oracle's JIT is warm.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value as Json;

use crate::shared::shared_dir;
use crate::timing::mean_pass_seconds;

/// The KQL corpora, as folders of `../shared/corpus`.
pub const CORPORA: &[&str] = &[
    "HybridBrothers__Hunting-Queries-Detection-Rules",
    "Bert-JanP__Hunting-Queries-Detection-Rules",
    "FalconForceTeam__FalconFriday",
    "microsoft__Microsoft-365-Defender-Hunting-Queries",
    "Azure__Azure-Sentinel",
];

/// The seed rule's query, used for the warm single-query comparison.
const SEED: &str = "DeviceNetworkEvents\n| where TimeGenerated > ago(1h)\n| where InitiatingProcessParentFileName =~ \"msiexec.exe\"\n| join kind=inner (\n    DeviceProcessEvents\n    | where Timestamp > ago(3d)\n    | where InitiatingProcessFileName =~ \"msiexec.exe\"\n) on DeviceId, \n    $left.InitiatingProcessParentId == $right.InitiatingProcessId,\n    $left.InitiatingProcessParentCreationTime == $right.InitiatingProcessCreationTime\n| where InitiatingProcessCommandLine1 has_any (\"/y\", \"-y\", \"/z\", \"-z\")";

/// Every query unit of the KQL corpora as the oracle reports it: (text, oracle parse ms).
pub fn oracle_units(shared: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let oracle = shared.join("oracles/kql_batch.js");
    if !oracle.exists() {
        bail!("detwiki-benchmark: {} not found (pass --shared DIR)", oracle.display());
    }
    let output = Command::new("node")
        .arg(&oracle)
        .args(CORPORA)
        .current_dir(shared.join("corpus"))
        .output()
        .context("running node (is Node.js installed?)")?;
    if !output.status.success() {
        bail!("detwiki-benchmark: the oracle failed: {}", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut units = Vec::new();
    for line in text.lines() {
        let Ok(json) = serde_json::from_str::<Json>(line) else { continue };
        if let (Some(query), Some(ms)) = (json["text"].as_str(), json["parse_ms"].as_f64()) {
            units.push((query.to_owned(), ms));
        }
    }
    Ok(units)
}

fn oracle_bench(shared: &Path, iterations: usize) -> anyhow::Result<f64> {
    let output = Command::new("node")
        .arg(shared.join("oracles/kql_oracle.js"))
        .args(["--bench", &iterations.to_string(), SEED])
        .output()
        .context("running node")?;
    let json: Json = serde_json::from_slice(&output.stdout).context("reading kql_oracle.js --bench output")?;
    json["parse_only"]["queries_per_second"].as_f64().context("no queries_per_second in the oracle's output")
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let units = oracle_units(&shared)?;
    let texts: Vec<&str> = units.iter().map(|(text, _)| text.as_str()).collect();
    let oracle_seconds: f64 = units.iter().map(|(_, ms)| ms / 1000.0).sum();
    let parse_seconds = mean_pass_seconds(&texts, 20, |text| detwiki_kql::parse(text).diagnostics.len());
    let analyze_seconds = mean_pass_seconds(&texts, 20, |text| detwiki_kql::analyze(text).len());
    let count = texts.len() as f64;
    let bytes: usize = texts.iter().map(|text| text.len()).sum();
    println!("KQL corpus: {} query units, {:.1} MB, single-threaded", texts.len(), bytes as f64 / 1e6);
    println!("  Kusto.Language parse (kql_batch.js parse_ms):  {:>10.0} queries/s", count / oracle_seconds);
    println!("  detwiki-kql parse (mean of 20 passes):          {:>10.0} queries/s", count / parse_seconds);
    println!("  detwiki-kql analyze (split + parse + lower):    {:>10.0} queries/s", count / analyze_seconds);
    println!("  ratio, parse:                                   {:>10.1}x", oracle_seconds / parse_seconds);
    println!("  ratio, detwiki analyze vs oracle parse:         {:>10.1}x", oracle_seconds / analyze_seconds);

    let iterations = 20_000;
    let oracle_warm = oracle_bench(&shared, iterations)?;
    let seed_seconds = mean_pass_seconds(&[SEED; 1000], 20, |text| detwiki_kql::parse(text).diagnostics.len());
    let detwiki_warm = 1000.0 / seed_seconds;
    println!("Seed query, warm (kql_oracle.js --bench {iterations}):");
    println!("  Kusto.Language parse:                           {oracle_warm:>10.0} queries/s");
    println!("  detwiki-kql parse:                              {detwiki_warm:>10.0} queries/s");
    println!("  ratio:                                          {:>10.1}x", detwiki_warm / oracle_warm);
    Ok(())
}
