//! A flat, syntactic view of a tree: every query operator with its nesting, and every
//! comparison with its literal values. This is what conformance compares with Kusto.Language,
//! and what tests assert on without depending on the tree's shape.

use detwiki_ir::Span;

use crate::ast::{Expr, ExprKind, LiteralKind, Operator, Script, Statement, StatementKind};

/// A query operator as written, with the number of operators that enclose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxOperator {
    pub keyword: String,
    pub nesting: u32,
    pub span: Span,
}

/// A literal on the right of a comparison, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum SyntaxValue {
    String(String),
    Long(i64),
    Real(f64),
    Bool(bool),
    /// Timespans, datetimes, guids, typed nulls, `dynamic` objects: the source text.
    Text(String),
    /// Not a literal (a column, a call, a variable).
    NonLiteral,
}

/// A comparison (`==`, `has`, `in`, `has_any`, `between`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxPredicate {
    /// The operator as written (`!in~`, `matches regex`).
    pub op: String,
    /// The source text of the left operand.
    pub left: String,
    /// One entry per right-hand element (`between`'s two bounds, list elements, `dynamic`
    /// arrays flattened).
    pub values: Vec<SyntaxValue>,
    pub span: Span,
}

/// Every query operator of the script, in source order.
pub fn operators(script: &Script) -> Vec<SyntaxOperator> {
    let mut walker = Walker { text: "", operators: Vec::new(), predicates: Vec::new() };
    walker.statements(&script.statements, 0);
    let mut operators = walker.operators;
    operators.sort_by_key(|operator| operator.span.start);
    operators
}

/// Every comparison of the script, in source order. `text` is the text the script was parsed
/// from (for the left operands).
pub fn predicates(script: &Script, text: &str) -> Vec<SyntaxPredicate> {
    let mut walker = Walker { text, operators: Vec::new(), predicates: Vec::new() };
    walker.statements(&script.statements, 0);
    let mut predicates = walker.predicates;
    predicates.sort_by_key(|predicate| predicate.span.start);
    predicates
}

/// Decodes a literal element; `None` when it is not a literal.
pub fn literal_value(expr: &Expr) -> Option<SyntaxValue> {
    match &expr.kind {
        ExprKind::Literal(literal) => Some(match literal.kind {
            LiteralKind::String => SyntaxValue::String(literal.value.clone()),
            LiteralKind::Long => parse_integer(&literal.value, false),
            LiteralKind::Real => {
                literal.value.parse().map_or(SyntaxValue::Text(literal.value.clone()), SyntaxValue::Real)
            }
            LiteralKind::Bool => SyntaxValue::Bool(literal.value == "true"),
            LiteralKind::Typed => typed_number(&literal.value),
            _ => SyntaxValue::Text(literal.value.clone()),
        }),
        ExprKind::Paren(inner) => literal_value(inner),
        ExprKind::Unary { op, operand } if op == "-" => match &operand.kind {
            ExprKind::Literal(literal) if literal.kind == LiteralKind::Long => {
                Some(parse_integer(&literal.value, true))
            }
            ExprKind::Literal(literal) if literal.kind == LiteralKind::Real => {
                literal.value.parse::<f64>().ok().map(|value| SyntaxValue::Real(-value))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `long(0x1F)`, `int(5)`, `real(1.5)`: the number inside.
fn typed_number(text: &str) -> SyntaxValue {
    let inner = text.split_once('(').map(|(_, rest)| rest.trim_end_matches(')').trim()).unwrap_or("");
    let negative = inner.starts_with('-');
    let digits = inner.trim_start_matches('-').trim();
    if !digits.contains('.') && !digits.contains(['e', 'E']) || digits.starts_with("0x") {
        return match parse_integer(digits, negative) {
            SyntaxValue::Text(_) => SyntaxValue::Text(text.to_owned()),
            value => value,
        };
    }
    digits
        .parse::<f64>()
        .map_or(SyntaxValue::Text(text.to_owned()), |value| SyntaxValue::Real(if negative { -value } else { value }))
}

fn parse_integer(text: &str, negative: bool) -> SyntaxValue {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse::<i64>().ok(),
    };
    match parsed {
        Some(value) => SyntaxValue::Long(if negative { -value } else { value }),
        None => SyntaxValue::Text(if negative { format!("-{text}") } else { text.to_owned() }),
    }
}

/// The elements a right-hand side stands for: list items, with `dynamic([...])` flattened.
pub fn flatten_values(items: &[Expr]) -> Vec<&Expr> {
    let mut out = Vec::new();
    for item in items {
        match &item.kind {
            ExprKind::Literal(literal) if literal.kind == LiteralKind::Dynamic && !literal.elements.is_empty() => {
                out.extend(literal.elements.iter());
            }
            _ => out.push(item),
        }
    }
    out
}

struct Walker<'t> {
    text: &'t str,
    operators: Vec<SyntaxOperator>,
    predicates: Vec<SyntaxPredicate>,
}

impl Walker<'_> {
    fn statements(&mut self, statements: &[Statement], nesting: u32) {
        for statement in statements {
            match &statement.kind {
                StatementKind::Let { value, .. } => self.expr(value, nesting),
                StatementKind::Query(expr) => self.expr(expr, nesting),
                StatementKind::Directive { parameters, .. } => {
                    for parameter in parameters {
                        if let Some(default) = &parameter.default {
                            self.expr(default, nesting);
                        }
                    }
                }
            }
        }
    }

    fn operator(&mut self, operator: &Operator, nesting: u32) {
        if !operator.keyword.is_empty() {
            self.operators.push(SyntaxOperator { keyword: operator.keyword.clone(), nesting, span: operator.span });
        }
        let inner = nesting + 1;
        for (_, value) in &operator.parameters {
            self.expr(value, inner);
        }
        for expr in operator.sources.iter().chain(&operator.items).chain(&operator.on).chain(&operator.by) {
            self.expr(expr, inner);
        }
    }

    fn record(&mut self, op: &str, left: &Expr, right: &[&Expr], span: Span) {
        let values = right.iter().map(|expr| literal_value(expr).unwrap_or(SyntaxValue::NonLiteral)).collect();
        let left_text = left.span.slice(self.text).unwrap_or("").to_owned();
        self.predicates.push(SyntaxPredicate { op: op.to_owned(), left: left_text, values, span });
    }

    fn expr(&mut self, expr: &Expr, nesting: u32) {
        match &expr.kind {
            ExprKind::Name(_)
            | ExprKind::Literal(_)
            | ExprKind::Star
            | ExprKind::Wildcard(_)
            | ExprKind::Raw
            | ExprKind::Missing => {}
            ExprKind::Call { callee, args } => {
                self.expr(callee, nesting);
                args.iter().for_each(|arg| self.expr(arg, nesting));
            }
            ExprKind::Member { target, .. } => self.expr(target, nesting),
            ExprKind::Index { target, index } => {
                self.expr(target, nesting);
                self.expr(index, nesting);
            }
            ExprKind::Unary { operand, .. } => self.expr(operand, nesting),
            ExprKind::Binary { op, left, right } => {
                if !matches!(op.as_str(), "+" | "-" | "*" | "/" | "%") {
                    self.record(op, left, &[right.as_ref()], expr.span);
                }
                self.expr(left, nesting);
                self.expr(right, nesting);
            }
            ExprKind::Logical { items, .. } | ExprKind::Tuple(items) => {
                items.iter().for_each(|item| self.expr(item, nesting));
            }
            ExprKind::List { op, left, items } => {
                let values = flatten_values(items);
                self.record(op, left, &values, expr.span);
                self.expr(left, nesting);
                items.iter().for_each(|item| self.expr(item, nesting));
            }
            ExprKind::Between { negated, left, low, high } => {
                let op = if *negated { "!between" } else { "between" };
                self.record(op, left, &[low.as_ref(), high.as_ref()], expr.span);
                self.expr(left, nesting);
                self.expr(low, nesting);
                self.expr(high, nesting);
            }
            ExprKind::Paren(inner) => self.expr(inner, nesting),
            ExprKind::Assign { target, value } => {
                self.expr(target, nesting);
                self.expr(value, nesting);
            }
            ExprKind::Sorted { expr, .. } => self.expr(expr, nesting),
            ExprKind::Pipe { source, operators } => {
                if let Some(source) = source {
                    self.expr(source, nesting);
                }
                operators.iter().for_each(|operator| self.operator(operator, nesting));
            }
            ExprKind::Operator(operator) => self.operator(operator, nesting),
            ExprKind::Function { parameters, body } => {
                for parameter in parameters {
                    if let Some(default) = &parameter.default {
                        self.expr(default, nesting);
                    }
                }
                self.statements(body, nesting);
            }
            ExprKind::Table { values, .. } => values.iter().for_each(|value| self.expr(value, nesting)),
        }
    }
}

/// An indented outline of the tree, one node per line with its byte range, for snapshots.
pub fn outline(script: &Script) -> String {
    let mut out = String::new();
    for statement in &script.statements {
        let (label, children): (String, Vec<&Expr>) = match &statement.kind {
            StatementKind::Let { name, value } => (format!("let {}", name.text), vec![value]),
            StatementKind::Query(expr) => ("query".to_owned(), vec![expr]),
            StatementKind::Directive { keyword, .. } => (format!("directive {keyword}"), Vec::new()),
        };
        line(&mut out, 0, &label, statement.span);
        for child in children {
            outline_expr(&mut out, 1, child);
        }
    }
    out
}

fn line(out: &mut String, depth: usize, label: &str, span: Span) {
    out.push_str(&"  ".repeat(depth));
    out.push_str(&format!("{label} @{}..{}\n", span.start, span.end));
}

fn outline_operator(out: &mut String, depth: usize, operator: &Operator) {
    line(out, depth, &format!("operator {}", operator.keyword), operator.span);
    for (name, value) in &operator.parameters {
        line(out, depth + 1, &format!("parameter {}", name.text), name.span);
        outline_expr(out, depth + 2, value);
    }
    for (label, list) in
        [("sources", &operator.sources), ("items", &operator.items), ("on", &operator.on), ("by", &operator.by)]
    {
        if !list.is_empty() {
            out.push_str(&"  ".repeat(depth + 1));
            out.push_str(label);
            out.push('\n');
            list.iter().for_each(|expr| outline_expr(out, depth + 2, expr));
        }
    }
}

fn outline_expr(out: &mut String, depth: usize, expr: &Expr) {
    let children: Vec<&Expr> = match &expr.kind {
        ExprKind::Name(name) => return line(out, depth, &format!("name {name}"), expr.span),
        ExprKind::Literal(literal) => {
            return line(out, depth, &format!("literal {:?} {:?}", literal.kind, literal.value), expr.span);
        }
        ExprKind::Star => return line(out, depth, "star", expr.span),
        ExprKind::Wildcard(text) => return line(out, depth, &format!("wildcard {text}"), expr.span),
        ExprKind::Raw => return line(out, depth, "raw", expr.span),
        ExprKind::Missing => return line(out, depth, "missing", expr.span),
        ExprKind::Operator(operator) => return outline_operator(out, depth, operator),
        ExprKind::Pipe { source, operators } => {
            line(out, depth, "pipe", expr.span);
            if let Some(source) = source {
                outline_expr(out, depth + 1, source);
            }
            operators.iter().for_each(|operator| outline_operator(out, depth + 1, operator));
            return;
        }
        ExprKind::Call { callee, args } => {
            line(out, depth, "call", expr.span);
            std::iter::once(callee.as_ref()).chain(args).collect::<Vec<_>>().into_iter().for_each(|child| {
                outline_expr(out, depth + 1, child);
            });
            return;
        }
        ExprKind::Member { target, name } => {
            line(out, depth, &format!("member .{}", name.text), expr.span);
            vec![target.as_ref()]
        }
        ExprKind::Index { target, index } => {
            line(out, depth, "index", expr.span);
            vec![target.as_ref(), index.as_ref()]
        }
        ExprKind::Unary { op, operand } => {
            line(out, depth, &format!("unary {op}"), expr.span);
            vec![operand.as_ref()]
        }
        ExprKind::Binary { op, left, right } => {
            line(out, depth, &format!("binary {op}"), expr.span);
            vec![left.as_ref(), right.as_ref()]
        }
        ExprKind::Logical { and, items } => {
            line(out, depth, if *and { "and" } else { "or" }, expr.span);
            items.iter().collect()
        }
        ExprKind::List { op, left, items } => {
            line(out, depth, &format!("list {op}"), expr.span);
            std::iter::once(left.as_ref()).chain(items).collect()
        }
        ExprKind::Between { negated, left, low, high } => {
            line(out, depth, if *negated { "!between" } else { "between" }, expr.span);
            vec![left.as_ref(), low.as_ref(), high.as_ref()]
        }
        ExprKind::Paren(inner) => {
            line(out, depth, "paren", expr.span);
            vec![inner.as_ref()]
        }
        ExprKind::Tuple(items) => {
            line(out, depth, "tuple", expr.span);
            items.iter().collect()
        }
        ExprKind::Assign { target, value } => {
            line(out, depth, "assign", expr.span);
            vec![target.as_ref(), value.as_ref()]
        }
        ExprKind::Function { parameters, body } => {
            let names: Vec<&str> = parameters.iter().map(|parameter| parameter.name.text.as_str()).collect();
            line(out, depth, &format!("function ({})", names.join(", ")), expr.span);
            let inner = outline(&Script { statements: body.clone(), span: expr.span });
            for text in inner.lines() {
                out.push_str(&"  ".repeat(depth + 1));
                out.push_str(text);
                out.push('\n');
            }
            return;
        }
        ExprKind::Table { keyword, columns, values } => {
            let names: Vec<&str> = columns.iter().map(|column| column.name.text.as_str()).collect();
            line(out, depth, &format!("{keyword} ({})", names.join(", ")), expr.span);
            values.iter().collect()
        }
        ExprKind::Sorted { expr: inner, direction } => {
            line(out, depth, &format!("sorted {direction}"), expr.span);
            vec![inner.as_ref()]
        }
    };
    children.into_iter().for_each(|child| outline_expr(out, depth + 1, child));
}
