//! Every message the EQL engine emits, in one place, so wording stays consistent and codes stay
//! stable. Messages are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("eql-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("eql-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn unexpected_character(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("eql-unexpected-character", format!("expected a token, found `{text}`"), span)
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("eql-unterminated-string", "expected the closing quote of the string, found end of line", span)
}

pub fn unterminated_comment(span: Span) -> Diagnostic {
    Diagnostic::error("eql-unterminated-comment", "expected `*/` closing the comment, found end of query", span)
}

pub fn bad_escape(span: Span) -> Diagnostic {
    Diagnostic::error("eql-bad-escape", "expected a valid escape in the string, found an unknown one", span)
        .with_help("use \\\\ for a backslash, or a \"\"\"raw\"\"\" string")
}

pub fn single_quoted(span: Span) -> Diagnostic {
    Diagnostic::error("eql-string-quotes", "expected a \"...\" or \"\"\"...\"\"\" string, found another quoting", span)
        .with_help("Elasticsearch EQL does not accept '...' or ?\"...\" strings")
}

pub fn single_equal(span: Span) -> Diagnostic {
    Diagnostic::error("eql-single-equal", "expected `==` to compare, found `=`", span)
}

pub fn keyword_as_field(word: &str, span: Span) -> Diagnostic {
    Diagnostic::error("eql-keyword-as-field", format!("expected a field, found the keyword `{word}`"), span)
        .with_help("quote a field with this name in backquotes")
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("eql-too-deep", "expected at most 200 nested expressions, found more", span)
        .with_help("the rest of the nested expression is skipped")
}

pub fn bad_runs(span: Span) -> Diagnostic {
    Diagnostic::error("eql-runs", "expected `runs` of 2 or more on a sequence step, found another value or place", span)
}

pub fn runs_not_here(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("eql-runs", format!("expected no `with runs` on {what}, found one"), span)
}

pub fn by_count(expected: usize, found: usize, span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-join-keys",
        format!("expected {expected} `by` keys like the first step, found {found}"),
        span,
    )
}

pub fn bad_max_span(span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-maxspan",
        "expected a duration such as `5m` or `30s` for `maxspan`, found another value",
        span,
    )
}

pub fn unknown_parameter(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error("eql-parameter", format!("expected `maxspan`, found `{name}`"), span)
}

pub fn missing_event_not_here(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-missing-event",
        format!("expected a `[...]` step, found a missing event `![...]` in {what}"),
        span,
    )
}

pub fn missing_event_without_max_span(span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-missing-event",
        "expected `with maxspan` on a sequence with a missing event, found none",
        span,
    )
}

pub fn sample_one_step(span: Span) -> Diagnostic {
    Diagnostic::error("eql-sample", "expected at least two steps in a sample, found one", span)
}

pub fn join_one_step(span: Span) -> Diagnostic {
    Diagnostic::error("eql-join", "expected at least two steps in a join, found one", span)
}

pub fn fork_not_here(span: Span) -> Diagnostic {
    Diagnostic::error("eql-fork", "expected `fork` on a later step, found it on the first or on `until`", span)
}

pub fn string_predicate_value(span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-string-predicate",
        "expected string literals after `:`, `like` or `regex`, found another value",
        span,
    )
}

pub fn string_predicate_subject(span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-string-predicate",
        "expected a field or a string on the left of the match, found a literal of another type",
        span,
    )
}

pub fn field_comparison(span: Span) -> Diagnostic {
    Diagnostic::error("eql-field-comparison", "expected a literal on one side of the comparison, found fields on both", span)
        .with_help("Elasticsearch EQL compares fields only with constants; Elastic Endpoint rules (with `as` aliases) may compare fields")
}

pub fn literal_comparison(span: Span) -> Diagnostic {
    Diagnostic::error("eql-type", "expected values of one type on both sides, found literals of different types", span)
}

pub fn function_arguments(name: &str, expected: &str, found: usize, span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-function-arguments",
        format!("expected {expected} arguments to `{name}`, found {found}"),
        span,
    )
}

pub fn unknown_pipe(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-unknown-pipe",
        format!("expected a pipe (head, tail, filter, unique, unique_count, count), found `{name}`"),
        span,
    )
}

pub fn alias_outside_sequence(span: Span) -> Diagnostic {
    Diagnostic::error("eql-alias", "expected `as` aliases only on sequence steps, found one elsewhere", span)
}

pub fn dialect_alias(span: Span) -> Diagnostic {
    Diagnostic::info(
        "eql-endpoint-dialect",
        "step aliases (`as name`) are Elastic Endpoint syntax; Elasticsearch EQL rejects them",
        span,
    )
}

pub fn dialect_variable(span: Span) -> Diagnostic {
    Diagnostic::error(
        "eql-variable",
        "expected a field or a literal, found a `$` variable outside an Elastic Endpoint rule",
        span,
    )
}
