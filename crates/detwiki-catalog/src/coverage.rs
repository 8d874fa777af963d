//! Event coverage: which telemetry events every dataset of a rule reads, why, and how well each
//! event fits the fields the rule reads on that dataset (PRODUCT.md §2 item 7).
//!
//! Every dataset counts (source, joins, union members, lookups, `let` tables, functions, sequence
//! steps, data models), and every row the knowledge gives is kept: an unknown dataset still gives
//! a row that says so.

use std::collections::BTreeSet;

use detwiki_ir::{Analysis, DatasetRole, Expr, Family, FieldOrigin, Op, Predicate};
use detwiki_knowledge::{ANY, Fit, Knowledge};
use serde::{Deserialize, Serialize};

use crate::indicators::{canonical_field_of, predicate_dataset, walk};

/// One event-coverage row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow {
    /// Index of the analysis in the rule's analyses.
    pub analysis: usize,
    /// The dataset as written and its role in the query.
    pub dataset: String,
    pub role: DatasetRole,
    /// Short provider name (`Sysmon`, `Security`, `DeviceNetworkEvents`).
    pub provider: String,
    /// `Sysmon`, `Windows event log`, `Microsoft Defender XDR`, ... or empty.
    pub product: String,
    /// Event ID, ActionType, or `any`.
    pub event: String,
    pub title: String,
    /// Why the rule needs this event: the dataset and its role, then the knowledge's reason
    /// (which names the ActionType/EventID filter that narrowed the dataset, if any).
    pub why: String,
    /// The equality filters on the dataset that narrowed it (`ActionType == ConnectionSuccess`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrowed_by: Vec<String>,
    /// The canonical fields the rule reads on the dataset, compared with the event's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields_read: Vec<String>,
    #[serde(flatten)]
    pub fit: Fit,
    /// The provider and event are in the event catalog.
    pub known: bool,
    /// The dataset is neither a known table, channel or log source nor a Sigma log source (a
    /// custom `_CL` table, a function): the row stays on the rule page, and the events index
    /// lists the dataset among unknown datasets instead of as a provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown_dataset: bool,
    /// The query variants the row comes from ("Defender XDR", "Sentinel"), when the rule has
    /// several queries; identical rows of several variants are one row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
}

impl CoverageRow {
    /// The provider's page, relative to the site root.
    pub fn provider_page(&self) -> String {
        crate::corpus::provider_path(&self.provider)
    }

    /// The event's page, relative to the site root.
    pub fn event_page(&self) -> String {
        crate::corpus::event_path(&self.provider, &self.event)
    }

    /// `full`, `partial`, `unknown`.
    pub fn fit_name(&self) -> &'static str {
        match self.fit {
            Fit::Full => "full",
            Fit::Partial { .. } => "partial",
            Fit::Unknown => "unknown",
        }
    }

    /// The fit as a sentence for pages and the terminal: `partial: no parent_process_name;
    /// correlate with Sysmon 1 (join on ProcessGuid)`.
    pub fn fit_text(&self) -> String {
        match &self.fit {
            Fit::Full => "full".to_owned(),
            Fit::Unknown => "unknown (the event's fields are not known)".to_owned(),
            Fit::Partial { missing, correlate_with } => {
                let mut text = format!("partial: no {}", missing.join(", no "));
                if let Some(hint) = correlate_with {
                    text.push_str(&format!("; correlate with {} {}", hint.provider, hint.event));
                    if !hint.join.is_empty() {
                        text.push_str(&format!(" ({})", hint.join));
                    }
                }
                text
            }
        }
    }
}

/// Equality filters on a field the knowledge may narrow a dataset by. The knowledge picks the
/// keys it knows for each dataset; this list only keeps the pairs short.
fn is_narrowing_field(field: &str) -> bool {
    const KEYS: &[&str] = &[
        "actiontype",
        "eventid",
        "eventcode",
        "event_id",
        "channel",
        "provider",
        "providername",
        "provider_name",
        "source",
        "sourcetype",
        "eventlog",
        "eventsourcename",
        "event.code",
        "event.category",
        "event.action",
        "event.dataset",
        "event.module",
        "winlog.channel",
        "winlog.provider_name",
        "winlog.event_id",
        "metadata.event_type",
        "metadata.product_event_type",
        "type",
        "category",
    ];
    let lower = field.to_ascii_lowercase();
    let lower = lower.strip_prefix("$e.").unwrap_or(&lower);
    KEYS.contains(&lower)
}

/// The narrowing pairs of one dataset: positive equality filters that hold for the whole stage
/// (top-level conjuncts, or an `or` made only of such filters on narrowing fields).
fn narrowing_pairs(analysis: &Analysis, dataset: usize) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for stage in analysis.stages.iter().filter(|stage| !stage.negated) {
        let Some(tree) = &stage.predicate else { continue };
        for conjunct in tree.conjuncts() {
            let mut candidate = Vec::new();
            let mut all_narrowing = true;
            walk(conjunct, false, 0, &mut |predicate, negated| {
                let usable = !negated
                    && !predicate.negated
                    && predicate.is_literal()
                    && matches!(predicate.op, Op::Eq | Op::In)
                    && predicate_dataset(analysis, stage, predicate) == Some(dataset)
                    && is_narrowing_field(predicate.resolved_field.as_deref().unwrap_or(&predicate.field));
                if !usable {
                    all_narrowing = false;
                    return;
                }
                let field = predicate.resolved_field.clone().unwrap_or_else(|| predicate.field.clone());
                for value in &predicate.values {
                    if let Some(text) = value.literal_text() {
                        candidate.push((field.clone(), text));
                    }
                }
            });
            let single_or = matches!(conjunct, Expr::Predicate(_) | Expr::Or { .. });
            if all_narrowing && single_or {
                pairs.extend(candidate);
            }
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

/// The canonical fields a rule reads on one dataset: every predicate on it except time filters,
/// computed columns and keywords (those say nothing about which events carry what), and every
/// key the query matches the dataset's events on (a join or lookup key, a Sigma aggregation's
/// `by` field): an event without its key column can never join.
pub fn fields_read(knowledge: &Knowledge, family: Family, analysis: &Analysis, dataset: usize) -> Vec<String> {
    let mut fields = canonical_fields_where(knowledge, family, analysis, dataset, |predicate| !predicate.time_filter);
    fields.extend(key_fields(knowledge, family, analysis, dataset));
    fields.sort();
    fields.dedup();
    fields
}

/// Canonical names of the key columns of `dataset` (see [`detwiki_ir::Stage::keys`]): a key's own dataset,
/// else its stage's, else the only dataset of the analysis, like a predicate's field.
fn key_fields(knowledge: &Knowledge, family: Family, analysis: &Analysis, dataset: usize) -> Vec<String> {
    let name = analysis.datasets.get(dataset).map_or("", |dataset| dataset.name.as_str());
    let only = (analysis.datasets.len() == 1).then_some(0);
    analysis
        .stages
        .iter()
        .flat_map(|stage| stage.keys.iter().map(move |key| (stage, key)))
        .filter(|(stage, key)| {
            key.origin == FieldOrigin::Event && key.dataset.or(stage.dataset).or(only) == Some(dataset)
        })
        .filter_map(|(_, key)| {
            let raw = key.resolved_field.as_deref().unwrap_or(&key.field);
            knowledge.canonical_field(family, name, raw).map(str::to_owned)
        })
        .collect()
}

/// Canonical names of the fields the rule reads on `dataset` that only select events
/// (see [`is_narrowing_field`]).
fn selector_fields(knowledge: &Knowledge, family: Family, analysis: &Analysis, dataset: usize) -> Vec<String> {
    canonical_fields_where(knowledge, family, analysis, dataset, |predicate| {
        is_narrowing_field(predicate.resolved_field.as_deref().unwrap_or(&predicate.field))
    })
}

/// Canonical fields of the predicates on `dataset` that `keep` accepts, sorted and unique.
fn canonical_fields_where(
    knowledge: &Knowledge,
    family: Family,
    analysis: &Analysis,
    dataset: usize,
    keep: impl Fn(&Predicate) -> bool,
) -> Vec<String> {
    let name = analysis.datasets.get(dataset).map(|dataset| dataset.name.as_str());
    let mut fields = BTreeSet::new();
    for stage in &analysis.stages {
        let Some(tree) = &stage.predicate else { continue };
        walk(tree, false, 0, &mut |predicate, _| {
            if predicate_dataset(analysis, stage, predicate) != Some(dataset) || !keep(predicate) {
                return;
            }
            if let Some(field) = canonical_field_of(knowledge, family, name, predicate) {
                fields.insert(field);
            }
        });
    }
    fields.into_iter().collect()
}

/// Every coverage row of one analysis, dataset by dataset in the order the query reads them.
pub fn analysis_coverage(
    knowledge: &Knowledge,
    family: Family,
    analysis_index: usize,
    analysis: &Analysis,
) -> Vec<CoverageRow> {
    let mut rows = Vec::new();
    for (index, dataset) in analysis.datasets.iter().enumerate() {
        let pairs = narrowing_pairs(analysis, index);
        let narrowing: Vec<(&str, &str)> =
            pairs.iter().map(|(field, value)| (field.as_str(), value.as_str())).collect();
        let read = fields_read(knowledge, family, analysis, index);
        // The fields that pick the event (ActionType, EventID, Channel) belong to the dataset's
        // envelope, not to the event's content: Sysmon 10 has no ActionType, yet it is the very
        // event an `ActionType == "OpenProcessApiCall"` filter selects.
        let selectors = selector_fields(knowledge, family, analysis, index);
        let read_refs: Vec<&str> = read
            .iter()
            .map(String::as_str)
            .filter(|field| !selectors.iter().any(|selector| selector == field))
            .collect();
        let role = role_text(dataset.role);
        let events = knowledge.events_for_dataset(family, &dataset.name, &dataset.attributes, &narrowing);
        // Only a Sigma log source names its dataset in structured form; elsewhere a single
        // unknown `any` row means the dataset itself is unknown.
        let unknown_dataset =
            family != Family::Sigma && matches!(events.as_slice(), [row] if !row.known && row.event == ANY);
        // A name recovered from a query with syntax errors (`The`, `where`) is no dataset at all.
        if unknown_dataset && analysis.has_errors() {
            continue;
        }
        for event in events {
            let fit = knowledge.event_fit(&event.provider, &event.event, &read_refs);
            rows.push(CoverageRow {
                analysis: analysis_index,
                dataset: dataset.name.clone(),
                role: dataset.role,
                why: format!("{} ({role}): {}", dataset.name, event.reason),
                provider: event.provider,
                product: event.product,
                event: event.event,
                title: event.title,
                narrowed_by: pairs.iter().map(|(field, value)| format!("{field} == {value}")).collect(),
                fields_read: read.clone(),
                fit,
                known: event.known,
                unknown_dataset,
                variants: Vec::new(),
            });
        }
    }
    rows
}

/// Names each row's query variant and merges rows that say the same thing for several variants
/// (same dataset, role, event, narrowing, fields and fit): a rule with a Defender XDR and a
/// Sentinel query over one table gets one row naming both. `variant_names[i]` is analysis `i`'s
/// name; with fewer than two analyses rows carry no variant.
pub fn merge_variant_rows(rows: Vec<CoverageRow>, variant_names: &[String]) -> Vec<CoverageRow> {
    let mut merged: Vec<CoverageRow> = Vec::with_capacity(rows.len());
    for mut row in rows {
        if variant_names.len() > 1
            && let Some(name) = variant_names.get(row.analysis)
        {
            row.variants.push(name.clone());
        }
        let same = merged.iter_mut().find(|other| {
            other.dataset == row.dataset
                && other.role == row.role
                && other.provider == row.provider
                && other.event == row.event
                && other.narrowed_by == row.narrowed_by
                && other.fields_read == row.fields_read
                && other.fit == row.fit
        });
        match same {
            Some(other) => {
                for variant in row.variants {
                    if !other.variants.contains(&variant) {
                        other.variants.push(variant);
                    }
                }
            }
            None => merged.push(row),
        }
    }
    merged
}

/// The role as a phrase for the "why" column.
pub fn role_text(role: DatasetRole) -> &'static str {
    match role {
        DatasetRole::Source => "source table",
        DatasetRole::Join => "joined table",
        DatasetRole::UnionMember => "union member",
        DatasetRole::Lookup => "lookup table",
        DatasetRole::LetBound => "table in a let binding",
        DatasetRole::Function => "function",
        DatasetRole::SequenceStep => "sequence step",
        DatasetRole::DataModel => "data model",
    }
}

/// The rows of a Sigma correlation rule: its own query names no dataset, so it reads the events of the rules it
/// correlates (`targets`: each one's title and rows), and those events must also carry the `group-by` fields
/// (`keys`, the correlation stage's keys): a field an event lacks makes its fit partial, as a join key does.
/// Rows name the correlated rule in `why`.
pub fn correlated_rows(
    knowledge: &Knowledge,
    keys: &[detwiki_ir::KeyField],
    targets: &[(&str, Family, &[CoverageRow])],
) -> Vec<CoverageRow> {
    let mut rows = Vec::new();
    for (title, family, target_rows) in targets {
        for row in *target_rows {
            let group: Vec<String> = keys
                .iter()
                .filter_map(|key| knowledge.canonical_field(*family, &row.dataset, &key.field).map(str::to_owned))
                .collect();
            let group_refs: Vec<&str> = group.iter().map(String::as_str).collect();
            let fit = match (knowledge.event_fit(&row.provider, &row.event, &group_refs), &row.fit) {
                (_, Fit::Unknown) | (Fit::Full | Fit::Unknown, _) => row.fit.clone(),
                (Fit::Partial { missing, correlate_with }, Fit::Full) => Fit::Partial { missing, correlate_with },
                (Fit::Partial { missing, .. }, Fit::Partial { missing: before, correlate_with }) => {
                    let all: BTreeSet<String> = before.iter().cloned().chain(missing).collect();
                    Fit::Partial { missing: all.into_iter().collect(), correlate_with: correlate_with.clone() }
                }
            };
            let mut fields_read: BTreeSet<String> = row.fields_read.iter().cloned().collect();
            fields_read.extend(group);
            rows.push(CoverageRow {
                analysis: 0,
                why: format!("correlated rule \"{title}\": {}", row.why),
                fields_read: fields_read.into_iter().collect(),
                fit,
                variants: Vec::new(),
                ..row.clone()
            });
        }
    }
    rows
}
