//! The deprecated aggregation after `|` (`count(field) by group > 5`, `near a and b`), parsed so that
//! old rules still show what they meant; pySigma rejects them, correlations replace them.

use detwiki_ir::{Diagnostic, Span};

use super::Aggregation;
use crate::diagnostics;

/// Parses `text` (what follows the `|`), whose first byte is at `offset` in the condition.
pub fn parse(text: &str, offset: u32, pipe: Span) -> Aggregation {
    let trimmed_start = text.len() - text.trim_start().len();
    let body = text.trim();
    let span =
        pipe.cover(Span::from_usize(offset as usize + trimmed_start, offset as usize + trimmed_start + body.len()));
    let mut aggregation = Aggregation {
        text: body.to_owned(),
        function: String::new(),
        field: None,
        group_by: None,
        operator: None,
        threshold: None,
        span,
        diagnostics: Vec::<Diagnostic>::new(),
    };
    let function_end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    aggregation.function = body[..function_end].to_owned();
    let mut rest = &body[function_end..];
    if aggregation.function == "near" {
        return aggregation;
    }
    if let Some(after_open) = rest.strip_prefix('(') {
        match after_open.find(')') {
            Some(close) => {
                let field = after_open[..close].trim();
                if !field.is_empty() {
                    aggregation.field = Some(field.to_owned());
                }
                rest = &after_open[close + 1..];
            }
            None => {
                aggregation.diagnostics.push(diagnostics::aggregation_malformed(span));
                return aggregation;
            }
        }
    }
    let mut words = rest.split_whitespace().peekable();
    while let Some(word) = words.next() {
        match word {
            "by" => aggregation.group_by = words.next().map(str::to_owned),
            ">" | ">=" | "<" | "<=" | "=" | "==" | "!=" => {
                aggregation.operator = Some(word.to_owned());
                aggregation.threshold = words.next().map(str::to_owned);
            }
            _ => {
                let split = word.find(|c: char| c.is_ascii_digit());
                match split {
                    Some(at) if at > 0 && word[..at].chars().all(|c| "<>=!".contains(c)) => {
                        aggregation.operator = Some(word[..at].to_owned());
                        aggregation.threshold = Some(word[at..].to_owned());
                    }
                    _ => aggregation.diagnostics.push(diagnostics::aggregation_malformed(span)),
                }
            }
        }
    }
    aggregation
}
