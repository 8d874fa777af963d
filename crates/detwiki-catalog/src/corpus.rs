//! Corpus-wide facts: each rule's catalog facts (ATT&CK, event coverage, indicators) computed
//! once, and the indices that answer "how many rules look for this", "which rules read this
//! field", "which rules need this event", "which rules cover this technique".
//!
//! **Invariant:** every index lists rule positions in [`Catalog::rules`] order, sorted and without
//! duplicates, so pages built from it are deterministic.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::Family;
use detwiki_knowledge::Knowledge;
use rayon::prelude::*;
use serde::Serialize;

use crate::attack::{AttackSection, attack_section};
use crate::coverage::{CoverageRow, analysis_coverage, merge_variant_rows};
use crate::indicators::{IndicatorKey, IndicatorOccurrence, analysis_indicators};
use crate::related::{RelatedRule, related_rules};
use crate::vendor_alerts::vendor_alert_reason;
use crate::{Catalog, CatalogRule};

/// What the catalog knows about one rule beyond its analyses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleFacts {
    pub attack: AttackSection,
    pub coverage: Vec<CoverageRow>,
    /// Indicators and exclusions, in predicate order (see [`IndicatorOccurrence::exclusion`]).
    pub indicators: Vec<IndicatorOccurrence>,
    /// Canonical fields the rule reads on any dataset, sorted.
    pub fields_read: Vec<String>,
    /// Set when the rule only forwards a vendor's alerts: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_alerts: Option<String>,
}

impl RuleFacts {
    /// The distinct positive indicator keys of the rule, sorted.
    pub fn indicator_keys(&self) -> BTreeSet<&IndicatorKey> {
        self.indicators.iter().filter(|occurrence| !occurrence.exclusion).map(|occurrence| &occurrence.key).collect()
    }
}

/// Computes one rule's facts.
pub fn rule_facts(knowledge: &Knowledge, entry: &CatalogRule) -> RuleFacts {
    let family = entry.rule.family;
    let mut coverage = Vec::new();
    let mut indicators = Vec::new();
    for (index, query) in entry.analyses.iter().enumerate() {
        coverage.extend(analysis_coverage(knowledge, family, index, &query.analysis));
        indicators.extend(analysis_indicators(knowledge, family, index, &query.analysis));
    }
    let variant_names: Vec<String> = entry
        .analyses
        .iter()
        .enumerate()
        .map(|(index, query)| query.name.clone().unwrap_or_else(|| format!("query {}", index + 1)))
        .collect();
    let coverage = merge_variant_rows(coverage, &variant_names);
    let fields_read: BTreeSet<String> = coverage.iter().flat_map(|row| row.fields_read.iter().cloned()).collect();
    let vendor_alerts = vendor_alert_reason(&entry.rule, &entry.analyses);
    let tags = &entry.rule.metadata.tags;
    RuleFacts {
        attack: attack_section(knowledge.attack(), tags),
        coverage,
        indicators,
        fields_read: fields_read.into_iter().collect(),
        vendor_alerts,
    }
}

/// How many rules look for one canonical indicator, in total and per family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndicatorCount {
    pub rules: u64,
    /// Every family with at least one rule, by its short name (`kusto`, `sigma`).
    pub by_family: BTreeMap<&'static str, u64>,
}

impl IndicatorCount {
    /// `3 (kusto 2, sigma 1)`.
    pub fn text(&self) -> String {
        let parts: Vec<String> = self.by_family.iter().map(|(family, count)| format!("{family} {count}")).collect();
        format!("{} ({})", self.rules, parts.join(", "))
    }
}

/// A telemetry event as the coverage rows name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EventKeyRef {
    pub provider: String,
    pub event: String,
}

/// The facts of every rule and the corpus indices over them.
#[derive(Debug, Clone, Default)]
pub struct CatalogIndex {
    /// Parallel to [`Catalog::rules`].
    pub facts: Vec<RuleFacts>,
    /// Parallel to [`Catalog::rules`].
    pub families: Vec<Family>,
    /// Positive indicator -> rules that look for it.
    pub indicators: BTreeMap<IndicatorKey, Vec<usize>>,
    /// Positive indicator -> each spelling of its value in the rules (`cmd.exe`, `CMD.EXE`) with
    /// how many rules write it so. Keys fold case only for matching; pages show spellings.
    pub spellings: BTreeMap<IndicatorKey, BTreeMap<String, u64>>,
    /// Canonical field -> rules that read it.
    pub fields: BTreeMap<String, Vec<usize>>,
    /// (provider, event) -> (rule, coverage row) pairs. Only providers: known tables, channels
    /// and log sources, and Sigma log sources.
    pub events: BTreeMap<EventKeyRef, Vec<(usize, usize)>>,
    /// Datasets no knowledge names (custom `_CL` tables, functions) -> rules reading them.
    pub unknown_datasets: BTreeMap<String, Vec<usize>>,
    /// Technique ID -> rules covering it (vendor-alert rules left out).
    pub techniques: BTreeMap<String, Vec<usize>>,
    /// Rules that only forward vendor alerts.
    pub vendor_alert_rules: Vec<usize>,
    /// Rule -> (referring rule, index into its `links`) for every Sigma correlation or filter
    /// that names it: the reverse of [`crate::CatalogRule::links`].
    pub referenced_by: BTreeMap<usize, Vec<(usize, usize)>>,
    /// Parallel to [`Catalog::rules`]: each rule's computed related rules ([`related_rules`]).
    pub related: Vec<Vec<RelatedRule>>,
}

impl CatalogIndex {
    /// Computes every rule's facts (in parallel) and the indices.
    pub fn build(catalog: &Catalog, knowledge: &Knowledge) -> CatalogIndex {
        let mut facts: Vec<RuleFacts> = catalog.rules.par_iter().map(|entry| rule_facts(knowledge, entry)).collect();
        correlation_coverage(catalog, knowledge, &mut facts);
        let families = catalog.rules.iter().map(|entry| entry.rule.family).collect();
        let mut index = CatalogIndex { families, ..CatalogIndex::default() };
        for (referrer, entry) in catalog.rules.iter().enumerate() {
            for (link, target) in entry.links.iter().enumerate() {
                if let Some(target) = target.position {
                    index.referenced_by.entry(target).or_default().push((referrer, link));
                }
            }
        }
        for (position, rule) in facts.iter().enumerate() {
            for key in rule.indicator_keys() {
                index.indicators.entry(key.clone()).or_default().push(position);
            }
            let spelled: BTreeSet<(&IndicatorKey, &str)> = rule
                .indicators
                .iter()
                .filter(|occurrence| !occurrence.exclusion)
                .map(|occurrence| (&occurrence.key, occurrence.value.as_str()))
                .collect();
            for (key, spelling) in spelled {
                *index.spellings.entry(key.clone()).or_default().entry(spelling.to_owned()).or_default() += 1;
            }
            for field in &rule.fields_read {
                index.fields.entry(field.clone()).or_default().push(position);
            }
            let mut seen = BTreeSet::new();
            for (row_index, row) in rule.coverage.iter().enumerate() {
                if row.unknown_dataset {
                    let rules = index.unknown_datasets.entry(row.dataset.clone()).or_default();
                    if rules.last() != Some(&position) {
                        rules.push(position);
                    }
                    continue;
                }
                let key = EventKeyRef { provider: row.provider.clone(), event: row.event.clone() };
                if seen.insert(key.clone()) {
                    index.events.entry(key).or_default().push((position, row_index));
                }
            }
            if rule.vendor_alerts.is_some() {
                index.vendor_alert_rules.push(position);
            } else {
                for technique in &rule.attack.technique_ids {
                    index.techniques.entry(technique.clone()).or_default().push(position);
                }
            }
        }
        index.related = related_rules(catalog, &facts);
        index.facts = facts;
        index
    }

    /// The corpus count of one indicator (the rule asking is included when it looks for it).
    pub fn indicator_count(&self, key: &IndicatorKey) -> IndicatorCount {
        let mut count = IndicatorCount::default();
        for position in self.indicators.get(key).map(Vec::as_slice).unwrap_or_default() {
            count.rules += 1;
            if let Some(family) = self.families.get(*position) {
                *count.by_family.entry(family.as_str()).or_default() += 1;
            }
        }
        count
    }

    /// The spellings of an indicator's value, most written first (ties in text order).
    pub fn spellings(&self, key: &IndicatorKey) -> Vec<(String, u64)> {
        let mut spellings: Vec<(String, u64)> = self
            .spellings
            .get(key)
            .map(|spellings| spellings.iter().map(|(text, count)| (text.clone(), *count)).collect())
            .unwrap_or_default();
        spellings.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        spellings
    }

    /// The value of an indicator as pages name it: its most written spelling (the key's folded
    /// value only when no rule states it positively).
    pub fn display_value(&self, key: &IndicatorKey) -> String {
        self.spellings(key).into_iter().next().map(|(text, _)| text).unwrap_or_else(|| key.value.clone())
    }

    /// Rules per family among `positions`.
    pub fn by_family(&self, positions: &[usize]) -> BTreeMap<&'static str, u64> {
        let mut counts = BTreeMap::new();
        for position in positions {
            if let Some(family) = self.families.get(*position) {
                *counts.entry(family.as_str()).or_default() += 1;
            }
        }
        counts
    }
}

/// Gives each Sigma correlation rule the event coverage of the rules it correlates, with its `group-by` fields
/// counted in their fit ([`crate::coverage::correlated_rows`]). Rules it names that are not in the catalog add
/// nothing.
fn correlation_coverage(catalog: &Catalog, knowledge: &Knowledge, facts: &mut [RuleFacts]) {
    for (position, entry) in catalog.rules.iter().enumerate() {
        let targets: Vec<usize> = entry
            .links
            .iter()
            .filter(|link| link.kind == crate::LinkKind::Correlation)
            .filter_map(|link| link.position)
            .filter(|target| *target != position)
            .collect();
        if targets.is_empty() || !facts[position].coverage.is_empty() {
            continue;
        }
        let keys: Vec<detwiki_ir::KeyField> = entry
            .analyses
            .iter()
            .flat_map(|query| query.analysis.stages.iter())
            .filter(|stage| stage.kind == "correlation")
            .flat_map(|stage| stage.keys.iter().cloned())
            .collect();
        let inputs: Vec<(&str, detwiki_ir::Family, &[CoverageRow])> = targets
            .iter()
            .map(|target| {
                let rule = &catalog.rules[*target].rule;
                (rule.metadata.title.as_deref().unwrap_or(&rule.id), rule.family, facts[*target].coverage.as_slice())
            })
            .collect();
        let rows = crate::coverage::correlated_rows(knowledge, &keys, &inputs);
        facts[position].coverage = rows;
    }
}

/// A file-system and URL safe name: ASCII letters, digits, `.`, `_`, `-`; everything else `-`;
/// at most `max` characters; never empty, `.` or `..`.
pub fn slug(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .take(max)
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => format!("_{cleaned}"),
        "index.html" | "index.json" => format!("_{cleaned}"),
        _ => cleaned,
    }
}

/// FNV-1a, 64 bits: a stable hash for page names (the standard library's hasher may change
/// between releases).
pub fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The folder of an indicator's page, relative to the site root, ending with `/`:
/// `indicators/process_name/eq/msiexec.exe-1a2b3c4d/`. The hash of the exact key keeps values
/// that slug alike (`a b`, `a-b`, `A-B`) apart.
pub fn indicator_path(key: &IndicatorKey) -> String {
    let hash = stable_hash(&format!("{}\u{0}{}\u{0}{}\u{0}{}", key.field, key.kind, key.value, key.canonical));
    format!(
        "indicators/{}/{}/{}-{:08x}/",
        slug(&key.field, 80),
        slug(&key.kind, 60),
        slug(&key.value, 40),
        hash & 0xffff_ffff
    )
}

/// The folder of a canonical field's page: `fields/process_name/`.
pub fn field_path(field: &str) -> String {
    format!("fields/{}/", slug(field, 80))
}

/// The folder of a provider's page: `events/Sysmon/`.
pub fn provider_path(provider: &str) -> String {
    format!("events/{}/", slug(provider, 80))
}

/// The folder of an event's page: `events/Sysmon/1/`.
pub fn event_path(provider: &str, event: &str) -> String {
    format!("events/{}/{}/", slug(provider, 80), slug(event, 80))
}

/// The folder of a technique's page: `attack/T1218.007/`.
pub fn technique_path(id: &str) -> String {
    format!("attack/{}/", slug(id, 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_safe_and_distinct() {
        let key = |value: &str| IndicatorKey {
            field: "process_name".to_owned(),
            kind: "contains|base64offset".to_owned(),
            value: value.to_owned(),
            canonical: true,
        };
        let first = indicator_path(&key("a b"));
        let second = indicator_path(&key("a-b"));
        assert_ne!(first, second);
        assert!(first.starts_with("indicators/process_name/contains-base64offset/a-b-"));
        assert!(!indicator_path(&key("../../etc")).contains("/../"));
        assert_eq!(slug("..", 10), "_..");
        assert_eq!(technique_path("T1218.007"), "attack/T1218.007/");
    }
}
