//! Side-by-side timing of detwiki's EQL engine and Elastic's `eql` 1.0.1, single-threaded, in
//! one run, on every EQL query of Elastic's detection rules.
//!
//! Both sides parse the same texts in-process in a loop, with setup outside the timed part: eql
//! through `tasks/conformance/oracles/eql_batch.py --bench N` (one interpreter; the time printed
//! excludes interpreter start and reading), detwiki by calling [`eql::parse`] and [`eql::analyze`].

use std::path::PathBuf;

use anyhow::{Context, bail};
use detwiki_elastic::eql;
use detwiki_ir::Language;
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};
use crate::timing::mean_pass_seconds;

/// Every EQL query of `elastic__detection-rules` (rules, building blocks, hunting).
fn corpus_queries(shared: &std::path::Path) -> Vec<String> {
    let corpus = shared.join("corpus/elastic__detection-rules");
    let paths: Vec<PathBuf> = ["rules", "rules_building_block", "hunting"]
        .iter()
        .map(|folder| corpus.join(folder))
        .filter(|path| path.is_dir())
        .collect();
    let read = detwiki_sources::read_paths(&paths);
    read.rules
        .iter()
        .flat_map(|rule| &rule.queries)
        .filter(|query| query.language == Language::Eql)
        .map(|query| query.text.clone())
        .collect()
}

/// Seconds eql takes for one pass over `texts` (the mean of `passes`).
fn oracle_seconds(texts: &[String], passes: usize) -> anyhow::Result<f64> {
    let python = oracles_home().join("venv2/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/oracles/eql_batch.py");
    let mut input = String::new();
    for (index, text) in texts.iter().enumerate() {
        input.push_str(&json!({ "id": index.to_string(), "text": text }).to_string());
        input.push('\n');
    }
    let output = crate::oracle::run_with_input(&python, &script, &["--bench", &passes.to_string()], input)?;
    let report: Json = serde_json::from_slice(&output).context("reading eql_batch.py --bench output")?;
    let seconds = report["seconds"].as_f64().context("no seconds in the oracle's output")?;
    Ok(seconds / passes.max(1) as f64)
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let texts = corpus_queries(&shared);
    if texts.is_empty() {
        bail!("detwiki-benchmark: no EQL query under {} (pass --shared DIR)", shared.display());
    }
    let oracle = oracle_seconds(&texts, 3)?;
    let parse = mean_pass_seconds(&texts, 50, |text| eql::parse(text).diagnostics.len());
    let analyze = mean_pass_seconds(&texts, 50, |text| eql::analyze(text).stages.len());
    let count = texts.len() as f64;
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("EQL corpus: {} queries, {:.2} MB, single-threaded", texts.len(), bytes as f64 / 1e6);
    println!("  eql 1.0.1 parse (mean of 3 passes):            {:>10.0} queries/s", count / oracle);
    println!("  detwiki eql parse (mean of 50 passes):         {:>10.0} queries/s", count / parse);
    println!("  detwiki eql analyze (parse + lower):           {:>10.0} queries/s", count / analyze);
    println!("  ratio, parse:                                  {:>10.1}x", oracle / parse);
    println!("  ratio, detwiki analyze vs eql parse:           {:>10.1}x", oracle / analyze);
    Ok(())
}
