//! Macro expansion: `` `name` `` and `` `name(arg, ...)` `` replaced by their definitions, the way
//! Splunk expands them before it parses a search.
//!
//! The parser works on the expanded text; [`ExpansionMap`] maps every span of that text back to
//! the text as written. A span inside a macro body maps to the span of the call written in the
//! rule (the outermost call for nested macros), so every span the engine returns points into the
//! rule's own text.

use std::collections::BTreeMap;

use detwiki_ir::{Diagnostic, MacroDefinition, Span};

use crate::diagnostics;

/// Nested expansions deeper than this are left unexpanded (a macro that calls itself).
pub const MAX_MACRO_DEPTH: usize = 16;
/// Expanded text longer than this stops expanding further calls (exponential macro bodies).
const MAX_EXPANDED_LEN: usize = 1 << 20;

/// One macro call written in the text, with what it expanded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroCall {
    /// The macro's name without arguments (`drop_dm_object_name`).
    pub name: String,
    /// The arguments as written, trimmed.
    pub arguments: Vec<String>,
    /// The call in the text as written, backticks included.
    pub span: Span,
    /// The definition with arguments substituted and nested macros expanded; `None` when the
    /// macro is unknown.
    pub expansion: Option<String>,
    /// Nesting depth: 0 for a call written in the text, 1 for a call inside its body, ...
    pub depth: u32,
}

impl MacroCall {
    /// Security content's tuning hook: a `*_filter` macro whose body does nothing (`search *`,
    /// empty). It is noted, not read as logic.
    pub fn is_empty_filter(&self) -> bool {
        let Some(expansion) = &self.expansion else { return false };
        let body = expansion.trim();
        self.name.ends_with("_filter") && (body.is_empty() || body == "*" || body.eq_ignore_ascii_case("search *"))
    }
}

/// Where a stretch of the expanded text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Copied from the text as written, starting at this offset.
    Written { start: u32 },
    /// Produced by the macro call with this index in [`Expansion::calls`], written at `span`.
    Macro { call: usize, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    expanded_start: u32,
    expanded_end: u32,
    origin: Origin,
}

/// Maps offsets of the expanded text to the text as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpansionMap {
    pieces: Vec<Piece>,
}

impl ExpansionMap {
    fn piece_at(&self, offset: u32, is_end: bool) -> Option<&Piece> {
        let index = self
            .pieces
            .partition_point(|piece| if is_end { piece.expanded_end < offset } else { piece.expanded_end <= offset });
        self.pieces.get(index).or_else(|| self.pieces.last())
    }

    fn map_offset(&self, offset: u32, is_end: bool) -> u32 {
        let Some(piece) = self.piece_at(offset, is_end) else { return offset };
        match piece.origin {
            Origin::Written { start } => {
                start + offset.clamp(piece.expanded_start, piece.expanded_end) - piece.expanded_start
            }
            Origin::Macro { span, .. } => {
                if is_end {
                    span.end
                } else {
                    span.start
                }
            }
        }
    }

    /// The span as written for a span of the expanded text. A span that touches a macro body
    /// widens to the whole call.
    pub fn map_span(&self, span: Span) -> Span {
        if self.pieces.is_empty() {
            return span;
        }
        let start = self.map_offset(span.start, false);
        let end = self.map_offset(span.end, span.end > span.start).max(start);
        Span::new(start, end)
    }

    /// The index of the outermost macro call whose body produced the whole of `span` (expanded
    /// offsets), if any.
    pub fn macro_of(&self, span: Span) -> Option<usize> {
        let first = self.piece_at(span.start, false)?;
        let last = self.piece_at(span.end, span.end > span.start)?;
        match (first.origin, last.origin) {
            (Origin::Macro { call, .. }, Origin::Macro { call: other, .. }) if call == other => Some(call),
            _ => None,
        }
    }
}

/// The result of expanding the macros of one search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    pub map: ExpansionMap,
    /// Every call, outermost first; nested calls carry the span of the call written in the text.
    pub calls: Vec<MacroCall>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Expands every macro call of `text` with the definitions in `macros` (keyed `name` or
/// `name(N)` for N arguments). Unknown macros stay as written, with a warning; so does
/// everything when `macros` is empty, which is how a search without its source is analysed.
pub fn expand(text: &str, macros: &BTreeMap<String, MacroDefinition>) -> Expansion {
    let mut expansion = Expansion::default();
    if macros.is_empty() {
        expansion.text = text.to_owned();
        expansion.map.pieces.push(Piece {
            expanded_start: 0,
            expanded_end: text.len() as u32,
            origin: Origin::Written { start: 0 },
        });
        for call in find_calls(text) {
            expansion.calls.push(MacroCall {
                name: call.name.to_owned(),
                arguments: call.arguments.iter().map(|argument| argument.to_string()).collect(),
                span: call.span,
                expansion: None,
                depth: 0,
            });
        }
        return expansion;
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut cursor = 0usize;
    for call in find_calls(text) {
        let start = call.span.start as usize;
        push_written(&mut expansion.map, &mut out, text, cursor, start);
        let index = expansion.calls.len();
        expansion.calls.push(MacroCall {
            name: call.name.to_owned(),
            arguments: call.arguments.iter().map(|argument| argument.trim().to_owned()).collect(),
            span: call.span,
            expansion: None,
            depth: 0,
        });
        let body = expand_call(&call, macros, 0, call.span, &mut expansion);
        let written = &text[call.span.range()];
        let produced = body.unwrap_or_else(|| written.to_owned());
        if out.len() + produced.len() > MAX_EXPANDED_LEN {
            expansion.diagnostics.push(diagnostics::expansion_too_long(call.span));
            push_written(&mut expansion.map, &mut out, text, start, call.span.end as usize);
        } else {
            let expanded_start = out.len() as u32;
            // A space on each side keeps the body a separate token, as Splunk's expansion does.
            out.push(' ');
            out.push_str(&produced);
            out.push(' ');
            expansion.map.pieces.push(Piece {
                expanded_start,
                expanded_end: out.len() as u32,
                origin: Origin::Macro { call: index, span: call.span },
            });
            expansion.calls[index].expansion = Some(produced).filter(|_| body_known(&call, macros));
        }
        cursor = call.span.end as usize;
    }
    push_written(&mut expansion.map, &mut out, text, cursor, text.len());
    expansion.text = out;
    expansion
}

fn body_known(call: &FoundCall<'_>, macros: &BTreeMap<String, MacroDefinition>) -> bool {
    lookup(macros, call.name, call.arguments.len()).is_some()
}

fn push_written(map: &mut ExpansionMap, out: &mut String, text: &str, from: usize, to: usize) {
    if to <= from {
        return;
    }
    let expanded_start = out.len() as u32;
    out.push_str(&text[from..to]);
    map.pieces.push(Piece {
        expanded_start,
        expanded_end: out.len() as u32,
        origin: Origin::Written { start: from as u32 },
    });
}

fn lookup<'a>(macros: &'a BTreeMap<String, MacroDefinition>, name: &str, arity: usize) -> Option<&'a MacroDefinition> {
    let key = if arity == 0 { name.to_owned() } else { format!("{name}({arity})") };
    macros.get(&key).or_else(|| macros.get(name).filter(|definition| definition.arguments.len() == arity))
}

/// The body of one call with its own nested calls expanded, or `None` for an unknown macro.
fn expand_call(
    call: &FoundCall<'_>,
    macros: &BTreeMap<String, MacroDefinition>,
    depth: usize,
    written_span: Span,
    expansion: &mut Expansion,
) -> Option<String> {
    let Some(definition) = lookup(macros, call.name, call.arguments.len()) else {
        expansion.diagnostics.push(diagnostics::unknown_macro(call.name, call.arguments.len(), written_span));
        return None;
    };
    if depth >= MAX_MACRO_DEPTH {
        expansion.diagnostics.push(diagnostics::macro_too_deep(call.name, written_span));
        return None;
    }
    let mut body = definition.definition.clone();
    for (parameter, argument) in definition.arguments.iter().zip(&call.arguments) {
        body = body.replace(&format!("${}$", parameter.trim()), argument.trim());
    }
    let mut out = String::with_capacity(body.len());
    let mut cursor = 0usize;
    for nested in find_calls(&body) {
        out.push_str(&body[cursor..nested.span.start as usize]);
        expansion.calls.push(MacroCall {
            name: nested.name.to_owned(),
            arguments: nested.arguments.iter().map(|argument| argument.trim().to_owned()).collect(),
            span: written_span,
            expansion: None,
            depth: depth as u32 + 1,
        });
        let index = expansion.calls.len() - 1;
        match expand_call(&nested, macros, depth + 1, written_span, expansion) {
            Some(text) if out.len() + text.len() <= MAX_EXPANDED_LEN => {
                out.push(' ');
                out.push_str(&text);
                out.push(' ');
                expansion.calls[index].expansion = Some(text);
            }
            _ => out.push_str(&body[nested.span.range()]),
        }
        cursor = nested.span.end as usize;
    }
    out.push_str(&body[cursor..]);
    Some(out)
}

/// A macro call found in a text.
#[derive(Debug, Clone)]
struct FoundCall<'a> {
    name: &'a str,
    arguments: Vec<&'a str>,
    span: Span,
}

/// Every macro call of `text`, skipping quoted strings and ```` ``` ```` comments.
fn find_calls(text: &str) -> Vec<FoundCall<'_>> {
    let bytes = text.as_bytes();
    let mut calls = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => index = skip_string(bytes, index),
            b'`' if bytes[index..].starts_with(b"```") => {
                index = find_from(text, index + 3, "```").map_or(bytes.len(), |end| end + 3);
            }
            b'`' => {
                let Some(close) = find_from(text, index + 1, "`") else { break };
                let inner = &text[index + 1..close];
                if let Some(call) = parse_call(inner, Span::from_usize(index, close + 1)) {
                    calls.push(call);
                }
                index = close + 1;
            }
            _ => index += 1,
        }
    }
    calls
}

fn find_from(text: &str, from: usize, needle: &str) -> Option<usize> {
    text.get(from..)?.find(needle).map(|offset| from + offset)
}

/// The index after a double-quoted string starting at `start` (backslash escapes honoured).
pub(crate) fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// `name` or `name(a, b)`; `None` when the text between backticks is not a macro call.
fn parse_call(inner: &str, span: Span) -> Option<FoundCall<'_>> {
    let trimmed = inner.trim();
    let (name, arguments) = match trimmed.find('(') {
        Some(open) if trimmed.ends_with(')') => {
            (&trimmed[..open], split_arguments(&trimmed[open + 1..trimmed.len() - 1]))
        }
        _ => (trimmed, Vec::new()),
    };
    let name = name.trim();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    valid.then_some(FoundCall { name, arguments, span })
}

/// Arguments split on top-level commas (quotes and parentheses respected).
fn split_arguments(text: &str) -> Vec<&str> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let bytes = text.as_bytes();
    let mut arguments = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                index = skip_string(bytes, index);
                continue;
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                arguments.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
        index += 1;
    }
    arguments.push(&text[start.min(text.len())..]);
    arguments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definitions(items: &[(&str, &[&str], &str)]) -> BTreeMap<String, MacroDefinition> {
        items
            .iter()
            .map(|(name, arguments, body)| {
                let key = if arguments.is_empty() { name.to_string() } else { format!("{name}({})", arguments.len()) };
                let definition = MacroDefinition {
                    name: key.clone(),
                    arguments: arguments.iter().map(|argument| argument.to_string()).collect(),
                    definition: body.to_string(),
                    path: String::new(),
                };
                (key, definition)
            })
            .collect()
    }

    #[test]
    fn arguments_nesting_and_spans() {
        let macros = definitions(&[
            ("outer", &[], "`inner(Processes)` x=1"),
            ("inner", &["name"], "rename $name$.* as *"),
            ("empty_filter", &[], "search *"),
        ]);
        let text = "a=1 | `outer` | `empty_filter` | `missing`";
        let expansion = expand(text, &macros);
        assert!(expansion.text.contains("rename Processes.* as *  x=1"), "{}", expansion.text);
        assert_eq!(expansion.calls.len(), 4);
        assert_eq!(expansion.calls[1].name, "inner");
        assert_eq!(expansion.calls[1].span, expansion.calls[0].span);
        assert!(expansion.calls[2].is_empty_filter());
        assert_eq!(expansion.diagnostics.len(), 1, "{:?}", expansion.diagnostics);
        let rename = expansion.text.find("rename").unwrap();
        let span = expansion.map.map_span(Span::from_usize(rename, rename + 6));
        assert_eq!(&text[span.range()], "`outer`");
        assert_eq!(expansion.map.macro_of(Span::from_usize(rename, rename + 6)), Some(0));
        let a = expansion.map.map_span(Span::from_usize(0, 3));
        assert_eq!(&text[a.range()], "a=1");
        let missing = expansion.text.find("`missing`").unwrap();
        let mapped = expansion.map.map_span(Span::from_usize(missing, missing + 9));
        assert_eq!(&text[mapped.range()], "`missing`");
    }

    #[test]
    fn recursion_is_guarded_and_strings_are_skipped() {
        let macros = definitions(&[("loop", &[], "x `loop`")]);
        let expansion = expand("\"`loop`\" `loop` ```a `loop` comment```", &macros);
        assert!(expansion.diagnostics.iter().any(|diagnostic| diagnostic.code == "spl-macro-too-deep"));
        assert!(expansion.text.starts_with("\"`loop`\""));
        assert!(expansion.text.ends_with("```a `loop` comment```"));
    }
}
