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
//! - `columns.rs`: the column model of the lowering (each stage's output columns and where
//!   each comes from) and the [`Schema`] a caller may give.
//! - `lower.rs`: tree to IR (datasets, stages, predicates, parameters, time windows).
//! - `syntax.rs`: a flat view of a tree (operators with nesting, comparison predicates) used by
//!   conformance checks and tests, and an indented outline of a tree for snapshots.

mod ast;
mod columns;
mod diagnostics;
mod lexer;
mod lower;
mod parser;
mod syntax;
mod token;
mod units;

pub use ast::*;
pub use columns::Schema;
pub use detwiki_ir::Span;
pub use lexer::{decode_string, tokenize};
pub use parser::{MAX_DEPTH, Parsed, parse};
pub use syntax::{SyntaxOperator, SyntaxPredicate, SyntaxValue, operators, outline, predicates};
pub use token::{Token, TokenKind};
pub use units::{Unit, split_units};

use detwiki_ir::{Analysis, Language};

/// Lowers one unit found by [`split_units`] in `text` (exposed for per-stage benchmarks).
pub fn lower_unit(text: &str, unit: &Unit) -> Analysis {
    lower_unit_with(text, unit, None)
}

fn lower_unit_with(text: &str, unit: &Unit, schema: Option<&Schema>) -> Analysis {
    let mut analysis = lower::lower(text, unit, schema);
    analysis.language = Some(Language::Kql);
    analysis
}

/// Analyses a KQL text. A text may hold several queries separated only by blank lines: one
/// [`Analysis`] per query, each with `span` covering it. Spans are byte ranges into `text`. A
/// text that is blank or only comments holds no query and gives an empty list.
pub fn analyze(text: &str) -> Vec<Analysis> {
    split_units(text).into_iter().map(|unit| lower_unit(text, &unit)).collect()
}

/// Analyses a KQL text against table schemas: a table's columns are then known, so join
/// suffixes (`FileName1`) are attributed only where both sides have the column, and every
/// column reference that no input column answers is reported as a `kql-unknown-column`
/// warning at the name.
pub fn analyze_with_schema(text: &str, schema: &Schema) -> Vec<Analysis> {
    split_units(text).into_iter().map(|unit| lower_unit_with(text, &unit, Some(schema))).collect()
}

/// The variants of an operator variant file (`resources/valid/operators/*.kql`): its
/// blank-line-separated chunks that hold a query line (not only `//` comments). Shared by the
/// crate's tests and the conformance task, so both check the same texts.
pub fn operator_variants(text: &str) -> Vec<&str> {
    let mut variants = Vec::new();
    let mut start = None;
    let mut end = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if let Some(first) = start.take() {
                variants.push(&text[first..end]);
            }
        } else if !trimmed.starts_with("//") {
            start.get_or_insert(offset);
            end = offset + line.trim_end().len();
        }
        offset += line.len();
    }
    if let Some(first) = start {
        variants.push(&text[first..end]);
    }
    variants
}
