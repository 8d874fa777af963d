//! # EQL (Elastic Event Query Language)
//!
//! ## Overview
//!
//! Elasticsearch EQL as Elastic's detection rules write it, and the Elastic Endpoint
//! behaviour-rule dialect (step aliases `[...] as event0`, field-to-field comparisons, `$`
//! variables): event queries (`process where ...`), `sequence` (shared and per-step `by`,
//! `with maxspan=`, `with runs=N`, missing events `![...]`, `until`), `sample by`, the legacy
//! `join`, and pipes. [`parse`] gives the tree and diagnostics; [`analyze`] lowers it into the
//! language-neutral [`detwiki_ir::Analysis`] (docs/semantics.md, "EQL").
//!
//! **Invariant:** the engine never panics and never recurses without bound; every span it
//! returns is a byte range into the text it was given.
//!
//! ## Source code layout
//!
//! - `token.rs`, `lexer.rs`: tokens (kind + span), the hand-written lexer, string decoding.
//! - `parser/`: `mod.rs` (queries, sequences, samples, pipes, and eql's checks on them),
//!   `expression.rs` (boolean operators, predicates, arithmetic, calls, fields, literals),
//!   `recovery.rs` (token cursor, depth guard, skipping).
//! - `ast.rs`: the syntax tree.
//! - `diagnostics.rs`: every message.
//! - `lower.rs`: tree to IR (datasets per event query or step, stages, predicates, keys, spans).

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;
mod token;

pub use ast::*;
pub use lexer::{decode_string, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};
pub use token::{Token, TokenKind};

use detwiki_ir::Analysis;

/// Analyses one EQL query. Spans are byte ranges into `text`; problems are diagnostics, never a
/// panic, and what could be parsed is still lowered.
pub fn analyze(text: &str) -> Analysis {
    analyze_parsed(text, &parse(text))
}

/// Lowers a tree [`parse`] made of `text` (exposed so conformance checks and per-stage
/// benchmarks can hold the tree and the analysis together).
pub fn analyze_parsed(text: &str, parsed: &Parsed) -> Analysis {
    lower::lower(text, parsed)
}
