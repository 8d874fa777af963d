//! # detwiki-spl
//!
//! ## Overview
//!
//! Splunk SPL as detection content writes it: searches, commands, macros and data models, parsed by
//! hand and lowered into the language-neutral [`detwiki_ir::Analysis`]. [`analyze`] expands the
//! source's macros first (as Splunk does before it parses), parses the expanded search, lowers it,
//! and maps every span back to the text as written: a span that comes from a macro body is the
//! span of the call in the rule, and the call is listed as a [`detwiki_ir::ParameterKind::Macro`]
//! parameter with its expansion, so [`detwiki_ir::Analysis::macro_of`] names the macro of any
//! predicate that came from one.
//!
//! **Invariant:** the engine never panics and never recurses without bound; every span it returns
//! is a byte range into the text it was given. Canonical field names and events are not decided
//! here: the catalog applies `detwiki-knowledge` to the analysis.
//!
//! ## Source code layout
//!
//! - `macros.rs`: finding and expanding macro calls, the expanded-to-written span map.
//! - `lexer.rs`: tokens in the two lexical modes (search terms, eval expressions), unquoting.
//! - `parser.rs`: pipeline splitting, one grammar per command that carries logic, the search
//!   expression (recursive descent) and the eval expression (Pratt).
//! - `ast.rs`: the syntax tree.
//! - `diagnostics.rs`: every message.
//! - `lower.rs`: tree to IR (datasets, stages, predicates, column flow, thresholds).

mod ast;
mod diagnostics;
mod lexer;
mod lower;
mod macros;
mod parser;

use std::collections::BTreeMap;

pub use ast::*;
pub use detwiki_ir::{MacroDefinition, Span};
pub use lexer::{Mode, Token, TokenKind, tokenize, unquote};
pub use macros::{Expansion, ExpansionMap, MAX_MACRO_DEPTH, MacroCall, expand};
pub use parser::{MAX_DEPTH, Parsed, command_names, named_groups, parse};

use detwiki_ir::{Analysis, Language, Parameter, ParameterKind, Value};

/// Analyses one SPL search. `macros` are the source's definitions keyed `name` or `name(N)` (an
/// empty map analyses the search unexpanded). Spans are byte ranges into `text`.
pub fn analyze(text: &str, macros: &BTreeMap<String, MacroDefinition>) -> Analysis {
    let expansion = expand(text, macros);
    analyze_expansion(text, &expansion)
}

/// Parses and lowers an already expanded search (exposed for per-stage benchmarks).
pub fn analyze_expansion(text: &str, expansion: &Expansion) -> Analysis {
    let parsed = parse(&expansion.text);
    let call_names = expansion.calls.iter().map(|call| call.name.clone()).collect();
    let mut lowerer = lower::Lowerer::new(&expansion.text, &expansion.map, call_names);
    lowerer.lower(&parsed.pipeline);
    let mut analysis = lowerer.analysis;
    analysis.language = Some(Language::Spl);
    analysis.diagnostics = parsed.diagnostics;
    analysis.visit_spans(&mut |span| *span = expansion.map.map_span(*span));
    analysis.span = Span::from_usize(0, text.len());
    // Macro calls and expansion diagnostics are already in the text as written.
    for call in &expansion.calls {
        let values = call.expansion.iter().map(|body| Value::string(body.trim())).collect();
        analysis.parameters.push(Parameter {
            name: call.name.clone(),
            kind: ParameterKind::Macro,
            values,
            span: call.span,
        });
        if call.depth == 0 && call.is_empty_filter() {
            analysis.diagnostics.push(diagnostics::empty_filter_macro(&call.name, call.span));
        }
    }
    analysis.diagnostics.extend(expansion.diagnostics.iter().cloned());
    analysis
}
