//! # detwiki-elastic
//!
//! ## Overview
//!
//! The query languages of Elastic detection rules: EQL, Kibana KQL (kuery), Lucene query strings
//! and ES|QL, each parsed by hand and lowered into the language-neutral [`detwiki_ir::Analysis`],
//! plus the rule-level parts that change what a rule matches (index patterns, threshold,
//! new_terms, threat_match, machine-learning jobs, Kibana filters, alert suppression).
//!
//! [`analyze`] is the entry point the catalog calls: it runs the query's language engine on the
//! text, then adds what only the rule knows, the same way whichever engine produced the analysis:
//!
//! - datasets from `index` patterns (after the engine's own datasets, so their indexes stay
//!   valid), narrowed by the query's `event.category`, `event.type`, `event.action`, `event.code`
//!   and `data_stream.dataset` filters (single values become dataset attributes; an engine's
//!   `event.category` attribute is copied to `category`, the key the knowledge matches);
//! - one stage per rule part: `threshold` (keys and count), `new_terms` (fields and history
//!   window), `threat_match` (the mapping, as column comparisons: shown, never indicators),
//!   `machine_learning` (job ids), `filter` (each `[[rule.filters]]` entry, negated ones as
//!   exclusions), `alert_suppression` (group-by keys).
//!
//! **Invariant:** no engine panics, on any input; every span is a byte range into the query
//! text the engine was given. Rule-level stages have empty spans at the end of the query (their
//! text lives elsewhere in the rule file).
//!
//! ## Source code layout
//!
//! - `lib.rs`: [`ElasticQuery`], [`RuleContext`], [`analyze`].
//! - `kuery/`: Kibana KQL. `lucene/`: Lucene query strings. `eql/`, `esql/`: EQL and ES|QL.
//! - `wildcard.rs`: values with wildcards and their lowering, shared by kuery and Lucene.
//! - `query_dsl.rs`: Elasticsearch query DSL filters (`[[rule.filters]]`, `threat_filters`).

pub mod eql;
pub mod esql;
pub mod kuery;
pub mod lucene;
mod query_dsl;
mod wildcard;

use std::collections::BTreeMap;

use detwiki_ir::{Analysis, Dataset, DatasetRole, Expr, FieldOrigin, Language, Op, Predicate, Span, Stage, Value};
use serde_json::Value as Json;

/// What a rule says around its query: the `[rule]` table's parts that change what matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleContext {
    /// `query`, `eql`, `esql`, `threshold`, `new_terms`, `threat_match`, `machine_learning`.
    pub rule_type: Option<String>,
    pub index: Vec<String>,
    /// `[metadata] integration`.
    pub integrations: Vec<String>,
    /// `threshold.field`, `threshold.value`, `threshold.cardinality` (field, value).
    pub threshold: Option<Threshold>,
    /// `new_terms` fields and `history_window_start`.
    pub new_terms: Option<NewTerms>,
    /// `threat_index` and `threat_mapping` (pairs of event field and indicator field).
    pub threat_index: Vec<String>,
    pub threat_mapping: Vec<Vec<(String, String)>>,
    pub threat_filters: Vec<Json>,
    pub machine_learning_job_ids: Vec<String>,
    /// `[[rule.filters]]`, as Kibana stores them.
    pub filters: Vec<Json>,
    pub alert_suppression: Vec<String>,
    pub alert_suppression_window: Option<String>,
    /// `building_block_type` is set: the rule feeds other rules rather than alerting.
    pub building_block: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threshold {
    pub fields: Vec<String>,
    pub value: Option<u64>,
    pub cardinality: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTerms {
    pub fields: Vec<String>,
    pub history_window_start: Option<String>,
}

impl RuleContext {
    /// Reads the context from the rule's metadata (`Metadata::extra`, the `[rule]` keys the
    /// sources keep as JSON). Missing or malformed keys are left empty.
    pub fn from_metadata(extra: &BTreeMap<String, Json>) -> RuleContext {
        let strings = |value: Option<&Json>| -> Vec<String> {
            match value {
                Some(Json::Array(list)) => list.iter().filter_map(Json::as_str).map(str::to_owned).collect(),
                Some(Json::String(text)) => vec![text.clone()],
                _ => Vec::new(),
            }
        };
        let threshold = extra.get("threshold").map(|threshold| Threshold {
            fields: strings(threshold.get("field")),
            value: threshold.get("value").and_then(Json::as_u64),
            cardinality: threshold
                .get("cardinality")
                .and_then(Json::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|entry| {
                            Some((entry.get("field")?.as_str()?.to_owned(), entry.get("value")?.as_u64()?))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        });
        let new_terms = extra.get("new_terms").map(|terms| NewTerms {
            fields: strings(terms.get("value")),
            history_window_start: terms
                .get("history_window_start")
                .and_then(Json::as_array)
                .and_then(|list| list.first())
                .and_then(|entry| entry.get("value"))
                .and_then(Json::as_str)
                .map(str::to_owned),
        });
        let threat_mapping = extra
            .get("threat_mapping")
            .and_then(Json::as_array)
            .map(|groups| {
                groups
                    .iter()
                    .map(|group| {
                        group
                            .get("entries")
                            .and_then(Json::as_array)
                            .map(|entries| {
                                entries
                                    .iter()
                                    .filter_map(|entry| {
                                        Some((
                                            entry.get("field")?.as_str()?.to_owned(),
                                            entry.get("value")?.as_str()?.to_owned(),
                                        ))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let suppression = extra.get("alert_suppression");
        let array = |key: &str| extra.get(key).and_then(Json::as_array).cloned().unwrap_or_default();
        RuleContext {
            rule_type: extra.get("type").and_then(Json::as_str).map(str::to_owned),
            index: strings(extra.get("index")),
            integrations: strings(extra.get("integration")),
            threshold,
            new_terms,
            threat_index: strings(extra.get("threat_index")),
            threat_mapping,
            threat_filters: array("threat_filters"),
            machine_learning_job_ids: strings(extra.get("machine_learning_job_id")),
            filters: array("filters"),
            alert_suppression: strings(suppression.and_then(|value| value.get("group_by"))),
            alert_suppression_window: suppression.and_then(|value| value.get("duration")).and_then(|duration| {
                Some(format!("{}{}", duration.get("value")?.as_u64()?, duration.get("unit")?.as_str()?))
            }),
            building_block: extra.get("building_block_type").is_some(),
        }
    }
}

/// The query name `detwiki-sources` gives a threat_match rule's `threat_query`.
pub const THREAT_QUERY_NAME: &str = "threat indicator query";

/// Which query of a rule is analysed: its main query, or a threat_match rule's indicator query
/// (`threat_query`, run over `threat_index` with `threat_filters`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryRole {
    #[default]
    Main,
    ThreatIndicators,
}

/// One query of an Elastic rule with what the rule says around it.
#[derive(Debug, Clone, Copy)]
pub struct ElasticQuery<'a> {
    pub language: Language,
    pub text: &'a str,
    pub role: QueryRole,
    pub context: &'a RuleContext,
}

/// Analyses one query of an Elastic rule: the language engine's analysis plus the rule-level
/// datasets and stages (see the crate documentation). `None` for languages without an engine
/// here (osquery SQL of hunting files is `Language::None`).
pub fn analyze(query: &ElasticQuery) -> Option<Analysis> {
    let mut analysis = analyze_text(query.language, query.text)?;
    add_rule_context(&mut analysis, query);
    Some(analysis)
}

/// The analysis of a rule that has no query (machine-learning rules): its job ids as a stage.
pub fn analyze_without_query(context: &RuleContext) -> Option<Analysis> {
    if context.machine_learning_job_ids.is_empty() {
        return None;
    }
    let mut analysis = Analysis { language: Some(Language::None), ..Analysis::default() };
    analysis.stages.push(machine_learning_stage(context));
    for integration in &context.integrations {
        analysis.datasets.push(Dataset::new(
            format!("integration:{integration}"),
            DatasetRole::Source,
            Span::default(),
        ));
    }
    Some(analysis)
}

fn machine_learning_stage(context: &RuleContext) -> Stage {
    let mut stage = Stage::new("machine_learning", Span::default());
    stage.label = Some(format!("anomalies of job {}", context.machine_learning_job_ids.join(", ")));
    stage
}

/// The language engine of each Elastic query language.
fn analyze_text(language: Language, text: &str) -> Option<Analysis> {
    match language {
        Language::Kuery => Some(kuery::analyze(text)),
        Language::Lucene => Some(lucene::analyze(text)),
        Language::Eql => Some(eql::analyze(text)),
        Language::Esql => Some(esql::analyze(text)),
        _ => None,
    }
}

/// Fields whose equality filters say which events a dataset holds.
const NARROWING_FIELDS: &[&str] =
    &["event.category", "event.type", "event.action", "event.code", "data_stream.dataset", "event.dataset"];

fn add_rule_context(analysis: &mut Analysis, query: &ElasticQuery) {
    let context = query.context;
    let end = Span::empty(analysis.span.end);
    // An engine's event-category attribute is what the knowledge calls `category`.
    for dataset in &mut analysis.datasets {
        if let Some(category) = dataset.attributes.get("event.category").cloned() {
            dataset.attributes.entry("category".to_owned()).or_insert(category);
        }
    }
    let (indexes, role) = match query.role {
        QueryRole::Main => (&context.index, DatasetRole::Source),
        QueryRole::ThreatIndicators => (&context.threat_index, DatasetRole::Lookup),
    };
    let engine_datasets = analysis.datasets.len();
    if analysis.language == Some(Language::Eql) {
        // EQL's datasets are event categories and steps, not indexes: only the rule's patterns
        // are alternatives to one another.
        narrow_indexes_by_event_category(analysis, indexes);
        if indexes.len() > 1 {
            read_index_patterns_as_one_union(analysis);
        }
    } else {
        // Index datasets come after the engine's own (ES|QL `FROM`), whose indexes stages and
        // predicates already point at. They carry the narrowing the whole query applies: its
        // single-valued filters (`event.category : "process"` among them).
        let narrowing = single_valued_narrowing(analysis);
        for pattern in indexes {
            let mut dataset = Dataset::new(pattern.clone(), role, end);
            for (field, value) in &narrowing {
                let key = if field == "event.category" { "category" } else { field.as_str() };
                dataset.attributes.insert(key.to_owned(), value.clone());
            }
            analysis.datasets.push(dataset);
        }
        read_index_patterns_as_one_union(analysis);
    }
    // Without index patterns or engine datasets (machine-learning rules, rules on a data view),
    // the integrations the rule declares say which data it reads: `integration:NAME` datasets,
    // mapped by the knowledge's fixed integration table.
    if analysis.datasets.is_empty() && query.role == QueryRole::Main {
        for integration in &context.integrations {
            analysis.datasets.push(Dataset::new(format!("integration:{integration}"), DatasetRole::Source, end));
        }
    }
    if engine_datasets == 0 && analysis.datasets.len() == 1 {
        for stage in &mut analysis.stages {
            stage.dataset.get_or_insert(0);
        }
    }
    let filters = match query.role {
        QueryRole::Main => &context.filters,
        QueryRole::ThreatIndicators => &context.threat_filters,
    };
    for filter in filters {
        let Some((expr, negated)) = query_dsl::lower_filter(filter) else { continue };
        let mut stage = Stage::new("filter", end);
        stage.label = Some(if negated { "Kibana filter (negated)".to_owned() } else { "Kibana filter".to_owned() });
        stage.negated = negated;
        stage.predicate = Some(expr);
        stage.dataset = (analysis.datasets.len() == 1).then_some(0);
        analysis.stages.push(stage);
    }
    if query.role == QueryRole::ThreatIndicators {
        return;
    }
    if let Some(threshold) = &context.threshold {
        let mut stage = Stage::new("threshold", end);
        stage.aggregation_keys = threshold.fields.clone();
        if let Some(value) = threshold.value {
            stage.thresholds.push(aggregate("count", Op::Ge, value, end));
        }
        for (field, value) in &threshold.cardinality {
            stage.thresholds.push(aggregate(&format!("cardinality({field})"), Op::Ge, *value, end));
        }
        analysis.stages.push(stage);
        analysis.group_by.extend(threshold.fields.iter().cloned());
    }
    if let Some(terms) = &context.new_terms {
        let mut stage = Stage::new("new_terms", end);
        stage.aggregation_keys = terms.fields.clone();
        stage.label = Some(match &terms.history_window_start {
            Some(start) => format!("values not seen since {start}"),
            None => "values not seen before".to_owned(),
        });
        analysis.stages.push(stage);
    }
    if !context.threat_mapping.is_empty() {
        let mut stage = Stage::new("threat_match", end);
        stage.label = Some(format!("indicators from {}", context.threat_index.join(", ")));
        let groups: Vec<Expr> = context
            .threat_mapping
            .iter()
            .map(|group| {
                let items: Vec<Expr> = group
                    .iter()
                    .map(|(field, indicator)| {
                        Expr::Predicate(Predicate {
                            values: vec![Value::Column { name: indicator.clone() }],
                            ..predicate(field, Op::Eq, "mapping", end)
                        })
                    })
                    .collect();
                if items.len() == 1 {
                    items.into_iter().next().unwrap_or(Expr::And { items: Vec::new() })
                } else {
                    Expr::And { items }
                }
            })
            .collect();
        stage.predicate = Some(if groups.len() == 1 {
            groups.into_iter().next().unwrap_or(Expr::Or { items: Vec::new() })
        } else {
            Expr::Or { items: groups }
        });
        analysis.stages.push(stage);
    }
    if !context.alert_suppression.is_empty() {
        let mut stage = Stage::new("alert_suppression", end);
        stage.aggregation_keys = context.alert_suppression.clone();
        stage.label = context.alert_suppression_window.as_ref().map(|window| format!("one alert per {window}"));
        analysis.stages.push(stage);
    }
    if !context.machine_learning_job_ids.is_empty() {
        analysis.stages.push(Stage { span: end, ..machine_learning_stage(context) });
    }
}

/// An EQL event category (`process where`, a step's `[network where ...]`) is a filter on
/// `event.category` over the indexes the rule reads: it names no index of its own. So each
/// engine dataset (one per event query, step or `until`) becomes the rule's first index pattern
/// narrowed by its category, in place (stages and predicates keep pointing at it), and every
/// other pattern follows it narrowed the same way. `any` narrows nothing.
fn narrow_indexes_by_event_category(analysis: &mut Analysis, indexes: &[String]) {
    let engine_datasets = analysis.datasets.len();
    for position in 0..engine_datasets {
        let step = analysis.datasets[position].clone();
        for (number, pattern) in indexes.iter().enumerate() {
            let narrowed = Dataset { name: pattern.clone(), ..step.clone() };
            if number == 0 {
                analysis.datasets[position] = narrowed;
            } else {
                analysis.datasets.push(narrowed);
            }
        }
    }
}

/// Elasticsearch reads the union of the index patterns a query names (a rule's `index` list, an
/// ES|QL `FROM a, b`): any one of them holding the events is enough for the rule to run, so
/// with several patterns each dataset of the query's sources is a union member rather than a
/// dataset of its own that must also be collected (`detwiki coverage --telemetry`). Lookups
/// (`ENRICH`, `LOOKUP JOIN`, threat indicator indexes) are not sources and stay as they are.
fn read_index_patterns_as_one_union(analysis: &mut Analysis) {
    let is_source = |role: DatasetRole| matches!(role, DatasetRole::Source | DatasetRole::SequenceStep);
    let mut names: Vec<&str> = analysis
        .datasets
        .iter()
        .filter(|dataset| is_source(dataset.role))
        .map(|dataset| dataset.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.len() < 2 {
        return;
    }
    for dataset in analysis.datasets.iter_mut().filter(|dataset| is_source(dataset.role)) {
        dataset.role = DatasetRole::UnionMember;
    }
}

/// Positive top-level equality filters on the narrowing fields that name one value.
fn single_valued_narrowing(analysis: &Analysis) -> Vec<(String, String)> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for stage in analysis.stages.iter().filter(|stage| !stage.negated) {
        let Some(tree) = &stage.predicate else { continue };
        for conjunct in tree.conjuncts() {
            let mut found: Vec<(String, String)> = Vec::new();
            let mut usable = true;
            conjunct.for_each_predicate(&mut |predicate, negated| {
                let narrowing = NARROWING_FIELDS.contains(&predicate.field.as_str());
                if negated || predicate.negated || !narrowing || !matches!(predicate.op, Op::Eq | Op::In) {
                    usable = false;
                    return;
                }
                found.extend(
                    predicate
                        .values
                        .iter()
                        .filter_map(Value::literal_text)
                        .map(|value| (predicate.field.clone(), value)),
                );
            });
            let same_field = found.windows(2).all(|pair| pair[0].0 == pair[1].0);
            if usable && same_field {
                for (field, value) in found {
                    values.entry(field).or_default().push(value);
                }
            }
        }
    }
    values
        .into_iter()
        .filter_map(|(field, mut list)| {
            list.sort();
            list.dedup();
            (list.len() == 1).then(|| (field, list.remove(0)))
        })
        .collect()
}

fn predicate(field: &str, op: Op, written_op: &str, span: Span) -> Predicate {
    Predicate {
        field: field.to_owned(),
        dataset: None,
        resolved_field: None,
        origin: FieldOrigin::Event,
        functions: Vec::new(),
        op,
        written_op: written_op.to_owned(),
        values: Vec::new(),
        case_sensitive: true,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span,
    }
}

/// A condition on an aggregate the rule type computes (`count >= 25`): never an indicator.
fn aggregate(name: &str, op: Op, value: u64, span: Span) -> Expr {
    Expr::Predicate(Predicate {
        origin: FieldOrigin::Aggregate { definition: span },
        values: vec![Value::Number { value: value.into() }],
        ..predicate(name, op, op.as_str(), span)
    })
}
