//! Splunk security_content: detections (`search:` SPL with metadata), macros (`definition:`)
//! and data sources, which are context for the detections of the same source. Baselines,
//! investigations, stories, lookups and deployments are recognised and skipped with a reason.

use detwiki_ir::{BodyFormat, Language, MacroDefinition, Metadata, Query, Span};

use crate::yaml::{Node, YamlStream, decode_node};
use crate::{DataSourceDefinition, FileInput, Outcome, sigma::split_authors};

fn in_folder(repo_path: &str, folder: &str) -> bool {
    repo_path.split('/').rev().skip(1).any(|component| component.eq_ignore_ascii_case(folder))
}

/// `Some` when the file is one of Splunk's YAML layouts.
pub(crate) fn read(input: &FileInput, root: &Node, stream: &YamlStream) -> Option<Outcome> {
    let path = input.repo_path.as_str();
    let text_of = |key: &str| root.get(key).and_then(Node::as_text);
    if root.get("definition").is_some() && root.get("name").is_some() && root.get("search").is_none() {
        let name = text_of("name").unwrap_or_default();
        let definition = text_of("definition").unwrap_or_default();
        let arguments = root.get("arguments").map(Node::string_list).unwrap_or_default();
        return Some(Outcome::Macro(MacroDefinition { name, arguments, definition, path: path.to_owned() }));
    }
    if in_folder(path, "data_sources") && root.get("name").is_some() {
        return Some(Outcome::DataSource(DataSourceDefinition {
            name: text_of("name").unwrap_or_default(),
            path: path.to_owned(),
            source: text_of("source"),
            sourcetype: text_of("sourcetype"),
            separator: text_of("separator"),
            fields: root.get("fields").map(Node::string_list).unwrap_or_default(),
        }));
    }
    if root.get("search").is_some() {
        let kind = text_of("type").unwrap_or_default();
        if kind.eq_ignore_ascii_case("baseline") || in_folder(path, "baselines") {
            return Some(Outcome::skipped("Splunk baseline search (builds a lookup), not a detection"));
        }
        if kind.eq_ignore_ascii_case("investigation") || in_folder(path, "investigations") {
            return Some(Outcome::skipped("Splunk investigation search, not a detection"));
        }
        return Some(read_detection(input, root, stream));
    }
    if in_folder(path, "stories") || root.get("narrative").is_some() {
        return Some(Outcome::skipped("Splunk analytic story (narrative), not a detection"));
    }
    if in_folder(path, "lookups") {
        return Some(Outcome::skipped("Splunk lookup definition, not a detection"));
    }
    if in_folder(path, "deployments") {
        return Some(Outcome::skipped("Splunk deployment (scheduling) settings, not a detection"));
    }
    None
}

fn read_detection(input: &FileInput, root: &Node, stream: &YamlStream) -> Outcome {
    let text = &input.text;
    let Some((key, value)) = root.entry("search") else { return Outcome::skipped("YAML without `search`") };
    let Some(decoded) = decode_node(text, key, value) else {
        return Outcome::skipped("Splunk YAML whose `search` is not text");
    };
    if decoded.text.trim().is_empty() {
        return Outcome::skipped("Splunk YAML with an empty `search`");
    }
    let mut diagnostics = stream.diagnostics.clone();
    diagnostics.extend(decoded.diagnostic.clone());
    let query = Query {
        name: None,
        language: Language::Spl,
        document: None,
        text: decoded.text,
        span: decoded.span,
        source_map: decoded.map,
    };
    let body_span = Span::from_usize(0, text.len());
    Outcome::Rules(vec![input.rule(BodyFormat::SplunkYaml, metadata(root), body_span, vec![query], diagnostics)])
}

fn metadata(root: &Node) -> Metadata {
    let text = |key: &str| root.get(key).and_then(Node::as_text).map(|value| value.trim().to_owned());
    let tags_node = root.get("tags");
    let mut metadata = Metadata {
        title: text("name"),
        rule_id: text("id"),
        description: text("description"),
        authors: text("author").map(|author| split_authors(&author)).unwrap_or_default(),
        status: text("status"),
        date: text("date"),
        tags: tags_node.and_then(|tags| tags.get("mitre_attack_id")).map(Node::string_list).unwrap_or_default(),
        references: root.get("references").map(Node::string_list).unwrap_or_default(),
        ..Metadata::default()
    };
    for key in ["type", "data_source", "how_to_implement", "known_false_positives", "version"] {
        if let Some(value) = root.get(key) {
            let json = value.to_json();
            if !json.is_null() {
                metadata.extra.insert(key.to_owned(), json);
            }
        }
    }
    if let Some(tags) = tags_node {
        for key in ["analytic_story", "asset_type", "security_domain", "product", "required_fields"] {
            if let Some(value) = tags.get(key) {
                metadata.extra.insert(key.to_owned(), value.to_json());
            }
        }
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    fn outcome(path: &str, text: &str) -> Outcome {
        let input = input(path, text);
        let stream = crate::yaml::parse_stream(text).unwrap();
        let root = stream.documents[0].root.clone().unwrap();
        read(&input, &root, &stream).expect("splunk layout")
    }

    #[test]
    fn detection_with_folded_quoted_search() {
        let text = "name: Bad Thing\nid: 1\nauthor: A, Splunk\ntype: TTP\nstatus: production\ndata_source:\n- Sysmon EventID 1\nsearch: '| tstats count from datamodel=Endpoint.Processes\n  where Processes.process_name=\"x.exe\" by host | `bad_thing_filter`'\ntags:\n  mitre_attack_id:\n  - T1059\n";
        let Outcome::Rules(rules) = outcome("detections/endpoint/bad_thing.yml", text) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.format, BodyFormat::SplunkYaml);
        assert_eq!(rule.metadata.tags, vec!["T1059"]);
        assert_eq!(rule.metadata.authors, vec!["A", "Splunk"]);
        assert_eq!(
            rule.queries[0].text,
            "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=\"x.exe\" by host | `bad_thing_filter`"
        );
        assert_eq!(rule.metadata.extra["type"], "TTP");
    }

    #[test]
    fn macros_and_baselines() {
        let Outcome::Macro(definition) =
            outcome("macros/m.yml", "name: m(2)\narguments:\n- a\n- b\ndefinition: eval x=$a$\n")
        else {
            panic!()
        };
        assert_eq!(definition.arguments, vec!["a", "b"]);
        assert!(matches!(outcome("baselines/b.yml", "name: b\ntype: Baseline\nsearch: '| x'\n"), Outcome::Skipped(_)));
    }
}
