//! Kuery tree to IR: one `query` stage whose predicate tree mirrors the boolean structure.
//!
//! Semantics written down in `docs/semantics.md` ("Elastic: kuery and Lucene"): `field : value`
//! is an exact, case-sensitive match on keyword fields (`eq`, `case_sensitive`); unquoted `*`
//! wildcards become `contains`/`starts_with`/`ends_with`/`wildcard`; `field : *` is `is_not_null`;
//! ranges are `gt`/`ge`/`lt`/`le`; a list `field : (a or b)` is an `or` of predicates on the
//! field; a nested query `a : { b : c }` reads the field `a.b`; a value without a field is a
//! keyword search (`FieldOrigin::Keyword`, operator `match`).

use detwiki_ir::{Expr, FieldOrigin, Op, Predicate, Span, Value};

use super::ast::{Literal, Query, Target, Values};
use super::lexer::{decode_quoted, decode_unquoted};
use crate::wildcard::{self, Piece};

/// Decoded pieces of a literal (a quoted literal is one text piece).
pub fn pieces(text: &str, literal: &Literal) -> Vec<Piece> {
    let raw = literal.span.slice(text).unwrap_or("");
    if literal.quoted { vec![Piece::Text(decode_quoted(raw))] } else { decode_unquoted(raw) }
}

fn field_name(text: &str, literal: &Literal) -> String {
    wildcard::display(&pieces(text, literal))
}

pub fn lower_query(text: &str, query: &Query, prefix: &str) -> Expr {
    match query {
        Query::Or { items, .. } => {
            Expr::Or { items: items.iter().map(|item| lower_query(text, item, prefix)).collect() }
        }
        Query::And { items, .. } => {
            Expr::And { items: items.iter().map(|item| lower_query(text, item, prefix)).collect() }
        }
        Query::Not { item, .. } => Expr::Not { item: Box::new(lower_query(text, item, prefix)) },
        Query::Field { field, target, span } => {
            let name = format!("{prefix}{}", field_name(text, field));
            match target {
                Target::Values(values) => lower_values(text, &name, values, *span),
                Target::Range { op, value } => {
                    let decoded = wildcard::display(&pieces(text, value));
                    let value = match decoded.parse::<serde_json::Number>() {
                        Ok(number) if !value.quoted => Value::Number { value: number },
                        _ => Value::string(decoded),
                    };
                    let ir_op = match op {
                        super::ast::RangeOp::Less => Op::Lt,
                        super::ast::RangeOp::LessEqual => Op::Le,
                        super::ast::RangeOp::Greater => Op::Gt,
                        super::ast::RangeOp::GreaterEqual => Op::Ge,
                    };
                    Expr::Predicate(predicate(name, ir_op, op.as_str(), vec![value], *span, FieldOrigin::Event))
                }
                Target::Nested(inner) => lower_query(text, inner, &format!("{name}.")),
            }
        }
        Query::Value { value } => {
            let decoded = pieces(text, value);
            let (op, value_text) =
                if value.quoted { (Op::Match, wildcard::display(&decoded)) } else { keyword_op(&decoded) };
            let values = if op == Op::IsNotNull { Vec::new() } else { vec![Value::string(value_text)] };
            Expr::Predicate(predicate(String::new(), op, "keyword", values, value.span, FieldOrigin::Keyword))
        }
        Query::Missing { span } => Expr::Opaque { text: String::new(), span: *span },
    }
}

/// A bare search term: `match` of the term, or the wildcard shape it has.
fn keyword_op(pieces: &[Piece]) -> (Op, String) {
    match wildcard::lower(pieces) {
        (Op::Eq, text) => (Op::Match, text),
        other => other,
    }
}

fn lower_values(text: &str, field: &str, values: &Values, span: Span) -> Expr {
    match values {
        Values::Or { items, .. } => {
            Expr::Or { items: items.iter().map(|item| lower_values(text, field, item, values_span_of(item))).collect() }
        }
        Values::And { items, .. } => Expr::And {
            items: items.iter().map(|item| lower_values(text, field, item, values_span_of(item))).collect(),
        },
        Values::Not { item, .. } => Expr::Not { item: Box::new(lower_values(text, field, item, values_span_of(item))) },
        Values::One(literal) => {
            let (op, value) = if literal.quoted {
                (Op::Eq, wildcard::display(&pieces(text, literal)))
            } else {
                wildcard::lower(&pieces(text, literal))
            };
            let values = if op == Op::IsNotNull { Vec::new() } else { vec![Value::string(value)] };
            Expr::Predicate(predicate(field.to_owned(), op, ":", values, span, FieldOrigin::Event))
        }
        Values::Missing { span } => Expr::Opaque { text: String::new(), span: *span },
    }
}

fn values_span_of(values: &Values) -> Span {
    super::parser::values_span(values)
}

fn predicate(
    field: String,
    op: Op,
    written_op: &str,
    values: Vec<Value>,
    span: Span,
    origin: FieldOrigin,
) -> Predicate {
    Predicate {
        field,
        dataset: None,
        resolved_field: None,
        origin,
        functions: Vec::new(),
        op,
        written_op: written_op.to_owned(),
        values,
        // Kuery compares keyword fields exactly; see the module documentation.
        case_sensitive: true,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span,
    }
}
