//! Links between rules that a rule declares: a Sigma correlation to the rules it correlates, a
//! filter (Sigma 2.1) to the rules it applies to, a Sigma `related:` entry (derived, obsolete,
//! merged, renamed, similar) to the rule it names, a converted YARA-L rule to its Sigma original.
//!
//! References name rules by `id` or `name`. They resolve inside the same file first (as a
//! collection does), then anywhere in the catalog; a reference that names no rule of the catalog
//! stays in the list unresolved and adds a warning to the rule that makes it.

use std::collections::{BTreeMap, HashMap};

use detwiki_ir::{Family, Span};
use detwiki_sigma::{ReferenceKind, RuleIndex, SigmaFile};
use rayon::prelude::*;
use serde::Serialize;

use crate::CatalogRule;

/// What a link means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A correlation rule names a rule whose events it correlates.
    Correlation,
    /// A filter rule names a rule it adds exclusions to.
    Filter,
    /// A rule converted from a Sigma rule names its original (YARA-L meta `sigma_uuid`).
    ConvertedFrom,
    /// Sigma `related:` `derived`: this rule was derived from the named one, which may remain
    /// in use.
    Derived,
    /// Sigma `related:` `obsolete`: this rule replaces the named one, no longer used.
    Obsolete,
    /// Sigma `related:` `merged`: this rule was merged from the named ones.
    Merged,
    /// Sigma `related:` `renamed`: the named identifier was this rule's before.
    Renamed,
    /// Sigma `related:` `similar`: the rules look for similar things.
    Similar,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Correlation => "correlation",
            LinkKind::Filter => "filter",
            LinkKind::ConvertedFrom => "converted from",
            LinkKind::Derived => "derived",
            LinkKind::Obsolete => "obsolete",
            LinkKind::Merged => "merged",
            LinkKind::Renamed => "renamed",
            LinkKind::Similar => "similar",
        }
    }

    /// The kind as JSON names it (`converted_from`, `derived`).
    pub fn key(self) -> &'static str {
        match self {
            LinkKind::ConvertedFrom => "converted_from",
            other => other.as_str(),
        }
    }

    /// The kind of a Sigma `related:` entry's `type` (case-insensitive), `None` for another type.
    pub fn from_sigma_related(kind: &str) -> Option<LinkKind> {
        match kind.trim().to_ascii_lowercase().as_str() {
            "derived" => Some(LinkKind::Derived),
            "obsolete" | "obsoletes" => Some(LinkKind::Obsolete),
            "merged" => Some(LinkKind::Merged),
            "renamed" => Some(LinkKind::Renamed),
            "similar" => Some(LinkKind::Similar),
            _ => None,
        }
    }

    /// True for the links a relation between detections rests on (shown among related rules),
    /// false for correlations and filters, which build one detection from several rules.
    pub fn is_relation(self) -> bool {
        !matches!(self, LinkKind::Correlation | LinkKind::Filter)
    }
}

/// One reference a rule makes to another rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleLink {
    pub kind: LinkKind,
    /// The `id` or `name` as written in the referring rule.
    pub target: String,
    /// Position in [`crate::Catalog::rules`] of the rule it names, when that rule is in the catalog.
    #[serde(skip)]
    pub position: Option<usize>,
    /// Id of the rule it names, when that rule is in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Where the reference is written, in the referring rule's file.
    pub span: Span,
}

/// A Sigma file of the catalog and the rules read from its documents.
struct LoadedFile {
    file: SigmaFile,
    /// Document index -> position in the catalog's rules.
    rules_by_document: BTreeMap<usize, usize>,
}

/// Resolves the correlation and filter references of every Sigma rule of `rules`: fills each
/// rule's `links` and adds a warning diagnostic for each reference that names no rule.
///
/// `rules` must already be in their final order (positions are stored).
pub fn link_sigma_rules(rules: &mut [CatalogRule]) {
    // Group the Sigma rules by file: documents of one file are resolved against each other first.
    let mut by_file: BTreeMap<(&str, &str), BTreeMap<usize, usize>> = BTreeMap::new();
    for (position, entry) in rules.iter().enumerate() {
        if entry.rule.family != Family::Sigma {
            continue;
        }
        let Some(document) = entry.rule.queries.first().and_then(|query| query.document) else { continue };
        by_file
            .entry((entry.rule.provenance.source.as_str(), entry.rule.provenance.path.as_str()))
            .or_default()
            .insert(document as usize, position);
    }
    let groups: Vec<BTreeMap<usize, usize>> = by_file.into_values().collect();
    let files: Vec<LoadedFile> = groups
        .into_par_iter()
        .filter_map(|rules_by_document| {
            let first = *rules_by_document.values().next()?;
            let text = &rules.get(first)?.rule.file_text;
            Some(LoadedFile { file: detwiki_sigma::load(text), rules_by_document })
        })
        .collect();

    let mut index: RuleIndex<Option<usize>> = RuleIndex::new();
    for loaded in &files {
        index.insert(&loaded.file, |document| loaded.rules_by_document.get(&document).copied());
    }

    let mut found: HashMap<usize, Vec<RuleLink>> = HashMap::new();
    let mut warnings: HashMap<usize, Vec<detwiki_ir::Diagnostic>> = HashMap::new();
    for loaded in &files {
        let (resolved, unresolved) =
            index.link(&loaded.file, |document| loaded.rules_by_document.get(&document).copied());
        for reference in resolved {
            let Some(&owner) = loaded.rules_by_document.get(&reference.reference.document) else { continue };
            let position = reference.target.flatten();
            found.entry(owner).or_default().push(RuleLink {
                kind: match reference.reference.kind {
                    ReferenceKind::Correlation => LinkKind::Correlation,
                    ReferenceKind::Filter => LinkKind::Filter,
                },
                target: reference.reference.target.clone(),
                position,
                rule: None,
                span: reference.reference.span,
            });
        }
        // A warning belongs to the rule whose document holds the reference.
        for warning in unresolved {
            let owner = loaded.file.documents.iter().find(|document| document.span.contains(warning.span));
            if let Some(owner) = owner.and_then(|document| loaded.rules_by_document.get(&document.index)) {
                warnings.entry(*owner).or_default().push(warning);
            }
        }
    }

    let ids: Vec<String> = rules.iter().map(|entry| entry.rule.id.clone()).collect();
    for (owner, mut links) in found {
        for link in &mut links {
            link.rule = link.position.and_then(|position| ids.get(position).cloned());
        }
        if let Some(entry) = rules.get_mut(owner) {
            entry.links = links;
        }
    }
    for (owner, diagnostics) in warnings {
        if let Some(entry) = rules.get_mut(owner) {
            entry.rule.diagnostics.extend(diagnostics);
        }
    }
}

/// Links every rule converted from Sigma (a YARA-L meta `sigma_uuid`) to the Sigma rule with
/// that `id` when the catalog holds it. A converted rule whose original is not in the catalog
/// keeps an unresolved link (no warning: the original lives in another repository).
///
/// `rules` must already be in their final order (positions are stored).
pub fn link_converted_rules(rules: &mut [CatalogRule]) {
    let sigma_ids = sigma_ids(rules);
    let ids: Vec<String> = rules.iter().map(|entry| entry.rule.id.clone()).collect();
    for entry in rules.iter_mut() {
        if entry.rule.family != Family::Yaral {
            continue;
        }
        let Some(uuid) = entry.rule.metadata.extra.get("sigma_uuid").and_then(|value| value.as_str()) else {
            continue;
        };
        let uuid = uuid.trim().to_owned();
        if uuid.is_empty() {
            continue;
        }
        let position = sigma_ids.get(&uuid.to_ascii_lowercase()).copied();
        // The meta line that names the original, when it can be found in the file.
        let span = entry
            .rule
            .file_text
            .find(&uuid)
            .map_or(entry.rule.body_span, |start| Span::from_usize(start, start + uuid.len()));
        entry.links.push(RuleLink {
            kind: LinkKind::ConvertedFrom,
            target: uuid,
            position,
            rule: position.and_then(|position| ids.get(position).cloned()),
            span,
        });
    }
}

/// Links every Sigma rule's `related:` entries (`- id: ..., type: derived`) to the Sigma rule
/// with that `id` when the catalog holds it. Entries whose target is not in the catalog stay
/// unresolved without a warning: `obsolete` and `renamed` name rules that are gone by design.
/// Entries with another `type` are left out (the Sigma linter reports them).
///
/// `rules` must already be in their final order (positions are stored).
pub fn link_sigma_related(rules: &mut [CatalogRule]) {
    let sigma_ids = sigma_ids(rules);
    let ids: Vec<String> = rules.iter().map(|entry| entry.rule.id.clone()).collect();
    for entry in rules.iter_mut() {
        if entry.rule.family != Family::Sigma {
            continue;
        }
        let Some(serde_json::Value::Array(items)) = entry.rule.metadata.extra.get("related") else { continue };
        let mut links = Vec::new();
        for item in items {
            let target = item.get("id").and_then(serde_json::Value::as_str).map(str::trim).unwrap_or_default();
            let kind = item.get("type").and_then(serde_json::Value::as_str).and_then(LinkKind::from_sigma_related);
            let Some(kind) = kind.filter(|_| !target.is_empty()) else { continue };
            let position = sigma_ids.get(&target.to_ascii_lowercase()).copied();
            links.push(RuleLink {
                kind,
                target: target.to_owned(),
                position,
                rule: position.and_then(|position| ids.get(position).cloned()),
                span: span_of(&entry.rule, target),
            });
        }
        entry.links.extend(links);
    }
}

/// Sigma rule `id` (lower case) -> position, for the rules that have one.
fn sigma_ids(rules: &[CatalogRule]) -> HashMap<String, usize> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.rule.family == Family::Sigma)
        .filter_map(|(position, entry)| Some((entry.rule.metadata.rule_id.as_deref()?.to_ascii_lowercase(), position)))
        .collect()
}

/// Where `text` is written in the rule's body (its first occurrence), else the whole body.
fn span_of(rule: &detwiki_ir::Rule, text: &str) -> Span {
    let body = rule.body_span.slice(&rule.file_text).unwrap_or_default();
    match body.find(text) {
        Some(start) => {
            let start = rule.body_span.start as usize + start;
            Span::from_usize(start, start + text.len())
        }
        None => rule.body_span,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use detwiki_ir::{BodyFormat, Language, Metadata, Provenance, Query, Rule, SourceMap};

    use super::*;

    fn sigma_rule(path: &str, document: u32, text: &str) -> CatalogRule {
        let file_text: Arc<str> = Arc::from(text);
        let len = text.len();
        CatalogRule {
            rule: Rule {
                id: format!("test/{path}/{document}"),
                family: Family::Sigma,
                format: BodyFormat::SigmaYaml,
                provenance: Provenance { source: "test".to_owned(), path: path.to_owned(), ..Provenance::default() },
                metadata: Metadata::default(),
                body_span: Span::from_usize(0, len),
                queries: vec![Query {
                    name: None,
                    language: Language::Sigma,
                    document: Some(document),
                    text: text.to_owned(),
                    span: Span::from_usize(0, len),
                    source_map: SourceMap::verbatim(0, len as u32),
                }],
                diagnostics: Vec::new(),
                file_text,
            },
            analyses: Vec::new(),
            panic: None,
            links: Vec::new(),
        }
    }

    const RULE: &str = "title: Failed logon\nid: 0e95725d-7320-415d-80f7-004da920fc11\nname: failed_logon\nstatus: test\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n";

    const CORRELATION: &str = "title: Many failed logons\nid: 0e95725d-7320-415d-80f7-004da920fc12\nstatus: test\ncorrelation:\n  type: event_count\n  rules:\n    - failed_logon\n    - not_in_this_catalog\n  group-by:\n    - TargetUserName\n  timespan: 5m\n  condition:\n    gte: 10\n";

    const FILTER: &str = "title: Ignore the scanner\nid: 0e95725d-7320-415d-80f7-004da920fc13\nstatus: test\nlogsource:\n  product: windows\n  service: security\nfilter:\n  rules:\n    - 0e95725d-7320-415d-80f7-004da920fc11\n  selection:\n    IpAddress: 10.0.0.5\n  condition: not selection\n";

    #[test]
    fn correlations_and_filters_link_across_files() {
        let mut rules = vec![
            sigma_rule("correlation.yml", 0, CORRELATION),
            sigma_rule("filter.yml", 0, FILTER),
            sigma_rule("rule.yml", 0, RULE),
        ];
        link_sigma_rules(&mut rules);

        let correlation = &rules[0];
        assert_eq!(correlation.links.len(), 2);
        assert_eq!(correlation.links[0].kind, LinkKind::Correlation);
        assert_eq!(correlation.links[0].rule.as_deref(), Some("test/rule.yml/0"));
        assert_eq!(correlation.links[1].target, "not_in_this_catalog");
        assert_eq!(correlation.links[1].rule, None);
        let unresolved: Vec<_> = correlation
            .rule
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.message.contains("not_in_this_catalog"))
            .collect();
        assert_eq!(unresolved.len(), 1, "{:?}", correlation.rule.diagnostics);
        let span = unresolved[0].span;
        assert_eq!(span.slice(CORRELATION).map(|text| text.contains("not_in_this_catalog")), Some(true));

        let filter = &rules[1];
        assert_eq!(filter.links.len(), 1);
        assert_eq!(filter.links[0].kind, LinkKind::Filter);
        assert_eq!(filter.links[0].position, Some(2));
        assert!(rules[2].links.is_empty());
    }
}
