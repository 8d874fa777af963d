//! The `detection` section: search identifiers, their items and values (with modifiers applied),
//! and the conditions, placed in the file.
//!
//! The shapes follow pySigma's `SigmaDetection.from_definition`: a map is an AND of items; a list of
//! plain values is one keyword item; a list holding maps is an OR of groups; a plain value is one
//! keyword item.

use detwiki_ir::{Diagnostic, Span};

use crate::condition::{self, Aggregation, ConditionExpr};
use crate::diagnostics;
use crate::modifiers::{self, Modifier, SigmaString, SigmaValue};
use crate::yaml::{NodeStyle, YamlNode, YamlValue};

/// A value with the byte range it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linking {
    And,
    Or,
}

/// A `detection` (or the detection part of a filter).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detection {
    pub span: Span,
    /// Search identifiers in the order they are defined.
    pub identifiers: Vec<SearchIdentifier>,
    pub conditions: Vec<Condition>,
    /// The deprecated `timeframe` inside `detection`.
    pub timeframe: Option<Spanned<String>>,
}

impl Detection {
    pub fn identifier(&self, name: &str) -> Option<&SearchIdentifier> {
        self.identifiers.iter().rev().find(|identifier| identifier.name == name)
    }
}

/// `selection_img: {...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchIdentifier {
    pub name: String,
    pub name_span: Span,
    /// From the identifier's first byte to the end of its value: the slice a stage shows.
    pub span: Span,
    pub group: DetectionGroup,
}

/// A map of items (AND) or a list of groups (OR).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionGroup {
    pub linking: Linking,
    pub entries: Vec<DetectionEntry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DetectionEntry {
    Item(DetectionItem),
    Group(DetectionGroup),
}

/// `Field|mod1|mod2: values`, or keywords (no field).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionItem {
    /// `None` for keywords.
    pub field: Option<String>,
    /// The key as written (`CommandLine|contains|all`); empty for keywords.
    pub key: String,
    pub key_span: Span,
    pub modifiers: Vec<Spanned<Modifier>>,
    /// Values as YAML gives them, wildcards parsed (regex sources kept literal).
    pub original_values: Vec<SigmaValue>,
    /// One span per original value.
    pub value_spans: Vec<Span>,
    /// Values after the modifiers.
    pub values: Vec<SigmaValue>,
    /// `|all`: every value must match.
    pub all: bool,
    /// `|neq`: the item is negated.
    pub negated: bool,
    pub span: Span,
}

impl DetectionItem {
    pub fn has_modifier(&self, modifier: Modifier) -> bool {
        self.modifiers.iter().any(|spanned| spanned.value == modifier)
    }
}

/// One condition of a detection, with its tree placed in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    /// The YAML scalar holding the condition.
    pub span: Span,
    pub expression: Option<ConditionExpr>,
    pub aggregation: Option<Aggregation>,
}

/// Reads a detection map. `skip` names keys that are not search identifiers (`rules` in a filter).
pub fn parse_detection(node: &YamlNode, text: &str, skip: &[&str], out: &mut Vec<Diagnostic>) -> Detection {
    let mut detection = Detection { span: node.span, ..Detection::default() };
    let Some(entries) = node.as_mapping() else {
        out.push(diagnostics::expected_mapping("detection", node.span));
        return detection;
    };
    for entry in entries {
        let Some(key) = entry.key.scalar_text() else {
            out.push(diagnostics::expected_scalar_key(entry.key.span));
            continue;
        };
        match key.as_str() {
            "condition" => detection.conditions = parse_conditions(&entry.value, text, out),
            other if skip.contains(&other) => {}
            _ => {
                // Sigma 1 put the aggregation window here; Sigma 2 has no such key, so it is also a
                // search identifier (as pySigma reads it), and kept as the deprecated time window.
                if key == "timeframe" {
                    detection.timeframe =
                        entry.value.scalar_text().map(|value| Spanned { value, span: entry.value.span });
                }
                let group = parse_group(&entry.value, out, 0);
                // A later duplicate replaces the earlier one, as in PyYAML.
                detection.identifiers.retain(|identifier| identifier.name != key);
                detection.identifiers.push(SearchIdentifier {
                    name: key,
                    name_span: entry.key.span,
                    span: entry.span(),
                    group,
                });
            }
        }
    }
    if detection.conditions.is_empty() {
        out.push(diagnostics::missing_condition(Span::empty(node.span.start)));
    }
    for condition in &detection.conditions {
        if let Some(expression) = &condition.expression {
            check_references(expression, &detection, out);
        }
    }
    detection
}

/// Every identifier a condition names must exist and every selector must match one (pySigma
/// refuses the rule otherwise).
fn check_references(expression: &ConditionExpr, detection: &Detection, out: &mut Vec<Diagnostic>) {
    match expression {
        ConditionExpr::And { items, .. } | ConditionExpr::Or { items, .. } => {
            items.iter().for_each(|item| check_references(item, detection, out));
        }
        ConditionExpr::Not { item, .. } => check_references(item, detection, out),
        ConditionExpr::Identifier { name, span } => {
            if detection.identifier(name).is_none() {
                out.push(diagnostics::undefined_identifier(name, *span));
            }
        }
        ConditionExpr::Selector { quantifier, pattern, span } => {
            let names =
                condition::matching_identifiers(pattern, detection.identifiers.iter().map(|id| id.name.as_str()));
            if names.is_empty() {
                out.push(diagnostics::empty_selector(&format!("{} of {pattern}", quantifier.as_str()), *span));
            }
        }
    }
}

fn parse_conditions(node: &YamlNode, text: &str, out: &mut Vec<Diagnostic>) -> Vec<Condition> {
    let nodes: Vec<&YamlNode> = match &node.value {
        YamlValue::Sequence(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut conditions = Vec::new();
    for node in nodes {
        let Some(condition_text) = node.scalar_text() else {
            out.push(diagnostics::expected_scalar("condition", node.span));
            continue;
        };
        let parsed = condition::parse(&condition_text);
        let base = verbatim_offset(node, &condition_text, text);
        let map = |span: Span| match base {
            Some(base) => span.shift(base),
            None => node.span,
        };
        let mut expression = parsed.expression;
        if let Some(expression) = &mut expression {
            expression.map_spans(&map);
        }
        let mut aggregation = parsed.aggregation;
        if let Some(aggregation) = &mut aggregation {
            aggregation.span = map(aggregation.span);
            for diagnostic in &mut aggregation.diagnostics {
                diagnostic.span = map(diagnostic.span);
            }
        }
        for mut diagnostic in parsed.diagnostics {
            diagnostic.span = map(diagnostic.span);
            for label in &mut diagnostic.labels {
                label.span = map(label.span);
            }
            out.push(diagnostic);
        }
        conditions.push(Condition { text: condition_text, span: node.span, expression, aggregation });
    }
    conditions
}

/// Where the decoded scalar starts in the file, when the file holds it verbatim (plain scalars and
/// quoted ones without escapes): then condition offsets map to file offsets by a shift.
fn verbatim_offset(node: &YamlNode, decoded: &str, text: &str) -> Option<u32> {
    let raw = node.span.slice(text)?;
    let inner = match node.style {
        NodeStyle::Plain => raw,
        NodeStyle::Quoted => raw.get(1..raw.len().checked_sub(1)?)?,
        _ => return None,
    };
    (inner == decoded).then(|| node.span.start + u32::from(node.style == NodeStyle::Quoted))
}

const MAX_GROUP_DEPTH: usize = 64;

fn parse_group(node: &YamlNode, out: &mut Vec<Diagnostic>, depth: usize) -> DetectionGroup {
    let span = node.span;
    if depth > MAX_GROUP_DEPTH {
        out.push(diagnostics::too_deep(span));
        return DetectionGroup { linking: Linking::And, entries: Vec::new(), span };
    }
    match &node.value {
        YamlValue::Mapping(entries) => {
            if entries.is_empty() {
                out.push(diagnostics::empty_detection(span));
            }
            let items = entries
                .iter()
                .map(|entry| {
                    let key = entry.key.scalar_text().unwrap_or_default();
                    DetectionEntry::Item(parse_item(Some((&key, entry.key.span)), &entry.value, entry.span(), out))
                })
                .collect();
            DetectionGroup { linking: Linking::And, entries: items, span }
        }
        YamlValue::Sequence(items) => {
            let all_plain =
                items.iter().all(|item| !matches!(item.value, YamlValue::Sequence(_) | YamlValue::Mapping(_)));
            if all_plain {
                let item = parse_item(None, node, span, out);
                DetectionGroup { linking: Linking::And, entries: vec![DetectionEntry::Item(item)], span }
            } else {
                let groups =
                    items.iter().map(|item| DetectionEntry::Group(parse_group(item, out, depth + 1))).collect();
                DetectionGroup { linking: Linking::Or, entries: groups, span }
            }
        }
        _ => {
            let item = parse_item(None, node, span, out);
            DetectionGroup { linking: Linking::And, entries: vec![DetectionEntry::Item(item)], span }
        }
    }
}

fn parse_item(key: Option<(&str, Span)>, value: &YamlNode, span: Span, out: &mut Vec<Diagnostic>) -> DetectionItem {
    let (field, key_text, key_span, modifiers) = match key {
        None => (None, String::new(), Span::empty(span.start), Vec::new()),
        Some((key_text, key_span)) => {
            let mut pieces = key_text.split('|');
            let field = pieces.next().unwrap_or_default();
            let mut modifiers = Vec::new();
            let mut offset = key_span.start as usize + field.len();
            for name in pieces {
                let name_span = Span::from_usize(offset + 1, offset + 1 + name.len());
                offset += 1 + name.len();
                match Modifier::parse(name) {
                    Some(modifier) => modifiers.push(Spanned { value: modifier, span: name_span }),
                    None => out.push(diagnostics::unknown_modifier(name, name_span)),
                }
            }
            let field = (!field.is_empty()).then(|| field.to_owned());
            (field, key_text.to_owned(), key_span, modifiers)
        }
    };
    let regex = modifiers.iter().any(|modifier| modifier.value == Modifier::Re);
    let value_nodes: Vec<&YamlNode> = match &value.value {
        YamlValue::Sequence(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut original_values = Vec::new();
    let mut value_spans = Vec::new();
    for node in value_nodes {
        let converted = match &node.value {
            YamlValue::Mapping(_) | YamlValue::Sequence(_) => {
                out.push(diagnostics::nested_value(node.span));
                continue;
            }
            _ if regex => SigmaValue::String {
                value: SigmaString::literal(&node.scalar_text().unwrap_or_default()),
                cased: false,
            },
            YamlValue::String(text) => SigmaValue::String { value: SigmaString::parse(text), cased: false },
            YamlValue::Integer(number) => SigmaValue::Number((*number).into()),
            YamlValue::Float(number) => match serde_json::Number::from_f64(*number) {
                Some(number) => SigmaValue::Number(number),
                None => SigmaValue::String { value: SigmaString::literal(&number.to_string()), cased: false },
            },
            YamlValue::Bool(boolean) => SigmaValue::Bool(*boolean),
            YamlValue::Null => SigmaValue::Null,
        };
        original_values.push(converted);
        value_spans.push(node.span);
    }
    let modifier_list: Vec<Modifier> = modifiers.iter().map(|modifier| modifier.value).collect();
    let applied = modifiers::apply(&modifier_list, &original_values, field.is_some());
    let error_span = modifiers.last().map_or(span, |modifier| modifier.span);
    for message in applied.errors {
        out.push(diagnostics::modifier_error(&message, error_span));
    }
    DetectionItem {
        field,
        key: key_text,
        key_span,
        modifiers,
        original_values,
        value_spans,
        values: applied.values,
        all: applied.all,
        negated: applied.negated,
        span,
    }
}
