//! Elastic detection-rules TOML: rule files (`[rule]`, one query in EQL, kuery, Lucene or ES|QL;
//! machine-learning rules have none) and hunting files (`[hunt]`, several queries).
//!
//! `toml_edit` gives each value's span; [`decode_toml_string`] decodes the string a second time
//! to record which bytes were copied verbatim, and is checked against `toml_edit`'s value.

use std::collections::BTreeSet;

use detwiki_ir::{BodyFormat, Diagnostic, Language, Metadata, Query, SourceMap, Span};
use serde_json::Value as Json;
use toml_edit::{Item, Value};

use crate::{FileInput, Outcome};

pub(crate) fn read(input: &FileInput) -> Outcome {
    let text: &str = &input.text;
    let document = match toml_edit::Document::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let message = error.message().trim().to_owned();
            return Outcome::skipped(format!("TOML does not parse: {message}"));
        }
    };
    let root = document.as_table();
    if let Some(rule) = root.get("rule").and_then(Item::as_table_like) {
        return read_rule(input, root, rule);
    }
    if let Some(hunt) = root.get("hunt").and_then(Item::as_table_like) {
        return read_hunt(input, hunt);
    }
    Outcome::skipped("TOML without a `[rule]` or `[hunt]` table (not an Elastic rule)")
}

fn string_of(table: &dyn toml_edit::TableLike, key: &str) -> Option<String> {
    let item = table.get(key)?;
    match item.as_value()? {
        Value::String(text) => Some(text.value().trim().to_owned()),
        Value::Integer(number) => Some(number.value().to_string()),
        Value::Float(number) => Some(number.value().to_string()),
        Value::Boolean(flag) => Some(flag.value().to_string()),
        Value::Datetime(date) => Some(date.value().to_string()),
        _ => None,
    }
}

fn strings_of(table: &dyn toml_edit::TableLike, key: &str) -> Vec<String> {
    match table.get(key).and_then(Item::as_value) {
        Some(Value::Array(array)) => {
            array.iter().filter_map(|value| value.as_str().map(|text| text.trim().to_owned())).collect()
        }
        Some(Value::String(text)) => vec![text.value().trim().to_owned()],
        _ => Vec::new(),
    }
}

/// TOML item to JSON, for `metadata.extra`.
fn to_json(item: &Item, depth: usize) -> Json {
    if depth > 32 {
        return Json::Null;
    }
    match item {
        Item::None => Json::Null,
        Item::Value(value) => value_json(value, depth),
        Item::Table(table) => {
            Json::Object(table.iter().map(|(key, item)| (key.to_owned(), to_json(item, depth + 1))).collect())
        }
        Item::ArrayOfTables(array) => Json::Array(
            array
                .iter()
                .map(|table| {
                    Json::Object(table.iter().map(|(key, item)| (key.to_owned(), to_json(item, depth + 1))).collect())
                })
                .collect(),
        ),
    }
}

fn value_json(value: &Value, depth: usize) -> Json {
    if depth > 32 {
        return Json::Null;
    }
    match value {
        Value::String(text) => Json::String(text.value().clone()),
        Value::Integer(number) => Json::from(*number.value()),
        Value::Float(number) => serde_json::Number::from_f64(*number.value()).map(Json::Number).unwrap_or(Json::Null),
        Value::Boolean(flag) => Json::Bool(*flag.value()),
        Value::Datetime(date) => Json::String(date.value().to_string()),
        Value::Array(array) => Json::Array(array.iter().map(|value| value_json(value, depth + 1)).collect()),
        Value::InlineTable(table) => {
            Json::Object(table.iter().map(|(key, value)| (key.to_owned(), value_json(value, depth + 1))).collect())
        }
    }
}

/// A query string value decoded with its map; `None` when the value is not a string.
fn query_of(text: &str, value: &Value) -> Option<(String, SourceMap, Span, Option<Diagnostic>)> {
    let Value::String(formatted) = value else { return None };
    let expected = formatted.value();
    let span = value.span().map(|range| Span::from_usize(range.start, range.end));
    if let Some(span) = span
        && let Some((decoded, map)) = decode_toml_string(text, span.start as usize)
        && decoded == *expected
    {
        return Some((decoded, map, span, None));
    }
    let span = span.unwrap_or_default();
    let mut map = SourceMap::new();
    map.set_file_end(span.start);
    let diagnostic = Diagnostic::info(
        "toml-approximate-source-map",
        "could not map this string back to the file; positions point at its start",
        span,
    );
    Some((expected.clone(), map, span, Some(diagnostic)))
}

fn read_rule(input: &FileInput, root: &toml_edit::Table, rule: &dyn toml_edit::TableLike) -> Outcome {
    let text: &str = &input.text;
    let rule_type = string_of(rule, "type").unwrap_or_default();
    let language_name = string_of(rule, "language").unwrap_or_default();
    // Endpoint behaviour rules (the `protections-artifacts` layout) have a `[rule]` table with a
    // `query` but no `language`, `type` or `index`, and name the agent instead: `os_list`,
    // `min_endpoint_version`, `[[actions]]`. Their queries are EQL over Elastic Defend events.
    let endpoint_behavior = language_name.is_empty()
        && rule_type.is_empty()
        && rule.get("index").is_none()
        && ["os_list", "min_endpoint_version", "actions"]
            .iter()
            .any(|key| rule.contains_key(key) || root.contains_key(key));
    let language = match language_name.to_ascii_lowercase().as_str() {
        "eql" => Language::Eql,
        "kuery" => Language::Kuery,
        "lucene" => Language::Lucene,
        "esql" => Language::Esql,
        _ if endpoint_behavior => Language::Eql,
        _ => match rule_type.as_str() {
            "eql" => Language::Eql,
            "esql" => Language::Esql,
            _ => Language::Kuery,
        },
    };
    let mut queries = Vec::new();
    let mut diagnostics = Vec::new();
    for (key, name) in [("query", None), ("threat_query", Some("threat indicator query"))] {
        let Some(value) = rule.get(key).and_then(Item::as_value) else { continue };
        let Some((decoded, map, span, diagnostic)) = query_of(text, value) else { continue };
        diagnostics.extend(diagnostic);
        let query_language = if key == "threat_query" { Language::Kuery } else { language };
        queries.push(Query {
            name: name.map(str::to_owned),
            language: query_language,
            document: None,
            text: decoded,
            span,
            source_map: map,
        });
    }
    if queries.is_empty() && rule_type != "machine_learning" {
        diagnostics.push(Diagnostic::warning(
            "elastic-no-query",
            format!("rule of type `{rule_type}` has no `query`"),
            Span::empty(0),
        ));
    }
    let metadata_table = root.get("metadata").and_then(Item::as_table_like);
    let mut metadata = Metadata {
        title: string_of(rule, "name"),
        rule_id: string_of(rule, "rule_id"),
        description: string_of(rule, "description"),
        authors: strings_of(rule, "author"),
        severity: string_of(rule, "severity"),
        references: strings_of(rule, "references"),
        lookback: string_of(rule, "from"),
        frequency: string_of(rule, "interval"),
        status: metadata_table.and_then(|table| string_of(table, "maturity")),
        date: metadata_table.and_then(|table| string_of(table, "creation_date")),
        modified: metadata_table.and_then(|table| string_of(table, "updated_date")),
        tags: threat_tags(rule.get("threat")),
        ..Metadata::default()
    };
    for key in [
        "type",
        "index",
        "language",
        "risk_score",
        "tags",
        "false_positives",
        "threshold",
        "new_terms",
        "machine_learning_job_id",
        "anomaly_threshold",
        "timestamp_override",
        "threat_index",
        "threat_mapping",
        "threat_filters",
        "filters",
        "alert_suppression",
        "building_block_type",
        "note",
        "setup",
        "os_list",
        "min_endpoint_version",
    ] {
        if let Some(item) = rule.get(key) {
            let json = to_json(item, 0);
            if !json.is_null() {
                metadata.extra.insert(key.to_owned(), json);
            }
        }
    }
    if let Some(integration) = metadata_table.and_then(|table| table.get("integration")) {
        metadata.extra.insert("integration".to_owned(), to_json(integration, 0));
    }
    let kind = if endpoint_behavior { "endpoint_behavior" } else { "rule" };
    metadata.extra.insert("elastic_kind".to_owned(), Json::String(kind.to_owned()));
    if endpoint_behavior && !metadata.extra.contains_key("integration") {
        // Behaviour rules run inside Elastic Defend; the events are its own.
        metadata.extra.insert("integration".to_owned(), Json::Array(vec![Json::String("endpoint".to_owned())]));
        metadata.extra.insert("index".to_owned(), Json::Array(vec![Json::String("logs-endpoint.events.*".to_owned())]));
    }
    let body_span = Span::from_usize(0, text.len());
    Outcome::Rules(vec![input.rule(BodyFormat::ElasticToml, metadata, body_span, queries, diagnostics)])
}

/// ATT&CK tags from `[[rule.threat]]`: tactic names, technique and sub-technique IDs.
fn threat_tags(threat: Option<&Item>) -> Vec<String> {
    let mut tags = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |tag: Option<String>, tags: &mut Vec<String>| {
        if let Some(tag) = tag
            && !tag.is_empty()
            && seen.insert(tag.clone())
        {
            tags.push(tag);
        }
    };
    let Some(Item::ArrayOfTables(threats)) = threat else { return tags };
    for entry in threats.iter() {
        if let Some(tactic) = entry.get("tactic").and_then(Item::as_table_like) {
            add(string_of(tactic, "name"), &mut tags);
        }
        let techniques = entry.get("technique");
        for technique in tables_of(techniques) {
            add(string_of(technique, "id"), &mut tags);
            for subtechnique in tables_of(technique.get("subtechnique")) {
                add(string_of(subtechnique, "id"), &mut tags);
            }
        }
    }
    tags
}

/// Tables of an array of tables or of an inline array of inline tables.
fn tables_of(item: Option<&Item>) -> Vec<&dyn toml_edit::TableLike> {
    match item {
        Some(Item::ArrayOfTables(array)) => array.iter().map(|table| table as &dyn toml_edit::TableLike).collect(),
        Some(Item::Value(Value::Array(array))) => array
            .iter()
            .filter_map(|value| value.as_inline_table().map(|table| table as &dyn toml_edit::TableLike))
            .collect(),
        _ => Vec::new(),
    }
}

/// Language of one hunting query: ES|QL starts with `from`, osquery SQL with `select`/`with`.
fn hunt_query_language(query: &str, declared: &[String]) -> Language {
    let first = query
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with("//") && !line.starts_with("--"))
        .unwrap_or("")
        .to_ascii_lowercase();
    if first.starts_with("select") || first.starts_with("with ") {
        return Language::None;
    }
    if first.starts_with("from ") || first.starts_with("row ") || first.starts_with("show ") {
        return Language::Esql;
    }
    let declared: Vec<String> = declared.iter().map(|language| language.to_ascii_lowercase()).collect();
    if declared.iter().any(|language| language == "eql") {
        return Language::Eql;
    }
    if declared.iter().any(|language| language == "es|ql") {
        return Language::Esql;
    }
    if declared.iter().any(|language| language == "kuery" || language == "kql") {
        return Language::Kuery;
    }
    Language::None
}

fn read_hunt(input: &FileInput, hunt: &dyn toml_edit::TableLike) -> Outcome {
    let text: &str = &input.text;
    let declared = strings_of(hunt, "language");
    let mut queries = Vec::new();
    let mut diagnostics = Vec::new();
    let values: Vec<&Value> = match hunt.get("query").and_then(Item::as_value) {
        Some(Value::Array(array)) => array.iter().collect(),
        Some(value) => vec![value],
        None => Vec::new(),
    };
    for (index, value) in values.into_iter().enumerate() {
        let Some((decoded, map, span, diagnostic)) = query_of(text, value) else { continue };
        diagnostics.extend(diagnostic);
        let language = hunt_query_language(&decoded, &declared);
        queries.push(Query {
            name: Some(format!("query {}", index + 1)),
            language,
            document: None,
            text: decoded,
            span,
            source_map: map,
        });
    }
    if queries.is_empty() {
        return Outcome::skipped("Elastic hunting file without a query");
    }
    let mut metadata = Metadata {
        title: string_of(hunt, "name"),
        rule_id: string_of(hunt, "uuid"),
        description: string_of(hunt, "description"),
        authors: strings_of(hunt, "author"),
        tags: strings_of(hunt, "mitre"),
        references: strings_of(hunt, "references"),
        ..Metadata::default()
    };
    for key in ["language", "integration", "notes", "license"] {
        if let Some(item) = hunt.get(key) {
            metadata.extra.insert(key.to_owned(), to_json(item, 0));
        }
    }
    metadata.extra.insert("elastic_kind".to_owned(), Json::String("hunting".to_owned()));
    let body_span = Span::from_usize(0, text.len());
    Outcome::Rules(vec![input.rule(BodyFormat::ElasticToml, metadata, body_span, queries, diagnostics)])
}

/// Decodes the TOML string starting at byte `start` (its opening quote).
pub(crate) fn decode_toml_string(text: &str, start: usize) -> Option<(String, SourceMap)> {
    let bytes = text.as_bytes();
    let rest = text.get(start..)?;
    let (literal, multiline) = if rest.starts_with("\"\"\"") {
        (false, true)
    } else if rest.starts_with("'''") {
        (true, true)
    } else if rest.starts_with('"') {
        (false, false)
    } else if rest.starts_with('\'') {
        (true, false)
    } else {
        return None;
    };
    let quote = if literal { b'\'' } else { b'"' };
    let delimiter = if multiline { 3 } else { 1 };
    let mut position = start + delimiter;
    if multiline {
        if bytes.get(position) == Some(&b'\n') {
            position += 1;
        } else if bytes.get(position) == Some(&b'\r') && bytes.get(position + 1) == Some(&b'\n') {
            position += 2;
        }
    }
    let mut out = String::new();
    let mut map = SourceMap::new();
    let mut run_start = position;
    let flush = |out: &mut String, map: &mut SourceMap, from: usize, to: usize| -> Option<()> {
        if to > from {
            let piece = text.get(from..to)?;
            map.push(u32::try_from(out.len()).ok()?, u32::try_from(from).ok()?, u32::try_from(piece.len()).ok()?);
            out.push_str(piece);
        }
        Some(())
    };
    loop {
        let byte = *bytes.get(position)?;
        if byte == quote {
            if !multiline {
                flush(&mut out, &mut map, run_start, position)?;
                map.set_file_end(u32::try_from(position).ok()?);
                return Some((out, map));
            }
            // Count the run of quotes: the last three close the string.
            let run = bytes.get(position..)?.iter().take_while(|&&b| b == quote).count();
            if run >= 3 {
                let content_end = position + run - 3;
                flush(&mut out, &mut map, run_start, content_end)?;
                map.set_file_end(u32::try_from(content_end).ok()?);
                return Some((out, map));
            }
            position += run;
            continue;
        }
        if byte == b'\\' && !literal {
            flush(&mut out, &mut map, run_start, position)?;
            let escape = *bytes.get(position + 1)?;
            let mut consumed = 2;
            match escape {
                b'b' => out.push('\u{8}'),
                b't' => out.push('\t'),
                b'n' => out.push('\n'),
                b'f' => out.push('\u{c}'),
                b'r' => out.push('\r'),
                b'e' => out.push('\u{1b}'),
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'x' | b'u' | b'U' => {
                    let digits = match escape {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = text.get(position + 2..position + 2 + digits)?;
                    out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                    consumed = 2 + digits;
                }
                b' ' | b'\t' | b'\r' | b'\n' if multiline => {
                    // Line-ending backslash: white space and breaks up to the next content vanish.
                    let mut next = position + 1;
                    while matches!(bytes.get(next), Some(b' ') | Some(b'\t') | Some(b'\r') | Some(b'\n')) {
                        next += 1;
                    }
                    consumed = next - position;
                }
                _ => return None,
            }
            position += consumed;
            run_start = position;
            continue;
        }
        if !multiline && (byte == b'\n' || byte == b'\r') {
            return None;
        }
        position += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    fn check(text: &str, query: &Query) {
        assert_eq!(query.source_map.first_unfaithful_segment(&query.text, text), None);
    }

    #[test]
    fn rule_with_threat() {
        let text = r#"[metadata]
creation_date = "2022/04/12"
maturity = "production"

[rule]
author = ["Elastic"]
description = "Finds \"things\"."
from = "now-9m"
interval = "5m"
language = "eql"
name = "Sequence"
rule_id = "r1"
severity = "high"
type = "eql"
query = '''
sequence by host.id with maxspan=1m
  [process where process.name : "a.exe"]
  [network where true]
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1218"
name = "System Binary Proxy Execution"
[[rule.threat.technique.subtechnique]]
id = "T1218.007"
name = "Msiexec"

[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
"#;
        let Outcome::Rules(rules) = read(&input("rules/windows/x.toml", text)) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.metadata.title.as_deref(), Some("Sequence"));
        assert_eq!(rule.metadata.description.as_deref(), Some("Finds \"things\"."));
        assert_eq!(rule.metadata.tags, vec!["Defense Evasion", "T1218", "T1218.007"]);
        assert_eq!(rule.metadata.lookback.as_deref(), Some("now-9m"));
        assert_eq!(rule.queries[0].language, Language::Eql);
        assert!(rule.queries[0].text.starts_with("sequence by host.id"));
        assert!(rule.diagnostics.is_empty(), "{:?}", rule.diagnostics);
        check(text, &rule.queries[0]);
    }

    #[test]
    fn endpoint_behavior_layout_is_eql_over_elastic_defend() {
        let text = "[rule]\ndescription = \"d\"\nid = \"x\"\nname = \"Behaviour\"\nos_list = [\"windows\"]\nquery = '''\nprocess where process.name : \"a.exe\"\n'''\nmin_endpoint_version = \"8.4.0\"\n\n[[actions]]\naction = \"kill_process\"\n";
        let Outcome::Rules(rules) = read(&input("behavior/rules/x.toml", text)) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.queries[0].language, Language::Eql);
        assert_eq!(rule.metadata.extra.get("elastic_kind"), Some(&Json::String("endpoint_behavior".to_owned())));
        assert!(rule.metadata.extra.contains_key("index"));
        assert!(rule.metadata.extra.contains_key("os_list"));
    }

    #[test]
    fn machine_learning_rule_has_no_query() {
        let text =
            "[rule]\nname = \"ML\"\nrule_id = \"m\"\ntype = \"machine_learning\"\nmachine_learning_job_id = [\"j\"]\n";
        let Outcome::Rules(rules) = read(&input("rules/ml.toml", text)) else { panic!() };
        assert!(rules[0].queries.is_empty());
        assert!(rules[0].diagnostics.is_empty());
    }

    #[test]
    fn hunting_queries() {
        let text = "[hunt]\nname = \"H\"\nlanguage = [\"ES|QL\", \"SQL\"]\nmitre = ['T1580']\nquery = [\n'''\nfrom logs-*\n| where a == \"b\"\n''',\n\"\"\"\nSELECT * FROM processes\nWHERE name = \"x\\ty\"\n\"\"\"\n]\n";
        let Outcome::Rules(rules) = read(&input("hunting/x.toml", text)) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.queries.len(), 2);
        assert_eq!(rule.queries[0].language, Language::Esql);
        assert_eq!(rule.queries[1].language, Language::None);
        assert_eq!(rule.queries[1].text, "SELECT * FROM processes\nWHERE name = \"x\ty\"\n");
        assert_eq!(rule.metadata.tags, vec!["T1580"]);
        for query in &rule.queries {
            check(text, query);
        }
    }

    #[test]
    fn line_ending_backslash() {
        let text = "s = \"\"\"\na \\\n   b\"\"\"";
        let (decoded, _) = decode_toml_string(text, 4).unwrap();
        assert_eq!(decoded, "a b");
    }
}
