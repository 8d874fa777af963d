//! Canonical indicators: the literal predicates of a rule turned into (canonical field, kind,
//! value) triples that compare across languages (PRODUCT.md §5, `docs/semantics.md`).
//!
//! The engines have already unescaped every value once and resolved join suffixes; this module
//! only normalizes what makes two languages spell the same test differently: the field name (per
//! language and dataset), the case of values under case-insensitive operators, wildcard values,
//! `in` lists, the path-suffix equivalence, the value-preserving functions wrapped around a field
//! (`tolower(x)`, `split(x, "\\")[-1]`) and regular expressions that are plain literals. Everything
//! that is not a literal (time filters, computed or aggregated columns, variables, column
//! references, `fieldref`) never becomes an indicator.

use std::fmt;

use detwiki_ir::{Analysis, Expr, Family, FieldFunctionKind, FieldOrigin, Op, Predicate, Stage, Value};
use detwiki_knowledge::{Knowledge, name_field_of_path_field, path_suffix_equivalence};
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
    /// The value, case-folded when the comparison ignores case (never for case-sensitive
    /// comparisons nor for transforms that encode the value, such as `base64offset`, whose output
    /// depends on the case). Only for matching: pages show [`IndicatorOccurrence::value`].
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
    /// The indicator's value in the rule's own spelling: what the key's value is before case
    /// folding (`ADMIN$`, `msiexec.exe` for `\msiexec.exe`). Pages show this one.
    pub value: String,
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
    let (mut field, canonical) = if predicate.origin == FieldOrigin::Keyword {
        (KEYWORD_FIELD.to_owned(), true)
    } else {
        match canonical_field_of(knowledge, family, dataset.as_deref(), predicate) {
            Some(field) => (field, true),
            None => (predicate.resolved_field.clone().unwrap_or_else(|| predicate.field.clone()), false),
        }
    };
    // Value-preserving functions (docs/semantics.md): lower/upper make the comparison ignore case,
    // trim changes nothing a literal can tell, and the path leaf compares the name the path
    // denotes. Engines mark any other function of a column as a computed column.
    let folds_by_function = predicate
        .functions
        .iter()
        .any(|function| matches!(function.kind, FieldFunctionKind::Lower | FieldFunctionKind::Upper));
    let mut function_note = None;
    if predicate.functions.iter().any(|function| function.kind == FieldFunctionKind::PathLeaf) {
        let leaf_field = if canonical { name_field_of_path_field(&field) } else { None };
        match leaf_field {
            Some(name_field) => {
                function_note = Some(format!("the last segment of {field} is {name_field}"));
                field = name_field.to_owned();
            }
            // The leaf of a field that is not a known path (already a name, or an unknown raw
            // field) is that field's own value as far as a literal can tell.
            None => function_note = Some(format!("compared on the last path segment of {field}")),
        }
    }
    let ignores_case = !predicate.case_sensitive || folds_by_function;
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
    // An encoding transform turns `IEX` and `iex` into different byte strings: their values never
    // fold, whatever the comparison's case sensitivity.
    let encodes = transforms.iter().any(|name| is_encoding_transform(name));
    let mut out = Vec::new();
    for value in &predicate.values {
        let Some(raw_value) = value.literal_text() else { continue };
        let mut value_ignores_case = ignores_case;
        let regex_pattern = match value {
            Value::Regex { pattern, .. } | Value::String { value: pattern } if op == Op::RegexMatch => Some(pattern),
            _ => None,
        };
        let (value_op, value_text, string_like) = match regex_pattern.map(|pattern| literal_regex(pattern)) {
            Some(Some(literal)) => {
                value_ignores_case = literal.ignore_case || ignores_case;
                (literal.op, literal.text, true)
            }
            Some(None) => (op, raw_value.clone(), false),
            None => {
                let (value_op, text) = unwildcard(op, value, &raw_value);
                (value_op, text.to_owned(), matches!(value, Value::String { .. }))
            }
        };
        let mut key_field = field.clone();
        let mut key_op = value_op;
        let mut spelling = value_text;
        let mut note = function_note.clone();
        if canonical
            && key_op == Op::EndsWith
            && transforms.is_empty()
            && value_ignores_case
            && let Some((name_field, file_name)) = path_suffix_equivalence(&field, &spelling)
        {
            note = Some(format!("{field} ends with {spelling:?}: the file name is {file_name:?}"));
            key_field = name_field.to_owned();
            key_op = Op::Eq;
            spelling = file_name.to_owned();
        }
        let mut key_value = spelling.clone();
        if string_like && folds_case(key_op) && value_ignores_case && !encodes {
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
            value: spelling,
            exclusion,
            note,
        });
    }
    out
}

/// Transforms whose output bytes depend on the case of the value (`base64offset` of `IEX` and of
/// `iex` are different strings).
fn is_encoding_transform(name: &str) -> bool {
    matches!(name, "base64" | "base64offset" | "wide" | "utf16" | "utf16le" | "utf16be")
}

/// Only text compared as text is folded: not regular expressions (folding changes `\D` into
/// `\d`), numbers or typed literals.
fn folds_case(op: Op) -> bool {
    matches!(op, Op::Eq | Op::Contains | Op::Match | Op::StartsWith | Op::EndsWith | Op::Wildcard)
}

/// A regular expression that only matches one literal text, as the operator it amounts to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LiteralRegex {
    /// `eq` (anchored at both ends), `starts_with` (`^x`), `ends_with` (`x$`), `contains`
    /// (unanchored: a partial match).
    pub op: Op,
    /// The literal with the regex escapes removed (`\.` is `.`).
    pub text: String,
    /// The pattern starts with the inline flag `(?i)`.
    pub ignore_case: bool,
}

/// The regex lowering rule (docs/semantics.md): a pattern made only of literal characters and
/// escaped punctuation, optionally anchored with `^` and `$` and prefixed with `(?i)`, is a plain
/// comparison; anything else (classes, quantifiers, alternation, groups, `\d`) stays a regex.
pub(crate) fn literal_regex(pattern: &str) -> Option<LiteralRegex> {
    let (ignore_case, rest) = match pattern.strip_prefix("(?i)") {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (anchored_start, rest) = match rest.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let mut text = String::new();
    let mut anchored_end = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) if escaped.is_ascii_punctuation() || escaped == ' ' => text.push(escaped),
                // `\d`, `\w`, `\b`, `\n`, `\x41`: classes, assertions or escapes of their own.
                _ => return None,
            },
            '$' if chars.peek().is_none() => anchored_end = true,
            '.' | '^' | '$' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => return None,
            other => text.push(other),
        }
    }
    if text.is_empty() {
        return None;
    }
    let op = match (anchored_start, anchored_end) {
        (true, true) => Op::Eq,
        (true, false) => Op::StartsWith,
        (false, true) => Op::EndsWith,
        (false, false) => Op::Contains,
    };
    Some(LiteralRegex { op, text, ignore_case })
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
    use detwiki_ir::{Dataset, DatasetRole, FieldFunction, Span, Transform};

    use super::*;

    fn predicate(field: &str, op: Op, value: Value) -> Predicate {
        Predicate {
            field: field.to_owned(),
            dataset: None,
            resolved_field: None,
            origin: FieldOrigin::Event,
            functions: Vec::new(),
            op,
            written_op: op.as_str().to_owned(),
            values: vec![value],
            case_sensitive: false,
            all: false,
            transforms: Vec::new(),
            negated: false,
            time_filter: false,
            span: Span::default(),
        }
    }

    /// The positive indicator keys of one predicate on `dataset` (`family`).
    fn keys(family: Family, dataset: &str, predicate: Predicate) -> Vec<String> {
        let mut stage = Stage::new("where", Span::default());
        stage.predicate = Some(Expr::Predicate(predicate));
        let analysis = Analysis {
            datasets: vec![Dataset::new(dataset, DatasetRole::Source, Span::default())],
            stages: vec![stage],
            ..Analysis::default()
        };
        analysis_indicators(Knowledge::bundled(), family, 0, &analysis)
            .into_iter()
            .map(|occurrence| format!("{} [{}]", occurrence.key, occurrence.value))
            .collect()
    }

    #[test]
    fn value_preserving_functions_compare_the_inner_field() {
        let mut lower = predicate("FileName", Op::Eq, Value::string("PsExec.exe"));
        lower.case_sensitive = true;
        lower.functions = vec![FieldFunction { kind: FieldFunctionKind::Lower, text: "tolower".to_owned() }];
        assert_eq!(keys(Family::Kusto, "DeviceProcessEvents", lower), ["process_name eq psexec.exe [PsExec.exe]"]);

        let mut leaf = predicate("FolderPath", Op::Eq, Value::string("svchost.exe"));
        leaf.functions = vec![FieldFunction { kind: FieldFunctionKind::PathLeaf, text: "split".to_owned() }];
        assert_eq!(keys(Family::Kusto, "DeviceProcessEvents", leaf), ["process_name eq svchost.exe [svchost.exe]"]);

        let mut computed = predicate("Step", Op::Eq, Value::string("x"));
        computed.origin = FieldOrigin::Computed { definition: Span::default() };
        assert!(keys(Family::Kusto, "DeviceProcessEvents", computed).is_empty());
        let mut aggregate = predicate("set_ProcessCommandLine", Op::Contains, Value::string("x"));
        aggregate.origin = FieldOrigin::Aggregate { definition: Span::default() };
        assert!(keys(Family::Kusto, "DeviceProcessEvents", aggregate).is_empty());
    }

    #[test]
    fn literal_regexes_become_plain_operators() {
        let regex = |pattern: &str| Value::Regex { pattern: pattern.to_owned(), flags: String::new() };
        let sigma = |pattern: &str| {
            let mut predicate = predicate("CommandLine", Op::RegexMatch, regex(pattern));
            predicate.case_sensitive = true;
            keys(Family::Sigma, "windows/process_creation", predicate)
        };
        assert_eq!(sigma("^whoami\\.exe$"), ["process_command_line eq whoami.exe [whoami.exe]"]);
        assert_eq!(sigma("^Get-"), ["process_command_line starts_with Get- [Get-]"]);
        assert_eq!(sigma("\\.ps1$"), ["process_command_line ends_with .ps1 [.ps1]"]);
        assert_eq!(sigma("(?i)Invoke-Mimikatz"), ["process_command_line contains invoke-mimikatz [Invoke-Mimikatz]"]);
        assert_eq!(sigma("a.b"), ["process_command_line regex_match a.b [a.b]"]);
        assert_eq!(sigma("\\d+"), ["process_command_line regex_match \\d+ [\\d+]"]);
        assert_eq!(literal_regex("a|b"), None);
        assert_eq!(literal_regex(""), None);
    }

    #[test]
    fn encoded_values_keep_their_case() {
        let mut upper = predicate("ScriptBlockText", Op::Contains, Value::string("IEX (["));
        upper.transforms = vec![Transform { name: "base64offset".to_owned(), expansions: Vec::new() }];
        let mut lower = upper.clone();
        lower.values = vec![Value::string("iex ([")];
        let first = keys(Family::Sigma, "windows/ps_script", upper);
        let second = keys(Family::Sigma, "windows/ps_script", lower);
        assert_ne!(first, second);
        assert!(first[0].contains("IEX (["), "{first:?}");
    }

    #[test]
    fn only_a_bare_file_name_suffix_is_a_name() {
        let ends = |value: &str| {
            keys(Family::Sigma, "linux/file_event", predicate("TargetFilename", Op::EndsWith, Value::string(value)))
        };
        assert_eq!(ends("/doas.conf"), ["file_name eq doas.conf [doas.conf]"]);
        assert_eq!(ends("/etc/doas.conf"), ["file_path ends_with /etc/doas.conf [/etc/doas.conf]"]);
    }

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
