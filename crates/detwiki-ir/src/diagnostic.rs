//! Diagnostics: one type with a builder, and a deterministic plain renderer.

use serde::{Deserialize, Serialize};

use crate::{LineIndex, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A secondary location with a short note ("opened here").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A problem found in a rule: a parse error, a lint finding, a file that was skipped.
///
/// Messages are short, lower-case, without a trailing period, and name what was expected and what
/// was found. `span` is the primary location; after [`crate::Analysis::map_spans`] it is a byte range
/// into the rule's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case identifier such as `kql-expected-token` or `sigma-duplicate-key`.
    pub code: String,
    pub message: String,
    pub span: Span,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: impl Into<String>, message: impl Into<String>, span: Span) -> Self {
        Self { severity, code: code.into(), message: message.into(), span, labels: Vec::new(), help: None }
    }

    pub fn error(code: impl Into<String>, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Error, code, message, span)
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Warning, code, message, span)
    }

    pub fn info(code: impl Into<String>, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Info, code, message, span)
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders `path:line:column: severity[code]: message`, then labels and help on their own
    /// lines. Deterministic, for tests and terminals without colour.
    pub fn render_plain(&self, path: &str, text: &str, index: &LineIndex) -> String {
        let position = index.line_column(text, self.span.start);
        let mut out = format!("{path}:{position}: {}[{}]: {}", self.severity.as_str(), self.code, self.message);
        for label in &self.labels {
            let at = index.line_column(text, label.span.start);
            out.push_str(&format!("\n  {path}:{at}: {}", label.message));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rendering_has_line_and_column() {
        let text = "T\n| where (a\n";
        let index = LineIndex::new(text);
        let diagnostic = Diagnostic::error("kql-expected-token", "expected `)`, found end of input", Span::empty(13))
            .with_label(Span::new(10, 11), "opened here")
            .with_help("close the parenthesis");
        assert_eq!(
            diagnostic.render_plain("q.kql", text, &index),
            "q.kql:3:1: error[kql-expected-token]: expected `)`, found end of input\n  q.kql:2:9: opened here\n  help: close the parenthesis"
        );
    }
}
