//! # detwiki-sigma
//!
//! ## Overview
//!
//! Sigma 2.1, checked against pySigma: YAML with byte spans, collections (`action: global`,
//! `reset`, `repeat`), rules, correlation rules and filters, every value modifier with its
//! expansions, the full condition grammar (and the deprecated `|` aggregation), lint with
//! positions, and lowering to the detwiki IR.
//!
//! Entry points: [`load`] reads a file into a [`SigmaFile`]; [`analyze`] lowers one document of a
//! file to an [`Analysis`]; [`lint()`] finds what pySigma's validators find and more;
//! [`RuleIndex`] links correlations and filters to the rules they name across files.
//!
//! Correlations and filters name other rules by id or name: [`correlation_references`] lists the
//! names, [`RuleIndex::link`] resolves them across a corpus (same file first) and reports each one
//! it cannot resolve. A filter is applied by the catalog: its analysis holds its search identifiers
//! as negated `filter` stages (exclusions) and one `filter-target` stage per rule it names, so the
//! linked rules show them as exclusions; its spans stay in the filter's own file.
//!
//! **Invariant:** nothing here panics on any input, and every span is a byte range into the text
//! the function was given.
//!
//! ## Source code layout
//!
//! - `yaml.rs`: YAML events (saphyr-parser) to nodes with byte spans; PyYAML's scalar resolution;
//!   duplicate keys.
//! - `document.rs`: documents, collection merging, metadata, logsource.
//! - `detection.rs`: search identifiers, detection items, values, conditions placed in the file.
//! - `modifiers.rs`: Sigma strings (wildcards, escaping) and every value modifier.
//! - `condition/`: condition lexer, parser and the deprecated aggregation.
//! - `correlation.rs`, `filter.rs`: correlation rules and filters.
//! - `references.rs`: resolving rule references by id or name.
//! - `lint.rs`: validator findings with spans.
//! - `diagnostics.rs`: every message.
//! - `lower.rs`: documents to [`Analysis`].

pub mod condition;
pub mod correlation;
pub mod detection;
mod diagnostics;
pub mod document;
pub mod filter;
pub mod lint;
mod lower;
pub mod modifiers;
pub mod references;
pub mod yaml;

use detwiki_ir::{Analysis, Diagnostic, Language, Span};

pub use document::{DocumentKind, SigmaDocument, SigmaFile};
pub use lint::{LintContext, lint};
pub use references::{ReferenceKind, RuleIndex, RuleReference, references};

/// The rules each correlation and filter of `file` names (by id or name), in the order written.
/// Resolve them across a corpus with [`RuleIndex::link`], which also reports the unresolved ones.
pub fn correlation_references(file: &SigmaFile) -> Vec<RuleReference> {
    references::references(file)
}

/// Reads every document of a Sigma file (collections merged). Never panics.
pub fn load(file_text: &str) -> SigmaFile {
    document::load(file_text)
}

/// Analyses document `document` (0-based index in the YAML stream, counting every document,
/// `action: global` ones included) of a Sigma file. `file_text` is the whole file: the engine
/// merges collection documents itself. Spans are byte ranges into `file_text`.
pub fn analyze(file_text: &str, document: usize) -> Analysis {
    let file = load(file_text);
    analyze_loaded(&file, document, file_text)
}

/// [`analyze`] on a file already loaded (the catalog loads each file once).
pub fn analyze_loaded(file: &SigmaFile, document: usize, file_text: &str) -> Analysis {
    match file.documents.get(document) {
        Some(loaded) => {
            let mut analysis = lower::lower_document(loaded);
            if document + 1 == file.documents.len() {
                analysis.diagnostics.extend(file.diagnostics.iter().cloned());
            }
            analysis
        }
        None => {
            let span = Span::from_usize(0, file_text.len());
            let mut diagnostics = file.diagnostics.clone();
            diagnostics.push(Diagnostic::error(
                "sigma-no-document",
                format!("the file has {} documents, no document {document}", file.documents.len()),
                span,
            ));
            Analysis { language: Some(Language::Sigma), span, diagnostics, ..Analysis::default() }
        }
    }
}
