//! `detwiki analyze`: the rules of files and folders with their analyses, for people or (with
//! `--json`) one JSON document per rule per line.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogRule, QueryAnalysis, SourceEntry};
use detwiki_ir::{JSON_VERSION, Language, LineIndex, Rule, SkippedFile};
use detwiki_sources::{SourceRead, read_paths_as, read_text};
use serde::Serialize;

use crate::flags::AnalyzeArgs;
use crate::messages::{Outcome, message};
use crate::output::write_stdout;

/// One line of `analyze --json` (documented in docs/json.md).
#[derive(Debug, Serialize)]
struct AnalyzeLine<'a> {
    version: u32,
    rule: &'a Rule,
    analyses: &'a [QueryAnalysis],
}

pub fn run(args: &AnalyzeArgs) -> Outcome {
    let mut failures = 0usize;
    let mut reads: Vec<SourceRead> = Vec::new();
    let mut folder_paths: Vec<PathBuf> = Vec::new();
    for path in &args.paths {
        if path == Path::new("-") {
            let mut bytes = Vec::new();
            if let Err(error) = std::io::stdin().read_to_end(&mut bytes) {
                message!("reading standard input failed: {error}");
                failures += 1;
                continue;
            }
            match String::from_utf8(bytes) {
                Ok(text) => reads.push(read_text("<stdin>", &text, args.lang)),
                Err(_) => {
                    message!("<stdin>: not UTF-8 text");
                    failures += 1;
                }
            }
        } else if !path.exists() {
            message!("{}: no such file or folder", path.display());
            failures += 1;
        } else if path.is_file() && args.lang.is_some() {
            match std::fs::read(path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => reads.push(read_text(&path.display().to_string(), &text, args.lang)),
                    Err(_) => {
                        message!("{}: not UTF-8 text", path.display());
                        failures += 1;
                    }
                },
                Err(error) => {
                    message!("{}: {error}", path.display());
                    failures += 1;
                }
            }
        } else {
            folder_paths.push(path.clone());
        }
    }
    if !folder_paths.is_empty() {
        let mut read = read_paths_as(&folder_paths, args.lang.as_slice());
        if let Some(language) = args.lang {
            read.rules.retain(|rule| rule.queries.iter().any(|query| query.language == language));
        }
        reads.push(read);
    }

    let mut skipped: Vec<SkippedFile> = Vec::new();
    let inputs: Vec<(SourceEntry, Vec<Rule>)> = reads
        .into_iter()
        .map(|read| {
            skipped.extend(read.info.skipped.iter().cloned());
            (SourceEntry { info: read.info, context: read.context }, read.rules)
        })
        .collect();
    for file in &skipped {
        message!("{}: skipped: {}", file.path, file.reason);
    }
    let catalog = Catalog::build(inputs, &|_| {});

    for entry in &catalog.rules {
        let text = if args.json { json_line(entry) } else { human_text(entry) };
        if !write_stdout(&text) {
            // The reader went away: stop quietly.
            return if failures > 0 { Outcome::Failures } else { Outcome::Success };
        }
    }

    let panics = catalog.panics();
    let with_errors = catalog.rules.iter().filter(|entry| entry.has_errors()).count();
    if panics > 0 {
        message!("a language engine panicked on {panics} rule(s)");
    }
    if catalog.rules.is_empty() {
        message!(
            "0 rules found: no known rule layout in the given paths ({} file(s) skipped, reasons above); pass --lang L to read a file as one language",
            skipped.len()
        );
        return Outcome::Failures;
    }
    if failures > 0 || panics > 0 || with_errors > 0 { Outcome::Failures } else { Outcome::Success }
}

fn json_line(entry: &CatalogRule) -> String {
    let line = AnalyzeLine { version: JSON_VERSION, rule: &entry.rule, analyses: &entry.analyses };
    let mut text = serde_json::to_string(&line).unwrap_or_else(|error| {
        // Serializing plain data cannot fail; keep the line valid JSON all the same.
        serde_json::json!({ "version": JSON_VERSION, "error": error.to_string() }).to_string()
    });
    text.push('\n');
    text
}

fn human_text(entry: &CatalogRule) -> String {
    let rule = &entry.rule;
    let path = rule.provenance.path.as_str();
    let file_text: &str = &rule.file_text;
    let index = LineIndex::new(file_text);
    let mut out = String::new();
    let title = rule.metadata.title.as_deref().unwrap_or("(no title)");
    let _ = writeln!(out, "{path}: {title}");
    let _ = writeln!(out, "  id: {}", rule.id);
    let _ = writeln!(out, "  language: {}, body: {}", rule.family.display_name(), rule.format.display_name());
    for diagnostic in &rule.diagnostics {
        let _ = writeln!(out, "  {}", diagnostic.render_plain(path, file_text, &index).replace('\n', "\n  "));
    }
    for (position, query) in rule.queries.iter().enumerate() {
        let name = query.name.as_deref().map(|name| format!(" \"{name}\"")).unwrap_or_default();
        let analyses: Vec<&QueryAnalysis> =
            entry.analyses.iter().filter(|analysis| analysis.query == position).collect();
        let at = index.line_column(file_text, query.span.start);
        let _ = writeln!(out, "  query {}{name} ({}) at {path}:{at}", position + 1, query.language.display_name());
        if analyses.is_empty() {
            let note =
                if query.language == Language::None { "no query" } else { "no analysis engine for this language yet" };
            let _ = writeln!(out, "    {note}");
        }
        for query_analysis in analyses {
            let analysis = &query_analysis.analysis;
            for parameter in &analysis.parameters {
                let _ = writeln!(out, "    parameter {} ({:?})", parameter.name, parameter.kind);
            }
            for dataset in &analysis.datasets {
                let _ = writeln!(out, "    dataset {} ({})", dataset.name, dataset.role.as_str());
            }
            for stage in &analysis.stages {
                let position = index.line_column(file_text, stage.span.start);
                let slice = stage.span.slice(file_text).unwrap_or("");
                let first_line = slice.lines().next().unwrap_or("").trim();
                let label = stage
                    .label
                    .as_deref()
                    .filter(|label| *label != stage.kind)
                    .map(|label| format!(" {label}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {path}:{position}: {}{label}: {first_line}", stage.kind);
            }
            for diagnostic in &analysis.diagnostics {
                let _ =
                    writeln!(out, "    {}", diagnostic.render_plain(path, file_text, &index).replace('\n', "\n    "));
            }
        }
    }
    out
}
