//! YAML streams as trees with byte spans, and scalars decoded with a map back to the file.
//!
//! `saphyr-parser` does the parsing (its markers count characters; they are converted to byte
//! offsets here). Values that become queries (`query:`, `search:`, `definition:`) are decoded a
//! second time by [`decode_scalar`], which also records which decoded bytes were copied verbatim
//! from the file. The two decodings are compared: when they differ, saphyr's value wins and the
//! map degrades to the scalar's start (with a diagnostic), so a slice shown later is never wrong.
//!
//! Aliases are never expanded: an alias node is kept as [`NodeKind::Alias`], and a stream with
//! more than [`MAX_ALIASES`] aliases is refused, which defuses "billion laughs" files.

use std::borrow::Cow;

use detwiki_ir::{CharOffsets, Diagnostic, SourceMap, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};

/// More aliases than this in one file is treated as an attack, not a rule.
pub(crate) const MAX_ALIASES: usize = 256;
/// Nesting deeper than this is refused (rules nest a handful of levels).
const MAX_DEPTH: usize = 128;
/// More nodes than this in one file is refused (the largest corpus file has a few thousand).
const MAX_NODES: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Scalar { value: String, style: ScalarStyle },
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
    Alias,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// Byte range of the node in the file (for scalars: from the indicator or quote on).
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// Byte range of the document: from its start (the `---` line, or the file start for the
    /// first document) to the start of the next document or the end of the file.
    pub span: Span,
    pub root: Option<Node>,
}

#[derive(Debug, Clone)]
pub(crate) struct YamlStream {
    pub documents: Vec<Document>,
    /// Warnings found while reading (duplicate keys).
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a YAML file could not be read.
#[derive(Debug, Clone)]
pub(crate) struct YamlError {
    pub message: String,
    /// Start of a quoted scalar whose continuation lines are not indented (accepted by other
    /// YAML readers; see [`parse_stream`]).
    unindented_line: Option<usize>,
}

/// How many unindented quoted-scalar lines one file may have before it is refused.
const MAX_LENIENT_LINES: usize = 256;

/// Parses a YAML stream into documents. Never panics; returns an error for text that is not YAML,
/// nests too deeply, or holds too many aliases.
///
/// Some real files continue a quoted scalar on lines less indented than its key (Splunk
/// `macros/base64decode.yml`). PyYAML reads them; saphyr refuses them. Such lines are read as
/// if indented by one more space (a continuation line's leading white space is folded away, so
/// the value is unchanged), and spans are mapped back to the original text.
pub(crate) fn parse_stream(text: &str) -> Result<YamlStream, YamlError> {
    let mut insertions: Vec<usize> = Vec::new();
    loop {
        let modified = if insertions.is_empty() { None } else { Some(with_spaces(text, &insertions)) };
        match parse_exact(modified.as_deref().unwrap_or(text)) {
            Ok(mut stream) => {
                if !insertions.is_empty() {
                    remap_stream(&mut stream, &insertions);
                    for &position in &insertions {
                        let at = u32::try_from(position).unwrap_or(u32::MAX);
                        stream.diagnostics.push(Diagnostic::info(
                            "yaml-unindented-continuation",
                            "quoted value continues on a line that is not indented",
                            Span::empty(at),
                        ));
                    }
                }
                return Ok(stream);
            }
            Err(error) => {
                let Some(modified_offset) = error.unindented_line else { return Err(error) };
                let scalar_start = to_original(modified_offset, &insertions);
                let lines = unindented_lines(text, scalar_start);
                let before = insertions.len();
                for line in lines {
                    if !insertions.contains(&line) {
                        insertions.push(line);
                    }
                }
                if insertions.len() == before || insertions.len() > MAX_LENIENT_LINES {
                    return Err(error);
                }
                insertions.sort_unstable();
            }
        }
    }
}

/// Starts of the lines of the quoted scalar at `start` that begin without indentation.
fn unindented_lines(text: &str, start: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let Some(&quote) = bytes.get(start) else { return Vec::new() };
    if quote != b'\'' && quote != b'"' {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut position = start + 1;
    while let Some(&byte) = bytes.get(position) {
        if byte == b'\\' && quote == b'"' {
            position += 2;
            continue;
        }
        if byte == quote {
            if quote == b'\'' && bytes.get(position + 1) == Some(&b'\'') {
                position += 2;
                continue;
            }
            break;
        }
        if byte == b'\n'
            && matches!(bytes.get(position + 1), Some(next) if *next != b' ' && *next != b'\n' && *next != b'\r')
        {
            lines.push(position + 1);
        }
        position += 1;
    }
    lines
}

/// The text with one space inserted before each original offset in `insertions` (sorted).
fn with_spaces(text: &str, insertions: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + insertions.len());
    let mut previous = 0usize;
    for &position in insertions {
        out.push_str(text.get(previous..position).unwrap_or(""));
        out.push(' ');
        previous = position;
    }
    out.push_str(text.get(previous..).unwrap_or(""));
    out
}

/// Original offset of a modified offset: spaces inserted before it are subtracted.
fn to_original(modified: usize, insertions: &[usize]) -> usize {
    let mut shift = 0usize;
    for (index, &position) in insertions.iter().enumerate() {
        // The space for `position` sits at modified offset `position + index`.
        if position + index < modified {
            shift += 1;
        } else {
            break;
        }
    }
    modified - shift
}

fn remap_stream(stream: &mut YamlStream, insertions: &[usize]) {
    let map = |offset: u32| u32::try_from(to_original(offset as usize, insertions)).unwrap_or(u32::MAX);
    let map_span = |span: Span| Span::new(map(span.start), map(span.end));
    fn remap_node(node: &mut Node, map_span: &dyn Fn(Span) -> Span) {
        // Iterative, so a deep tree cannot overflow the stack.
        let mut stack: Vec<&mut Node> = vec![node];
        while let Some(node) = stack.pop() {
            node.span = map_span(node.span);
            match &mut node.kind {
                NodeKind::Sequence(items) => stack.extend(items.iter_mut()),
                NodeKind::Mapping(entries) => {
                    for (key, value) in entries.iter_mut() {
                        stack.push(key);
                        stack.push(value);
                    }
                }
                _ => {}
            }
        }
    }
    for document in &mut stream.documents {
        document.span = map_span(document.span);
        if let Some(root) = &mut document.root {
            remap_node(root, &map_span);
        }
    }
    for diagnostic in &mut stream.diagnostics {
        diagnostic.span = map_span(diagnostic.span);
        for label in &mut diagnostic.labels {
            label.span = map_span(label.span);
        }
    }
}

enum Frame {
    Sequence { start: u32, items: Vec<Node> },
    Mapping { start: u32, entries: Vec<(Node, Node)>, pending_key: Option<Node> },
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The scalar as text, or `None` for YAML nulls (`~`, `null`, empty) and non-scalars.
    pub fn as_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Scalar { value, style } => {
                if *style == ScalarStyle::Plain && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                    None
                } else {
                    Some(value.clone())
                }
            }
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn items(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Sequence(items) => items,
            _ => &[],
        }
    }

    pub fn is_mapping(&self) -> bool {
        matches!(self.kind, NodeKind::Mapping(_))
    }

    /// A scalar as a one-element list, a sequence of scalars as a list; other shapes are empty.
    pub fn string_list(&self) -> Vec<String> {
        match &self.kind {
            NodeKind::Scalar { .. } => self.as_text().into_iter().collect(),
            NodeKind::Sequence(items) => items.iter().filter_map(Node::as_text).collect(),
            _ => Vec::new(),
        }
    }

    /// The node as JSON: plain scalars keep YAML 1.2 core types (numbers, booleans, null).
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match &self.kind {
            NodeKind::Scalar { value, style } => {
                if *style != ScalarStyle::Plain {
                    return Value::String(value.clone());
                }
                match value.as_str() {
                    "" | "~" | "null" | "Null" | "NULL" => Value::Null,
                    "true" | "True" | "TRUE" => Value::Bool(true),
                    "false" | "False" | "FALSE" => Value::Bool(false),
                    text => {
                        if let Ok(integer) = text.parse::<i64>() {
                            Value::from(integer)
                        } else if text.contains('.')
                            && let Ok(float) = text.parse::<f64>()
                            && float.is_finite()
                        {
                            Value::from(float)
                        } else {
                            Value::String(text.to_owned())
                        }
                    }
                }
            }
            NodeKind::Sequence(items) => Value::Array(items.iter().map(|item| item.to_json_at(depth + 1)).collect()),
            NodeKind::Mapping(entries) => {
                let mut object = serde_json::Map::new();
                for (key, value) in entries {
                    let key = match &key.kind {
                        NodeKind::Scalar { value, .. } => value.clone(),
                        _ => continue,
                    };
                    object.insert(key, value.to_json_at(depth + 1));
                }
                Value::Object(object)
            }
            NodeKind::Alias => Value::Null,
        }
    }
}

fn parse_exact(text: &str) -> Result<YamlStream, YamlError> {
    let offsets = CharOffsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut document_start: Option<u32> = None;
    let mut root: Option<Node> = None;
    let mut aliases = 0usize;
    let mut nodes = 0usize;

    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(pair) => pair,
            Err(error) => {
                let at = offsets.byte(error.marker().index());
                let unindented_line =
                    error.info().contains("invalid indentation in quoted scalar").then_some(at as usize);
                return Err(YamlError {
                    message: format!(
                        "{} at line {} column {}",
                        error.info(),
                        error.marker().line(),
                        error.marker().col() + 1
                    ),
                    unindented_line,
                });
            }
        };
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index()).max(start);
        let finished: Option<Node> = match event {
            Event::StreamStart | Event::Nothing => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                document_start = Some(if documents.is_empty() { 0 } else { line_start(text, start) });
                root = None;
                None
            }
            Event::DocumentEnd => {
                let begin = document_start.take().unwrap_or(start);
                documents.push(Document { span: Span::new(begin, u32::MAX), root: root.take() });
                None
            }
            Event::Alias(_) => {
                aliases += 1;
                if aliases > MAX_ALIASES {
                    return Err(YamlError {
                        message: format!("more than {MAX_ALIASES} aliases (an alias bomb?)"),
                        unindented_line: None,
                    });
                }
                Some(Node { kind: NodeKind::Alias, span: Span::new(start, end) })
            }
            Event::Scalar(value, style, _, _) => {
                let value = match value {
                    Cow::Borrowed(text) => text.to_owned(),
                    Cow::Owned(text) => text,
                };
                Some(Node { kind: NodeKind::Scalar { value, style }, span: Span::new(start, end) })
            }
            Event::SequenceStart(_, _) => {
                stack.push(Frame::Sequence { start, items: Vec::new() });
                None
            }
            Event::MappingStart(_, _) => {
                stack.push(Frame::Mapping { start, entries: Vec::new(), pending_key: None });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Sequence { start, items }) => {
                    Some(Node { kind: NodeKind::Sequence(items), span: Span::new(start, end) })
                }
                Some(Frame::Mapping { start, entries, .. }) => {
                    Some(Node { kind: NodeKind::Mapping(entries), span: Span::new(start, end) })
                }
                None => None,
            },
        };
        if stack.len() > MAX_DEPTH {
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                unindented_line: None,
            });
        }
        let Some(node) = finished else { continue };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError { message: format!("more than {MAX_NODES} nodes"), unindented_line: None });
        }
        match stack.last_mut() {
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if let Some(name) = key.as_str()
                        && let Some((first, _)) = entries.iter().find(|(k, _)| k.as_str() == Some(name))
                    {
                        diagnostics.push(
                            Diagnostic::warning(
                                "yaml-duplicate-key",
                                format!("duplicate key `{name}`: the last value is used"),
                                key.span,
                            )
                            .with_label(first.span, "first defined here"),
                        );
                        entries.retain(|(k, _)| k.as_str() != Some(name));
                    }
                    entries.push((key, node));
                }
            },
            None => root = Some(node),
        }
    }
    // Documents end where the next begins; the last one ends at the end of the text.
    let text_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    for index in 0..documents.len() {
        let next_start = documents.get(index + 1).map(|next| next.span.start).unwrap_or(text_len);
        if let Some(document) = documents.get_mut(index) {
            document.span = Span::new(document.span.start.min(next_start), next_start);
        }
    }
    Ok(YamlStream { documents, diagnostics })
}

fn line_start(text: &str, offset: u32) -> u32 {
    let offset = (offset as usize).min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or(&[]);
    match before.iter().rposition(|&byte| byte == b'\n') {
        Some(index) => u32::try_from(index + 1).unwrap_or(u32::MAX),
        None => 0,
    }
}

/// Column (in bytes) of `offset` on its line.
fn column_of(text: &str, offset: u32) -> usize {
    (offset - line_start(text, offset).min(offset)) as usize
}

/// A decoded scalar and where its bytes came from.
#[derive(Debug, Clone)]
pub(crate) struct DecodedScalar {
    pub text: String,
    pub map: SourceMap,
    /// Byte range of the encoded scalar in the file (indicator or quotes included).
    pub span: Span,
    /// Set when the map had to be approximated.
    pub diagnostic: Option<Diagnostic>,
}

/// Decodes the scalar `node`, the value of mapping key `key`, into text and a source map. Falls
/// back to the parser's value with an approximate map when the two decodings disagree.
pub(crate) fn decode_node(text: &str, key: &Node, node: &Node) -> Option<DecodedScalar> {
    let NodeKind::Scalar { value, style } = &node.kind else { return None };
    let parent_indent = column_of(text, key.span.start);
    let mut start = node.span.start as usize;
    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
        // The parser's span starts at the content; the header (`|-`, `>2`...) sits between the
        // key's colon and the content.
        let between = text.get(key.span.end as usize..start).unwrap_or("");
        let indicator = if *style == ScalarStyle::Literal { '|' } else { '>' };
        if let Some(colon) = between.find(':')
            && let Some(relative) = between[colon..].find(indicator)
        {
            start = key.span.end as usize + colon + relative;
        }
    }
    if let Some((decoded, map, end)) = decode_scalar(text, start, *style, parent_indent)
        && decoded == *value
    {
        return Some(DecodedScalar {
            text: decoded,
            map,
            span: Span::from_usize(start, end.max(start)),
            diagnostic: None,
        });
    }
    let mut map = SourceMap::new();
    map.set_file_end(node.span.start);
    Some(DecodedScalar {
        text: value.clone(),
        map,
        span: node.span,
        diagnostic: Some(Diagnostic::info(
            "yaml-approximate-source-map",
            "could not map this value back to the file line by line; positions point at its start",
            node.span,
        )),
    })
}

/// Decodes the scalar starting at byte `start` (its indicator, quote or first character).
/// Returns the decoded text, its map and the byte offset where the encoded scalar ends.
pub(crate) fn decode_scalar(
    text: &str,
    start: usize,
    style: ScalarStyle,
    parent_indent: usize,
) -> Option<(String, SourceMap, usize)> {
    match style {
        ScalarStyle::Literal | ScalarStyle::Folded => {
            decode_block(text, start, style == ScalarStyle::Folded, parent_indent)
        }
        ScalarStyle::SingleQuoted => decode_quoted(text, start, false),
        ScalarStyle::DoubleQuoted => decode_quoted(text, start, true),
        ScalarStyle::Plain => decode_plain(text, start, parent_indent),
    }
}

/// Builds decoded text and its map together.
struct Builder {
    text: String,
    map: SourceMap,
}

impl Builder {
    fn new() -> Self {
        Self { text: String::new(), map: SourceMap::new() }
    }

    /// Appends file bytes `file_start..file_start + piece.len()`, copied verbatim.
    fn copy(&mut self, piece: &str, file_start: usize) {
        let query_start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(piece);
        self.map.push(
            query_start,
            u32::try_from(file_start).unwrap_or(u32::MAX),
            u32::try_from(piece.len()).unwrap_or(u32::MAX),
        );
    }

    /// Appends text produced by decoding (not present as such in the file).
    fn produce(&mut self, piece: &str) {
        self.text.push_str(piece);
    }
}

/// One physical line: `start..content_end` without the break, `next` the start of the next line,
/// `lf` the offset of its `\n` when there is one.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    content_end: usize,
    next: usize,
    lf: Option<usize>,
}

fn line_at(text: &str, start: usize) -> Line {
    let bytes = text.as_bytes();
    let rest = bytes.get(start..).unwrap_or(&[]);
    match rest.iter().position(|&byte| byte == b'\n') {
        Some(relative) => {
            let lf = start + relative;
            let content_end = if lf > start && bytes.get(lf - 1) == Some(&b'\r') { lf - 1 } else { lf };
            Line { start, content_end, next: lf + 1, lf: Some(lf) }
        }
        None => {
            let end = text.len();
            let content_end = if end > start && bytes.get(end - 1) == Some(&b'\r') { end - 1 } else { end };
            Line { start, content_end, next: end, lf: None }
        }
    }
}

fn leading_spaces(text: &str, line: Line) -> usize {
    text.as_bytes().get(line.start..line.content_end).unwrap_or(&[]).iter().take_while(|&&byte| byte == b' ').count()
}

fn is_blank(text: &str, line: Line) -> bool {
    text.as_bytes().get(line.start..line.content_end).unwrap_or(&[]).iter().all(|&byte| byte == b' ' || byte == b'\t')
}

fn is_document_marker(text: &str, line: Line) -> bool {
    let content = text.get(line.start..line.content_end).unwrap_or("");
    (content.starts_with("---") || content.starts_with("..."))
        && matches!(content.as_bytes().get(3), None | Some(b' ') | Some(b'\t'))
}

fn decode_block(text: &str, start: usize, folded: bool, parent_indent: usize) -> Option<(String, SourceMap, usize)> {
    let bytes = text.as_bytes();
    // Header: indicator, then chomping and indentation indicators in either order.
    let mut position = start + 1;
    let mut chomping = 0i8; // -1 strip, 0 clip, 1 keep
    let mut explicit_indent: Option<usize> = None;
    for _ in 0..2 {
        match bytes.get(position) {
            Some(b'-') => {
                chomping = -1;
                position += 1;
            }
            Some(b'+') => {
                chomping = 1;
                position += 1;
            }
            Some(digit @ b'1'..=b'9') => {
                explicit_indent = Some(usize::from(digit - b'0'));
                position += 1;
            }
            _ => {}
        }
    }
    let header = line_at(text, position);
    let mut line_start_offset = header.next;
    if header.lf.is_none() {
        line_start_offset = text.len();
    }

    // Collect the scalar's lines.
    let mut lines: Vec<Line> = Vec::new();
    let mut indent = explicit_indent.map(|digit| parent_indent + digit);
    let mut end = line_start_offset;
    let mut cursor = line_start_offset;
    let mut guard = 0usize;
    while cursor < text.len() {
        guard += 1;
        if guard > text.len() + 1 {
            return None;
        }
        let line = line_at(text, cursor);
        let spaces = leading_spaces(text, line);
        let blank = is_blank(text, line);
        if !blank {
            if is_document_marker(text, line) && spaces == 0 {
                break;
            }
            let needed = match indent {
                Some(needed) => needed,
                None => {
                    if spaces <= parent_indent {
                        break;
                    }
                    indent = Some(spaces);
                    spaces
                }
            };
            if spaces < needed {
                break;
            }
        }
        lines.push(line);
        end = line.next;
        cursor = line.next.max(cursor + 1);
    }
    let indent = indent.unwrap_or(parent_indent + 1);

    // Trailing blank lines are handled by chomping; find the last content line.
    let content_lines: Vec<(Line, bool)> = lines
        .iter()
        .map(|&line| {
            let spaces = leading_spaces(text, line);
            let is_content = !is_blank(text, line) || spaces > indent;
            (line, is_content)
        })
        .collect();
    let last_content = content_lines.iter().rposition(|(_, is_content)| *is_content);
    let Some(last_content) = last_content else {
        // Only blank lines: the value is empty (or newlines with keep).
        let mut builder = Builder::new();
        if chomping == 1 {
            for _ in &lines {
                builder.produce("\n");
            }
        }
        let end_offset = if chomping == 1 { end } else { line_start_offset };
        builder.map.set_file_end(u32::try_from(end_offset).unwrap_or(u32::MAX));
        return Some((builder.text, builder.map, end.max(line_start_offset)));
    };

    let mut builder = Builder::new();
    // Pending breaks between content lines (for folding).
    let mut previous_more_indented = false;
    let mut pending_empty = 0usize;
    let mut first = true;
    let mut last_break: Option<Line> = None;
    for (index, (line, is_content)) in content_lines.iter().enumerate() {
        if index > last_content {
            break;
        }
        if !is_content {
            pending_empty += 1;
            continue;
        }
        let content_start = (line.start + indent).min(line.content_end);
        let piece = text.get(content_start..line.content_end)?;
        let more_indented = piece.starts_with(' ') || piece.starts_with('\t');
        if !first {
            if folded {
                if pending_empty == 0 && !previous_more_indented && !more_indented {
                    builder.produce(" ");
                } else if !previous_more_indented && !more_indented {
                    for _ in 0..pending_empty {
                        builder.produce("\n");
                    }
                } else {
                    push_break(&mut builder, text, last_break);
                    for _ in 0..pending_empty {
                        builder.produce("\n");
                    }
                }
            } else {
                push_break(&mut builder, text, last_break);
                for _ in 0..pending_empty {
                    builder.produce("\n");
                }
            }
        } else {
            for _ in 0..pending_empty {
                builder.produce("\n");
            }
        }
        pending_empty = 0;
        first = false;
        builder.copy(piece, content_start);
        previous_more_indented = more_indented;
        last_break = Some(*line);
    }
    // Chomping of the final break and trailing empty lines.
    let trailing = content_lines.len().saturating_sub(last_content + 1);
    let last_line = content_lines.get(last_content).map(|(line, _)| *line);
    match chomping {
        -1 => {}
        0 => {
            if last_line.and_then(|line| line.lf).is_some() {
                push_break(&mut builder, text, last_line);
            }
        }
        _ => {
            if last_line.and_then(|line| line.lf).is_some() {
                push_break(&mut builder, text, last_line);
            }
            for (line, _) in content_lines.iter().skip(last_content + 1).take(trailing) {
                if line.lf.is_some() {
                    builder.produce("\n");
                }
            }
        }
    }
    let file_end = match (chomping, last_line) {
        (-1, Some(line)) => line.content_end,
        (_, Some(line)) => line.next,
        _ => end,
    };
    builder.map.set_file_end(u32::try_from(file_end).unwrap_or(u32::MAX));
    Some((builder.text, builder.map, end))
}

/// Appends the line break of `line` as a `\n` mapped to the file's `\n` byte.
fn push_break(builder: &mut Builder, text: &str, line: Option<Line>) {
    match line.and_then(|line| line.lf) {
        Some(lf) if text.as_bytes().get(lf) == Some(&b'\n') => builder.copy("\n", lf),
        _ => builder.produce("\n"),
    }
}

fn decode_quoted(text: &str, start: usize, double: bool) -> Option<(String, SourceMap, usize)> {
    let bytes = text.as_bytes();
    let quote = if double { b'"' } else { b'\'' };
    if bytes.get(start) != Some(&quote) {
        return None;
    }
    let mut builder = Builder::new();
    let mut position = start + 1;
    // Start of the current verbatim run.
    let mut run_start = position;
    let flush = |builder: &mut Builder, from: usize, to: usize| -> Option<()> {
        if to > from {
            builder.copy(text.get(from..to)?, from);
        }
        Some(())
    };
    loop {
        let byte = *bytes.get(position)?;
        if byte == quote {
            if !double && bytes.get(position + 1) == Some(&b'\'') {
                // `''` is one quote: keep the first as verbatim.
                flush(&mut builder, run_start, position + 1)?;
                position += 2;
                run_start = position;
                continue;
            }
            flush(&mut builder, run_start, position)?;
            let end = position + 1;
            builder.map.set_file_end(u32::try_from(position).unwrap_or(u32::MAX));
            return Some((builder.text, builder.map, end));
        }
        if double && byte == b'\\' {
            flush(&mut builder, run_start, position)?;
            let escape = *bytes.get(position + 1)?;
            let mut consumed = 2;
            let produced: Option<String> = match escape {
                b'0' => Some("\0".into()),
                b'a' => Some("\u{7}".into()),
                b'b' => Some("\u{8}".into()),
                b't' | b'\t' => Some("\t".into()),
                b'n' => Some("\n".into()),
                b'v' => Some("\u{b}".into()),
                b'f' => Some("\u{c}".into()),
                b'r' => Some("\r".into()),
                b'e' => Some("\u{1b}".into()),
                b' ' => Some(" ".into()),
                b'"' => Some("\"".into()),
                b'/' => Some("/".into()),
                b'\\' => Some("\\".into()),
                b'N' => Some("\u{85}".into()),
                b'_' => Some("\u{a0}".into()),
                b'L' => Some("\u{2028}".into()),
                b'P' => Some("\u{2029}".into()),
                b'x' | b'u' | b'U' => {
                    let digits = match escape {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = text.get(position + 2..position + 2 + digits)?;
                    let code = u32::from_str_radix(hex, 16).ok()?;
                    consumed = 2 + digits;
                    Some(char::from_u32(code)?.to_string())
                }
                b'\r' | b'\n' => {
                    // Escaped line break: the break and the next line's leading blanks vanish.
                    let line = line_at(text, position + 1);
                    let mut next = line.next;
                    while matches!(bytes.get(next), Some(b' ') | Some(b'\t')) {
                        next += 1;
                    }
                    consumed = next - position;
                    None
                }
                _ => return None,
            };
            if let Some(produced) = produced {
                builder.produce(&produced);
            }
            position += consumed;
            run_start = position;
            continue;
        }
        if byte == b'\n' || byte == b'\r' {
            // Line folding: trailing blanks of this line are dropped, then the break becomes a
            // space or, with empty lines following, that many newlines.
            let mut content_end = position;
            while content_end > run_start && matches!(bytes.get(content_end - 1), Some(b' ') | Some(b'\t')) {
                content_end -= 1;
            }
            flush(&mut builder, run_start, content_end)?;
            let mut cursor = line_at(text, position).next;
            let mut empty = 0usize;
            loop {
                let mut scan = cursor;
                while matches!(bytes.get(scan), Some(b' ') | Some(b'\t')) {
                    scan += 1;
                }
                match bytes.get(scan) {
                    Some(b'\n') | Some(b'\r') => {
                        empty += 1;
                        cursor = line_at(text, scan).next;
                    }
                    Some(_) => {
                        cursor = scan;
                        break;
                    }
                    None => return None,
                }
            }
            if empty == 0 {
                builder.produce(" ");
            } else {
                for _ in 0..empty {
                    builder.produce("\n");
                }
            }
            position = cursor;
            run_start = position;
            continue;
        }
        position += 1;
    }
}

fn decode_plain(text: &str, start: usize, parent_indent: usize) -> Option<(String, SourceMap, usize)> {
    let bytes = text.as_bytes();
    let mut builder = Builder::new();
    let mut line = line_at(text, line_start(text, u32::try_from(start).unwrap_or(u32::MAX)) as usize);
    let mut piece_start = start;
    let mut first = true;
    let mut end;
    let mut empty_lines = 0usize;
    loop {
        // The piece of this line: up to ` #` or the end, trailing blanks trimmed.
        let mut piece_end = line.content_end;
        let mut index = piece_start;
        while index < line.content_end {
            let byte = *bytes.get(index)?;
            if byte == b'#' && index > piece_start && matches!(bytes.get(index - 1), Some(b' ') | Some(b'\t')) {
                piece_end = index;
                break;
            }
            if byte == b':'
                && matches!(bytes.get(index + 1), None | Some(b' ') | Some(b'\t') | Some(b'\r') | Some(b'\n'))
            {
                if first {
                    piece_end = index;
                    break;
                }
                return None;
            }
            index += 1;
        }
        while piece_end > piece_start && matches!(bytes.get(piece_end - 1), Some(b' ') | Some(b'\t')) {
            piece_end -= 1;
        }
        if !first {
            if empty_lines == 0 {
                builder.produce(" ");
            } else {
                for _ in 0..empty_lines {
                    builder.produce("\n");
                }
            }
        }
        builder.copy(text.get(piece_start..piece_end)?, piece_start);
        end = piece_end;
        first = false;
        if piece_end < line.content_end
            && bytes.get(piece_end..line.content_end).is_some_and(|rest| {
                let trimmed = rest.iter().skip_while(|&&b| b == b' ' || b == b'\t').copied().collect::<Vec<u8>>();
                trimmed.first() == Some(&b'#')
            })
        {
            break;
        }
        // Continuation lines: more indented than the parent, not comments.
        let mut cursor = line.next;
        empty_lines = 0;
        let mut next_line = None;
        while cursor < text.len() {
            let candidate = line_at(text, cursor);
            if is_blank(text, candidate) {
                empty_lines += 1;
                cursor = candidate.next.max(cursor + 1);
                continue;
            }
            let spaces = leading_spaces(text, candidate);
            let content = text.get(candidate.start + spaces..candidate.content_end).unwrap_or("");
            if spaces > parent_indent && !content.starts_with('#') && !is_document_marker(text, candidate) {
                next_line = Some((candidate, candidate.start + spaces));
            }
            break;
        }
        match next_line {
            Some((candidate, content_start)) => {
                line = candidate;
                piece_start = content_start;
            }
            None => break,
        }
    }
    builder.map.set_file_end(u32::try_from(end).unwrap_or(u32::MAX));
    Some((builder.text, builder.map, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str, key: &str) -> DecodedScalar {
        let stream = parse_stream(text).expect("parses");
        let root = stream.documents[0].root.as_ref().expect("root");
        let (key_node, value) = root.entry(key).expect("key");
        decode_node(text, key_node, value).expect("scalar")
    }

    fn check_map(text: &str, scalar: &DecodedScalar) {
        assert!(scalar.diagnostic.is_none(), "approximate map for {:?}", scalar.text);
        assert_eq!(scalar.map.first_unfaithful_segment(&scalar.text, text), None);
    }

    #[test]
    fn literal_block_strips_indentation() {
        let text = "a: 1\nquery: |\n  T\n  | where x\n\n  | take 1\nafter: 2\n";
        let scalar = decoded(text, "query");
        assert_eq!(scalar.text, "T\n| where x\n\n| take 1\n");
        check_map(text, &scalar);
        assert_eq!(scalar.map.to_file(2), text.find("| where").unwrap() as u32);
    }

    #[test]
    fn literal_block_with_crlf_and_indicators() {
        let text = "query: |-\r\n    T\r\n    | where x\r\n\r\nk: v\r\n";
        let scalar = decoded(text, "query");
        assert_eq!(scalar.text, "T\n| where x");
        check_map(text, &scalar);
        let text = "- query: |2\n     indented\n    next\n";
        let stream = parse_stream(text).unwrap();
        let item = &stream.documents[0].root.as_ref().unwrap().items()[0];
        let (key, value) = item.entry("query").unwrap();
        let scalar = decode_node(text, key, value).unwrap();
        assert_eq!(scalar.text, " indented\nnext\n");
        check_map(text, &scalar);
    }

    #[test]
    fn folded_and_keep() {
        let text = "query: >\n  a\n  b\n\n  c\n    d\n  e\nk: |+\n  x\n\n";
        let scalar = decoded(text, "query");
        assert_eq!(scalar.text, "a b\nc\n  d\ne\n");
        check_map(text, &scalar);
        let scalar = decoded(text, "k");
        assert_eq!(scalar.text, "x\n\n");
        check_map(text, &scalar);
    }

    #[test]
    fn quoted_scalars_fold_and_unescape() {
        let text = "search: '| tstats x\n  where a=''b''\n\n  | y'\nq: \"a\\tb\\\n   c \\u00e9\"\n";
        let scalar = decoded(text, "search");
        assert_eq!(scalar.text, "| tstats x where a='b'\n| y");
        check_map(text, &scalar);
        let scalar = decoded(text, "q");
        assert_eq!(scalar.text, "a\tbc é");
        check_map(text, &scalar);
    }

    #[test]
    fn plain_multiline() {
        let text = "search: tstats count\n  from datamodel=X # comment\nnext: 1\n";
        let scalar = decoded(text, "search");
        assert_eq!(scalar.text, "tstats count from datamodel=X");
        check_map(text, &scalar);
    }

    #[test]
    fn documents_and_duplicates() {
        let text = "action: global\ntitle: a\n---\ndetection: 1\ndetection: 2\n---\nx: 1\n";
        let stream = parse_stream(text).unwrap();
        assert_eq!(stream.documents.len(), 3);
        assert_eq!(stream.documents[0].span, Span::new(0, 24));
        assert_eq!(stream.documents[1].span.start, 24);
        assert_eq!(stream.documents[2].span.end as usize, text.len());
        assert_eq!(stream.diagnostics.len(), 1);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a: &a [x, x]\n");
        for level in 0..300 {
            text.push_str(&format!("b{level}: &b{level} [*a, *a]\n"));
        }
        let error = parse_stream(&text).unwrap_err();
        assert!(error.message.contains("aliases"));
    }

    #[test]
    fn unindented_quoted_continuation_is_accepted() {
        let text = "name: m\ndefinition: 'eval a=1\n| lookup x\n| eval b=2'\ndescription: d\n";
        let scalar = decoded(text, "definition");
        assert_eq!(scalar.text, "eval a=1 | lookup x | eval b=2");
        check_map(text, &scalar);
        let stream = parse_stream(text).unwrap();
        let root = stream.documents[0].root.as_ref().unwrap();
        assert_eq!(root.get("description").unwrap().span.slice(text), Some("d"));
    }

    #[test]
    fn unicode_offsets_are_bytes() {
        let text = "title: é\nquery: |\n  ü | x\n";
        let scalar = decoded(text, "query");
        assert_eq!(scalar.text, "ü | x\n");
        check_map(text, &scalar);
    }
}
