//! Side-by-side timing of detwiki-spl and splint-spl on every search of splunk/security_content,
//! in one run.
//!
//! detwiki: macro expansion, parse and lowering to the IR of every search (`detwiki_spl::analyze`
//! with the source's macros), single-threaded, best of `--rounds`. splint-spl: the time its
//! `parse()` (a command splitter) takes over the same searches *already expanded*, measured inside
//! the Python process by `tasks/conformance/drivers/spl_batch.py` (start-up and JSON excluded).
//! Usage: `cargo run --release -p detwiki-benchmark -- spl [--shared DIR] [--rounds N]`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use detwiki_ir::Language;

use crate::shared::{oracles_home, shared_dir};

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let rounds: usize = arguments
        .iter()
        .position(|argument| argument == "--rounds")
        .and_then(|position| arguments.get(position + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let specs = detwiki_sources::load_sources_file(&shared.join("corpus/MANIFEST.toml"))?;
    let spec = specs
        .iter()
        .find(|spec| detwiki_sources::source_name(spec) == "splunk/security_content")
        .context("splunk/security_content is not in the manifest")?;
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-benchmark-cache") };
    let read = detwiki_sources::read_source(spec, &options, &|_| {})?;
    let macros = &read.context.macros;
    let texts: Vec<&str> = read
        .rules
        .iter()
        .flat_map(|rule| rule.queries.iter())
        .filter(|query| query.language == Language::Spl)
        .map(|query| query.text.as_str())
        .collect();
    anyhow::ensure!(!texts.is_empty(), "detwiki-benchmark: no SPL searches read");

    let mut best = f64::MAX;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        for text in &texts {
            std::hint::black_box(detwiki_spl::analyze(text, macros));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    // Where detwiki's time goes, each stage on its own over the same searches (best of rounds).
    let (mut expand_best, mut parse_best, mut lower_best) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let expansions: Vec<_> = texts.iter().map(|text| detwiki_spl::expand(text, macros)).collect();
        expand_best = expand_best.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        for expansion in &expansions {
            std::hint::black_box(detwiki_spl::parse(&expansion.text));
        }
        parse_best = parse_best.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        for (text, expansion) in texts.iter().zip(&expansions) {
            std::hint::black_box(detwiki_spl::analyze_expansion(text, expansion));
        }
        lower_best = lower_best.min(start.elapsed().as_secs_f64());
    }
    let expanded: Vec<String> = texts.iter().map(|text| detwiki_spl::expand(text, macros).text).collect();
    let theirs = splint_parse_seconds(&expanded)?;
    let count = texts.len() as f64;
    println!("searches: {}", texts.len());
    println!(
        "detwiki-spl (expand + parse + lower, best of {rounds}): {:.1} ms, {:.0} searches/s",
        best * 1000.0,
        count / best
    );
    println!(
        "splint-spl (split of the expanded searches): {:.1} ms, {:.0} searches/s",
        theirs * 1000.0,
        count / theirs
    );
    println!(
        "  stages on their own: expand {:.1} ms, parse {:.1} ms, parse + lower {:.1} ms",
        expand_best * 1000.0,
        parse_best * 1000.0,
        lower_best * 1000.0
    );
    println!("ratio: {:.1}x", theirs / best);
    Ok(())
}

/// Runs the batch driver once over every expanded search and returns its `parse_seconds`.
fn splint_parse_seconds(expanded: &[String]) -> anyhow::Result<f64> {
    let python = oracles_home().join("venv3/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/drivers/spl_batch.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    let mut input = String::new();
    for (index, text) in expanded.iter().enumerate() {
        input.push_str(&serde_json::json!({"id": index.to_string(), "text": text}).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().context("driver stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    anyhow::ensure!(output.status.success(), "spl_batch.py exited with {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().context("no summary line")?;
    let json: serde_json::Value = serde_json::from_str(summary)?;
    json["parse_seconds"].as_f64().context("summary without parse_seconds")
}
