//! Plain-text renderings of predicate trees and values, shared by pages, JSON twins and the
//! terminal (`detwiki show`), so a condition reads the same everywhere.
//!
//! One display convention for values (docs/semantics.md, "Values as shown"): a value reads as the
//! rule means it, unescaped once and in the rule's case (`C:\Windows`, never `C:\\Windows`);
//! strings are quoted in conditions; characters nobody can see (a leading or trailing space,
//! U+00A0, U+2800, tabs, line breaks, zero-width and other format characters) are written
//! `⟨U+XXXX⟩`; regular expressions read `/pattern/flags` with the pattern as written.

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

/// The positive form of an excluded condition: `not (x)` is `x`, `FileName != "a"` is
/// `FileName eq "a"`, `a !has b` is `a match b`. Exclusions read "excluded when <this>" in every
/// language, whether the rule wrote `where not(...)`, `!=` or a Sigma `not filter`.
pub fn positive_text(expr: &Expr) -> String {
    match expr {
        Expr::Not { item } => expr_text(item),
        Expr::Predicate(predicate) if predicate.negated || predicate.op == Op::Ne => {
            let mut positive = predicate.clone();
            // `!=` carries its negation in the operator, `!has` in the flag: undo exactly one.
            if positive.op == Op::Ne {
                positive.op = Op::Eq;
            } else {
                positive.negated = false;
            }
            predicate_text(&positive)
        }
        other => format!("not ({})", expr_text(other)),
    }
}

/// One predicate as `field [not] op values [transforms]`.
pub fn predicate_text(predicate: &Predicate) -> String {
    let mut out = String::new();
    for function in &predicate.functions {
        out.push_str(&function.text);
        out.push_str(" of ");
    }
    out.push_str(&predicate.field);
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

/// A value as shown in a condition: strings between double quotes in the rule's spelling, with
/// [`visible_text`] escapes; a CIDR range bare (the operator already says `cidr`).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String { value } => format!("\"{}\"", visible_text(value)),
        Value::Number { value } => value.to_string(),
        Value::Bool { value } => value.to_string(),
        Value::Null => "null".to_owned(),
        Value::Regex { pattern, flags } => format!("/{}/{flags}", visible_text(pattern)),
        Value::Cidr { value } => value.clone(),
        Value::Typed { r#type, text } => format!("{type}({text})", type = r#type),
        Value::Variable { name, .. } => format!("${name}"),
        Value::Column { name } => format!("column {name}"),
        Value::Call { text, .. } => text.clone(),
    }
}

/// The text with every character a reader cannot see written `⟨U+XXXX⟩`: spaces at either end
/// (inside a value they show as spaces), other whitespace and control characters (tab, line
/// breaks, U+00A0, U+3000), the Braille blank U+2800, soft hyphens, zero-width and direction
/// marks and other format characters.
pub fn visible_text(text: &str) -> String {
    let leading = text.len() - text.trim_start_matches(' ').len();
    let trailing_start = text.trim_end_matches(' ').len().max(leading);
    let mut out = String::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let edge_space = c == ' ' && (offset < leading || offset >= trailing_start);
        if edge_space || is_invisible(c) {
            out.push_str(&format!("⟨U+{:04X}⟩", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that render as nothing or as a blank other than the plain space.
fn is_invisible(c: char) -> bool {
    (c.is_whitespace() && c != ' ')
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
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
            r#"Image ends_with "\msiexec.exe" and (A not ends_with "\msiexec.exe" or B ends_with "\msiexec.exe")"#
        );
        assert_eq!(positive_text(&predicate("A", true)), r#"A ends_with "\msiexec.exe""#);
        let not = Expr::Not { item: Box::new(predicate("B", false)) };
        assert_eq!(positive_text(&not), r#"B ends_with "\msiexec.exe""#);
    }

    #[test]
    fn invisible_characters_are_escaped_once() {
        assert_eq!(visible_text(" /hidewmp"), "⟨U+0020⟩/hidewmp");
        assert_eq!(visible_text("a b "), "a b⟨U+0020⟩");
        assert_eq!(visible_text("x\u{00A0}y\u{2800}"), "x⟨U+00A0⟩y⟨U+2800⟩");
        assert_eq!(visible_text("C:\\Windows\tT"), "C:\\Windows⟨U+0009⟩T");
        assert_eq!(visible_text("   "), "⟨U+0020⟩⟨U+0020⟩⟨U+0020⟩");
        assert_eq!(value_text(&Value::Cidr { value: "10.0.0.0/8".to_owned() }), "10.0.0.0/8");
        assert_eq!(value_text(&Value::string("ADMIN$")), "\"ADMIN$\"");
    }
}
