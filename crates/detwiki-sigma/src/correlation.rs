//! Correlation rules (Sigma 2.0 and later): `type`, `rules`, `aliases`, `group-by`, `timespan`,
//! `condition`, `generate`.

use detwiki_ir::{Diagnostic, Span};

use crate::condition::{self, ConditionExpr};
use crate::detection::Spanned;
use crate::diagnostics;
use crate::modifiers::CompareOp;
use crate::yaml::{YamlNode, YamlValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

impl CorrelationType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "event_count" => CorrelationType::EventCount,
            "value_count" => CorrelationType::ValueCount,
            "temporal" => CorrelationType::Temporal,
            "temporal_ordered" => CorrelationType::TemporalOrdered,
            "value_sum" => CorrelationType::ValueSum,
            "value_avg" => CorrelationType::ValueAvg,
            "value_percentile" => CorrelationType::ValuePercentile,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
            CorrelationType::ValuePercentile => "value_percentile",
        }
    }

    /// Types whose condition names the field it aggregates.
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueCount
                | CorrelationType::ValueSum
                | CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
        )
    }
}

/// `aliases: name: {rule: field, ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: Spanned<String>,
    /// Rule reference and the field it maps to.
    pub mapping: Vec<(Spanned<String>, Spanned<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CorrelationCondition {
    /// `condition: {gte: 100}` (with `field` for value types). `implicit` when the rule had no
    /// condition and the specification's default (`gte` the number of rules, for temporal types)
    /// applies.
    Threshold { op: ThresholdOp, count: serde_json::Number, field: Option<Spanned<String>>, span: Span, implicit: bool },
    /// An extended temporal condition (`rule_a and rule_b`).
    Expression { text: String, expression: Option<ConditionExpr>, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdOp {
    Compare(CompareOp),
    Eq,
    Neq,
}

impl ThresholdOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdOp::Compare(op) => op.as_str(),
            ThresholdOp::Eq => "eq",
            ThresholdOp::Neq => "neq",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub span: Span,
    pub correlation_type: Option<Spanned<CorrelationType>>,
    /// Referenced rules by id or name, in order (the order matters for `temporal_ordered`).
    pub rules: Vec<Spanned<String>>,
    pub aliases: Vec<Alias>,
    pub group_by: Vec<Spanned<String>>,
    pub timespan: Option<Spanned<String>>,
    pub condition: Option<CorrelationCondition>,
    pub generate: Option<bool>,
}

/// Reads a scalar or a list of scalars.
pub(crate) fn string_list(node: &YamlNode) -> Vec<Spanned<String>> {
    match &node.value {
        YamlValue::Sequence(items) => {
            items.iter().filter_map(|item| item.scalar_text().map(|value| Spanned { value, span: item.span })).collect()
        }
        YamlValue::Null => Vec::new(),
        _ => node.scalar_text().map(|value| vec![Spanned { value, span: node.span }]).unwrap_or_default(),
    }
}

pub fn parse_correlation(node: &YamlNode, out: &mut Vec<Diagnostic>) -> Correlation {
    let mut correlation = Correlation {
        span: node.span,
        correlation_type: None,
        rules: Vec::new(),
        aliases: Vec::new(),
        group_by: Vec::new(),
        timespan: None,
        condition: None,
        generate: None,
    };
    if node.as_mapping().is_none() {
        out.push(diagnostics::expected_mapping("correlation", node.span));
        return correlation;
    }
    match node.get("type") {
        Some(value) => match value.as_str().and_then(CorrelationType::parse) {
            Some(kind) => correlation.correlation_type = Some(Spanned { value: kind, span: value.span }),
            None => {
                out.push(diagnostics::unknown_correlation_type(&value.scalar_text().unwrap_or_default(), value.span))
            }
        },
        None => out.push(diagnostics::missing_field("correlation type", Span::empty(node.span.start))),
    }
    match node.get("rules") {
        Some(rules) => correlation.rules = string_list(rules),
        None => out.push(diagnostics::missing_field("correlation rules", Span::empty(node.span.start))),
    }
    if let Some(group_by) = node.get("group-by") {
        correlation.group_by = string_list(group_by);
    }
    let timespan = node.get("timespan").or_else(|| node.get("timeframe"));
    match timespan {
        Some(value) => {
            let text = value.scalar_text().unwrap_or_default();
            if detwiki_ir::duration_seconds(&text).is_none() {
                out.push(diagnostics::bad_timespan(&text, value.span));
            }
            correlation.timespan = Some(Spanned { value: text, span: value.span });
        }
        None => out.push(diagnostics::missing_field("correlation timespan", Span::empty(node.span.start))),
    }
    if let Some(generate) = node.get("generate") {
        correlation.generate = match generate.value {
            YamlValue::Bool(value) => Some(value),
            _ => None,
        };
    }
    if let Some(aliases) = node.get("aliases").and_then(YamlNode::as_mapping) {
        for entry in aliases {
            let name = Spanned { value: entry.key.scalar_text().unwrap_or_default(), span: entry.key.span };
            let mapping = entry
                .value
                .as_mapping()
                .unwrap_or_default()
                .iter()
                .map(|pair| {
                    (
                        Spanned { value: pair.key.scalar_text().unwrap_or_default(), span: pair.key.span },
                        Spanned { value: pair.value.scalar_text().unwrap_or_default(), span: pair.value.span },
                    )
                })
                .collect();
            correlation.aliases.push(Alias { name, mapping });
        }
    }
    correlation.condition = node.get("condition").and_then(|condition| parse_condition(condition, out));
    let kind = correlation.correlation_type.as_ref().map(|kind| kind.value);
    if correlation.condition.is_none() {
        if matches!(kind, Some(CorrelationType::Temporal | CorrelationType::TemporalOrdered)) {
            let count = serde_json::Number::from(correlation.rules.len());
            correlation.condition = Some(CorrelationCondition::Threshold {
                op: ThresholdOp::Compare(CompareOp::Gte),
                count,
                field: None,
                span: Span::empty(node.span.start),
                implicit: true,
            });
        } else if kind.is_some() {
            out.push(diagnostics::missing_field("correlation condition", Span::empty(node.span.start)));
        }
    }
    if let (Some(kind), Some(CorrelationCondition::Threshold { field: None, span, .. })) =
        (kind, &correlation.condition)
        && kind.needs_field()
    {
        out.push(diagnostics::missing_field("condition field", *span));
    }
    correlation
}

fn parse_condition(node: &YamlNode, out: &mut Vec<Diagnostic>) -> Option<CorrelationCondition> {
    if let Some(text) = node.as_str() {
        let parsed = condition::parse(text);
        return Some(CorrelationCondition::Expression {
            text: text.to_owned(),
            expression: parsed.expression,
            span: node.span,
        });
    }
    let entries = node.as_mapping()?;
    let mut threshold: Option<(ThresholdOp, serde_json::Number)> = None;
    let mut field = None;
    for entry in entries {
        let key = entry.key.scalar_text().unwrap_or_default();
        let op = match key.as_str() {
            "gt" => ThresholdOp::Compare(CompareOp::Gt),
            "gte" => ThresholdOp::Compare(CompareOp::Gte),
            "lt" => ThresholdOp::Compare(CompareOp::Lt),
            "lte" => ThresholdOp::Compare(CompareOp::Lte),
            "eq" => ThresholdOp::Eq,
            "neq" => ThresholdOp::Neq,
            "field" => {
                field = entry.value.scalar_text().map(|value| Spanned { value, span: entry.value.span });
                continue;
            }
            _ => {
                out.push(diagnostics::unknown_condition_key(&key, entry.key.span));
                continue;
            }
        };
        let number = match &entry.value.value {
            YamlValue::Integer(number) => Some(serde_json::Number::from(*number)),
            YamlValue::Float(number) => serde_json::Number::from_f64(*number),
            _ => None,
        };
        match number {
            Some(number) => threshold = Some((op, number)),
            None => out.push(diagnostics::expected_number(entry.value.span)),
        }
    }
    let Some((op, count)) = threshold else {
        out.push(diagnostics::missing_field("condition operator", node.span));
        return None;
    };
    Some(CorrelationCondition::Threshold { op, count, field, span: node.span, implicit: false })
}
