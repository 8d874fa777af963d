//! YAML with byte spans, built from `saphyr-parser` events.
//!
//! saphyr's markers count characters, not bytes, so every marker goes through `detwiki_ir::CharOffsets`
//! before it becomes a [`Span`]. Plain scalars are resolved the way PyYAML (YAML 1.1) resolves them,
//! because pySigma reads rules with PyYAML and `EventID: 0x10` or `enabled: yes` must mean what
//! they mean there. Duplicate keys are kept (the later one wins, as in PyYAML) and reported.

use std::collections::HashMap;

use detwiki_ir::{CharOffsets, Diagnostic, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostics;

/// Nodes an alias may expand to in one document before we stop copying (alias bombs).
const MAX_ALIAS_NODES: usize = 100_000;
/// Nesting depth past which the document is cut (a diagnostic, never a stack overflow).
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub enum YamlValue {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Sequence(Vec<YamlNode>),
    Mapping(Vec<YamlEntry>),
}

/// How a scalar was written: quoted scalars are always strings, plain ones are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStyle {
    Plain,
    Quoted,
    Block,
    Container,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlNode {
    pub value: YamlValue,
    /// Byte range of the node in the file (quotes included; block containers from their first
    /// key or item to the end of their last value).
    pub span: Span,
    pub style: NodeStyle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlEntry {
    pub key: YamlNode,
    pub value: YamlNode,
}

impl YamlEntry {
    /// From the start of the key to the end of the value: the slice a stage shows.
    pub fn span(&self) -> Span {
        self.key.span.cover(self.value.span)
    }
}

impl YamlNode {
    pub fn null(span: Span) -> Self {
        Self { value: YamlValue::Null, span, style: NodeStyle::Plain }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            YamlValue::String(text) => Some(text),
            _ => None,
        }
    }

    /// The scalar as text the way Python's `str()` would show it (used for keys and names).
    pub fn scalar_text(&self) -> Option<String> {
        Some(match &self.value {
            YamlValue::String(text) => text.clone(),
            YamlValue::Integer(number) => number.to_string(),
            YamlValue::Float(number) => number.to_string(),
            YamlValue::Bool(true) => "True".to_owned(),
            YamlValue::Bool(false) => "False".to_owned(),
            YamlValue::Null => "None".to_owned(),
            YamlValue::Sequence(_) | YamlValue::Mapping(_) => return None,
        })
    }

    pub fn as_mapping(&self) -> Option<&[YamlEntry]> {
        match &self.value {
            YamlValue::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[YamlNode]> {
        match &self.value {
            YamlValue::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The value of `key` in a mapping (the last one when the key is duplicated, as PyYAML does).
    pub fn get(&self, key: &str) -> Option<&YamlNode> {
        self.entry(key).map(|entry| &entry.value)
    }

    pub fn entry(&self, key: &str) -> Option<&YamlEntry> {
        self.as_mapping()?.iter().rev().find(|entry| entry.key.as_str() == Some(key))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, YamlValue::Null)
    }

    fn count_nodes(&self) -> usize {
        1 + match &self.value {
            YamlValue::Sequence(items) => items.iter().map(YamlNode::count_nodes).sum(),
            YamlValue::Mapping(entries) => {
                entries.iter().map(|entry| entry.key.count_nodes() + entry.value.count_nodes()).sum()
            }
            _ => 0,
        }
    }

    /// Calls `visit` on every span of the node (used by tests to check spans stay in the input).
    pub fn visit_spans(&self, visit: &mut impl FnMut(Span)) {
        visit(self.span);
        match &self.value {
            YamlValue::Sequence(items) => items.iter().for_each(|item| item.visit_spans(visit)),
            YamlValue::Mapping(entries) => entries.iter().for_each(|entry| {
                entry.key.visit_spans(visit);
                entry.value.visit_spans(visit);
            }),
            _ => {}
        }
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlDocument {
    pub root: YamlNode,
    /// From the document's first byte (its `---` when explicit) to its last node.
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct YamlStream {
    pub documents: Vec<YamlDocument>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Byte span of a saphyr marker span (saphyr counts characters).
fn marker_span(offsets: &CharOffsets, span: &saphyr_parser::Span) -> Span {
    Span::new(offsets.byte(span.start.index()), offsets.byte(span.end.index()))
}

enum Frame {
    Sequence { items: Vec<YamlNode>, start: Span, anchor: usize, flow: bool },
    Mapping { entries: Vec<YamlEntry>, pending_key: Option<YamlNode>, start: Span, anchor: usize, flow: bool },
}

/// Parses a whole stream. Never fails: a scan error ends the stream with a diagnostic, and the
/// document being read keeps what was read before the error.
pub fn parse_stream(text: &str) -> YamlStream {
    let offsets = CharOffsets::new(text);
    let mut stream = YamlStream::default();
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, YamlNode> = HashMap::new();
    let mut document_start: Option<Span> = None;
    let mut root: Option<YamlNode> = None;
    let mut alias_budget = MAX_ALIAS_NODES;

    while let Some(result) = parser.next_event() {
        let (event, marker) = match result {
            Ok(pair) => pair,
            Err(error) => {
                let at = offsets.byte(error.marker().index());
                stream.diagnostics.push(diagnostics::yaml_error(error.info(), Span::empty(at)));
                break;
            }
        };
        let span = marker_span(&offsets, &marker);
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                document_start = Some(span);
                root = None;
                stack.clear();
                anchors.clear();
                alias_budget = MAX_ALIAS_NODES;
            }
            Event::DocumentEnd => {
                finish_document(&mut stream, &mut stack, &mut root, document_start.take(), span);
            }
            Event::Alias(id) => {
                let node = match anchors.get(&id) {
                    Some(node) => {
                        let size = node.count_nodes();
                        if size > alias_budget {
                            stream.diagnostics.push(diagnostics::alias_expansion(span));
                            YamlNode::null(span)
                        } else {
                            alias_budget -= size;
                            let mut copy = node.clone();
                            copy.span = span;
                            copy
                        }
                    }
                    None => YamlNode::null(span),
                };
                push_node(&mut stack, &mut root, node, &mut stream.diagnostics);
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|tag| tag.suffix.clone());
                let node = scalar_node(&value, style, tag_suffix.as_deref(), span);
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                push_node(&mut stack, &mut root, node, &mut stream.diagnostics);
            }
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    stream.diagnostics.push(diagnostics::too_deep(span));
                    break;
                }
                let flow = text.as_bytes().get(span.start as usize) == Some(&b'[');
                stack.push(Frame::Sequence { items: Vec::new(), start: span, anchor, flow });
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    stream.diagnostics.push(diagnostics::too_deep(span));
                    break;
                }
                let flow = text.as_bytes().get(span.start as usize) == Some(&b'{');
                stack.push(Frame::Mapping { entries: Vec::new(), pending_key: None, start: span, anchor, flow });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = stack.pop() {
                    let (node, anchor) = close_frame(frame, Some(span), &mut stream.diagnostics);
                    if anchor > 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    push_node(&mut stack, &mut root, node, &mut stream.diagnostics);
                }
            }
        }
    }
    // A stream cut by an error: keep the partial document.
    if document_start.is_some() || root.is_some() || !stack.is_empty() {
        let end = Span::empty(u32::try_from(text.len()).unwrap_or(u32::MAX));
        finish_document(&mut stream, &mut stack, &mut root, document_start.take(), end);
    }
    stream
}

fn finish_document(
    stream: &mut YamlStream,
    stack: &mut Vec<Frame>,
    root: &mut Option<YamlNode>,
    start: Option<Span>,
    end: Span,
) {
    while let Some(frame) = stack.pop() {
        let (node, _) = close_frame(frame, None, &mut stream.diagnostics);
        push_node(stack, root, node, &mut stream.diagnostics);
    }
    let start_span = start.unwrap_or(end);
    let root_node = root.take().unwrap_or_else(|| YamlNode::null(Span::empty(start_span.start)));
    let span = start_span.cover(root_node.span);
    stream.documents.push(YamlDocument { root: root_node, span });
}

fn close_frame(frame: Frame, end: Option<Span>, diagnostics_out: &mut Vec<Diagnostic>) -> (YamlNode, usize) {
    match frame {
        Frame::Sequence { items, start, anchor, flow } => {
            let span = container_span(start, end, flow, items.iter().map(|item| item.span));
            (YamlNode { value: YamlValue::Sequence(items), span, style: NodeStyle::Container }, anchor)
        }
        Frame::Mapping { mut entries, pending_key, start, anchor, flow } => {
            if let Some(key) = pending_key {
                let value = YamlNode::null(Span::empty(key.span.end));
                entries.push(YamlEntry { key, value });
            }
            report_duplicate_keys(&entries, diagnostics_out);
            let span = container_span(start, end, flow, entries.iter().map(YamlEntry::span));
            (YamlNode { value: YamlValue::Mapping(entries), span, style: NodeStyle::Container }, anchor)
        }
    }
}

fn container_span(start: Span, end: Option<Span>, flow: bool, children: impl Iterator<Item = Span>) -> Span {
    let mut covered: Option<Span> = None;
    for child in children {
        covered = Some(covered.map_or(child, |span| span.cover(child)));
    }
    match (flow, covered, end) {
        (true, _, Some(end)) => start.cover(end),
        (_, Some(children), _) => Span::new(start.start.min(children.start), children.end),
        (_, None, _) => Span::empty(start.start),
    }
}

fn report_duplicate_keys(entries: &[YamlEntry], diagnostics_out: &mut Vec<Diagnostic>) {
    if entries.len() < 2 {
        return;
    }
    let mut seen: HashMap<String, Span> = HashMap::new();
    for entry in entries {
        let Some(text) = entry.key.scalar_text() else { continue };
        if let Some(first) = seen.get(&text) {
            diagnostics_out.push(diagnostics::duplicate_key(&text, entry.key.span, *first));
        } else {
            seen.insert(text, entry.key.span);
        }
    }
}

fn push_node(stack: &mut [Frame], root: &mut Option<YamlNode>, node: YamlNode, _diagnostics: &mut Vec<Diagnostic>) {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Sequence { items, .. }) => items.push(node),
        Some(Frame::Mapping { entries, pending_key, .. }) => match pending_key.take() {
            None => *pending_key = Some(node),
            Some(key) => entries.push(YamlEntry { key, value: node }),
        },
    }
}

fn scalar_node(value: &str, style: ScalarStyle, tag: Option<&str>, span: Span) -> YamlNode {
    let (resolved, node_style) = match style {
        ScalarStyle::Plain => (resolve_plain(value, tag), NodeStyle::Plain),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => (tagged_string(value, tag), NodeStyle::Quoted),
        _ => (tagged_string(value, tag), NodeStyle::Block),
    };
    YamlNode { value: resolved, span, style: node_style }
}

fn tagged_string(value: &str, tag: Option<&str>) -> YamlValue {
    match tag {
        Some("int" | "float" | "bool" | "null") => resolve_plain(value, None),
        _ => YamlValue::String(value.to_owned()),
    }
}

/// PyYAML's implicit resolvers (YAML 1.1): null, bool (`yes`/`no`/`on`/`off` too), int (binary,
/// octal with a leading zero, hex, underscores), float (a dot is required). Timestamps stay text.
pub fn resolve_plain(value: &str, tag: Option<&str>) -> YamlValue {
    if tag == Some("str") {
        return YamlValue::String(value.to_owned());
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return YamlValue::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return YamlValue::Bool(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => return YamlValue::Bool(false),
        _ => {}
    }
    if let Some(number) = resolve_int(value) {
        return YamlValue::Integer(number);
    }
    if let Some(number) = resolve_float(value) {
        return YamlValue::Float(number);
    }
    YamlValue::String(value.to_owned())
}

fn resolve_int(value: &str) -> Option<i64> {
    let (negative, digits) = match value.as_bytes().first()? {
        b'-' => (true, value.get(1..)?),
        b'+' => (false, value.get(1..)?),
        _ => (false, value),
    };
    if digits.is_empty() {
        return None;
    }
    let parse = |text: &str, radix: u32| -> Option<i64> {
        let cleaned: String = text.chars().filter(|c| *c != '_').collect();
        if cleaned.is_empty() {
            return None;
        }
        let magnitude = i64::from_str_radix(&cleaned, radix).ok()?;
        Some(if negative { -magnitude } else { magnitude })
    };
    if let Some(rest) = digits.strip_prefix("0b") {
        return rest.chars().all(|c| matches!(c, '0' | '1' | '_')).then(|| parse(rest, 2)).flatten();
    }
    if let Some(rest) = digits.strip_prefix("0x") {
        return rest.chars().all(|c| c.is_ascii_hexdigit() || c == '_').then(|| parse(rest, 16)).flatten();
    }
    if digits == "0" {
        return Some(0);
    }
    if let Some(rest) = digits.strip_prefix('0') {
        return rest.chars().all(|c| matches!(c, '0'..='7' | '_')).then(|| parse(rest, 8)).flatten();
    }
    let first = digits.chars().next()?;
    if first.is_ascii_digit() && digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return parse(digits, 10);
    }
    None
}

fn resolve_float(value: &str) -> Option<f64> {
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if value.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
        }
        _ => {}
    }
    if matches!(value, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    // [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?  (PyYAML also needs a digit somewhere)
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (unsigned.get(..at)?, Some(unsigned.get(at + 1..)?)),
        None => (unsigned, None),
    };
    let dot = mantissa.find('.')?;
    let (whole, fraction) = (mantissa.get(..dot)?, mantissa.get(dot + 1..)?);
    let digits_ok = |text: &str| text.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !digits_ok(whole) || !digits_ok(fraction) {
        return None;
    }
    if whole.starts_with('_') || (whole.is_empty() && !fraction.starts_with(|c: char| c.is_ascii_digit())) {
        return None;
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['-', '+'])?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let cleaned: String = value.chars().filter(|c| *c != '_').collect();
    cleaned.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_bytes_not_characters() {
        let text = "a: é\nb: 'x'\n";
        let stream = parse_stream(text);
        let root = &stream.documents[0].root;
        let b = root.entry("b").unwrap();
        assert_eq!(b.value.span.slice(text), Some("'x'"));
        assert_eq!(b.span().slice(text), Some("b: 'x'"));
    }

    #[test]
    fn plain_scalars_resolve_like_pyyaml() {
        assert_eq!(resolve_plain("4688", None), YamlValue::Integer(4688));
        assert_eq!(resolve_plain("0x10", None), YamlValue::Integer(16));
        assert_eq!(resolve_plain("yes", None), YamlValue::Bool(true));
        assert_eq!(resolve_plain("1.5", None), YamlValue::Float(1.5));
        assert_eq!(resolve_plain("1e5", None), YamlValue::String("1e5".into()));
        assert_eq!(resolve_plain("2023-01-01", None), YamlValue::String("2023-01-01".into()));
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let stream = parse_stream("a: 1\na: 2\n");
        assert_eq!(stream.diagnostics.len(), 1);
        assert_eq!(stream.documents[0].root.get("a").unwrap().value, YamlValue::Integer(2));
    }
}
