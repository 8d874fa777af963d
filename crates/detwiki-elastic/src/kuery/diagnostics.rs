//! Every message of the kuery parser, in one place. Short, lower-case, naming what was expected
//! and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kuery-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("kuery-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("kuery-unterminated-string", "expected the closing `\"` of the value, found end of query", span)
}

pub fn lone_backslash(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kuery-bad-escape",
        "expected a special character or keyword after `\\`, found something else",
        span,
    )
    .with_help(
        "kuery escapes only \\ ( ) : < > \" * { }, the keywords and \\t \\r \\n \\uXXXX; quote the value instead",
    )
}

pub fn double_not(span: Span) -> Diagnostic {
    Diagnostic::error("kuery-expected", "expected a field, a value or `(`, found `not`", span)
        .with_help("kuery does not accept `not not`; use parentheses: `not (not a : b)`")
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kuery-too-deep",
        format!("expected at most {} nested groups, found more", super::parser::MAX_DEPTH),
        span,
    )
    .with_help("the rest of the query is skipped")
}
