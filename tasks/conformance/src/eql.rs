//! Conformance of detwiki's EQL engine against Elastic's `eql` 1.0.1
//! (`tasks/conformance/oracles/eql_batch.py`, one Python interpreter for every query).
//!
//! Every EQL query of Elastic's detection rules (rule files and hunting files, read with
//! `detwiki-sources`) goes through both. Compared: the verdict (does it parse), and the structure:
//! the query kind, sequence steps with `runs` expanded the way eql counts them, per-step join keys
//! (shared keys first), missing events, `maxspan`, `until`, pipes, and per step the set of predicate
//! leaves (negation parity, field, operator class, decoded values). detwiki's side of the leaves is
//! read from the lowered IR, so the comparison checks what the catalog sees.
//!
//! Known oracle gaps are named classes, counted, and excluded from the verdict figure only: eql's
//! configuration for detection rules rejects missing events `![...]` (`allow_negation` is a separate
//! switch) and Elastic Endpoint syntax (step aliases `as name`, field-to-field comparisons, `$`
//! variables). The batch driver re-parses such queries with that switch, so their structure is
//! still compared.
//!
//! Mutated queries (a deleted `]` or `)`, a missing right operand, a `==` turned into `=`, a
//! string whose closing quote is gone, a query cut after `and`) measure the error side. The
//! report is written to `tasks/conformance/snapshots/eql_corpus.snap`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use detwiki_elastic::eql::{self, ExprKind, Head, Parsed, Step, TokenKind};
use detwiki_ir::{Analysis, Expr as IrExpr, FieldOrigin, Language, Op, Value};
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};

const CORPUS: &str = "elastic__detection-rules";
const FOLDERS: &[&str] = &["rules", "rules_building_block", "hunting"];

/// Where each known gap is documented, for the snapshot.
const GAP_REFERENCES: &[(&str, &str)] = &[
    (
        "missing-events",
        "eql parser.py `sequence`: `![...]` needs `allow_negation`, which detection-rules' eql configuration leaves off",
    ),
    (
        "endpoint-syntax",
        "eql parser.py `subquery_by`, `comparison`: `as name`, field-to-field comparisons and `$` variables need `elastic_endpoint_syntax` (Elastic Endpoint rules)",
    ),
];

/// `eql --help`.
const USAGE: &str = "\
usage: detwiki-conformance eql [--shared DIR] [--no-mutations] [--extra PATH]

  --shared DIR    the shared folder (default: ../shared beside the workspace)
  --no-mutations  skip the mutated queries (the error side)
  --extra PATH    check EQL outside the corpus instead: raw .eql files and rule TOML
                  (Elastic Endpoint behaviour rules too) under PATH; prints the
                  report, leaves the snapshot alone
";

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    if arguments.iter().any(|argument| argument == "--help" || argument == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    // `--extra PATH` checks EQL outside the shared corpus (raw `.eql` files, or rule TOML such as
    // Elastic Endpoint behaviour rules) and prints the report without touching the snapshot.
    if let Some(position) = arguments.iter().position(|argument| argument == "--extra") {
        let path = PathBuf::from(arguments.get(position + 1).context("--extra needs a file or folder")?);
        let queries = extra_queries(&path);
        let report = compare_all(&queries, arguments)?;
        print!("{}", report.render(&format!("--extra {}", path.display())));
        return Ok(());
    }
    let shared = shared_dir(arguments);
    let corpus = shared.join("corpus").join(CORPUS);
    if !corpus.is_dir() {
        bail!("detwiki-conformance: {} not found (pass --shared DIR)", corpus.display());
    }
    let queries = corpus_queries(&corpus);
    let commit = crate::shared::corpus_commit(&shared, CORPUS);
    let report = compare_all(&queries, arguments)?;
    let text = report.render(&format!("{CORPUS} @ {commit} (rules, rules_building_block, hunting)"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/eql_corpus.snap");
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&path, &text)?;
    let summary: Vec<&str> = text.lines().take_while(|line| !line.starts_with("## Disagreements")).collect();
    println!("{}", summary.join("\n"));
    println!("written {}", path.display());
    Ok(())
}

/// Runs `queries` and their mutations through both parsers and compares them.
fn compare_all(queries: &[(String, String)], arguments: &[String]) -> anyhow::Result<Report> {
    // `--no-mutations` skips the error side for quick checks (the report then says 0 mutations).
    let mutations =
        if arguments.iter().any(|argument| argument == "--no-mutations") { Vec::new() } else { mutate(queries) };
    let mut batch: Vec<(String, String)> = queries.to_vec();
    batch.extend(mutations.iter().cloned());
    let answers = run_oracle(&batch)?;
    let mut report = Report { queries: queries.len(), mutations: mutations.len(), ..Report::default() };
    for (id, text) in queries {
        let Some(answer) = answers.get(id) else { continue };
        report.compare(id, text, answer);
    }
    for (id, text) in &mutations {
        let Some(answer) = answers.get(id) else { continue };
        report.compare_mutation(id, text, answer);
    }
    Ok(report)
}

/// EQL under `path`: `.eql` files whole; TOML rule files through `detwiki-sources` when it knows
/// their layout, else their `query = """..."""` (or `'''...'''`) value.
fn extra_queries(path: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    collect_files(path, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let id = file.display().to_string();
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        match file.extension().and_then(|extension| extension.to_str()) {
            Some("eql") => out.push((id, text)),
            Some("toml") => {
                let read = detwiki_sources::read_paths(std::slice::from_ref(&file));
                let known: Vec<String> = read
                    .rules
                    .iter()
                    .flat_map(|rule| &rule.queries)
                    .filter(|query| query.language == Language::Eql)
                    .map(|query| query.text.clone())
                    .collect();
                let queries = if known.is_empty() { toml_query(&text).into_iter().collect() } else { known };
                for (index, query) in queries.into_iter().enumerate() {
                    out.push((if index == 0 { id.clone() } else { format!("{id}#{index}") }, query));
                }
            }
            _ => {}
        }
    }
    out
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect_files(&entry.path(), out);
        }
    } else {
        out.push(path.to_path_buf());
    }
}

/// The multi-line `query` value of a rule TOML file (literal `'''` strings are raw; basic `"""`
/// strings here only need `\\` and `\"` undone, which is all rule queries use).
fn toml_query(text: &str) -> Option<String> {
    let start = text.find("\nquery = ").or_else(|| text.find("\nquery=")).map(|at| at + 1)?;
    let value = text[start..].split_once('=')?.1.trim_start();
    for (quote, raw) in [("'''", true), ("\"\"\"", false)] {
        if let Some(body) = value.strip_prefix(quote) {
            let body = body.strip_prefix('\n').unwrap_or(body);
            let end = body.find(quote)?;
            let query = &body[..end];
            return Some(if raw { query.to_owned() } else { query.replace("\\\\", "\\").replace("\\\"", "\"") });
        }
    }
    None
}

/// Every EQL query of the corpus as `(id, text)`, in path order; ids are the file path plus the
/// query's name for hunting files.
fn corpus_queries(corpus: &Path) -> Vec<(String, String)> {
    let paths: Vec<PathBuf> = FOLDERS.iter().map(|folder| corpus.join(folder)).filter(|path| path.is_dir()).collect();
    let read = detwiki_sources::read_paths(&paths);
    let prefix = corpus.to_string_lossy().trim_start_matches('/').to_owned();
    let mut out = Vec::new();
    for rule in &read.rules {
        let path = rule.provenance.path.trim_start_matches(&prefix).trim_start_matches('/').to_owned();
        for (index, query) in rule.queries.iter().enumerate() {
            if query.language != Language::Eql {
                continue;
            }
            let id = if rule.queries.len() > 1 { format!("{path}#{index}") } else { path.clone() };
            out.push((id, query.text.clone()));
        }
    }
    out.sort();
    out
}

fn run_oracle(batch: &[(String, String)]) -> anyhow::Result<BTreeMap<String, Json>> {
    let python = oracles_home().join("venv2/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oracles/eql_batch.py");
    let mut input = String::new();
    for (id, text) in batch {
        input.push_str(&json!({ "id": id, "text": text }).to_string());
        input.push('\n');
    }
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {} (run ../shared/oracles/setup.sh)", python.display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("detwiki-conformance: the eql oracle failed: {}", output.status);
    }
    let mut answers = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Ok(answer) = serde_json::from_str::<Json>(line) {
            answers.insert(answer["id"].as_str().unwrap_or("").to_owned(), answer);
        }
    }
    Ok(answers)
}

/// Mutations (deterministic): for every query the applicable kinds among a deleted last `]`, a
/// deleted last `)`, a missing right operand, an unclosed string, `==` as `=` and a cut after the
/// last `and`; two of them per query, rotating with the query's position so every kind is
/// exercised across the corpus while the oracle's run stays within CI's time budget. Each breaks
/// the syntax, so both parsers should flag it.
fn mutate(queries: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (position, (id, text)) in queries.iter().enumerate() {
        let tokens = eql::tokenize(text);
        let without = |range: std::ops::Range<usize>| format!("{}{}", &text[..range.start], &text[range.end..]);
        let mut candidates = Vec::new();
        if let Some(token) = tokens.iter().rev().find(|token| token.kind == TokenKind::RightBracket) {
            candidates.push((format!("{id} [deleted last `]`]"), without(token.span.range())));
        }
        if let Some(token) = tokens.iter().rev().find(|token| token.kind == TokenKind::RightParen) {
            candidates.push((format!("{id} [deleted last `)`]"), without(token.span.range())));
        }
        let comparison = tokens.windows(2).find(|pair| {
            matches!(pair[0].kind, TokenKind::EqualEqual | TokenKind::Colon)
                && matches!(pair[1].kind, TokenKind::String | TokenKind::Integer)
        });
        if let Some(pair) = comparison {
            candidates.push((format!("{id} [missing right operand]"), without(pair[1].span.range())));
            if pair[1].kind == TokenKind::String {
                let end = pair[1].span.end as usize;
                candidates.push((format!("{id} [unclosed string]"), without(end - 1..end)));
            }
        }
        if let Some(token) = tokens.iter().find(|token| token.kind == TokenKind::EqualEqual) {
            let start = token.span.start as usize;
            candidates.push((format!("{id} [`==` as `=`]"), without(start..start + 1)));
        }
        if let Some(token) = tokens.iter().rev().find(|token| &text[token.span.range()] == "and") {
            candidates.push((format!("{id} [cut after last `and`]"), text[..token.span.end as usize].to_owned()));
        }
        let count = candidates.len();
        for pick in 0..count.min(2) {
            out.push(candidates[(position + pick) % count].clone());
        }
    }
    out
}

/// One predicate leaf: negation parity, field, operator class, decoded values (sorted).
type Leaf = (bool, String, String, Vec<String>);

#[derive(Debug, Default, Clone, PartialEq)]
struct StepShape {
    event_type: String,
    missing: bool,
    by: Vec<String>,
    predicates: Vec<Leaf>,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Shape {
    kind: String,
    max_span_ms: Option<u64>,
    steps: Vec<StepShape>,
    until: Option<StepShape>,
    pipes: Vec<String>,
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect()
}

/// A condition that tests no field against values: a bare expression eql calls `other`
/// (`true`, `descendant of [...]`, `child of [...]`) and the Elastic Endpoint function
/// `_arraysearch(array, $entry, condition)`, whose condition is on a `$` variable. detwiki keeps
/// these opaque, and eql prints their text normalised (`:` as `wildcard(...)`, lists without
/// parentheses), so such leaves are compared by negation parity and count, not by text.
fn is_opaque_in_eql(field: &str, class: &str) -> bool {
    (class == "other" && field.starts_with("e:")) || class == "_arraysearch()"
}

fn opaque_leaf(negated: bool) -> Leaf {
    (negated, "opaque".to_owned(), "other".to_owned(), Vec::new())
}

/// An oracle value in detwiki's vocabulary: eql prints a negative number as an expression
/// (`(-125.0)`, a negation of a literal), detwiki decodes it as the number.
fn oracle_value(text: &str) -> String {
    let key = expression_key(text);
    match key.strip_prefix("e:") {
        Some(number) if number.parse::<f64>().is_ok() => format!("n:{number}"),
        _ => key,
    }
}

/// A computed expression (`e:...`) compared without parentheses: eql's renderer drops needed ones
/// (`a - (b + 1)` prints as `(a - b + 1)`, `-1` as `(-1)`), so only the operands and operators in
/// order are compared. Other texts are kept.
fn expression_key(text: &str) -> String {
    if text.starts_with("e:") { text.chars().filter(|c| !matches!(c, '(' | ')')).collect() } else { text.to_owned() }
}

fn shape_of_oracle(structure: &Json) -> Shape {
    let step = |step: &Json| {
        let mut predicates: Vec<Leaf> = step["predicates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|leaf| {
                let negated = leaf[0].as_bool().unwrap_or(false);
                let field = leaf[1].as_str().unwrap_or("");
                let class = leaf[2].as_str().unwrap_or("");
                if is_opaque_in_eql(field, class) {
                    return opaque_leaf(negated);
                }
                let mut values: Vec<String> =
                    leaf[3].as_array().into_iter().flatten().map(|v| oracle_value(v.as_str().unwrap_or(""))).collect();
                values.sort();
                (negated, expression_key(field), class.to_owned(), values)
            })
            .collect();
        predicates.sort();
        StepShape {
            event_type: step["event_type"].as_str().unwrap_or("").to_owned(),
            missing: step["missing"].as_bool().unwrap_or(false),
            by: step["by"].as_array().into_iter().flatten().map(|v| expression_key(v.as_str().unwrap_or(""))).collect(),
            predicates,
        }
    };
    Shape {
        kind: structure["kind"].as_str().unwrap_or("").to_owned(),
        max_span_ms: structure["max_span_ms"].as_f64().map(|ms| ms as u64),
        steps: structure["steps"].as_array().into_iter().flatten().map(step).collect(),
        until: structure.get("until").filter(|until| !until.is_null()).map(step),
        pipes: structure["pipes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or("").to_owned())
            .collect(),
    }
}

/// detwiki's shape: the step list and keys from the tree, the predicate leaves from the IR
/// stages that lowering made of each step.
fn shape_of_detwiki(parsed: &Parsed, analysis: &Analysis) -> Shape {
    let by_text = |expr: &eql::Expr| match &expr.kind {
        ExprKind::Field(field) => field.path(),
        _ => expression_key(&format!("e:{}", squash(&expr.render()))),
    };
    let mut stages = analysis.stages.iter();
    let mut next_step = |step: Option<&Step>, shared: &[eql::Expr]| {
        let stage = stages.next();
        let mut predicates = Vec::new();
        if let Some(predicate) = stage.and_then(|stage| stage.predicate.as_ref()) {
            leaves(predicate, false, &mut predicates);
        }
        predicates.sort();
        let (event_type, missing, by) = match step {
            Some(step) => (
                step.query.category.as_ref().map_or("any".to_owned(), |name| name.text.clone()),
                step.missing,
                shared.iter().chain(&step.by).map(by_text).collect(),
            ),
            None => (String::new(), false, Vec::new()),
        };
        StepShape { event_type, missing, by, predicates }
    };
    let mut shape = Shape::default();
    let sequence = match &parsed.query.head {
        Head::Event(event) => {
            shape.kind = "event".to_owned();
            let mut step = next_step(None, &[]);
            step.event_type = event.category.as_ref().map_or("any".to_owned(), |name| name.text.clone());
            shape.steps.push(step);
            None
        }
        Head::Sequence(sequence) => Some(("sequence", sequence)),
        Head::Sample(sequence) => Some(("sample", sequence)),
        Head::Join(sequence) => Some(("join", sequence)),
        Head::None => None,
    };
    if let Some((kind, sequence)) = sequence {
        shape.kind = kind.to_owned();
        shape.max_span_ms = sequence.max_span.as_ref().and_then(|span| span.milliseconds);
        for step in &sequence.steps {
            let lowered = next_step(Some(step), &sequence.by);
            for _ in 0..step.runs.unwrap_or(1).max(1) {
                shape.steps.push(lowered.clone());
            }
        }
        if let Some(until) = &sequence.until {
            shape.until = Some(next_step(Some(until), &sequence.by));
        }
    }
    shape.pipes = parsed
        .query
        .pipes
        .iter()
        .map(|pipe| {
            let class = match pipe.name.text.as_str() {
                "head" => "HeadPipe",
                "tail" => "TailPipe",
                "filter" => "FilterPipe",
                "unique" => "UniquePipe",
                "unique_count" => "UniqueCountPipe",
                "count" => "CountPipe",
                "sort" => "SortPipe",
                other => other,
            };
            class.to_owned()
        })
        .collect();
    shape
}

/// The IR's predicate leaves in the oracle's vocabulary (operator classes as eql names them).
fn leaves(expr: &IrExpr, negated: bool, out: &mut Vec<Leaf>) {
    match expr {
        IrExpr::And { items } | IrExpr::Or { items } => items.iter().for_each(|item| leaves(item, negated, out)),
        IrExpr::Not { item } => leaves(item, !negated, out),
        IrExpr::Opaque { .. } => out.push(opaque_leaf(negated)),
        IrExpr::Predicate(predicate) => {
            let written = predicate.written_op.as_str();
            let class = match (written, predicate.op) {
                (_, Op::IsNull) => "is_null".to_owned(),
                (_, Op::IsNotNull) => "is_not_null".to_owned(),
                ("==" | "!=" | "<" | "<=" | ">" | ">=", _) => written.to_owned(),
                (":" | "like" | "like~", _) => "wildcard()".to_owned(),
                ("regex" | "regex~", _) => "match()".to_owned(),
                ("in" | "in~" | "not in" | "not in~", _) => "in".to_owned(),
                (function, _) => format!("{}()", function.trim_end_matches('~').to_ascii_lowercase()),
            };
            let field = match predicate.origin {
                FieldOrigin::Event => predicate.field.clone(),
                _ => expression_key(&format!("e:{}", squash(&predicate.field))),
            };
            let mut values: Vec<String> = predicate
                .values
                .iter()
                .map(|value| match value {
                    Value::String { value } | Value::Cidr { value } => format!("s:{value}"),
                    Value::Regex { pattern, .. } => format!("s:{pattern}"),
                    Value::Number { value } => format!("n:{value}"),
                    Value::Bool { value } => format!("b:{value}"),
                    Value::Null => "null".to_owned(),
                    Value::Column { name } => format!("f:{name}"),
                    Value::Call { text, .. } => expression_key(&format!("e:{}", squash(text))),
                    Value::Variable { name, .. } => format!("e:${name}"),
                    Value::Typed { text, .. } => format!("e:{text}"),
                })
                .collect();
            values.sort();
            out.push((negated ^ predicate.negated, field, class, values));
        }
    }
}

#[derive(Debug, Default)]
struct Report {
    queries: usize,
    oracle_ok: usize,
    detwiki_ok: usize,
    verdict_compared: usize,
    verdict_agree: usize,
    gaps: BTreeMap<String, usize>,
    gaps_detwiki_ok: usize,
    structure_compared: usize,
    structure_agree: usize,
    part_agree: BTreeMap<&'static str, usize>,
    sequences: usize,
    mutations: usize,
    mutations_oracle_flagged: usize,
    /// Mutations eql rejected by failing inside (a Python exception other than an eql error).
    mutations_oracle_crashed: usize,
    mutations_detwiki_flagged: usize,
    mutations_agree: usize,
    disagreements: Vec<String>,
    mutation_disagreements: Vec<String>,
}

impl Report {
    fn compare(&mut self, id: &str, text: &str, answer: &Json) {
        let parsed = eql::parse(text);
        let analysis = eql::analyze_parsed(text, &parsed);
        let detwiki_ok = !analysis.has_errors();
        let oracle_ok = answer["ok"].as_bool().unwrap_or(false);
        self.detwiki_ok += usize::from(detwiki_ok);
        self.oracle_ok += usize::from(oracle_ok);
        if matches!(parsed.query.head, Head::Sequence(_)) {
            self.sequences += 1;
        }
        let gap = answer["gap"].as_str();
        if let Some(gap) = gap {
            *self.gaps.entry(gap.to_owned()).or_default() += 1;
            self.gaps_detwiki_ok += usize::from(detwiki_ok);
        } else {
            self.verdict_compared += 1;
            if detwiki_ok == oracle_ok {
                self.verdict_agree += 1;
            } else {
                let first = analysis.diagnostics.iter().find(|d| d.is_error()).map(|d| d.message.clone());
                self.disagreements.push(format!(
                    "- {id}: verdict: eql {} ({}), detwiki {}",
                    if oracle_ok { "accepts" } else { "rejects" },
                    answer["error"]["message"].as_str().unwrap_or(""),
                    first.map_or("accepts".to_owned(), |message| format!("rejects ({message})")),
                ));
            }
        }
        let structure = &answer["structure"];
        if structure.is_null() {
            return;
        }
        self.structure_compared += 1;
        let theirs = shape_of_oracle(structure);
        let ours = shape_of_detwiki(&parsed, &analysis);
        let parts: [(&'static str, bool); 6] = [
            ("kind", theirs.kind == ours.kind),
            ("steps", theirs.steps.len() == ours.steps.len()),
            (
                "by",
                theirs.steps.iter().map(|s| (&s.by, s.missing, &s.event_type)).collect::<Vec<_>>()
                    == ours.steps.iter().map(|s| (&s.by, s.missing, &s.event_type)).collect::<Vec<_>>(),
            ),
            ("maxspan", theirs.max_span_ms == ours.max_span_ms),
            ("until", theirs.until == ours.until),
            (
                "predicates",
                theirs.steps.iter().map(|s| &s.predicates).collect::<Vec<_>>()
                    == ours.steps.iter().map(|s| &s.predicates).collect::<Vec<_>>()
                    && theirs.pipes == ours.pipes,
            ),
        ];
        for (name, agrees) in parts {
            *self.part_agree.entry(name).or_default() += usize::from(agrees);
        }
        if theirs == ours {
            self.structure_agree += 1;
            return;
        }
        let mut detail = String::new();
        for (index, (a, b)) in theirs.steps.iter().zip(&ours.steps).enumerate() {
            if a != b {
                let only_theirs: Vec<&Leaf> = a.predicates.iter().filter(|leaf| !b.predicates.contains(leaf)).collect();
                let only_ours: Vec<&Leaf> = b.predicates.iter().filter(|leaf| !a.predicates.contains(leaf)).collect();
                detail = format!(
                    "step {index}: eql {:?} {:?} {:?}, detwiki {:?} {:?} {:?}",
                    a.event_type, a.by, only_theirs, b.event_type, b.by, only_ours
                );
                break;
            }
        }
        if detail.is_empty() {
            detail = format!(
                "kind {}/{}, steps {}/{}, maxspan {:?}/{:?}, until {}/{}, pipes {:?}/{:?}",
                theirs.kind,
                ours.kind,
                theirs.steps.len(),
                ours.steps.len(),
                theirs.max_span_ms,
                ours.max_span_ms,
                theirs.until.is_some(),
                ours.until.is_some(),
                theirs.pipes,
                ours.pipes
            );
        }
        self.disagreements.push(format!("- {id}: structure: {detail}"));
    }

    fn compare_mutation(&mut self, id: &str, text: &str, answer: &Json) {
        let detwiki_flagged = eql::analyze(text).has_errors();
        let oracle_flagged = !answer["ok"].as_bool().unwrap_or(false) && answer["gap"].is_null();
        self.mutations_detwiki_flagged += usize::from(detwiki_flagged);
        self.mutations_oracle_flagged += usize::from(oracle_flagged);
        let crashed = answer["error"]["type"].as_str().is_some_and(|kind| kind.starts_with("crash:"));
        self.mutations_oracle_crashed += usize::from(crashed);
        if detwiki_flagged == oracle_flagged {
            self.mutations_agree += 1;
        } else {
            self.mutation_disagreements.push(format!(
                "- {id}: eql {}, detwiki {}",
                if oracle_flagged { "flags" } else { "accepts" },
                if detwiki_flagged { "flags" } else { "accepts" },
            ));
        }
    }

    fn render(&self, source: &str) -> String {
        let percent = |part: usize, whole: usize| {
            if whole == 0 { 100.0 } else { part as f64 * 100.0 / whole as f64 }
        };
        let mut out = String::new();
        out.push_str("# EQL: detwiki-elastic vs eql 1.0.1 (tasks/conformance/oracles/eql_batch.py)\n\n");
        out.push_str(&format!("corpus {source}\n"));
        out.push_str(&format!("queries: {} ({} sequences)\n", self.queries, self.sequences));
        out.push_str(&format!(
            "parsed by eql: {}/{} ({:.2}%); by detwiki: {}/{} ({:.2}%)\n",
            self.oracle_ok,
            self.queries,
            percent(self.oracle_ok, self.queries),
            self.detwiki_ok,
            self.queries,
            percent(self.detwiki_ok, self.queries)
        ));
        let excluded: usize = self.gaps.values().sum();
        out.push_str(&format!(
            "known oracle gaps (excluded from the verdict): {}/{} ({:.2}%); detwiki accepts {}\n",
            excluded,
            self.queries,
            percent(excluded, self.queries),
            self.gaps_detwiki_ok
        ));
        for (gap, reference) in GAP_REFERENCES {
            out.push_str(&format!("  {gap}: {} ({reference})\n", self.gaps.get(*gap).copied().unwrap_or(0)));
        }
        out.push_str(&format!(
            "verdict agreement: {}/{} ({:.2}%)\n",
            self.verdict_agree,
            self.verdict_compared,
            percent(self.verdict_agree, self.verdict_compared)
        ));
        out.push_str(&format!(
            "structure agreement: {}/{} ({:.2}%)\n",
            self.structure_agree,
            self.structure_compared,
            percent(self.structure_agree, self.structure_compared)
        ));
        for (part, agree) in &self.part_agree {
            out.push_str(&format!("  {part}: {agree}/{}\n", self.structure_compared));
        }
        out.push_str(&format!(
            "mutations: {}; flagged by eql {} (of which {} by an internal error), by detwiki {}; verdict agreement {}/{} ({:.2}%)\n",
            self.mutations,
            self.mutations_oracle_flagged,
            self.mutations_oracle_crashed,
            self.mutations_detwiki_flagged,
            self.mutations_agree,
            self.mutations,
            percent(self.mutations_agree, self.mutations)
        ));
        out.push_str("\n## Disagreements\n\n");
        for line in &self.disagreements {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\n## Mutation disagreements\n\n");
        for line in &self.mutation_disagreements {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}
