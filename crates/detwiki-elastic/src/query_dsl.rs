//! Elasticsearch query DSL as Kibana stores it in `[[rule.filters]]` and `threat_filters`:
//! `match_phrase`, `match`, `term`, `terms`, `wildcard`, `prefix`, `exists`, `range`, `query_string`
//! and `bool` (`must`/`filter`/`should`/`must_not`), lowered to a predicate tree. A Kibana filter
//! with `meta.negate = true` excludes what it matches.

use detwiki_ir::{Expr, FieldOrigin, Op, Predicate, Span, Value};
use serde_json::Value as Json;

use crate::wildcard::{self, Piece};

/// Nesting bound for `bool` queries (filters are written by hand or by Kibana; 64 is plenty).
const MAX_DEPTH: usize = 64;

/// One Kibana filter: the predicate tree of its query and whether it is negated. `None` when the
/// filter is disabled or holds no query detwiki understands (it is then shown as opaque).
pub fn lower_filter(filter: &Json) -> Option<(Expr, bool)> {
    let meta = filter.get("meta");
    if meta.and_then(|meta| meta.get("disabled")).and_then(Json::as_bool) == Some(true) {
        return None;
    }
    let negate = meta.and_then(|meta| meta.get("negate")).and_then(Json::as_bool).unwrap_or(false);
    // Kibana keeps the query under `query`, except for `exists` filters stored at the top level.
    let expr = match filter.get("query").filter(|query| !query.is_null()) {
        Some(query) => lower_query(query, 0)?,
        None => {
            let object = filter.as_object()?;
            let queries: serde_json::Map<String, Json> = object
                .iter()
                .filter(|(key, _)| !key.starts_with('$') && key.as_str() != "meta")
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            lower_query(&Json::Object(queries), 0)?
        }
    };
    Some((expr, negate))
}

fn lower_query(query: &Json, depth: usize) -> Option<Expr> {
    if depth > MAX_DEPTH {
        return None;
    }
    let object = query.as_object()?;
    let mut items = Vec::new();
    for (kind, body) in object {
        let expr = match kind.as_str() {
            "bool" => lower_bool(body, depth),
            "match_phrase" | "match" | "term" => field_value(body).map(|(field, value, insensitive)| {
                let text = scalar_text(value)?;
                Some(leaf(field, Op::Eq, kind, vec![Value::string(text)], !insensitive))
            })?,
            "terms" => {
                let (field, values) = body.as_object()?.iter().find(|(key, _)| key.as_str() != "boost")?;
                let values: Vec<Value> = values.as_array()?.iter().filter_map(scalar_text).map(Value::string).collect();
                Some(leaf(field, Op::In, kind, values, true))
            }
            "wildcard" | "prefix" => field_value(body).and_then(|(field, value, insensitive)| {
                let text = scalar_text(value)?;
                let pieces =
                    if kind == "prefix" { vec![Piece::Text(text), Piece::Any] } else { wildcard_pieces(&text) };
                let (op, value) = wildcard::lower(&pieces);
                let values = if op == Op::IsNotNull { Vec::new() } else { vec![Value::string(value)] };
                Some(leaf(field, op, kind, values, !insensitive))
            }),
            "exists" => {
                let field = body.get("field")?.as_str()?;
                Some(leaf(field, Op::IsNotNull, kind, Vec::new(), true))
            }
            "range" => lower_range(body),
            _ => Some(Expr::Opaque { text: format!("{kind}: {body}"), span: Span::default() }),
        };
        items.push(expr.unwrap_or_else(|| Expr::Opaque { text: format!("{kind}: {body}"), span: Span::default() }));
    }
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Expr::And { items }),
    }
}

fn lower_bool(body: &Json, depth: usize) -> Option<Expr> {
    let clauses = |key: &str| -> Vec<Expr> {
        match body.get(key) {
            Some(Json::Array(list)) => list.iter().filter_map(|query| lower_query(query, depth + 1)).collect(),
            Some(query @ Json::Object(_)) => lower_query(query, depth + 1).into_iter().collect(),
            _ => Vec::new(),
        }
    };
    let mut items: Vec<Expr> = clauses("must");
    items.extend(clauses("filter"));
    let should = clauses("should");
    if !should.is_empty() {
        items.push(if should.len() == 1 { should.into_iter().next()? } else { Expr::Or { items: should } });
    }
    items.extend(clauses("must_not").into_iter().map(|item| Expr::Not { item: Box::new(item) }));
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Expr::And { items }),
    }
}

fn lower_range(body: &Json) -> Option<Expr> {
    let (field, bounds) = body.as_object()?.iter().next()?;
    let mut items = Vec::new();
    for (key, op) in [("gt", Op::Gt), ("gte", Op::Ge), ("lt", Op::Lt), ("lte", Op::Le)] {
        if let Some(bound) = bounds.get(key) {
            let value = match bound {
                Json::Number(number) => Value::Number { value: number.clone() },
                other => Value::string(scalar_text(other)?),
            };
            items.push(leaf(field, op, key, vec![value], true));
        }
    }
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Expr::And { items }),
    }
}

/// `{field: value}` or `{field: {query|value: value, case_insensitive: bool}}`.
fn field_value(body: &Json) -> Option<(&str, &Json, bool)> {
    let (field, inner) = body.as_object()?.iter().next()?;
    if let Some(object) = inner.as_object() {
        let value = object.get("query").or_else(|| object.get("value"))?;
        let insensitive = object.get("case_insensitive").and_then(Json::as_bool).unwrap_or(false);
        return Some((field, value, insensitive));
    }
    Some((field, inner, false))
}

fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(text) => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        Json::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Elasticsearch wildcard syntax: `*` any run, `?` one character, `\` escapes the next one.
fn wildcard_pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => pieces.push(Piece::Any),
            '?' => pieces.push(Piece::One),
            '\\' => wildcard::push_char(&mut pieces, characters.next().unwrap_or('\\')),
            other => wildcard::push_char(&mut pieces, other),
        }
    }
    pieces
}

fn leaf(field: &str, op: Op, written_op: &str, values: Vec<Value>, case_sensitive: bool) -> Expr {
    Expr::Predicate(Predicate {
        field: field.to_owned(),
        dataset: None,
        resolved_field: None,
        origin: FieldOrigin::Event,
        functions: Vec::new(),
        op,
        written_op: written_op.to_owned(),
        values,
        case_sensitive,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span: Span::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_wildcard_filter() {
        let filter: Json = serde_json::json!({
            "meta": {"negate": true},
            "query": {"wildcard": {"file.path": {"case_insensitive": true, "value": "?:\\\\Windows\\\\*.dll"}}}
        });
        let (expr, negate) = lower_filter(&filter).unwrap();
        assert!(negate);
        let Expr::Predicate(predicate) = expr else { panic!("{expr:?}") };
        assert_eq!(predicate.op, Op::Wildcard);
        assert_eq!(predicate.values, vec![Value::string("?:\\\\Windows\\\\*.dll")]);
        assert!(!predicate.case_sensitive);
    }

    #[test]
    fn exists_at_top_level_and_bool() {
        let filter: Json = serde_json::json!({"exists": {"field": "user_agent.original"}, "meta": {"negate": true}});
        let (expr, _) = lower_filter(&filter).unwrap();
        assert!(matches!(expr, Expr::Predicate(Predicate { op: Op::IsNotNull, .. })));
        let filter: Json = serde_json::json!({"query": {"bool": {"should": [
            {"match_phrase": {"a": "x"}}, {"match_phrase": {"a": "y"}}
        ], "must_not": {"term": {"b": 1}}}}});
        let (expr, negate) = lower_filter(&filter).unwrap();
        assert!(!negate);
        let Expr::And { items } = expr else { panic!() };
        assert!(matches!(items[0], Expr::Or { .. }));
        assert!(matches!(items[1], Expr::Not { .. }));
    }
}
