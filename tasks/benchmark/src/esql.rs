//! Side-by-side timing of detwiki's ES|QL engine and Elastic's ANTLR grammar (PyPI `esql-parser`
//! 9.1.3), single-threaded, in one run, on every ES|QL query of the Elastic corpus.
//!
//! The oracle side is `tasks/conformance/oracles/esql_batch.py --passes N`: one interpreter
//! parses every query N times in N passes and reports each pass's parse time (interpreter start
//! and tree walking excluded). Its first pass fills ANTLR's prediction caches; the warm figure
//! is the mean of the later passes, the fair comparison with detwiki's mean of 20 passes.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use detwiki_ir::Language;
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};
use crate::timing::mean_pass_seconds;

/// Every ES|QL query of the Elastic corpus, as detwiki-sources reads it.
fn corpus_texts(shared: &Path) -> Vec<String> {
    let read = detwiki_sources::read_paths(&[shared.join("corpus/elastic__detection-rules")]);
    let mut texts: Vec<String> = read
        .rules
        .into_iter()
        .flat_map(|rule| rule.queries)
        .filter(|query| query.language == Language::Esql)
        .map(|query| query.text)
        .collect();
    texts.sort();
    texts
}

/// Seconds per pass of the oracle over `texts`, one entry per pass.
fn oracle_passes(texts: &[String], passes: usize) -> anyhow::Result<Vec<f64>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/oracles/esql_batch.py");
    let python = oracles_home().join("venv3/bin/python");
    let input: String = texts
        .iter()
        .enumerate()
        .map(|(index, text)| format!("{}\n", json!({"id": index.to_string(), "text": text})))
        .collect();
    let output = crate::oracle::run_with_input(&python, &script, &["--passes", &passes.to_string()], input)?;
    let text = String::from_utf8_lossy(&output);
    let summary = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .find(|json| json.get("summary").is_some())
        .context("no summary line from esql_batch.py")?;
    Ok(summary["pass_seconds"]
        .as_array()
        .map(|passes| passes.iter().filter_map(Json::as_f64).collect())
        .unwrap_or_default())
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let texts = corpus_texts(&shared);
    if texts.is_empty() {
        bail!("detwiki-benchmark: no ES|QL queries under {}", shared.join("corpus").display());
    }
    let passes = 3;
    let oracle = oracle_passes(&texts, passes)?;
    let cold = oracle.first().copied().unwrap_or(f64::NAN);
    let warm = if oracle.len() > 1 { oracle[1..].iter().sum::<f64>() / (oracle.len() - 1) as f64 } else { cold };
    let parse = mean_pass_seconds(&texts, 20, |text| detwiki_elastic::esql::parse(text).diagnostics.len());
    let analyze = mean_pass_seconds(&texts, 20, |text| detwiki_elastic::esql::analyze(text).stages.len());
    let count = texts.len() as f64;
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("ES|QL corpus: {} queries, {:.2} MB, single-threaded", texts.len(), bytes as f64 / 1e6);
    println!("  esql-parser (ANTLR, Python), first pass:          {:>10.0} queries/s", count / cold);
    println!("  esql-parser (ANTLR, Python), warm ({} passes):     {:>10.0} queries/s", passes - 1, count / warm);
    println!("  detwiki esql parse (mean of 20 passes):           {:>10.0} queries/s", count / parse);
    println!("  detwiki esql analyze (parse + lower):             {:>10.0} queries/s", count / analyze);
    println!("  ratio, parse vs warm oracle:                      {:>10.1}x", warm / parse);
    println!("  ratio, analyze vs warm oracle:                    {:>10.1}x", warm / analyze);
    Ok(())
}
