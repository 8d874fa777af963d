//! # detwiki-sigma
//!
//! ## Overview
//!
//! Sigma 2.1: YAML with spans, modifiers, conditions, correlation and filter rules, lint and
//! lowering to the detwiki IR. Being written; the public entry point below is the contract the
//! catalog calls.

use detwiki_ir::{Analysis, Diagnostic, Language, Span};

/// Analyses document `document` (0-based index in the YAML stream, counting every document,
/// `action: global` ones included) of a Sigma file. `file_text` is the whole file: the engine
/// merges collection documents itself. Spans are byte ranges into `file_text`.
pub fn analyze(file_text: &str, document: usize) -> Analysis {
    let _ = document;
    let span = Span::from_usize(0, file_text.len());
    Analysis {
        language: Some(Language::Sigma),
        span,
        diagnostics: vec![Diagnostic::info("sigma-engine-pending", "the sigma engine is not written yet", span)],
        ..Analysis::default()
    }
}
