//! The semantic half of the KQL check: detwiki's column model against Kusto.Language's binder.
//!
//! Both sides use one schema, built here from `../shared/knowledge/schemas/kqlanalyzer-environments.json`
//! (every Sentinel table, and for a table of both environments, such as the Defender tables, the
//! union of its `m365` and `sentinel` columns). The schema is written in the shape of
//! `kql_oracle.js --schema-json` for the batch driver `tasks/conformance/kql_semantic.js`, which
//! loads Kusto.Language once and runs `ParseAndAnalyze` on every unit, and handed to
//! [`detwiki_kql::analyze_with_schema`] as a [`detwiki_kql::Schema`].
//!
//! A unit *agrees* when the set of (name, offset) of Kusto.Language's unknown-name diagnostics
//! (KS142) equals the set of detwiki's `kql-unknown-column` warnings. Units where Kusto.Language
//! reports an unknown table (KS204) or function (KS211) are listed, not scored: a name the
//! schema lacks says nothing about the column model. The mutation check renames one column
//! compared in a `where` of each clean unit to an unknown name: both sides must flag it there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use detwiki_kql::{Schema, TokenKind};
use serde_json::Value as Json;

use crate::kql::{percent, run_oracle};

/// Mutate one unit in this many.
const MUTATION_STRIDE: usize = 4;

/// The columns of every table of the environments file, Sentinel first, each table's columns
/// the union over environments.
fn merged_tables(environments: &Json) -> BTreeMap<String, Vec<(String, String)>> {
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for environment in ["sentinel", "m365"] {
        let Some(entries) = environments[environment]["tables"].as_object() else { continue };
        for (table, columns) in entries {
            let known = tables.entry(table.clone()).or_default();
            for (column, column_type) in columns.as_object().into_iter().flatten() {
                if !known.iter().any(|(name, _)| name == column) {
                    known.push((column.clone(), kusto_type(column_type.as_str().unwrap_or("string")).to_owned()));
                }
            }
        }
    }
    tables
}

/// The schema file's type names as Kusto spells them.
fn kusto_type(written: &str) -> &str {
    match written {
        "boolean" => "bool",
        "double" => "real",
        other => other,
    }
}

/// The outcome of the semantic check, rendered into the KQL snapshot.
#[derive(Debug, Default)]
pub struct SemanticReport {
    pub tables: usize,
    pub units: usize,
    /// Units with an unknown table or function, listed, not scored.
    pub unscored: Vec<String>,
    /// Units where either side reports an unknown column.
    pub scored: usize,
    pub agree: usize,
    pub oracle_names: usize,
    pub detwiki_names: usize,
    pub disagreements: Vec<String>,
    pub mutations: usize,
    pub mutations_oracle: usize,
    pub mutations_detwiki: usize,
    pub mutations_both: usize,
    pub mutation_disagreements: Vec<String>,
}

impl SemanticReport {
    /// The figures, shown with the other figures of the snapshot.
    pub fn render_summary(&self) -> String {
        let mut out = format!(
            "\n## Column references (schema: kqlanalyzer-environments.json, {} tables; units both parse)\n",
            self.tables
        );
        out.push_str(&format!(
            "units: {}; unknown table or function (listed, not scored): {}\n",
            self.units,
            self.unscored.len()
        ));
        out.push_str(&format!(
            "unknown-column sets agree: {}/{} ({}) (units where either side reports one; Kusto.Language KS142 {}, detwiki {})\n",
            self.agree,
            self.scored,
            percent(self.agree, self.scored),
            self.oracle_names,
            self.detwiki_names
        ));
        out.push_str(&format!(
            "mutations (every {MUTATION_STRIDE}th unit: a compared column renamed to an unknown name): {}; Kusto.Language flags {}, detwiki flags {}, both {} ({})\n",
            self.mutations,
            self.mutations_oracle,
            self.mutations_detwiki,
            self.mutations_both,
            percent(self.mutations_both, self.mutations)
        ));
        out
    }

    /// Every disagreement and every unit left unscored.
    pub fn render_details(&self) -> String {
        let mut out = format!(
            "\n## Column reference disagreements ({})\n",
            self.disagreements.len() + self.mutation_disagreements.len()
        );
        for line in self.disagreements.iter().chain(&self.mutation_disagreements) {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!("\n## Units with an unknown table or function ({})\n", self.unscored.len()));
        for line in &self.unscored {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Runs the check on `units` (location, text): the units both parsers accept.
pub fn run(shared: &Path, units: &[(String, String)]) -> anyhow::Result<SemanticReport> {
    let environments_path = shared.join("knowledge/schemas/kqlanalyzer-environments.json");
    let environments: Json = serde_json::from_slice(
        &std::fs::read(&environments_path).with_context(|| format!("reading {}", environments_path.display()))?,
    )?;
    let tables = merged_tables(&environments);
    let mut schema = Schema::new();
    let mut oracle_schema = serde_json::Map::new();
    for (table, columns) in &tables {
        schema.add_typed_table(table, columns.iter().cloned());
        let columns: serde_json::Map<String, Json> = columns
            .iter()
            .map(|(name, column_type)| (name.clone(), serde_json::json!({ "data_type": column_type })))
            .collect();
        oracle_schema.insert(table.clone(), Json::Object(columns));
    }
    // The environments' functions (`FileProfile`) have no signature in the file: detwiki knows
    // their names, Kusto.Language reports them as unknown functions and the unit is listed.
    for environment in ["sentinel", "m365"] {
        for function in environments[environment]["magic_functions"].as_array().into_iter().flatten() {
            if let Some(name) = function.as_str() {
                schema.add_function(name);
            }
        }
    }
    let schema_path = std::env::temp_dir().join(format!("detwiki-kql-schema-{}.json", std::process::id()));
    std::fs::write(&schema_path, serde_json::json!({ "tables": oracle_schema }).to_string())?;

    let mutations = mutate(units, &tables);
    let mut input = String::new();
    for (index, text) in units.iter().map(|(_, text)| text).chain(mutations.iter().map(|(_, text, _)| text)).enumerate()
    {
        input.push_str(&serde_json::json!({ "id": index.to_string(), "text": text }).to_string());
        input.push('\n');
    }
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("kql_semantic.js");
    let arguments = ["--schema-json".to_owned(), schema_path.display().to_string()];
    let lines = run_oracle(&driver, shared, &arguments, Some(input));
    let _ = std::fs::remove_file(&schema_path);
    let lines = lines?;
    let by_id: BTreeMap<usize, &Json> =
        lines.iter().filter_map(|line| Some((line["id"].as_str()?.parse::<usize>().ok()?, line))).collect();

    let mut report = SemanticReport { tables: tables.len(), units: units.len(), ..SemanticReport::default() };
    for (index, (place, text)) in units.iter().enumerate() {
        let Some(line) = by_id.get(&index) else { continue };
        let (theirs, unknown_symbols) = oracle_names(line);
        if !unknown_symbols.is_empty() {
            report.unscored.push(format!("{place}: {}", unknown_symbols.join(", ")));
            continue;
        }
        let ours = detwiki_names(text, &schema);
        if theirs.is_empty() && ours.is_empty() {
            continue;
        }
        report.scored += 1;
        report.oracle_names += theirs.len();
        report.detwiki_names += ours.len();
        if theirs == ours {
            report.agree += 1;
        } else {
            report.disagreements.push(format!(
                "{place} columns: only Kusto.Language {:?}; only detwiki {:?}",
                theirs.difference(&ours).collect::<Vec<_>>(),
                ours.difference(&theirs).collect::<Vec<_>>()
            ));
        }
    }
    for (offset, (place, text, mutated)) in mutations.iter().enumerate() {
        let Some(line) = by_id.get(&(units.len() + offset)) else { continue };
        let (theirs, unknown_symbols) = oracle_names(line);
        if !unknown_symbols.is_empty() {
            continue;
        }
        report.mutations += 1;
        let ours = detwiki_names(text, &schema);
        let oracle_flags = theirs.contains(mutated);
        let detwiki_flags = ours.contains(mutated);
        report.mutations_oracle += usize::from(oracle_flags);
        report.mutations_detwiki += usize::from(detwiki_flags);
        report.mutations_both += usize::from(oracle_flags && detwiki_flags);
        if oracle_flags != detwiki_flags {
            let who = if oracle_flags { "only Kusto.Language" } else { "only detwiki" };
            report
                .mutation_disagreements
                .push(format!("{place} [renamed `{}` at {}]: {who} flags it", mutated.0, mutated.1));
        }
    }
    Ok(report)
}

/// Kusto.Language's unknown names (KS142) as (name, offset), and its unknown tables and
/// functions (KS204, KS211) as text.
fn oracle_names(line: &Json) -> (BTreeSet<(String, u64)>, Vec<String>) {
    let mut names = BTreeSet::new();
    let mut symbols = Vec::new();
    for diagnostic in line["diagnostics"].as_array().into_iter().flatten() {
        let name = diagnostic["name"].as_str().unwrap_or("").to_owned();
        match diagnostic["code"].as_str() {
            Some("KS142") => {
                names.insert((name, diagnostic["offset"].as_u64().unwrap_or(0)));
            }
            Some(code) => symbols.push(format!("{code} `{name}`")),
            None => {}
        }
    }
    (names, symbols)
}

fn detwiki_names(text: &str, schema: &Schema) -> BTreeSet<(String, u64)> {
    detwiki_kql::analyze_with_schema(text, schema)
        .iter()
        .flat_map(|analysis| &analysis.diagnostics)
        .filter(|diagnostic| diagnostic.code == "kql-unknown-column")
        .map(|diagnostic| {
            let name = diagnostic.span.slice(text).unwrap_or("").to_owned();
            (name, u64::from(diagnostic.span.start))
        })
        .collect()
}

/// One mutation for every [`MUTATION_STRIDE`]th unit (the analysis with a schema costs
/// Kusto.Language about 50 ms of CPU a unit, and CI time is budgeted): the first column compared
/// right after a `where` (a name followed by a comparison, that some table of the schema has)
/// renamed to `<name>_renamed`. Returns (place, mutated text, (new name, offset)).
fn mutate(
    units: &[(String, String)],
    tables: &BTreeMap<String, Vec<(String, String)>>,
) -> Vec<(String, String, (String, u64))> {
    let columns: BTreeSet<&str> = tables.values().flatten().map(|(name, _)| name.as_str()).collect();
    let mut out = Vec::new();
    for (place, text) in units.iter().step_by(MUTATION_STRIDE) {
        let tokens = detwiki_kql::tokenize(text);
        let target = tokens.windows(3).find(|window| {
            let word = |index: usize| window[index].span.slice(text).unwrap_or("");
            window[0].kind == TokenKind::Ident
                && word(0) == "where"
                && window[1].kind == TokenKind::Ident
                && columns.contains(word(1))
                && matches!(
                    window[2].kind,
                    TokenKind::EqualEqual | TokenKind::EqualTilde | TokenKind::BangEqual | TokenKind::Greater
                )
        });
        let Some(window) = target else { continue };
        let span = window[1].span;
        let renamed = format!("{}_renamed", span.slice(text).unwrap_or(""));
        let mutated = format!("{}{renamed}{}", &text[..span.start as usize], &text[span.end as usize..]);
        out.push((place.clone(), mutated, (renamed, u64::from(span.start))));
    }
    out
}
