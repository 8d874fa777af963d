//! Tree to IR: one dataset per `FROM` pattern (role source) and per `ENRICH` policy or
//! `LOOKUP JOIN` index (role lookup), one stage per command, predicate trees for `WHERE`, and
//! the column-flow origin of every column the query makes.
//!
//! Columns are tracked through the pipeline: `EVAL`, `ROW`, `DISSECT`/`GROK` outputs,
//! `CHANGE_POINT` and `COMPLETION` columns are computed (with the span of their definition),
//! `STATS` outputs are aggregates, `RENAME` keeps the event field under its new name (the
//! predicate's `resolved_field` is the old name), `ENRICH ... WITH` columns are fields of the
//! enrich policy's dataset. A `WHERE` after `STATS` that tests an aggregate becomes a
//! threshold of its stage.

use std::collections::HashMap;

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr as IrExpr, FieldFunction, FieldFunctionKind, FieldOrigin, Op, Predicate,
    Stage, TimeWindow, Value, duration_seconds,
};

use super::ast::{Assignment, BinaryOp, Command, CommandKind, Expr, ExprKind, Literal, Query};

/// Where a column comes from, as far as the pipeline so far tells.
#[derive(Debug, Clone, PartialEq)]
struct Column {
    origin: FieldOrigin,
    /// The event field's name when the column was renamed.
    resolved: Option<String>,
    dataset: Option<usize>,
}

struct Lowerer<'a> {
    text: &'a str,
    analysis: Analysis,
    columns: HashMap<String, Column>,
    /// The first `FROM` dataset: event fields without another origin belong to it.
    source: Option<usize>,
    after_stats: bool,
    /// The columns the query outputs when the pipeline names them (`KEEP`, `STATS`); `None`
    /// while every event field passes through.
    outputs: Option<Vec<String>>,
}

pub fn lower(text: &str, query: &Query) -> Analysis {
    let mut lowerer = Lowerer {
        text,
        analysis: Analysis::default(),
        columns: HashMap::new(),
        source: None,
        after_stats: false,
        outputs: None,
    };
    for command in &query.commands {
        lowerer.command(command, 0);
    }
    lowerer.analysis.output_fields = lowerer.outputs.take().unwrap_or_default();
    lowerer.analysis
}

impl Lowerer<'_> {
    fn source_text(&self, expr: &Expr) -> String {
        expr.span.slice(self.text).unwrap_or("").to_owned()
    }

    fn column(&self, name: &str) -> Column {
        self.columns.get(name).cloned().unwrap_or(Column {
            origin: FieldOrigin::Event,
            resolved: None,
            dataset: self.source,
        })
    }

    /// The column an assignment defines: its name, or the expression text when unnamed
    /// (`STATS COUNT(*)` makes a column called `COUNT(*)`).
    fn assignment_name(&self, assignment: &Assignment) -> String {
        match &assignment.name {
            Some(name) => name.text.clone(),
            None => match &assignment.value.kind {
                ExprKind::Column(name) => name.clone(),
                _ => self.source_text(&assignment.value),
            },
        }
    }

    fn define(&mut self, name: String, column: Column) {
        if let Some(outputs) = &mut self.outputs
            && !outputs.contains(&name)
        {
            outputs.push(name.clone());
        }
        self.columns.insert(name, column);
    }

    fn computed(&self, definition: detwiki_ir::Span) -> Column {
        Column { origin: FieldOrigin::Computed { definition }, resolved: None, dataset: None }
    }

    fn command(&mut self, command: &Command, depth: u32) {
        let mut stage = Stage::new(command.name.to_ascii_lowercase(), command.span);
        stage.depth = depth;
        stage.dataset = self.source;
        match &command.kind {
            CommandKind::Source { patterns, .. } => {
                for pattern in patterns {
                    let index = self.analysis.datasets.len();
                    self.analysis.datasets.push(Dataset::new(pattern.text.clone(), DatasetRole::Source, pattern.span));
                    self.source.get_or_insert(index);
                }
                stage.dataset = self.source;
            }
            CommandKind::Row(assignments) | CommandKind::Eval(assignments) => {
                for assignment in assignments {
                    let name = self.assignment_name(assignment);
                    let column = self.computed(assignment.span);
                    self.define(name, column);
                }
            }
            CommandKind::Where(condition) => {
                let lowered = self.condition(condition);
                let (predicate, thresholds) = self.split_thresholds(lowered);
                stage.predicate = predicate;
                stage.thresholds = thresholds;
            }
            CommandKind::Stats { aggregates, groups, inline } => self.stats(&mut stage, aggregates, groups, *inline),
            // `KEEP *` keeps every column: the output is again "whatever passes through".
            CommandKind::Keep(names) if names.iter().any(|name| name.text == "*") => {}
            CommandKind::Keep(names) => {
                self.outputs = Some(names.iter().map(|name| name.text.clone()).collect());
            }
            CommandKind::Drop(names) => {
                if let Some(outputs) = &mut self.outputs {
                    outputs.retain(|output| !names.iter().any(|name| pattern_matches(&name.text, output)));
                }
            }
            CommandKind::Rename(clauses) => {
                for (old, new) in clauses {
                    let mut column = self.column(&old.text);
                    if column.origin == FieldOrigin::Event && column.resolved.is_none() {
                        column.resolved = Some(old.text.clone());
                    }
                    self.columns.remove(&old.text);
                    if let Some(outputs) = &mut self.outputs {
                        for output in outputs.iter_mut().filter(|output| **output == old.text) {
                            *output = new.text.clone();
                        }
                    }
                    self.define(new.text.clone(), column);
                }
            }
            CommandKind::Extract { outputs, .. } => {
                for output in outputs {
                    let column = self.computed(command.span);
                    self.define(output.clone(), column);
                }
            }
            CommandKind::Enrich { policy, with, .. } => {
                let index = self.analysis.datasets.len();
                self.analysis.datasets.push(Dataset::new(policy.text.clone(), DatasetRole::Lookup, policy.span));
                stage.dataset = Some(index);
                for (new, field) in with {
                    let resolved = (new.text != field.text).then(|| field.text.clone());
                    self.define(
                        new.text.clone(),
                        Column { origin: FieldOrigin::Event, resolved, dataset: Some(index) },
                    );
                }
            }
            CommandKind::LookupJoin { index, .. } => {
                let dataset = self.analysis.datasets.len();
                self.analysis.datasets.push(Dataset::new(index.text.clone(), DatasetRole::Lookup, index.span));
                stage.dataset = Some(dataset);
            }
            CommandKind::ChangePoint { outputs, .. } => {
                let mut names: Vec<String> = outputs.iter().map(|name| name.text.clone()).collect();
                if names.is_empty() {
                    names = vec!["type".to_owned(), "pvalue".to_owned()];
                }
                for name in names {
                    let column = self.computed(command.span);
                    self.define(name, column);
                }
            }
            CommandKind::Inference { target, .. } => {
                let default = if command.name == "RERANK" { "_score" } else { "completion" };
                let name = target.as_ref().map_or(default.to_owned(), |target| target.text.clone());
                let column = self.computed(command.span);
                self.define(name, column);
            }
            CommandKind::Fork(branches) => {
                self.analysis.stages.push(stage);
                let before = (self.columns.clone(), self.outputs.clone(), self.after_stats);
                let mut after = None;
                for branch in branches {
                    (self.columns, self.outputs, self.after_stats) = before.clone();
                    for command in branch {
                        self.command(command, depth + 1);
                    }
                    after.get_or_insert_with(|| (self.columns.clone(), self.outputs.clone(), self.after_stats));
                }
                // Later commands see the columns of the first branch (branches have one schema).
                if let Some(after) = after {
                    (self.columns, self.outputs, self.after_stats) = after;
                }
                let column = self.computed(command.span);
                self.define("_fork".to_owned(), column);
                return;
            }
            CommandKind::Explain(query) => {
                for command in &query.commands {
                    self.command(command, depth + 1);
                }
            }
            CommandKind::Show(_)
            | CommandKind::Sort(_)
            | CommandKind::Limit(_)
            | CommandKind::Sample(_)
            | CommandKind::MvExpand(_)
            | CommandKind::Insist(_)
            | CommandKind::Other => {}
        }
        self.analysis.stages.push(stage);
    }

    fn stats(&mut self, stage: &mut Stage, aggregates: &[Assignment], groups: &[Assignment], inline: bool) {
        let mut made = Vec::new();
        let mut filters = Vec::new();
        for aggregate in aggregates {
            let name = self.assignment_name(aggregate);
            let column =
                Column { origin: FieldOrigin::Aggregate { definition: aggregate.span }, resolved: None, dataset: None };
            made.push((name, column));
            if let Some(filter) = &aggregate.filter {
                filters.push(self.condition(filter));
            }
        }
        // `STATS c = COUNT(*) WHERE process.name == "x"`: the per-aggregate filters select the
        // events that are counted, so they are the stage's predicate (OR-linked when several).
        stage.predicate = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(IrExpr::Or { items: filters }),
        };
        for group in groups {
            let name = self.assignment_name(group);
            let column = match (&group.name, &group.value.kind) {
                (_, ExprKind::Column(column)) => self.column(column),
                _ => self.computed(group.span),
            };
            stage.aggregation_keys.push(name.clone());
            if !self.analysis.group_by.contains(&name) {
                self.analysis.group_by.push(name.clone());
            }
            made.push((name, column));
        }
        if inline {
            for (name, column) in made {
                self.define(name, column);
            }
        } else {
            self.outputs = Some(Vec::new());
            for (name, column) in made {
                self.define(name, column);
            }
        }
        self.after_stats = true;
    }

    /// After a `STATS`, top-level conjuncts that test an aggregate are thresholds.
    fn split_thresholds(&self, lowered: IrExpr) -> (Option<IrExpr>, Vec<IrExpr>) {
        if !self.after_stats {
            return (Some(lowered), Vec::new());
        }
        let items = match lowered {
            IrExpr::And { items } => items,
            other => vec![other],
        };
        let (thresholds, rest): (Vec<IrExpr>, Vec<IrExpr>) = items.into_iter().partition(|item| {
            let mut aggregate = false;
            item.for_each_predicate(&mut |predicate, _| {
                aggregate |= matches!(predicate.origin, FieldOrigin::Aggregate { .. })
            });
            aggregate
        });
        let predicate = match rest.len() {
            0 => None,
            1 => rest.into_iter().next(),
            _ => Some(IrExpr::And { items: rest }),
        };
        (predicate, thresholds)
    }

    /// A boolean expression as a predicate tree.
    fn condition(&mut self, expr: &Expr) -> IrExpr {
        match &expr.kind {
            ExprKind::Paren(inner) => self.condition(inner),
            ExprKind::Not(inner) => IrExpr::Not { item: Box::new(self.condition(inner)) },
            ExprKind::Logical { op, items } => {
                let mut lowered = Vec::with_capacity(items.len());
                for item in items {
                    match (self.condition(item), op) {
                        (IrExpr::And { items: inner }, BinaryOp::And) | (IrExpr::Or { items: inner }, BinaryOp::Or) => {
                            lowered.extend(inner)
                        }
                        (other, _) => lowered.push(other),
                    }
                }
                if *op == BinaryOp::And { IrExpr::And { items: lowered } } else { IrExpr::Or { items: lowered } }
            }
            ExprKind::Binary { op, left, right } => self.comparison(expr, *op, left, right),
            ExprKind::Like { input, patterns, regex, negated } => {
                let values = patterns
                    .iter()
                    .map(|pattern| match (&pattern.kind, regex) {
                        (ExprKind::Literal(Literal::String(text)), true) => {
                            Value::Regex { pattern: text.clone(), flags: String::new() }
                        }
                        _ => self.value(pattern),
                    })
                    .collect();
                let (op, written) = match (regex, negated) {
                    (true, false) => (Op::RegexMatch, "RLIKE"),
                    (true, true) => (Op::RegexMatch, "NOT RLIKE"),
                    (false, false) => (Op::Wildcard, "LIKE"),
                    (false, true) => (Op::Wildcard, "NOT LIKE"),
                };
                self.predicate(expr, input, op, written, values, true, *negated)
            }
            ExprKind::In { input, list, negated } => {
                let values = list.iter().map(|item| self.value(item)).collect();
                let written = if *negated { "NOT IN" } else { "IN" };
                self.predicate(expr, input, Op::In, written, values, true, *negated)
            }
            ExprKind::IsNull { input, negated } => {
                let (op, written) = if *negated { (Op::IsNotNull, "IS NOT NULL") } else { (Op::IsNull, "IS NULL") };
                self.predicate(expr, input, op, written, Vec::new(), true, false)
            }
            ExprKind::Call { name, arguments } if !arguments.is_empty() => {
                let (op, case_sensitive) = match name.to_ascii_uppercase().as_str() {
                    "CIDR_MATCH" => (Op::Cidr, true),
                    "STARTS_WITH" => (Op::StartsWith, true),
                    "ENDS_WITH" => (Op::EndsWith, true),
                    _ => return self.opaque(expr),
                };
                let values = arguments[1..]
                    .iter()
                    .map(|argument| match (&argument.kind, op) {
                        (ExprKind::Literal(Literal::String(text)), Op::Cidr) => Value::Cidr { value: text.clone() },
                        _ => self.value(argument),
                    })
                    .collect();
                let written = name.to_ascii_uppercase();
                self.predicate(expr, &arguments[0], op, &written, values, case_sensitive, false)
            }
            _ => self.opaque(expr),
        }
    }

    fn opaque(&self, expr: &Expr) -> IrExpr {
        IrExpr::Opaque { text: self.source_text(expr), span: expr.span }
    }

    fn comparison(&mut self, expr: &Expr, op: BinaryOp, left: &Expr, right: &Expr) -> IrExpr {
        // `"x" == field`: the column goes on the left, the operator is mirrored.
        let (left, right, op) =
            if is_constant(left) && !is_constant(right) { (right, left, mirror(op)) } else { (left, right, op) };
        let (ir_op, case_sensitive, negated) = match op {
            BinaryOp::Equal => (Op::Eq, true, false),
            BinaryOp::NotEqual => (Op::Eq, true, true),
            BinaryOp::InsensitiveEqual => (Op::Eq, false, false),
            BinaryOp::Less => (Op::Lt, true, false),
            BinaryOp::LessEqual => (Op::Le, true, false),
            BinaryOp::Greater => (Op::Gt, true, false),
            BinaryOp::GreaterEqual => (Op::Ge, true, false),
            BinaryOp::Match => (Op::Match, false, false),
            _ => return self.opaque(expr),
        };
        let values = vec![self.value(right)];
        let mut lowered = self.predicate(expr, left, ir_op, op.as_str(), values, case_sensitive, negated);
        if let IrExpr::Predicate(predicate) = &mut lowered
            && predicate.field == "@timestamp"
            && matches!(ir_op, Op::Gt | Op::Ge)
            && predicate.origin == FieldOrigin::Event
        {
            predicate.time_filter = true;
            if let Some(window) = self.lookback(right) {
                for dataset in self.analysis.datasets.iter_mut().filter(|dataset| dataset.role == DatasetRole::Source) {
                    dataset.time_window.get_or_insert(window.clone());
                }
            }
        }
        lowered
    }

    /// The time span of `NOW() - 7 days`.
    fn lookback(&self, expr: &Expr) -> Option<TimeWindow> {
        match &expr.kind {
            ExprKind::Binary { op: BinaryOp::Subtract, left, right } if matches!(&left.kind, ExprKind::Call { name, .. } if name.eq_ignore_ascii_case("now")) => {
                match &right.kind {
                    ExprKind::Literal(Literal::Duration(text)) => {
                        Some(TimeWindow { text: text.clone(), seconds: duration_seconds(text), span: right.span })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn predicate(
        &mut self,
        expr: &Expr,
        subject: &Expr,
        op: Op,
        written: &str,
        values: Vec<Value>,
        case_sensitive: bool,
        negated: bool,
    ) -> IrExpr {
        let mut functions = Vec::new();
        let mut inner = subject;
        loop {
            match &inner.kind {
                ExprKind::Paren(next) | ExprKind::Cast { input: next, .. } => inner = next,
                ExprKind::Call { name, arguments } if arguments.len() == 1 => {
                    let kind = match name.to_ascii_uppercase().as_str() {
                        "TO_LOWER" => Some(FieldFunctionKind::Lower),
                        "TO_UPPER" => Some(FieldFunctionKind::Upper),
                        "TRIM" => Some(FieldFunctionKind::Trim),
                        // Conversions do not change which field is compared.
                        "TO_STRING" | "TO_IP" | "TO_LONG" | "TO_INTEGER" => None,
                        _ => break,
                    };
                    if let Some(kind) = kind {
                        functions.push(FieldFunction { kind, text: self.source_text(inner) });
                    }
                    inner = &arguments[0];
                }
                _ => break,
            }
        }
        let (field, column) = match &inner.kind {
            ExprKind::Column(name) => (name.clone(), self.column(name)),
            ExprKind::Missing | ExprKind::Literal(_) | ExprKind::Parameter(_) => return self.opaque(expr),
            // Any other function of a column is a computed value.
            _ => {
                functions.clear();
                (self.source_text(subject), self.computed(subject.span))
            }
        };
        IrExpr::Predicate(Predicate {
            field,
            dataset: column.dataset,
            resolved_field: column.resolved,
            origin: column.origin,
            functions,
            op,
            written_op: written.to_owned(),
            values,
            case_sensitive,
            all: false,
            transforms: Vec::new(),
            negated,
            time_filter: false,
            span: expr.span,
        })
    }

    fn value(&self, expr: &Expr) -> Value {
        match &expr.kind {
            ExprKind::Literal(Literal::String(text)) => Value::string(text.clone()),
            ExprKind::Literal(Literal::Integer(text) | Literal::Decimal(text)) => {
                number(text, false).unwrap_or_else(|| Value::Typed { r#type: "number".to_owned(), text: text.clone() })
            }
            ExprKind::Negate(inner) => match &inner.kind {
                ExprKind::Literal(Literal::Integer(text) | Literal::Decimal(text)) => {
                    number(text, true).unwrap_or_else(|| self.call(expr))
                }
                _ => self.call(expr),
            },
            ExprKind::Literal(Literal::Bool(flag)) => Value::Bool { value: *flag },
            ExprKind::Literal(Literal::Null) => Value::Null,
            ExprKind::Literal(Literal::Duration(text)) => {
                Value::Typed { r#type: "duration".to_owned(), text: text.clone() }
            }
            ExprKind::Cast { input, data_type } => match &input.kind {
                ExprKind::Literal(Literal::String(text)) => {
                    Value::Typed { r#type: data_type.clone(), text: text.clone() }
                }
                _ => self.call(expr),
            },
            ExprKind::Paren(inner) => self.value(inner),
            ExprKind::Column(name) => Value::Column { name: name.clone() },
            ExprKind::Parameter(name) => Value::Variable { name: name.clone(), span: expr.span },
            _ => self.call(expr),
        }
    }

    fn call(&self, expr: &Expr) -> Value {
        Value::Call { text: self.source_text(expr), span: expr.span }
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

fn is_constant(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Parameter(_) => true,
        ExprKind::Negate(inner) | ExprKind::Paren(inner) | ExprKind::Cast { input: inner, .. } => is_constant(inner),
        _ => false,
    }
}

fn mirror(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Less => BinaryOp::Greater,
        BinaryOp::LessEqual => BinaryOp::GreaterEqual,
        BinaryOp::Greater => BinaryOp::Less,
        BinaryOp::GreaterEqual => BinaryOp::LessEqual,
        other => other,
    }
}

/// `KEEP`/`DROP` name patterns: `*` matches any run of characters.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else { return pattern == name };
    let Some(mut remaining) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = rest.split('*').collect();
    for (index, part) in parts.iter().enumerate() {
        if index == parts.len() - 1 {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn name_patterns() {
        assert!(pattern_matches("process.*", "process.name"));
        assert!(pattern_matches("*name", "user.name"));
        assert!(pattern_matches("a*b*c", "a1b2c"));
        assert!(!pattern_matches("a*b", "a1c"));
        assert!(pattern_matches("x", "x"));
    }
}
