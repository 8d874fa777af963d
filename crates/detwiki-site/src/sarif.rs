//! Findings as a SARIF 2.1.0 log for code-scanning tools: one run per source, whose
//! `originalUriBaseIds` names the source's folder (or its repository at the commit), rule metadata
//! for every code reported, locations as file, line and column counted in Unicode code points, and
//! `partialFingerprints` so that a later run's results match this run's.

use std::collections::BTreeMap;

use detwiki_catalog::{Finding, FindingSeverity, check_info};
use serde_json::{Value, json};

/// The URI base every result's file is relative to.
const BASE_ID: &str = "SRCROOT";

/// A source as a run: its name and the absolute URI of its root, ending with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifSource {
    pub name: String,
    pub root_uri: Option<String>,
}

/// `file:///abs/path/` for a local folder (percent-encoded, ending with `/`).
pub fn file_root_uri(path: &std::path::Path) -> String {
    let text = path.display().to_string().replace('\\', "/");
    let text = if text.starts_with('/') { text } else { format!("/{text}") };
    let mut uri = format!("file://{}", encode_path(&text));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes a path for a URI, keeping `/` and the unreserved characters.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn level(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Error => "error",
        FindingSeverity::Warning => "warning",
        FindingSeverity::Note => "note",
    }
}

/// The SARIF log of `findings`, one run per source of `sources` in that order (findings of a
/// source not listed get a run of their own at the end).
pub fn sarif_log(findings: &[Finding], sources: &[SarifSource], tool_version: &str) -> Value {
    let mut by_source: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_source.entry(finding.source.as_str()).or_default().push(finding);
    }
    let mut runs = Vec::new();
    let mut listed: Vec<SarifSource> = sources.to_vec();
    for name in by_source.keys() {
        if !listed.iter().any(|source| source.name == *name) {
            listed.push(SarifSource { name: (*name).to_owned(), root_uri: None });
        }
    }
    for source in &listed {
        let findings = by_source.get(source.name.as_str()).map(Vec::as_slice).unwrap_or_default();
        runs.push(run(source, findings, tool_version));
    }
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    })
}

fn run(source: &SarifSource, findings: &[&Finding], tool_version: &str) -> Value {
    // Rule metadata: every code of the run, in code order.
    let mut codes: BTreeMap<&str, FindingSeverity> = BTreeMap::new();
    for finding in findings {
        codes.entry(finding.code.as_str()).or_insert(finding.severity);
    }
    let rule_index: BTreeMap<&str, usize> = codes.keys().enumerate().map(|(index, code)| (*code, index)).collect();
    let rules: Vec<Value> = codes
        .iter()
        .map(|(code, severity)| {
            let (summary, default) = match check_info(code) {
                Some(check) => (check.summary.to_owned(), check.severity),
                None => (format!("a problem a language engine found reading the rule ({code})"), *severity),
            };
            json!({
                "id": code,
                "name": rule_name(code),
                "shortDescription": { "text": summary },
                "defaultConfiguration": { "level": level(default) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let mut artifact = json!({ "uri": encode_path(&finding.path) });
            if source.root_uri.is_some() {
                artifact["uriBaseId"] = json!(BASE_ID);
            }
            let mut message = finding.message.clone();
            if let Some(help) = &finding.help {
                message.push_str(&format!(" (help: {help})"));
            }
            json!({
                "ruleId": finding.code,
                "ruleIndex": rule_index.get(finding.code.as_str()).copied().unwrap_or(0),
                "level": level(finding.severity),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": {
                            "startLine": finding.line,
                            "startColumn": finding.column,
                            "endLine": finding.end_line,
                            "endColumn": finding.end_column,
                        }
                    },
                    "logicalLocations": [{ "name": finding.rule, "kind": "object" }],
                }],
                "partialFingerprints": { "detwikiFinding/v1": finding.fingerprint },
            })
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "detwiki",
                "version": tool_version,
                "informationUri": "https://github.com/detwiki/detwiki",
                "rules": rules,
            }
        },
        "automationDetails": { "id": format!("detwiki/{}/", source.name) },
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = &source.root_uri {
        run["originalUriBaseIds"] = json!({ BASE_ID: { "uri": root } });
    }
    run
}

/// `unknown-field` -> `UnknownField`: SARIF rule names are Pascal case.
fn rule_name(code: &str) -> String {
    code.split(['-', '_', '.'])
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use detwiki_catalog::FindingOrigin;
    use detwiki_ir::Span;

    use super::*;

    #[test]
    fn runs_locations_and_fingerprints() {
        let finding = Finding {
            code: "unknown-field".to_owned(),
            severity: FindingSeverity::Warning,
            origin: FindingOrigin::Catalog,
            rule: "demo/a".to_owned(),
            source: "demo".to_owned(),
            path: "Defender For Endpoint/a.md".to_owned(),
            span: Span::new(3, 5),
            line: 2,
            column: 4,
            end_line: 2,
            end_column: 6,
            message: "DeviceProcessEvents has no column X".to_owned(),
            help: None,
            fingerprint: "00ff".to_owned(),
        };
        let sources = [SarifSource {
            name: "demo".to_owned(),
            root_uri: Some(file_root_uri(std::path::Path::new("/tmp/my rules"))),
        }];
        let log = sarif_log(&[finding], &sources, "0.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["originalUriBaseIds"]["SRCROOT"]["uri"], "file:///tmp/my%20rules/");
        let location = &run["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "Defender%20For%20Endpoint/a.md");
        assert_eq!(location["region"]["startColumn"], 4);
        assert_eq!(run["tool"]["driver"]["rules"][0]["name"], "UnknownField");
        assert_eq!(run["results"][0]["partialFingerprints"]["detwikiFinding/v1"], "00ff");
    }
}
