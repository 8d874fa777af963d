//! Telemetry profiles and ATT&CK coverage: which rules can fire with the events a user collects,
//! and which techniques a set of rules covers (PRODUCT.md §4, `detwiki coverage`).
//!
//! A profile (TOML, examples in `examples/telemetry/`) lists providers with the event IDs or
//! ActionTypes collected (`*` for all of them) and, for Splunk, the data models populated. A rule
//! can fire with a profile:
//!
//! - **fully** when every dataset it needs has a collected event whose fit is full (for a `union`,
//!   at least one member);
//! - **partly** when every needed dataset has a collected event but some fit is partial or unknown
//!   (the missing fields are listed);
//! - **not at all** otherwise.
//!
//! Lookup tables (watchlists, reference data) are not telemetry and are not needed. A rule with
//! several queries (variants) takes its best variant. The computation reads only the part of a
//! rule's event-coverage rows that [`EventNeed`] holds, so the catalog database, which stores
//! those rows, answers it exactly as an in-memory catalog does.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::DatasetRole;
use detwiki_knowledge::{Attack, Fit, Knowledge};
use serde::{Deserialize, Serialize};

use crate::coverage::CoverageRow;

/// One provider of a profile and the events collected from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileProvider {
    /// Provider or table name as the event catalog names it (`Sysmon`, `Security`,
    /// `DeviceProcessEvents`, `Elastic Defend`); compared case-insensitively.
    pub name: String,
    /// Event IDs, ActionTypes or categories; `*` means every event of the provider.
    pub events: Vec<String>,
}

/// The events a user collects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryProfile {
    /// Short name (`sysmon-security`), used in layer names.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProfileProvider>,
    /// Splunk data models populated (`Endpoint`, `Network_Traffic`, or a dataset such as
    /// `Endpoint.Processes`): a rule's data-model dataset under one of them is collected in full.
    #[serde(default)]
    pub data_models: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl TelemetryProfile {
    /// Parses a profile; `path` only names it in errors.
    pub fn from_toml(path: &str, text: &str) -> Result<TelemetryProfile, ProfileError> {
        toml::from_str(text)
            .map_err(|error| ProfileError::Invalid { path: path.to_owned(), message: error.to_string() })
    }

    /// Providers and events the event catalog does not know, as warnings for the user: a typo in
    /// a profile silently makes rules look unable to fire.
    pub fn problems(&self, knowledge: &Knowledge) -> Vec<String> {
        let mut problems = Vec::new();
        for provider in &self.providers {
            let Some(known) = knowledge.events().provider(&provider.name) else {
                problems.push(format!("profile {}: unknown provider {:?}", self.name, provider.name));
                continue;
            };
            if known.events.is_empty() {
                continue;
            }
            for event in provider.events.iter().filter(|event| event.as_str() != "*") {
                if known.event(event).is_none() {
                    problems.push(format!(
                        "profile {}: {} has no event {event:?} in the event catalog",
                        self.name, known.name
                    ));
                }
            }
        }
        problems
    }

    /// True when the profile collects `event` of `provider` (an `any` row: any event of it).
    pub fn collects(&self, provider: &str, event: &str) -> bool {
        self.providers.iter().filter(|candidate| candidate.name.eq_ignore_ascii_case(provider)).any(|candidate| {
            event == detwiki_knowledge::ANY
                || candidate.events.iter().any(|wanted| wanted == "*" || wanted.eq_ignore_ascii_case(event))
        })
    }

    fn populates_data_model(&self, dataset: &str) -> bool {
        let root = dataset.split('.').next().unwrap_or(dataset);
        self.data_models.iter().any(|model| model.eq_ignore_ascii_case(dataset) || model.eq_ignore_ascii_case(root))
    }
}

/// Whether a rule (or one of its datasets) can fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FireLevel {
    /// Worst first, so that `min` over needed datasets gives the rule's level.
    None,
    Partial,
    Full,
}

impl FireLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            FireLevel::None => "none",
            FireLevel::Partial => "partial",
            FireLevel::Full => "full",
        }
    }
}

/// How one dataset a rule needs is served by a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFiring {
    /// The dataset as written; for a union, its members joined with ` | `.
    pub dataset: String,
    pub level: FireLevel,
    /// The collected event that serves it best (`Sysmon 1`), when one is collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Fields the rule reads that the best event lacks (partial), or why nothing is known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Whether a rule can fire with a profile, dataset by dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFiring {
    pub level: FireLevel,
    /// The analysis (variant) the level comes from.
    pub analysis: usize,
    pub datasets: Vec<DatasetFiring>,
}

impl RuleFiring {
    /// Every missing field of every partly served dataset, as `dataset via event: no a, no b`.
    pub fn missing_text(&self) -> Vec<String> {
        self.datasets
            .iter()
            .filter(|dataset| dataset.level == FireLevel::Partial)
            .map(|dataset| {
                format!(
                    "{} via {}: {}",
                    dataset.dataset,
                    dataset.event.as_deref().unwrap_or("?"),
                    dataset.missing.iter().map(|field| format!("no {field}")).collect::<Vec<_>>().join(", ")
                )
            })
            .collect()
    }
}

/// What firing reads of one event-coverage row ([`CoverageRow::need`]): the dataset and its role,
/// the event, and the fit. Firing is decided from these alone, so a reader that stores event
/// coverage (the catalog database) rebuilds them whole instead of half-filling coverage rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventNeed {
    pub analysis: usize,
    pub dataset: String,
    pub role: DatasetRole,
    pub provider: String,
    pub event: String,
    pub fit: NeedFit,
}

/// The fit of an [`EventNeed`]: a coverage row's [`Fit`] without the correlation hint, which
/// pages show but firing does not weigh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedFit {
    Full,
    /// The fields the rule reads that the event lacks.
    Partial(Vec<String>),
    /// The event's fields are not known.
    Unknown,
}

impl CoverageRow {
    /// The part of the row firing reads.
    pub fn need(&self) -> EventNeed {
        EventNeed {
            analysis: self.analysis,
            dataset: self.dataset.clone(),
            role: self.role,
            provider: self.provider.clone(),
            event: self.event.clone(),
            fit: match &self.fit {
                Fit::Full => NeedFit::Full,
                Fit::Partial { missing, .. } => NeedFit::Partial(missing.clone()),
                Fit::Unknown => NeedFit::Unknown,
            },
        }
    }
}

/// Whether a rule with these event needs (one per event-coverage row) can fire with `profile`.
pub fn rule_firing(profile: &TelemetryProfile, rows: &[EventNeed]) -> RuleFiring {
    let mut by_analysis: BTreeMap<usize, Vec<&EventNeed>> = BTreeMap::new();
    for row in rows {
        by_analysis.entry(row.analysis).or_default().push(row);
    }
    let mut best: Option<RuleFiring> = None;
    for (analysis, rows) in by_analysis {
        let firing = analysis_firing(profile, analysis, &rows);
        if best.as_ref().is_none_or(|current| firing.level > current.level) {
            best = Some(firing);
        }
    }
    best.unwrap_or(RuleFiring { level: FireLevel::None, analysis: 0, datasets: Vec::new() })
}

fn analysis_firing(profile: &TelemetryProfile, analysis: usize, rows: &[&EventNeed]) -> RuleFiring {
    // Datasets in the order the query reads them; union members form one need.
    let mut needs: Vec<(String, Vec<&EventNeed>)> = Vec::new();
    let mut union_need: Option<usize> = None;
    for row in rows.iter().copied().filter(|row| row.role != DatasetRole::Lookup) {
        let slot = if row.role == DatasetRole::UnionMember {
            *union_need.get_or_insert_with(|| {
                needs.push((String::new(), Vec::new()));
                needs.len() - 1
            })
        } else if let Some(slot) =
            needs.iter().position(|(name, members)| name == &row.dataset && members.iter().all(|m| m.role == row.role))
        {
            slot
        } else {
            needs.push((row.dataset.clone(), Vec::new()));
            needs.len() - 1
        };
        if let Some((_, members)) = needs.get_mut(slot) {
            members.push(row);
        }
    }
    let datasets: Vec<DatasetFiring> = needs.iter().map(|(_, members)| need_firing(profile, members)).collect();
    let level = if datasets.is_empty() {
        FireLevel::None
    } else {
        datasets.iter().map(|dataset| dataset.level).min().unwrap_or(FireLevel::None)
    };
    RuleFiring { level, analysis, datasets }
}

/// The best collected event among the rows of one need.
fn need_firing(profile: &TelemetryProfile, rows: &[&EventNeed]) -> DatasetFiring {
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        if !names.contains(&row.dataset.as_str()) {
            names.push(&row.dataset);
        }
    }
    let dataset = names.join(" | ");
    if rows.iter().any(|row| row.role == DatasetRole::DataModel && profile.populates_data_model(&row.dataset)) {
        return DatasetFiring { dataset, level: FireLevel::Full, event: None, missing: Vec::new() };
    }
    let mut best: Option<(FireLevel, usize, &EventNeed)> = None;
    for row in rows.iter().copied().filter(|row| profile.collects(&row.provider, &row.event)) {
        let (level, missing) = match &row.fit {
            NeedFit::Full => (FireLevel::Full, 0),
            NeedFit::Partial(missing) => (FireLevel::Partial, missing.len()),
            NeedFit::Unknown => (FireLevel::Partial, usize::MAX),
        };
        let better = match &best {
            None => true,
            Some((best_level, best_missing, _)) => {
                level > *best_level || (level == *best_level && missing < *best_missing)
            }
        };
        if better {
            best = Some((level, missing, row));
        }
    }
    match best {
        None => DatasetFiring { dataset, level: FireLevel::None, event: None, missing: Vec::new() },
        Some((level, _, row)) => DatasetFiring {
            dataset,
            level,
            event: Some(format!("{} {}", row.provider, row.event)),
            missing: match &row.fit {
                NeedFit::Full => Vec::new(),
                NeedFit::Partial(missing) => missing.clone(),
                NeedFit::Unknown => vec!["(the event's fields are not known)".to_owned()],
            },
        },
    }
}

/// What coverage needs to know about one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageInput<'a> {
    pub rule: &'a str,
    /// Technique IDs after revocations (a vendor-alert rule passes none).
    pub techniques: &'a [String],
    /// With a profile: whether the rule can fire.
    pub firing: Option<FireLevel>,
}

/// One technique of the matrix with the rules covering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechniqueCoverage {
    pub id: String,
    /// `System Binary Proxy Execution: Msiexec`.
    pub name: String,
    /// Tactic short names (`stealth`), in matrix order.
    pub tactics: Vec<String>,
    /// Rules tagged with the technique, sorted.
    pub rules: Vec<String>,
    /// With a profile: rules that can fire fully, and partly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fire_full: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fire_partial: Option<u64>,
}

impl TechniqueCoverage {
    /// The Navigator score: rules that can fire (fully or partly) with a profile, else rules.
    pub fn score(&self) -> u64 {
        match (self.fire_full, self.fire_partial) {
            (Some(full), Some(partial)) => full + partial,
            _ => self.rules.len() as u64,
        }
    }
}

/// Every active technique of the release (zero-rule techniques included), in ID order, with the
/// rules among `inputs` that cover it. Rules tagged only with a revoked or unknown ID count under
/// the ID they resolved to, when it is in the release.
pub fn attack_coverage(attack: &Attack, inputs: &[CoverageInput<'_>], with_profile: bool) -> Vec<TechniqueCoverage> {
    let tactic_names: BTreeMap<&str, &str> =
        attack.tactics().iter().map(|tactic| (tactic.id.as_str(), tactic.short_name.as_str())).collect();
    let mut rules_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut firing_of: BTreeMap<&str, FireLevel> = BTreeMap::new();
    for input in inputs {
        for technique in input.techniques {
            rules_of.entry(technique.as_str()).or_default().insert(input.rule);
        }
        if let Some(level) = input.firing {
            firing_of.insert(input.rule, level);
        }
    }
    let mut out: Vec<TechniqueCoverage> = attack
        .techniques()
        .iter()
        .filter(|technique| technique.is_active())
        .map(|technique| {
            let rules: Vec<String> = rules_of
                .get(technique.id.as_str())
                .map(|rules| rules.iter().map(|rule| (*rule).to_owned()).collect())
                .unwrap_or_default();
            let count = |wanted: FireLevel| {
                rules.iter().filter(|rule| firing_of.get(rule.as_str()) == Some(&wanted)).count() as u64
            };
            TechniqueCoverage {
                id: technique.id.clone(),
                name: attack.technique_full_name(technique),
                tactics: technique
                    .tactics
                    .iter()
                    .filter_map(|tactic| tactic_names.get(tactic.as_str()).map(|name| (*name).to_owned()))
                    .collect(),
                fire_full: with_profile.then(|| count(FireLevel::Full)),
                fire_partial: with_profile.then(|| count(FireLevel::Partial)),
                rules,
            }
        })
        .collect();
    out.sort_by(|left, right| left.id.cmp(&right.id));
    out
}

#[cfg(test)]
mod tests {
    use detwiki_knowledge::Fit;

    use super::*;

    fn row(analysis: usize, dataset: &str, role: DatasetRole, provider: &str, event: &str, fit: Fit) -> EventNeed {
        CoverageRow {
            analysis,
            dataset: dataset.to_owned(),
            role,
            provider: provider.to_owned(),
            product: String::new(),
            event: event.to_owned(),
            title: String::new(),
            why: String::new(),
            narrowed_by: Vec::new(),
            fields_read: Vec::new(),
            fit,
            known: true,
            unknown_dataset: false,
            variants: Vec::new(),
        }
        .need()
    }

    fn profile(text: &str) -> TelemetryProfile {
        TelemetryProfile::from_toml("test.toml", text).expect("valid profile")
    }

    #[test]
    fn every_dataset_is_needed_and_a_union_needs_one_member() {
        let sysmon = profile("name = \"s\"\n[[provider]]\nname = \"Sysmon\"\nevents = [\"1\"]\n");
        let partial = Fit::Partial { missing: vec!["parent_process_name".to_owned()], correlate_with: None };
        let rows = vec![
            row(0, "A", DatasetRole::Source, "Sysmon", "1", Fit::Full),
            row(0, "B", DatasetRole::Join, "Sysmon", "3", Fit::Full),
        ];
        assert_eq!(rule_firing(&sysmon, &rows).level, FireLevel::None);
        let rows = vec![
            row(0, "A", DatasetRole::UnionMember, "Sysmon", "1", partial.clone()),
            row(0, "B", DatasetRole::UnionMember, "Sysmon", "3", Fit::Full),
        ];
        let firing = rule_firing(&sysmon, &rows);
        assert_eq!(firing.level, FireLevel::Partial);
        assert_eq!(firing.missing_text(), ["A | B via Sysmon 1: no parent_process_name"]);
        // With every Sysmon event collected, member B serves the union in full.
        let everything = profile("name = \"e\"\n[[provider]]\nname = \"sysmon\"\nevents = [\"*\"]\n");
        assert_eq!(rule_firing(&everything, &rows).level, FireLevel::Full);
        let rows = vec![
            row(0, "A", DatasetRole::Source, "Sysmon", "3", Fit::Full),
            row(1, "A", DatasetRole::Lookup, "X", "any", Fit::Unknown),
        ];
        assert_eq!(rule_firing(&everything, &rows).level, FireLevel::Full);
        assert_eq!(rule_firing(&everything, &[]).level, FireLevel::None);
    }

    #[test]
    fn data_models_are_collected_whole() {
        let splunk = profile("name = \"d\"\ndata_models = [\"Endpoint\"]\n");
        let rows = vec![row(0, "Endpoint.Processes", DatasetRole::DataModel, "Sysmon", "1", Fit::Unknown)];
        assert_eq!(rule_firing(&splunk, &rows).level, FireLevel::Full);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(TelemetryProfile::from_toml("x.toml", "name = \"x\"\nproviders = []\n").is_err());
    }
}
