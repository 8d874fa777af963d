//! Chronicle YARA-L 2.0 rules (`.yaral`): the whole file is the query; the `meta:` section's
//! `key = value` lines are the metadata.

use std::collections::BTreeMap;

use detwiki_ir::{BodyFormat, Language, Metadata, Query, SourceMap, Span};

use crate::{FileInput, Outcome, sigma::split_authors};

/// Section keywords that end `meta:`.
const SECTIONS: &[&str] = &["events:", "match:", "outcome:", "condition:", "options:", "meta:"];

/// The `meta:` key/values of the first rule of a file, in order.
pub(crate) fn meta_entries(text: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut in_meta = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "meta:" {
            if in_meta {
                break;
            }
            in_meta = true;
            continue;
        }
        if !in_meta {
            continue;
        }
        if SECTIONS.iter().any(|section| trimmed.starts_with(section)) || trimmed == "}" {
            break;
        }
        let Some((key, value)) = trimmed.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        entries.push((key.to_owned(), unquote(value_text(value.trim()))));
    }
    entries
}

/// The value of a meta line without what follows it: a quoted string up to its closing quote
/// (`"Medium"  // Adjust ...` -> `"Medium"`), any other value up to a `//` comment.
fn value_text(value: &str) -> &str {
    if value.starts_with('"') {
        let mut escaped = false;
        for (index, character) in value.char_indices().skip(1) {
            match character {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return &value[..=index],
                _ => escaped = false,
            }
        }
        return value;
    }
    value.split("//").next().unwrap_or(value).trim_end()
}

/// ATT&CK technique IDs in `attack.mitre.org/techniques/T1098/003/` URLs (also under
/// `/versions/vN/`), as `T1098.003`.
fn technique_ids_in_urls(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for (index, _) in value.match_indices("/techniques/") {
        let rest = &value[index + "/techniques/".len()..];
        let mut parts = rest.split(['/', '.', ',', ' ', '"']);
        let Some(technique) = parts.next().filter(|part| is_id(part, 'T', 4)) else { continue };
        let mut id = technique.to_ascii_uppercase();
        if let Some(sub) = parts.next().filter(|part| part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())) {
            id.push('.');
            id.push_str(sub);
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

fn is_id(text: &str, letter: char, digits: usize) -> bool {
    let mut characters = text.chars();
    characters.next().is_some_and(|first| first.eq_ignore_ascii_case(&letter))
        && text.len() == digits + 1
        && characters.all(|character| character.is_ascii_digit())
}

/// `$mitre_attack_technique_id = "T1098.003"` lines of the `outcome:` section: rules state their
/// technique there as well as (or instead of) in `meta:`.
fn outcome_technique_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("$mitre_attack_technique_id") else { continue };
        let Some(value) = rest.trim_start().strip_prefix('=') else { continue };
        let value = unquote(value_text(value.trim()));
        ids.extend(split_list(&value).into_iter().filter(|id| !ids.contains(id)).collect::<Vec<_>>());
    }
    ids
}

/// A YARA-L string literal's value (`"a \"b\""` -> `a "b"`); other values as written.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            match characters.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(character);
        }
    }
    out
}

/// Name of the first `rule NAME {`.
fn rule_name(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("rule ")?;
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() { None } else { Some(name) }
    })
}

fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

pub(crate) fn read(input: &FileInput) -> Outcome {
    let text = &input.text;
    if !text.lines().any(|line| line.trim_start().starts_with("rule ")) {
        return Outcome::skipped("`.yaral` file without a `rule` declaration");
    }
    let entries = meta_entries(text);
    let mut metadata = Metadata::default();
    let mut extra: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (key, value) in &entries {
        let lower = key.to_ascii_lowercase();
        match lower.as_str() {
            "author" => metadata.authors.extend(split_authors(value)),
            "description" => metadata.description = Some(value.clone()),
            "severity" => metadata.severity = Some(value.clone()),
            "rule_name" | "title" => metadata.title = Some(value.clone()),
            "rule_id" | "id" => metadata.rule_id = Some(value.clone()),
            "created" | "date" => metadata.date = Some(value.clone()),
            "updated" | "modified" => metadata.modified = Some(value.clone()),
            "reference" | "references" | "mitre_attack_url" => {
                metadata
                    .references
                    .extend(value.split([',', ' ']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned));
                // A technique given only as a URL is still the rule's technique.
                if lower == "mitre_attack_url" {
                    metadata.tags.extend(technique_ids_in_urls(value));
                }
            }
            "mitre" | "mitre_attack_technique" | "mitre_attack_tactic" | "tactic" | "technique" | "tags" => {
                metadata.tags.extend(split_list(value));
            }
            _ => {
                extra.insert(key.clone(), serde_json::Value::String(value.clone()));
            }
        }
    }
    for id in outcome_technique_ids(text) {
        if !metadata.tags.contains(&id) {
            metadata.tags.push(id);
        }
    }
    if metadata.title.is_none() {
        metadata.title = rule_name(text);
    }
    if let Some(name) = rule_name(text) {
        extra.insert("rule_name".to_owned(), serde_json::Value::String(name));
    }
    metadata.extra = extra;
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let span = Span::new(0, len);
    let query = Query {
        name: None,
        language: Language::Yaral,
        document: None,
        text: text.to_string(),
        span,
        source_map: SourceMap::verbatim(0, len),
    };
    Outcome::Rules(vec![input.rule(BodyFormat::Yaral, metadata, span, vec![query], Vec::new())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    #[test]
    fn meta_section() {
        let text = "rule back_connect {\n meta:\n    author = \"Florian Roth\"\n    description = \"Detects \\\"x\\\"\"\n    reference = \"https://a\"\n    mitre = \"command_and_control, t1043\"\n    severity = \"Low\"\n    version = \"0.01\"\n\n  events:\n    $e.metadata.event_type = \"NETWORK_CONNECTION\"\n\n  condition:\n    $e\n}\n";
        let Outcome::Rules(rules) = read(&input("rules/a.yaral", text)) else { panic!() };
        let rule = &rules[0];
        assert_eq!(rule.metadata.authors, vec!["Florian Roth"]);
        assert_eq!(rule.metadata.description.as_deref(), Some("Detects \"x\""));
        assert_eq!(rule.metadata.tags, vec!["command_and_control", "t1043"]);
        assert_eq!(rule.metadata.references, vec!["https://a"]);
        assert_eq!(rule.metadata.title.as_deref(), Some("back_connect"));
        assert_eq!(rule.metadata.extra["version"], "0.01");
        assert_eq!(rule.queries[0].language, Language::Yaral);
    }

    #[test]
    fn techniques_from_urls_and_outcome_and_comments_stripped() {
        let text = "rule r {\n meta:\n    severity = \"Medium\"  // adjust\n    priority = High // adjust\n    mitre_attack_url = \"https://attack.mitre.org/versions/v14/techniques/T1562/001/, https://attack.mitre.org/techniques/T1078/\"\n  events:\n    $e.metadata.event_type = \"USER_LOGIN\"\n  outcome:\n    $mitre_attack_technique_id = \"T1098.003\" // the id\n  condition:\n    $e\n}\n";
        let Outcome::Rules(rules) = read(&input("rules/b.yaral", text)) else { panic!() };
        let metadata = &rules[0].metadata;
        assert_eq!(metadata.severity.as_deref(), Some("Medium"));
        assert_eq!(metadata.extra["priority"], "High");
        assert_eq!(metadata.tags, vec!["T1562.001", "T1078", "T1098.003"]);
        assert_eq!(metadata.references.len(), 2);
    }
}
