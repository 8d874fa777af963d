//! The EQL tree lowered into the language-neutral IR.
//!
//! - One dataset per event query, sequence step and `until` step, named after the event
//!   category as written (`process`, `any`), with `event.category` as an attribute unless the
//!   category is `any` (which reads every category). A lone event query's dataset is a
//!   `source`; steps are `sequence_step`s.
//! - One stage per event query (`where`) or step (`sequence-step`, `sample-step`, `join-step`,
//!   `until`), then one per pipe. A missing-event step `![...]` is a negated stage; `runs=N`,
//!   aliases and `fork` are in the stage label.
//! - Shared and per-step `by` keys are the analysis' `group_by`; `maxspan` its time window.
//! - Operators keep EQL's case rules (docs/semantics.md, "EQL"): `==`, `!=`, `like`, `regex`,
//!   `in` and the string functions are case-sensitive; `:` and every `~` form are not.
//! - Predicate functions (`startsWith`, `endsWith`, `stringContains`, `wildcard`, `cidrMatch`,
//!   `match`, `arrayContains`) become predicates on their first argument; a comparison on any
//!   other function or arithmetic of fields is a predicate on a computed column (never an
//!   indicator); any other condition is opaque. EQL has no value-preserving wrapper (no
//!   `lower`, `trim`), so `Predicate::functions` stays empty.

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr as IrExpr, FieldOrigin, Language, Op, Predicate, Span, Stage, TimeWindow,
    Value,
};

use super::ast::{CompareOp, EventQuery, Expr, ExprKind, Head, Pipe, Sequence, Step, StringOp};
use super::parser::Parsed;

pub(super) fn lower(text: &str, parsed: &Parsed) -> Analysis {
    let mut lowering = Lowering { text, analysis: Analysis::default() };
    let query = &parsed.query;
    lowering.analysis.language = Some(Language::Eql);
    lowering.analysis.span = query.span;
    lowering.analysis.diagnostics = parsed.diagnostics.clone();
    let mut last_dataset = None;
    match &query.head {
        Head::Event(event) => {
            let dataset = lowering.dataset(event, DatasetRole::Source);
            let mut stage = Stage::new("where", event.span);
            stage.dataset = Some(dataset);
            stage.predicate = Some(lowering.expr(&event.condition, Some(dataset)));
            lowering.analysis.stages.push(stage);
            last_dataset = Some(dataset);
        }
        Head::Sequence(sequence) => last_dataset = lowering.sequence(sequence, "sequence-step"),
        Head::Sample(sequence) => last_dataset = lowering.sequence(sequence, "sample-step"),
        Head::Join(sequence) => last_dataset = lowering.sequence(sequence, "join-step"),
        Head::None => {}
    }
    for pipe in &query.pipes {
        lowering.pipe(pipe, last_dataset);
    }
    lowering.analysis
}

struct Lowering<'a> {
    text: &'a str,
    analysis: Analysis,
}

impl Lowering<'_> {
    fn dataset(&mut self, query: &EventQuery, role: DatasetRole) -> usize {
        let (name, span) = match &query.category {
            Some(category) => (category.text.clone(), category.span),
            None => ("any".to_owned(), Span::empty(query.span.start)),
        };
        let mut dataset = Dataset::new(name.clone(), role, span);
        if name != "any" {
            dataset.attributes.insert("event.category".to_owned(), name);
        }
        self.analysis.datasets.push(dataset);
        self.analysis.datasets.len() - 1
    }

    fn sequence(&mut self, sequence: &Sequence, kind: &str) -> Option<usize> {
        let mut keys: Vec<String> = Vec::new();
        let mut add_keys = |exprs: &[Expr]| {
            for key in exprs {
                let rendered = key.render();
                if !keys.contains(&rendered) {
                    keys.push(rendered);
                }
            }
        };
        add_keys(&sequence.by);
        for step in sequence.steps.iter().chain(&sequence.until) {
            add_keys(&step.by);
        }
        self.analysis.group_by = keys;
        if let Some(max_span) = &sequence.max_span {
            self.analysis.time_window = Some(TimeWindow {
                text: max_span.text.clone(),
                seconds: max_span.milliseconds.map(|milliseconds| milliseconds / 1000),
                span: max_span.span,
            });
        }
        let mut last = None;
        for (index, step) in sequence.steps.iter().enumerate() {
            last = Some(self.step(step, kind, Some(index + 1)));
        }
        if let Some(until) = &sequence.until {
            self.step(until, "until", None);
        }
        last
    }

    fn step(&mut self, step: &Step, kind: &str, number: Option<usize>) -> usize {
        let dataset = self.dataset(&step.query, DatasetRole::SequenceStep);
        let mut stage = Stage::new(kind, step.span);
        let mut label = Vec::new();
        if let Some(number) = number {
            label.push(format!("step {number}"));
        }
        if step.missing {
            label.push("missing event".to_owned());
        }
        if let Some(runs) = step.runs {
            label.push(format!("runs={runs}"));
        }
        if let Some(alias) = &step.alias {
            label.push(format!("as {}", alias.text));
        }
        if step.fork == Some(true) {
            label.push("fork".to_owned());
        }
        if !step.by.is_empty() {
            let keys: Vec<String> = step.by.iter().map(Expr::render).collect();
            label.push(format!("by {}", keys.join(", ")));
        }
        stage.label = (!label.is_empty()).then(|| label.join(", "));
        stage.dataset = Some(dataset);
        stage.negated = step.missing;
        stage.depth = 1;
        stage.predicate = Some(self.expr(&step.query.condition, Some(dataset)));
        self.analysis.stages.push(stage);
        dataset
    }

    fn pipe(&mut self, pipe: &Pipe, dataset: Option<usize>) {
        let mut stage = Stage::new(pipe.name.text.clone(), pipe.span);
        stage.dataset = dataset;
        match pipe.name.text.as_str() {
            "filter" => {
                let mut items: Vec<IrExpr> =
                    pipe.arguments.iter().map(|argument| self.expr(argument, dataset)).collect();
                stage.predicate = match items.len() {
                    0 => None,
                    1 => items.pop(),
                    _ => Some(IrExpr::And { items }),
                };
            }
            "unique" | "unique_count" | "count" | "sort" => {
                stage.aggregation_keys = pipe.arguments.iter().map(Expr::render).collect();
            }
            _ => {
                let arguments: Vec<String> = pipe.arguments.iter().map(Expr::render).collect();
                stage.label = (!arguments.is_empty()).then(|| arguments.join(", "));
            }
        }
        self.analysis.stages.push(stage);
    }

    fn expr(&self, expr: &Expr, dataset: Option<usize>) -> IrExpr {
        match &expr.kind {
            ExprKind::Or(items) => IrExpr::Or { items: items.iter().map(|item| self.expr(item, dataset)).collect() },
            ExprKind::And(items) => IrExpr::And { items: items.iter().map(|item| self.expr(item, dataset)).collect() },
            ExprKind::Not(item) => IrExpr::Not { item: Box::new(self.expr(item, dataset)) },
            ExprKind::Comparison { left, op, right } => self.comparison(expr, left, *op, right, dataset),
            ExprKind::In { expr: subject, negated, insensitive, items } => {
                let written = match (negated, insensitive) {
                    (false, false) => "in",
                    (false, true) => "in~",
                    (true, false) => "not in",
                    (true, true) => "not in~",
                };
                let Some(mut predicate) = self.predicate(expr, subject, Op::In, written, dataset) else {
                    return self.opaque(expr);
                };
                predicate.values = items.iter().map(|item| self.value(item)).collect();
                predicate.case_sensitive = !insensitive;
                predicate.negated = *negated;
                IrExpr::Predicate(predicate)
            }
            ExprKind::StringPredicate { expr: subject, op, insensitive, values } => {
                let patterns: Vec<&str> = values
                    .iter()
                    .filter_map(|value| match &value.kind {
                        ExprKind::String(text) => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                let wildcard = patterns.iter().any(|pattern| pattern.contains(['*', '?']));
                let (ir_op, written) = match op {
                    StringOp::Regex => (Op::RegexMatch, if *insensitive { "regex~" } else { "regex" }),
                    StringOp::Colon | StringOp::Like => {
                        let written = match (op, insensitive) {
                            (StringOp::Colon, _) => ":",
                            (_, true) => "like~",
                            _ => "like",
                        };
                        let ir_op = if wildcard {
                            Op::Wildcard
                        } else if patterns.len() > 1 {
                            Op::In
                        } else {
                            Op::Eq
                        };
                        (ir_op, written)
                    }
                };
                let Some(mut predicate) = self.predicate(expr, subject, ir_op, written, dataset) else {
                    return self.opaque(expr);
                };
                predicate.values = values
                    .iter()
                    .map(|value| match (&value.kind, op) {
                        (ExprKind::String(pattern), StringOp::Regex) => Value::Regex {
                            pattern: pattern.clone(),
                            flags: if *insensitive { "i".to_owned() } else { String::new() },
                        },
                        _ => self.value(value),
                    })
                    .collect();
                predicate.case_sensitive = !insensitive && *op != StringOp::Colon;
                IrExpr::Predicate(predicate)
            }
            ExprKind::Call { name, insensitive, arguments } => {
                let op = match name.text.to_ascii_lowercase().as_str() {
                    "startswith" => Op::StartsWith,
                    "endswith" => Op::EndsWith,
                    "stringcontains" => Op::Contains,
                    "wildcard" => Op::Wildcard,
                    "cidrmatch" => Op::Cidr,
                    "match" | "matchlite" => Op::RegexMatch,
                    "arraycontains" => Op::In,
                    _ => return self.opaque(expr),
                };
                let Some((subject, rest)) = arguments.split_first() else { return self.opaque(expr) };
                let written = if *insensitive { format!("{}~", name.text) } else { name.text.clone() };
                let Some(mut predicate) = self.predicate(expr, subject, op, &written, dataset) else {
                    return self.opaque(expr);
                };
                predicate.values = rest
                    .iter()
                    .map(|value| match (&value.kind, op) {
                        (ExprKind::String(text), Op::Cidr) => Value::Cidr { value: text.clone() },
                        (ExprKind::String(text), Op::RegexMatch) => Value::Regex {
                            pattern: text.clone(),
                            flags: if *insensitive { "i".to_owned() } else { String::new() },
                        },
                        _ => self.value(value),
                    })
                    .collect();
                predicate.case_sensitive = !insensitive;
                IrExpr::Predicate(predicate)
            }
            _ => self.opaque(expr),
        }
    }

    fn comparison(&self, whole: &Expr, left: &Expr, op: CompareOp, right: &Expr, dataset: Option<usize>) -> IrExpr {
        let (subject, op, other) =
            if left.is_literal() && !right.is_literal() { (right, op.flipped(), left) } else { (left, op, right) };
        if matches!(other.kind, ExprKind::Null) && matches!(op, CompareOp::Equal | CompareOp::NotEqual) {
            let ir_op = if op == CompareOp::Equal { Op::IsNull } else { Op::IsNotNull };
            let Some(mut predicate) = self.predicate(whole, subject, ir_op, op.as_str(), dataset) else {
                return self.opaque(whole);
            };
            predicate.case_sensitive = true;
            return IrExpr::Predicate(predicate);
        }
        let ir_op = match op {
            CompareOp::Equal => Op::Eq,
            CompareOp::NotEqual => Op::Ne,
            CompareOp::Less => Op::Lt,
            CompareOp::LessEqual => Op::Le,
            CompareOp::Greater => Op::Gt,
            CompareOp::GreaterEqual => Op::Ge,
        };
        let Some(mut predicate) = self.predicate(whole, subject, ir_op, op.as_str(), dataset) else {
            return self.opaque(whole);
        };
        predicate.values = vec![self.value(other)];
        predicate.case_sensitive = true;
        IrExpr::Predicate(predicate)
    }

    /// A predicate skeleton on `subject`: an event field, or a computed column for any other
    /// expression that reads a field. `None` when the subject reads no field (a literal).
    fn predicate(
        &self,
        whole: &Expr,
        subject: &Expr,
        op: Op,
        written: &str,
        dataset: Option<usize>,
    ) -> Option<Predicate> {
        let (field, origin) = match &subject.kind {
            ExprKind::Field(field) => (field.path(), FieldOrigin::Event),
            _ if subject.mentions_field() => (subject.render(), FieldOrigin::Computed { definition: subject.span }),
            _ => return None,
        };
        Some(Predicate {
            field,
            dataset,
            resolved_field: None,
            origin,
            functions: Vec::new(),
            op,
            written_op: written.to_owned(),
            values: Vec::new(),
            case_sensitive: false,
            all: false,
            transforms: Vec::new(),
            negated: false,
            time_filter: false,
            span: whole.span,
        })
    }

    fn value(&self, expr: &Expr) -> Value {
        match &expr.kind {
            ExprKind::String(text) => Value::String { value: text.clone() },
            ExprKind::Number(number) => Value::Number { value: number.clone() },
            ExprKind::Bool(value) => Value::Bool { value: *value },
            ExprKind::Null => Value::Null,
            ExprKind::Field(field) => Value::Column { name: field.path() },
            ExprKind::Variable(name) => Value::Variable { name: name.clone(), span: expr.span },
            _ => Value::Call { text: expr.render(), span: expr.span },
        }
    }

    fn opaque(&self, expr: &Expr) -> IrExpr {
        IrExpr::Opaque { text: expr.span.slice(self.text).unwrap_or("").to_owned(), span: expr.span }
    }
}
