//! Splitting a text into query units.
//!
//! Raw `.kql` files and Markdown blocks often hold several queries one after another, separated
//! only by blank lines. The rule follows Kusto's tools (and the conformance oracle): a text that
//! parses cleanly is one unit; otherwise its blank-line-separated chunks are merged greedily,
//! extending a unit while the merged text still parses without errors.

use detwiki_ir::Span;

use crate::lexer::is_whitespace;
use crate::parser::{Parsed, parse_range};

/// One query of a text: its range (first to last non-blank character) and its parse.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub span: Span,
    pub parsed: Parsed,
}

/// The query units of `text`, in order. A text that is blank or only comments has none.
pub fn split_units(text: &str) -> Vec<Unit> {
    let chunks = chunks(text);
    let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
        return Vec::new();
    };
    let _ = (first, last);
    let trimmed_start = text.len() - text.trim_start_matches(is_whitespace).len();
    let trimmed_end = text.trim_end_matches(is_whitespace).len();
    let whole = Span::from_usize(trimmed_start, trimmed_end.max(trimmed_start));
    let parsed = parse_range(text, whole);
    if !parsed.has_errors() || chunks.len() == 1 {
        return vec![Unit { span: whole, parsed }];
    }
    let mut units = Vec::new();
    let mut index = 0;
    while index < chunks.len() {
        let start = chunks[index].start;
        let mut end_index = index;
        let mut best = parse_range(text, Span::new(start, chunks[index].end));
        while end_index + 1 < chunks.len() {
            let candidate = parse_range(text, Span::new(start, chunks[end_index + 1].end));
            if candidate.has_errors() {
                break;
            }
            end_index += 1;
            best = candidate;
        }
        units.push(Unit { span: Span::new(start, chunks[end_index].end), parsed: best });
        index = end_index + 1;
    }
    units
}

/// Maximal runs of non-blank lines that hold code (not only `//` comments), each trimmed to its
/// first and last non-white-space character.
fn chunks(text: &str) -> Vec<Span> {
    let mut chunks = Vec::new();
    let mut current: Option<(usize, usize, bool)> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_matches(is_whitespace);
        if content.is_empty() {
            if let Some((start, end, has_code)) = current.take()
                && has_code
            {
                chunks.push(Span::from_usize(start, end));
            }
        } else {
            let leading = line.len() - line.trim_start_matches(is_whitespace).len();
            let content_start = line_start + leading;
            let content_end = content_start + content.len();
            let is_code = !content.starts_with("//");
            current = Some(match current {
                Some((start, _, has_code)) => (start, content_end, has_code || is_code),
                None => (content_start, content_end, is_code),
            });
        }
        line_start += line.len();
    }
    if let Some((start, end, has_code)) = current
        && has_code
    {
        chunks.push(Span::from_usize(start, end));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_line_separated_queries_are_units() {
        let text = "// Sentinel\nSecurityEvent\n| where EventID == 4688\n\n// Defender\nDeviceProcessEvents\n| where FileName =~ \"x\"\n";
        let units = split_units(text);
        assert_eq!(units.len(), 2);
        assert!(units.iter().all(|unit| !unit.parsed.has_errors()));
        assert_eq!(units[1].span.slice(text), Some("// Defender\nDeviceProcessEvents\n| where FileName =~ \"x\""));
    }

    #[test]
    fn a_query_with_blank_lines_stays_one_unit() {
        let text = "let a = 1;\n\nT\n\n| where x == a\n";
        assert_eq!(split_units(text).len(), 1);
        assert!(split_units("// only a comment\n\n").is_empty());
    }
}
