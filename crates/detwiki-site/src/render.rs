//! Diagnostics placed at line:column for the HTML pages and their twins, and the rule body cut
//! into anchored lines. Predicate trees and values are rendered by
//! `detwiki_catalog::{expr_text, value_text}`.

use detwiki_ir::{Diagnostic, LineIndex};
use serde::Serialize;

/// A diagnostic with its position in the file, for pages and JSON twins.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedDiagnostic {
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub span: detwiki_ir::Span,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl PlacedDiagnostic {
    pub fn new(diagnostic: &Diagnostic, text: &str, index: &LineIndex) -> Self {
        let position = index.line_column(text, diagnostic.span.start);
        PlacedDiagnostic {
            severity: diagnostic.severity.as_str(),
            code: diagnostic.code.clone(),
            message: diagnostic.message.clone(),
            line: position.line,
            column: position.column,
            span: diagnostic.span,
            labels: diagnostic
                .labels
                .iter()
                .map(|label| format!("{}: {}", index.line_column(text, label.span.start), label.message))
                .collect(),
            help: diagnostic.help.clone(),
        }
    }
}

/// `body` as HTML: every line escaped and wrapped in `<span id="L<n>">`, numbered from
/// `first_line` as in the rule's file, so that diagnostics and findings link to `#L<n>`. Line
/// breaks stay outside the spans, so copying the body copies the file's text.
pub fn body_lines_html(body: &str, first_line: u32) -> String {
    let mut html = String::with_capacity(body.len() + body.len() / 2);
    let mut number = first_line;
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(end) => (&rest[..end], Some(&rest[end + 1..])),
            None => (rest, None),
        };
        html.push_str("<span id=\"L");
        html.push_str(&number.to_string());
        html.push_str("\">");
        escape_into(&mut html, line);
        html.push_str("</span>");
        match next {
            Some(next) => {
                html.push('\n');
                rest = next;
            }
            None => rest = "",
        }
        number = number.saturating_add(1);
    }
    html
}

/// Appends `text` with the five HTML-special characters escaped.
pub fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#x27;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lines_are_anchored_and_escaped() {
        assert_eq!(
            body_lines_html("a <b>\n\nc & 'd'\n", 3),
            "<span id=\"L3\">a &lt;b&gt;</span>\n<span id=\"L4\"></span>\n<span id=\"L5\">c &amp; &#x27;d&#x27;</span>\n"
        );
        assert_eq!(body_lines_html("", 1), "");
        assert_eq!(body_lines_html("x", 1), "<span id=\"L1\">x</span>");
    }
}
