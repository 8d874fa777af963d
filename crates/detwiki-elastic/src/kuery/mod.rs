//! Kibana Query Language (kuery), as Kibana's grammar (`grammar.peggy`) defines it.
//!
//! - `lexer.rs`: scannerless token cutting (white space is part of values unless a keyword
//!   follows), value decoding.
//! - `parser.rs`: recursive descent, `or` < `and` < `not`, with recovery and a depth guard.
//! - `ast.rs`: the tree. `diagnostics.rs`: every message.
//! - `lower.rs`: the tree as one IR stage.

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;

pub use ast::{Literal, Query, RangeOp, Target, Values};
pub use lexer::{Token, TokenKind, decode_quoted, decode_unquoted, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};

use detwiki_ir::{Analysis, Language, Span, Stage};

/// Analyses one kuery query. The analysis has one `query` stage (none for an empty query) and no
/// datasets: the index patterns a rule searches are rule-level context, added by
/// [`crate::analyze`]. Spans are byte ranges into `text`.
pub fn analyze(text: &str) -> Analysis {
    let parsed = parse(text);
    let span = trimmed_span(text);
    let mut analysis =
        Analysis { language: Some(Language::Kuery), span, diagnostics: parsed.diagnostics, ..Analysis::default() };
    if let Some(query) = &parsed.query {
        let mut stage = Stage::new("query", span);
        stage.predicate = Some(lower::lower_query(text, query, ""));
        analysis.stages.push(stage);
    }
    analysis
}

/// The span of `text` without leading and trailing white space.
pub(crate) fn trimmed_span(text: &str) -> Span {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len().max(start);
    Span::from_usize(start, end)
}
