//! Conformance of detwiki-elastic's ES|QL engine against Elastic's own grammar: PyPI
//! `esql-parser` 9.1.3 (the ANTLR parser generated from Elasticsearch's `EsqlBaseParser.g4`),
//! driven in one interpreter by `tasks/conformance/oracles/esql_batch.py`.
//!
//! Every ES|QL query of `../shared/corpus/elastic__detection-rules` (rules with
//! `language = "esql"` and hunting queries, read with detwiki-sources as the product reads them)
//! is parsed on both sides. Compared: the verdict (accepted or not), and for queries both accept
//! the top-level command list and the multiset of predicate leaves of the `WHERE` commands
//! (negation parity, field, value-preserving wrappers, operator class, decoded values) wherever
//! the subject is a column and the values are constants. Mutated copies of the accepted queries
//! measure the error side of the verdict. The report is written to
//! `tasks/conformance/snapshots/esql_corpus.snap`.
//!
//! Known oracle gaps are named classes, counted in the snapshot. Two are rewritten before the
//! oracle sees the query (same length, so its positions stay valid) and then compared like any
//! other query; one is excluded:
//!
//! - `inline-stats`: `INLINE STATS` (two words) replaced `INLINESTATS` from Elasticsearch 9.2
//!   (elastic/elasticsearch#133998); the 9.1 grammar knows only the one-word form, which the
//!   oracle is given.
//! - `first-last`: the `FIRST`/`LAST` aggregations (ES|QL reference, "FIRST", GA in 9.3) are
//!   reserved words (`NULLS FIRST`) in the 9.1 grammar; the oracle is given `F1RST(`/`L4ST(`.
//! - `completion-options-map` (excluded): `COMPLETION ... WITH { "inference_id": ... }`, the
//!   options-map form of the 9.2 `COMPLETION` reference; the 9.1 grammar takes only
//!   `WITH inference_id`.
//!
//! Hunting queries that start with a stray `sql` line are given to the oracle with that line
//! blanked, as detwiki analyses them (class `stray-sql-line`). Those that turn out to be osquery
//! SQL are not ES|QL and are counted apart, never scored.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use detwiki_ir::{Analysis, Expr, FieldFunctionKind, FieldOrigin, Language, Value};
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};

const CORPUS: &str = "elastic__detection-rules";

/// An ES|QL query of the corpus: where it comes from and its decoded text.
pub struct CorpusQuery {
    pub id: String,
    pub text: String,
}

/// Every ES|QL query of the Elastic corpus, sorted by id.
pub fn corpus_queries(shared: &Path) -> Vec<CorpusQuery> {
    let root = shared.join("corpus").join(CORPUS);
    let read = detwiki_sources::read_paths(&[root]);
    let mut queries = Vec::new();
    for rule in &read.rules {
        let path = &rule.provenance.path;
        let path = path.split_once(&format!("{CORPUS}/")).map_or(path.as_str(), |(_, rest)| rest);
        for (index, query) in rule.queries.iter().enumerate() {
            if query.language == Language::Esql {
                queries.push(CorpusQuery { id: format!("{path}#{index}"), text: query.text.clone() });
            }
        }
    }
    queries.sort_by(|left, right| left.id.cmp(&right.id));
    queries
}

/// Runs the batch driver once over `items` ({"id", "text"} objects); returns its lines by id and
/// its summary line.
pub fn run_oracle(items: &[Json], passes: usize) -> anyhow::Result<(BTreeMap<String, Json>, Json)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oracles/esql_batch.py");
    let python = oracles_home().join("venv3/bin/python");
    if !python.exists() {
        bail!("detwiki-conformance: {} not found (run ../shared/oracles/setup.sh)", python.display());
    }
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["--passes", &passes.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running the ES|QL oracle")?;
    let input: String = items.iter().map(|item| format!("{item}\n")).collect();
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("detwiki-conformance: the ES|QL oracle failed: {}", output.status);
    }
    let mut lines = BTreeMap::new();
    let mut summary = Json::Null;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(json) = serde_json::from_str::<Json>(line) else { continue };
        if json.get("summary").is_some() {
            summary = json;
        } else if let Some(id) = json["id"].as_str() {
            lines.insert(id.to_owned(), json);
        }
    }
    Ok((lines, summary))
}

/// What the oracle is given for a query, and under which gap class.
pub enum Prepared {
    /// Not ES|QL (osquery SQL after a stray `sql` line): not scored.
    NotEsql,
    /// A construct the 9.1 grammar predates and that cannot be rewritten: not scored.
    Excluded(&'static str),
    /// The oracle's text, with the classes of the rewrites applied to it.
    Compare { text: String, classes: Vec<&'static str> },
}

pub fn prepare(text: &str, analysis: &Analysis) -> Prepared {
    if analysis.diagnostics.iter().any(|diagnostic| diagnostic.code == "esql-osquery-sql") {
        return Prepared::NotEsql;
    }
    if completion_with_map(text) {
        return Prepared::Excluded("completion-options-map");
    }
    let mut text = text.to_owned();
    let mut classes = Vec::new();
    if let Some(line) = analysis.diagnostics.iter().find(|diagnostic| diagnostic.code == "esql-stray-sql-line") {
        text.replace_range(line.span.range(), &" ".repeat(line.span.len() as usize));
        classes.push("stray-sql-line");
    }
    if rewrite_words(&mut text, &["inline"], |at, text| {
        let rest = &text[at + 6..];
        let spaces = rest.len() - rest.trim_start().len();
        rest.trim_start().get(..5).is_some_and(|word| word.eq_ignore_ascii_case("stats")).then(|| {
            // `INLINE  STATS` -> `INLINESTATS  `: same length.
            (6 + spaces + 5, format!("INLINESTATS{}", " ".repeat(spaces)))
        })
    }) {
        classes.push("inline-stats");
    }
    if rewrite_words(&mut text, &["first", "last"], |at, text| {
        let word = if text[at..].len() >= 5 && text[at..at + 5].eq_ignore_ascii_case("first") { 5 } else { 4 };
        text[at + word..]
            .trim_start()
            .starts_with('(')
            .then(|| (word, if word == 5 { "F1RST" } else { "L4ST" }.to_owned()))
    }) {
        classes.push("first-last");
    }
    Prepared::Compare { text, classes }
}

/// `COMPLETION ... WITH {` inside one command.
fn completion_with_map(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices("completion").any(|(at, _)| {
        let command = lower[at..].split('|').next().unwrap_or("");
        command.match_indices("with").any(|(with, _)| command[with + 4..].trim_start().starts_with('{'))
    })
}

/// Replaces whole-word occurrences (any case) of `words` where `replace` gives (length, text);
/// true when something was replaced. Occurrences inside strings and comments are left alone.
fn rewrite_words(text: &mut String, words: &[&str], replace: impl Fn(usize, &str) -> Option<(usize, String)>) -> bool {
    let mut changed = false;
    let mut position = 0;
    while position < text.len() {
        let bytes = text.as_bytes();
        match bytes[position] {
            b'"' => {
                position += 1;
                while position < bytes.len() && bytes[position] != b'"' && bytes[position] != b'\n' {
                    position += if bytes[position] == b'\\' { 2 } else { 1 };
                }
                position += 1;
                continue;
            }
            b'/' if bytes.get(position + 1) == Some(&b'/') => {
                while position < bytes.len() && bytes[position] != b'\n' {
                    position += 1;
                }
                continue;
            }
            _ => {}
        }
        let boundary_before =
            position == 0 || !(bytes[position - 1].is_ascii_alphanumeric() || bytes[position - 1] == b'_');
        let starts_word = words.iter().any(|word| {
            text.get(position..position + word.len()).is_some_and(|slice| slice.eq_ignore_ascii_case(word))
                && !text
                    .as_bytes()
                    .get(position + word.len())
                    .is_some_and(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
        });
        if boundary_before
            && starts_word
            && let Some((length, replacement)) = replace(position, text)
        {
            text.replace_range(position..position + length, &replacement);
            changed = true;
            position += replacement.len();
            continue;
        }
        position += text[position..].chars().next().map_or(1, char::len_utf8);
    }
    changed
}

/// The top-level command list of an analysis, named as the reference names them.
fn commands(analysis: &Analysis) -> Vec<String> {
    analysis.stages.iter().filter(|stage| stage.depth == 0).map(|stage| stage.kind.to_ascii_uppercase()).collect()
}

/// The predicate leaves of the top-level `WHERE` stages, in the oracle's shape, sorted.
fn leaves(analysis: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    for stage in analysis.stages.iter().filter(|stage| stage.depth == 0 && stage.kind == "where") {
        for expr in stage.predicate.iter().chain(&stage.thresholds) {
            collect_leaves(expr, false, &mut out);
        }
    }
    out.sort();
    out
}

fn collect_leaves(expr: &Expr, negated: bool, out: &mut Vec<String>) {
    match expr {
        Expr::And { items } | Expr::Or { items } => items.iter().for_each(|item| collect_leaves(item, negated, out)),
        Expr::Not { item } => collect_leaves(item, !negated, out),
        Expr::Opaque { .. } => {}
        Expr::Predicate(predicate) => {
            // Only leaves whose subject is a column: a function of a column is computed with
            // its definition inside the predicate itself.
            if let FieldOrigin::Computed { definition } = predicate.origin
                && predicate.span.contains(definition)
            {
                return;
            }
            let Some(values) = predicate.values.iter().map(value_text).collect::<Option<Vec<String>>>() else { return };
            let written = predicate.written_op.as_str();
            let lowered = written.to_ascii_lowercase();
            let class = match written {
                "==" => "eq",
                "!=" => "ne",
                "=~" => "ieq",
                "<" => "lt",
                "<=" => "le",
                ">" => "gt",
                ">=" => "ge",
                ":" => "match",
                "LIKE" | "NOT LIKE" => "like",
                "RLIKE" | "NOT RLIKE" => "rlike",
                "IN" | "NOT IN" => "in",
                "IS NULL" => "is_null",
                "IS NOT NULL" => "is_not_null",
                _ => lowered.as_str(),
            };
            let wrappers: Vec<&str> = predicate
                .functions
                .iter()
                .map(|function| match function.kind {
                    FieldFunctionKind::Lower => "lower",
                    FieldFunctionKind::Upper => "upper",
                    FieldFunctionKind::Trim => "trim",
                    FieldFunctionKind::PathLeaf => "path_leaf",
                })
                .collect();
            let negated = negated != written.starts_with("NOT ");
            out.push(json!([negated, predicate.field, wrappers, class, values]).to_string());
        }
    }
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Variable { .. } | Value::Column { .. } | Value::Call { .. } => None,
        other => other.literal_text(),
    }
}

fn oracle_leaves(line: &Json) -> Vec<String> {
    let mut out: Vec<String> =
        line["leaves"].as_array().map(|leaves| leaves.iter().map(Json::to_string).collect()).unwrap_or_default();
    out.sort();
    out
}

/// Deterministic text mutations of an accepted query: (label, text).
fn mutations(text: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(at) = text.rfind(')') {
        out.push(("deleted last `)`", format!("{}{}", &text[..at], &text[at + 1..])));
    }
    if let Some(at) = text.find("==") {
        out.push(("first `==` as `=`", format!("{}{}", &text[..at], &text[at + 1..])));
    }
    if let Some(at) = text.to_ascii_lowercase().find("| where") {
        out.push(("cut after the first `| where`", text[..at + 7].to_owned()));
    }
    if let Some(at) = text.rfind('"') {
        out.push(("deleted last `\"`", format!("{}{}", &text[..at], &text[at + 1..])));
    }
    out
}

#[derive(Default)]
struct Tally {
    queries: usize,
    oracle_errors: usize,
    detwiki_errors: usize,
    verdict_agree: usize,
    compared: usize,
    commands_agree: usize,
    leaves_agree: usize,
    leaves_total: usize,
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 { "n/a".to_owned() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let queries = corpus_queries(&shared);
    if queries.is_empty() {
        bail!("detwiki-conformance: no ES|QL queries under {}", shared.join("corpus").join(CORPUS).display());
    }
    let commit = crate::shared::corpus_commit(&shared, CORPUS);
    let mut not_esql = Vec::new();
    let mut excluded: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut scored = Vec::new();
    for query in &queries {
        let analysis = detwiki_elastic::esql::analyze(&query.text);
        match prepare(&query.text, &analysis) {
            Prepared::NotEsql => not_esql.push(query.id.clone()),
            Prepared::Excluded(class) => excluded.entry(class).or_default().push(query.id.clone()),
            Prepared::Compare { text, classes: applied } => {
                for class in applied {
                    *classes.entry(class).or_default() += 1;
                }
                scored.push((query.id.clone(), text, analysis));
            }
        }
    }
    let mut items: Vec<Json> = scored.iter().map(|(id, text, _)| json!({"id": id, "text": text})).collect();
    let (corpus_lines, _) = run_oracle(&items, 1)?;

    let mut disagreements = Vec::new();
    let mut corpus = Tally::default();
    let mut mutated = Vec::new();
    for (id, oracle_text, analysis) in &scored {
        let Some(line) = corpus_lines.get(id) else {
            disagreements.push(format!("{id}: no oracle answer"));
            continue;
        };
        corpus.queries += 1;
        let oracle_ok = line["ok"].as_bool().unwrap_or(false);
        let ours_ok = !analysis.has_errors();
        corpus.oracle_errors += usize::from(!oracle_ok);
        corpus.detwiki_errors += usize::from(!ours_ok);
        if oracle_ok == ours_ok {
            corpus.verdict_agree += 1;
        } else {
            let theirs = line["errors"].get(0).and_then(Json::as_str).unwrap_or("accepted").to_owned();
            let ours = analysis.diagnostics.iter().find(|diagnostic| diagnostic.is_error());
            let ours = ours.map_or("accepted".to_owned(), |diagnostic| {
                let position = detwiki_ir::LineIndex::new(oracle_text).line_column(oracle_text, diagnostic.span.start);
                format!("{position} {}", diagnostic.message)
            });
            disagreements.push(format!("{id} verdict: oracle {theirs}; detwiki {ours}"));
        }
        if !(oracle_ok && ours_ok) {
            continue;
        }
        corpus.compared += 1;
        let ours_commands = commands(analysis);
        let theirs_commands: Vec<String> = line["commands"]
            .as_array()
            .map(|list| list.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if ours_commands == theirs_commands {
            corpus.commands_agree += 1;
        } else {
            disagreements.push(format!("{id} commands: oracle {theirs_commands:?}; detwiki {ours_commands:?}"));
        }
        let ours_leaves = leaves(analysis);
        let theirs_leaves = oracle_leaves(line);
        corpus.leaves_total += theirs_leaves.len();
        if ours_leaves == theirs_leaves {
            corpus.leaves_agree += 1;
        } else {
            let only_theirs: Vec<&String> = theirs_leaves.iter().filter(|leaf| !ours_leaves.contains(leaf)).collect();
            let only_ours: Vec<&String> = ours_leaves.iter().filter(|leaf| !theirs_leaves.contains(leaf)).collect();
            disagreements.push(format!("{id} leaves: only oracle {only_theirs:?}; only detwiki {only_ours:?}"));
        }
        for (label, text) in mutations(oracle_text) {
            mutated.push((format!("{id} [{label}]"), text));
        }
    }

    let mut mutation = Tally::default();
    if !arguments.iter().any(|argument| argument == "--no-mutations") {
        items = mutated.iter().map(|(id, text)| json!({"id": id, "text": text})).collect();
        let (lines, _) = run_oracle(&items, 1)?;
        for (id, text) in &mutated {
            let Some(line) = lines.get(id) else { continue };
            mutation.queries += 1;
            let oracle_ok = line["ok"].as_bool().unwrap_or(false);
            let ours_ok = !detwiki_elastic::esql::analyze(text).has_errors();
            mutation.oracle_errors += usize::from(!oracle_ok);
            mutation.detwiki_errors += usize::from(!ours_ok);
            if oracle_ok == ours_ok {
                mutation.verdict_agree += 1;
            } else {
                let theirs = line["errors"].get(0).and_then(Json::as_str).unwrap_or("accepted");
                disagreements.push(format!(
                    "{id} verdict: oracle {theirs}; detwiki {}",
                    if ours_ok { "accepted" } else { "rejected" }
                ));
            }
        }
    }

    let total = queries.len();
    let excluded_count: usize = excluded.values().map(Vec::len).sum();
    let population = total - not_esql.len();
    let mut out = String::new();
    out.push_str("# ES|QL conformance: detwiki-elastic (esql) against esql-parser 9.1.3 (Elastic's ANTLR grammar)\n");
    out.push_str("# Reproduce: cargo run -p detwiki-conformance -- esql [--shared DIR]\n\n");
    out.push_str(&format!("## {CORPUS} @ {commit}\n"));
    out.push_str(&format!("ES|QL queries read: {total} (rules with language = \"esql\" and hunting queries)\n"));
    out.push_str(&format!(
        "not ES|QL (osquery SQL after a stray `sql` line; info note, not scored): {}\n",
        not_esql.len()
    ));
    out.push_str(&format!(
        "excluded as known oracle gaps: {excluded_count}/{population} ({})\n",
        percent(excluded_count, population)
    ));
    for (class, ids) in &excluded {
        out.push_str(&format!("  {class}: {}\n", ids.len()));
    }
    out.push_str("rewritten for the oracle, then compared (class: queries):\n");
    for (class, count) in &classes {
        out.push_str(&format!("  {class}: {count}\n"));
    }
    out.push_str(&format!(
        "compared: {}; oracle errors {}, detwiki errors {}\n",
        corpus.queries, corpus.oracle_errors, corpus.detwiki_errors
    ));
    out.push_str(&format!(
        "verdict agrees: {}/{} ({})\n",
        corpus.verdict_agree,
        corpus.queries,
        percent(corpus.verdict_agree, corpus.queries)
    ));
    out.push_str(&format!(
        "command lists agree: {}/{} ({}) (queries both accept)\n",
        corpus.commands_agree,
        corpus.compared,
        percent(corpus.commands_agree, corpus.compared)
    ));
    out.push_str(&format!(
        "predicate leaf sets agree: {}/{} ({}) (queries both accept; {} oracle leaves)\n",
        corpus.leaves_agree,
        corpus.compared,
        percent(corpus.leaves_agree, corpus.compared),
        corpus.leaves_total
    ));
    out.push_str(&format!(
        "\n## Mutations ({} texts: deleted last `)`, first `==` as `=`, cut after the first `| where`, deleted last `\"`)\n",
        mutation.queries
    ));
    out.push_str(&format!(
        "verdict agrees: {}/{} ({}); oracle errors {}, detwiki errors {}\n",
        mutation.verdict_agree,
        mutation.queries,
        percent(mutation.verdict_agree, mutation.queries),
        mutation.oracle_errors,
        mutation.detwiki_errors
    ));
    let all_agree = corpus.verdict_agree + mutation.verdict_agree;
    let all = corpus.queries + mutation.queries;
    out.push_str(&format!(
        "\n## Verdict, corpus and mutations together\nverdict agrees: {all_agree}/{all} ({})\n",
        percent(all_agree, all)
    ));
    out.push_str("\n## Not ES|QL\n");
    for id in &not_esql {
        out.push_str(&format!("{id}\n"));
    }
    out.push_str("\n## Excluded\n");
    for (class, ids) in &excluded {
        for id in ids {
            out.push_str(&format!("{class}: {id}\n"));
        }
    }
    out.push_str(&format!("\n## Disagreements ({})\n", disagreements.len()));
    for line in &disagreements {
        out.push_str(line);
        out.push('\n');
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/esql_corpus.snap");
    std::fs::write(&path, &out)?;
    let summary: Vec<&str> = out.lines().take_while(|line| !line.starts_with("## Not ES|QL")).collect();
    println!("{}", summary.join("\n"));
    println!("written {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_keep_length_and_skip_strings() {
        let text = "FROM a | INLINE  STATS x = first(y, @timestamp) BY z | WHERE m == \"inline stats\"";
        let analysis = detwiki_elastic::esql::analyze(text);
        let Prepared::Compare { text: rewritten, classes } = prepare(text, &analysis) else { panic!("not compared") };
        assert_eq!(rewritten.len(), text.len());
        assert!(rewritten.contains("INLINESTATS   x = F1RST(y"));
        assert!(rewritten.ends_with("\"inline stats\""));
        assert_eq!(classes, ["inline-stats", "first-last"]);
        assert!(completion_with_map("FROM a | COMPLETION r = p WITH { \"inference_id\": \"x\" }"));
        assert!(!completion_with_map("FROM a | COMPLETION r = p WITH my_id | WHERE x == \"{\""));
    }

    #[test]
    fn leaves_in_the_oracle_shape() {
        let text =
            "FROM a | STATS c = COUNT(*) BY x | WHERE NOT (TO_LOWER(x) NOT LIKE \"a*\" OR c != 1) AND LENGTH(x) > 2";
        let analysis = detwiki_elastic::esql::analyze(text);
        assert_eq!(leaves(&analysis), [r#"[false,"x",["lower"],"like",["a*"]]"#, r#"[true,"c",[],"ne",["1"]]"#]);
        assert_eq!(commands(&analysis), ["FROM", "STATS", "WHERE"]);
    }
}
