//! Every message the SPL engine emits, in one place, so wording stays consistent and codes stay
//! stable. Messages are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("spl-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("spl-unclosed", format!("expected `{closer}`, found end of search"), span)
        .with_label(opened, "opened here")
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("spl-unterminated-string", "expected the closing quote of the string, found end of search", span)
}

pub fn unterminated_comment(span: Span) -> Diagnostic {
    Diagnostic::error("spl-unterminated-comment", "expected ``` closing the comment, found end of search", span)
}

pub fn empty_command(span: Span) -> Diagnostic {
    Diagnostic::error("spl-empty-command", "expected a command after `|`, found nothing", span)
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("spl-too-deep", "expected at most 100 nested expressions or subsearches, found more", span)
        .with_help("the rest of the nested expression is skipped")
}

pub fn unknown_macro(name: &str, arity: usize, span: Span) -> Diagnostic {
    let key = if arity == 0 { name.to_owned() } else { format!("{name}({arity})") };
    Diagnostic::warning("spl-unknown-macro", format!("macro `{key}` is not defined by the source"), span)
        .with_help("the call is kept as written and analysed unexpanded")
}

pub fn macro_too_deep(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("spl-macro-too-deep", format!("macro `{name}` nests more than 16 levels deep"), span)
        .with_help("a macro that calls itself is left unexpanded")
}

pub fn expansion_too_long(span: Span) -> Diagnostic {
    Diagnostic::warning("spl-expansion-too-long", "macro expansion exceeds 1 MiB; this call is left unexpanded", span)
}

pub fn empty_filter_macro(name: &str, span: Span) -> Diagnostic {
    Diagnostic::info(
        "spl-tuning-macro",
        format!("`{name}` is the rule's tuning hook and is empty here: it adds no logic"),
        span,
    )
}
