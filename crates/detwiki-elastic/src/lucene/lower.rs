//! Lucene tree to IR: one `query` stage.
//!
//! `field:term` is an exact match (`eq`, case-sensitive on keyword fields); `*`/`?` wildcards
//! follow the shared wildcard lowering; `"phrase"` is `eq` of the phrase; `/re/` is
//! `regex_match`; ranges are `ge`/`gt` and `le`/`lt` on their closed ends (`*` is open);
//! `_exists_:f` is `f is_not_null`; a term without a field is a keyword search. Clauses side by
//! side are optional (`or`) unless marked: with a `+` clause, the unmarked ones only score and
//! are left out; `-` clauses are exclusions (`not`).

use detwiki_ir::{Expr, FieldOrigin, Op, Predicate, Span, Value};

use super::ast::Node;
use super::lexer::{decode_plain, decode_term};
use crate::wildcard;

pub fn lower(text: &str, node: &Node, field: Option<&str>) -> Expr {
    let slice = |span: Span| span.slice(text).unwrap_or("");
    match node {
        Node::Or { items, .. } => Expr::Or { items: items.iter().map(|item| lower(text, item, field)).collect() },
        Node::And { items, .. } => Expr::And { items: items.iter().map(|item| lower(text, item, field)).collect() },
        Node::Implicit { items, .. } => lower_implicit(text, items, field),
        Node::Not { item, .. } | Node::Prohibit { item, .. } => Expr::Not { item: Box::new(lower(text, item, field)) },
        Node::Required { item, .. } | Node::Group { item, .. } => lower(text, item, field),
        Node::Field { name, value, span } => {
            let name = decode_plain(slice(*name));
            if name == "_exists_" {
                let target = match value.as_ref() {
                    Node::Term { span } | Node::Phrase { span } => decode_plain(slice(*span).trim_matches('"')),
                    _ => String::new(),
                };
                return Expr::Predicate(predicate(target, Op::IsNotNull, "_exists_", Vec::new(), *span));
            }
            lower(text, value, Some(&name))
        }
        Node::Term { span } => {
            let (op, value) = wildcard::lower(&decode_term(slice(*span)));
            let op = if field.is_none() && op == Op::Eq { Op::Match } else { op };
            let values = if op == Op::IsNotNull { Vec::new() } else { vec![Value::string(value)] };
            leaf(field, op, ":", values, *span)
        }
        Node::Phrase { span } => {
            let raw = slice(*span);
            let inner = raw.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(raw);
            let op = if field.is_none() { Op::Match } else { Op::Eq };
            leaf(field, op, ":", vec![Value::string(decode_plain(inner))], *span)
        }
        Node::Regex { span } => {
            let raw = slice(*span);
            let pattern = raw.strip_prefix('/').and_then(|rest| rest.strip_suffix('/')).unwrap_or(raw);
            let value = Value::Regex { pattern: pattern.replace("\\/", "/"), flags: String::new() };
            leaf(field, Op::RegexMatch, ":/.../", vec![value], *span)
        }
        Node::Range { low, high, include_low, include_high, span } => {
            let mut items = Vec::new();
            for (bound, op) in [
                (*low, if *include_low { Op::Ge } else { Op::Gt }),
                (*high, if *include_high { Op::Le } else { Op::Lt }),
            ] {
                let bound_text = decode_plain(slice(bound).trim_matches('"'));
                if bound_text == "*" || bound.is_empty() {
                    continue;
                }
                items.push(leaf(field, op, op.as_str(), vec![bound_value(bound_text)], *span));
            }
            match items.len() {
                1 => items.pop().unwrap_or(Expr::And { items: Vec::new() }),
                // `[* TO *]` matches any value: the field exists.
                0 => leaf(field, Op::IsNotNull, "[* TO *]", Vec::new(), *span),
                _ => Expr::And { items },
            }
        }
        Node::Compare { op, value, span } => {
            let op = match slice(*op) {
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                _ => Op::Le,
            };
            let value = bound_value(decode_plain(slice(*value).trim_matches('"')));
            leaf(field, op, op.as_str(), vec![value], *span)
        }
        Node::Missing { span } => Expr::Opaque { text: String::new(), span: *span },
    }
}

fn lower_implicit(text: &str, items: &[Node], field: Option<&str>) -> Expr {
    let required = items.iter().any(|item| matches!(item, Node::Required { .. }));
    let mut must = Vec::new();
    let mut should = Vec::new();
    for item in items {
        match item {
            Node::Required { .. } | Node::Prohibit { .. } => must.push(lower(text, item, field)),
            _ if required => {}
            _ => should.push(lower(text, item, field)),
        }
    }
    match should.len() {
        0 => {}
        1 => must.extend(should),
        _ => must.push(Expr::Or { items: should }),
    }
    if must.len() == 1 { must.pop().unwrap_or(Expr::And { items: Vec::new() }) } else { Expr::And { items: must } }
}

fn bound_value(text: String) -> Value {
    match text.parse::<serde_json::Number>() {
        Ok(number) => Value::Number { value: number },
        Err(_) => Value::string(text),
    }
}

fn leaf(field: Option<&str>, op: Op, written_op: &str, values: Vec<Value>, span: Span) -> Expr {
    let mut predicate = predicate(field.unwrap_or_default().to_owned(), op, written_op, values, span);
    if field.is_none() {
        predicate.origin = FieldOrigin::Keyword;
        predicate.written_op = "keyword".to_owned();
    }
    Expr::Predicate(predicate)
}

fn predicate(field: String, op: Op, written_op: &str, values: Vec<Value>, span: Span) -> Predicate {
    Predicate {
        field,
        dataset: None,
        resolved_field: None,
        origin: FieldOrigin::Event,
        functions: Vec::new(),
        op,
        written_op: written_op.to_owned(),
        values,
        case_sensitive: true,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span,
    }
}
