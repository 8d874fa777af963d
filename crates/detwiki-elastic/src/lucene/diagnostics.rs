//! Every message of the Lucene parser, in one place.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("lucene-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("lucene-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn unterminated(span: Span) -> Diagnostic {
    Diagnostic::error(
        "lucene-unterminated",
        "expected the closing quote, slash or escaped character, found end of query",
        span,
    )
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error(
        "lucene-too-deep",
        format!("expected at most {} nested groups, found more", super::parser::MAX_DEPTH),
        span,
    )
    .with_help("the rest of the query is skipped")
}
