//! Sigma conditions: `and`, `or`, `not`, parentheses, `1 of` / `any of` / `all of` with wildcard
//! patterns and `them`, and the deprecated `| count() by x > 5` aggregation, which is parsed and
//! reported as deprecated.

mod aggregation;
mod lexer;
mod parser;

use detwiki_ir::{Diagnostic, Span};

pub use lexer::{Token, TokenKind, tokenize};
pub use parser::{ParsedCondition, parse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `1 of`
    One,
    /// `any of` (the same as `1 of`)
    Any,
    /// `all of`
    All,
}

impl Quantifier {
    pub fn as_str(self) -> &'static str {
        match self {
            Quantifier::One => "1",
            Quantifier::Any => "any",
            Quantifier::All => "all",
        }
    }
}

/// A condition tree; spans are byte ranges (into the condition text after parsing, into the file
/// once the loader has placed them).
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionExpr {
    And { items: Vec<ConditionExpr>, span: Span },
    Or { items: Vec<ConditionExpr>, span: Span },
    Not { item: Box<ConditionExpr>, span: Span },
    Identifier { name: String, span: Span },
    Selector { quantifier: Quantifier, pattern: String, span: Span },
}

impl ConditionExpr {
    pub fn span(&self) -> Span {
        match self {
            ConditionExpr::And { span, .. }
            | ConditionExpr::Or { span, .. }
            | ConditionExpr::Not { span, .. }
            | ConditionExpr::Identifier { span, .. }
            | ConditionExpr::Selector { span, .. } => *span,
        }
    }

    fn with_span(mut self, new_span: Span) -> Self {
        match &mut self {
            ConditionExpr::And { span, .. }
            | ConditionExpr::Or { span, .. }
            | ConditionExpr::Not { span, .. }
            | ConditionExpr::Identifier { span, .. }
            | ConditionExpr::Selector { span, .. } => *span = new_span,
        }
        self
    }

    /// Rewrites every span (used to move condition-text offsets to file offsets).
    pub fn map_spans(&mut self, map: &impl Fn(Span) -> Span) {
        match self {
            ConditionExpr::And { items, span } | ConditionExpr::Or { items, span } => {
                *span = map(*span);
                items.iter_mut().for_each(|item| item.map_spans(map));
            }
            ConditionExpr::Not { item, span } => {
                *span = map(*span);
                item.map_spans(map);
            }
            ConditionExpr::Identifier { span, .. } | ConditionExpr::Selector { span, .. } => *span = map(*span),
        }
    }
}

/// Identifiers a selector pattern matches, in the order they are defined: `*` matches any run of
/// characters, `them` matches everything; identifiers starting with `_` only match patterns that
/// start with `_` (pySigma's rule for filter identifiers).
pub fn matching_identifiers<'a>(pattern: &str, identifiers: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    identifiers
        .filter(|identifier| {
            let matches = pattern == "them" || glob_match(pattern.as_bytes(), identifier.as_bytes());
            matches && (pattern.starts_with('_') || !identifier.starts_with('_'))
        })
        .collect()
}

/// `*`-only glob matching, iterative (no backtracking blow-up).
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// The deprecated aggregation of a condition (`| count(field) by group > 5`).
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// The text after `|`, trimmed.
    pub text: String,
    /// `count`, `sum`, `min`, `max`, `avg`, `near`.
    pub function: String,
    pub field: Option<String>,
    pub group_by: Option<String>,
    pub operator: Option<String>,
    pub threshold: Option<String>,
    /// From the `|` to the end of the aggregation.
    pub span: Span,
    pub diagnostics: Vec<Diagnostic>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(expression: &ConditionExpr) -> String {
        match expression {
            ConditionExpr::And { items, .. } => {
                format!("and({})", items.iter().map(shape).collect::<Vec<_>>().join(","))
            }
            ConditionExpr::Or { items, .. } => format!("or({})", items.iter().map(shape).collect::<Vec<_>>().join(",")),
            ConditionExpr::Not { item, .. } => format!("not({})", shape(item)),
            ConditionExpr::Identifier { name, .. } => name.clone(),
            ConditionExpr::Selector { quantifier, pattern, .. } => format!("{} of {pattern}", quantifier.as_str()),
        }
    }

    #[test]
    fn precedence_and_chains() {
        let parsed = parse("a and not b or (c and d) and all of sel_*");
        assert_eq!(shape(parsed.expression.as_ref().unwrap()), "or(and(a,not(b)),and(and(c,d),all of sel_*))");
        assert!(parsed.diagnostics.is_empty());
    }

    #[test]
    fn keywords_are_whole_words() {
        let parsed = parse("notepad and not_this");
        assert_eq!(shape(parsed.expression.as_ref().unwrap()), "and(notepad,not_this)");
    }

    #[test]
    fn pipe_aggregation_is_parsed_and_deprecated() {
        let parsed = parse("selection | count(dst_ip) by src_ip > 10");
        let aggregation = parsed.aggregation.unwrap();
        assert_eq!(aggregation.function, "count");
        assert_eq!(aggregation.field.as_deref(), Some("dst_ip"));
        assert_eq!(aggregation.group_by.as_deref(), Some("src_ip"));
        assert_eq!(aggregation.threshold.as_deref(), Some("10"));
        assert!(parsed.diagnostics.iter().any(|d| d.code == "sigma-deprecated-aggregation"));
    }

    #[test]
    fn selectors_match_like_pysigma() {
        let ids = ["selection_1", "selection_2", "filter", "_filt"];
        assert_eq!(matching_identifiers("selection_*", ids.iter().copied()), ["selection_1", "selection_2"]);
        assert_eq!(matching_identifiers("them", ids.iter().copied()), ["selection_1", "selection_2", "filter"]);
    }
}
