//! The catalog view of one rule: what its page adds to the analyses (ATT&CK, event coverage,
//! exclusions, indicators with corpus counts, time windows, the vendor-alert banner), as one
//! serializable value. The rule page, its JSON twin and `detwiki show --json` all print this
//! value, so they cannot disagree.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::Expr;
use serde::Serialize;

use crate::attack::AttackSection;
use crate::corpus::{CatalogIndex, IndicatorCount, indicator_path};
use crate::coverage::CoverageRow;
use crate::indicators::IndicatorKey;
use crate::related::{EVENT_SELECTOR_FIELDS, RelatedRule, Relation, Score};
use crate::text::{expr_text, positive_text, visible_text};
use crate::{Catalog, CatalogRule, LinkKind, RuleLink};

/// Where an indicator is stated in the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorSource {
    pub raw_field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    pub written_op: String,
    pub raw_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl IndicatorSource {
    /// `InitiatingProcessCommandLine1 (InitiatingProcessCommandLine) on DeviceProcessEvents`.
    pub fn text(&self) -> String {
        let mut text = self.raw_field.clone();
        if let Some(resolved) = &self.resolved_field {
            text.push_str(&format!(" ({resolved})"));
        }
        if let Some(dataset) = &self.dataset {
            text.push_str(&format!(" on {dataset}"));
        }
        text
    }
}

/// One indicator row: a canonical (field, kind, value) with its corpus count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorRow {
    pub field: String,
    pub kind: String,
    /// The value in the rule's own spelling (never case-folded).
    pub value: String,
    /// The value as indicators are matched across rules (case-folded when the comparison ignores
    /// case); the indicator page lists every spelling of it.
    pub match_value: String,
    /// The field is a canonical name (else the raw name, when the taxonomy has none).
    pub canonical: bool,
    /// Rules in the whole catalog (this one included) that look for the same indicator.
    pub corpus: IndicatorCount,
    /// The indicator's page, relative to the site root.
    pub path: String,
    /// Every place in the rule that states it.
    pub sources: Vec<IndicatorSource>,
}

impl IndicatorRow {
    /// The value as shown, with invisible characters escaped (see [`visible_text`]).
    pub fn value_text(&self) -> String {
        visible_text(&self.value)
    }

    /// The field's page, relative to the site root.
    pub fn field_page(&self) -> String {
        crate::corpus::field_path(&self.field)
    }
}

/// A predicate the rule suppresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusionView {
    pub analysis: usize,
    /// The stage's kind and label (`where`, `filter filter_main`).
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The condition under which events are excluded, in its positive form (`FileName eq "x"`
    /// for `FileName != "x"`): pages read "excluded when <condition>" in every language.
    pub condition: String,
    /// The Sigma filter rule the exclusion comes from, when another rule adds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_rule: Option<String>,
}

/// A correlation or filter link between this rule and another one (Sigma). Links that relate
/// two detections (a converted rule and its original, Sigma `related:`) are in
/// [`RuleView::related`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    /// `references` when this rule names the other one, `referenced_by` when the other one names
    /// this one.
    pub direction: &'static str,
    /// `correlation` or `filter`.
    pub kind: &'static str,
    /// The `id` or `name` as written in the referring rule.
    pub target: String,
    /// Id of the other rule, when it is in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Position of the other rule in the catalog (the site turns it into `path`).
    #[serde(skip)]
    pub position: Option<usize>,
    /// Path of the other rule's page from the site root, set by the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A rule related to this one: declared by one of the two rules (a converted rule's original,
/// a Sigma `related:` entry) or computed over the catalog ([`crate::related_rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelatedView {
    /// Computed: `equivalent`, `broader`, `narrower`, `same_events_and_technique`. Declared:
    /// `converted_from`, `derived`, `obsolete`, `merged`, `renamed`, `similar`.
    pub kind: &'static str,
    /// Declared links only: `references` when this rule names the other one, `referenced_by`
    /// when the other one names this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// Declared links only: the id as written in the referring rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Id of the other rule, when it is in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The other rule's family (`sigma`, `kusto`), when it is in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<&'static str>,
    /// Computed relations only: how strong it is, in `[0, 1]` (`docs/semantics.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    /// Why the rules are related, in one sentence.
    pub reason: String,
    /// Position of the other rule in the catalog (the site turns it into `path`).
    #[serde(skip)]
    pub position: Option<usize>,
    /// Path of the other rule's page from the site root, set by the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl RelatedView {
    /// The kind as pages label it (`same events and technique`, `converted from`).
    pub fn label(&self) -> String {
        self.kind.replace('_', " ")
    }
}

/// A duration with where it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowView {
    pub analysis: usize,
    /// The query variant the window belongs to, when the rule has several analyses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The dataset a lookback applies to (none for a correlation span).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
}

/// Lookback (how far back the rule reads) and correlation span (how close its events must be)
/// kept apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimeWindows {
    /// The rule's declared lookback (Sentinel `queryPeriod`, Elastic `from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_lookback: Option<String>,
    /// Lookbacks from time filters in the query, per dataset.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lookbacks: Vec<WindowView>,
    /// Correlation spans (EQL `maxspan`, Sigma correlation `timespan`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub correlation: Vec<WindowView>,
}

/// The group-by keys of one analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupByView {
    pub analysis: usize,
    /// The query variant the keys belong to, when the rule has several analyses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub keys: Vec<String>,
}

/// The catalog view of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleView {
    pub id: String,
    pub family: &'static str,
    /// Set when the rule only forwards a vendor's alerts: it is left out of ATT&CK coverage and
    /// browse counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_alerts: Option<String>,
    /// The Elastic `building_block_type` (`default`) of a building-block rule: its alerts are
    /// hidden from the alerts view and feed other rules, so a reader should not expect to see it
    /// fire on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub building_block: Option<String>,
    pub time_windows: TimeWindows,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<GroupByView>,
    pub attack: AttackSection,
    pub event_coverage: Vec<CoverageRow>,
    pub exclusions: Vec<ExclusionView>,
    pub indicators: Vec<IndicatorRow>,
    pub output_fields: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkView>,
    /// Declared relations first, then computed ones by kind (equivalent, broader, narrower, same
    /// events and technique), each kind best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedView>,
}

impl RuleView {
    /// The view of the rule at `position` in `catalog.rules`; `None` when out of range.
    pub fn new(catalog: &Catalog, index: &CatalogIndex, position: usize) -> Option<RuleView> {
        let entry = catalog.rules.get(position)?;
        let facts = index.facts.get(position)?;

        let mut rows: Vec<IndicatorRow> = Vec::new();
        let mut row_of: BTreeMap<&IndicatorKey, usize> = BTreeMap::new();
        for occurrence in facts.indicators.iter().filter(|occurrence| !occurrence.exclusion) {
            let source = IndicatorSource {
                raw_field: occurrence.raw_field.clone(),
                resolved_field: occurrence.resolved_field.clone(),
                dataset: occurrence.dataset.clone(),
                written_op: occurrence.written_op.clone(),
                raw_value: occurrence.raw_value.clone(),
                note: occurrence.note.clone(),
            };
            match row_of.get(&occurrence.key).and_then(|row| rows.get_mut(*row)) {
                Some(row) => {
                    if !row.sources.contains(&source) {
                        row.sources.push(source);
                    }
                }
                None => {
                    row_of.insert(&occurrence.key, rows.len());
                    rows.push(IndicatorRow {
                        field: occurrence.key.field.clone(),
                        kind: occurrence.key.kind.clone(),
                        value: occurrence.value.clone(),
                        match_value: occurrence.key.value.clone(),
                        canonical: occurrence.key.canonical,
                        corpus: index.indicator_count(&occurrence.key),
                        path: indicator_path(&occurrence.key),
                        sources: vec![source],
                    });
                }
            }
        }

        Some(RuleView {
            id: entry.rule.id.clone(),
            family: entry.rule.family.as_str(),
            vendor_alerts: facts.vendor_alerts.clone(),
            building_block: entry
                .rule
                .metadata
                .extra
                .get("building_block_type")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            time_windows: time_windows(entry),
            group_by: entry
                .analyses
                .iter()
                .enumerate()
                .filter(|(_, query)| !query.analysis.group_by.is_empty())
                .map(|(analysis, query)| GroupByView {
                    analysis,
                    variant: variant_name(entry, analysis),
                    keys: query.analysis.group_by.clone(),
                })
                .collect(),
            attack: facts.attack.clone(),
            event_coverage: facts.coverage.clone(),
            exclusions: {
                let mut exclusions = exclusions(entry);
                exclusions.extend(filter_exclusions(catalog, index, position));
                exclusions
            },
            links: links(catalog, index, position),
            related: related(catalog, index, position),
            indicators: rows,
            output_fields: {
                let mut fields: Vec<String> = Vec::new();
                for field in entry.analyses.iter().flat_map(|query| query.analysis.output_fields.iter()) {
                    if !fields.contains(field) {
                        fields.push(field.clone());
                    }
                }
                fields
            },
        })
    }
}

/// Names the variant of analysis `index` ("Sentinel", "unit 2") when the rule has more than one,
/// so that repeated windows and keys say which query they come from.
fn variant_name(entry: &CatalogRule, index: usize) -> Option<String> {
    if entry.analyses.len() < 2 {
        return None;
    }
    let query = entry.analyses.get(index)?;
    Some(query.name.clone().unwrap_or_else(|| format!("query {}", index + 1)))
}

fn time_windows(entry: &CatalogRule) -> TimeWindows {
    let mut windows = TimeWindows { declared_lookback: entry.rule.metadata.lookback.clone(), ..TimeWindows::default() };
    for (analysis, query) in entry.analyses.iter().enumerate() {
        for dataset in &query.analysis.datasets {
            if let Some(window) = &dataset.time_window {
                windows.lookbacks.push(WindowView {
                    analysis,
                    variant: variant_name(entry, analysis),
                    dataset: Some(dataset.name.clone()),
                    text: window.text.clone(),
                    seconds: window.seconds,
                });
            }
        }
        if let Some(window) = &query.analysis.time_window {
            windows.correlation.push(WindowView {
                analysis,
                variant: variant_name(entry, analysis),
                dataset: None,
                text: window.text.clone(),
                seconds: window.seconds,
            });
        }
    }
    windows
}

/// Negated stages (Sigma filters under `not`) whole, and the negated top-level conjuncts of the
/// other stages.
fn exclusions(entry: &CatalogRule) -> Vec<ExclusionView> {
    let mut out = Vec::new();
    for (analysis, query) in entry.analyses.iter().enumerate() {
        for stage in &query.analysis.stages {
            let Some(tree) = &stage.predicate else { continue };
            let dataset = stage.dataset.and_then(|index| query.analysis.datasets.get(index)).map(|d| d.name.clone());
            let name = match &stage.label {
                Some(label) => format!("{} {label}", stage.kind),
                None => stage.kind.clone(),
            };
            // Conjuncts made only of opaque parts (a Sigma condition's `not filter` naming
            // identifiers listed as their own stages) add nothing a reader can act on.
            let conditions: Vec<(String, Option<String>)> = if stage.negated {
                vec![(expr_text(tree), dataset.clone())]
            } else {
                tree.exclusions()
                    .into_iter()
                    .filter(|conjunct| has_predicate(conjunct))
                    .map(|conjunct| {
                        // A conjunct on a joined table's columns (`where not(Department in ...)` after a
                        // join with IdentityInfo) belongs to that table, not to the pipeline's.
                        let own = single_dataset(conjunct).and_then(|index| query.analysis.datasets.get(index));
                        (positive_text(conjunct), own.map(|d| d.name.clone()).or_else(|| dataset.clone()))
                    })
                    .collect()
            };
            for (condition, dataset) in conditions {
                out.push(ExclusionView { analysis, stage: name.clone(), dataset, condition, from_rule: None });
            }
        }
    }
    out
}

/// The one dataset every predicate of `expr` names, if they all name the same one.
fn single_dataset(expr: &Expr) -> Option<usize> {
    let mut datasets = BTreeSet::new();
    expr.for_each_predicate(&mut |predicate, _| {
        datasets.insert(predicate.dataset);
    });
    match datasets.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(index)] => Some(*index),
        _ => None,
    }
}

/// The rules that name the rule at `position`, with the link each one makes.
fn referrers<'a>(
    catalog: &'a Catalog,
    index: &'a CatalogIndex,
    position: usize,
) -> impl Iterator<Item = (usize, &'a CatalogRule, &'a RuleLink)> {
    index.referenced_by.get(&position).into_iter().flatten().filter_map(|&(referrer, link)| {
        let entry = catalog.rules.get(referrer)?;
        Some((referrer, entry, entry.links.get(link)?))
    })
}

/// Exclusions that Sigma filter rules add to the rule at `position`: every negated stage of each
/// filter that names it.
fn filter_exclusions(catalog: &Catalog, index: &CatalogIndex, position: usize) -> Vec<ExclusionView> {
    let mut out = Vec::new();
    for (_, filter, _) in referrers(catalog, index, position).filter(|(_, _, link)| link.kind == LinkKind::Filter) {
        for (analysis, query) in filter.analyses.iter().enumerate() {
            for stage in query.analysis.stages.iter().filter(|stage| stage.negated) {
                let Some(tree) = &stage.predicate else { continue };
                out.push(ExclusionView {
                    analysis,
                    stage: match &stage.label {
                        Some(label) => format!("{} {label}", stage.kind),
                        None => stage.kind.clone(),
                    },
                    dataset: None,
                    condition: expr_text(tree),
                    from_rule: Some(filter.rule.id.clone()),
                });
            }
        }
    }
    out
}

fn has_predicate(expr: &Expr) -> bool {
    let mut found = false;
    expr.for_each_predicate(&mut |_, _| found = true);
    found
}

/// The rules this one names and the rules that name it.
fn links(catalog: &Catalog, index: &CatalogIndex, position: usize) -> Vec<LinkView> {
    let title_of = |position: Option<usize>| {
        position.and_then(|position| catalog.rules.get(position)).and_then(|entry| entry.rule.metadata.title.clone())
    };
    let mut out = Vec::new();
    if let Some(entry) = catalog.rules.get(position) {
        for link in entry.links.iter().filter(|link| !link.kind.is_relation()) {
            out.push(LinkView {
                direction: "references",
                kind: link.kind.as_str(),
                target: link.target.clone(),
                rule: link.rule.clone(),
                title: title_of(link.position),
                position: link.position,
                path: None,
            });
        }
    }
    for (other, entry, link) in referrers(catalog, index, position).filter(|(_, _, link)| !link.kind.is_relation()) {
        out.push(LinkView {
            direction: "referenced_by",
            kind: link.kind.as_str(),
            target: link.target.clone(),
            rule: Some(entry.rule.id.clone()),
            title: title_of(Some(other)),
            position: Some(other),
            path: None,
        });
    }
    out
}

/// The declared and computed relations of the rule at `position`.
fn related(catalog: &Catalog, index: &CatalogIndex, position: usize) -> Vec<RelatedView> {
    let other_view = |other: Option<usize>| {
        let entry = other.and_then(|other| catalog.rules.get(other));
        (
            entry.map(|entry| entry.rule.id.clone()),
            entry.and_then(|entry| entry.rule.metadata.title.clone()),
            entry.map(|entry| entry.rule.family.as_str()),
        )
    };
    let mut out = Vec::new();
    if let Some(entry) = catalog.rules.get(position) {
        for link in entry.links.iter().filter(|link| link.kind.is_relation()) {
            let (rule, title, family) = other_view(link.position);
            out.push(RelatedView {
                kind: link.kind.key(),
                direction: Some("references"),
                target: Some(link.target.clone()),
                rule,
                title,
                family,
                score: None,
                reason: declared_reason(link.kind, true),
                position: link.position,
                path: None,
            });
        }
    }
    for (other, _, link) in referrers(catalog, index, position).filter(|(_, _, link)| link.kind.is_relation()) {
        let (rule, title, family) = other_view(Some(other));
        out.push(RelatedView {
            kind: link.kind.key(),
            direction: Some("referenced_by"),
            target: Some(link.target.clone()),
            rule,
            title,
            family,
            score: None,
            reason: declared_reason(link.kind, false),
            position: Some(other),
            path: None,
        });
    }
    for related in index.related.get(position).map(Vec::as_slice).unwrap_or_default() {
        let (rule, title, family) = other_view(Some(related.other));
        out.push(RelatedView {
            kind: related.relation.as_str(),
            direction: None,
            target: None,
            rule,
            title,
            family,
            score: Some(related.score),
            reason: computed_reason(index, position, related),
            position: Some(related.other),
            path: None,
        });
    }
    out
}

/// Why a declared link relates two rules; `forward` when this rule makes the reference.
fn declared_reason(kind: LinkKind, forward: bool) -> String {
    let text = match (kind, forward) {
        (LinkKind::ConvertedFrom, true) => "this rule was converted from it (YARA-L meta sigma_uuid)",
        (LinkKind::ConvertedFrom, false) => "it was converted from this rule (its YARA-L meta sigma_uuid names it)",
        (LinkKind::Derived, true) => "this rule is derived from it (Sigma related: derived)",
        (LinkKind::Derived, false) => "it is derived from this rule (its Sigma related: names it)",
        (LinkKind::Obsolete, true) => "this rule makes it obsolete (Sigma related: obsolete)",
        (LinkKind::Obsolete, false) => "it makes this rule obsolete (its Sigma related: names it)",
        (LinkKind::Merged, true) => "this rule was merged from it (Sigma related: merged)",
        (LinkKind::Merged, false) => "it was merged from this rule (its Sigma related: names it)",
        (LinkKind::Renamed, true) => "this rule had its id before a rename (Sigma related: renamed)",
        (LinkKind::Renamed, false) => "it had this rule's id before a rename (its Sigma related: names it)",
        (LinkKind::Similar, true) => "this rule declares it similar (Sigma related: similar)",
        (LinkKind::Similar, false) => "it declares this rule similar (its Sigma related: names it)",
        (LinkKind::Correlation | LinkKind::Filter, _) => "linked",
    };
    text.to_owned()
}

/// Shared items of two sets, at most this many named in a reason.
const NAMED_IN_REASON: usize = 3;

/// `a, b, c and 2 more`.
fn named_list(items: &[String]) -> String {
    let mut text = items.iter().take(NAMED_IN_REASON).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > NAMED_IN_REASON {
        text.push_str(&format!(" and {} more", items.len() - NAMED_IN_REASON));
    }
    text
}

/// Why a computed relation holds: the counts it rests on and the shared indicators, events and
/// techniques, named.
fn computed_reason<'a>(index: &'a CatalogIndex, position: usize, related: &RelatedRule) -> String {
    let (Some(this), Some(that)) = (index.facts.get(position), index.facts.get(related.other)) else {
        return String::new();
    };
    let events = |facts: &crate::RuleFacts| -> BTreeSet<String> {
        facts
            .coverage
            .iter()
            .filter(|row| !row.unknown_dataset)
            .map(|row| format!("{} {}", row.provider, row.event))
            .collect()
    };
    let shared_events: Vec<String> = events(this).intersection(&events(that)).cloned().collect();
    // The keys the computation compares: positive ones, event selectors left out.
    let compared = |facts: &'a crate::RuleFacts| -> BTreeSet<&'a IndicatorKey> {
        let mut keys = facts.indicator_keys();
        keys.retain(|key| !EVENT_SELECTOR_FIELDS.contains(&key.field.as_str()));
        keys
    };
    let this_keys = compared(this);
    let that_keys = compared(that);
    let shared_keys: Vec<String> = this_keys.intersection(&that_keys).map(ToString::to_string).collect();
    let on_events = format!("on {}", named_list(&shared_events));
    match related.relation {
        Relation::Equivalent => format!(
            "{} of {} distinct positive indicators shared (weighted Jaccard {}: {}) {on_events}",
            shared_keys.len(),
            this_keys.union(&that_keys).count(),
            related.score.text(),
            named_list(&shared_keys),
        ),
        Relation::Broader => format!(
            "it asks for {} of this rule's {} indicators and nothing else ({}) {on_events}",
            that_keys.len(),
            this_keys.len(),
            named_list(&shared_keys),
        ),
        Relation::Narrower => format!(
            "it asks for all {} indicators of this rule ({}) and {} more {on_events}",
            this_keys.len(),
            named_list(&shared_keys),
            that_keys.len().saturating_sub(this_keys.len()),
        ),
        Relation::SameEventsAndTechnique => {
            let techniques: BTreeSet<&String> = this.attack.technique_ids.iter().collect();
            let shared: Vec<String> = that
                .attack
                .technique_ids
                .iter()
                .filter(|id| techniques.contains(id))
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            format!("both cover {} and read {}", named_list(&shared), named_list(&shared_events))
        }
    }
}
