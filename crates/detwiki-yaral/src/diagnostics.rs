//! Every message the YARA-L engine emits, in one place, so wording stays consistent and codes stay
//! stable. Messages are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("yaral-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("yaral-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn unexpected_character(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("yaral-unexpected-character", format!("expected a token, found `{text}`"), span)
}

pub fn unterminated(what: &str, closer: &str, span: Span) -> Diagnostic {
    Diagnostic::error("yaral-unterminated", format!("expected `{closer}` closing the {what}, found end of line"), span)
}

pub fn bad_number(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("yaral-bad-number", format!("expected a number or a duration (s, m, h, d), found `{text}`"), span)
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("yaral-too-deep", "expected at most 128 nested expressions, found more", span)
        .with_help("the rest of the nested expression is skipped")
}

pub fn unknown_section(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "yaral-unknown-section",
        format!("expected a section (meta, events, match, outcome, condition, options), found `{name}`"),
        span,
    )
}

pub fn duplicate_section(name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error("yaral-duplicate-section", format!("expected one `{name}` section, found a second"), span)
        .with_label(first, "first here")
}

pub fn section_order(name: &str, after: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("yaral-section-order", format!("expected `{name}` before `{after}`, found it after"), span)
        .with_help("sections come in the order meta, events, match, outcome, condition, options")
}

pub fn missing_section(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error("yaral-missing-section", format!("expected a `{name}` section, found none"), span)
}

pub fn no_rule(span: Span) -> Diagnostic {
    Diagnostic::error("yaral-no-rule", "expected `rule NAME { ... }`, found no rule", span)
}

pub fn undefined_variable(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "yaral-undefined-variable",
        format!("expected `{name}` to be defined in `events`, found no definition"),
        span,
    )
}

pub fn multiline_string(span: Span) -> Diagnostic {
    Diagnostic::warning("yaral-multiline-string", "expected a string on one line, found a line break inside", span)
        .with_help("write a line break as `\\n`")
}
