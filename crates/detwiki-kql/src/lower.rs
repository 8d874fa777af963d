//! Lowering a parsed unit to the IR: parameters first, then one stage per operator of each
//! pipeline, predicate trees in the shared vocabulary, datasets with their roles and time
//! windows.
//!
//! Sub-queries on the right of `join`, `lookup` and `union` do not become stages of their own:
//! their filters become the predicate of the join (or union) stage, attributed to the joined
//! dataset, so the top-level pipeline reads as the query does.

use std::collections::{HashMap, HashSet};

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr as IrExpr, FieldOrigin, Op, Parameter, ParameterKind, Predicate, Span, Stage,
    TimeWindow, Value, duration_seconds,
};

use crate::ast::{Expr, ExprKind, LiteralKind, Operator, OperatorKind, StatementKind};
use crate::syntax::flatten_values;
use crate::units::Unit;

/// What a `let` name stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// Literal values (a scalar has one, a list several).
    Values(Vec<Value>),
    /// A tabular expression read as a dataset.
    Table(usize),
    /// Anything else: a function, a computed scalar.
    Opaque,
}

pub fn lower(text: &str, unit: &Unit) -> Analysis {
    let mut lowering = Lowering {
        text,
        analysis: Analysis { span: unit.span, diagnostics: unit.parsed.diagnostics.clone(), ..Analysis::default() },
        bindings: HashMap::new(),
        lookbacks: HashMap::new(),
        summarized_anywhere: false,
        join_keys: Vec::new(),
    };
    for statement in &unit.parsed.script.statements {
        match &statement.kind {
            StatementKind::Let { name, value } => lowering.lower_let(&name.text, value, statement.span),
            StatementKind::Query(expr) => {
                lowering.lower_pipeline(expr, 0, DatasetRole::Source, true);
            }
            StatementKind::Directive { keyword, parameters } if keyword == "declare" => {
                for parameter in parameters {
                    lowering.analysis.parameters.push(Parameter {
                        name: parameter.name.text.clone(),
                        kind: ParameterKind::QueryParameter,
                        values: Vec::new(),
                        span: parameter.span,
                    });
                    lowering.bindings.insert(parameter.name.text.clone(), Binding::Opaque);
                }
            }
            StatementKind::Directive { .. } => {}
        }
    }
    if !lowering.summarized_anywhere {
        let keys = std::mem::take(&mut lowering.join_keys);
        for key in keys {
            if !lowering.analysis.group_by.contains(&key) {
                lowering.analysis.group_by.push(key);
            }
        }
    }
    lowering.analysis
}

struct Lowering<'t> {
    text: &'t str,
    analysis: Analysis,
    bindings: HashMap<String, Binding>,
    /// `let start = ago(7d)`: names bound to a lookback, so `Timestamp > start` sets a window.
    lookbacks: HashMap<String, (String, Span)>,
    summarized_anywhere: bool,
    join_keys: Vec<String>,
}

/// What a pipeline knows about its columns while it is lowered.
#[derive(Debug, Default)]
struct Scope {
    dataset: Option<usize>,
    /// Columns computed by the query (extend, summarize, project x = ...), with their origin.
    computed: HashMap<String, FieldOrigin>,
    /// Aggregates of the last summarize: a where on them is a threshold.
    aggregates: HashSet<String>,
    /// `project-rename new = old`.
    renamed: HashMap<String, String>,
    /// Datasets joined so far, in order: `X1` names the first one's `X`.
    joined: Vec<usize>,
    /// Predicates of sub-queries, gathered for the enclosing stage.
    collected: Vec<IrExpr>,
    /// The members of a `union` the pipeline reads: a time filter after it bounds them all.
    union_members: Vec<usize>,
}

impl Lowering<'_> {
    fn slice(&self, span: Span) -> String {
        span.slice(self.text).unwrap_or("").to_owned()
    }

    fn lower_let(&mut self, name: &str, value: &Expr, span: Span) {
        if let Some(lookback) = self.lookback(value) {
            self.lookbacks.insert(name.to_owned(), lookback);
        }
        let (kind, values, binding) = match &value.kind {
            ExprKind::Function { parameters, body } => {
                // Parameters are names of the body, never tables or columns of the query.
                for parameter in parameters {
                    self.bindings.insert(parameter.name.text.clone(), Binding::Opaque);
                }
                // The tables a function reads are datasets of the query that calls it.
                for statement in body {
                    match &statement.kind {
                        StatementKind::Let { name, value } => self.lower_let(&name.text, value, statement.span),
                        StatementKind::Query(expr) if is_tabular(expr, &self.bindings) => {
                            self.lower_pipeline(expr, 1, DatasetRole::LetBound, true);
                        }
                        StatementKind::Query(expr) => self.lower_embedded_pipelines(expr),
                        StatementKind::Directive { .. } => {}
                    }
                }
                (ParameterKind::Function, Vec::new(), Binding::Opaque)
            }
            _ if is_tabular(value, &self.bindings) => {
                let dataset = self.lower_pipeline(value, 1, DatasetRole::LetBound, true);
                let binding = dataset.map_or(Binding::Opaque, Binding::Table);
                (ParameterKind::Tabular, Vec::new(), binding)
            }
            _ => {
                let values = self.literal_values(value);
                let is_list = matches!(&value.kind, ExprKind::Literal(literal) if literal.kind == LiteralKind::Dynamic)
                    || matches!(&value.kind, ExprKind::Call { callee, .. } if callee.as_name() == Some("pack_array"));
                match values {
                    Some(values) if is_list => (ParameterKind::List, values.clone(), Binding::Values(values)),
                    Some(values) => (ParameterKind::Scalar, values.clone(), Binding::Values(values)),
                    None => {
                        // `toscalar(T | ...)`: the table it reads is still read by the query.
                        self.lower_embedded_pipelines(value);
                        (ParameterKind::Scalar, Vec::new(), Binding::Opaque)
                    }
                }
            }
        };
        self.analysis.parameters.push(Parameter { name: name.to_owned(), kind, values, span });
        self.bindings.insert(name.to_owned(), binding);
    }

    /// Lowers the sub-queries inside a scalar expression (`toscalar(T | summarize ...)`) as
    /// let-bound pipelines, so the tables they read are datasets of the query.
    fn lower_embedded_pipelines(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Pipe { .. } => {
                self.lower_pipeline(expr, 1, DatasetRole::LetBound, true);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|arg| self.lower_embedded_pipelines(arg)),
            ExprKind::Paren(inner) => self.lower_embedded_pipelines(inner),
            ExprKind::Binary { left, right, .. } => {
                self.lower_embedded_pipelines(left);
                self.lower_embedded_pipelines(right);
            }
            _ => {}
        }
    }

    /// The literal values of a `let` scalar or list, `None` when it is not made of literals.
    fn literal_values(&self, value: &Expr) -> Option<Vec<Value>> {
        match &value.kind {
            ExprKind::Literal(literal) if literal.kind == LiteralKind::Dynamic => {
                let elements = flatten_values(std::slice::from_ref(value));
                elements.iter().map(|element| self.literal(element)).collect()
            }
            ExprKind::Call { callee, args } if callee.as_name() == Some("pack_array") => {
                args.iter().map(|arg| self.literal(arg)).collect()
            }
            ExprKind::Paren(inner) => self.literal_values(inner),
            _ => self.literal(value).map(|value| vec![value]),
        }
    }

    fn literal(&self, expr: &Expr) -> Option<Value> {
        match &expr.kind {
            ExprKind::Literal(literal) => Some(match literal.kind {
                LiteralKind::String => Value::string(literal.value.clone()),
                LiteralKind::Long | LiteralKind::Real => number_value(&literal.value, false)
                    .unwrap_or_else(|| Value::Typed { r#type: "number".to_owned(), text: literal.value.clone() }),
                LiteralKind::Bool => Value::Bool { value: literal.value == "true" },
                LiteralKind::Null => Value::Null,
                LiteralKind::Timespan => Value::Typed { r#type: "timespan".to_owned(), text: literal.value.clone() },
                LiteralKind::Datetime => Value::Typed { r#type: "datetime".to_owned(), text: literal.value.clone() },
                LiteralKind::Guid => Value::Typed { r#type: "guid".to_owned(), text: literal.value.clone() },
                LiteralKind::Dynamic => Value::Typed { r#type: "dynamic".to_owned(), text: literal.value.clone() },
                LiteralKind::Typed => Value::Typed { r#type: "typed".to_owned(), text: literal.value.clone() },
            }),
            ExprKind::Paren(inner) => self.literal(inner),
            ExprKind::Unary { op, operand } if op == "-" => match &operand.kind {
                ExprKind::Literal(literal) if matches!(literal.kind, LiteralKind::Long | LiteralKind::Real) => {
                    number_value(&literal.value, true)
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn add_dataset(&mut self, name: &str, role: DatasetRole, span: Span) -> usize {
        self.analysis.datasets.push(Dataset::new(name, role, span));
        self.analysis.datasets.len() - 1
    }

    /// Lowers a pipeline. With `emit` its stages are added at `depth`; without, only its
    /// datasets are registered and its filters are returned in the scope for the enclosing
    /// stage. Returns the pipeline's dataset.
    fn lower_pipeline(&mut self, expr: &Expr, depth: u32, role: DatasetRole, emit: bool) -> Option<usize> {
        let mut scope = Scope::default();
        self.lower_pipeline_in(expr, depth, role, emit, &mut scope);
        scope.dataset
    }

    fn lower_pipeline_in(&mut self, expr: &Expr, depth: u32, role: DatasetRole, emit: bool, scope: &mut Scope) {
        match &expr.kind {
            ExprKind::Pipe { source, operators } => {
                if let Some(source) = source {
                    self.lower_source(source, depth, role, emit, scope);
                }
                for operator in operators {
                    self.lower_operator(operator, depth, emit, scope);
                }
            }
            _ => self.lower_source(expr, depth, role, emit, scope),
        }
    }

    fn lower_source(&mut self, source: &Expr, depth: u32, role: DatasetRole, emit: bool, scope: &mut Scope) {
        match &source.kind {
            ExprKind::Paren(inner) => return self.lower_pipeline_in(inner, depth, role, emit, scope),
            ExprKind::Call { callee, args } if matches!(callee.as_name(), Some("materialize" | "view")) => {
                if let Some(first) = args.first() {
                    return self.lower_pipeline_in(first, depth, role, emit, scope);
                }
            }
            ExprKind::Operator(operator) => return self.lower_operator(operator, depth, emit, scope),
            ExprKind::Pipe { .. } => return self.lower_pipeline_in(source, depth, role, emit, scope),
            _ => {}
        }
        scope.dataset = self.dataset_of(source, role);
        if emit {
            let mut stage = Stage::new("source", source.span);
            stage.dataset = scope.dataset;
            stage.depth = depth;
            self.analysis.stages.push(stage);
        }
    }

    /// The dataset a table expression reads: a let-bound table, a table, a function.
    fn dataset_of(&mut self, source: &Expr, role: DatasetRole) -> Option<usize> {
        match &source.kind {
            ExprKind::Name(name) => match self.bindings.get(name) {
                Some(Binding::Table(index)) => Some(*index),
                Some(_) => None,
                None => Some(self.add_dataset(name, role, source.span)),
            },
            ExprKind::Wildcard(name) => Some(self.add_dataset(name, role, source.span)),
            // `union *` reads every table.
            ExprKind::Star => Some(self.add_dataset("*", role, source.span)),
            ExprKind::Call { callee, .. } => {
                let name = self.slice(callee.span);
                match name.as_str() {
                    // `table("T")` names a table; `table(parameter)` names none we know.
                    "table" => match &source.kind {
                        ExprKind::Call { args, .. } => match args.first().map(|arg| &arg.kind) {
                            Some(ExprKind::Literal(literal)) if literal.kind == LiteralKind::String => {
                                Some(self.add_dataset(&literal.value, role, source.span))
                            }
                            _ => None,
                        },
                        _ => None,
                    },
                    "materialize" | "toscalar" | "view" => {
                        if let ExprKind::Call { args, .. } = &source.kind
                            && let Some(first) = args.first()
                        {
                            let mut scope = Scope::default();
                            self.lower_pipeline_in(first, 1, role, false, &mut scope);
                            return scope.dataset;
                        }
                        None
                    }
                    _ if self.bindings.contains_key(&name) => None,
                    _ => Some(self.add_dataset(&name, DatasetRole::Function, source.span)),
                }
            }
            ExprKind::Member { .. } => {
                let name = self.slice(source.span);
                Some(self.add_dataset(&name, role, source.span))
            }
            ExprKind::Paren(inner) => self.dataset_of(inner, role),
            _ => None,
        }
    }

    fn lower_operator(&mut self, operator: &Operator, depth: u32, emit: bool, scope: &mut Scope) {
        let kind = stage_kind(operator);
        let mut stage = Stage::new(kind, operator.span);
        stage.depth = depth;
        stage.dataset = scope.dataset;
        match operator.kind {
            OperatorKind::Where => {
                if let Some(predicate) = operator.items.first() {
                    let tree = self.lower_condition(predicate, scope);
                    if !scope.aggregates.is_empty() {
                        stage.thresholds = tree
                            .conjuncts()
                            .into_iter()
                            .filter(|conjunct| self.is_on_aggregates(conjunct, scope))
                            .cloned()
                            .collect();
                    }
                    if !emit {
                        scope.collected.push(tree.clone());
                    }
                    stage.predicate = Some(tree);
                }
            }
            OperatorKind::Join | OperatorKind::Lookup => {
                let role = if operator.kind == OperatorKind::Join { DatasetRole::Join } else { DatasetRole::Lookup };
                let mut inner = Scope::default();
                if let Some(side) = operator.sources.first() {
                    self.lower_pipeline_in(side, depth + 1, role, false, &mut inner);
                }
                stage.dataset = inner.dataset;
                stage.predicate = combine(inner.collected);
                if let Some(joined) = inner.dataset {
                    scope.joined.push(joined);
                }
                for key in &operator.on {
                    if let Some(key) = join_key(key)
                        && depth == 0
                        && !self.join_keys.contains(&key)
                    {
                        self.join_keys.push(key);
                    }
                }
            }
            OperatorKind::Union => {
                let mut collected = Vec::new();
                let mut first = None;
                for member in &operator.sources {
                    let mut inner = Scope::default();
                    self.lower_pipeline_in(member, depth + 1, DatasetRole::UnionMember, false, &mut inner);
                    first = first.or(inner.dataset);
                    scope.union_members.extend(inner.dataset);
                    collected.extend(inner.collected);
                }
                stage.predicate = combine(collected);
                if scope.dataset.is_none() {
                    scope.dataset = first;
                    stage.dataset = first;
                }
            }
            OperatorKind::Find | OperatorKind::Search => {
                let mut first = None;
                for table in &operator.sources {
                    let dataset = self.dataset_of(table, DatasetRole::UnionMember);
                    first = first.or(dataset);
                }
                if scope.dataset.is_none() {
                    scope.dataset = first;
                    stage.dataset = first;
                }
                if let Some(predicate) = operator.items.first() {
                    stage.predicate = Some(self.lower_condition(predicate, scope));
                }
            }
            OperatorKind::Extend
            | OperatorKind::Project
            | OperatorKind::Print
            | OperatorKind::Serialize
            | OperatorKind::Distinct => {
                let mut outputs = Vec::new();
                for item in &operator.items {
                    if let ExprKind::Assign { target, .. } = &item.kind {
                        for name in assigned_names(target) {
                            scope.computed.insert(name.clone(), FieldOrigin::Computed { definition: item.span });
                            outputs.push(name);
                        }
                    } else if let Some(name) = column_name(item) {
                        outputs.push(name);
                    }
                }
                if matches!(operator.kind, OperatorKind::Project | OperatorKind::Distinct) && depth == 0 {
                    self.analysis.output_fields = outputs;
                }
            }
            OperatorKind::ProjectRename => {
                for item in &operator.items {
                    if let ExprKind::Assign { target, value } = &item.kind
                        && let (Some(new), Some(old)) = (target.as_name(), column_name(value))
                    {
                        scope.renamed.insert(new.to_owned(), old);
                    }
                }
            }
            OperatorKind::Summarize | OperatorKind::MakeSeries => {
                let mut outputs = Vec::new();
                scope.aggregates.clear();
                for item in &operator.items {
                    let name = aggregate_name(item, self.text);
                    scope.computed.insert(name.clone(), FieldOrigin::Aggregate { definition: item.span });
                    scope.aggregates.insert(name.clone());
                    outputs.push(name);
                }
                for key in &operator.by {
                    let name = match &key.kind {
                        ExprKind::Assign { target, .. } => target.as_name().map(str::to_owned),
                        _ => key_column(key),
                    };
                    if let Some(name) = name {
                        if matches!(key.kind, ExprKind::Assign { .. }) {
                            scope.computed.insert(name.clone(), FieldOrigin::Computed { definition: key.span });
                        }
                        stage.aggregation_keys.push(name.clone());
                        outputs.push(name);
                    }
                }
                if depth == 0 {
                    self.summarized_anywhere = true;
                    for key in &stage.aggregation_keys {
                        if !self.analysis.group_by.contains(key) {
                            self.analysis.group_by.push(key.clone());
                        }
                    }
                    self.analysis.output_fields = outputs;
                }
            }
            _ => {}
        }
        if emit {
            self.analysis.stages.push(stage);
        }
    }

    fn is_on_aggregates(&self, conjunct: &IrExpr, scope: &Scope) -> bool {
        let mut all = true;
        let mut any = false;
        conjunct.for_each_predicate(&mut |predicate, _| {
            any = true;
            all &= scope.aggregates.contains(&predicate.field);
        });
        any && all
    }

    /// A condition as a predicate tree.
    fn lower_condition(&mut self, expr: &Expr, scope: &mut Scope) -> IrExpr {
        match &expr.kind {
            ExprKind::Logical { and, items } => {
                let items = items.iter().map(|item| self.lower_condition(item, scope)).collect();
                if *and { IrExpr::And { items } } else { IrExpr::Or { items } }
            }
            ExprKind::Paren(inner) => self.lower_condition(inner, scope),
            ExprKind::Call { callee, args } if callee.as_name() == Some("not") && args.len() == 1 => {
                IrExpr::Not { item: Box::new(self.lower_condition(&args[0], scope)) }
            }
            ExprKind::Call { callee, args } if args.len() == 1 => {
                let op = match callee.as_name() {
                    Some("isnotempty" | "isnotnull") => Some((Op::IsNotNull, false)),
                    Some("isempty" | "isnull") => Some((Op::IsNull, false)),
                    _ => None,
                };
                match (op, column_name(&args[0])) {
                    (Some((op, negated)), Some(field)) => {
                        let mut predicate = self.predicate(&field, &args[0], op, callee.as_name().unwrap_or(""), scope);
                        predicate.negated = negated;
                        predicate.case_sensitive = true;
                        predicate.span = expr.span;
                        IrExpr::Predicate(predicate)
                    }
                    _ => self.opaque(expr),
                }
            }
            // A boolean column used as a condition (`where IsInternetFacing`).
            ExprKind::Name(name) if !self.bindings.contains_key(name) => {
                let mut predicate = self.predicate(name, expr, Op::Eq, "", scope);
                predicate.values = vec![Value::Bool { value: true }];
                predicate.case_sensitive = true;
                predicate.span = expr.span;
                IrExpr::Predicate(predicate)
            }
            ExprKind::Binary { op, left, right } => {
                let Some((ir_op, case_sensitive, negated)) = binary_op(op) else { return self.opaque(expr) };
                let Some(field) = column_name(left) else { return self.opaque(expr) };
                let mut predicate = self.predicate(&field, left, ir_op, op, scope);
                predicate.case_sensitive = case_sensitive;
                predicate.negated = negated;
                predicate.span = expr.span;
                predicate.values = if ir_op == Op::RegexMatch {
                    match self.literal(right) {
                        Some(Value::String { value }) => vec![Value::Regex { pattern: value, flags: String::new() }],
                        _ => vec![self.value(right, scope)],
                    }
                } else {
                    self.values(std::slice::from_ref(right.as_ref()), scope)
                };
                predicate.time_filter = is_time_column(&field) && self.is_time_value(right);
                if predicate.time_filter && matches!(ir_op, Op::Gt | Op::Ge) {
                    self.set_time_windows(predicate.dataset, right, scope);
                }
                IrExpr::Predicate(predicate)
            }
            ExprKind::List { op, left, items } => {
                let Some(field) = column_name(left) else { return self.opaque(expr) };
                let (ir_op, case_sensitive, all) = match op.trim_start_matches('!') {
                    "in" => (Op::In, true, false),
                    "in~" => (Op::In, false, false),
                    "has_all" => (Op::Match, false, true),
                    _ => (Op::Match, false, false),
                };
                let mut predicate = self.predicate(&field, left, ir_op, op, scope);
                predicate.case_sensitive = case_sensitive;
                predicate.all = all;
                predicate.negated = op.starts_with('!');
                predicate.values = self.values(items, scope);
                predicate.span = expr.span;
                IrExpr::Predicate(predicate)
            }
            ExprKind::Between { negated, left, low, high } => {
                let Some(field) = column_name(left) else { return self.opaque(expr) };
                let written = if *negated { "!between" } else { "between" };
                let mut predicate = self.predicate(&field, left, Op::Between, written, scope);
                predicate.case_sensitive = true;
                predicate.negated = *negated;
                predicate.values = vec![self.value(low, scope), self.value(high, scope)];
                predicate.span = expr.span;
                predicate.time_filter = is_time_column(&field) && (self.is_time_value(low) || self.is_time_value(high));
                if predicate.time_filter {
                    self.set_time_windows(predicate.dataset, low, scope);
                }
                IrExpr::Predicate(predicate)
            }
            _ => self.opaque(expr),
        }
    }

    fn opaque(&self, expr: &Expr) -> IrExpr {
        IrExpr::Opaque { text: self.slice(expr.span), span: expr.span }
    }

    /// A predicate skeleton for `field`: its dataset, join resolution and origin.
    fn predicate(&self, field: &str, left: &Expr, op: Op, written: &str, scope: &Scope) -> Predicate {
        let mut dataset = scope.dataset;
        let mut resolved_field = None;
        let mut origin = FieldOrigin::Event;
        if let ExprKind::Member { target, name } = &left.kind
            && let Some(side) = target.as_name()
            && (side == "$right" || side == "$left")
        {
            if side == "$right" {
                dataset = scope.joined.last().copied().or(dataset);
            }
            resolved_field = Some(name.text.clone());
        } else if let Some(computed) = scope.computed.get(field) {
            origin = *computed;
        } else if let Some(old) = scope.renamed.get(field) {
            resolved_field = Some(old.clone());
        } else if let Some((base, suffix)) = join_suffix(field)
            && !scope.joined.is_empty()
        {
            let index = (suffix as usize).saturating_sub(1).min(scope.joined.len() - 1);
            dataset = scope.joined.get(index).copied();
            resolved_field = Some(base.to_owned());
        }
        Predicate {
            field: field.to_owned(),
            dataset,
            resolved_field,
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
            span: left.span,
        }
    }

    /// The values a right-hand side stands for: lists flattened, `let` names inlined.
    fn values(&mut self, items: &[Expr], scope: &mut Scope) -> Vec<Value> {
        let mut out = Vec::new();
        for item in flatten_values(items) {
            if let Some(name) = item.as_name()
                && let Some(Binding::Values(values)) = self.bindings.get(name)
            {
                out.extend(values.iter().cloned());
                continue;
            }
            out.push(self.value(item, scope));
        }
        out
    }

    fn value(&mut self, expr: &Expr, scope: &mut Scope) -> Value {
        if let Some(value) = self.literal(expr) {
            return value;
        }
        match &expr.kind {
            ExprKind::Name(name) => match self.bindings.get(name) {
                Some(Binding::Values(values)) if values.len() == 1 => values[0].clone(),
                Some(_) => Value::Variable { name: name.clone(), span: expr.span },
                None => Value::Column { name: name.clone() },
            },
            ExprKind::Member { target, name } if matches!(target.as_name(), Some("$left" | "$right")) => {
                Value::Column { name: name.text.clone() }
            }
            ExprKind::Member { .. } => Value::Column { name: self.slice(expr.span) },
            ExprKind::Pipe { .. } => {
                // A sub-query (`x in (T | project y)`): its table is a dataset of the query.
                let mut inner = Scope::default();
                self.lower_pipeline_in(expr, 1, DatasetRole::LetBound, false, &mut inner);
                let _ = scope;
                Value::Call { text: self.slice(expr.span), span: expr.span }
            }
            _ => Value::Call { text: self.slice(expr.span), span: expr.span },
        }
    }

    /// `ago(1h)`, `now()`, `datetime(...)`, a `let` bound to one of these.
    fn is_time_value(&self, expr: &Expr) -> bool {
        match &expr.kind {
            ExprKind::Call { callee, .. } => matches!(
                callee.as_name(),
                Some(
                    "ago"
                        | "now"
                        | "startofday"
                        | "startofweek"
                        | "startofmonth"
                        | "endofday"
                        | "datetime_add"
                        | "todatetime"
                        | "bin"
                )
            ),
            ExprKind::Literal(literal) => literal.kind == LiteralKind::Datetime,
            ExprKind::Name(name) => self.bindings.contains_key(name),
            ExprKind::Binary { left, right, .. } => self.is_time_value(left) || self.is_time_value(right),
            ExprKind::Paren(inner) => self.is_time_value(inner),
            _ => false,
        }
    }

    /// Records the lookback on the predicate's dataset, and on every union member when the
    /// predicate filters the union's output.
    fn set_time_windows(&mut self, dataset: Option<usize>, value: &Expr, scope: &Scope) {
        self.set_time_window(dataset, value);
        if dataset.is_some() && dataset == scope.dataset {
            for member in scope.union_members.clone() {
                self.set_time_window(Some(member), value);
            }
        }
    }

    /// Records the lookback of `ago(X)` (directly or through a `let`) on the dataset.
    fn set_time_window(&mut self, dataset: Option<usize>, value: &Expr) {
        let Some(index) = dataset else { return };
        let Some((text, span)) = self.lookback(value) else { return };
        let Some(dataset) = self.analysis.datasets.get_mut(index) else { return };
        if dataset.time_window.is_none() {
            let seconds = duration_seconds(&text);
            dataset.time_window = Some(TimeWindow { text, seconds, span });
        }
    }

    fn lookback(&self, value: &Expr) -> Option<(String, Span)> {
        match &value.kind {
            ExprKind::Call { callee, args } => match callee.as_name() {
                Some("ago") => {
                    let arg = args.first()?;
                    match &arg.kind {
                        ExprKind::Literal(literal) if literal.kind == LiteralKind::Timespan => {
                            Some((literal.value.clone(), arg.span))
                        }
                        ExprKind::Name(name) => match self.bindings.get(name) {
                            Some(Binding::Values(values)) => match values.first() {
                                Some(Value::Typed { r#type, text }) if r#type == "timespan" => {
                                    Some((text.clone(), arg.span))
                                }
                                _ => None,
                            },
                            _ => None,
                        },
                        _ => None,
                    }
                }
                Some("startofday" | "startofweek" | "startofmonth" | "bin") => self.lookback(args.first()?),
                _ => None,
            },
            ExprKind::Name(name) => match self.bindings.get(name) {
                Some(Binding::Values(values)) => match values.first() {
                    Some(Value::Typed { r#type, text }) if r#type == "timespan" => Some((text.clone(), value.span)),
                    _ => None,
                },
                _ => self.lookbacks.get(name).cloned(),
            },
            ExprKind::Paren(inner) => self.lookback(inner),
            _ => None,
        }
    }
}

fn combine(mut items: Vec<IrExpr>) -> Option<IrExpr> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(IrExpr::And { items }),
    }
}

fn number_value(text: &str, negative: bool) -> Option<Value> {
    let number = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        serde_json::Number::from(i64::from_str_radix(hex, 16).ok()? * if negative { -1 } else { 1 })
    } else if let Ok(integer) = text.parse::<i64>() {
        serde_json::Number::from(if negative { -integer } else { integer })
    } else {
        let real: f64 = text.parse().ok()?;
        serde_json::Number::from_f64(if negative { -real } else { real })?
    };
    Some(Value::Number { value: number })
}

/// The vocabulary of PRODUCT.md §5 for a binary operator: (op, case sensitive, negated).
fn binary_op(written: &str) -> Option<(Op, bool, bool)> {
    let negated = written.starts_with('!') && written != "!=" && written != "!~";
    let base = written.trim_start_matches('!');
    let case_sensitive = base.ends_with("_cs") || base.ends_with("cs") && base.starts_with("not");
    let base = base.trim_end_matches("_cs");
    Some(match base {
        "==" | "=" => (Op::Eq, true, false),
        "=~" | ":" => (if base == ":" { Op::Match } else { Op::Eq }, false, false),
        "!=" | "<>" => (Op::Eq, true, true),
        "!~" => (Op::Eq, false, true),
        "~" => (Op::Eq, false, true),
        "<" => (Op::Lt, true, false),
        "<=" => (Op::Le, true, false),
        ">" => (Op::Gt, true, false),
        ">=" => (Op::Ge, true, false),
        "has" => (Op::Match, case_sensitive, negated),
        "nothas" => (Op::Match, false, true),
        "hasprefix" => (Op::StartsWith, case_sensitive, negated),
        "hassuffix" => (Op::EndsWith, case_sensitive, negated),
        "contains" => (Op::Contains, case_sensitive, negated),
        "notcontains" => (Op::Contains, false, true),
        "notcontainscs" => (Op::Contains, true, true),
        "startswith" => (Op::StartsWith, case_sensitive, negated),
        "endswith" => (Op::EndsWith, case_sensitive, negated),
        "like" => (Op::Wildcard, case_sensitive, negated),
        "notlike" => (Op::Wildcard, false, true),
        "matches regex" => (Op::RegexMatch, true, false),
        _ => return None,
    })
}

/// The column a predicate's left side names: `X`, `['X y']`, `$left.X`, `Properties.x`.
fn column_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(name) => Some(name.clone()),
        ExprKind::Member { target, name } => match target.as_name() {
            Some("$left" | "$right") => Some(name.text.clone()),
            _ => column_name(target).map(|base| format!("{base}.{}", name.text)),
        },
        ExprKind::Paren(inner) => column_name(inner),
        // Conversions do not change which field is compared: `tostring(AdditionalFields.x)`
        // compares `AdditionalFields.x`.
        ExprKind::Call { callee, args } if args.is_empty() && callee.as_name() == Some("ingestion_time") => {
            Some("ingestion_time()".to_owned())
        }
        ExprKind::Call { callee, args } if args.len() == 1 => match callee.as_name() {
            Some("tostring" | "tolower" | "toupper" | "trim" | "tolong" | "toint" | "todynamic" | "parse_json") => {
                args.first().and_then(column_name)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The column a `by` key groups on: `DeviceId`, `bin(Timestamp, 1h)` groups on `Timestamp`.
fn key_column(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Call { callee, args } if matches!(callee.as_name(), Some("bin" | "floor" | "bin_at")) => {
            args.first().and_then(column_name)
        }
        _ => column_name(expr),
    }
}

/// The name a summarize aggregate gets: its assigned name, or Kusto's default (`count_`,
/// `dcount_X`, `make_set_X`).
fn aggregate_name(item: &Expr, text: &str) -> String {
    match &item.kind {
        ExprKind::Assign { target, .. } => {
            target.as_name().map(str::to_owned).unwrap_or_else(|| target.span.slice(text).unwrap_or("").to_owned())
        }
        ExprKind::Call { callee, args } => {
            let function = callee.as_name().unwrap_or("");
            match args.first().and_then(column_name) {
                Some(column) if function != "count" => format!("{function}_{column}"),
                _ => format!("{function}_"),
            }
        }
        _ => item.span.slice(text).unwrap_or("").to_owned(),
    }
}

fn assigned_names(target: &Expr) -> Vec<String> {
    match &target.kind {
        ExprKind::Name(name) => vec![name.clone()],
        ExprKind::Tuple(items) => items.iter().filter_map(|item| item.as_name().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// `DeviceId` or `$left.A == $right.B` (the left column names the key).
fn join_key(key: &Expr) -> Option<String> {
    match &key.kind {
        ExprKind::Binary { left, .. } => column_name(left),
        _ => column_name(key),
    }
}

/// `InitiatingProcessCommandLine1` is the first joined table's `InitiatingProcessCommandLine`.
/// Names whose digit is part of the column (`SHA1`, `MD5`, `IPv4`) are left alone.
fn join_suffix(field: &str) -> Option<(&str, u32)> {
    let last = field.chars().last()?;
    let digit = last.to_digit(10).filter(|digit| *digit > 0)?;
    let base = &field[..field.len() - 1];
    let before = base.chars().last()?;
    if !before.is_alphabetic() || base.len() < 4 {
        return None;
    }
    let lower = base.to_ascii_lowercase();
    if lower.ends_with("sha") || lower.ends_with("md") || lower.ends_with("ipv") || lower.ends_with("base") {
        return None;
    }
    Some((base, digit))
}

fn is_time_column(field: &str) -> bool {
    let lower = field.to_ascii_lowercase();
    matches!(lower.as_str(), "timestamp" | "timegenerated" | "eventtime" | "starttime" | "endtime" | "ingestion_time()")
        || lower.ends_with("time")
        || lower.ends_with("timestamp")
        || lower.ends_with("datetime")
        || lower.ends_with("timeutc")
}

fn is_tabular(expr: &Expr, bindings: &HashMap<String, Binding>) -> bool {
    match &expr.kind {
        ExprKind::Pipe { .. } | ExprKind::Operator(_) | ExprKind::Table { .. } => true,
        ExprKind::Paren(inner) => is_tabular(inner, bindings),
        ExprKind::Call { callee, .. } => callee.as_name() == Some("materialize") || callee.as_name() == Some("view"),
        ExprKind::Name(name) => {
            matches!(bindings.get(name), Some(Binding::Table(_)))
                || !bindings.contains_key(name) && name.chars().next().is_some_and(char::is_uppercase)
        }
        _ => false,
    }
}

fn stage_kind(operator: &Operator) -> String {
    match operator.keyword.as_str() {
        "filter" => "where".to_owned(),
        "order" => "sort".to_owned(),
        "limit" => "take".to_owned(),
        "mvexpand" => "mv-expand".to_owned(),
        "mvapply" => "mv-apply".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use detwiki_ir::{Analysis, FieldOrigin, Op, Predicate, Value};

    fn analyze_one(text: &str) -> Analysis {
        let mut analyses = crate::analyze(text);
        assert_eq!(analyses.len(), 1, "{text}");
        analyses.remove(0)
    }

    fn predicates(analysis: &Analysis) -> Vec<Predicate> {
        let mut out = Vec::new();
        for stage in &analysis.stages {
            if let Some(tree) = &stage.predicate {
                tree.for_each_predicate(&mut |predicate, _| out.push(predicate.clone()));
            }
        }
        out
    }

    #[test]
    fn join_suffixes_name_the_joined_tables_in_order() {
        let analysis = analyze_one(
            "A\n| join (B | where P == 1) on K\n| join (C) on K\n| where AccountName2 == \"a\" and FileName1 == \"b\" and SHA1 == \"c\"",
        );
        let names: Vec<&str> = analysis.datasets.iter().map(|dataset| dataset.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        let predicates = predicates(&analysis);
        let find = |field: &str| predicates.iter().find(|predicate| predicate.field == field).cloned();
        assert_eq!(find("P").and_then(|predicate| predicate.dataset), Some(1));
        let second = find("AccountName2").unwrap_or_else(|| panic!("AccountName2 missing"));
        assert_eq!((second.dataset, second.resolved_field.as_deref()), (Some(2), Some("AccountName")));
        let first = find("FileName1").unwrap_or_else(|| panic!("FileName1 missing"));
        assert_eq!((first.dataset, first.resolved_field.as_deref()), (Some(1), Some("FileName")));
        let sha1 = find("SHA1").unwrap_or_else(|| panic!("SHA1 missing"));
        assert_eq!((sha1.dataset, sha1.resolved_field), (Some(0), None));
        assert_eq!(analysis.group_by, ["K"]);
    }

    #[test]
    fn lets_inline_or_stay_variables_and_columns_stay_columns() {
        let analysis = analyze_one(
            "let n = toscalar(T | count);\nlet names = dynamic([\"a\", \"b\"]);\nT\n| where A == n and B in (names) and C == D",
        );
        let predicates = predicates(&analysis);
        assert!(matches!(&predicates[0].values[0], Value::Variable { name, .. } if name == "n"));
        assert_eq!(predicates[1].values, [Value::string("a"), Value::string("b")]);
        assert_eq!(predicates[1].op, Op::In);
        assert_eq!(predicates[2].values, [Value::Column { name: "D".to_owned() }]);
        assert!(predicates.iter().all(|predicate| predicate.is_literal() == (predicate.field == "B")));
    }

    #[test]
    fn computed_columns_thresholds_and_exclusions() {
        let analysis = analyze_one(
            "T\n| project Cmd = tolower(CommandLine), Host\n| where Cmd has \"x\" and Host !endswith \".local\" and not(Host has \"dc\")\n| summarize Count = count() by Host\n| where Count > 10",
        );
        let predicates = predicates(&analysis);
        assert!(matches!(predicates[0].origin, FieldOrigin::Computed { .. }));
        assert_eq!((predicates[1].op, predicates[1].negated), (Op::EndsWith, true));
        let where_stage = &analysis.stages[2];
        assert_eq!(where_stage.predicate.as_ref().map(|tree| tree.exclusions().len()), Some(2));
        let last = analysis.stages.last().map(|stage| stage.thresholds.len());
        assert_eq!(last, Some(1));
        assert_eq!(analysis.group_by, ["Host"]);
        assert_eq!(analysis.output_fields, ["Count", "Host"]);
    }

    #[test]
    fn a_lookback_bound_by_let_sets_the_window() {
        let analysis = analyze_one("let start = ago(7d);\nDeviceEvents\n| where Timestamp >= start");
        let window = analysis.datasets[0].time_window.as_ref().map(|window| window.text.as_str());
        assert_eq!(window, Some("7d"));
        assert!(predicates(&analysis)[0].time_filter);
    }

    #[test]
    fn a_time_filter_after_a_union_bounds_every_member() {
        let analysis = analyze_one("union DeviceProcessEvents, DeviceFileEvents\n| where Timestamp > ago(2d)");
        let windows: Vec<Option<u64>> = analysis
            .datasets
            .iter()
            .map(|dataset| dataset.time_window.as_ref().and_then(|window| window.seconds))
            .collect();
        assert_eq!(windows, [Some(172_800), Some(172_800)]);
    }
}
