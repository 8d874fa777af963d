//! Sigma document -> detwiki IR.
//!
//! One stage per condition term: an identifier is a stage; a quantifier term (`1 of selection_*`)
//! is one stage per identifier it matches, labelled "1 of selection_*: selection_1"; identifiers
//! under an odd number of `not`s are exclusions (`negated`). A last `condition` stage keeps the
//! shape of the condition with the identifiers as opaque leaves, so nothing is counted twice.
//! Modifiers that rewrite values stay on the predicate as transforms with their expansions.
//!
//! Values are the rule's own values, unescaped (`\*` is a literal star) and never trimmed; the
//! operator carries the wildcards: `*x*` is `contains x`, `x*` is `starts_with x`. Only a value
//! with a wildcard elsewhere stays a `wildcard` pattern, written in Sigma notation (`*`/`?` are
//! wildcards, `\*`/`\?` literal).

use std::collections::BTreeMap;

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr, FieldOrigin, KeyField, Language, Op, Predicate, Span, Stage, TimeWindow,
    Transform, Value, duration_seconds,
};

use crate::condition::{ConditionExpr, matching_identifiers};
use crate::correlation::{CorrelationCondition, CorrelationType};
use crate::detection::{Condition, Detection, DetectionEntry, DetectionGroup, DetectionItem, Linking};
use crate::document::{DocumentKind, LogSource, SigmaDocument};
use crate::modifiers::{self, CompareOp, Modifier, SigmaString, SigmaValue, StringPart};

/// Lowers one loaded document.
pub fn lower_document(document: &SigmaDocument) -> Analysis {
    let mut analysis = Analysis {
        language: Some(Language::Sigma),
        span: document.span,
        diagnostics: document.diagnostics.clone(),
        ..Analysis::default()
    };
    if let Some(logsource) = &document.logsource
        && let Some(dataset) = lower_logsource(logsource)
    {
        analysis.datasets.push(dataset);
    }
    match document.kind {
        DocumentKind::Rule | DocumentKind::Filter => {
            // A filter's condition is joined to its target rules' conditions with `and` (as
            // pySigma applies it), so `condition: not selection` excludes the selection and
            // `condition: selection` restricts the rules to it: stages are negated exactly as in
            // a rule.
            if let Some(detection) = document.detection() {
                lower_detection(detection, &mut analysis);
            }
            if let Some(filter) = &document.filter {
                for reference in &filter.rules {
                    let mut stage = Stage::new("filter-target", reference.span);
                    stage.label = Some(reference.value.clone());
                    stage.depth = 1;
                    analysis.stages.push(stage);
                }
            }
        }
        DocumentKind::Correlation => lower_correlation(document, &mut analysis),
        _ => {}
    }
    analysis
}

fn lower_logsource(logsource: &LogSource) -> Option<Dataset> {
    let parts: Vec<(&str, &String)> =
        [("product", &logsource.product), ("category", &logsource.category), ("service", &logsource.service)]
            .into_iter()
            .filter_map(|(key, value)| value.as_ref().map(|value| (key, &value.value)))
            .collect();
    if parts.is_empty() {
        return None;
    }
    let name = parts.iter().map(|(_, value)| value.as_str()).collect::<Vec<_>>().join("/");
    let mut dataset = Dataset::new(name, DatasetRole::Source, logsource.span);
    dataset.attributes =
        parts.iter().map(|(key, value)| ((*key).to_owned(), (*value).clone())).collect::<BTreeMap<_, _>>();
    Some(dataset)
}

fn lower_detection(detection: &Detection, analysis: &mut Analysis) {
    let dataset = (!analysis.datasets.is_empty()).then_some(0);
    if let Some(timeframe) = &detection.timeframe {
        analysis.time_window = Some(TimeWindow {
            text: timeframe.value.clone(),
            seconds: duration_seconds(&timeframe.value),
            span: timeframe.span,
        });
    }
    for condition in &detection.conditions {
        let Some(expression) = &condition.expression else { continue };
        let mut stages = Vec::new();
        collect_stages(expression, detection, false, dataset, &mut stages);
        analysis.stages.extend(stages);
        let mut stage = Stage::new("condition", condition.span);
        stage.label = Some(condition.text.clone());
        stage.predicate = Some(condition_shape(expression, detection));
        analysis.stages.push(stage);
        lower_aggregation(condition, analysis);
    }
}

fn lower_aggregation(condition: &Condition, analysis: &mut Analysis) {
    let Some(aggregation) = &condition.aggregation else { return };
    let mut stage = Stage::new("aggregation", aggregation.span);
    stage.label = Some(aggregation.text.clone());
    stage.aggregation_keys = aggregation.group_by.iter().cloned().collect();
    if let (Some(operator), Some(threshold)) = (&aggregation.operator, &aggregation.threshold) {
        let op = match operator.as_str() {
            ">" => Some(Op::Gt),
            ">=" => Some(Op::Ge),
            "<" => Some(Op::Lt),
            "<=" => Some(Op::Le),
            "=" | "==" => Some(Op::Eq),
            "!=" => Some(Op::Ne),
            _ => None,
        };
        if let Some(op) = op {
            let value = threshold
                .parse::<i64>()
                .map(|number| Value::Number { value: number.into() })
                .unwrap_or_else(|_| Value::string(threshold.clone()));
            let field = match &aggregation.field {
                Some(field) => format!("{}({field})", aggregation.function),
                None => format!("{}()", aggregation.function),
            };
            stage.thresholds.push(Expr::Predicate(simple_predicate(
                field,
                op,
                operator,
                vec![value],
                aggregation.span,
            )));
        }
    }
    if let Some(group_by) = &aggregation.group_by {
        analysis.group_by.push(group_by.clone());
        // The events are grouped on this field of the rule's log source: they must carry it.
        stage.keys.push(KeyField {
            field: group_by.clone(),
            dataset: (!analysis.datasets.is_empty()).then_some(0),
            resolved_field: None,
            origin: FieldOrigin::Event,
            span: aggregation.span,
        });
    }
    analysis.stages.push(stage);
}

fn simple_predicate(field: String, op: Op, written: &str, values: Vec<Value>, span: Span) -> Predicate {
    Predicate {
        field,
        dataset: None,
        resolved_field: None,
        origin: FieldOrigin::Aggregate { definition: span },
        functions: Vec::new(),
        op,
        written_op: written.to_owned(),
        values,
        case_sensitive: false,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span,
    }
}

fn collect_stages(
    expression: &ConditionExpr,
    detection: &Detection,
    negated: bool,
    dataset: Option<usize>,
    stages: &mut Vec<Stage>,
) {
    match expression {
        ConditionExpr::And { items, .. } | ConditionExpr::Or { items, .. } => {
            for item in items {
                collect_stages(item, detection, negated, dataset, stages);
            }
        }
        ConditionExpr::Not { item, .. } => collect_stages(item, detection, !negated, dataset, stages),
        // Undefined identifiers and empty selectors were reported by the loader.
        ConditionExpr::Identifier { name, .. } => {
            if let Some(identifier) = detection.identifier(name) {
                stages.push(identifier_stage(identifier, name.clone(), negated, dataset));
            }
        }
        ConditionExpr::Selector { quantifier, pattern, .. } => {
            let names = matching_identifiers(pattern, detection.identifiers.iter().map(|id| id.name.as_str()));
            for name in names {
                if let Some(identifier) = detection.identifier(name) {
                    let label = format!("{} of {pattern}: {name}", quantifier.as_str());
                    stages.push(identifier_stage(identifier, label, negated, dataset));
                }
            }
        }
    }
}

fn identifier_stage(
    identifier: &crate::detection::SearchIdentifier,
    label: String,
    negated: bool,
    dataset: Option<usize>,
) -> Stage {
    let mut stage = Stage::new(if negated { "filter" } else { "selection" }, identifier.span);
    stage.label = Some(label);
    stage.negated = negated;
    stage.dataset = dataset;
    let mut predicate = lower_group(&identifier.group);
    if let Some(index) = dataset {
        set_dataset(&mut predicate, index);
    }
    stage.predicate = Some(predicate);
    stage
}

fn set_dataset(expression: &mut Expr, index: usize) {
    match expression {
        Expr::And { items } | Expr::Or { items } => items.iter_mut().for_each(|item| set_dataset(item, index)),
        Expr::Not { item } => set_dataset(item, index),
        Expr::Predicate(predicate) => {
            if predicate.origin == FieldOrigin::Event {
                predicate.dataset = Some(index);
            }
        }
        Expr::Opaque { .. } => {}
    }
}

/// The condition's shape with identifiers (and expanded selectors) as opaque leaves.
fn condition_shape(expression: &ConditionExpr, detection: &Detection) -> Expr {
    match expression {
        ConditionExpr::And { items, .. } => {
            Expr::And { items: items.iter().map(|item| condition_shape(item, detection)).collect() }
        }
        ConditionExpr::Or { items, .. } => {
            Expr::Or { items: items.iter().map(|item| condition_shape(item, detection)).collect() }
        }
        ConditionExpr::Not { item, .. } => Expr::Not { item: Box::new(condition_shape(item, detection)) },
        ConditionExpr::Identifier { name, span } => Expr::Opaque { text: name.clone(), span: *span },
        ConditionExpr::Selector { quantifier, pattern, span } => {
            let names = matching_identifiers(pattern, detection.identifiers.iter().map(|id| id.name.as_str()));
            let items =
                names.into_iter().map(|name| Expr::Opaque { text: name.to_owned(), span: *span }).collect::<Vec<_>>();
            if *quantifier == crate::condition::Quantifier::All { Expr::And { items } } else { Expr::Or { items } }
        }
    }
}

/// A detection group as a predicate tree.
pub fn lower_group(group: &DetectionGroup) -> Expr {
    let mut items: Vec<Expr> = group
        .entries
        .iter()
        .map(|entry| match entry {
            DetectionEntry::Item(item) => lower_item(item),
            DetectionEntry::Group(group) => lower_group(group),
        })
        .collect();
    if items.len() == 1 {
        return items.pop().unwrap_or(Expr::And { items: Vec::new() });
    }
    match group.linking {
        Linking::And => Expr::And { items },
        Linking::Or => Expr::Or { items },
    }
}

struct LoweredValue {
    op: Op,
    value: Option<Value>,
    case_sensitive: bool,
    expansions: Vec<Vec<Value>>,
}

/// One detection item: one predicate per operator its values need (usually one).
pub fn lower_item(item: &DetectionItem) -> Expr {
    let modifiers: Vec<Modifier> = item.modifiers.iter().map(|modifier| modifier.value).collect();
    let transform_modifiers: Vec<Modifier> =
        modifiers.iter().copied().filter(|modifier| modifier.is_transform()).collect();
    let mut predicates: Vec<Predicate> = Vec::new();
    for (index, original) in item.original_values.iter().enumerate() {
        let after = item.values.get(index).unwrap_or(original);
        let lowered = match keyword_value(item, original, &modifiers, &transform_modifiers) {
            Some(lowered) => lowered,
            None => lower_value(original, after, &modifiers, &transform_modifiers),
        };
        let merge_into = predicates
            .iter_mut()
            .find(|predicate| predicate.op == lowered.op && predicate.case_sensitive == lowered.case_sensitive);
        let predicate = match merge_into {
            Some(predicate) => predicate,
            None => {
                predicates.push(new_predicate(item, lowered.op, lowered.case_sensitive, &transform_modifiers));
                let last = predicates.len() - 1;
                &mut predicates[last]
            }
        };
        if let Some(value) = lowered.value {
            predicate.values.push(value);
        }
        for (transform, expansions) in predicate.transforms.iter_mut().zip(lowered.expansions) {
            transform.expansions.extend(expansions);
        }
    }
    if predicates.is_empty() {
        predicates.push(new_predicate(item, Op::IsNull, false, &transform_modifiers));
    }
    if predicates.len() == 1 {
        return predicates.pop().map(Expr::Predicate).unwrap_or(Expr::And { items: Vec::new() });
    }
    let items = predicates.into_iter().map(Expr::Predicate).collect();
    if item.all { Expr::And { items } } else { Expr::Or { items } }
}

/// The full-text pseudo-field that keyword predicates name (docs/semantics.md): keywords search
/// the whole event, so they have no field of their own.
pub const KEYWORD_FIELD: &str = "keyword";

/// A keyword (a value without a field) is a full-text `match` of the value as written, wildcards
/// kept in Sigma notation: backends search it as a term or phrase, not as an equality with some
/// field. `None` when the keyword carries an operator modifier (`|contains`, `|re`), which then
/// says what it compares.
fn keyword_value(
    item: &DetectionItem,
    original: &SigmaValue,
    modifiers: &[Modifier],
    transforms: &[Modifier],
) -> Option<LoweredValue> {
    if item.field.is_some() {
        return None;
    }
    let SigmaValue::String { value, .. } = original else { return None };
    let plain = modifiers.iter().all(|modifier| modifier.is_transform() || *modifier == Modifier::All);
    plain.then(|| LoweredValue {
        op: Op::Match,
        value: Some(Value::string(value.notation())),
        case_sensitive: modifiers.contains(&Modifier::Cased),
        expansions: transform_expansions(original, transforms),
    })
}

fn new_predicate(item: &DetectionItem, op: Op, case_sensitive: bool, transforms: &[Modifier]) -> Predicate {
    let field = item.field.clone().unwrap_or_else(|| KEYWORD_FIELD.to_owned());
    let written_op = match item.key.find('|') {
        Some(at) => item.key[at..].to_owned(),
        None if item.field.is_none() => "keyword".to_owned(),
        None => ":".to_owned(),
    };
    Predicate {
        origin: if item.field.is_none() { FieldOrigin::Keyword } else { FieldOrigin::Event },
        functions: Vec::new(),
        field,
        dataset: None,
        resolved_field: None,
        op,
        written_op,
        values: Vec::new(),
        case_sensitive,
        all: item.all,
        transforms: transforms
            .iter()
            .map(|modifier| Transform { name: modifier.canonical_name().to_owned(), expansions: Vec::new() })
            .collect(),
        negated: item.negated,
        time_filter: false,
        span: item.span,
    }
}

fn lower_value(
    original: &SigmaValue,
    after: &SigmaValue,
    modifiers: &[Modifier],
    transforms: &[Modifier],
) -> LoweredValue {
    let cased = modifiers.contains(&Modifier::Cased);
    let simple =
        |op: Op, value: Option<Value>| LoweredValue { op, value, case_sensitive: cased, expansions: Vec::new() };
    match after {
        SigmaValue::Null => return simple(Op::IsNull, None),
        SigmaValue::Exists(true) => return simple(Op::IsNotNull, None),
        SigmaValue::Exists(false) => return simple(Op::IsNull, None),
        SigmaValue::Regex { pattern, flags } => {
            let flags: String = flags.iter().collect();
            let case_sensitive = !flags.contains('i');
            return LoweredValue {
                op: Op::RegexMatch,
                value: Some(Value::Regex { pattern: pattern.clone(), flags }),
                case_sensitive,
                expansions: Vec::new(),
            };
        }
        SigmaValue::Cidr(network) => return simple(Op::Cidr, Some(Value::Cidr { value: network.clone() })),
        SigmaValue::Compare { op, number } => {
            let op = match op {
                CompareOp::Lt => Op::Lt,
                CompareOp::Lte => Op::Le,
                CompareOp::Gt => Op::Gt,
                CompareOp::Gte => Op::Ge,
            };
            return simple(op, Some(Value::Number { value: number.clone() }));
        }
        SigmaValue::FieldRef { field, starts_with, ends_with } => {
            let op = match (starts_with, ends_with) {
                (true, true) => Op::Contains,
                (true, false) => Op::StartsWith,
                (false, true) => Op::EndsWith,
                (false, false) => Op::Eq,
            };
            return simple(op, Some(Value::Column { name: field.clone() }));
        }
        SigmaValue::TimestampPart { part, number } => {
            return simple(Op::Eq, Some(Value::Typed { r#type: (*part).to_owned(), text: number.to_string() }));
        }
        SigmaValue::Number(number) => return simple(Op::Eq, Some(Value::Number { value: number.clone() })),
        SigmaValue::Bool(value) => return simple(Op::Eq, Some(Value::Bool { value: *value })),
        SigmaValue::String { .. } | SigmaValue::Expansion(_) => {}
    }
    let SigmaValue::String { value: original_string, .. } = original else {
        return simple(Op::Eq, None);
    };
    let modifier_op = if modifiers.contains(&Modifier::Contains) {
        Some(Op::Contains)
    } else if modifiers.contains(&Modifier::StartsWith) {
        Some(Op::StartsWith)
    } else if modifiers.contains(&Modifier::EndsWith) {
        Some(Op::EndsWith)
    } else {
        None
    };
    let (op, value) = classify_string(original_string, modifier_op);
    let expansions = transform_expansions(original, transforms);
    LoweredValue { op, value: Some(value), case_sensitive: cased, expansions }
}

/// The operator and literal a string value means: `*x*`, `x*`, `*x` with no other wildcard become
/// contains/starts-with/ends-with of `x`; other wildcards stay a `Wildcard` pattern in Sigma notation.
fn classify_string(value: &SigmaString, modifier_op: Option<Op>) -> (Op, Value) {
    let has_inner_special = {
        let start = usize::from(value.starts_with_any());
        let end = value.parts.len().saturating_sub(usize::from(value.ends_with_any() && value.parts.len() > start));
        value
            .parts
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .any(|part| matches!(part, StringPart::AnyChars | StringPart::OneChar))
    };
    let inner = value.inner_literal().filter(|inner| !inner.is_empty() && !has_inner_special);
    let leading = value.starts_with_any();
    let trailing = value.ends_with_any();
    match (modifier_op, inner) {
        (Some(op), Some(inner)) => {
            let op = match (op, leading, trailing) {
                (Op::StartsWith, true, _) | (Op::EndsWith, _, true) => Op::Contains,
                (Op::StartsWith, false, _) if trailing => Op::StartsWith,
                (Op::EndsWith, _, false) if leading => Op::EndsWith,
                (op, _, _) => op,
            };
            (op, Value::string(inner))
        }
        (None, Some(inner)) => {
            let op = match (leading, trailing) {
                (true, true) => Op::Contains,
                (false, true) => Op::StartsWith,
                (true, false) => Op::EndsWith,
                (false, false) => Op::Eq,
            };
            (op, Value::string(inner))
        }
        (_, None) if !value.has_wildcards() => (modifier_op.unwrap_or(Op::Eq), Value::string(value.plain())),
        (modifier_op, None) => {
            let mut pattern = value.clone();
            if matches!(modifier_op, Some(Op::Contains | Op::EndsWith)) && !pattern.starts_with_any() {
                pattern.parts.insert(0, StringPart::AnyChars);
            }
            if matches!(modifier_op, Some(Op::Contains | Op::StartsWith)) && !pattern.ends_with_any() {
                pattern.parts.push(StringPart::AnyChars);
            }
            (Op::Wildcard, Value::string(pattern.notation()))
        }
    }
}

/// For each transform modifier, the values the chain of transforms produces up to it.
fn transform_expansions(original: &SigmaValue, transforms: &[Modifier]) -> Vec<Vec<Value>> {
    (0..transforms.len())
        .map(|end| {
            let expands = matches!(
                transforms[end],
                Modifier::Base64
                    | Modifier::Base64Offset
                    | Modifier::Windash
                    | Modifier::Wide
                    | Modifier::Utf16
                    | Modifier::Utf16Be
                    | Modifier::Utf16Le
            );
            if !expands {
                return Vec::new();
            }
            let applied = modifiers::apply(&transforms[..=end], std::slice::from_ref(original), true);
            let mut leaves = Vec::new();
            for value in &applied.values {
                flatten(value, &mut leaves);
            }
            leaves
        })
        .collect()
}

fn flatten(value: &SigmaValue, out: &mut Vec<Value>) {
    match value {
        SigmaValue::Expansion(values) => values.iter().for_each(|value| flatten(value, out)),
        SigmaValue::String { value, .. } => {
            let text = if value.has_wildcards() { value.notation() } else { value.plain() };
            out.push(Value::string(text));
        }
        _ => {}
    }
}

fn lower_correlation(document: &SigmaDocument, analysis: &mut Analysis) {
    let Some(correlation) = &document.correlation else { return };
    analysis.group_by = correlation.group_by.iter().map(|field| field.value.clone()).collect();
    if let Some(timespan) = &correlation.timespan {
        analysis.time_window = Some(TimeWindow {
            text: timespan.value.clone(),
            seconds: duration_seconds(&timespan.value),
            span: timespan.span,
        });
    }
    let kind = correlation.correlation_type.as_ref().map(|kind| kind.value);
    for reference in &correlation.rules {
        let mut stage = Stage::new("correlation-rule", reference.span);
        stage.label = Some(reference.value.clone());
        stage.depth = 1;
        analysis.stages.push(stage);
    }
    let mut stage = Stage::new("correlation", correlation.span);
    stage.label = Some(kind.map_or("correlation", CorrelationType::as_str).to_owned());
    stage.aggregation_keys = analysis.group_by.clone();
    // The correlated rules' events are grouped on these fields; their datasets are the other
    // rules', so no dataset is named here.
    stage.keys = correlation
        .group_by
        .iter()
        .map(|field| KeyField {
            field: field.value.clone(),
            dataset: None,
            resolved_field: None,
            origin: FieldOrigin::Event,
            span: field.span,
        })
        .collect();
    match &correlation.condition {
        Some(CorrelationCondition::Threshold { op, count, field, span, .. }) => {
            let ir_op = match op.as_str() {
                "gt" => Op::Gt,
                "gte" => Op::Ge,
                "lt" => Op::Lt,
                "lte" => Op::Le,
                "neq" => Op::Ne,
                _ => Op::Eq,
            };
            let subject = match (kind, field) {
                (Some(CorrelationType::ValueCount), Some(field)) => format!("count_distinct({})", field.value),
                (Some(CorrelationType::ValueSum), Some(field)) => format!("sum({})", field.value),
                (Some(CorrelationType::ValueAvg), Some(field)) => format!("avg({})", field.value),
                (Some(CorrelationType::ValuePercentile), Some(field)) => format!("percentile({})", field.value),
                (Some(CorrelationType::Temporal | CorrelationType::TemporalOrdered), _) => "rules_matched".to_owned(),
                _ => "count".to_owned(),
            };
            stage.thresholds.push(Expr::Predicate(simple_predicate(
                subject,
                ir_op,
                op.as_str(),
                vec![Value::Number { value: count.clone() }],
                *span,
            )));
        }
        Some(CorrelationCondition::Expression { text, expression, span }) => {
            stage.predicate = Some(match expression {
                Some(expression) => condition_shape(expression, &Detection::default()),
                None => Expr::Opaque { text: text.clone(), span: *span },
            });
        }
        None => {}
    }
    analysis.stages.push(stage);
}
