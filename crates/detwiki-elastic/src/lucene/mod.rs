//! Lucene query strings (Elasticsearch `query_string`, as Kibana sends them).
//!
//! - `lexer.rs`: tokens, term and phrase decoding.
//! - `parser.rs`: recursive descent with recovery and a depth guard.
//! - `ast.rs`: the tree. `diagnostics.rs`: every message.
//! - `lower.rs`: the tree as one IR stage.

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;

pub use ast::Node;
pub use lexer::{Token, TokenKind, decode_plain, decode_term, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};

use detwiki_ir::{Analysis, Language, Stage};

/// Analyses one Lucene query: one `query` stage (none for an empty query), no datasets (see
/// [`crate::analyze`]). Spans are byte ranges into `text`.
pub fn analyze(text: &str) -> Analysis {
    let parsed = parse(text);
    let span = crate::kuery::trimmed_span(text);
    let mut analysis =
        Analysis { language: Some(Language::Lucene), span, diagnostics: parsed.diagnostics, ..Analysis::default() };
    if let Some(query) = &parsed.query {
        let mut stage = Stage::new("query", span);
        stage.predicate = Some(lower::lower(text, query, None));
        analysis.stages.push(stage);
    }
    analysis
}
