//! Side-by-side timing of detwiki-sigma and pySigma on the whole SigmaHQ corpus, in one run.
//!
//! detwiki: every file read into memory first (pySigma's figures also exclude Python start-up),
//! then every document loaded (collections merged, modifiers applied, conditions parsed), lowered
//! to the IR and linted, single-threaded. pySigma: `sigma_batch.py`'s own `seconds` (load, analyse,
//! validate), also single-threaded. Usage: `cargo run --release -p detwiki-benchmark -- sigma
//! [--shared DIR] [--rounds N]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

use crate::shared::{oracles_home, shared_dir};

/// `*.yml`/`*.yaml` under `folder`, sorted, hidden folders skipped (as `sigma_batch.py` walks).
pub fn yaml_files(folder: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "yml" || extension == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Loads, lowers and lints every document of every text; returns the number of documents.
pub fn process_all(texts: &[String], context: &detwiki_sigma::LintContext) -> usize {
    let mut documents = 0;
    for text in texts {
        let file = detwiki_sigma::load(text);
        for index in 0..file.documents.len() {
            let analysis = detwiki_sigma::analyze_loaded(&file, index, text);
            std::hint::black_box(&analysis);
        }
        std::hint::black_box(detwiki_sigma::lint(text, &file, context));
        documents += file.documents.len();
    }
    documents
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let corpus = shared.join("corpus/SigmaHQ__sigma");
    let rounds: usize = arguments
        .iter()
        .position(|argument| argument == "--rounds")
        .and_then(|position| arguments.get(position + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let files = yaml_files(&corpus);
    anyhow::ensure!(!files.is_empty(), "detwiki-benchmark: no Sigma files under {}", corpus.display());
    let texts: Vec<String> = files.iter().filter_map(|path| std::fs::read_to_string(path).ok()).collect();
    let context = detwiki_sigma::LintContext::default();

    // detwiki: best of `rounds` (the first round also warms the page cache and allocator).
    let mut documents = 0;
    let mut best_full = f64::MAX;
    let mut best_load = f64::MAX;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        documents = process_all(&texts, &context);
        best_full = best_full.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        for text in &texts {
            std::hint::black_box(detwiki_sigma::load(text));
        }
        best_load = best_load.min(start.elapsed().as_secs_f64());
    }

    // pySigma, in the same run.
    let python = oracles_home().join("venv2/bin/python");
    let script = shared.join("oracles/sigma_batch.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&corpus)
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    anyhow::ensure!(output.status.success(), "sigma_batch.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout)?;
    let summary: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<serde_json::Value>(line).ok().filter(|value| value["summary"] == true))
        .context("sigma_batch.py printed no summary line")?;
    let seconds = &summary["seconds"];
    let oracle_total = seconds["total"].as_f64().unwrap_or(f64::NAN);
    let oracle_load = seconds["load"].as_f64().unwrap_or(f64::NAN);
    let oracle_documents = summary["documents"].as_u64().unwrap_or(0) as usize;

    let rate = |count: usize, seconds: f64| count as f64 / seconds;
    println!(
        "corpus: {} ({} files, {documents} documents; pySigma saw {oracle_documents})",
        corpus.display(),
        texts.len()
    );
    println!(
        "detwiki load+lower+lint: {:.3} s, {:.0} rules/s (best of {rounds})",
        best_full,
        rate(documents, best_full)
    );
    println!("detwiki load only:       {:.3} s, {:.0} rules/s", best_load, rate(documents, best_load));
    println!(
        "pySigma load+analyse+validate: {:.3} s, {:.0} rules/s",
        oracle_total,
        rate(oracle_documents, oracle_total)
    );
    println!("pySigma load only:             {:.3} s, {:.0} rules/s", oracle_load, rate(oracle_documents, oracle_load));
    println!("ratio (whole): {:.1}x", oracle_total / best_full);
    println!("ratio (load):  {:.1}x", oracle_load / best_load);
    Ok(())
}
