//! Microsoft Sentinel analytic rules and hunting queries: YAML with a top-level `query:` (KQL)
//! and metadata keys.

use detwiki_ir::{BodyFormat, Language, Metadata, Query, Span};

use crate::yaml::{Node, YamlStream, decode_node};
use crate::{FileInput, Outcome};

pub(crate) fn read(input: &FileInput, root: &Node, stream: &YamlStream) -> Outcome {
    let text = &input.text;
    let Some((key, value)) = root.entry("query") else {
        return Outcome::skipped("YAML without a `query` key");
    };
    let Some(decoded) = decode_node(text, key, value) else {
        return Outcome::skipped("Sentinel YAML whose `query` is not text");
    };
    if decoded.text.trim().is_empty() {
        return Outcome::skipped("Sentinel YAML with an empty `query`");
    }
    let mut diagnostics = stream.diagnostics.clone();
    diagnostics.extend(decoded.diagnostic.clone());
    let query = Query {
        name: None,
        language: Language::Kql,
        document: None,
        text: decoded.text,
        span: decoded.span,
        source_map: decoded.map,
    };
    let body_span = Span::from_usize(0, text.len());
    Outcome::Rules(vec![input.rule(BodyFormat::SentinelYaml, metadata(root), body_span, vec![query], diagnostics)])
}

/// Sentinel descriptions are often wrapped in single quotes inside a block scalar.
fn unquote(text: String) -> String {
    let trimmed = text.trim();
    if trimmed.len() >= 2 && trimmed.starts_with('\'') && trimmed.ends_with('\'') {
        trimmed[1..trimmed.len() - 1].trim().to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn metadata(root: &Node) -> Metadata {
    let text = |key: &str| root.get(key).and_then(Node::as_text).map(|value| value.trim().to_owned());
    let mut tags = root.get("tactics").map(Node::string_list).unwrap_or_default();
    tags.extend(root.get("relevantTechniques").map(Node::string_list).unwrap_or_default());
    let mut authors = Vec::new();
    if let Some(author) = root.get("metadata").and_then(|meta| meta.get("author")) {
        if let Some(name) = author.get("name").and_then(Node::as_text) {
            authors.push(name);
        } else if let Some(name) = author.as_text() {
            authors.push(name);
        }
    }
    let mut metadata = Metadata {
        title: text("name"),
        rule_id: text("id"),
        description: text("description").map(unquote).filter(|description| !description.is_empty()),
        authors,
        status: text("status"),
        severity: text("severity"),
        frequency: text("queryFrequency"),
        lookback: text("queryPeriod"),
        tags,
        references: root.get("references").map(Node::string_list).unwrap_or_default(),
        ..Metadata::default()
    };
    for key in [
        "kind",
        "requiredDataConnectors",
        "entityMappings",
        "triggerOperator",
        "triggerThreshold",
        "customDetails",
        "alertDetailsOverride",
        "eventGroupingSettings",
        "incidentConfiguration",
        "version",
        "tags",
    ] {
        if let Some(value) = root.get(key) {
            let json = value.to_json();
            if !json.is_null() {
                metadata.extra.insert(key.to_owned(), json);
            }
        }
    }
    let kind = if root.get("kind").is_some() || root.get("queryFrequency").is_some() { "analytic" } else { "hunting" };
    metadata.extra.insert("sentinel_kind".to_owned(), serde_json::Value::String(kind.to_owned()));
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    #[test]
    fn analytic_rule() {
        let text = "id: abc\nname: Port sweep\ndescription: |\n  'Detects a sweep.'\nseverity: High\nstatus: Available\nrequiredDataConnectors:\n  - connectorId: X\n    dataTypes:\n      - T\nqueryFrequency: 1h\nqueryPeriod: 14d\ntactics:\n  - Discovery\nrelevantTechniques:\n  - T1046\nquery: |\r\n  let a = 1;\r\n  T\r\n  | where x > a\r\nentityMappings:\n  - entityType: Host\nkind: Scheduled\n";
        let input = input("Detections/x.yaml", text);
        let stream = crate::yaml::parse_stream(text).unwrap();
        let root = stream.documents[0].root.clone().unwrap();
        let Outcome::Rules(rules) = read(&input, &root, &stream) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.format, BodyFormat::SentinelYaml);
        assert_eq!(rule.metadata.title.as_deref(), Some("Port sweep"));
        assert_eq!(rule.metadata.description.as_deref(), Some("Detects a sweep."));
        assert_eq!(rule.metadata.lookback.as_deref(), Some("14d"));
        assert_eq!(rule.metadata.frequency.as_deref(), Some("1h"));
        assert_eq!(rule.metadata.tags, vec!["Discovery", "T1046"]);
        assert!(rule.metadata.extra.contains_key("entityMappings"));
        assert_eq!(rule.metadata.extra["kind"], "Scheduled");
        assert_eq!(rule.queries[0].text, "let a = 1;\nT\n| where x > a\n");
        let map = &rule.queries[0].source_map;
        assert_eq!(map.to_file(11) as usize, text.find("T\r\n  |").unwrap());
    }
}
