//! Side-by-side timing of detwiki's Kibana KQL (kuery) and Lucene parsers and their references,
//! kibana-ql 0.2 and luqum 1.0.0, single-threaded, in one run.
//!
//! The oracle side is `tasks/conformance/oracles/elastic_query_batch.py --bench N`: one
//! interpreter parses every query N times and reports the seconds per language (interpreter start
//! and reading excluded). The texts are every kuery and Lucene query of the Elastic corpus; the
//! corpus has a single Lucene query, so `../shared/oracles/sample.lucene` (every Lucene construct
//! the engine reads) is timed beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use detwiki_elastic::{kuery, lucene};
use detwiki_ir::Language;
use serde_json::Value as Json;

use crate::shared::{oracles_home, shared_dir};
use crate::timing::mean_pass_seconds;

/// The kuery and the Lucene texts, in corpus order.
fn texts(shared: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let read = detwiki_sources::read_paths(&[shared.join("corpus/elastic__detection-rules")]);
    let of = |language: Language| -> Vec<String> {
        read.rules
            .iter()
            .flat_map(|rule| &rule.queries)
            .filter(|query| query.language == language)
            .map(|query| query.text.clone())
            .collect()
    };
    let mut lucene = of(Language::Lucene);
    let sample = shared.join("oracles/sample.lucene");
    lucene.push(
        std::fs::read_to_string(&sample).with_context(|| format!("reading {}", sample.display()))?.trim().to_owned(),
    );
    Ok((of(Language::Kuery), lucene))
}

/// Seconds per pass of the references over the texts: (kuery, Lucene).
fn oracle_seconds(kuery: &[String], lucene: &[String], passes: usize) -> anyhow::Result<(f64, f64)> {
    let python = oracles_home().join("venv3/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/oracles/elastic_query_batch.py");
    let mut input = String::new();
    for (language, texts) in [("kuery", kuery), ("lucene", lucene)] {
        for (index, text) in texts.iter().enumerate() {
            let line = serde_json::json!({"id": format!("{language}{index}"), "language": language, "text": text});
            input.push_str(&line.to_string());
            input.push('\n');
        }
    }
    let output = crate::oracle::run_with_input(&python, &script, &["--bench", &passes.to_string()], input)?;
    let report: Json = serde_json::from_slice(&output).context("reading elastic_query_batch.py --bench output")?;
    let seconds = |key: &str| report[key].as_f64().map(|total| total / passes.max(1) as f64);
    Ok((
        seconds("kuery_seconds").context("no kuery_seconds in the oracle's output")?,
        seconds("lucene_seconds").context("no lucene_seconds in the oracle's output")?,
    ))
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let (kuery_texts, lucene_texts) = texts(&shared)?;
    if kuery_texts.is_empty() {
        bail!("detwiki-benchmark: no kuery query under {} (pass --shared DIR)", shared.display());
    }
    // The Lucene side has two texts: many passes give both sides a measurable time.
    let (kuery_oracle, _) = oracle_seconds(&kuery_texts, &[], 3)?;
    let (_, lucene_oracle) = oracle_seconds(&[], &lucene_texts, 300)?;
    let kuery_parse = mean_pass_seconds(&kuery_texts, 50, |text| kuery::parse(text).diagnostics.len());
    let kuery_analyze = mean_pass_seconds(&kuery_texts, 50, |text| kuery::analyze(text).stages.len());
    let lucene_parse = mean_pass_seconds(&lucene_texts, 20_000, |text| lucene::parse(text).diagnostics.len());
    let lucene_analyze = mean_pass_seconds(&lucene_texts, 20_000, |text| lucene::analyze(text).stages.len());
    for (name, reference, texts, oracle, parse, analyze) in [
        ("kuery", "kibana-ql 0.2", &kuery_texts, kuery_oracle, kuery_parse, kuery_analyze),
        ("Lucene", "luqum 1.0.0", &lucene_texts, lucene_oracle, lucene_parse, lucene_analyze),
    ] {
        let count = texts.len() as f64;
        let bytes: usize = texts.iter().map(String::len).sum();
        println!("{name}: {} queries, {bytes} bytes, single-threaded", texts.len());
        println!("  {reference} parse:                  {:>12.0} queries/s", count / oracle);
        println!("  detwiki parse:                      {:>12.0} queries/s", count / parse);
        println!("  detwiki analyze (parse + lower):    {:>12.0} queries/s", count / analyze);
        println!("  ratio, parse:                       {:>12.1}x", oracle / parse);
        println!("  ratio, detwiki analyze vs parse:    {:>12.1}x", oracle / analyze);
    }
    Ok(())
}
