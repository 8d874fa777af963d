//! Every message the KQL engine emits, in one place, so wording stays consistent and codes stay
//! stable. Messages are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kql-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("kql-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn unknown_operator(keyword: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kql-unknown-operator", format!("expected a query operator, found `{keyword}`"), span)
        .with_help("operators are where, project, extend, summarize, join, union, ...")
}

pub fn missing_semicolon(found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kql-expected-semicolon", format!("expected `;` between statements, found {found}"), span)
        .with_help("separate a `let` from what follows with `;`, and queries with a blank line or `;`")
}

pub fn unexpected_character(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kql-unexpected-character", format!("expected a token, found `{text}`"), span)
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("kql-unterminated-string", "expected the closing quote of the string, found end of line", span)
}

pub fn bad_number(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("kql-bad-number", format!("expected a number or a timespan, found `{text}`"), span)
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("kql-too-deep", "expected at most 200 nested expressions, found more", span)
        .with_help("the rest of the nested expression is skipped")
}

pub fn fragment(span: Span) -> Diagnostic {
    Diagnostic::error("kql-fragment", "expected a table or an expression, found `|` starting a fragment", span)
        .with_help("this text continues a query that starts elsewhere")
}

/// A column reference that no column of the operator's input answers (reported only when the
/// caller gives table schemas).
pub fn unknown_column(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "kql-unknown-column",
        format!("expected a column of the input, found unknown name `{name}`"),
        span,
    )
}
