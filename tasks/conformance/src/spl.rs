//! Conformance of detwiki-spl's command splitting against splint-spl (`drivers/spl_batch.py`,
//! one Python interpreter for every search).
//!
//! splint-spl is a command splitter, not a grammar: the comparison is the sequence of top-level
//! command names of each *expanded* search (macros replaced by the source's definitions, as
//! Splunk runs it), names lower-cased, comments ignored, the leading command without `|` named
//! `search`, and empty commands (`| |`, a trailing `|`) dropped on both sides (splint keeps them
//! as commands without a name; detwiki reports them as a located diagnostic). Inputs are the
//! detections of splunk/security_content and, with `--markdown DIR`, the SPL fences of the
//! Markdown files under DIR (read as `languages = ["spl"]`). The corpus report is written to
//! `tasks/conformance/snapshots/spl_corpus.snap`; the committed hand-written Markdown fixture
//! (`fixtures/spl_markdown`) to `spl_markdown.snap`. Any other Markdown folder (a held-out sample
//! of third-party notes) is reported on standard output only, so its text and paths never land in
//! the repository.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use detwiki_ir::{BodyFormat, Language, MacroDefinition};
use serde_json::Value as Json;

use crate::shared::{oracles_home, shared_dir};

/// One search to compare: where it comes from and its expanded text.
struct Search {
    id: String,
    expanded: String,
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let markdown = arguments
        .iter()
        .position(|argument| argument == "--markdown")
        .and_then(|position| arguments.get(position + 1))
        .map(PathBuf::from);
    let (searches, heading, snapshot) = match &markdown {
        Some(folder) => {
            let shown = repo_relative(folder);
            let snapshot = (shown == Path::new(FIXTURE)).then_some("spl_markdown.snap");
            (markdown_searches(folder)?, format!("SPL fences of {}", shown.display()), snapshot)
        }
        None => {
            let (searches, commit) = corpus_searches(&shared)?;
            (searches, format!("splunk__security_content @ {commit}"), Some("spl_corpus.snap"))
        }
    };
    let started = Instant::now();
    let ours: Vec<Vec<String>> = searches.iter().map(|search| detwiki_spl::command_names(&search.expanded)).collect();
    let our_seconds = started.elapsed().as_secs_f64();
    let theirs = run_oracle(&searches)?;

    let mut agree = 0usize;
    let mut with_empty = 0usize;
    let mut disagreements = Vec::new();
    for (search, our_names) in searches.iter().zip(&ours) {
        let their_raw = theirs.get(&search.id).cloned().unwrap_or_default();
        with_empty += usize::from(their_raw.iter().any(String::is_empty));
        let their_names = without_empty(&their_raw);
        let our_names = &without_empty(our_names);
        if &their_names == our_names {
            agree += 1;
        } else {
            disagreements.push(format!(
                "- {}\n  detwiki: {}\n  splint:  {}\n  reason:  {}",
                search.id,
                our_names.join(" | "),
                their_names.join(" | "),
                explain(our_names, &their_names, &search.expanded)
            ));
        }
    }
    let total = searches.len();
    let percent = if total == 0 { 100.0 } else { 100.0 * agree as f64 / total as f64 };
    let mut text = String::new();
    text.push_str("# SPL conformance: detwiki-spl command splitting against splint-spl 0.1.0 (tasks/conformance/drivers/spl_batch.py)\n");
    text.push_str("# Reproduce: cargo run -p detwiki-conformance -- spl [--markdown DIR]\n\n");
    text.push_str(&format!("## {heading}\n"));
    text.push_str(&format!("searches (expanded): {total}\n"));
    text.push_str(&format!("top-level commands agree: {agree}/{total} ({percent:.2}%)\n"));
    text.push_str(&format!(
        "searches with an empty command (`| |`, trailing `|`), dropped on both sides: {with_empty}\n"
    ));
    if markdown.is_some() {
        text.push_str(&analysis_summary(&searches));
    }
    text.push('\n');
    if markdown.is_some() {
        // Which fences were read as SPL and how detwiki splits them: the fixture's snapshot then
        // also pins the fence rules of docs/formats.md, not only the agreement.
        text.push_str("## Fences read as SPL (detwiki's commands)\n");
        for (search, our_names) in searches.iter().zip(&ours) {
            text.push_str(&format!("- {}: {}\n", search.id, without_empty(our_names).join(" | ")));
        }
        text.push('\n');
    }
    text.push_str("## Disagreements\n");
    for disagreement in &disagreements {
        text.push_str(disagreement);
        text.push('\n');
    }
    match snapshot {
        Some(snapshot) => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots").join(snapshot);
            std::fs::write(&path, &text)?;
            let summary: Vec<&str> = text.lines().take_while(|line| !line.starts_with("## Disagreements")).collect();
            println!("{}", summary.join("\n"));
            println!("written {}", path.display());
        }
        None => print!("{text}"),
    }
    println!("detwiki split time (not in the report): {:.1} ms", our_seconds * 1000.0);
    Ok(())
}

/// The committed hand-written Markdown fixture, relative to the workspace root.
const FIXTURE: &str = "tasks/conformance/fixtures/spl_markdown";

/// `folder` relative to the workspace root when it lies inside it (so the committed snapshot does
/// not depend on where the checkout is), else as given.
fn repo_relative(folder: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match (folder.canonicalize(), root.canonicalize()) {
        (Ok(folder), Ok(root)) => folder.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(folder),
        _ => folder.to_path_buf(),
    }
}

/// Command names without the empty ones (see the module documentation).
fn without_empty(names: &[String]) -> Vec<String> {
    names.iter().filter(|name| !name.is_empty()).cloned().collect()
}

/// Markdown from outside the corpus is also analysed in full (parse and lowering, no macros):
/// how many fences, from how many files, and how many panicked or carry an error diagnostic.
fn analysis_summary(searches: &[Search]) -> String {
    let no_macros: BTreeMap<String, MacroDefinition> = BTreeMap::new();
    let files: std::collections::BTreeSet<&str> =
        searches.iter().map(|search| search.id.rsplit_once('#').map_or(search.id.as_str(), |(file, _)| file)).collect();
    let (mut panics, mut with_errors) = (0usize, Vec::new());
    for search in searches {
        match std::panic::catch_unwind(|| detwiki_spl::analyze(&search.expanded, &no_macros)) {
            Ok(analysis) => {
                if let Some(error) = analysis.diagnostics.iter().find(|diagnostic| diagnostic.is_error()) {
                    with_errors.push(format!(
                        "- {}: {} at bytes {}..{}: {}\n",
                        search.id, error.code, error.span.start, error.span.end, error.message
                    ));
                }
            }
            Err(_) => panics += 1,
        }
    }
    format!(
        "files with SPL fences: {}; fences analysed: {}; panics: {panics}; with an error diagnostic: {}\n{}",
        files.len(),
        searches.len(),
        with_errors.len(),
        with_errors.concat()
    )
}

/// Why two splits differ, from the known classes (checked in order); "unexplained" otherwise.
fn explain(ours: &[String], theirs: &[String], text: &str) -> String {
    if text.contains("=*\\\"") && theirs.len() < ours.len() {
        return "splint opens a string at an escaped quote outside quotes (`=*\\\"hostNetwork\\\":true*`); Splunk reads `\\\"` there as a literal quote, so the pipes after it still split".to_owned();
    }
    if text.contains('\'') && ours.len() > theirs.len() {
        return "splint reads `'` as a string quote everywhere; in SPL search terms it is an ordinary character"
            .to_owned();
    }
    "unexplained".to_owned()
}

fn corpus_searches(shared: &Path) -> anyhow::Result<(Vec<Search>, String)> {
    let manifest = shared.join("corpus/MANIFEST.toml");
    let specs = detwiki_sources::load_sources_file(&manifest).context("reading MANIFEST.toml")?;
    let spec = specs
        .iter()
        .find(|spec| detwiki_sources::source_name(spec) == "splunk/security_content")
        .context("splunk/security_content is not in the manifest")?;
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-conformance-cache") };
    let read = detwiki_sources::read_source(spec, &options, &|_| {})?;
    let commit = spec.commit.clone().unwrap_or_default();
    let mut searches = Vec::new();
    for rule in &read.rules {
        for (index, query) in rule.queries.iter().enumerate() {
            if query.language == Language::Spl {
                searches.push(Search {
                    id: format!("{}#{index}", rule.provenance.path),
                    expanded: detwiki_spl::expand(&query.text, &read.context.macros).text,
                });
            }
        }
    }
    searches.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((searches, commit))
}

fn markdown_searches(folder: &Path) -> anyhow::Result<Vec<Search>> {
    let mut paths = Vec::new();
    collect_markdown(folder, &mut paths);
    paths.sort();
    let no_macros: BTreeMap<String, MacroDefinition> = BTreeMap::new();
    let mut searches = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.strip_prefix(folder).unwrap_or(&path).display().to_string();
        let read = detwiki_sources::read_text(&name, &text, Some(Language::Spl));
        // Only fences: a Markdown file without an SPL fence falls back to being read whole as
        // one search (what `analyze --lang spl` does with a raw file), which is not a fence.
        for rule in read.rules.iter().filter(|rule| rule.format == BodyFormat::Markdown) {
            for (index, query) in rule.queries.iter().enumerate() {
                if query.language == Language::Spl {
                    searches.push(Search {
                        id: format!("{name}#{index}"),
                        expanded: detwiki_spl::expand(&query.text, &no_macros).text,
                    });
                }
            }
        }
    }
    Ok(searches)
}

fn collect_markdown(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_markdown(&path, out);
        } else if path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("md")) {
            out.push(path);
        }
    }
}

/// Runs the batch driver once over every search: id -> command names.
fn run_oracle(searches: &[Search]) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let python = oracles_home().join("venv3/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("drivers/spl_batch.py");
    if !python.exists() {
        bail!("detwiki-conformance: {} not found (install the oracles: ../shared/oracles/setup.sh)", python.display());
    }
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", python.display()))?;
    let mut input = String::new();
    for search in searches {
        input.push_str(&serde_json::json!({"id": search.id, "text": search.expanded}).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().context("driver stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    if !output.status.success() {
        bail!("detwiki-conformance: spl_batch.py exited with {}", output.status);
    }
    let mut names = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let json: Json = serde_json::from_str(line)?;
        if json.get("summary").is_some() {
            eprintln!("splint-spl: {} searches in {} s", json["summary"], json["seconds"]);
            continue;
        }
        let id = json["id"].as_str().unwrap_or_default().to_owned();
        let commands = json["commands"]
            .as_array()
            .map(|items| items.iter().filter_map(Json::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        names.insert(id, commands);
    }
    Ok(names)
}
