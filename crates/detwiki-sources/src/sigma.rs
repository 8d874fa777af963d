//! Sigma rules: one YAML document per rule, and multi-document collections whose `action:
//! global` documents are merged into the documents that follow (`reset` clears them, `repeat`
//! starts from the previous rule document). The query is the whole file: the Sigma engine merges
//! the collection itself, given the document index.

use detwiki_ir::{BodyFormat, Diagnostic, Language, Metadata, Query, SourceMap, Span};
use serde_json::Value;

use crate::yaml::{Document, YamlStream};
use crate::{FileInput, Outcome};

/// Whether a parsed YAML stream is a Sigma rule file (some document has a detection,
/// correlation or filter section, or a collection `action`).
pub(crate) fn is_sigma(stream: &YamlStream) -> bool {
    stream.documents.iter().filter_map(|document| document.root.as_ref()).any(|root| {
        root.get("detection").is_some()
            || root.get("correlation").is_some()
            || (root.get("filter").is_some() && root.get("logsource").is_some())
            || (root.get("title").is_some() && root.get("logsource").is_some())
            || root.get("action").and_then(|action| action.as_str()).is_some_and(|action| action == "global")
    })
}

pub(crate) fn read(input: &FileInput, stream: &YamlStream) -> Outcome {
    let text = &input.text;
    let file_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let documents: Vec<(usize, &Document)> =
        stream.documents.iter().enumerate().filter(|(_, document)| document.root.is_some()).collect();
    let collection = documents.len() > 1;
    let rule_spans: Vec<Span> = documents
        .iter()
        .filter(|(_, document)| {
            document.root.as_ref().is_some_and(|root| {
                !matches!(root.get("action").and_then(|action| action.as_str()), Some("global") | Some("reset"))
            })
        })
        .map(|(_, document)| document.span)
        .collect();
    let mut global = Value::Object(serde_json::Map::new());
    let mut previous_rule: Option<Value> = None;
    let mut rules = Vec::new();

    for (index, document) in &documents {
        let Some(root) = &document.root else { continue };
        if !root.is_mapping() {
            continue;
        }
        let mut json = root.to_json();
        let action = json.get("action").and_then(Value::as_str).map(str::to_owned);
        if let Value::Object(object) = &mut json {
            object.remove("action");
        }
        let merged = match action.as_deref() {
            Some("global") => {
                deep_merge(&mut global, &json);
                continue;
            }
            Some("reset") => {
                global = Value::Object(serde_json::Map::new());
                continue;
            }
            Some("repeat") => {
                let mut base = previous_rule.clone().unwrap_or_else(|| global.clone());
                deep_merge(&mut base, &json);
                base
            }
            _ => {
                let mut base = global.clone();
                deep_merge(&mut base, &json);
                base
            }
        };
        previous_rule = Some(merged.clone());

        // A diagnostic belongs to the rule whose document holds it; one in an `action`
        // document (merged into every rule) belongs to all of them.
        let mut diagnostics: Vec<Diagnostic> = stream
            .diagnostics
            .iter()
            .filter(|diagnostic| {
                !collection
                    || document.span.contains(diagnostic.span)
                    || !rule_spans.iter().any(|span| span.contains(diagnostic.span))
            })
            .cloned()
            .collect();
        if merged.get("detection").is_none() && merged.get("correlation").is_none() && merged.get("filter").is_none() {
            diagnostics.push(Diagnostic::warning(
                "sigma-no-detection",
                "sigma document has no `detection`, `correlation` or `filter` section",
                document.span,
            ));
        }
        let body_span = if collection { document.span } else { Span::new(0, file_len) };
        let query = Query {
            name: None,
            language: Language::Sigma,
            document: Some(u32::try_from(*index).unwrap_or(u32::MAX)),
            text: text.to_string(),
            span: document.span,
            source_map: SourceMap::verbatim(0, file_len),
        };
        let mut rule = input.rule(BodyFormat::SigmaYaml, metadata(&merged), body_span, vec![query], diagnostics);
        if collection {
            rule.id = format!("{}/{}", rule.id, index);
        }
        rules.push(rule);
    }
    if rules.is_empty() {
        return Outcome::skipped("Sigma file without a rule document (only `action` documents or empty)");
    }
    Outcome::Rules(rules)
}

/// Merges `overlay` into `base`: objects key by key (recursively), anything else replaced.
pub(crate) fn deep_merge(base: &mut Value, overlay: &Value) {
    fn merge_at(base: &mut Value, overlay: &Value, depth: usize) {
        match (base, overlay) {
            (Value::Object(base), Value::Object(overlay)) if depth < 64 => {
                for (key, value) in overlay {
                    match base.get_mut(key) {
                        Some(existing) => merge_at(existing, value, depth + 1),
                        None => {
                            base.insert(key.clone(), value.clone());
                        }
                    }
                }
            }
            (base, overlay) => *base = overlay.clone(),
        }
    }
    merge_at(base, overlay, 0);
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

pub(crate) fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|item| text_of(Some(item))).collect(),
        Some(other) => text_of(Some(other)).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Splits an author field written as one string ("A, B (Org), C") into names.
pub(crate) fn split_authors(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(str::trim)
        .map(|name| name.strip_prefix("and ").unwrap_or(name).trim())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

fn metadata(merged: &Value) -> Metadata {
    let mut metadata = Metadata {
        title: text_of(merged.get("title")),
        rule_id: text_of(merged.get("id")),
        description: text_of(merged.get("description")),
        authors: match merged.get("author") {
            Some(Value::Array(_)) => string_list(merged.get("author")),
            other => text_of(other).map(|text| split_authors(&text)).unwrap_or_default(),
        },
        status: text_of(merged.get("status")),
        severity: text_of(merged.get("level")),
        date: text_of(merged.get("date")),
        modified: text_of(merged.get("modified")),
        tags: string_list(merged.get("tags")),
        references: string_list(merged.get("references")),
        ..Metadata::default()
    };
    for key in ["logsource", "falsepositives", "correlation", "filter", "related", "fields", "name", "scope"] {
        if let Some(value) = merged.get(key)
            && !value.is_null()
        {
            metadata.extra.insert(key.to_owned(), value.clone());
        }
    }
    let kind = if merged.get("correlation").is_some() {
        "correlation"
    } else if merged.get("filter").is_some() && merged.get("detection").is_none() {
        "filter"
    } else {
        "rule"
    };
    metadata.extra.insert("sigma_kind".to_owned(), Value::String(kind.to_owned()));
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    fn read_text(text: &str) -> Vec<detwiki_ir::Rule> {
        let input = input("rules/x/test_rule.yml", text);
        let stream = crate::yaml::parse_stream(text).unwrap();
        assert!(is_sigma(&stream));
        match read(&input, &stream) {
            Outcome::Rules(rules) => rules,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn single_rule_metadata() {
        let rules = read_text(
            "title: Msiexec\nid: 1234\nstatus: test\ndescription: d\nauthor: A, B (Org)\ndate: 2024-01-01\ntags:\n  - attack.t1218.007\nlevel: high\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\msiexec.exe'\n  condition: sel\nfalsepositives:\n  - none\n",
        );
        assert_eq!(rules.len(), 1);
        let rule = &rules[0];
        assert_eq!(rule.id, "test/rules/x/test-rule");
        assert_eq!(rule.metadata.title.as_deref(), Some("Msiexec"));
        assert_eq!(rule.metadata.rule_id.as_deref(), Some("1234"));
        assert_eq!(rule.metadata.authors, vec!["A", "B (Org)"]);
        assert_eq!(rule.metadata.severity.as_deref(), Some("high"));
        assert_eq!(rule.metadata.tags, vec!["attack.t1218.007"]);
        assert_eq!(rule.metadata.date.as_deref(), Some("2024-01-01"));
        assert!(rule.metadata.extra.contains_key("logsource"));
        assert_eq!(rule.queries[0].document, Some(0));
        assert_eq!(rule.queries[0].text, rule.file_text.as_ref());
    }

    #[test]
    fn collections_merge_global() {
        let text = "action: global\ntitle: T\nlevel: high\nlogsource:\n  product: windows\ndetection:\n  condition: sel\n---\nlogsource:\n  service: sysmon\ndetection:\n  sel:\n    EventID: 1\n---\ntitle: Other\nlogsource:\n  service: security\ndetection:\n  sel:\n    EventID: 4688\n---\naction: repeat\nlevel: low\n";
        let rules = read_text(text);
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].metadata.title.as_deref(), Some("T"));
        assert_eq!(rules[0].id, "test/rules/x/test-rule/1");
        assert_eq!(rules[0].queries[0].document, Some(1));
        assert_eq!(rules[1].metadata.title.as_deref(), Some("Other"));
        let logsource = &rules[1].metadata.extra["logsource"];
        assert_eq!(logsource["product"], "windows");
        assert_eq!(logsource["service"], "security");
        assert_eq!(rules[2].metadata.title.as_deref(), Some("Other"));
        assert_eq!(rules[2].metadata.severity.as_deref(), Some("low"));
        assert!(rules[1].body().starts_with("---\ntitle: Other"));
    }

    #[test]
    fn duplicate_keys_in_global_documents_reach_every_rule() {
        let rules = read_text(
            "action: global\nlevel: low\nlevel: high\n---\ntitle: a\nlogsource: {}\ndetection: {condition: x}\n---\ntitle: b\nlogsource: {}\ndetection: {condition: x}\n",
        );
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|rule| rule.diagnostics.iter().any(|d| d.code == "yaml-duplicate-key")));
        assert!(rules.iter().all(|rule| rule.metadata.severity.as_deref() == Some("high")));
    }

    #[test]
    fn duplicate_keys_warn() {
        let rules = read_text("title: a\ntitle: b\nlogsource: {}\ndetection:\n  condition: x\n");
        assert_eq!(rules[0].metadata.title.as_deref(), Some("b"));
        assert!(rules[0].diagnostics.iter().any(|d| d.code == "yaml-duplicate-key"));
    }
}
