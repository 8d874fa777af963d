//! The language-neutral analysis of one query: parameters, stages, predicate trees, datasets.
//!
//! Every language crate lowers its tree into these types. The vocabulary is deliberately small
//! (PRODUCT.md §5) so that a KQL `=~`, a Sigma `|endswith` and an Elastic `:` can be compared.

use serde::{Deserialize, Serialize};

use crate::{Diagnostic, Language, SourceMap, Span};

/// Everything a language engine understood of one query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub language: Option<Language>,
    /// The part of the query text this analysis covers (a text may hold several queries).
    pub span: Span,
    /// `let` bindings, macros, lists: shown before the stages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    /// Columns the query outputs (project, summarize outputs, table, outcome).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_fields: Vec<String>,
    /// Summarize/stats `by` keys; join keys when there is no aggregation; Sigma correlation
    /// `group-by`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// Correlation span (EQL `maxspan`, Sigma correlation `timespan`, YARA-L `over`). Lookbacks of
    /// individual datasets are on [`Dataset::time_window`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_window: Option<TimeWindow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The macro whose body a predicate (or any node) came from, by its span.
    ///
    /// Source-map contract for macros (SPL): an engine that expands macros gives every node that
    /// comes from a macro body the span of the call as written in the rule, and lists each call
    /// as a [`ParameterKind::Macro`] parameter with that span (outermost call first). A node
    /// whose span equals a call's span therefore came from that macro; nothing else can have
    /// that span, since the call's text is not itself a predicate.
    pub fn macro_of(&self, span: Span) -> Option<&str> {
        self.parameters
            .iter()
            .find(|parameter| parameter.kind == ParameterKind::Macro && parameter.span == span)
            .map(|parameter| parameter.name.as_str())
    }

    /// Rewrites every span from decoded-query offsets to file offsets. Language engines work on
    /// the decoded text; callers that hold the file call this once before showing anything.
    pub fn map_spans(&mut self, map: &SourceMap) {
        let mut visit = |span: &mut Span| *span = map.span_to_file(*span);
        self.visit_spans(&mut visit);
    }

    /// Calls `visit` on every span in the analysis.
    pub fn visit_spans(&mut self, visit: &mut impl FnMut(&mut Span)) {
        visit(&mut self.span);
        for parameter in &mut self.parameters {
            visit(&mut parameter.span);
            for value in &mut parameter.values {
                value.visit_spans(visit);
            }
        }
        for stage in &mut self.stages {
            visit(&mut stage.span);
            if let Some(predicate) = &mut stage.predicate {
                predicate.visit_spans(visit);
            }
            for threshold in &mut stage.thresholds {
                threshold.visit_spans(visit);
            }
            for key in &mut stage.keys {
                visit(&mut key.span);
                key.origin.visit_spans(visit);
            }
        }
        for dataset in &mut self.datasets {
            visit(&mut dataset.span);
            if let Some(window) = &mut dataset.time_window {
                visit(&mut window.span);
            }
        }
        if let Some(window) = &mut self.time_window {
            visit(&mut window.span);
        }
        for diagnostic in &mut self.diagnostics {
            visit(&mut diagnostic.span);
            for label in &mut diagnostic.labels {
                visit(&mut label.span);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    Scalar,
    List,
    Tabular,
    Function,
    Macro,
    QueryParameter,
}

/// A named value defined once and used by the query (`let`, a Splunk macro, a reference list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub kind: ParameterKind,
    /// Literal values when the binding is a scalar or a list of literals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
    pub span: Span,
}

/// One step of the query: a pipeline operator, a sequence step, a Sigma condition term, a YARA-L
/// section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The operator or step kind as the language names it: `source`, `where`, `join`, `summarize`,
    /// `selection`, `filter`, `sequence-step`, `events`, ...
    pub kind: String,
    /// What the stage is called in the rule, when it has a name ("selection_img",
    /// "1 of selection_ip_*: selection_ip_1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The exact source slice of the stage.
    pub span: Span,
    /// Index into [`Analysis::datasets`] of the dataset the stage reads or filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<usize>,
    /// Nesting depth: 0 for the top-level pipeline, 1 inside a join/union/let body, ...
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
    /// True when the whole stage is used as an exclusion (a Sigma filter under `not`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<Expr>,
    /// Aggregation (summarize/stats) keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregation_keys: Vec<String>,
    /// Conditions on aggregates after an aggregation (`where Count >= 50`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Expr>,
    /// Columns the stage matches events on without comparing them to a value: the keys of a
    /// join or lookup, one per side. The events of each side must carry their key, so event fit
    /// counts them as fields read (a join on the parent's creation time needs that field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyField>,
}

/// A column a stage matches on (a join key), attributed like a predicate's field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyField {
    /// The column as written (`$right.` and `$left.` removed).
    pub field: String,
    /// Index into [`Analysis::datasets`] of the dataset the column belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<usize>,
    /// The field name on its dataset, when it differs from `field` (a join suffix or a rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_field: Option<String>,
    #[serde(default, skip_serializing_if = "is_event")]
    pub origin: FieldOrigin,
    pub span: Span,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl Stage {
    pub fn new(kind: impl Into<String>, span: Span) -> Self {
        Self {
            kind: kind.into(),
            label: None,
            span,
            dataset: None,
            depth: 0,
            negated: false,
            predicate: None,
            aggregation_keys: Vec::new(),
            thresholds: Vec::new(),
            keys: Vec::new(),
        }
    }
}

/// A predicate tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Expr {
    And {
        items: Vec<Expr>,
    },
    Or {
        items: Vec<Expr>,
    },
    Not {
        item: Box<Expr>,
    },
    Predicate(Predicate),
    /// Something the engine keeps but cannot express as predicates (a function call used as a
    /// condition, a sub-query). Never an indicator.
    Opaque {
        text: String,
        span: Span,
    },
}

impl Expr {
    /// Calls `visit` on every predicate of the tree, with whether it sits under an odd number of
    /// `not`s.
    pub fn for_each_predicate<'a>(&'a self, visit: &mut impl FnMut(&'a Predicate, bool)) {
        self.walk(false, visit);
    }

    fn walk<'a>(&'a self, negated: bool, visit: &mut impl FnMut(&'a Predicate, bool)) {
        match self {
            Expr::And { items } | Expr::Or { items } => items.iter().for_each(|item| item.walk(negated, visit)),
            Expr::Not { item } => item.walk(!negated, visit),
            Expr::Predicate(predicate) => visit(predicate, negated),
            Expr::Opaque { .. } => {}
        }
    }

    /// The top-level conjuncts of the tree (the tree itself when it is not an `and`).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::And { items } => items.iter().flat_map(Expr::conjuncts).collect(),
            other => vec![other],
        }
    }

    /// Conjuncts at the top of the tree that exclude events: `not (...)` or a negated
    /// predicate (`!has`, `!in`, `!=`, `!endswith`). These are what the rule suppresses.
    pub fn exclusions(&self) -> Vec<&Expr> {
        self.conjuncts()
            .into_iter()
            .filter(|conjunct| match conjunct {
                Expr::Not { .. } => true,
                Expr::Predicate(predicate) => predicate.negated,
                _ => false,
            })
            .collect()
    }

    fn visit_spans(&mut self, visit: &mut impl FnMut(&mut Span)) {
        match self {
            Expr::And { items } | Expr::Or { items } => items.iter_mut().for_each(|item| item.visit_spans(visit)),
            Expr::Not { item } => item.visit_spans(visit),
            Expr::Predicate(predicate) => {
                visit(&mut predicate.span);
                predicate.origin.visit_spans(visit);
                for value in &mut predicate.values {
                    value.visit_spans(visit);
                }
            }
            Expr::Opaque { span, .. } => visit(span),
        }
    }
}

/// The operator vocabulary shared by every language (PRODUCT.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    In,
    Contains,
    /// Token or term match, such as KQL `has`.
    Match,
    StartsWith,
    EndsWith,
    Wildcard,
    RegexMatch,
    Cidr,
    Gt,
    Ge,
    Lt,
    Le,
    Between,
    IsNull,
    IsNotNull,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::Contains => "contains",
            Op::Match => "match",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Wildcard => "wildcard",
            Op::RegexMatch => "regex_match",
            Op::Cidr => "cidr",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Between => "between",
            Op::IsNull => "is_null",
            Op::IsNotNull => "is_not_null",
        }
    }
}

/// Where a column that a predicate or an output reads comes from (the column-flow origin).
///
/// Every engine fills it: KQL `extend`/`summarize`, ES|QL `EVAL`/`STATS`, SPL `eval`/`rex`/`stats`,
/// YARA-L `outcome`. Only [`FieldOrigin::Event`] columns can become indicators (besides keywords);
/// the event field's table is the predicate's dataset and its name `resolved_field` or `field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldOrigin {
    /// A field of the event the dataset holds.
    #[default]
    Event,
    /// A column the query computed (`extend`, `project x = ...`, `parse`, `eval`, `rex`), with the
    /// span of its definition.
    Computed { definition: Span },
    /// An aggregate (`count_`, `set_X`, `dcount_x`, `stats count`, an outcome aggregate), with the
    /// span of the aggregation that made it.
    Aggregate { definition: Span },
    /// No field: a keyword search over the whole event (Sigma keywords, bare search terms).
    Keyword,
}

impl FieldOrigin {
    /// True for columns the query made itself (computed or aggregated): never indicators.
    pub fn is_derived(self) -> bool {
        matches!(self, FieldOrigin::Computed { .. } | FieldOrigin::Aggregate { .. })
    }

    fn visit_spans(&mut self, visit: &mut impl FnMut(&mut Span)) {
        if let FieldOrigin::Computed { definition } | FieldOrigin::Aggregate { definition } = self {
            visit(definition);
        }
    }
}

/// What a function wrapped around a compared field does to its value, in an engine-neutral
/// vocabulary. Engines name the function; the catalog alone decides which kinds preserve the
/// value (docs/semantics.md, "Value-preserving functions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldFunctionKind {
    /// `tolower(x)`, `lower(x)`, `strings.to_lower(x)`.
    Lower,
    /// `toupper(x)`, `upper(x)`, `strings.to_upper(x)`.
    Upper,
    /// `trim(x)`, `trim(" ", x)`, `strings.trim(x)`.
    Trim,
    /// The last segment of a path: `split(x, "\\")[-1]`, `mvindex(split(x, "\\"), -1)`.
    PathLeaf,
}

/// A function applied to the field before the comparison (`tolower(FileName) == "a.exe"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldFunction {
    pub kind: FieldFunctionKind,
    /// The call as written.
    pub text: String,
}

/// A Sigma-style value transform kept on the predicate (`base64offset`, `windash`, `wide`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    pub name: String,
    /// The values the transform produces, OR-linked, when it expands (base64offset's three
    /// encodings, windash's dash variants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expansions: Vec<Value>,
}

/// `field op values`, with everything needed to compare it across languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// The field as written (`InitiatingProcessCommandLine1`, `Image`, `process.name`).
    pub field: String,
    /// Index into [`Analysis::datasets`] of the dataset the field belongs to. For a joined
    /// column (`X1`), the right-hand table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<usize>,
    /// The field name on its dataset, when it differs from `field` (`InitiatingProcessCommandLine`
    /// for `InitiatingProcessCommandLine1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_field: Option<String>,
    #[serde(default, skip_serializing_if = "is_event")]
    pub origin: FieldOrigin,
    /// Functions wrapped around the field, outermost first (`tolower(trim(x))`): the field is the
    /// innermost column. Empty for a bare column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FieldFunction>,
    pub op: Op,
    /// The operator as written (`=~`, `has_any`, `|endswith`).
    pub written_op: String,
    pub values: Vec<Value>,
    pub case_sensitive: bool,
    /// For list operators: every value must match (`has_all`, Sigma `|all`) rather than any.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    /// The operator itself is negated (`!has`, `!in`, `!=`, `!endswith`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
    /// A filter on a time column (`Timestamp > ago(1h)`): reported as the dataset's time window,
    /// never as an indicator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub time_filter: bool,
    pub span: Span,
}

fn is_event(origin: &FieldOrigin) -> bool {
    *origin == FieldOrigin::Event
}

impl Predicate {
    /// A predicate over an event field whose values are all literals: only these become indicators.
    pub fn is_literal(&self) -> bool {
        !self.origin.is_derived()
            && !self.time_filter
            && !self.values.is_empty()
            && self.values.iter().all(Value::is_literal)
    }
}

/// A value on the right of a predicate or in a parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// Unescaped exactly once; never trimmed.
    String {
        value: String,
    },
    Number {
        value: serde_json::Number,
    },
    Bool {
        value: bool,
    },
    Null,
    Regex {
        pattern: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        flags: String,
    },
    Cidr {
        value: String,
    },
    /// A typed literal kept as written: timespan `1h`, datetime, guid, `dynamic({...})`.
    Typed {
        r#type: String,
        text: String,
    },
    /// A name that could not be resolved to a literal: shown, never an indicator.
    Variable {
        name: String,
        span: Span,
    },
    /// Another column (column-to-column comparison).
    Column {
        name: String,
    },
    /// A function call or any other computed expression.
    Call {
        text: String,
        span: Span,
    },
}

impl Value {
    pub fn string(value: impl Into<String>) -> Value {
        Value::String { value: value.into() }
    }

    pub fn is_literal(&self) -> bool {
        !matches!(self, Value::Variable { .. } | Value::Column { .. } | Value::Call { .. })
    }

    /// The value as text for display and indexing (`None` for non-literals).
    pub fn literal_text(&self) -> Option<String> {
        Some(match self {
            Value::String { value } => value.clone(),
            Value::Number { value } => value.to_string(),
            Value::Bool { value } => value.to_string(),
            Value::Null => "null".to_owned(),
            Value::Regex { pattern, .. } => pattern.clone(),
            Value::Cidr { value } => value.clone(),
            Value::Typed { text, .. } => text.clone(),
            Value::Variable { .. } | Value::Column { .. } | Value::Call { .. } => return None,
        })
    }

    fn visit_spans(&mut self, visit: &mut impl FnMut(&mut Span)) {
        if let Value::Variable { span, .. } | Value::Call { span, .. } = self {
            visit(span);
        }
    }
}

/// The role a dataset plays in a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetRole {
    /// The table or log source the query starts from.
    Source,
    Join,
    UnionMember,
    Lookup,
    /// A table read inside a `let` binding.
    LetBound,
    /// A function or ASIM parser used as a table.
    Function,
    /// A step of a sequence or a multi-event rule.
    SequenceStep,
    /// A data model or other schema-level source (Splunk `datamodel=`).
    DataModel,
}

impl DatasetRole {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetRole::Source => "source",
            DatasetRole::Join => "join",
            DatasetRole::UnionMember => "union member",
            DatasetRole::Lookup => "lookup",
            DatasetRole::LetBound => "let-bound",
            DatasetRole::Function => "function",
            DatasetRole::SequenceStep => "sequence step",
            DatasetRole::DataModel => "data model",
        }
    }
}

/// A dataset the query reads: a table, a log source, an index pattern, a data model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// The name as written (`DeviceNetworkEvents`, `windows/process_creation`, `logs-endpoint.*`).
    pub name: String,
    pub role: DatasetRole,
    pub span: Span,
    /// Structured attributes when the name is composite (Sigma logsource `product`, `category`,
    /// `service`; Elastic event category; Splunk sourcetype).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Lookback from time filters on this dataset (`Timestamp > ago(1h)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_window: Option<TimeWindow>,
}

impl Dataset {
    pub fn new(name: impl Into<String>, role: DatasetRole, span: Span) -> Self {
        Self { name: name.into(), role, span, attributes: Default::default(), time_window: None }
    }
}

/// A duration as written, with its length in seconds when it can be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    pub span: Span,
}

/// Parses durations such as `1h`, `7d`, `30m`, `15s`, `2w`, `1.5h`, `100ms` (KQL timespans, Sigma
/// timespans, EQL maxspan, YARA-L `over`) into seconds, rounding sub-second parts down.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" | "millisecond" | "milliseconds" => 0.001,
        "s" | "sec" | "second" | "seconds" => 1.0,
        "m" | "min" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        "y" => 31_536_000.0,
        _ => return None,
    };
    Some((number * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn predicate(field: &str, negated: bool) -> Expr {
        Expr::Predicate(Predicate {
            field: field.to_owned(),
            dataset: None,
            resolved_field: None,
            origin: FieldOrigin::Event,
            functions: Vec::new(),
            op: Op::Eq,
            written_op: "==".to_owned(),
            values: vec![Value::string("x")],
            case_sensitive: true,
            all: false,
            transforms: Vec::new(),
            negated,
            time_filter: false,
            span: Span::default(),
        })
    }

    #[test]
    fn exclusions_are_top_level_negations() {
        let tree = Expr::And {
            items: vec![
                predicate("a", false),
                predicate("b", true),
                Expr::Not { item: Box::new(predicate("c", false)) },
                Expr::Or { items: vec![predicate("d", true)] },
            ],
        };
        assert_eq!(tree.exclusions().len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("1h"), Some(3600));
        assert_eq!(duration_seconds("7d"), Some(604_800));
        assert_eq!(duration_seconds("15m"), Some(900));
        assert_eq!(duration_seconds("abc"), None);
    }

    #[test]
    fn json_shape_of_values_is_tagged() {
        let json = serde_json::to_string(&Value::string("a\\b")).unwrap();
        assert_eq!(json, r#"{"kind":"string","value":"a\\b"}"#);
    }
}
