//! # detwiki-kql
//!
//! ## Overview
//!
//! Kusto Query Language: a lexer, a recovering parser and the lowering of its tree into the
//! language-neutral [`detwiki_ir::Analysis`]. Parsing never fails: every input gives a tree and
//! diagnostics with byte ranges. A text may hold several queries one after another (a Sentinel
//! variant and an Advanced Hunting variant separated by blank lines); [`analyze`] splits it into
//! query units the way Kusto's own tools do and lowers each.
//!
//! **Invariant:** the engine never panics and never recurses without bound; every span it
//! returns is a byte range into the text it was given.
//!
//! ## Source code layout
//!
//! - `token.rs`, `lexer.rs`: tokens (kind + span) and the hand-written lexer, string decoding.
//! - `parser/`: `mod.rs` (statements, entry point), `expression.rs` (Pratt parser, literals,
//!   pipelines), `operators.rs` (one branch per tabular operator), `recovery.rs` (depth guard,
//!   skipping).
//! - `ast.rs`: the syntax tree.
//! - `diagnostics.rs`: every message.
//! - `units.rs`: splitting a text into query units.
//! - `lower.rs`: tree to IR (datasets, stages, predicates, parameters, time windows).
//! - `syntax.rs`: a flat view of a tree (operators with nesting, comparison predicates) used by
//!   conformance checks and tests, and an indented outline of a tree for snapshots.

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;
mod syntax;
mod token;
mod units;

pub use ast::*;
pub use detwiki_ir::Span;
pub use lexer::{decode_string, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};
pub use syntax::{SyntaxOperator, SyntaxPredicate, SyntaxValue, operators, outline, predicates};
pub use token::{Token, TokenKind};
pub use units::{Unit, split_units};

use detwiki_ir::{Analysis, Language};

/// Lowers one unit found by [`split_units`] in `text` (exposed for per-stage benchmarks).
pub fn lower_unit(text: &str, unit: &Unit) -> Analysis {
    let mut analysis = lower::lower(text, unit);
    analysis.language = Some(Language::Kql);
    analysis
}

/// Analyses a KQL text. A text may hold several queries separated only by blank lines: one
/// [`Analysis`] per query, each with `span` covering it. Spans are byte ranges into `text`. A
/// text that is blank or only comments holds no query and gives an empty list.
pub fn analyze(text: &str) -> Vec<Analysis> {
    split_units(text).into_iter().map(|unit| lower_unit(text, &unit)).collect()
}
