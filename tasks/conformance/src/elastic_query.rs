//! Conformance of detwiki-elastic's kuery and Lucene parsers against kibana-ql 0.2 (Kibana's kuery
//! grammar) and luqum 1.0.0, through one Python interpreter for every query
//! (`tasks/conformance/oracles/elastic_query_batch.py`).
//!
//! Kuery is scored on every kuery query of the Elastic corpus (rules, threat indicator queries,
//! hunting queries) plus mutations of each (a deleted `(`, `)` or `"`, a doubled `:`), Lucene on
//! the corpus's one Lucene query plus mutations of it and of `../shared/oracles/sample.lucene`
//! (every single-character deletion and every cut at a token boundary). Verdict: both accept or
//! both reject. Structure, where both accept: the multisets of predicate leaves (negation
//! parity, field, operator class, decoded value) are equal. Reports go to
//! `tasks/conformance/snapshots/{kuery,lucene}_corpus.snap`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use detwiki_ir::{Analysis, Language, Op, Value};
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};

const CORPUS: &str = "elastic__detection-rules";

/// One query sent to both sides.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub language: Language,
    pub text: String,
    /// From the corpus (else a mutation).
    pub corpus: bool,
}

/// A predicate leaf compared across the two sides: negation parity, field, class, value.
pub type Leaf = (bool, String, String, String);

/// The kuery and Lucene queries of the Elastic corpus, in path order.
pub fn corpus_cases(shared: &Path) -> Vec<Case> {
    let read = detwiki_sources::read_paths(&[shared.join("corpus").join(CORPUS)]);
    let mut cases = Vec::new();
    for rule in &read.rules {
        for (index, query) in rule.queries.iter().enumerate() {
            if matches!(query.language, Language::Kuery | Language::Lucene) {
                let path =
                    rule.provenance.path.split_once(CORPUS).map_or(rule.provenance.path.as_str(), |(_, rest)| rest);
                cases.push(Case {
                    id: format!("{}#{index}", path.trim_start_matches('/')),
                    language: query.language,
                    text: query.text.clone(),
                    corpus: true,
                });
            }
        }
    }
    cases
}

pub fn run(language: Language, arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    if !shared.join("corpus").join(CORPUS).is_dir() {
        bail!("detwiki-conformance: {} not found (pass --shared DIR)", shared.join("corpus").join(CORPUS).display());
    }
    let commit = crate::shared::corpus_commit(&shared, CORPUS);
    let corpus: Vec<Case> = corpus_cases(&shared).into_iter().filter(|case| case.language == language).collect();
    let mut cases = corpus.clone();
    match language {
        Language::Kuery => {
            for case in &corpus {
                cases.extend(kuery_mutations(case));
            }
        }
        _ => {
            let sample =
                std::fs::read_to_string(shared.join("oracles/sample.lucene")).context("reading sample.lucene")?;
            let base = Case { id: "sample.lucene".to_owned(), language, text: sample.trim().to_owned(), corpus: false };
            let mut bases = vec![base];
            bases.extend(corpus.iter().cloned());
            for base in &bases {
                if !base.corpus {
                    cases.push(base.clone());
                }
                cases.extend(lucene_mutations(base));
            }
        }
    }
    let oracle = oracle_results(&cases)?;
    let report = compare(language, &cases, &oracle);
    let name = language.as_str();
    let text = report.render(language, &commit);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("snapshots/{name}_corpus.snap"));
    std::fs::write(&path, &text)?;
    let summary: Vec<&str> = text.lines().take_while(|line| !line.starts_with("## Disagreements")).collect();
    println!("{}", summary.join("\n"));
    println!("written {}", path.display());
    Ok(())
}

/// Runs the batch driver once over every case; results by id.
pub fn oracle_results(cases: &[Case]) -> anyhow::Result<BTreeMap<String, Json>> {
    let output = run_driver(cases, &[])?;
    let mut results = BTreeMap::new();
    for line in output.lines() {
        if let Ok(value) = serde_json::from_str::<Json>(line)
            && let Some(id) = value.get("id").and_then(Json::as_str)
        {
            results.insert(id.to_owned(), value);
        }
    }
    Ok(results)
}

/// Runs `elastic_query_batch.py` with `extra` arguments, the cases on standard input.
pub fn run_driver(cases: &[Case], extra: &[&str]) -> anyhow::Result<String> {
    let python = oracles_home().join("venv3/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oracles/elastic_query_batch.py");
    let mut input = String::new();
    for case in cases {
        input.push_str(&json!({"id": case.id, "language": case.language.as_str(), "text": case.text}).to_string());
        input.push('\n');
    }
    let mut child = Command::new(&python)
        .arg(&script)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {} (install the oracles: ../shared/oracles/setup.sh)", python.display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("detwiki-conformance: the oracle driver failed: {}", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Deterministic broken variants of a kuery query: first `(` deleted, last `)` deleted, first
/// `"` deleted, first ` : ` doubled.
fn kuery_mutations(case: &Case) -> Vec<Case> {
    let text = &case.text;
    let mut out = Vec::new();
    let mut push = |name: &str, mutated: Option<String>| {
        if let Some(mutated) = mutated.filter(|mutated| mutated != text && !mutated.trim().is_empty()) {
            out.push(Case { id: format!("{}~{name}", case.id), language: case.language, text: mutated, corpus: false });
        }
    };
    let delete_at = |index: Option<usize>| index.map(|at| format!("{}{}", &text[..at], &text[at + 1..]));
    push("no-open", delete_at(text.find('(')));
    push("no-close", delete_at(text.rfind(')')));
    push("no-quote", delete_at(text.find('"')));
    push("double-colon", text.find(':').map(|at| format!("{}::{}", &text[..at], &text[at + 1..])));
    out
}

/// Every single-character deletion and every cut at a token boundary of a Lucene query.
fn lucene_mutations(case: &Case) -> Vec<Case> {
    let text = &case.text;
    let mut out = Vec::new();
    for (index, character) in text.char_indices() {
        if character.is_whitespace() {
            continue;
        }
        let mutated = format!("{}{}", &text[..index], &text[index + character.len_utf8()..]);
        if !mutated.trim().is_empty() {
            out.push(Case {
                id: format!("{}~del{index}", case.id),
                language: case.language,
                text: mutated,
                corpus: false,
            });
        }
    }
    for token in detwiki_elastic::lucene::tokenize(text) {
        let end = token.span.end as usize;
        if end > 0 && end < text.trim_end().len() {
            out.push(Case {
                id: format!("{}~cut{end}", case.id),
                language: case.language,
                text: text[..end].to_owned(),
                corpus: false,
            });
        }
    }
    out
}

/// detwiki's leaves of one analysis, sorted.
pub fn leaves(analysis: &Analysis) -> Vec<Leaf> {
    let mut out = Vec::new();
    for stage in &analysis.stages {
        let Some(tree) = &stage.predicate else { continue };
        tree.for_each_predicate(&mut |predicate, negated| {
            let negated = negated ^ predicate.negated;
            let text = predicate.values.first().and_then(Value::literal_text).unwrap_or_default();
            let (class, value) = match predicate.op {
                Op::IsNotNull => ("exists", String::new()),
                Op::Contains => ("term", format!("*{text}*")),
                Op::StartsWith => ("term", format!("{text}*")),
                Op::EndsWith => ("term", format!("*{text}")),
                Op::Wildcard => ("term", unescape(&text)),
                Op::RegexMatch => ("regex", text),
                Op::Gt => ("range", format!(">{text}")),
                Op::Ge => ("range", format!(">={text}")),
                Op::Lt => ("range", format!("<{text}")),
                Op::Le => ("range", format!("<={text}")),
                _ => ("term", text),
            };
            out.push((negated, predicate.field.clone(), class.to_owned(), value));
        });
    }
    out.sort();
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            out.extend(characters.next());
        } else {
            out.push(character);
        }
    }
    out
}

fn oracle_leaves(result: &Json) -> Vec<Leaf> {
    let mut out: Vec<Leaf> = result
        .get("leaves")
        .and_then(Json::as_array)
        .map(|leaves| {
            leaves
                .iter()
                .filter_map(|leaf| {
                    Some((
                        leaf.get(0)?.as_bool()?,
                        leaf.get(1)?.as_str()?.to_owned(),
                        leaf.get(2)?.as_str()?.to_owned(),
                        leaf.get(3)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

pub fn analyze(language: Language, text: &str) -> Analysis {
    match language {
        Language::Kuery => detwiki_elastic::kuery::analyze(text),
        _ => detwiki_elastic::lucene::analyze(text),
    }
}

/// A query the reference parser cannot judge: luqum lacks Elasticsearch's `&&`, `||` and `!`
/// operators. Such queries are counted apart, not compared.
fn unsupported_by_oracle(language: Language, case: &Case) -> Option<&'static str> {
    if language == Language::Lucene && ["&&", "||", "!"].iter().any(|operator| case.text.contains(operator)) {
        return Some("luqum-c-operators: luqum has no `&&`, `||`, `!` (Elasticsearch query_string syntax has them)");
    }
    None
}

/// A disagreement explained by a documented gap of luqum: it continues a term through `"` and
/// `/`, where Lucene's classic query parser (whose TERM_CHAR excludes both) ends the term and
/// starts a phrase or a regular expression. Seen as a phrase, regex or unclosed token that
/// starts right where a term ends.
fn known_lucene_gap(case: &Case) -> Option<&'static str> {
    let tokens = detwiki_elastic::lucene::tokenize(&case.text);
    let glued = tokens.windows(2).any(|pair| {
        use detwiki_elastic::lucene::TokenKind;
        pair[0].kind == TokenKind::Term
            && matches!(pair[1].kind, TokenKind::Phrase | TokenKind::Regex | TokenKind::Unterminated)
            && pair[0].span.end == pair[1].span.start
    });
    glued.then_some(
        "luqum-quote-inside-term: luqum continues a term through `\"` or `/` (Lucene's TERM_CHAR excludes both)",
    )
}

/// A disagreement explained by a documented gap of kibana-ql, each checked against Kibana's own
/// kuery grammar (`../shared/oracles/kibana_kuery_oracle.js`, Kibana 7.x build), which sides with
/// detwiki on every one.
fn known_kuery_gap(case: &Case, analysis: &Analysis) -> Option<&'static str> {
    let text = &case.text;
    let lower = text.to_ascii_lowercase();
    let not_before_break = lower.match_indices("not").any(|(at, _)| {
        let before_ok = at == 0 || lower[..at].ends_with(|c: char| c.is_whitespace() || c == '(');
        let rest = lower[at + 3..].trim_start_matches([' ', '\t', '\r']);
        before_ok && rest.starts_with('\n') && lower[at + 3..].starts_with(char::is_whitespace)
    });
    if not_before_break {
        return Some(
            "kibana-ql-not-line-break: kibana-ql drops a `not` followed by a line break (Kibana: Space = [ \\t\\r\\n])",
        );
    }
    if text.contains("\"\"") {
        return Some(
            "kibana-ql-empty-phrase: kibana-ql fails on or drops the empty quoted value `\"\"` (Kibana matches the empty string)",
        );
    }
    let multiline_value = analysis.stages.iter().filter_map(|stage| stage.predicate.as_ref()).any(|tree| {
        let mut found = false;
        tree.for_each_predicate(&mut |predicate, _| {
            found |= predicate.values.iter().filter_map(Value::literal_text).any(|value| value.contains('\n'));
        });
        found
    });
    if multiline_value {
        return Some(
            "kibana-ql-multiline-value: kibana-ql rejects or splits an unquoted value that runs across a line break (Kibana reads one value)",
        );
    }
    if ["\\t", "\\r", "\\n"].iter().any(|escape| text.contains(escape)) {
        return Some(
            "kibana-ql-escaped-whitespace: kibana-ql keeps `\\t`/`\\r`/`\\n` in quoted values undecoded (Kibana: QuotedCharacter = EscapedWhitespace / ...)",
        );
    }
    None
}

#[derive(Debug, Default)]
struct Stats {
    cases: usize,
    verdict_agree: usize,
    oracle_errors: usize,
    detwiki_errors: usize,
    compared: usize,
    structure_agree: usize,
}

#[derive(Debug, Default)]
struct Report {
    corpus: Stats,
    mutations: Stats,
    known: BTreeMap<&'static str, usize>,
    disagreements: Vec<String>,
}

fn compare(language: Language, cases: &[Case], oracle: &BTreeMap<String, Json>) -> Report {
    let mut report = Report::default();
    for case in cases {
        let Some(result) = oracle.get(&case.id) else { continue };
        if let Some(gap) = unsupported_by_oracle(language, case) {
            *report.known.entry(gap).or_default() += 1;
            continue;
        }
        let analysis = analyze(language, &case.text);
        let explained = |report: &mut Report| match language {
            Language::Kuery => {
                known_kuery_gap(case, &analysis).map(|gap| *report.known.entry(gap).or_default() += 1).is_some()
            }
            _ => known_lucene_gap(case).map(|gap| *report.known.entry(gap).or_default() += 1).is_some(),
        };
        let ours_ok = !analysis.has_errors();
        let theirs_ok = result.get("ok").and_then(Json::as_bool).unwrap_or(false);
        let theirs = oracle_leaves(result);
        let ours = if ours_ok { leaves(&analysis) } else { Vec::new() };
        let agrees = ours_ok == theirs_ok && (!ours_ok || same_leaves(&ours, &theirs));
        if !agrees && explained(&mut report) {
            continue;
        }
        let stats = if case.corpus { &mut report.corpus } else { &mut report.mutations };
        stats.cases += 1;
        stats.oracle_errors += usize::from(!theirs_ok);
        stats.detwiki_errors += usize::from(!ours_ok);
        if ours_ok != theirs_ok {
            let first = analysis.diagnostics.first().map(|diagnostic| diagnostic.message.clone()).unwrap_or_default();
            let theirs = result.get("error").and_then(Json::as_str).unwrap_or("accepted");
            report.disagreements.push(format!(
                "- verdict {}: detwiki {} ({first}); oracle {theirs}\n  text: {:?}",
                case.id,
                if ours_ok { "accepts" } else { "rejects" },
                truncate(&case.text)
            ));
            continue;
        }
        stats.verdict_agree += 1;
        if !ours_ok {
            continue;
        }
        stats.compared += 1;
        if same_leaves(&ours, &theirs) {
            stats.structure_agree += 1;
        } else {
            let only_ours: Vec<&Leaf> = ours.iter().filter(|leaf| !theirs.contains(leaf)).collect();
            let only_theirs: Vec<&Leaf> = theirs.iter().filter(|leaf| !ours.contains(leaf)).collect();
            report
                .disagreements
                .push(format!("- structure {}: only detwiki {:?}; only oracle {:?}", case.id, only_ours, only_theirs));
        }
    }
    report
}

/// Leaves are equal up to runs of white space inside values: kibana-ql returns an unquoted
/// value as its words, so `a b` and `a  b` are one value to it.
fn same_leaves(ours: &[Leaf], theirs: &[Leaf]) -> bool {
    let squash = |leaves: &[Leaf]| -> Vec<Leaf> {
        let mut out: Vec<Leaf> = leaves
            .iter()
            .map(|(negated, field, class, value)| {
                (*negated, field.clone(), class.clone(), value.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect();
        out.sort();
        out
    };
    squash(ours) == squash(theirs)
}

fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(160).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 { "n/a".to_owned() } else { format!("{:.2}%", 100.0 * part as f64 / whole as f64) }
}

impl Report {
    fn render(&self, language: Language, commit: &str) -> String {
        let (title, oracle) = match language {
            Language::Kuery => ("Kibana KQL (kuery)", "kibana-ql 0.2"),
            _ => ("Lucene query string", "luqum 1.0.0"),
        };
        let mut out = format!(
            "# {title} conformance: detwiki-elastic against {oracle} (tasks/conformance/oracles/elastic_query_batch.py)\n# Reproduce: cargo run -p detwiki-conformance -- {} --shared ../shared\n\n",
            language.as_str()
        );
        let section = |name: &str, stats: &Stats| {
            format!(
                "## {name}\nqueries: {}; oracle errors {}, detwiki errors {}\nverdict agrees: {}/{} ({})\nstructure agrees: {}/{} ({}) (queries both accept: predicate leaves with negation parity, field, operator class, decoded value)\n\n",
                stats.cases,
                stats.oracle_errors,
                stats.detwiki_errors,
                stats.verdict_agree,
                stats.cases,
                percent(stats.verdict_agree, stats.cases),
                stats.structure_agree,
                stats.compared,
                percent(stats.structure_agree, stats.compared)
            )
        };
        out.push_str(&section(&format!("{CORPUS} @ {commit}"), &self.corpus));
        out.push_str(&section("Mutations", &self.mutations));
        let all = Stats {
            cases: self.corpus.cases + self.mutations.cases,
            verdict_agree: self.corpus.verdict_agree + self.mutations.verdict_agree,
            oracle_errors: self.corpus.oracle_errors + self.mutations.oracle_errors,
            detwiki_errors: self.corpus.detwiki_errors + self.mutations.detwiki_errors,
            compared: self.corpus.compared + self.mutations.compared,
            structure_agree: self.corpus.structure_agree + self.mutations.structure_agree,
        };
        out.push_str(&section("Corpus and mutations together", &all));
        let known: usize = self.known.values().sum();
        out.push_str(&format!(
            "## Known oracle gaps (queries excluded: {known} of {}, {})\n",
            all.cases + known,
            percent(known, all.cases + known)
        ));
        for (gap, count) in &self.known {
            out.push_str(&format!("- {gap}: {count}\n"));
        }
        out.push_str(&format!("\n## Disagreements ({})\n", self.disagreements.len()));
        for line in &self.disagreements {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}
