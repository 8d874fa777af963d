//! Lowering a parsed unit to the IR: parameters first, then one stage per operator of each
//! pipeline, predicate trees in the shared vocabulary, datasets with their roles and time
//! windows.
//!
//! Sub-queries on the right of `join`, `lookup` and `union` do not become stages of their own:
//! their filters become the predicate of the join (or union) stage, attributed to the joined
//! dataset, so the top-level pipeline reads as the query does.

use std::collections::{HashMap, HashSet};

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr as IrExpr, FieldFunction, FieldFunctionKind, FieldOrigin, KeyField, Op,
    Parameter, ParameterKind, Predicate, Span, Stage, TimeWindow, Value, duration_seconds,
};

use crate::ast::{Expr, ExprKind, LiteralKind, Operator, OperatorKind, StatementKind};
use crate::columns::{ColumnSource, Columns, Rest, Schema, aggregate_names, expression_name};
use crate::diagnostics;
use crate::syntax::flatten_values;
use crate::units::Unit;

/// What a `let` name stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// Literal values (a scalar has one, a list several).
    Values(Vec<Value>),
    /// A tabular expression: the dataset it reads (none for a `datatable`) and its output columns.
    Table { dataset: Option<usize>, columns: Columns },
    /// Anything else: a function, a computed scalar.
    Opaque,
}

pub fn lower(text: &str, unit: &Unit, schema: Option<&Schema>) -> Analysis {
    let mut lowering = Lowering {
        text,
        schema,
        analysis: Analysis { span: unit.span, diagnostics: unit.parsed.diagnostics.clone(), ..Analysis::default() },
        bindings: HashMap::new(),
        lookbacks: HashMap::new(),
        summarized_anywhere: false,
        join_keys: Vec::new(),
        unresolved: Vec::new(),
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
    let mut seen = HashSet::new();
    for (name, span) in std::mem::take(&mut lowering.unresolved) {
        if seen.insert(span.start) {
            lowering.analysis.diagnostics.push(diagnostics::unknown_column(&name, span));
        }
    }
    lowering.analysis
}

struct Lowering<'t> {
    text: &'t str,
    /// Table schemas: with them a table's columns are known and unknown names are reported.
    schema: Option<&'t Schema>,
    analysis: Analysis,
    bindings: HashMap<String, Binding>,
    /// `let start = ago(7d)`, `let timeframe = 2*1h`: names bound to a lookback or a duration,
    /// so `Timestamp > start` and `ago(timeframe)` set a window.
    lookbacks: HashMap<String, Lookback>,
    summarized_anywhere: bool,
    join_keys: Vec<String>,
    /// Column references no input column answers (only gathered with a schema).
    unresolved: Vec<(String, Span)>,
}

/// A lookback: its text (as written, or the duration a `let` arithmetic gives), its length and
/// where it is written.
#[derive(Debug, Clone)]
struct Lookback {
    text: String,
    seconds: Option<u64>,
    span: Span,
}

/// What a pipeline knows about its columns while it is lowered.
#[derive(Debug, Default)]
struct Scope {
    dataset: Option<usize>,
    /// The output columns of the last operator lowered, each with where it comes from.
    columns: Columns,
    /// Aggregates of the last summarize: a where on them is a threshold.
    aggregates: HashSet<String>,
    /// Datasets joined so far, in order: with unknown schemas `X1` names the first one's `X`.
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
        if let Some(lookback) = self.lookback(value).or_else(|| self.duration(value)) {
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
                let (dataset, columns) = self.lower_pipeline(value, 1, DatasetRole::LetBound, true);
                (ParameterKind::Tabular, Vec::new(), Binding::Table { dataset, columns })
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

    /// Lowers the argument of every `toscalar(...)` call inside an operator's expression. Only
    /// those: a pipe elsewhere in an expression is error recovery (`where (a | project b` with
    /// the parenthesis left open), not a table the query reads.
    fn lower_toscalar_calls(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Call { callee, args } if callee.as_name() == Some("toscalar") => {
                if let Some(first) = args.first() {
                    self.lower_embedded_pipelines(first);
                }
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|arg| self.lower_toscalar_calls(arg)),
            ExprKind::Assign { value, .. } | ExprKind::Paren(value) => self.lower_toscalar_calls(value),
            ExprKind::Binary { left, right, .. } => {
                self.lower_toscalar_calls(left);
                self.lower_toscalar_calls(right);
            }
            ExprKind::Logical { items, .. } => items.iter().for_each(|item| self.lower_toscalar_calls(item)),
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
    /// stage. Returns the pipeline's dataset and output columns.
    fn lower_pipeline(&mut self, expr: &Expr, depth: u32, role: DatasetRole, emit: bool) -> (Option<usize>, Columns) {
        let mut scope = Scope::default();
        self.lower_pipeline_in(expr, depth, role, emit, &mut scope);
        (scope.dataset, scope.columns)
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
        scope.columns = self.source_columns(source, scope.dataset);
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
                Some(Binding::Table { dataset, .. }) => *dataset,
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

    /// The output columns of a pipeline's source: a let-bound table's, a known table's schema,
    /// the declared columns of a `datatable`, or open columns when nothing is known.
    fn source_columns(&self, source: &Expr, dataset: Option<usize>) -> Columns {
        match &source.kind {
            ExprKind::Name(name) => match self.bindings.get(name) {
                Some(Binding::Table { columns, .. }) => columns.clone(),
                Some(_) => Columns::open(dataset),
                None => self.table_columns(name, dataset),
            },
            ExprKind::Table { columns, .. } => {
                Columns::declared(columns.iter().map(|column| column.name.text.clone()), source.span)
            }
            ExprKind::Call { callee, args } if callee.as_name() == Some("table") => {
                match args.first().map(|arg| &arg.kind) {
                    Some(ExprKind::Literal(literal)) if literal.kind == LiteralKind::String => {
                        self.table_columns(&literal.value, dataset)
                    }
                    _ => Columns::open(dataset),
                }
            }
            ExprKind::Paren(inner) => self.source_columns(inner, dataset),
            // `union *`, `union Device*`: every table of the schema the pattern matches.
            ExprKind::Star => self.matching_tables_columns("*", dataset),
            ExprKind::Wildcard(pattern) => self.matching_tables_columns(pattern, dataset),
            _ => Columns::open(dataset),
        }
    }

    /// The columns of every schema table a pattern matches (`union *`, `union Device*`, a plain
    /// `search`), open without a schema.
    fn matching_tables_columns(&self, pattern: &str, dataset: Option<usize>) -> Columns {
        let Some(schema) = self.schema else { return Columns::open(dataset) };
        let members: Vec<Columns> = schema
            .table_names()
            .filter(|name| wildcard_matches(pattern, name))
            .map(|name| self.table_columns(name, dataset))
            .collect();
        if members.is_empty() { Columns::open(dataset) } else { Columns::union(&members, false) }
    }

    fn table_columns(&self, name: &str, dataset: Option<usize>) -> Columns {
        match self.schema.and_then(|schema| schema.table(name)) {
            Some(names) => Columns::of_table(dataset, names, self.schema.and_then(|schema| schema.types(name))),
            None => Columns::open(dataset),
        }
    }

    fn lower_operator(&mut self, operator: &Operator, depth: u32, emit: bool, scope: &mut Scope) {
        let kind = stage_kind(operator);
        let mut stage = Stage::new(kind, operator.span);
        stage.depth = depth;
        stage.dataset = scope.dataset;
        // Columns an operator makes without a definition of their own (a `parse` pattern's).
        let made_here = FieldOrigin::Computed { definition: operator.span };
        let input = scope.columns.clone();
        match operator.kind {
            OperatorKind::Where => {
                if let Some(predicate) = operator.items.first() {
                    self.check_references(predicate, &input);
                    // `where t == toscalar(T2 | summarize max(t))` reads T2 too.
                    self.lower_toscalar_calls(predicate);
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
                stage.predicate = combine(std::mem::take(&mut inner.collected));
                if let Some(joined) = inner.dataset {
                    scope.joined.push(joined);
                }
                let mut right_keys = Vec::new();
                let sides = [(&input, scope.dataset), (&inner.columns, inner.dataset)];
                for key in &operator.on {
                    join_key_fields(key, sides, &mut stage.keys);
                    self.check_join_key(key, &input, &inner.columns, &mut right_keys);
                    if let Some(key) = join_key(key)
                        && depth == 0
                        && !self.join_keys.contains(&key)
                    {
                        self.join_keys.push(key);
                    }
                }
                let join_kind = operator
                    .parameters
                    .iter()
                    .find(|(name, _)| name.text == "kind")
                    .map(|(_, value)| self.slice(value.span).to_ascii_lowercase())
                    .unwrap_or_default();
                scope.columns = match join_kind.as_str() {
                    "leftsemi" | "leftanti" | "leftantisemi" | "anti" => input,
                    "rightsemi" | "rightanti" | "rightantisemi" => inner.columns,
                    // A lookup keeps one copy of each key; a join keeps both (`K`, `K1`).
                    _ if operator.kind == OperatorKind::Lookup => Columns::joined(&input, &inner.columns, &right_keys),
                    _ => Columns::joined(&input, &inner.columns, &[]),
                };
            }
            OperatorKind::Union => {
                let mut collected = Vec::new();
                let mut first = None;
                let mut members = Vec::new();
                if scope.dataset.is_some() {
                    members.push(input);
                }
                for member in &operator.sources {
                    let mut inner = Scope::default();
                    self.lower_pipeline_in(member, depth + 1, DatasetRole::UnionMember, false, &mut inner);
                    first = first.or(inner.dataset);
                    scope.union_members.extend(inner.dataset);
                    collected.extend(inner.collected);
                    members.push(inner.columns);
                }
                stage.predicate = combine(collected);
                if scope.dataset.is_none() {
                    scope.dataset = first;
                    stage.dataset = first;
                }
                scope.columns = Columns::union(&members, true);
                // `withsource=TableName`: the name of each row's table.
                for (name, value) in &operator.parameters {
                    if name.text == "withsource"
                        && let Some(column) = value.as_name()
                    {
                        let computed = FieldOrigin::Computed { definition: value.span };
                        scope.columns.set(column, ColumnSource::Derived(computed));
                    }
                }
            }
            OperatorKind::Find | OperatorKind::Search => {
                let piped = scope.dataset.is_some() && operator.sources.is_empty();
                let mut first = None;
                let mut members = Vec::new();
                for table in &operator.sources {
                    let dataset = self.dataset_of(table, DatasetRole::UnionMember);
                    members.push(self.source_columns(table, dataset));
                    first = first.or(dataset);
                }
                if scope.dataset.is_none() {
                    scope.dataset = first;
                    stage.dataset = first;
                }
                // `search in (A, B)` and `find in (A, B)` read the columns of their tables; a
                // plain `search` or `find` every table's.
                // `T | search "x"` searches T.
                scope.columns = if piped {
                    input.clone()
                } else if members.is_empty() {
                    self.matching_tables_columns("*", scope.dataset)
                } else {
                    Columns::union(&members, true)
                };
                // Search adds the name of each row's table.
                if operator.kind == OperatorKind::Search {
                    let computed = FieldOrigin::Computed { definition: operator.span };
                    scope.columns.set("$table", ColumnSource::Derived(computed));
                }
                if let Some(predicate) = operator.items.first() {
                    let columns = scope.columns.clone();
                    self.check_references(predicate, &columns);
                    stage.predicate = Some(self.lower_condition(predicate, scope));
                }
                // Find's output is its own (`source_`, `pack_`, the projected columns).
                if operator.kind == OperatorKind::Find {
                    scope.columns = Columns::open(scope.dataset);
                }
            }
            OperatorKind::Extend | OperatorKind::Print | OperatorKind::Serialize => {
                if operator.kind == OperatorKind::Print {
                    scope.columns = Columns::declared(Vec::new(), operator.span);
                }
                // Every item reads the input columns: a column made by one item is not visible
                // to the next (Kusto reports it as unknown).
                for item in &operator.items {
                    self.check_references(item, &input);
                    // `extend n = toscalar(T2 | count)` reads T2 (found by the held-out probes).
                    self.lower_toscalar_calls(item);
                }
                for (index, item) in operator.items.iter().enumerate() {
                    let computed = ColumnSource::Derived(FieldOrigin::Computed { definition: item.span });
                    match &item.kind {
                        ExprKind::Assign { target, .. } => {
                            for name in assigned_names(target) {
                                scope.columns.set(&name, computed.clone());
                            }
                        }
                        _ if operator.kind == OperatorKind::Print => {
                            scope.columns.set(&format!("print_{index}"), computed);
                        }
                        ExprKind::Name(_) => {}
                        _ => {
                            let name = expression_name(item).unwrap_or_else(|| next_column_name(&scope.columns));
                            scope.columns.set(&name, computed);
                        }
                    }
                }
            }
            OperatorKind::Project | OperatorKind::Distinct => {
                let mut outputs = Vec::new();
                let mut columns = Columns::declared(Vec::new(), operator.span);
                for item in &operator.items {
                    self.check_references(item, &input);
                    match &item.kind {
                        ExprKind::Star => columns = input.clone(),
                        ExprKind::Wildcard(pattern) => {
                            for name in input.names().filter(|name| wildcard_matches(pattern, name)) {
                                if let Some(source) = input.get(name) {
                                    columns.set(name, source.clone());
                                }
                            }
                            if !input.is_closed() {
                                columns.rest = input.rest;
                            }
                        }
                        ExprKind::Assign { target, value } => {
                            for name in assigned_names(target) {
                                columns.set(&name, self.item_source(value, item.span, &input));
                                outputs.push(name);
                            }
                        }
                        _ => {
                            let name = expression_name(item).unwrap_or_else(|| next_column_name(&columns));
                            columns.set(&name, self.item_source(item, item.span, &input));
                            if let Some(name) = column_name(item) {
                                outputs.push(name);
                            }
                        }
                    }
                }
                scope.columns = columns;
                if depth == 0 {
                    self.analysis.output_fields = outputs;
                }
            }
            OperatorKind::ProjectAway | OperatorKind::ProjectKeep | OperatorKind::ProjectReorder => {
                let mut listed = Vec::new();
                for item in &operator.items {
                    let item = match &item.kind {
                        ExprKind::Sorted { expr, .. } => expr.as_ref(),
                        _ => item,
                    };
                    match &item.kind {
                        ExprKind::Wildcard(pattern) => listed.push(pattern.clone()),
                        ExprKind::Name(name) => {
                            self.check_references(item, &input);
                            listed.push(name.clone());
                        }
                        _ => {}
                    }
                }
                let matches = |name: &str| listed.iter().any(|pattern| wildcard_matches(pattern, name));
                match operator.kind {
                    OperatorKind::ProjectAway => scope.columns.retain(|name| !matches(name)),
                    OperatorKind::ProjectKeep => {
                        scope.columns.retain(matches);
                        scope.columns.rest = if input.is_closed() { Rest::Closed } else { input.rest };
                    }
                    _ => {}
                }
            }
            OperatorKind::ProjectRename => {
                for item in &operator.items {
                    if let ExprKind::Assign { target, value } = &item.kind
                        && let (Some(new), Some(old)) = (target.as_name(), value.as_name())
                    {
                        self.check_references(value, &input);
                        let source = input
                            .resolve(old)
                            .unwrap_or(ColumnSource::Event { dataset: scope.dataset, field: old.to_owned() });
                        scope.columns.remove(old);
                        scope.columns.set(new, source);
                    }
                }
            }
            OperatorKind::Summarize | OperatorKind::MakeSeries | OperatorKind::Count => {
                let mut outputs = Vec::new();
                let mut columns = Columns::declared(Vec::new(), operator.span);
                scope.aggregates.clear();
                for key in operator.by.iter().chain(&operator.on) {
                    self.check_references(key, &input);
                }
                for key in &operator.by {
                    let (name, source) = match &key.kind {
                        ExprKind::Assign { target, value } => {
                            (target.as_name().map(str::to_owned), self.item_source(value, key.span, &input))
                        }
                        _ => (
                            expression_name(key).or_else(|| Some(next_column_name(&columns))),
                            self.item_source(key, key.span, &input),
                        ),
                    };
                    if let Some(name) = name {
                        let name = columns.push_unique(&name, source);
                        let key_name = key_column(key).unwrap_or_else(|| name.clone());
                        stage.aggregation_keys.push(key_name);
                        outputs.push(name);
                    }
                }
                for item in &operator.items {
                    self.check_references(item, &input);
                    // `arg_max(t, *)` keeps every input column: with open input columns the
                    // output is open too.
                    if is_row_valued_with_star(item) && !input.is_closed() {
                        columns.rest = input.rest;
                    }
                    for (name, source) in self.aggregate_columns(item, &input, &operator.by) {
                        let name = if name == "*" { continue } else { columns.push_unique(&name, source.clone()) };
                        if matches!(source, ColumnSource::Derived(FieldOrigin::Aggregate { .. })) {
                            scope.aggregates.insert(name.clone());
                        }
                        outputs.push(name);
                    }
                }
                if operator.kind == OperatorKind::Count {
                    let name = columns.push_unique(
                        "Count",
                        ColumnSource::Derived(FieldOrigin::Aggregate { definition: operator.span }),
                    );
                    scope.aggregates.insert(name);
                }
                // The axis of a series is an array of bins: computed.
                for axis in &operator.on {
                    if let Some(name) = expression_name(axis) {
                        columns.set(&name, ColumnSource::Derived(FieldOrigin::Computed { definition: axis.span }));
                    }
                }
                scope.columns = columns;
                if depth == 0 && operator.kind != OperatorKind::Count {
                    self.summarized_anywhere = true;
                    for key in &stage.aggregation_keys {
                        if !self.analysis.group_by.contains(key) {
                            self.analysis.group_by.push(key.clone());
                        }
                    }
                    self.analysis.output_fields = outputs;
                }
            }
            OperatorKind::MvExpand | OperatorKind::MvApply => {
                for item in &operator.items {
                    self.check_references(item, &input);
                    match &item.kind {
                        ExprKind::Assign { target, .. } => {
                            for name in assigned_names(target) {
                                let computed = FieldOrigin::Computed { definition: item.span };
                                scope.columns.set(&name, ColumnSource::Derived(computed));
                            }
                        }
                        ExprKind::Name(_) => {}
                        // `mv-expand todynamic(RawEventData.Folders)` makes `RawEventData_Folders`,
                        // the elements of an event field.
                        _ => {
                            if let Some(name) = expression_name(item) {
                                scope.columns.set(&name, self.path_source(item, &input));
                            }
                        }
                    }
                }
                // `with_itemindex = Index`: the position of each element.
                for (name, value) in &operator.parameters {
                    if name.text == "with_itemindex"
                        && let Some(index) = value.as_name()
                    {
                        let computed = FieldOrigin::Computed { definition: value.span };
                        scope.columns.set(index, ColumnSource::Derived(computed));
                    }
                }
                // mv-apply's sub-query runs on each row's expanded values: its filters filter
                // the rows and its output is the operator's.
                if let Some(body) = operator.sources.first() {
                    let mut inner = Scope {
                        dataset: scope.dataset,
                        columns: scope.columns.clone(),
                        joined: scope.joined.clone(),
                        ..Scope::default()
                    };
                    self.lower_pipeline_in(body, depth + 1, DatasetRole::LetBound, false, &mut inner);
                    stage.predicate = combine(std::mem::take(&mut inner.collected));
                    // Each row keeps its columns and gains the sub-query's.
                    for name in inner.columns.names() {
                        if let Some(source) = inner.columns.get(name) {
                            scope.columns.set(name, source.clone());
                        }
                    }
                }
            }
            OperatorKind::Parse | OperatorKind::ParseWhere => {
                if let Some(source) = operator.items.first() {
                    self.check_references(source, &input);
                }
                for name in &operator.declared {
                    scope.columns.set(&name.text, ColumnSource::Derived(made_here));
                }
            }
            OperatorKind::Scan => {
                for name in &operator.declared {
                    scope.columns.set(&name.text, ColumnSource::Derived(made_here));
                }
            }
            OperatorKind::Range => scope.columns = Columns::made_by(made_here),
            OperatorKind::Getschema => {
                let names = ["ColumnName", "ColumnOrdinal", "DataType", "ColumnType"].map(str::to_owned);
                scope.columns = Columns::declared(names, operator.span);
            }
            // Operators whose output columns depend on a plugin, a function or a nested query:
            // the input columns stay, the others are made here (with open input columns, an
            // unknown name may as well be an event field: the syntactic rule stays).
            OperatorKind::Evaluate
            | OperatorKind::Invoke
            | OperatorKind::ParseKv
            | OperatorKind::Partition
            | OperatorKind::Fork
            | OperatorKind::Facet => {
                if scope.columns.is_closed() {
                    scope.columns.rest = Rest::Derived(made_here);
                }
            }
            // An operator that did not parse (or one kept as text) changes nothing known.
            OperatorKind::Other => {}
            // Operators that replace the columns by aggregates of their own naming.
            OperatorKind::TopNested
            | OperatorKind::TopHitters
            | OperatorKind::SampleDistinct
            | OperatorKind::Reduce
            | OperatorKind::MakeGraph
            | OperatorKind::GraphMatch => {
                scope.columns = Columns::made_by(made_here);
            }
            OperatorKind::Sort | OperatorKind::Top => {
                for key in &operator.by {
                    self.check_references(key, &input);
                }
            }
            OperatorKind::Take
            | OperatorKind::Sample
            | OperatorKind::Render
            | OperatorKind::As
            | OperatorKind::Consume => {}
        }
        if emit {
            self.analysis.stages.push(stage);
        }
    }

    /// Where a `project`/`by` item's column comes from: a plain column (renamed or not) keeps
    /// its source, anything else is computed by the item.
    fn item_source(&self, value: &Expr, definition: Span, input: &Columns) -> ColumnSource {
        match &value.kind {
            ExprKind::Name(name) if !self.bindings.contains_key(name) => {
                input.resolve(name).unwrap_or(ColumnSource::Event { dataset: None, field: name.clone() })
            }
            ExprKind::Paren(inner) => self.item_source(inner, definition, input),
            _ => ColumnSource::Derived(FieldOrigin::Computed { definition }),
        }
    }

    /// Where a path into a column comes from (`todynamic(RawEventData.Folders)`): a path into
    /// an event field is that field's, anything else is computed.
    fn path_source(&self, item: &Expr, input: &Columns) -> ColumnSource {
        let computed = ColumnSource::Derived(FieldOrigin::Computed { definition: item.span });
        let Some(path) = column_name(item) else { return computed };
        let base = path.split('.').next().unwrap_or("");
        match input.resolve(base) {
            Some(ColumnSource::Event { dataset, field }) => {
                ColumnSource::Event { dataset, field: format!("{field}{}", &path[base.len()..]) }
            }
            _ => computed,
        }
    }

    /// The columns one summarize item makes: aggregates, except `arg_max(t, x)` and
    /// `take_any(x)` whose columns are the row's own values (`*`: every input column but the
    /// `by` keys).
    fn aggregate_columns(&self, item: &Expr, input: &Columns, by: &[Expr]) -> Vec<(String, ColumnSource)> {
        let aggregate = ColumnSource::Derived(FieldOrigin::Aggregate { definition: item.span });
        let (names, call) = match &item.kind {
            ExprKind::Assign { target, value } => (assigned_names(target), value.as_ref()),
            _ => (aggregate_names(item), item),
        };
        let row_valued = matches!(&call.kind, ExprKind::Call { callee, .. }
            if matches!(callee.as_name(), Some("arg_max" | "arg_min" | "take_any" | "any" | "take_anyif")));
        if !row_valued {
            return names.into_iter().map(|name| (name, aggregate.clone())).collect();
        }
        let ExprKind::Call { args, .. } = &call.kind else { return Vec::new() };
        let by_names: Vec<String> = by.iter().filter_map(expression_name).collect();
        let mut out = Vec::new();
        let mut assigned =
            if matches!(item.kind, ExprKind::Assign { .. }) { names.into_iter() } else { Vec::new().into_iter() };
        for arg in args {
            if matches!(arg.kind, ExprKind::Star) {
                for name in input.names() {
                    if !by_names.iter().any(|key| key == name) && !out.iter().any(|(known, _)| known == name) {
                        out.push((name.to_owned(), input.get(name).cloned().unwrap_or(aggregate.clone())));
                    }
                }
                continue;
            }
            // `ReportId = arg_max(Timestamp, ReportId)`: the assigned names go to the first
            // arguments, the others keep their own (`ReportId1` once made unique).
            let name = assigned.next().or_else(|| expression_name(arg));
            if let Some(name) = name {
                out.push((name, self.item_source(arg, item.span, input)));
            }
        }
        out
    }

    /// Checks a join key against both sides: `K` must be a column of each, `$left.A == $right.B`
    /// of its own side. The right side's key names are returned (a lookup keeps them once).
    fn check_join_key(&mut self, key: &Expr, left: &Columns, right: &Columns, right_keys: &mut Vec<String>) {
        match &key.kind {
            ExprKind::Name(name) => {
                if left.resolve(name).is_none() || right.resolve(name).is_none() {
                    self.unresolved.push((name.clone(), key.span));
                }
                right_keys.push(name.clone());
            }
            ExprKind::Binary { left: first, right: second, .. } => {
                for side in [first, second] {
                    if let ExprKind::Member { target, name } = &side.kind {
                        let columns = match target.as_name() {
                            Some("$left") => left,
                            Some("$right") => {
                                right_keys.push(name.text.clone());
                                right
                            }
                            _ => continue,
                        };
                        if columns.resolve(&name.text).is_none() {
                            self.unresolved.push((name.text.clone(), name.span));
                        }
                    }
                }
            }
            ExprKind::Logical { items, .. } => {
                for item in items {
                    self.check_join_key(item, left, right, right_keys);
                }
            }
            _ => {}
        }
    }

    /// Records every column reference of `expr` that `columns` does not answer (with a schema
    /// only: without one, a table's columns are open and every name resolves). Let-bound names,
    /// tables, function names and sub-queries (checked when they are lowered) are not column
    /// references.
    fn check_references(&mut self, expr: &Expr, columns: &Columns) {
        if self.schema.is_none() {
            return;
        }
        match &expr.kind {
            ExprKind::Name(name) => {
                let is_table = self.schema.is_some_and(|schema| schema.table(name).is_some());
                if !self.bindings.contains_key(name) && !is_table && columns.resolve(name).is_none() {
                    self.unresolved.push((name.clone(), expr.span));
                }
            }
            ExprKind::Call { callee, args } => {
                if matches!(callee.as_name(), Some("typeof" | "column_ifexists" | "materialize" | "toscalar")) {
                    return;
                }
                for arg in args {
                    self.check_references(arg, columns);
                }
            }
            ExprKind::Member { target, .. } => {
                if !matches!(target.as_name(), Some("$left" | "$right")) {
                    self.check_references(target, columns);
                }
            }
            ExprKind::Index { target, index } => {
                self.check_references(target, columns);
                self.check_references(index, columns);
            }
            ExprKind::Unary { operand, .. } => self.check_references(operand, columns),
            ExprKind::Binary { left, right, .. } => {
                self.check_references(left, columns);
                self.check_references(right, columns);
            }
            ExprKind::Logical { items, .. } | ExprKind::Tuple(items) => {
                for item in items {
                    self.check_references(item, columns);
                }
            }
            ExprKind::List { left, items, .. } => {
                self.check_references(left, columns);
                for item in items {
                    self.check_references(item, columns);
                }
            }
            ExprKind::Between { left, low, high, .. } => {
                self.check_references(left, columns);
                self.check_references(low, columns);
                self.check_references(high, columns);
            }
            ExprKind::Paren(inner) | ExprKind::Sorted { expr: inner, .. } => self.check_references(inner, columns),
            ExprKind::Assign { value, .. } => self.check_references(value, columns),
            ExprKind::Literal(_)
            | ExprKind::Star
            | ExprKind::Wildcard(_)
            | ExprKind::Pipe { .. }
            | ExprKind::Operator(_)
            | ExprKind::Function { .. }
            | ExprKind::Table { .. }
            | ExprKind::Raw
            | ExprKind::Missing => {}
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

    /// The column a predicate compares, under the functions wrapped around it.
    fn field_functions<'e>(&self, left: &'e Expr) -> (&'e Expr, Vec<FieldFunction>) {
        let (column, wrappers) = peel_wrappers(left);
        let functions =
            wrappers.into_iter().map(|(kind, span)| FieldFunction { kind, text: self.slice(span) }).collect();
        (column, functions)
    }

    fn opaque(&self, expr: &Expr) -> IrExpr {
        IrExpr::Opaque { text: self.slice(expr.span), span: expr.span }
    }

    /// A predicate skeleton for `field`: its dataset, join resolution, origin and the
    /// value-preserving functions wrapped around it.
    fn predicate(&self, field: &str, left: &Expr, op: Op, written: &str, scope: &Scope) -> Predicate {
        let mut dataset = scope.dataset;
        let mut resolved_field = None;
        let mut origin = FieldOrigin::Event;
        let (column, functions) = self.field_functions(left);
        // `AdditionalFields.x` is a path into the column `AdditionalFields`.
        let (base, path) = match field.find('.') {
            Some(dot) if !field.ends_with("()") => (&field[..dot], &field[dot..]),
            _ => (field, ""),
        };
        if let ExprKind::Member { target, name } = &column.kind
            && let Some(side) = target.as_name()
            && (side == "$right" || side == "$left")
        {
            if side == "$right" {
                dataset = scope.joined.last().copied().or(dataset);
            }
            resolved_field = Some(name.text.clone());
        } else if let Some(source) = scope.columns.get(base) {
            match source {
                ColumnSource::Event { dataset: from, field: name } => {
                    dataset = from.or(dataset);
                    if name != base {
                        resolved_field = Some(format!("{name}{path}"));
                    }
                }
                ColumnSource::Derived(derived) => origin = *derived,
            }
        } else if matches!(self.bindings.get(base), Some(Binding::Values(_) | Binding::Opaque)) {
            // `let MaxFileOperations = 3; ... where MaxFileOperations == -1`: a scalar the query
            // binds, not a column of any event; its definition is the `let`.
            let definition = self
                .analysis
                .parameters
                .iter()
                .rev()
                .find(|parameter| parameter.name == base)
                .map_or(left.span, |parameter| parameter.span);
            origin = FieldOrigin::Computed { definition };
        } else if let Some((unsuffixed, suffix)) = join_suffix(base)
            && !scope.joined.is_empty()
            && !scope.columns.is_closed()
        {
            // Without schemas, `X1` names the first joined table's `X`.
            let index = (suffix as usize).saturating_sub(1).min(scope.joined.len() - 1);
            dataset = scope.joined.get(index).copied();
            resolved_field = Some(format!("{unsuffixed}{path}"));
        } else {
            match scope.columns.resolve(base) {
                Some(ColumnSource::Event { dataset: from, .. }) => dataset = from.or(dataset),
                Some(ColumnSource::Derived(derived)) => origin = derived,
                None => {}
            }
        }
        Predicate {
            field: field.to_owned(),
            dataset,
            resolved_field,
            origin,
            functions,
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
        let Some(lookback) = self.lookback(value) else { return };
        let Some(dataset) = self.analysis.datasets.get_mut(index) else { return };
        if dataset.time_window.is_none() {
            dataset.time_window =
                Some(TimeWindow { text: lookback.text, seconds: lookback.seconds, span: lookback.span });
        }
    }

    /// The lookback a lower time bound stands for: `ago(X)`, `now(-X)`, `now() - X`,
    /// `startofday(ago(X))`, or a `let` bound to one of these (or to a duration).
    fn lookback(&self, value: &Expr) -> Option<Lookback> {
        match &value.kind {
            ExprKind::Call { callee, args } => match callee.as_name() {
                Some("ago") => self.duration(args.first()?),
                Some("now") => match &args.first()?.kind {
                    ExprKind::Unary { op, operand } if op == "-" => self.duration(operand),
                    _ => None,
                },
                Some("startofday" | "startofweek" | "startofmonth" | "bin") => self.lookback(args.first()?),
                _ => None,
            },
            ExprKind::Binary { op, left, right } if op == "-" => match &left.kind {
                ExprKind::Call { callee, args } if callee.as_name() == Some("now") && args.is_empty() => {
                    self.duration(right)
                }
                _ => None,
            },
            ExprKind::Name(name) => {
                self.lookbacks.get(name).cloned().map(|lookback| Lookback { span: value.span, ..lookback })
            }
            ExprKind::Paren(inner) => self.lookback(inner),
            _ => None,
        }
    }

    /// A duration: a timespan literal, a `let` bound to one, or arithmetic of durations and
    /// numbers (`let timeframe = 2*1h`). The text is the literal's, the bound name's, or the
    /// arithmetic as written.
    fn duration(&self, expr: &Expr) -> Option<Lookback> {
        let seconds = self.duration_seconds(expr)?;
        let text = match &expr.kind {
            ExprKind::Literal(literal) => literal.value.clone(),
            ExprKind::Name(name) => self.lookbacks.get(name).map(|lookback| lookback.text.clone())?,
            _ => self.slice(expr.span).split_whitespace().collect::<Vec<_>>().join(" "),
        };
        Some(Lookback { text, seconds: (seconds >= 0.0).then_some(seconds as u64), span: expr.span })
    }

    fn duration_seconds(&self, expr: &Expr) -> Option<f64> {
        match &expr.kind {
            ExprKind::Literal(literal) if literal.kind == LiteralKind::Timespan => {
                duration_seconds(&literal.value).map(|seconds| seconds as f64)
            }
            ExprKind::Name(name) => self.lookbacks.get(name)?.seconds.map(|seconds| seconds as f64),
            ExprKind::Paren(inner) => self.duration_seconds(inner),
            ExprKind::Binary { op, left, right } => match op.as_str() {
                "*" => match (self.duration_seconds(left), self.duration_seconds(right)) {
                    (Some(duration), None) => Some(duration * self.number(right)?),
                    (None, Some(duration)) => Some(self.number(left)? * duration),
                    _ => None,
                },
                "/" => Some(self.duration_seconds(left)? / self.number(right).filter(|divisor| *divisor != 0.0)?),
                "+" => Some(self.duration_seconds(left)? + self.duration_seconds(right)?),
                "-" => Some(self.duration_seconds(left)? - self.duration_seconds(right)?),
                _ => None,
            },
            _ => None,
        }
    }

    /// A number written as a literal or bound to one by a `let`.
    fn number(&self, expr: &Expr) -> Option<f64> {
        match self.literal(expr) {
            Some(Value::Number { value }) => value.as_f64(),
            _ => match &expr.kind {
                ExprKind::Name(name) => match self.bindings.get(name) {
                    Some(Binding::Values(values)) => match values.as_slice() {
                        [Value::Number { value }] => value.as_f64(),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            },
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
        ExprKind::Call { callee, args } if args.is_empty() && callee.as_name() == Some("ingestion_time") => {
            Some("ingestion_time()".to_owned())
        }
        // Conversions and value-preserving functions do not change which field is compared:
        // `tostring(AdditionalFields.x)` compares `AdditionalFields.x`, `tolower(FileName)`
        // compares `FileName` (the function is kept on the predicate).
        ExprKind::Call { .. } | ExprKind::Index { .. } => {
            let (inner, wrappers) = peel_wrappers(expr);
            if wrappers.is_empty() && std::ptr::eq(inner, expr) { None } else { column_name(inner) }
        }
        _ => None,
    }
}

/// `arg_max(t, *)`, `take_any(*)`, assigned or not.
fn is_row_valued_with_star(item: &Expr) -> bool {
    let call = match &item.kind {
        ExprKind::Assign { value, .. } => value.as_ref(),
        _ => item,
    };
    matches!(&call.kind, ExprKind::Call { callee, args }
        if matches!(callee.as_name(), Some("arg_max" | "arg_min" | "take_any" | "any"))
            && args.iter().any(|arg| matches!(arg.kind, ExprKind::Star)))
}

/// Functions that only convert a column's type: transparent for the predicate's field.
const CONVERSIONS: &[&str] = &["tostring", "tolong", "toint", "todynamic", "parse_json", "todouble", "toreal"];

/// Peels the conversions and value-preserving functions around a column, outermost first:
/// `tolower(trim(@"\s", FileName))`, `tostring(split(FolderPath, "\\")[-1])`,
/// `parse_path(FolderPath).Filename`. Returns the innermost expression and each function kind
/// with the span of its call.
fn peel_wrappers(expr: &Expr) -> (&Expr, Vec<(FieldFunctionKind, Span)>) {
    let mut functions = Vec::new();
    let mut current = expr;
    loop {
        let (kind, inner) = match &current.kind {
            ExprKind::Paren(inner) => (None, inner.as_ref()),
            ExprKind::Call { callee, args } => match (callee.as_name().unwrap_or(""), args.as_slice()) {
                ("tolower", [inner]) => (Some(FieldFunctionKind::Lower), inner),
                ("toupper", [inner]) => (Some(FieldFunctionKind::Upper), inner),
                ("trim" | "trim_start" | "trim_end", [_, inner]) => (Some(FieldFunctionKind::Trim), inner),
                (name, [inner]) if CONVERSIONS.contains(&name) => (None, inner),
                _ => break,
            },
            // `split(path, "\")[-1]`: the last segment of a Windows or Unix path.
            ExprKind::Index { target, index } if is_last_index(index) => match &target.kind {
                ExprKind::Call { callee, args } if callee.as_name() == Some("split") => match args.as_slice() {
                    [inner, separator] if is_path_separator(separator) => (Some(FieldFunctionKind::PathLeaf), inner),
                    _ => break,
                },
                _ => break,
            },
            // `parse_path(path).Filename`.
            ExprKind::Member { target, name } if name.text == "Filename" => match &target.kind {
                ExprKind::Call { callee, args } if callee.as_name() == Some("parse_path") && args.len() == 1 => {
                    (Some(FieldFunctionKind::PathLeaf), &args[0])
                }
                _ => break,
            },
            _ => break,
        };
        if let Some(kind) = kind {
            functions.push((kind, current.span));
        }
        current = inner;
    }
    (current, functions)
}

fn is_last_index(index: &Expr) -> bool {
    match &index.kind {
        ExprKind::Unary { op, operand } if op == "-" => {
            matches!(&operand.kind, ExprKind::Literal(literal) if literal.value == "1")
        }
        ExprKind::Paren(inner) => is_last_index(inner),
        _ => false,
    }
}

fn is_path_separator(separator: &Expr) -> bool {
    matches!(&separator.kind, ExprKind::Literal(literal)
        if literal.kind == LiteralKind::String && matches!(literal.value.as_str(), "\\" | "/"))
}

/// Kusto's name for an unnamed computed column: the first free `Column1`, `Column2`...
fn next_column_name(columns: &Columns) -> String {
    (1..).map(|number| format!("Column{number}")).find(|name| columns.get(name).is_none()).unwrap_or_default()
}

/// A column name against a `project-away`/`project-keep` pattern (`Initiating*`, `*Id`, or a
/// plain name).
fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(after) = rest.strip_prefix(part) else { return false };
            rest = after;
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(position) = rest.find(part) else { return false };
            rest = &rest[position + part.len()..];
        }
    }
    true
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

fn assigned_names(target: &Expr) -> Vec<String> {
    match &target.kind {
        ExprKind::Name(name) => vec![name.clone()],
        ExprKind::Tuple(items) => items.iter().filter_map(|item| item.as_name().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// The key columns of a join `on` item, each attributed to its side's dataset: `K` names a
/// column of both sides, `$left.A == $right.B` one of each; `and` joins several. `sides` holds
/// each side's input columns and dataset (left first).
fn join_key_fields(key: &Expr, sides: [(&Columns, Option<usize>); 2], out: &mut Vec<KeyField>) {
    match &key.kind {
        ExprKind::Name(name) => {
            for (columns, dataset) in sides {
                out.push(key_field(name, key.span, columns, dataset));
            }
        }
        ExprKind::Binary { left, right, .. } => {
            for side in [left, right] {
                if let ExprKind::Member { target, name } = &side.kind {
                    let (columns, dataset) = match target.as_name() {
                        Some("$left") => sides[0],
                        Some("$right") => sides[1],
                        _ => continue,
                    };
                    out.push(key_field(&name.text, name.span, columns, dataset));
                }
            }
        }
        ExprKind::Logical { items, .. } => {
            for item in items {
                join_key_fields(item, sides, out);
            }
        }
        ExprKind::Paren(inner) => join_key_fields(inner, sides, out),
        _ => {}
    }
}

/// One side's key column, resolved in that side's columns like a predicate's field.
fn key_field(name: &str, span: Span, columns: &Columns, side_dataset: Option<usize>) -> KeyField {
    let mut key = KeyField {
        field: name.to_owned(),
        dataset: side_dataset,
        resolved_field: None,
        origin: FieldOrigin::Event,
        span,
    };
    match columns.resolve(name) {
        Some(ColumnSource::Event { dataset, field }) => {
            key.dataset = dataset.or(side_dataset);
            if field != name {
                key.resolved_field = Some(field);
            }
        }
        Some(ColumnSource::Derived(origin)) => key.origin = origin,
        None => {}
    }
    key
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
            matches!(bindings.get(name), Some(Binding::Table { .. }))
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
        // Kusto puts the `by` keys before the aggregates.
        assert_eq!(analysis.output_fields, ["Host", "Count"]);
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

    fn field_origin(analysis: &Analysis, field: &str) -> FieldOrigin {
        predicates(analysis)
            .into_iter()
            .find(|predicate| predicate.field == field)
            .map(|predicate| predicate.origin)
            .unwrap_or_else(|| panic!("no predicate on {field}"))
    }

    #[test]
    fn every_operator_that_makes_a_column_makes_it_computed_or_aggregated() {
        let analysis = analyze_one(
            "T\n| parse Message with * \"user=\" User:string \" \" *\n| mv-expand Item = Items\n| extend Lower = tolower(Name)\n| summarize count(), dcount(Host) by Lower, bin(Timestamp, 1h), User, Item\n| where User == \"a\" and Item == \"b\" and Lower == \"c\" and count_ > 1 and dcount_Host > 2 and Timestamp > ago(1d)",
        );
        assert!(matches!(field_origin(&analysis, "User"), FieldOrigin::Computed { .. }));
        assert!(matches!(field_origin(&analysis, "Item"), FieldOrigin::Computed { .. }));
        assert!(matches!(field_origin(&analysis, "Lower"), FieldOrigin::Computed { .. }));
        assert!(matches!(field_origin(&analysis, "count_"), FieldOrigin::Aggregate { .. }));
        assert!(matches!(field_origin(&analysis, "dcount_Host"), FieldOrigin::Aggregate { .. }));
        assert!(matches!(field_origin(&analysis, "Timestamp"), FieldOrigin::Computed { .. }));
    }

    #[test]
    fn a_renamed_or_projected_column_stays_an_event_field() {
        let analysis = analyze_one(
            "T\n| project-rename Cmd = CommandLine\n| project Cmd, Host = DeviceName\n| where Cmd has \"x\" and Host == \"y\"",
        );
        let predicates = predicates(&analysis);
        assert_eq!(predicates[0].origin, FieldOrigin::Event);
        assert_eq!(predicates[0].resolved_field.as_deref(), Some("CommandLine"));
        assert_eq!(predicates[1].resolved_field.as_deref(), Some("DeviceName"));
    }

    #[test]
    fn with_a_schema_suffixes_follow_clashes_and_unknown_names_are_reported() {
        let mut schema = crate::Schema::new();
        schema.add_table("A", ["Key", "FileName", "OnlyLeft"].map(str::to_owned));
        schema.add_table("B", ["Key", "FileName", "OnlyRight"].map(str::to_owned));
        let text = "A\n| join (B) on Key\n| where FileName1 == \"x\" and OnlyRight == \"y\" and OnlyRight1 == \"z\"";
        let analysis = crate::analyze_with_schema(text, &schema).remove(0);
        let predicates = predicates(&analysis);
        assert_eq!((predicates[0].dataset, predicates[0].resolved_field.as_deref()), (Some(1), Some("FileName")));
        assert_eq!((predicates[1].dataset, predicates[1].resolved_field.as_deref()), (Some(1), None));
        let unknown: Vec<&str> = analysis
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.code == "kql-unknown-column")
            .filter_map(|diagnostic| diagnostic.span.slice(text))
            .collect();
        assert_eq!(unknown, ["OnlyRight1"]);
        // Without a schema nothing is reported: a table's columns are open.
        assert!(crate::analyze(text)[0].diagnostics.is_empty());
    }

    #[test]
    fn join_keys_are_attributed_to_their_side() {
        let text = "DeviceProcessEvents\n| extend Made = 1\n| join kind=inner (IdentityInfo | project Department, OnPremSid)\n    on $left.AccountSid == $right.OnPremSid, DeviceId, $left.Made == $right.Department";
        let analysis = analyze_one(text);
        let join = analysis.stages.iter().find(|stage| stage.kind == "join").expect("join stage");
        let keys: Vec<(&str, Option<usize>, bool)> =
            join.keys.iter().map(|key| (key.field.as_str(), key.dataset, key.origin.is_derived())).collect();
        assert_eq!(
            keys,
            [
                ("AccountSid", Some(0), false),
                ("OnPremSid", Some(1), false),
                ("DeviceId", Some(0), false),
                // `project` closed the right side: its `DeviceId` is unknown there, still its own side.
                ("DeviceId", Some(1), false),
                ("Made", Some(0), true),
                ("Department", Some(1), false),
            ]
        );
        assert_eq!(join.keys[1].span.slice(text), Some("OnPremSid"));
    }

    #[test]
    fn a_let_scalar_compared_to_a_value_is_no_event_field() {
        let text = "let MaxFileOperations = 3;\nDeviceFileEvents\n| where MaxFileOperations == -1 or FileName == \"a\"";
        let analysis = analyze_one(text);
        let predicates = predicates(&analysis);
        assert!(predicates[0].origin.is_derived(), "{:?}", predicates[0]);
        assert_eq!(predicates[1].origin, FieldOrigin::Event);
    }

    #[test]
    fn lookbacks_from_arithmetic_and_now() {
        for (text, seconds) in [
            ("let timeframe = 2*1h;\nT\n| where ingestion_time() >= ago(timeframe)", 7200),
            ("let d = 1d;\nlet lookback = d * 7;\nT\n| where Timestamp > ago(lookback)", 604_800),
            ("T\n| where Timestamp > now() - 3h", 10_800),
            ("T\n| where TimeGenerated > now(-2d)", 172_800),
        ] {
            let analysis = analyze_one(text);
            let window = analysis.datasets[0].time_window.as_ref().and_then(|window| window.seconds);
            assert_eq!(window, Some(seconds), "{text}");
        }
    }
}
