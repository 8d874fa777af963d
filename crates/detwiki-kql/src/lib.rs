//! # detwiki-kql
//!
//! ## Overview
//!
//! Kusto Query Language: lexer, parser and lowering to the detwiki IR. Being written; the public
//! entry point below is the contract the catalog calls.

use detwiki_ir::{Analysis, Diagnostic, Language, Span};

/// Analyses a KQL text. A text may hold several queries separated only by blank lines: one
/// [`Analysis`] per query, each with `span` covering it. Spans are byte ranges into `text`.
pub fn analyze(text: &str) -> Vec<Analysis> {
    let span = Span::from_usize(0, text.len());
    vec![Analysis {
        language: Some(Language::Kql),
        span,
        diagnostics: vec![Diagnostic::info("kql-engine-pending", "the kql engine is not written yet", span)],
        ..Analysis::default()
    }]
}
