//! Tree to IR: datasets from `index`/`sourcetype`/`source`/`eventtype` terms and data models,
//! one stage per command, predicates with SPL's matching semantics (docs/semantics.md, "SPL"),
//! and the column flow of `eval`, `rex`, `lookup`, `rename` and the aggregations.

use std::collections::BTreeMap;

use detwiki_ir::{
    Analysis, Dataset, DatasetRole, Expr, FieldFunction, FieldFunctionKind, FieldOrigin, Op, Predicate, Span, Stage,
    Value,
};

use crate::ast::*;
use crate::macros::ExpansionMap;

/// Fields whose equality terms pick the data a search reads rather than filter events. `Channel`
/// and `LogName` name the Windows event log as `source=XmlWinEventLog:<channel>` does (the
/// `wineventlog_security` macro ORs all three), so they narrow the dataset to that log's events.
/// Field names are case-sensitive in Splunk: Okta's `eventType` is an event field, not the
/// `eventtype` a search selects by.
const SELECTOR_FIELDS: [&str; 6] = ["index", "sourcetype", "source", "eventtype", "Channel", "LogName"];
/// Fields that bound the search in time.
const TIME_FIELDS: [&str; 4] = ["earliest", "latest", "_index_earliest", "_index_latest"];

/// Where a column of the current result set comes from.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    /// An event field, possibly renamed from `resolved`.
    Event {
        resolved: Option<String>,
    },
    Computed(Span),
    Aggregate(Span),
}

/// The columns of one pipeline as its commands transform them.
#[derive(Debug, Clone, Default)]
struct Scope {
    columns: BTreeMap<String, Column>,
    /// `rename Processes.* as *`: (from pattern, to pattern) with one `*` each.
    wildcard_renames: Vec<(String, String)>,
    /// A transforming aggregation (`stats`, `tstats`, ...) has run.
    aggregated: bool,
    dataset: Option<usize>,
}

impl Scope {
    fn column(&self, name: &str) -> Column {
        if let Some(column) = self.columns.get(name) {
            return column.clone();
        }
        for (from, to) in self.wildcard_renames.iter().rev() {
            if let Some(middle) = match_wildcard(to, name) {
                let original = from.replacen('*', middle, 1);
                return match self.columns.get(&original) {
                    Some(Column::Event { resolved }) => Column::Event { resolved: resolved.clone().or(Some(original)) },
                    Some(other) => other.clone(),
                    None => Column::Event { resolved: Some(original) },
                };
            }
        }
        Column::Event { resolved: None }
    }
}

/// The part of `name` matched by the `*` of `pattern`, when `pattern` has exactly one `*`.
fn match_wildcard<'n>(pattern: &str, name: &'n str) -> Option<&'n str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    if suffix.contains('*') || name.len() < prefix.len() + suffix.len() {
        return None;
    }
    (name.starts_with(prefix) && name.ends_with(suffix)).then(|| &name[prefix.len()..name.len() - suffix.len()])
}

pub struct Lowerer<'a> {
    source: &'a str,
    map: &'a ExpansionMap,
    /// Macro names by call index, for naming datasets that a macro selects.
    call_names: Vec<String>,
    pub analysis: Analysis,
}

impl<'a> Lowerer<'a> {
    pub fn new(source: &'a str, map: &'a ExpansionMap, call_names: Vec<String>) -> Self {
        Lowerer { source, map, call_names, analysis: Analysis::default() }
    }

    pub fn lower(&mut self, pipeline: &Pipeline) {
        let mut scope = Scope::default();
        self.pipeline(pipeline, 0, None, &mut scope);
    }

    fn pipeline(&mut self, pipeline: &Pipeline, depth: u32, role: Option<DatasetRole>, scope: &mut Scope) {
        for (position, command) in pipeline.commands.iter().enumerate() {
            let first = position == 0;
            let mut stage = Stage::new(command.name.clone(), command.span);
            stage.depth = depth;
            match &command.body {
                Body::Search(expression) => {
                    let expression = expression.as_ref();
                    if first || scope.dataset.is_none() {
                        let mut selectors = Vec::new();
                        if let Some(expression) = expression {
                            collect_selectors(expression, false, &mut selectors);
                        }
                        let macro_term = expression.and_then(leading_macro_term);
                        if first || !selectors.is_empty() {
                            let span = expression.map_or(command.span, SearchExpr::span);
                            scope.dataset = Some(self.selector_dataset(&selectors, macro_term, span, role));
                        }
                    }
                    stage.dataset = scope.dataset;
                    if let Some(expression) = expression {
                        let tree = self.search_expr(expression, scope);
                        self.place(&mut stage, tree, scope);
                    }
                }
                Body::Where(expression) => {
                    stage.dataset = scope.dataset;
                    if let Some(expression) = expression {
                        let tree = self.eval_condition(expression, scope);
                        self.place(&mut stage, Some(tree), scope);
                    }
                }
                Body::Eval(assignments) => {
                    for assignment in assignments {
                        scope.columns.insert(assignment.field.text.clone(), Column::Computed(assignment.span));
                    }
                }
                Body::Stats(stats) => self.stats(command, stats, &mut stage, scope, depth, role),
                Body::Rename(pairs) => {
                    for (from, to) in pairs {
                        if from.text.contains('*') && to.text.contains('*') {
                            scope.wildcard_renames.push((from.text.clone(), to.text.clone()));
                            continue;
                        }
                        let column = match scope.column(&from.text) {
                            Column::Event { resolved } => {
                                Column::Event { resolved: resolved.or(Some(from.text.clone())) }
                            }
                            other => other,
                        };
                        scope.columns.insert(to.text.clone(), column);
                    }
                }
                Body::Rex(rex) => {
                    for group in &rex.groups {
                        scope.columns.insert(group.clone(), Column::Computed(command.span));
                    }
                }
                Body::Regex { field, negated, pattern, span } => {
                    stage.dataset = scope.dataset;
                    let mut predicate = self.predicate(&field.text, scope, Op::RegexMatch, "regex", *span);
                    predicate.values = vec![Value::Regex { pattern: pattern.clone(), flags: String::new() }];
                    predicate.case_sensitive = !pattern.starts_with("(?i)");
                    predicate.negated = *negated;
                    if predicate.field == "_raw" {
                        predicate.origin = FieldOrigin::Keyword;
                    }
                    stage.predicate = Some(Expr::Predicate(predicate));
                }
                Body::Lookup(lookup) => self.lookup(command, lookup, first, &mut stage, scope, role),
                Body::Generic { names, options } => {
                    if matches!(command.name.as_str(), "table" | "fields") && depth == 0 {
                        let kept: Vec<String> =
                            names.iter().map(|name| name.text.clone()).filter(|name| name != "-").collect();
                        if !kept.is_empty() {
                            self.analysis.output_fields = kept;
                        }
                    }
                    if command.name == "spath" {
                        // `spath output=x` (else the `path`) is a value extracted from a JSON
                        // or XML field: computed, as a `rex` group is.
                        let option = |wanted: &str| options.iter().find(|option| option.name == wanted);
                        if let Some(column) = option("output").or_else(|| option("path")) {
                            scope.columns.insert(column.value.clone(), Column::Computed(command.span));
                        }
                    }
                    if let Some((model, span)) = generated_data_model(&command.name, names) {
                        // `| from datamodel Web.Web` and `| datamodel Web Web search` read a data
                        // model's events, as `tstats ... from datamodel=Web.Web` does.
                        let mut dataset = Dataset::new(model, DatasetRole::DataModel, span);
                        if let Some(role @ (DatasetRole::Join | DatasetRole::UnionMember)) = role {
                            dataset.attributes.insert("subsearch".to_owned(), role.as_str().to_owned());
                        }
                        self.analysis.datasets.push(dataset);
                        scope.dataset = Some(self.analysis.datasets.len() - 1);
                        stage.dataset = scope.dataset;
                    }
                    if matches!(command.name.as_str(), "top" | "rare") {
                        scope.aggregated = true;
                        scope.columns.insert("count".to_owned(), Column::Aggregate(command.span));
                        scope.columns.insert("percent".to_owned(), Column::Aggregate(command.span));
                    }
                }
            }
            self.analysis.stages.push(stage);
            // Subsearches run first in Splunk, but they are shown after the command that holds
            // them, one level deeper.
            let sub_role = match command.name.as_str() {
                "join" => Some(DatasetRole::Join),
                "append" | "appendcols" | "multisearch" | "union" => Some(DatasetRole::UnionMember),
                _ => None,
            };
            for subsearch in &command.subsearches {
                if matches!(command.name.as_str(), "appendpipe" | "foreach") {
                    // `appendpipe` runs its commands over the current results, and `foreach`
                    // runs its template (`[eval ...]`) on them once per matching field.
                    let mut inner = scope.clone();
                    self.pipeline(subsearch, depth + 1, role, &mut inner);
                } else {
                    let mut inner = Scope::default();
                    self.pipeline(subsearch, depth + 1, sub_role.or(Some(DatasetRole::Lookup)), &mut inner);
                }
            }
        }
    }

    /// Splits a filter after an aggregation into thresholds (conjuncts only on aggregates) and
    /// the rest.
    fn place(&mut self, stage: &mut Stage, tree: Option<Expr>, scope: &Scope) {
        let Some(tree) = tree else { return };
        if !scope.aggregated {
            stage.predicate = Some(tree);
            return;
        }
        let mut rest = Vec::new();
        for conjunct in into_conjuncts(tree) {
            let mut any = false;
            let mut all_aggregate = true;
            conjunct.for_each_predicate(&mut |predicate, _| {
                any = true;
                all_aggregate &= matches!(predicate.origin, FieldOrigin::Aggregate { .. });
            });
            if any && all_aggregate { stage.thresholds.push(conjunct) } else { rest.push(conjunct) }
        }
        stage.predicate = match rest.len() {
            0 => None,
            1 => rest.pop(),
            _ => Some(Expr::And { items: rest }),
        };
    }

    fn selector_dataset(
        &mut self,
        selectors: &[(String, String, Span)],
        macro_term: Option<(String, Span)>,
        span: Span,
        role: Option<DatasetRole>,
    ) -> usize {
        let mut attributes = BTreeMap::new();
        for (field, value, _) in selectors {
            attributes.entry(field.clone()).or_insert_with(|| value.clone());
        }
        let macros: Vec<Option<usize>> = selectors.iter().map(|(_, _, span)| self.map.macro_of(*span)).collect();
        let one_macro =
            macros.first().copied().flatten().filter(|first| macros.iter().all(|call| *call == Some(*first)));
        let name = if let Some(call) = one_macro {
            self.call_names.get(call).cloned().unwrap_or_default()
        } else if let Some((name, _)) = &macro_term {
            attributes.insert("macro".to_owned(), name.clone());
            name.clone()
        } else {
            ["sourcetype", "source", "channel", "logname", "eventtype", "index"]
                .iter()
                .find_map(|key| attributes.get(*key).cloned())
                .unwrap_or_else(|| "*".to_owned())
        };
        let span = selectors.iter().map(|(_, _, span)| *span).reduce(Span::cover).unwrap_or(span);
        let mut dataset = Dataset::new(name, role.unwrap_or(DatasetRole::Source), span);
        dataset.attributes = attributes;
        self.analysis.datasets.push(dataset);
        self.analysis.datasets.len() - 1
    }

    fn stats(
        &mut self,
        command: &Command,
        stats: &Stats,
        stage: &mut Stage,
        scope: &mut Scope,
        depth: u32,
        role: Option<DatasetRole>,
    ) {
        if let Some(datamodel) = &stats.datamodel {
            let mut dataset = Dataset::new(datamodel.text.clone(), DatasetRole::DataModel, datamodel.span);
            if role == Some(DatasetRole::Join) || role == Some(DatasetRole::UnionMember) {
                dataset
                    .attributes
                    .insert("subsearch".to_owned(), role.map(DatasetRole::as_str).unwrap_or_default().to_owned());
            }
            if let Some(nodename) = &stats.nodename {
                dataset.attributes.insert("nodename".to_owned(), nodename.text.clone());
            }
            self.analysis.datasets.push(dataset);
            scope.dataset = Some(self.analysis.datasets.len() - 1);
        }
        if let Some(clause) = &stats.where_clause {
            if stats.datamodel.is_none() {
                let mut selectors = Vec::new();
                collect_selectors(clause, false, &mut selectors);
                if !selectors.is_empty() || scope.dataset.is_none() {
                    scope.dataset = Some(self.selector_dataset(&selectors, None, clause.span(), role));
                }
            }
            stage.dataset = scope.dataset;
            let tree = self.search_expr(clause, scope);
            stage.predicate = tree;
        } else if command.name == "tstats" && scope.dataset.is_none() {
            scope.dataset = Some(self.selector_dataset(&[], None, command.span, role));
        }
        stage.dataset = stage.dataset.or(scope.dataset);
        stage.aggregation_keys = stats.by.iter().map(|name| name.text.clone()).collect();
        if depth == 0 && !stage.aggregation_keys.is_empty() && matches!(command.name.as_str(), "stats" | "tstats") {
            for key in &stage.aggregation_keys {
                if !self.analysis.group_by.contains(key) {
                    self.analysis.group_by.push(key.clone());
                }
            }
        }
        let transforming = !matches!(command.name.as_str(), "eventstats" | "streamstats");
        if transforming {
            let kept: BTreeMap<String, Column> =
                stats.by.iter().map(|name| (name.text.clone(), scope.column(&name.text))).collect();
            scope.columns = kept;
            scope.aggregated = true;
            if depth == 0 {
                let mut outputs: Vec<String> =
                    stats.aggregates.iter().map(|aggregate| aggregate.output.clone()).collect();
                outputs.extend(stage.aggregation_keys.iter().cloned());
                self.analysis.output_fields = outputs;
            }
        }
        for aggregate in &stats.aggregates {
            scope.columns.insert(aggregate.output.clone(), Column::Aggregate(aggregate.span));
        }
    }

    fn lookup(
        &mut self,
        command: &Command,
        lookup: &Lookup,
        first: bool,
        stage: &mut Stage,
        scope: &mut Scope,
        role: Option<DatasetRole>,
    ) {
        if let Some(table) = &lookup.table {
            let dataset_role = if command.name == "inputlookup" && first {
                role.unwrap_or(DatasetRole::Lookup)
            } else {
                DatasetRole::Lookup
            };
            let mut dataset = Dataset::new(table.text.clone(), dataset_role, table.span);
            dataset.attributes.insert("lookup".to_owned(), table.text.clone());
            self.analysis.datasets.push(dataset);
            let index = self.analysis.datasets.len() - 1;
            stage.dataset = Some(index);
            if command.name == "inputlookup" && first {
                scope.dataset = Some(index);
            }
        }
        for (_, output) in &lookup.outputs {
            scope.columns.insert(output.text.clone(), Column::Computed(command.span));
        }
        if let Some(clause) = &lookup.where_clause {
            let tree = self.search_expr(clause, scope);
            stage.predicate = tree;
        }
    }

    // ---- predicates ----

    fn predicate(&self, field: &str, scope: &Scope, op: Op, written_op: &str, span: Span) -> Predicate {
        let (origin, resolved_field) = match scope.column(field) {
            Column::Event { resolved } => (FieldOrigin::Event, resolved.filter(|resolved| resolved != field)),
            Column::Computed(definition) => (FieldOrigin::Computed { definition }, None),
            Column::Aggregate(definition) => (FieldOrigin::Aggregate { definition }, None),
        };
        Predicate {
            field: field.to_owned(),
            dataset: scope.dataset,
            resolved_field,
            origin,
            functions: Vec::new(),
            op,
            written_op: written_op.to_owned(),
            values: Vec::new(),
            case_sensitive: false,
            all: false,
            transforms: Vec::new(),
            negated: false,
            time_filter: false,
            span,
        }
    }

    fn search_expr(&self, expression: &SearchExpr, scope: &Scope) -> Option<Expr> {
        match expression {
            SearchExpr::And(items) => {
                simplify(items.iter().filter_map(|item| self.search_expr(item, scope)).collect(), true)
            }
            SearchExpr::Or(items) => {
                simplify(items.iter().filter_map(|item| self.search_expr(item, scope)).collect(), false)
            }
            SearchExpr::Not { item, .. } => {
                self.search_expr(item, scope).map(|item| Expr::Not { item: Box::new(item) })
            }
            SearchExpr::Compare { field, op, value, span } => {
                if is_selector(&field.text) && *op == CompareOp::Eq {
                    return None;
                }
                Some(self.compare(&field.text, *op, value, *span, scope))
            }
            SearchExpr::In { field, values, span } => {
                if is_selector(&field.text) {
                    return None;
                }
                if values.iter().any(|value| value.value.contains('*')) {
                    let items = values
                        .iter()
                        .map(|value| self.compare(&field.text, CompareOp::Eq, value, *span, scope))
                        .collect();
                    return Some(Expr::Or { items });
                }
                let mut predicate = self.predicate(&field.text, scope, Op::In, "IN", *span);
                predicate.values = values.iter().map(search_literal).collect();
                Some(Expr::Predicate(predicate))
            }
            SearchExpr::Term(value) => {
                if value.value.starts_with('`') && !value.quoted {
                    return Some(Expr::Opaque { text: value.value.clone(), span: value.span });
                }
                if value.value == "*" {
                    return None;
                }
                let (op, text) = classify_wildcard(&value.value);
                let mut predicate =
                    self.predicate("", scope, if op == Op::Eq { Op::Match } else { op }, "term", value.span);
                predicate.origin = FieldOrigin::Keyword;
                predicate.resolved_field = None;
                predicate.values = vec![Value::string(text)];
                Some(Expr::Predicate(predicate))
            }
            SearchExpr::Subsearch { span, .. } => Some(Expr::Opaque {
                text: self.source.get(span.range()).unwrap_or("[subsearch]").to_owned(),
                span: *span,
            }),
        }
    }

    fn compare(&self, field: &str, op: CompareOp, value: &SearchValue, span: Span, scope: &Scope) -> Expr {
        let lower = field.to_ascii_lowercase();
        if TIME_FIELDS.contains(&lower.as_str()) {
            let mut predicate = self.predicate(field, scope, Op::Ge, op.as_str(), span);
            predicate.values = vec![Value::Typed { r#type: "time".to_owned(), text: value.value.clone() }];
            predicate.time_filter = true;
            return Expr::Predicate(predicate);
        }
        let (ir_op, negated, values) = match op {
            CompareOp::Eq | CompareOp::Ne if value.value == "*" => {
                let op = if op == CompareOp::Eq { Op::IsNotNull } else { Op::IsNull };
                (op, false, Vec::new())
            }
            CompareOp::Eq | CompareOp::Ne => {
                let (kind, text) = classify_wildcard(&value.value);
                let literal = if kind == Op::Eq { search_literal(value) } else { Value::string(text) };
                let negated = op == CompareOp::Ne;
                let kind = if kind == Op::Eq && negated { Op::Ne } else { kind };
                (kind, negated && kind != Op::Ne, vec![literal])
            }
            CompareOp::Lt => (Op::Lt, false, vec![search_literal(value)]),
            CompareOp::Le => (Op::Le, false, vec![search_literal(value)]),
            CompareOp::Gt => (Op::Gt, false, vec![search_literal(value)]),
            CompareOp::Ge => (Op::Ge, false, vec![search_literal(value)]),
        };
        let mut predicate = self.predicate(field, scope, ir_op, op.as_str(), span);
        predicate.values = values;
        predicate.negated = negated || (ir_op == Op::Ne);
        Expr::Predicate(predicate)
    }

    // ---- eval conditions ----

    fn eval_condition(&self, expression: &EvalExpr, scope: &Scope) -> Expr {
        let opaque = || Expr::Opaque {
            text: self.source.get(expression.span().range()).unwrap_or("").to_owned(),
            span: expression.span(),
        };
        match expression {
            EvalExpr::Binary { op: BinaryOp::And, .. } => {
                Expr::And { items: self.flatten(expression, BinaryOp::And, scope) }
            }
            EvalExpr::Binary { op: BinaryOp::Or, .. } => {
                Expr::Or { items: self.flatten(expression, BinaryOp::Or, scope) }
            }
            EvalExpr::Not { item, .. } => Expr::Not { item: Box::new(self.eval_condition(item, scope)) },
            EvalExpr::Binary { op, left, right, span } => {
                let ir_op = match op {
                    BinaryOp::Eq => Op::Eq,
                    BinaryOp::Ne => Op::Ne,
                    BinaryOp::Lt => Op::Lt,
                    BinaryOp::Le => Op::Le,
                    BinaryOp::Gt => Op::Gt,
                    BinaryOp::Ge => Op::Ge,
                    BinaryOp::Like => return self.like(left, right, *span, scope).unwrap_or_else(opaque),
                    _ => return opaque(),
                };
                let (column, value, ir_op) = match (self.column_of(left, scope), self.column_of(right, scope)) {
                    (Some(column), _) if eval_value(right, self.source).is_some() => (column, right, ir_op),
                    (_, Some(column)) if eval_value(left, self.source).is_some() => (column, left, mirror(ir_op)),
                    _ => return opaque(),
                };
                let written = match op {
                    BinaryOp::Eq => "=",
                    BinaryOp::Ne => "!=",
                    BinaryOp::Lt => "<",
                    BinaryOp::Le => "<=",
                    BinaryOp::Gt => ">",
                    _ => ">=",
                };
                let mut predicate = column.into_predicate(self, scope, ir_op, written, *span);
                predicate.values = eval_value(value, self.source).into_iter().collect();
                predicate.negated = ir_op == Op::Ne;
                Expr::Predicate(predicate)
            }
            EvalExpr::In { item, list, span } => {
                let Some(column) = self.column_of(item, scope) else { return opaque() };
                let values: Option<Vec<Value>> = list.iter().map(|value| eval_value(value, self.source)).collect();
                let Some(values) = values else { return opaque() };
                let mut predicate = column.into_predicate(self, scope, Op::In, "in", *span);
                predicate.values = values;
                Expr::Predicate(predicate)
            }
            EvalExpr::Call { name, arguments, span } => {
                self.condition_call(name, arguments, *span, scope).unwrap_or_else(opaque)
            }
            _ => opaque(),
        }
    }

    fn flatten(&self, expression: &EvalExpr, wanted: BinaryOp, scope: &Scope) -> Vec<Expr> {
        match expression {
            EvalExpr::Binary { op, left, right, .. } if *op == wanted => {
                let mut items = self.flatten(left, wanted, scope);
                items.extend(self.flatten(right, wanted, scope));
                items
            }
            other => vec![self.eval_condition(other, scope)],
        }
    }

    fn condition_call(&self, name: &str, arguments: &[EvalExpr], span: Span, scope: &Scope) -> Option<Expr> {
        match (name, arguments) {
            ("like", [left, right]) => self.like(left, right, span, scope),
            ("match", [left, right]) => {
                let column = self.column_of(left, scope)?;
                let Some(Value::String { value: pattern }) = eval_value(right, self.source) else { return None };
                let mut predicate = column.into_predicate(self, scope, Op::RegexMatch, "match", span);
                predicate.case_sensitive = !pattern.starts_with("(?i)");
                predicate.values = vec![Value::Regex { pattern, flags: String::new() }];
                Some(Expr::Predicate(predicate))
            }
            ("cidrmatch", [cidr, column]) => {
                let column = self.column_of(column, scope)?;
                let Some(Value::String { value }) = eval_value(cidr, self.source) else { return None };
                let mut predicate = column.into_predicate(self, scope, Op::Cidr, "cidrmatch", span);
                predicate.values = vec![Value::Cidr { value }];
                Some(Expr::Predicate(predicate))
            }
            ("in", [column, list @ ..]) if !list.is_empty() => {
                let column = self.column_of(column, scope)?;
                let values: Option<Vec<Value>> = list.iter().map(|value| eval_value(value, self.source)).collect();
                let mut predicate = column.into_predicate(self, scope, Op::In, "in", span);
                predicate.values = values?;
                Some(Expr::Predicate(predicate))
            }
            ("isnull" | "isnotnull", [column]) => {
                let column = self.column_of(column, scope)?;
                let op = if name == "isnull" { Op::IsNull } else { Op::IsNotNull };
                Some(Expr::Predicate(column.into_predicate(self, scope, op, name, span)))
            }
            _ => None,
        }
    }

    /// `like(x, "%a%")`: `%` is any run of characters, `_` one character.
    fn like(&self, left: &EvalExpr, right: &EvalExpr, span: Span, scope: &Scope) -> Option<Expr> {
        let column = self.column_of(left, scope)?;
        let Some(Value::String { value: pattern }) = eval_value(right, self.source) else { return None };
        let inner = pattern.trim_start_matches('%').trim_end_matches('%');
        let plain = !inner.contains(['%', '_']);
        let (op, value) = match (pattern.starts_with('%'), pattern.ends_with('%') && pattern.len() > 1) {
            // In the IR's glob vocabulary `*` is any run and `?` one character.
            _ if !plain => (Op::Wildcard, pattern.replace('%', "*").replace('_', "?")),
            (true, true) => (Op::Contains, inner.to_owned()),
            (true, false) => (Op::EndsWith, inner.to_owned()),
            (false, true) => (Op::StartsWith, inner.to_owned()),
            (false, false) => (Op::Eq, inner.to_owned()),
        };
        let mut predicate = column.into_predicate(self, scope, op, "like", span);
        predicate.values = vec![Value::string(value)];
        Some(Expr::Predicate(predicate))
    }

    /// The column an expression reads, through value-preserving wrappers; any other expression
    /// of a column is a computed column.
    fn column_of(&self, expression: &EvalExpr, scope: &Scope) -> Option<ColumnRef> {
        let _ = scope;
        match expression {
            EvalExpr::Field(name) => {
                Some(ColumnRef { field: name.text.clone(), functions: Vec::new(), computed: None })
            }
            EvalExpr::Call { name, arguments, span } => {
                let text = self.source.get(span.range()).unwrap_or(name).to_owned();
                let kind = match (name.as_str(), arguments.as_slice()) {
                    ("lower", [_]) => Some(FieldFunctionKind::Lower),
                    ("upper", [_]) => Some(FieldFunctionKind::Upper),
                    ("trim" | "ltrim" | "rtrim", [_]) | ("trim" | "ltrim" | "rtrim", [_, _]) => {
                        Some(FieldFunctionKind::Trim)
                    }
                    ("mvindex", [EvalExpr::Call { name: split, arguments: split_arguments, .. }, index])
                        if split == "split" && split_arguments.len() == 2 && is_minus_one(index, self.source) =>
                    {
                        Some(FieldFunctionKind::PathLeaf)
                    }
                    _ => None,
                };
                let inner = match (kind, arguments.first()) {
                    (Some(FieldFunctionKind::PathLeaf), Some(EvalExpr::Call { arguments, .. })) => arguments.first(),
                    (Some(_), first) => first,
                    (None, _) => None,
                };
                match (kind, inner.and_then(|inner| self.column_of(inner, scope))) {
                    (Some(kind), Some(mut column)) if column.computed.is_none() => {
                        column.functions.insert(0, FieldFunction { kind, text });
                        Some(column)
                    }
                    _ if reads_a_column(expression) => {
                        Some(ColumnRef { field: text, functions: Vec::new(), computed: Some(*span) })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A column read by an eval condition.
struct ColumnRef {
    field: String,
    functions: Vec<FieldFunction>,
    /// An expression of columns that is not value-preserving: its own computed column.
    computed: Option<Span>,
}

impl ColumnRef {
    fn into_predicate(self, lowerer: &Lowerer<'_>, scope: &Scope, op: Op, written: &str, span: Span) -> Predicate {
        let mut predicate = lowerer.predicate(&self.field, scope, op, written, span);
        predicate.case_sensitive = true;
        predicate.functions = self.functions;
        if let Some(definition) = self.computed {
            predicate.origin = FieldOrigin::Computed { definition };
            predicate.resolved_field = None;
        }
        predicate
    }
}

fn reads_a_column(expression: &EvalExpr) -> bool {
    match expression {
        EvalExpr::Field(_) => true,
        EvalExpr::Call { arguments, .. } => arguments.iter().any(reads_a_column),
        EvalExpr::Binary { left, right, .. } => reads_a_column(left) || reads_a_column(right),
        EvalExpr::Not { item, .. } | EvalExpr::Negate { item, .. } => reads_a_column(item),
        _ => false,
    }
}

fn is_minus_one(expression: &EvalExpr, source: &str) -> bool {
    match expression {
        EvalExpr::Number { text, .. } => text == "-1",
        EvalExpr::Negate { item, .. } => matches!(item.as_ref(), EvalExpr::Number { text, .. } if text == "1"),
        other => source.get(other.span().range()) == Some("-1"),
    }
}

/// A literal of an eval expression (`"a"`, `3`, `-1`, `null()`, `true()`).
fn eval_value(expression: &EvalExpr, source: &str) -> Option<Value> {
    match expression {
        EvalExpr::String { value, .. } => Some(Value::string(value.clone())),
        EvalExpr::Number { text, .. } => Some(number_or_string(text)),
        EvalExpr::Negate { item, .. } => match item.as_ref() {
            EvalExpr::Number { text, .. } => Some(number_or_string(&format!("-{text}"))),
            _ => None,
        },
        EvalExpr::Call { name, arguments, .. } if arguments.is_empty() => match name.as_str() {
            "null" => Some(Value::Null),
            "true" => Some(Value::Bool { value: true }),
            "false" => Some(Value::Bool { value: false }),
            _ => None,
        },
        EvalExpr::Field(name) if name.text == "null" => {
            let _ = source;
            Some(Value::Null)
        }
        _ => None,
    }
}

fn mirror(op: Op) -> Op {
    match op {
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        other => other,
    }
}

fn number_or_string(text: &str) -> Value {
    let numeric = !text.is_empty()
        && text.trim_start_matches('-').chars().all(|c| c.is_ascii_digit() || c == '.')
        && !(text.len() > 1 && text.starts_with('0') && !text.starts_with("0."));
    match text.parse::<serde_json::Number>() {
        Ok(value) if numeric => Value::Number { value },
        _ => Value::string(text),
    }
}

/// An unquoted number is a number; anything else a string as Splunk read it.
fn search_literal(value: &SearchValue) -> Value {
    if value.quoted { Value::string(value.value.clone()) } else { number_or_string(&value.value) }
}

/// `*x*` -> contains, `*x` -> ends with, `x*` -> starts with, other `*` -> wildcard, none -> eq.
fn classify_wildcard(value: &str) -> (Op, String) {
    if !value.contains('*') {
        return (Op::Eq, value.to_owned());
    }
    let inner = value.trim_start_matches('*').trim_end_matches('*');
    if inner.is_empty() || inner.contains('*') {
        return (Op::Wildcard, value.to_owned());
    }
    match (value.starts_with('*'), value.ends_with('*')) {
        (true, true) => (Op::Contains, inner.to_owned()),
        (true, false) => (Op::EndsWith, inner.to_owned()),
        _ => (Op::StartsWith, inner.to_owned()),
    }
}

fn is_selector(field: &str) -> bool {
    SELECTOR_FIELDS.contains(&field)
}

/// Positive `index=`/`sourcetype=`/`source=`/`eventtype=`/`Channel=`/`LogName=` terms outside
/// `NOT`.
fn collect_selectors(expression: &SearchExpr, negated: bool, out: &mut Vec<(String, String, Span)>) {
    match expression {
        SearchExpr::And(items) | SearchExpr::Or(items) => {
            items.iter().for_each(|item| collect_selectors(item, negated, out))
        }
        SearchExpr::Not { item, .. } => collect_selectors(item, !negated, out),
        SearchExpr::Compare { field, op: CompareOp::Eq, value, span } if !negated && is_selector(&field.text) => {
            out.push((field.text.to_ascii_lowercase(), value.value.clone(), *span));
        }
        SearchExpr::In { field, values, span } if !negated && is_selector(&field.text) => {
            for value in values {
                out.push((field.text.to_ascii_lowercase(), value.value.clone(), *span));
            }
        }
        _ => {}
    }
}

/// An unexpanded macro written as the first term (`` `cloudtrail` eventName=... `` without the
/// source's macros): it names the data the search reads.
fn leading_macro_term(expression: &SearchExpr) -> Option<(String, Span)> {
    let first = match expression {
        SearchExpr::And(items) => items.first()?,
        other => other,
    };
    match first {
        SearchExpr::Term(value)
            if !value.quoted && value.value.starts_with('`') && value.value.ends_with('`') && value.value.len() > 2 =>
        {
            let inner = &value.value[1..value.value.len() - 1];
            Some((inner.split('(').next().unwrap_or(inner).trim().to_owned(), value.span))
        }
        _ => None,
    }
}

fn simplify(mut items: Vec<Expr>, and: bool) -> Option<Expr> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ if and => Some(Expr::And { items }),
        _ => Some(Expr::Or { items }),
    }
}

fn into_conjuncts(tree: Expr) -> Vec<Expr> {
    match tree {
        Expr::And { items } => items.into_iter().flat_map(into_conjuncts).collect(),
        other => vec![other],
    }
}

/// The data model a generating command reads: `from datamodel Web.Web` (also written
/// `datamodel:Web.Web`), or `datamodel Web Web` (model, then dataset). `None` for anything else.
fn generated_data_model(command: &str, names: &[Name]) -> Option<(String, Span)> {
    match command {
        "from" => {
            let first = names.first()?;
            let (kind, attached) = first.text.split_once(':').unwrap_or((first.text.as_str(), ""));
            if !kind.eq_ignore_ascii_case("datamodel") {
                return None;
            }
            // `datamodel:Web.Web` is one word; `datamodel:"Web.Web"` and `datamodel Web.Web`
            // put the model in the next one.
            let (text, span) = match names.get(1) {
                Some(model) if attached.is_empty() => (model.text.clone(), model.span),
                _ => (attached.to_owned(), first.span),
            };
            let text = text.trim_matches('"').to_owned();
            (!text.is_empty()).then_some((text, span))
        }
        "datamodel" => {
            let model = names.first()?;
            let text = match names.get(1) {
                Some(object) if !object.text.eq_ignore_ascii_case("search") => {
                    format!("{}.{}", model.text, object.text)
                }
                _ => model.text.clone(),
            };
            let span = names.get(1).map_or(model.span, |object| Span::new(model.span.start, object.span.end));
            Some((text, span))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use detwiki_ir::DatasetRole;

    fn data_models(text: &str) -> Vec<String> {
        crate::analyze(text, &BTreeMap::new())
            .datasets
            .iter()
            .filter(|dataset| dataset.role == DatasetRole::DataModel)
            .map(|dataset| dataset.name.clone())
            .collect()
    }

    #[test]
    fn generating_commands_read_their_data_model() {
        assert_eq!(data_models("| from datamodel Web.Web | regex _raw=\"jndi\" | stats count by src"), ["Web.Web"]);
        assert_eq!(data_models("| from datamodel:\"Risk.All_Risk\" | search risk_score>80"), ["Risk.All_Risk"]);
        assert_eq!(
            data_models("| datamodel Network_Traffic All_Traffic search | stats count"),
            ["Network_Traffic.All_Traffic"]
        );
        assert!(data_models("| from inputlookup:hosts.csv | table host").is_empty());
        assert!(data_models("| datamodel").is_empty());
    }

    /// Found in public hunting notes: both are valid Splunk and must not be errors.
    #[test]
    fn aggregate_names_and_macros_between_assignments_are_not_errors() {
        let renamed = crate::analyze(
            "| tstats count(Authentication.src) FROM datamodel=Authentication BY Authentication.src \
             | rename count(Authentication.src) AS failures, Authentication.* as * | where failures>100",
            &BTreeMap::new(),
        );
        assert!(!renamed.has_errors(), "{:?}", renamed.diagnostics);
        let threshold = renamed.stages.iter().find(|stage| stage.kind == "where").expect("a where stage");
        assert!(!threshold.thresholds.is_empty(), "`failures` is the renamed aggregate: {threshold:?}");
        let with_macro =
            crate::analyze("index=a | eval a=1,\n b=2\n`enrich`\n`give_time`\n| table a b", &BTreeMap::new());
        assert!(!with_macro.has_errors(), "{:?}", with_macro.diagnostics);
    }
}
