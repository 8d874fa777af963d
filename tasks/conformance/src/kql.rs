//! Conformance of detwiki-kql against Microsoft's Kusto.Language (`../shared/oracles/kql_batch.js`).
//!
//! For every KQL query unit of five corpora the oracle reports the syntax verdict, the query
//! operators with their nesting and every comparison with its decoded literal values; detwiki
//! parses the same unit text and the two are compared. Block splitting into units is compared
//! too, and mutated queries (a deleted parenthesis, a missing operand, a query cut after an
//! operator keyword) measure the error side of the verdict. The report is written to
//! `tasks/conformance/snapshots/kql_corpus.snap`.
//!
//! `kql --rules DIR` runs the same verdict, splitting, operator, predicate and table comparison on
//! every KQL query under DIR (KQL the team has not seen, or the hand-written fixtures under
//! `tasks/conformance/fixtures/kql_held_out`) and writes `kql_<folder name>.snap`; see [`run_rules`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use detwiki_kql::{SyntaxValue, TokenKind};
use serde_json::Value as Json;

use crate::shared::{oracles_home, shared_dir};

/// The corpora compared, as folders of `../shared/corpus`.
const CORPORA: &[&str] = &[
    "HybridBrothers__Hunting-Queries-Detection-Rules",
    "Bert-JanP__Hunting-Queries-Detection-Rules",
    "FalconForceTeam__FalconFriday",
    "microsoft__Microsoft-365-Defender-Hunting-Queries",
    "Azure__Azure-Sentinel",
];

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let corpus_dir = shared.join("corpus");
    let oracle = shared.join("oracles/kql_batch.js");
    if !oracle.exists() {
        bail!("detwiki-conformance: {} not found (pass --shared DIR)", oracle.display());
    }
    if let Some(position) = arguments.iter().position(|argument| argument == "--rules") {
        let folder = arguments.get(position + 1).context("--rules needs a folder of KQL rules")?;
        return run_rules(&oracle, Path::new(folder));
    }
    let commits = corpus_commits(&corpus_dir.join("MANIFEST.toml"));
    let mut report = Report::default();
    let mut kusto_version = String::new();
    for corpus in CORPORA {
        let lines = run_oracle(&oracle, &corpus_dir, &[corpus.to_string()], None)?;
        let mut stats = Stats::default();
        let mut blocks: BTreeMap<(String, u64), Vec<Json>> = BTreeMap::new();
        for line in lines {
            if line.get("summary").is_some() {
                kusto_version = line["kusto_language"].as_str().unwrap_or("").to_owned();
                continue;
            }
            let file = line["file"].as_str().unwrap_or("").to_owned();
            let block = line["block"].as_u64().unwrap_or(0);
            blocks.entry((file, block)).or_default().push(line);
        }
        for ((file, _), units) in &blocks {
            let bytes = std::fs::read(corpus_dir.join(file)).with_context(|| format!("reading {file}"))?;
            let file_text = String::from_utf8_lossy(&bytes).into_owned();
            compare_block(&file_text, units, &mut stats, &mut report);
        }
        report.corpora.push((corpus.to_string(), commits.get(*corpus).cloned().unwrap_or_default(), stats));
    }
    // `--no-mutations` skips the slow half for quick checks (the snapshot then says so).
    let mutations = if arguments.iter().any(|argument| argument == "--no-mutations") {
        Vec::new()
    } else {
        mutate_valid_units(&report.valid_units)
    };
    let mutation_stats = compare_mutations(&oracle, &corpus_dir, &mutations, &mut report)?;
    // The semantic and variant checks report their own time: CI's budget for them is separate.
    let started = std::time::Instant::now();
    let semantic = crate::kql_semantic::run(&shared, &report.valid_units)?;
    println!("column reference check: {:.1} s", started.elapsed().as_secs_f64());
    let started = std::time::Instant::now();
    let variants = compare_operator_variants(&oracle, &corpus_dir)?;
    println!("operator variant check: {:.1} s", started.elapsed().as_secs_f64());
    let text = report.render(&kusto_version, &mutation_stats, mutations.len(), &semantic, &variants);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/kql_corpus.snap");
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&path, &text)?;
    let summary: Vec<&str> = text.lines().take_while(|line| !line.starts_with("## Disagreements")).collect();
    println!("{}", summary.join("\n"));
    println!("written {}", path.display());
    Ok(())
}

/// `--rules DIR`: the queries are read the way the catalog reads them (`detwiki-sources` with KQL
/// as the folder's language: Markdown fences, raw `.kql`/`.csl`/`.txt` files, Sentinel YAML
/// `query:`), so what is checked is what a build of that folder would parse. All of them go to
/// the oracle in one `--stdin-jsonl` run; the oracle splits each query into units as it does for
/// files, and each unit is compared as in the corpus run. No mutations, semantic or variant
/// checks: those measure the parser, not a folder.
fn run_rules(oracle: &Path, folder: &Path) -> anyhow::Result<()> {
    let root = folder.canonicalize().with_context(|| format!("no folder of KQL rules at {}", folder.display()))?;
    let name = root.file_name().map_or_else(|| "rules".to_owned(), |name| name.to_string_lossy().into_owned());
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let shown = root.strip_prefix(&workspace).unwrap_or(&root).display().to_string();
    let read = detwiki_sources::read_paths_as(std::slice::from_ref(&root), &[detwiki_ir::Language::Kql]);
    // Provenance paths are the folder as given followed by the path inside it.
    let prefix = format!("{}/", root.to_string_lossy().trim_start_matches('/'));
    let mut queries: Vec<(String, u32, String)> = Vec::new();
    let mut files: BTreeMap<String, usize> = BTreeMap::new();
    for rule in &read.rules {
        let path = rule.provenance.path.strip_prefix(&prefix).unwrap_or(&rule.provenance.path).to_owned();
        for query in rule.queries.iter().filter(|query| query.language == detwiki_ir::Language::Kql) {
            let line = detwiki_ir::LineIndex::new(&rule.file_text).line(query.span.start);
            *files.entry(path.clone()).or_default() += 1;
            queries.push((path.clone(), line, query.text.clone()));
        }
    }
    let mut input = String::new();
    for (index, (_, _, text)) in queries.iter().enumerate() {
        input.push_str(&serde_json::json!({"id": index.to_string(), "text": text, "format": "kql"}).to_string());
        input.push('\n');
    }
    let lines = run_oracle(oracle, &root, &["--stdin-jsonl".to_owned()], Some(input))?;
    let mut kusto_version = String::new();
    let mut by_query: BTreeMap<usize, Vec<Json>> = BTreeMap::new();
    for line in lines {
        if line.get("summary").is_some() {
            kusto_version = line["kusto_language"].as_str().unwrap_or("").to_owned();
        } else if let Some(id) = line["id"].as_str().and_then(|id| id.parse::<usize>().ok()) {
            by_query.entry(id).or_default().push(line);
        }
    }
    let mut stats = Stats::default();
    let mut report = Report::default();
    for (id, (path, line, text)) in queries.iter().enumerate() {
        let Some(units) = by_query.get_mut(&id) else { continue };
        // Located by file and line in the file, as a reader of the snapshot looks them up.
        for unit in units.iter_mut() {
            unit["file"] = Json::String(path.clone());
            unit["line"] = Json::from(u64::from(*line) + unit["line"].as_u64().unwrap_or(1) - 1);
        }
        compare_block(text, units, &mut stats, &mut report);
    }
    let without_units = queries.len() - by_query.len();
    let text = render_rules(&shown, &kusto_version, &files, without_units, &stats, &report);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots").join(format!("kql_{name}.snap"));
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&path, &text)?;
    let summary: Vec<&str> = text.lines().take_while(|line| !line.starts_with("## Disagreements")).collect();
    println!("{}", summary.join("\n"));
    println!("written {}", path.display());
    Ok(())
}

/// The `--rules` snapshot: the corpus figures for one folder, headed by issue 8's measure (of the
/// units Kusto.Language accepts, the share detwiki accepts too), then every disagreement.
fn render_rules(
    shown: &str,
    kusto_version: &str,
    files: &BTreeMap<String, usize>,
    without_units: usize,
    stats: &Stats,
    report: &Report,
) -> String {
    let accepted = stats.units - stats.oracle_errors;
    let mut out = format!(
        "# KQL conformance on {shown}: detwiki-kql against Kusto.Language {kusto_version} (../shared/oracles/kql_batch.js)\n"
    );
    out.push_str(&format!("# Reproduce: cargo run -p detwiki-conformance -- kql --rules {shown}\n\n"));
    out.push_str(&format!(
        "files with KQL: {}; queries: {} ({without_units} blank or comments only, no unit)\n",
        files.len(),
        files.values().sum::<usize>()
    ));
    out.push_str(&format!(
        "detwiki parses without errors where Kusto.Language does: {}/{accepted} ({})\n\n",
        stats.compared,
        percent(stats.compared, accepted)
    ));
    out.push_str(&render_stats(stats));
    out.push_str(&format!("\n## Disagreements ({})\n", report.disagreements.len()));
    for line in &report.disagreements {
        out.push_str(line);
        out.push('\n');
    }
    // What was read, so a file the reader skipped (no KQL fence, an unknown extension) shows by its absence.
    out.push_str(&format!("\n## Queries read per file ({})\n", files.len()));
    for (file, count) in files {
        out.push_str(&format!("{file}: {count}\n"));
    }
    out
}

fn corpus_commits(manifest: &Path) -> BTreeMap<String, String> {
    let mut commits = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(manifest) else { return commits };
    let mut path = None;
    for line in text.lines() {
        let value = || line.split_once('=').map(|(_, value)| value.trim().trim_matches('"').to_owned());
        if line.starts_with("path") {
            path = value();
        } else if line.starts_with("commit")
            && let (Some(path), Some(commit)) = (path.clone(), value())
        {
            commits.insert(path, commit);
        }
    }
    commits
}

pub(crate) fn run_oracle(
    oracle: &Path,
    cwd: &Path,
    arguments: &[String],
    stdin: Option<String>,
) -> anyhow::Result<Vec<Json>> {
    let mut command = Command::new("node");
    command.arg(oracle).args(arguments).current_dir(cwd).env("ORACLES_HOME", oracles_home());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped());
    let mut child = command.spawn().context("running node (is Node.js installed?)")?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("detwiki-conformance: the oracle failed: {}", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect())
}

#[derive(Debug, Default, Clone)]
struct Stats {
    units: usize,
    verdict_agree: usize,
    oracle_errors: usize,
    detwiki_errors: usize,
    compared: usize,
    operators_agree: usize,
    predicates_agree: usize,
    tables_agree: usize,
    blocks: usize,
    splits_agree: usize,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.units += other.units;
        self.verdict_agree += other.verdict_agree;
        self.oracle_errors += other.oracle_errors;
        self.detwiki_errors += other.detwiki_errors;
        self.compared += other.compared;
        self.operators_agree += other.operators_agree;
        self.predicates_agree += other.predicates_agree;
        self.tables_agree += other.tables_agree;
        self.blocks += other.blocks;
        self.splits_agree += other.splits_agree;
    }
}

#[derive(Debug, Default)]
struct Report {
    corpora: Vec<(String, String, Stats)>,
    disagreements: Vec<String>,
    /// Texts of units both sides accept, as mutation seeds: (where, text).
    valid_units: Vec<(String, String)>,
}

pub(crate) fn percent(part: usize, whole: usize) -> String {
    if whole == 0 { "n/a".to_owned() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

impl Report {
    fn render(
        &self,
        kusto_version: &str,
        mutations: &Stats,
        mutated_texts: usize,
        semantic: &crate::kql_semantic::SemanticReport,
        variants: &VariantReport,
    ) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "# KQL conformance: detwiki-kql against Kusto.Language {kusto_version} (../shared/oracles/kql_batch.js)\n"
        ));
        out.push_str("# Reproduce: cargo run -p detwiki-conformance -- kql\n\n");
        let mut total = Stats::default();
        for (corpus, commit, stats) in &self.corpora {
            total.add(stats);
            out.push_str(&format!(
                "## {corpus} @ {}\n",
                if commit.is_empty() { "per file (SAMPLE.md)" } else { commit }
            ));
            out.push_str(&render_stats(stats));
            out.push('\n');
        }
        out.push_str("## All corpora\n");
        out.push_str(&render_stats(&total));
        out.push_str(&format!(
            "\n## Mutations ({mutated_texts} mutated texts: deleted `)` or `(`, missing right or left operand, cut after the first or last operator keyword)\n"
        ));
        out.push_str(&format!(
            "verdict agrees: {}/{} ({}); oracle errors {}, detwiki errors {}\n",
            mutations.verdict_agree,
            mutations.units,
            percent(mutations.verdict_agree, mutations.units),
            mutations.oracle_errors,
            mutations.detwiki_errors
        ));
        let mut all = total.clone();
        all.add(mutations);
        out.push_str(&format!(
            "\n## Verdict, corpus and mutations together\nverdict agrees: {}/{} ({})\n",
            all.verdict_agree,
            all.units,
            percent(all.verdict_agree, all.units)
        ));
        out.push_str(&variants.render_summary());
        out.push_str(&semantic.render_summary());
        out.push_str(&format!("\n## Disagreements ({})\n", self.disagreements.len()));
        for line in &self.disagreements {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&variants.render_details());
        out.push_str(&semantic.render_details());
        out
    }
}

fn render_stats(stats: &Stats) -> String {
    format!(
        "units: {}; oracle errors {}, detwiki errors {}\nverdict agrees: {}/{} ({})\noperator sequences agree: {}/{} ({}) (units both accept)\npredicate sets agree: {}/{} ({}) (units both accept)\ntables agree with datasets: {}/{} ({}) (units both accept; lowering, informational)\nunit splitting agrees: {}/{} blocks ({})\n",
        stats.units,
        stats.oracle_errors,
        stats.detwiki_errors,
        stats.verdict_agree,
        stats.units,
        percent(stats.verdict_agree, stats.units),
        stats.operators_agree,
        stats.compared,
        percent(stats.operators_agree, stats.compared),
        stats.predicates_agree,
        stats.compared,
        percent(stats.predicates_agree, stats.compared),
        stats.tables_agree,
        stats.compared,
        percent(stats.tables_agree, stats.compared),
        stats.splits_agree,
        stats.blocks,
        percent(stats.splits_agree, stats.blocks),
    )
}

/// The text of one unit and of its block, from the file bytes (YAML: the decoded value).
fn unit_text(file_text: &str, unit: &Json) -> String {
    if unit["format"].as_str() == Some("yaml") {
        return unit["text"].as_str().unwrap_or("").to_owned();
    }
    let start = unit["start"].as_u64().unwrap_or(0) as usize;
    let end = unit["end"].as_u64().unwrap_or(0) as usize;
    file_text.get(start..end).map(str::to_owned).unwrap_or_else(|| unit["text"].as_str().unwrap_or("").to_owned())
}

fn location(unit: &Json) -> String {
    format!("{}:{}", unit["file"].as_str().or(unit["id"].as_str()).unwrap_or("?"), unit["line"].as_u64().unwrap_or(0))
}

fn compare_block(file_text: &str, units: &[Json], stats: &mut Stats, report: &mut Report) {
    let Some(first) = units.first() else { return };
    // Unit splitting: detwiki splits the block text and must find the same unit ranges.
    if first["format"].as_str() != Some("yaml") {
        stats.blocks += 1;
        let block_start = first["block_start"].as_u64().unwrap_or(0) as usize;
        let block_end = first["block_end"].as_u64().unwrap_or(0) as usize;
        if let Some(block_text) = file_text.get(block_start..block_end) {
            let ours: Vec<(usize, usize)> = detwiki_kql::split_units(block_text)
                .iter()
                .map(|unit| (unit.span.start as usize + block_start, unit.span.end as usize + block_start))
                .collect();
            let theirs: Vec<(usize, usize)> = units
                .iter()
                .map(|unit| (unit["start"].as_u64().unwrap_or(0) as usize, unit["end"].as_u64().unwrap_or(0) as usize))
                .collect();
            if ours == theirs {
                stats.splits_agree += 1;
            } else {
                report.disagreements.push(format!(
                    "{} split: oracle {} units {:?}, detwiki {} units {:?}",
                    location(first),
                    theirs.len(),
                    theirs,
                    ours.len(),
                    ours
                ));
            }
        }
    }
    for unit in units {
        let text = unit_text(file_text, unit);
        compare_unit(&text, unit, stats, report, true);
    }
}

fn compare_unit(text: &str, unit: &Json, stats: &mut Stats, report: &mut Report, keep_valid: bool) {
    let parsed = detwiki_kql::parse(text);
    let oracle_errors = unit["syntax_errors"].as_u64().unwrap_or(0) > 0;
    let ours_errors = parsed.has_errors();
    stats.units += 1;
    stats.oracle_errors += usize::from(oracle_errors);
    stats.detwiki_errors += usize::from(ours_errors);
    if oracle_errors == ours_errors {
        stats.verdict_agree += 1;
    } else {
        let detail = if ours_errors {
            parsed
                .diagnostics
                .iter()
                .find(|diagnostic| diagnostic.is_error())
                .map(|diagnostic| {
                    let index = detwiki_ir::LineIndex::new(text);
                    format!("{} at {}", diagnostic.message, index.line_column(text, diagnostic.span.start))
                })
                .unwrap_or_default()
        } else {
            unit["syntax_diagnostics"]
                .as_array()
                .and_then(|diagnostics| diagnostics.first())
                .map(|diagnostic| format!("{} at {}:{}", diagnostic["message"], diagnostic["line"], diagnostic["col"]))
                .unwrap_or_default()
        };
        let who = if ours_errors { "detwiki rejects" } else { "oracle rejects" };
        report.disagreements.push(format!("{} verdict: {who}: {detail}", location(unit)));
    }
    if oracle_errors || ours_errors {
        return;
    }
    stats.compared += 1;
    if keep_valid {
        report.valid_units.push((location(unit), text.to_owned()));
    }
    // Operators: keyword and nesting, in source order.
    let theirs: Vec<String> = unit["operators"]
        .as_array()
        .map(|operators| {
            operators
                .iter()
                .map(|operator| format!("{}@{}", operator["keyword"].as_str().unwrap_or(""), operator["nesting"]))
                .collect()
        })
        .unwrap_or_default();
    let ours: Vec<String> = detwiki_kql::operators(&parsed.script)
        .iter()
        .map(|operator| format!("{}@{}", operator.keyword, operator.nesting))
        .collect();
    if ours == theirs {
        stats.operators_agree += 1;
    } else {
        report.disagreements.push(format!(
            "{} operators: oracle [{}], detwiki [{}]",
            location(unit),
            theirs.join(" "),
            ours.join(" ")
        ));
    }
    // Predicates: the set of (left, op, values).
    let theirs: BTreeSet<String> = unit["predicates"]
        .as_array()
        .map(|predicates| {
            predicates
                .iter()
                .map(|predicate| {
                    let values = match predicate["values"].as_array() {
                        Some(values) => values.iter().map(canonical_json).collect::<Vec<_>>().join(", "),
                        None => "null".to_owned(),
                    };
                    format!(
                        "{} {} [{}]",
                        normalize_space(predicate["left"].as_str().unwrap_or("")),
                        predicate["op"].as_str().unwrap_or(""),
                        values
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let ours: BTreeSet<String> = detwiki_kql::predicates(&parsed.script, text)
        .iter()
        .map(|predicate| {
            let literal = predicate.values.iter().any(|value| *value != SyntaxValue::NonLiteral);
            let values = if literal {
                predicate.values.iter().map(canonical_value).collect::<Vec<_>>().join(", ")
            } else {
                "null".to_owned()
            };
            format!("{} {} [{}]", normalize_space(&predicate.left), predicate.op, values)
        })
        .collect();
    compare_tables(text, unit, stats, report);
    if ours == theirs {
        stats.predicates_agree += 1;
    } else {
        let missing: Vec<&String> = theirs.difference(&ours).take(3).collect();
        let extra: Vec<&String> = ours.difference(&theirs).take(3).collect();
        report.disagreements.push(format!(
            "{} predicates: only oracle {:?}; only detwiki {:?}",
            location(unit),
            missing,
            extra
        ));
    }
}

/// The oracle's table names against the datasets detwiki's lowering finds (tables read by the
/// query, `let` names and function parameters excluded on both sides).
fn compare_tables(text: &str, unit: &Json, stats: &mut Stats, report: &mut Report) {
    let theirs: BTreeSet<String> = unit["tables"]
        .as_array()
        .map(|tables| tables.iter().filter_map(|table| table.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let ours: BTreeSet<String> = detwiki_kql::analyze(text)
        .iter()
        .flat_map(|analysis| {
            // Functions used as tables (`_GetWatchlist('x')`, ASIM parsers) are datasets for
            // detwiki but calls, not table names, for the oracle.
            analysis
                .datasets
                .iter()
                .filter(|dataset| dataset.role != detwiki_ir::DatasetRole::Function)
                .map(|dataset| dataset.name.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    if ours == theirs {
        stats.tables_agree += 1;
    } else {
        report.disagreements.push(format!(
            "{} tables: only oracle {:?}; only detwiki {:?}",
            location(unit),
            theirs.difference(&ours).collect::<Vec<_>>(),
            ours.difference(&theirs).collect::<Vec<_>>()
        ));
    }
}

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn canonical_number(value: f64) -> String {
    format!("{value}")
}

fn canonical_json(value: &Json) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::Number(number) => number.as_f64().map(canonical_number).unwrap_or_else(|| number.to_string()),
        Json::String(text) => format!("{text:?}"),
        Json::Bool(flag) => flag.to_string(),
        other => other.to_string(),
    }
}

fn canonical_value(value: &SyntaxValue) -> String {
    match value {
        SyntaxValue::String(text) => format!("{text:?}"),
        SyntaxValue::Long(number) => canonical_number(*number as f64),
        SyntaxValue::Real(number) => canonical_number(*number),
        SyntaxValue::Bool(flag) => flag.to_string(),
        SyntaxValue::Text(text) => {
            // Integers beyond 2^53 come from the oracle as digit strings.
            format!("{text:?}")
        }
        SyntaxValue::NonLiteral => "null".to_owned(),
    }
}

/// Mutations of each valid unit, each chosen deterministically from the unit's tokens: the
/// last `)` or the first `(` deleted, the right or the left operand of the first comparison
/// deleted, the query cut after its first and after its last operator keyword.
fn mutate_valid_units(valid: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (place, text) in valid {
        let tokens = detwiki_kql::tokenize(text);
        let without = |range: std::ops::Range<usize>| format!("{}{}", &text[..range.start], &text[range.end..]);
        if let Some(token) = tokens.iter().rev().find(|token| token.kind == TokenKind::RightParen) {
            out.push((format!("{place} [deleted last `)`]"), without(token.span.range())));
        }
        if let Some(token) = tokens.iter().find(|token| token.kind == TokenKind::LeftParen) {
            out.push((format!("{place} [deleted first `(`]"), without(token.span.range())));
        }
        let operand = |kind: TokenKind| {
            matches!(kind, TokenKind::String | TokenKind::Int | TokenKind::Timespan | TokenKind::Ident)
        };
        let comparison = tokens.windows(3).find(|window| {
            matches!(
                window[1].kind,
                TokenKind::EqualEqual | TokenKind::EqualTilde | TokenKind::BangEqual | TokenKind::Greater
            ) && operand(window[0].kind)
                && operand(window[2].kind)
        });
        if let Some(window) = comparison {
            out.push((format!("{place} [missing right operand]"), without(window[2].span.range())));
            out.push((format!("{place} [missing left operand]"), without(window[0].span.range())));
        }
        let keywords: Vec<_> = tokens
            .windows(2)
            .filter(|pair| pair[0].kind == TokenKind::Pipe && pair[1].kind == TokenKind::Ident)
            .map(|pair| pair[1].span.range())
            .collect();
        let mut cuts: Vec<_> = keywords.first().into_iter().chain(keywords.last()).cloned().collect();
        cuts.dedup();
        for cut in cuts {
            out.push((format!("{place} [cut after `{}`]", &text[cut.clone()]), text[..cut.end].to_owned()));
        }
    }
    out
}

fn compare_mutations(
    oracle: &Path,
    cwd: &Path,
    mutations: &[(String, String)],
    report: &mut Report,
) -> anyhow::Result<Stats> {
    let mut input = String::new();
    for (index, (_, text)) in mutations.iter().enumerate() {
        let line = serde_json::json!({"id": index.to_string(), "text": text, "format": "kql"});
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let lines = run_oracle(oracle, cwd, &["--stdin-jsonl".to_owned()], Some(input))?;
    let mut stats = Stats::default();
    let mut by_text: BTreeMap<usize, Vec<Json>> = BTreeMap::new();
    for line in lines {
        if let Some(id) = line["id"].as_str().and_then(|id| id.parse::<usize>().ok()) {
            by_text.entry(id).or_default().push(line);
        }
    }
    for (id, units) in &by_text {
        let Some((place, text)) = mutations.get(*id) else { continue };
        for unit in units {
            let start = unit["start"].as_u64().unwrap_or(0) as usize;
            let end = unit["end"].as_u64().unwrap_or(0) as usize;
            let Some(unit_text) = text.get(start..end) else { continue };
            let mut labelled = unit.clone();
            labelled["file"] = Json::String(place.clone());
            let before = report.disagreements.len();
            let mut unit_stats = Stats::default();
            compare_unit(unit_text, &labelled, &mut unit_stats, report, false);
            // Only the verdict counts for mutations; drop operator/predicate notes.
            report.disagreements.truncate(before + usize::from(unit_stats.verdict_agree == 0));
            stats.units += unit_stats.units;
            stats.verdict_agree += unit_stats.verdict_agree;
            stats.oracle_errors += unit_stats.oracle_errors;
            stats.detwiki_errors += unit_stats.detwiki_errors;
        }
    }
    Ok(stats)
}

/// The operator variant files of the KQL crate against Kusto.Language's syntax verdict.
#[derive(Debug, Default)]
struct VariantReport {
    files: usize,
    variants: usize,
    agree: usize,
    oracle_rejects: usize,
    disagreements: Vec<String>,
}

impl VariantReport {
    fn render_summary(&self) -> String {
        format!(
            "\n## Operator variants (crates/detwiki-kql/resources/valid/operators: {} files)\nvariants: {}; verdict agrees: {}/{} ({}); Kusto.Language rejects {}\n",
            self.files,
            self.variants,
            self.agree,
            self.variants,
            percent(self.agree, self.variants),
            self.oracle_rejects
        )
    }

    fn render_details(&self) -> String {
        let mut out = format!("\n## Operator variant disagreements ({})\n", self.disagreements.len());
        for line in &self.disagreements {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Every variant of every operator file (one query per blank-line-separated chunk), parsed by
/// both: the verdicts must be the same.
fn compare_operator_variants(oracle: &Path, cwd: &Path) -> anyhow::Result<VariantReport> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../crates/detwiki-kql/resources/valid/operators");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "kql"))
        .collect();
    files.sort();
    let mut variants = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path)?;
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("").to_owned();
        for (index, variant) in detwiki_kql::operator_variants(&text).into_iter().enumerate() {
            variants.push((format!("{name}#{}", index + 1), variant.to_owned()));
        }
    }
    let mut input = String::new();
    for (index, (_, text)) in variants.iter().enumerate() {
        input.push_str(&serde_json::json!({"id": index.to_string(), "text": text, "format": "kql"}).to_string());
        input.push('\n');
    }
    let lines = run_oracle(oracle, cwd, &["--stdin-jsonl".to_owned(), "--no-text".to_owned()], Some(input))?;
    let mut rejected: BTreeMap<usize, bool> = BTreeMap::new();
    for line in &lines {
        if let Some(id) = line["id"].as_str().and_then(|id| id.parse::<usize>().ok()) {
            *rejected.entry(id).or_default() |= line["syntax_errors"].as_u64().unwrap_or(0) > 0;
        }
    }
    let mut report = VariantReport { files: files.len(), variants: variants.len(), ..VariantReport::default() };
    for (index, (place, text)) in variants.iter().enumerate() {
        let theirs = rejected.get(&index).copied().unwrap_or(false);
        let ours = detwiki_kql::parse(text).has_errors();
        report.oracle_rejects += usize::from(theirs);
        if theirs == ours {
            report.agree += 1;
        } else {
            let who = if ours { "detwiki rejects" } else { "Kusto.Language rejects" };
            report.disagreements.push(format!("{place}: {who}: {}", normalize_space(text)));
        }
    }
    Ok(report)
}
