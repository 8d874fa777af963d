//! Side-by-side timing of detwiki-yaral and tree-sitter-yaral on the 886 Chronicle rules, in one
//! run. detwiki: every file read first, then parsed and lowered to the IR, single-threaded, best
//! of `--rounds`. tree-sitter: `Parser.parse` alone over the same bytes in one Python interpreter
//! (`tasks/benchmark/yaral_parse_timing.py`), its own clock, so start-up is excluded on both
//! sides. Usage: `cargo run --release -p detwiki-benchmark -- yaral [--shared DIR] [--rounds N]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

use crate::shared::{corpus_commit, oracles_home, shared_dir};

fn yaral_files(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        let hidden = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            yaral_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "yaral") {
            out.push(path);
        }
    }
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let corpus = shared.join("corpus/chronicle__detection-rules");
    let rounds: usize = arguments
        .iter()
        .position(|argument| argument == "--rounds")
        .and_then(|position| arguments.get(position + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let mut files = Vec::new();
    yaral_files(&corpus, &mut files);
    anyhow::ensure!(!files.is_empty(), "detwiki-benchmark: no .yaral files under {}", corpus.display());
    let texts: Vec<String> = files.iter().filter_map(|path| std::fs::read_to_string(path).ok()).collect();
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut best = f64::MAX;
    let mut analyses = 0;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        analyses = 0;
        for text in &texts {
            let result = detwiki_yaral::analyze(text);
            analyses += result.len();
            std::hint::black_box(&result);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }

    let python = oracles_home().join("venv3/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("yaral_parse_timing.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&corpus)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    anyhow::ensure!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let line = String::from_utf8_lossy(&output.stdout);
    let json: serde_json::Value = serde_json::from_str(line.trim()).context("timing output")?;
    let tree_sitter = json["seconds"].as_f64().unwrap_or(f64::NAN);

    let commit = corpus_commit(&shared, "chronicle__detection-rules");
    println!("corpus: chronicle__detection-rules @ {commit}");
    println!("files: {} ({bytes} bytes), analyses: {analyses}", texts.len());
    println!(
        "detwiki-yaral parse + lower: {:.1} ms (best of {rounds}), {:.0} files/s",
        best * 1000.0,
        texts.len() as f64 / best
    );
    println!(
        "tree-sitter-yaral Parser.parse: {:.1} ms ({} files), {:.0} files/s",
        tree_sitter * 1000.0,
        json["files"],
        texts.len() as f64 / tree_sitter
    );
    println!("ratio: detwiki is {:.2}x the speed of tree-sitter's parse alone", tree_sitter / best);
    Ok(())
}
