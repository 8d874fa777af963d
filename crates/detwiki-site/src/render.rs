//! Diagnostics placed at line:column for the HTML pages and their twins. Predicate trees and
//! values are rendered by `detwiki_catalog::{expr_text, value_text}`.

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
