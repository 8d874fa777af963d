//! # ES|QL
//!
//! ## Overview
//!
//! Elasticsearch's piped query language: a source command (`FROM` index patterns, `ROW`,
//! `SHOW`, `TS`) followed by processing commands (`WHERE`, `EVAL`, `STATS ... BY`, `KEEP`,
//! `DISSECT`, `ENRICH`, `LOOKUP JOIN`, `FORK`, ...). [`parse`] gives the tree of one query and
//! [`analyze`] lowers it into a [`detwiki_ir::Analysis`]. Unknown commands parse generically
//! with a warning, so a query written for a newer Elasticsearch still has stages.
//!
//! **Invariant:** the engine never panics and never recurses without bound; every span it
//! returns is a byte range into the text it was given. Field names stay as written: ECS to
//! canonical names is the catalog's business.
//!
//! ## Source code layout
//!
//! - `token.rs`, `lexer.rs`: tokens and the on-demand lexer (expression mode, pattern mode).
//! - `parser/`: `mod.rs` (tokens, recovery), `commands.rs` (one function per command),
//!   `expression.rs` (Pratt parser).
//! - `ast.rs`: the tree. `diagnostics.rs`: every message.
//! - `lower.rs`: tree to IR (datasets, stages, predicates, column-flow origin, time windows).

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod parser;
mod token;

pub use ast::*;
pub use parser::{MAX_DEPTH, Parsed};

use detwiki_ir::{Analysis, Language, Span};

/// Analyses one ES|QL query. Spans are byte ranges into `text`.
///
/// Hunting files sometimes start the query with a line holding only `sql` (a Markdown fence's
/// info string pasted with the query): the line gets a warning and the rest is analysed. When
/// what follows is an osquery `SELECT`, the text is not ES|QL at all and is reported as such
/// (an info note, no stages) rather than as a syntax error.
pub fn analyze(text: &str) -> Analysis {
    let start = stray_first_line(text);
    let mut prefix = Vec::new();
    if let Some((line, rest)) = start {
        prefix.push(diagnostics::stray_sql_line(line));
        let first_word = text[rest..].split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if first_word == "select" || first_word == "with" {
            prefix.push(diagnostics::osquery_sql(Span::from_usize(rest, text.trim_end().len().max(rest))));
            return Analysis {
                language: Some(Language::Esql),
                span: Span::from_usize(0, text.len()),
                diagnostics: prefix,
                ..Analysis::default()
            };
        }
    }
    let parsed = parse(text);
    let mut analysis = lower::lower(text, &parsed.query);
    analysis.language = Some(Language::Esql);
    analysis.span = Span::from_usize(0, text.len());
    prefix.extend(parsed.diagnostics);
    prefix.append(&mut analysis.diagnostics);
    analysis.diagnostics = prefix;
    analysis
}

/// Parses one ES|QL query; a stray first `sql` line is skipped (see [`analyze`]).
pub fn parse(text: &str) -> Parsed {
    parser::parse_from(text, stray_first_line(text).map_or(0, |(_, rest)| rest))
}

/// The span of a first non-blank line that is exactly `sql` (any case), and the offset after it.
fn stray_first_line(text: &str) -> Option<(Span, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            offset += line.len();
            continue;
        }
        if !trimmed.eq_ignore_ascii_case("sql") {
            return None;
        }
        let start = offset + (line.len() - line.trim_start().len());
        return Some((Span::from_usize(start, start + trimmed.len()), offset + line.len()));
    }
    None
}
