//! Every message the Sigma engine emits, in one place. Codes are stable (`sigma-...`); messages
//! are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn yaml_error(info: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-yaml", format!("invalid yaml: {info}"), span)
}

pub fn alias_expansion(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-yaml-alias-expansion", "yaml alias expands to too many nodes", span)
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-too-deep", "nesting is too deep; the rest is not read", span)
}

pub fn duplicate_key(key: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::warning("sigma-duplicate-key", format!("duplicate key `{key}`: the later value wins"), span)
        .with_label(first, "first defined here")
}

pub fn condition_empty(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-condition-syntax", "expected a condition, found nothing", span)
}

pub fn condition_unexpected(found: &str, expected: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-condition-syntax", format!("expected {expected}, found `{found}`"), span)
}

pub fn condition_too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-condition-syntax", "condition nests too deeply", span)
}

pub fn condition_bad_pattern(pattern: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "sigma-condition-syntax",
        format!("identifier pattern `{pattern}` may only hold letters, digits, `_` and `*`"),
        span,
    )
}

pub fn condition_wildcard_identifier(word: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "sigma-condition-syntax",
        format!("expected an identifier, found the pattern `{word}` outside `1 of`/`all of`"),
        span,
    )
}

pub fn deprecated_aggregation(span: Span) -> Diagnostic {
    Diagnostic::warning(
        "sigma-deprecated-aggregation",
        "the `|` aggregation in conditions is deprecated: use a correlation rule",
        span,
    )
}

pub fn aggregation_malformed(span: Span) -> Diagnostic {
    Diagnostic::warning("sigma-aggregation-syntax", "could not read the aggregation after `|`", span)
}

pub fn expected_mapping(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-structure", format!("expected `{what}` to be a map"), span)
}

pub fn expected_scalar(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-structure", format!("expected `{what}` to be text"), span)
}

pub fn expected_scalar_key(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-structure", "expected a plain key, found a map or list", span)
}

pub fn expected_number(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-structure", "expected a number", span)
}

pub fn missing_condition(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-missing-field", "detection has no `condition`", span)
}

pub fn missing_field(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-missing-field", format!("missing {what}"), span)
}

pub fn empty_detection(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-empty-detection", "search identifier is empty", span)
}

pub fn unknown_modifier(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-unknown-modifier", format!("unknown modifier `{name}`"), span)
}

pub fn nested_value(span: Span) -> Diagnostic {
    Diagnostic::error("sigma-structure", "expected a plain value, found a map or list", span)
}

pub fn modifier_error(message: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-modifier", message.to_owned(), span)
}

pub fn unknown_correlation_type(found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-correlation-type", format!("unknown correlation type `{found}`"), span).with_help(
        "expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile",
    )
}

pub fn bad_timespan(found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-timespan", format!("expected a timespan such as `5m`, found `{found}`"), span)
}

pub fn unknown_condition_key(key: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-correlation-condition", format!("unknown correlation condition key `{key}`"), span)
}

pub fn unknown_action(action: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-unknown-action", format!("unknown collection action `{action}`"), span)
        .with_help("expected global, reset or repeat")
}

pub fn undefined_identifier(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-undefined-identifier", format!("condition refers to `{name}`, which is not defined"), span)
}

pub fn empty_selector(pattern: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-empty-selector", format!("`{pattern}` matches no search identifier"), span)
}

pub fn unresolved_reference(reference: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("sigma-unresolved-reference", format!("no rule with id or name `{reference}`"), span)
}

pub fn invalid_id(found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("sigma-invalid-id", format!("expected `id` to be a UUID, found `{found}`"), span)
}
