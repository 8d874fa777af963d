//! Tree to IR.
//!
//! - Every event variable (`$e` in `$e.principal.ip`) is one dataset, named by the event type it
//!   is narrowed to (`metadata.event_type`), with the other narrowing fields
//!   (`metadata.product_event_type`, `metadata.log_type`, `metadata.product_name`,
//!   `metadata.vendor_name`) as attributes. A variable narrowed by none of them reads any UDM
//!   event and is named [`ANY_UDM_EVENT`].
//! - Each event variable's statements are one `events` stage on its dataset; statements that tie
//!   two event variables (`$a.x = $b.y`, or a placeholder both bind) are `join` stages.
//! - `match` gives the group-by keys and the correlation window; `outcome` the output columns
//!   (computed, or aggregates when the rule has a `match`); `condition` the thresholds (`#e > 5`,
//!   `$risk > 50`) and the absences (`!$f` negates `$f`'s stage).
//!
//! Predicates keep the field as written (`$e.target.process.file.full_path`) and the UDM path on
//! the dataset as `resolved_field` (`target.process.file.full_path`): the knowledge maps the
//! latter to canonical fields per event type.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr as IrExpr, FieldFunction, FieldFunctionKind, FieldOrigin, Op, Parameter,
    ParameterKind, Predicate, Span, Stage, TimeWindow, Value, duration_seconds,
};

use crate::ast::{BinaryOp, Expr, ExprKind, ListMatch, RuleDefinition, SectionBody, SectionKind, path_text};
use crate::diagnostics;
use crate::parser::Parsed;

/// The name of the dataset of an event variable narrowed by no event type, log type or product.
pub const ANY_UDM_EVENT: &str = "any UDM event";

/// UDM fields that select which events a variable reads, with the dataset attribute each fills.
const NARROWING_FIELDS: &[(&str, &str)] = &[
    ("metadata.event_type", "event_type"),
    ("metadata.product_event_type", "product_event_type"),
    ("metadata.log_type", "log_type"),
    ("metadata.product_name", "product_name"),
    ("metadata.vendor_name", "vendor_name"),
];

/// Outcome functions that aggregate over the events of a match window.
const AGGREGATES: &[&str] =
    &["max", "min", "sum", "avg", "count", "count_distinct", "array", "array_distinct", "stddev", "earliest", "latest"];

pub(crate) fn lower(text: &str, parsed: &Parsed) -> Vec<Analysis> {
    let mut analyses: Vec<Analysis> = parsed.file.rules.iter().map(|rule| lower_rule(text, rule)).collect();
    if analyses.is_empty() {
        let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        analyses.push(Analysis { span: Span::new(0, end), ..Analysis::default() });
    }
    // Each diagnostic goes to the rule it falls in, or to the first analysis.
    for diagnostic in &parsed.diagnostics {
        let index = analyses.iter().position(|analysis| analysis.span.contains(diagnostic.span)).unwrap_or(0);
        if let Some(analysis) = analyses.get_mut(index) {
            analysis.diagnostics.push(diagnostic.clone());
        }
    }
    analyses
}

/// The event variables a statement mentions with a path, in order of appearance.
fn event_variables_of(expr: &Expr) -> Vec<String> {
    let mut variables: Vec<String> = Vec::new();
    expr.walk(&mut |node| {
        if let ExprKind::Path { variable, steps } = &node.kind
            && !steps.is_empty()
            && !variables.contains(variable)
        {
            variables.push(variable.clone());
        }
    });
    variables
}

/// Bare variables (placeholders) a statement mentions.
fn placeholders_of(expr: &Expr) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    expr.walk(&mut |node| {
        if let ExprKind::Path { variable, steps } = &node.kind
            && steps.is_empty()
            && !names.contains(variable)
        {
            names.push(variable.clone());
        }
    });
    names
}

struct Lowering<'a> {
    text: &'a str,
    /// Event variable -> dataset index.
    datasets: BTreeMap<String, usize>,
}

fn lower_rule(text: &str, rule: &RuleDefinition) -> Analysis {
    let mut analysis = Analysis { span: rule.span, ..Analysis::default() };
    let statements: &[Expr] = match rule.section(SectionKind::Events).map(|section| &section.body) {
        Some(SectionBody::Statements(statements)) => statements,
        _ => &[],
    };

    // Event variables in order of first use, each with its statements.
    let mut order: Vec<String> = Vec::new();
    let mut own: BTreeMap<String, Vec<&Expr>> = BTreeMap::new();
    let mut joins: Vec<&Expr> = Vec::new();
    let mut loose: Vec<&Expr> = Vec::new();
    for statement in statements {
        let variables = event_variables_of(statement);
        for variable in &variables {
            if !order.contains(variable) {
                order.push(variable.clone());
            }
        }
        match variables.as_slice() {
            [] => loose.push(statement),
            [single] => own.entry(single.clone()).or_default().push(statement),
            _ => joins.push(statement),
        }
    }

    let log_source = sigma_log_source(rule);
    let mut lowering = Lowering { text, datasets: BTreeMap::new() };
    for variable in &order {
        let span = own
            .get(variable)
            .and_then(|statements| statements.first())
            .or_else(|| joins.first())
            .map_or(rule.span, |statement| statement.span);
        let mut dataset = narrowed_dataset(variable, own.get(variable).map_or(&[][..], Vec::as_slice), span);
        dataset.attributes.extend(log_source.iter().cloned());
        lowering.datasets.insert(variable.clone(), analysis.datasets.len());
        analysis.datasets.push(dataset);
    }

    // Condition first: it says which event variables must be absent.
    let mut absent: BTreeSet<String> = BTreeSet::new();
    let mut condition_stage = None;
    if let Some(section) = rule.section(SectionKind::Condition)
        && let SectionBody::Condition(condition) = &section.body
    {
        collect_absent(condition, false, &mut absent);
        condition_stage = Some((Stage::new("condition", section.span), condition));
    }

    for variable in &order {
        let Some(statements) = own.get(variable) else { continue };
        let span = cover(statements.iter().map(|statement| statement.span));
        let mut stage = Stage::new("events", span);
        stage.label = Some(format!("${variable}"));
        stage.dataset = lowering.datasets.get(variable).copied();
        stage.negated = absent.contains(variable);
        stage.predicate = Some(conjunction(statements.iter().map(|statement| lowering.expr(statement, 0)).collect()));
        analysis.stages.push(stage);
    }
    if !loose.is_empty() {
        let mut stage = Stage::new("events", cover(loose.iter().map(|statement| statement.span)));
        stage.label = Some("placeholders".to_owned());
        stage.predicate = Some(conjunction(loose.iter().map(|statement| lowering.expr(statement, 0)).collect()));
        analysis.stages.push(stage);
    }
    for statement in &joins {
        let mut stage = Stage::new("join", statement.span);
        stage.label = Some(
            event_variables_of(statement).iter().map(|variable| format!("${variable}")).collect::<Vec<_>>().join(" ~ "),
        );
        stage.predicate = Some(lowering.expr(statement, 0));
        analysis.stages.push(stage);
    }
    // A placeholder bound by two event variables joins them.
    let mut bound_by: BTreeMap<String, Vec<(String, &Expr)>> = BTreeMap::new();
    for (variable, statements) in &own {
        for statement in statements {
            for placeholder in placeholders_of(statement) {
                bound_by.entry(placeholder).or_default().push((variable.clone(), statement));
            }
        }
    }
    for (placeholder, bindings) in &bound_by {
        let variables: BTreeSet<&str> = bindings.iter().map(|(variable, _)| variable.as_str()).collect();
        if variables.len() < 2 {
            continue;
        }
        let mut stage = Stage::new("join", cover(bindings.iter().map(|(_, statement)| statement.span)));
        stage.label = Some(format!("${placeholder}"));
        stage.aggregation_keys = vec![format!("${placeholder}")];
        analysis.stages.push(stage);
    }

    // match: group-by keys and the correlation window.
    let has_match = rule.section(SectionKind::Match).is_some();
    if let Some(section) = rule.section(SectionKind::Match)
        && let SectionBody::Match(matching) = &section.body
    {
        let keys: Vec<String> = matching.variables.iter().map(|(name, _)| format!("${name}")).collect();
        let mut stage = Stage::new("match", section.span);
        stage.aggregation_keys = keys.clone();
        analysis.group_by = keys;
        if let Some((window, span)) = &matching.window {
            analysis.time_window =
                Some(TimeWindow { text: window.clone(), seconds: duration_seconds(window), span: *span });
        }
        analysis.stages.push(stage);
    }

    // outcome: output columns, each with where it was defined.
    let mut outcome_origins: BTreeMap<String, FieldOrigin> = BTreeMap::new();
    if let Some(section) = rule.section(SectionKind::Outcome)
        && let SectionBody::Assignments(assignments) = &section.body
    {
        for assignment in assignments {
            let aggregated = has_match && calls_aggregate(&assignment.value);
            let origin = if aggregated {
                FieldOrigin::Aggregate { definition: assignment.span }
            } else {
                FieldOrigin::Computed { definition: assignment.span }
            };
            outcome_origins.insert(assignment.name.clone(), origin);
            analysis.output_fields.push(format!("${}", assignment.name));
        }
        let mut stage = Stage::new("outcome", section.span);
        stage.label = Some(format!("{} columns", assignments.len()));
        analysis.stages.push(stage);
    }

    if let Some((mut stage, condition)) = condition_stage {
        let mut known: BTreeSet<&str> = order.iter().map(String::as_str).collect();
        known.extend(bound_by.keys().map(String::as_str));
        known.extend(outcome_origins.keys().map(String::as_str));
        let mut loose_placeholders = Vec::new();
        for statement in &loose {
            loose_placeholders.extend(placeholders_of(statement));
        }
        known.extend(loose_placeholders.iter().map(String::as_str));
        condition.walk(&mut |node| {
            let name = match &node.kind {
                ExprKind::Path { variable, steps } if steps.is_empty() => variable,
                ExprKind::EventCount(name) => name,
                _ => return,
            };
            if !known.contains(name.as_str()) {
                analysis.diagnostics.push(diagnostics::undefined_variable(&lowering.slice(node.span), node.span));
            }
        });
        let mut thresholds = Vec::new();
        lowering.thresholds(condition, &outcome_origins, rule, &mut thresholds, 0);
        stage.thresholds = thresholds;
        analysis.stages.push(stage);
    }

    // Reference lists are parameters defined outside the rule.
    let mut lists: BTreeMap<String, Span> = BTreeMap::new();
    for statement in statements {
        statement.walk(&mut |node| {
            if let ExprKind::ReferenceList { name, .. } = &node.kind {
                lists.entry(name.clone()).or_insert(node.span);
            }
        });
    }
    for (name, span) in lists {
        analysis.parameters.push(Parameter {
            name: format!("%{name}"),
            kind: ParameterKind::List,
            values: Vec::new(),
            span,
        });
    }
    analysis
}

/// The Sigma log source a converted rule keeps in its meta (`product`, `service`, `category`):
/// it says which log the rule was written for, so every dataset of the rule carries it.
fn sigma_log_source(rule: &RuleDefinition) -> Vec<(String, String)> {
    let Some(SectionBody::Entries(entries)) = rule.section(SectionKind::Meta).map(|section| &section.body) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let key = entry.key.to_ascii_lowercase();
            let ExprKind::String { value, .. } = &entry.value.kind else { return None };
            let keep = matches!(key.as_str(), "product" | "service" | "category") && !value.trim().is_empty();
            keep.then(|| (key, value.trim().to_ascii_lowercase()))
        })
        .collect()
}

fn cover(spans: impl Iterator<Item = Span>) -> Span {
    spans.reduce(Span::cover).unwrap_or_default()
}

fn conjunction(mut items: Vec<IrExpr>) -> IrExpr {
    if items.len() == 1 { items.remove(0) } else { IrExpr::And { items } }
}

/// Event variables the condition requires to be absent: `!$f`, `not $f`.
fn collect_absent(condition: &Expr, negated: bool, absent: &mut BTreeSet<String>) {
    match &condition.kind {
        ExprKind::Not(item) => collect_absent(item, !negated, absent),
        ExprKind::And(items) | ExprKind::Or(items) => {
            items.iter().for_each(|item| collect_absent(item, negated, absent));
        }
        ExprKind::Path { variable, steps } if steps.is_empty() && negated => {
            absent.insert(variable.clone());
        }
        _ => {}
    }
}

fn calls_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |node| {
        if let ExprKind::Call { name, .. } = &node.kind
            && AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
        {
            found = true;
        }
    });
    found
}

/// The dataset of one event variable: narrowed by the equality filters on the `metadata` fields
/// that select events, when they hold for every event the variable matches (top-level
/// statements, or an `or` of them).
fn narrowed_dataset(variable: &str, statements: &[&Expr], span: Span) -> Dataset {
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in statements {
        let mut pairs = Vec::new();
        if narrowing_pairs(statement, &mut pairs) {
            for (attribute, value) in pairs {
                let values = attributes.entry(attribute.to_owned()).or_default();
                if !values.contains(&value) {
                    values.push(value);
                }
            }
        }
    }
    let name = match attributes.get("event_type") {
        Some(values) if values.len() == 1 => values[0].clone(),
        Some(values) => values.join(", "),
        None => ANY_UDM_EVENT.to_owned(),
    };
    let mut dataset = Dataset::new(name, DatasetRole::Source, span);
    dataset.attributes = attributes.into_iter().map(|(key, values)| (key, values.join(", "))).collect();
    dataset.attributes.insert("variable".to_owned(), format!("${variable}"));
    dataset
}

/// True when `expr` is a narrowing equality (or an `or` or `and` of them, or of unrelated
/// statements under `and`), pushing its (attribute, value) pairs.
fn narrowing_pairs(expr: &Expr, pairs: &mut Vec<(&'static str, String)>) -> bool {
    match &expr.kind {
        ExprKind::Or(items) => {
            let mut alternatives = Vec::new();
            let all_narrow = items.iter().all(|item| narrowing_pairs(item, &mut alternatives));
            if all_narrow {
                pairs.extend(alternatives);
            }
            all_narrow
        }
        // Any conjunct narrows the conjunction; conjuncts that do not narrow are dropped.
        ExprKind::And(items) => {
            let mut narrows = false;
            for item in items {
                narrows |= narrowing_pairs(item, pairs);
            }
            narrows
        }
        ExprKind::Binary { op: BinaryOp::Equal, left, right, .. } => {
            let (path, value) = match (&left.kind, &right.kind) {
                (ExprKind::Path { steps, .. }, ExprKind::String { value, .. }) => (steps, value),
                (ExprKind::String { value, .. }, ExprKind::Path { steps, .. }) => (steps, value),
                _ => return false,
            };
            let field = path_text(path);
            match NARROWING_FIELDS.iter().find(|(name, _)| *name == field) {
                Some((_, attribute)) => {
                    pairs.push((attribute, value.clone()));
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

/// A value-preserving wrapper around a field (`strings.to_lower(x)`).
fn field_function(name: &str) -> Option<FieldFunctionKind> {
    Some(match name.to_ascii_lowercase().as_str() {
        "strings.to_lower" => FieldFunctionKind::Lower,
        "strings.to_upper" => FieldFunctionKind::Upper,
        "strings.trim" | "strings.ltrim" | "strings.rtrim" => FieldFunctionKind::Trim,
        _ => return None,
    })
}

/// The field side of a comparison: a path, possibly inside value-preserving wrappers.
struct FieldRef {
    written: String,
    resolved: Option<String>,
    dataset: Option<usize>,
    origin: FieldOrigin,
    functions: Vec<FieldFunction>,
}

impl Lowering<'_> {
    fn slice(&self, span: Span) -> String {
        span.slice(self.text).unwrap_or("").to_owned()
    }

    fn opaque(&self, expr: &Expr) -> IrExpr {
        IrExpr::Opaque { text: self.slice(expr.span), span: expr.span }
    }

    /// The field an expression names, if it is one.
    fn field(&self, expr: &Expr, depth: usize) -> Option<FieldRef> {
        if depth > crate::MAX_DEPTH {
            return None;
        }
        match &expr.kind {
            ExprKind::Path { variable, steps } if !steps.is_empty() => Some(FieldRef {
                written: self.slice(expr.span),
                resolved: Some(path_text(steps)),
                dataset: self.datasets.get(variable).copied(),
                origin: FieldOrigin::Event,
                functions: Vec::new(),
            }),
            ExprKind::Call { name, arguments, .. } => {
                let kind = field_function(name);
                let inner = arguments.first().and_then(|argument| self.field(argument, depth + 1));
                match (kind, inner) {
                    (Some(kind), Some(mut inner)) if arguments.len() == 1 => {
                        inner.functions.insert(0, FieldFunction { kind, text: self.slice(expr.span) });
                        Some(inner)
                    }
                    (_, inner) => {
                        // Any other function of a column is a computed column.
                        let dataset = inner.and_then(|inner| inner.dataset);
                        Some(FieldRef {
                            written: self.slice(expr.span),
                            resolved: None,
                            dataset,
                            origin: FieldOrigin::Computed { definition: expr.span },
                            functions: Vec::new(),
                        })
                    }
                }
            }
            _ => None,
        }
    }

    /// A right-hand side as an IR value.
    fn value(&self, expr: &Expr) -> Value {
        match &expr.kind {
            ExprKind::String { value, .. } => Value::string(value.clone()),
            ExprKind::Regex(pattern) => Value::Regex { pattern: pattern.clone(), flags: String::new() },
            ExprKind::Number(text) => {
                number(text, false).unwrap_or(Value::Typed { r#type: "number".to_owned(), text: text.clone() })
            }
            ExprKind::Negate(inner) => match &inner.kind {
                ExprKind::Number(text) => {
                    number(text, true).unwrap_or(Value::Call { text: self.slice(expr.span), span: expr.span })
                }
                _ => Value::Call { text: self.slice(expr.span), span: expr.span },
            },
            ExprKind::Bool(value) => Value::Bool { value: *value },
            ExprKind::Null => Value::Null,
            ExprKind::Name(name) => Value::Typed { r#type: "enum".to_owned(), text: name.clone() },
            ExprKind::Duration(text) => Value::Typed { r#type: "duration".to_owned(), text: text.clone() },
            ExprKind::Path { steps, .. } if steps.is_empty() => {
                Value::Variable { name: self.slice(expr.span), span: expr.span }
            }
            ExprKind::Path { .. } => Value::Column { name: self.slice(expr.span) },
            ExprKind::ReferenceList { .. } => Value::Variable { name: self.slice(expr.span), span: expr.span },
            _ => Value::Call { text: self.slice(expr.span), span: expr.span },
        }
    }

    fn expr(&self, expr: &Expr, depth: usize) -> IrExpr {
        if depth > crate::MAX_DEPTH {
            return self.opaque(expr);
        }
        match &expr.kind {
            ExprKind::And(items) => {
                IrExpr::And { items: items.iter().map(|item| self.expr(item, depth + 1)).collect() }
            }
            ExprKind::Or(items) => IrExpr::Or { items: items.iter().map(|item| self.expr(item, depth + 1)).collect() },
            ExprKind::Not(item) => IrExpr::Not { item: Box::new(self.expr(item, depth + 1)) },
            ExprKind::Binary { op, left, right, nocase } if op.is_comparison() => {
                self.comparison(expr, *op, left, right, *nocase).unwrap_or_else(|| self.opaque(expr))
            }
            ExprKind::Nocase(inner) => match &inner.kind {
                ExprKind::Call { .. } => self.call(inner, true).unwrap_or_else(|| self.opaque(expr)),
                _ => self.opaque(expr),
            },
            ExprKind::Call { .. } => self.call(expr, false).unwrap_or_else(|| self.opaque(expr)),
            ExprKind::In { value, list, matching, negated } => {
                let Some(field) = self.field(value, depth + 1) else { return self.opaque(expr) };
                let (op, written) = match matching {
                    ListMatch::Exact => (Op::In, "in"),
                    ListMatch::Regex => (Op::RegexMatch, "in regex"),
                    ListMatch::Cidr => (Op::Cidr, "in cidr"),
                };
                IrExpr::Predicate(self.predicate(field, op, written, vec![self.value(list)], true, *negated, expr.span))
            }
            ExprKind::Quantified { item, .. } => self.expr(item, depth + 1),
            _ => self.opaque(expr),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn predicate(
        &self,
        field: FieldRef,
        op: Op,
        written_op: &str,
        values: Vec<Value>,
        case_sensitive: bool,
        negated: bool,
        span: Span,
    ) -> Predicate {
        Predicate {
            field: field.written,
            dataset: field.dataset,
            resolved_field: field.resolved,
            origin: field.origin,
            functions: field.functions,
            op,
            written_op: written_op.to_owned(),
            values,
            case_sensitive,
            all: false,
            transforms: Vec::new(),
            negated,
            time_filter: false,
            span,
        }
    }

    /// `field op value` in either order; `None` when neither side is a field.
    fn comparison(&self, expr: &Expr, op: BinaryOp, left: &Expr, right: &Expr, nocase: bool) -> Option<IrExpr> {
        let (field, value, op) = match (self.field(left, 0), self.field(right, 0)) {
            (Some(field), _) => (field, right, op),
            (None, Some(field)) => (field, left, flip(op)),
            (None, None) => return None,
        };
        let written = if nocase { format!("{} nocase", op.as_str()) } else { op.as_str().to_owned() };
        let mut ir_value = self.value(value);
        let (ir_op, negated) = match op {
            BinaryOp::Equal | BinaryOp::NotEqual => {
                let negated = op == BinaryOp::NotEqual;
                if let Value::Regex { flags, .. } = &mut ir_value {
                    if nocase {
                        *flags = "i".to_owned();
                    }
                    (Op::RegexMatch, negated)
                } else {
                    (Op::Eq, negated)
                }
            }
            BinaryOp::Less => (Op::Lt, false),
            BinaryOp::LessEqual => (Op::Le, false),
            BinaryOp::Greater => (Op::Gt, false),
            BinaryOp::GreaterEqual => (Op::Ge, false),
            _ => return None,
        };
        Some(IrExpr::Predicate(self.predicate(field, ir_op, &written, vec![ir_value], !nocase, negated, expr.span)))
    }

    /// Function calls used as conditions: `re.regex`, `strings.contains`/`starts_with`/
    /// `ends_with`, `net.ip_in_range_cidr`. Others are kept opaque.
    fn call(&self, expr: &Expr, nocase: bool) -> Option<IrExpr> {
        let ExprKind::Call { name, arguments, .. } = &expr.kind else { return None };
        let [subject, pattern] = arguments.as_slice() else { return None };
        let field = self.field(subject, 0)?;
        let lower = name.to_ascii_lowercase();
        let op = match lower.as_str() {
            "re.regex" => Op::RegexMatch,
            "strings.contains" => Op::Contains,
            "strings.starts_with" => Op::StartsWith,
            "strings.ends_with" => Op::EndsWith,
            "net.ip_in_range_cidr" => Op::Cidr,
            _ => return None,
        };
        let value = match (op, &pattern.kind) {
            (Op::RegexMatch, ExprKind::String { value, .. } | ExprKind::Regex(value)) => {
                Value::Regex { pattern: value.clone(), flags: if nocase { "i".to_owned() } else { String::new() } }
            }
            (Op::Cidr, ExprKind::String { value, .. }) => Value::Cidr { value: value.clone() },
            _ => self.value(pattern),
        };
        let written = if nocase { format!("{name} nocase") } else { name.clone() };
        Some(IrExpr::Predicate(self.predicate(field, op, &written, vec![value], !nocase, false, expr.span)))
    }

    /// Comparisons of the condition on counts (`#e > 5`) and outcome columns (`$risk > 50`).
    fn thresholds(
        &self,
        condition: &Expr,
        outcomes: &BTreeMap<String, FieldOrigin>,
        rule: &RuleDefinition,
        out: &mut Vec<IrExpr>,
        depth: usize,
    ) {
        if depth > crate::MAX_DEPTH {
            return;
        }
        match &condition.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter().for_each(|item| self.thresholds(item, outcomes, rule, out, depth + 1));
            }
            ExprKind::Not(item) => self.thresholds(item, outcomes, rule, out, depth + 1),
            ExprKind::Binary { op, left, right, .. } if op.is_comparison() => {
                let origin = match &left.kind {
                    ExprKind::EventCount(_) => {
                        let definition =
                            rule.section(SectionKind::Match).map_or(condition.span, |section| section.span);
                        FieldOrigin::Aggregate { definition }
                    }
                    ExprKind::Path { variable, steps } if steps.is_empty() => match outcomes.get(variable) {
                        Some(origin) => *origin,
                        None => FieldOrigin::Computed { definition: left.span },
                    },
                    _ => FieldOrigin::Computed { definition: left.span },
                };
                let field = FieldRef {
                    written: self.slice(left.span),
                    resolved: None,
                    dataset: None,
                    origin,
                    functions: Vec::new(),
                };
                let ir_op = match op {
                    BinaryOp::Equal => Op::Eq,
                    BinaryOp::NotEqual => Op::Ne,
                    BinaryOp::Less => Op::Lt,
                    BinaryOp::LessEqual => Op::Le,
                    BinaryOp::Greater => Op::Gt,
                    _ => Op::Ge,
                };
                out.push(IrExpr::Predicate(self.predicate(
                    field,
                    ir_op,
                    op.as_str(),
                    vec![self.value(right)],
                    true,
                    false,
                    condition.span,
                )));
            }
            _ => {}
        }
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Less => BinaryOp::Greater,
        BinaryOp::LessEqual => BinaryOp::GreaterEqual,
        BinaryOp::Greater => BinaryOp::Less,
        BinaryOp::GreaterEqual => BinaryOp::LessEqual,
        other => other,
    }
}

fn number(text: &str, negative: bool) -> Option<Value> {
    let value = if let Ok(integer) = text.parse::<i64>() {
        serde_json::Number::from(if negative { -integer } else { integer })
    } else {
        let real: f64 = text.parse().ok()?;
        serde_json::Number::from_f64(if negative { -real } else { real })?
    };
    Some(Value::Number { value })
}
