//! Plain-text renderings of predicate trees and values, shared by pages, JSON twins and the
//! terminal (`detwiki show`), so a condition reads the same everywhere.

use detwiki_ir::{Expr, Op, Predicate, Value};

/// Upper bound on nesting when printing a predicate tree; deeper parts print as `…`.
const MAX_EXPR_DEPTH: usize = 64;

/// `field op value`, `(a and b)`, `not (...)`: the normalized tree as one line.
pub fn expr_text(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(expr, 0, &mut out);
    out
}

fn write_expr(expr: &Expr, depth: usize, out: &mut String) {
    if depth > MAX_EXPR_DEPTH {
        out.push('…');
        return;
    }
    match expr {
        Expr::And { items } | Expr::Or { items } => {
            let joiner = if matches!(expr, Expr::And { .. }) { " and " } else { " or " };
            if items.is_empty() {
                out.push_str(if matches!(expr, Expr::And { .. }) { "true" } else { "false" });
                return;
            }
            if depth > 0 && items.len() > 1 {
                out.push('(');
            }
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(joiner);
                }
                write_expr(item, depth + 1, out);
            }
            if depth > 0 && items.len() > 1 {
                out.push(')');
            }
        }
        Expr::Not { item } => {
            out.push_str("not (");
            write_expr(item, depth + 1, out);
            out.push(')');
        }
        Expr::Predicate(predicate) => out.push_str(&predicate_text(predicate)),
        Expr::Opaque { text, .. } => {
            out.push('{');
            out.push_str(text);
            out.push('}');
        }
    }
}

/// One predicate as `field [not] op values [transforms]`.
pub fn predicate_text(predicate: &Predicate) -> String {
    let mut out = predicate.field.clone();
    if let Some(resolved) = &predicate.resolved_field {
        out.push_str(&format!(" ({resolved})"));
    }
    out.push(' ');
    if predicate.negated {
        out.push_str("not ");
    }
    out.push_str(predicate.op.as_str());
    let textual = !matches!(
        predicate.op,
        Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Between | Op::Cidr | Op::IsNull | Op::IsNotNull
    );
    if predicate.case_sensitive && textual {
        out.push_str(" (case-sensitive)");
    }
    if predicate.all {
        out.push_str(" all of");
    }
    let values: Vec<String> = predicate.values.iter().map(value_text).collect();
    if !values.is_empty() {
        out.push(' ');
        out.push_str(&values.join(", "));
    }
    for transform in &predicate.transforms {
        out.push_str(&format!(" |{}", transform.name));
    }
    if predicate.time_filter {
        out.push_str(" [time filter]");
    }
    out
}

/// A value as shown: strings quoted with JSON escapes so spaces and backslashes stay visible.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String { value } => serde_json::to_string(value).unwrap_or_default(),
        Value::Number { value } => value.to_string(),
        Value::Bool { value } => value.to_string(),
        Value::Null => "null".to_owned(),
        Value::Regex { pattern, flags } => format!("/{pattern}/{flags}"),
        Value::Cidr { value } => format!("cidr {value}"),
        Value::Typed { r#type, text } => format!("{type}({text})", type = r#type),
        Value::Variable { name, .. } => format!("${name}"),
        Value::Column { name } => format!("column {name}"),
        Value::Call { text, .. } => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use detwiki_ir::{FieldOrigin, Span};

    use super::*;

    #[test]
    fn trees_print_with_parentheses() {
        let predicate = |field: &str, negated| {
            Expr::Predicate(Predicate {
                field: field.to_owned(),
                dataset: None,
                resolved_field: None,
                origin: FieldOrigin::Event,
                functions: Vec::new(),
                op: Op::EndsWith,
                written_op: "endswith".to_owned(),
                values: vec![Value::string("\\msiexec.exe")],
                case_sensitive: false,
                all: false,
                transforms: Vec::new(),
                negated,
                time_filter: false,
                span: Span::default(),
            })
        };
        let tree = Expr::And {
            items: vec![
                predicate("Image", false),
                Expr::Or { items: vec![predicate("A", true), predicate("B", false)] },
            ],
        };
        assert_eq!(
            expr_text(&tree),
            r#"Image ends_with "\\msiexec.exe" and (A not ends_with "\\msiexec.exe" or B ends_with "\\msiexec.exe")"#
        );
    }
}
