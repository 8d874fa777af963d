//! Canonical indicators: the literal predicates of a rule turned into (canonical field, kind,
//! value) triples that compare across languages (PRODUCT.md §5, `docs/semantics.md`).
//!
//! The engines have already unescaped every value once and resolved join suffixes; this module
//! only normalizes what makes two languages spell the same test differently: the field name (per
//! language and dataset), the case of values under case-insensitive operators, wildcard values,
//! `in` lists and the path-suffix equivalence. Everything that is not a literal (time filters,
//! computed columns, variables, column references, `fieldref`) never becomes an indicator.

use std::fmt;

use detwiki_ir::{Analysis, Expr, Family, FieldOrigin, Op, Predicate, Stage, Value};
use detwiki_knowledge::{Knowledge, path_suffix_equivalence};
use serde::{Deserialize, Serialize};

/// The field used for Sigma keywords and other searches over the whole event.
pub const KEYWORD_FIELD: &str = "keyword";

/// Upper bound on predicate-tree nesting walked here; deeper parts are ignored (engines bound
/// their trees, this is a second guard).
const MAX_DEPTH: usize = 256;

/// What a rule looks for, in the form every language shares. Two rules look for the same thing
/// exactly when their keys are equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndicatorKey {
    /// The canonical field (`process_name`), or the raw field when the taxonomy has none for it
    /// on that dataset (then [`IndicatorKey::canonical`] is false).
    pub field: String,
    /// The operator (`eq`, `contains`, ...), followed by the value transforms that change what
    /// is matched (`contains|base64offset`, `contains|windash`).
    pub kind: String,
    /// The value, case-folded when the operator ignores case.
    pub value: String,
    /// The field is a canonical name; a raw name only compares with the same raw name.
    pub canonical: bool,
}

impl fmt::Display for IndicatorKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {} {}", self.field, self.kind, self.value)
    }
}

/// One indicator where the rule states it: the key plus everything needed to show where it comes
/// from. The raw field and dataset are always kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorOccurrence {
    pub key: IndicatorKey,
    /// Index of the analysis in the rule's analyses.
    pub analysis: usize,
    /// The field as written (`InitiatingProcessCommandLine1`, `Image`).
    pub raw_field: String,
    /// The field on its dataset when the engine resolved a join suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_field: Option<String>,
    /// The dataset the field belongs to (the right-hand table for a joined column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The operator as written (`=~`, `has_any`, `|endswith`).
    pub written_op: String,
    /// The value as the engine read it (unescaped once, not folded).
    pub raw_value: String,
    /// Under an odd number of negations: something the rule suppresses, not something it looks
    /// for. Exclusions are listed but never counted as indicators.
    pub exclusion: bool,
    /// Why the key differs from the predicate as written (`path suffix \msiexec.exe means
    /// process_name eq msiexec.exe`), when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every indicator occurrence of one analysis, exclusions included, in predicate order.
pub fn analysis_indicators(
    knowledge: &Knowledge,
    family: Family,
    analysis_index: usize,
    analysis: &Analysis,
) -> Vec<IndicatorOccurrence> {
    let mut out = Vec::new();
    for stage in &analysis.stages {
        let Some(tree) = &stage.predicate else { continue };
        walk(tree, stage.negated, 0, &mut |predicate, negated| {
            out.extend(predicate_indicators(knowledge, family, analysis_index, analysis, stage, predicate, negated));
        });
    }
    out
}

/// Like [`Expr::for_each_predicate`], with a depth bound and a starting negation.
pub(crate) fn walk<'a>(expr: &'a Expr, negated: bool, depth: usize, visit: &mut impl FnMut(&'a Predicate, bool)) {
    if depth > MAX_DEPTH {
        return;
    }
    match expr {
        Expr::And { items } | Expr::Or { items } => {
            for item in items {
                walk(item, negated, depth + 1, visit);
            }
        }
        Expr::Not { item } => walk(item, !negated, depth + 1, visit),
        Expr::Predicate(predicate) => visit(predicate, negated),
        Expr::Opaque { .. } => {}
    }
}

/// The dataset index a predicate's field belongs to: its own, else its stage's, else the only
/// dataset of the analysis.
pub(crate) fn predicate_dataset(analysis: &Analysis, stage: &Stage, predicate: &Predicate) -> Option<usize> {
    predicate.dataset.or(stage.dataset).or_else(|| (analysis.datasets.len() == 1).then_some(0))
}

/// The canonical field a predicate reads, or `None` (keywords, computed columns, unknown fields).
pub(crate) fn canonical_field_of(
    knowledge: &Knowledge,
    family: Family,
    dataset: Option<&str>,
    predicate: &Predicate,
) -> Option<String> {
    if predicate.origin != FieldOrigin::Event {
        return None;
    }
    let raw = predicate.resolved_field.as_deref().unwrap_or(&predicate.field);
    knowledge.canonical_field(family, dataset.unwrap_or(""), raw).map(str::to_owned)
}

fn predicate_indicators(
    knowledge: &Knowledge,
    family: Family,
    analysis_index: usize,
    analysis: &Analysis,
    stage: &Stage,
    predicate: &Predicate,
    under_not: bool,
) -> Vec<IndicatorOccurrence> {
    if !predicate.is_literal() || predicate.transforms.iter().any(|transform| transform.name == "fieldref") {
        return Vec::new();
    }
    let dataset_index = predicate_dataset(analysis, stage, predicate);
    let dataset = dataset_index.and_then(|index| analysis.datasets.get(index)).map(|dataset| dataset.name.clone());
    let (field, canonical) = if predicate.origin == FieldOrigin::Keyword {
        (KEYWORD_FIELD.to_owned(), true)
    } else {
        match canonical_field_of(knowledge, family, dataset.as_deref(), predicate) {
            Some(field) => (field, true),
            None => (predicate.resolved_field.clone().unwrap_or_else(|| predicate.field.clone()), false),
        }
    };
    let mut exclusion = under_not ^ predicate.negated;
    let mut op = predicate.op;
    match op {
        Op::Ne => {
            op = Op::Eq;
            exclusion = !exclusion;
        }
        Op::In => op = Op::Eq,
        _ => {}
    }
    let transforms: Vec<&str> = predicate
        .transforms
        .iter()
        .map(|transform| transform.name.as_str())
        .filter(|name| !matches!(*name, "cased" | "all"))
        .collect();
    let mut out = Vec::new();
    for value in &predicate.values {
        let Some(raw_value) = value.literal_text() else { continue };
        let (value_op, value_text) = unwildcard(op, value, &raw_value);
        let mut key_field = field.clone();
        let mut key_op = value_op;
        let mut key_value = value_text.to_owned();
        let mut note = None;
        if canonical
            && key_op == Op::EndsWith
            && transforms.is_empty()
            && !predicate.case_sensitive
            && let Some((name_field, file_name)) = path_suffix_equivalence(&field, &key_value)
        {
            note = Some(format!("{field} ends with {key_value:?}: the file name is {file_name:?}"));
            key_field = name_field.to_owned();
            key_op = Op::Eq;
            key_value = file_name.to_owned();
        }
        if folds_case(key_op, value) && !predicate.case_sensitive {
            key_value = key_value.to_lowercase();
        }
        let mut kind = key_op.as_str().to_owned();
        for transform in &transforms {
            kind.push('|');
            kind.push_str(transform);
        }
        out.push(IndicatorOccurrence {
            key: IndicatorKey { field: key_field, kind, value: key_value, canonical },
            analysis: analysis_index,
            raw_field: predicate.field.clone(),
            resolved_field: predicate.resolved_field.clone(),
            dataset: dataset.clone(),
            written_op: predicate.written_op.clone(),
            raw_value,
            exclusion,
            note,
        });
    }
    out
}

/// Only text compared as text is folded: not regular expressions (folding changes `\D` into
/// `\d`), numbers or typed literals.
fn folds_case(op: Op, value: &Value) -> bool {
    matches!(value, Value::String { .. })
        && matches!(op, Op::Eq | Op::Contains | Op::Match | Op::StartsWith | Op::EndsWith | Op::Wildcard)
}

/// A wildcard pattern `*x*`, `x*` or `*x` (no other wildcard, no escape inside) means
/// contains/starts-with/ends-with `x`. Engines that already did this (Sigma) hand over plain
/// operators; this covers the others.
fn unwildcard<'v>(op: Op, value: &Value, text: &'v str) -> (Op, &'v str) {
    if op != Op::Wildcard || !matches!(value, Value::String { .. }) {
        return (op, text);
    }
    let leading = text.starts_with('*');
    let trailing = text.len() > usize::from(leading) && text.ends_with('*');
    let inner = text.get(usize::from(leading)..text.len() - usize::from(trailing)).unwrap_or("");
    if inner.is_empty() || inner.contains(['*', '?', '\\']) {
        return (op, text);
    }
    match (leading, trailing) {
        (true, true) => (Op::Contains, inner),
        (true, false) => (Op::EndsWith, inner),
        (false, true) => (Op::StartsWith, inner),
        (false, false) => (Op::Eq, inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_plain_operators() {
        let value = |text: &str| Value::string(text);
        assert_eq!(unwildcard(Op::Wildcard, &value("*x*"), "*x*"), (Op::Contains, "x"));
        assert_eq!(unwildcard(Op::Wildcard, &value("x*"), "x*"), (Op::StartsWith, "x"));
        assert_eq!(unwildcard(Op::Wildcard, &value("*x"), "*x"), (Op::EndsWith, "x"));
        assert_eq!(unwildcard(Op::Wildcard, &value("a*b"), "a*b"), (Op::Wildcard, "a*b"));
        assert_eq!(unwildcard(Op::Wildcard, &value("*"), "*"), (Op::Wildcard, "*"));
        assert_eq!(unwildcard(Op::Wildcard, &value("**"), "**"), (Op::Wildcard, "**"));
        assert_eq!(unwildcard(Op::Eq, &value("*x*"), "*x*"), (Op::Eq, "*x*"));
    }
}
