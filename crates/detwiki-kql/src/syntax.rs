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
