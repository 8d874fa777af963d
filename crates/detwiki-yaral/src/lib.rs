//! # detwiki-yaral
//!
//! ## Overview
//!
//! YARA-L 2.0, the rule language of Google SecOps (Chronicle): a lexer, a recovering parser of
//! every section (`meta`, `events`, `match`, `outcome`, `condition`, `options`) and the lowering
//! of its tree into the language-neutral [`detwiki_ir::Analysis`]. Parsing never fails: every
//! input gives a tree and diagnostics with byte ranges.
//!
//! **Invariant:** the engine never panics and never recurses without bound; every span it
//! returns is a byte range into the text it was given. It knows nothing of UDM's meaning: which
//! canonical field a UDM path is, and which events an event type holds, are decided in
//! `detwiki-knowledge` and applied by the catalog.
//!
//! ## Source code layout
//!
//! - `token.rs`, `lexer.rs`: tokens (kind + span), the hand-written lexer, string decoding.
//! - `parser/`: `mod.rs` (rules, sections, recovery), `expression.rs` (Pratt parser, paths,
//!   calls, `in %list`, `nocase`).
//! - `ast.rs`: the syntax tree.
//! - `diagnostics.rs`: every message.
//! - `lower.rs`: tree to IR (one dataset per event variable, predicates, joins, match window,
//!   thresholds, outcome columns).
//! - `summary.rs`: the leaves of a tree (event variables, UDM paths, reference lists, regexes,
//!   functions) in the text forms the conformance check compares.

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;
mod summary;
mod token;

pub use ast::*;
pub use lexer::{decode_string, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};
pub use summary::{Summary, summarize};
pub use token::{Token, TokenKind};

use detwiki_ir::{Analysis, Language};

/// Analyses a YARA-L text: one [`Analysis`] per rule of the file (a file with no rule gives one
/// analysis holding the diagnostics). Spans are byte ranges into `text`.
pub fn analyze(text: &str) -> Vec<Analysis> {
    let parsed = parse(text);
    let mut analyses = lower::lower(text, &parsed);
    for analysis in &mut analyses {
        analysis.language = Some(Language::Yaral);
    }
    analyses
}
