//! A Sigma file: its YAML documents, merged as collections say (`action: global`, `reset`,
//! `repeat`), each read as a rule, a correlation rule or a filter.

use detwiki_ir::{Diagnostic, Span};

use crate::correlation::{Correlation, parse_correlation, string_list};
use crate::detection::{Detection, Spanned, parse_detection};
use crate::diagnostics;
use crate::filter::{Filter, parse_filter};
use crate::yaml::{self, NodeStyle, YamlEntry, YamlNode, YamlValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Rule,
    Correlation,
    Filter,
    /// `action: global`: a template merged into the documents that follow.
    Global,
    /// `action: reset`: forgets the template.
    Reset,
    /// An empty document (a trailing `---`).
    Empty,
    /// Not a map, or an unknown `action`.
    Invalid,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Rule => "rule",
            DocumentKind::Correlation => "correlation",
            DocumentKind::Filter => "filter",
            DocumentKind::Global => "global",
            DocumentKind::Reset => "reset",
            DocumentKind::Empty => "empty",
            DocumentKind::Invalid => "invalid",
        }
    }
}

/// `logsource`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogSource {
    pub span: Span,
    pub category: Option<Spanned<String>>,
    pub product: Option<Spanned<String>>,
    pub service: Option<Spanned<String>>,
    pub definition: Option<Spanned<String>>,
}

/// One document of the stream, after merging.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaDocument {
    /// 0-based index in the YAML stream, counting every document.
    pub index: usize,
    /// The document's own text.
    pub span: Span,
    pub kind: DocumentKind,
    /// A `global` template (or, for `repeat`, the previous rule) was merged in.
    pub merged: bool,
    /// The `action` value when there is one (`global`, `reset`, `repeat`).
    pub action: Option<String>,
    /// The merged map the fields below were read from (spans point into whichever document each
    /// piece came from).
    pub content: YamlNode,
    pub title: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub status: Option<Spanned<String>>,
    pub level: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub modified: Option<Spanned<String>>,
    pub references: Vec<Spanned<String>>,
    pub tags: Vec<Spanned<String>>,
    pub falsepositives: Vec<Spanned<String>>,
    pub fields: Vec<Spanned<String>>,
    pub logsource: Option<LogSource>,
    pub detection: Option<Detection>,
    pub correlation: Option<Correlation>,
    pub filter: Option<Filter>,
    /// Problems of this document (the YAML ones of its span included).
    pub diagnostics: Vec<Diagnostic>,
}

impl SigmaDocument {
    /// The detection a condition refers to: the rule's, or the filter's.
    pub fn detection(&self) -> Option<&Detection> {
        self.detection.as_ref().or(self.filter.as_ref().map(|filter| &filter.detection))
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SigmaFile {
    pub documents: Vec<SigmaDocument>,
    /// Problems of the stream that belong to no document (a YAML error after the last one).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads every document of `file_text`. Never panics; problems become diagnostics.
pub fn load(file_text: &str) -> SigmaFile {
    let stream = yaml::parse_stream(file_text);
    let mut file = SigmaFile::default();
    let mut stream_diagnostics = stream.diagnostics;
    let mut global: Option<YamlNode> = None;
    // The document a `repeat` builds on (its merged content), by index into `file.documents`.
    let mut previous: Option<usize> = None;
    let count = stream.documents.len();
    for (index, document) in stream.documents.into_iter().enumerate() {
        let mut own_diagnostics = Vec::new();
        // YAML diagnostics inside this document's span belong to it; a scan error past the end of
        // the last document belongs to that document too.
        stream_diagnostics.retain(|diagnostic| {
            let inside = document.span.contains(diagnostic.span)
                || (index + 1 == count && diagnostic.span.start >= document.span.start);
            if inside {
                own_diagnostics.push(diagnostic.clone());
            }
            !inside
        });
        let root = document.root;
        let mut loaded = empty_document(index, document.span, YamlNode::null(Span::empty(document.span.start)));
        loaded.diagnostics = own_diagnostics;
        if root.is_null() {
            loaded.kind = DocumentKind::Empty;
            file.documents.push(loaded);
            continue;
        }
        if root.as_mapping().is_none() {
            loaded.kind = DocumentKind::Invalid;
            loaded.diagnostics.push(diagnostics::expected_mapping("document", root.span));
            loaded.content = root;
            file.documents.push(loaded);
            continue;
        }
        let action = root.get("action").and_then(YamlNode::scalar_text);
        loaded.action = action.clone();
        match action.as_deref() {
            None => {
                if root.get("correlation").is_some() || root.get("filter").is_some() {
                    // Correlations and filters take no template (pySigma merges only rules).
                    read_document(&mut loaded, root, file_text);
                } else {
                    let merged = match &global {
                        Some(template) => {
                            loaded.merged = true;
                            deep_update(root, template)
                        }
                        None => root,
                    };
                    read_document(&mut loaded, merged, file_text);
                    previous = Some(index);
                }
            }
            Some("global") => {
                let template = without_key(root, "action");
                loaded.kind = DocumentKind::Global;
                loaded.content = template.clone();
                previous = Some(index);
                global = Some(template);
            }
            Some("reset") => {
                loaded.kind = DocumentKind::Reset;
                loaded.content = root;
                global = None;
            }
            Some("repeat") => {
                let base = previous.and_then(|at| file.documents.get(at)).map(|document| document.content.clone());
                let base = base.unwrap_or_else(|| YamlNode {
                    value: YamlValue::Mapping(Vec::new()),
                    span: Span::empty(root.span.start),
                    style: NodeStyle::Container,
                });
                let merged = deep_update(base, &root);
                loaded.merged = true;
                read_document(&mut loaded, merged, file_text);
                previous = Some(index);
            }
            Some(other) => {
                loaded.kind = DocumentKind::Invalid;
                let span = root.get("action").map_or(root.span, |node| node.span);
                loaded.diagnostics.push(diagnostics::unknown_action(other, span));
                loaded.content = root;
            }
        }
        file.documents.push(loaded);
    }
    file.diagnostics = stream_diagnostics;
    file
}

fn empty_document(index: usize, span: Span, content: YamlNode) -> SigmaDocument {
    SigmaDocument {
        index,
        span,
        kind: DocumentKind::Rule,
        merged: false,
        action: None,
        content,
        title: None,
        id: None,
        name: None,
        status: None,
        level: None,
        description: None,
        author: None,
        date: None,
        modified: None,
        references: Vec::new(),
        tags: Vec::new(),
        falsepositives: Vec::new(),
        fields: Vec::new(),
        logsource: None,
        detection: None,
        correlation: None,
        filter: None,
        diagnostics: Vec::new(),
    }
}

fn scalar(node: &YamlNode, key: &str) -> Option<Spanned<String>> {
    let value = node.get(key)?;
    if value.is_null() {
        return None;
    }
    value.scalar_text().map(|text| Spanned { value: text, span: value.span })
}

fn read_document(document: &mut SigmaDocument, content: YamlNode, text: &str) {
    let out = &mut document.diagnostics;
    document.title = scalar(&content, "title");
    document.id = scalar(&content, "id");
    document.name = scalar(&content, "name");
    document.status = scalar(&content, "status");
    document.level = scalar(&content, "level");
    document.description = scalar(&content, "description");
    document.author = scalar(&content, "author");
    document.date = scalar(&content, "date");
    document.modified = scalar(&content, "modified");
    for (key, list) in [
        ("references", &mut document.references),
        ("tags", &mut document.tags),
        ("falsepositives", &mut document.falsepositives),
        ("fields", &mut document.fields),
    ] {
        if let Some(node) = content.get(key) {
            *list = string_list(node);
        }
    }
    if let Some(id) = &document.id
        && !is_uuid(&id.value)
    {
        out.push(diagnostics::invalid_id(&id.value, id.span));
    }
    if document.title.is_none() {
        out.push(diagnostics::missing_field("title", Span::empty(content.span.start)));
    }
    document.logsource = content.get("logsource").map(|node| read_logsource(node, out));
    if let Some(node) = content.get("correlation") {
        document.kind = DocumentKind::Correlation;
        document.correlation = Some(parse_correlation(node, out));
    } else if let Some(node) = content.get("filter") {
        document.kind = DocumentKind::Filter;
        if document.logsource.is_none() {
            out.push(diagnostics::missing_field("logsource", Span::empty(content.span.start)));
        }
        document.filter = Some(parse_filter(node, text, out));
    } else {
        document.kind = DocumentKind::Rule;
        if document.logsource.is_none() {
            out.push(diagnostics::missing_field("logsource", Span::empty(content.span.start)));
        }
        match content.get("detection") {
            Some(node) => document.detection = Some(parse_detection(node, text, &[], out)),
            None => out.push(diagnostics::missing_field("detection", Span::empty(content.span.start))),
        }
    }
    document.content = content;
}

/// A UUID as Python's `UUID()` reads it: 32 hex digits, hyphens anywhere between them, optional
/// braces or `urn:uuid:` prefix.
fn is_uuid(text: &str) -> bool {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')).unwrap_or(text);
    let digits: Vec<char> = text.chars().filter(|c| *c != '-').collect();
    digits.len() == 32 && digits.iter().all(char::is_ascii_hexdigit)
}

fn read_logsource(node: &YamlNode, out: &mut Vec<Diagnostic>) -> LogSource {
    if node.as_mapping().is_none() {
        out.push(diagnostics::expected_mapping("logsource", node.span));
    }
    LogSource {
        span: node.span,
        category: scalar(node, "category"),
        product: scalar(node, "product"),
        service: scalar(node, "service"),
        definition: scalar(node, "definition"),
    }
}

fn without_key(mut node: YamlNode, key: &str) -> YamlNode {
    if let YamlValue::Mapping(entries) = &mut node.value {
        entries.retain(|entry| entry.key.as_str() != Some(key));
    }
    node
}

/// pySigma's `deep_dict_update(dest, src)`: maps merge recursively, anything else in `src` replaces
/// what `dest` has; new keys go to the end.
fn deep_update(mut dest: YamlNode, src: &YamlNode) -> YamlNode {
    let (YamlValue::Mapping(dest_entries), Some(src_entries)) = (&mut dest.value, src.as_mapping()) else {
        return src.clone();
    };
    for src_entry in src_entries {
        let key = src_entry.key.scalar_text();
        let existing = dest_entries.iter().position(|entry| entry.key.scalar_text() == key);
        let merged_value = if src_entry.value.as_mapping().is_some() {
            let base = existing.map(|at| dest_entries[at].value.clone()).unwrap_or_else(|| YamlNode {
                value: YamlValue::Mapping(Vec::new()),
                span: src_entry.value.span,
                style: NodeStyle::Container,
            });
            let base = if base.as_mapping().is_some() {
                base
            } else {
                YamlNode { value: YamlValue::Mapping(Vec::new()), span: base.span, style: NodeStyle::Container }
            };
            deep_update(base, &src_entry.value)
        } else {
            src_entry.value.clone()
        };
        match existing {
            Some(at) => dest_entries[at].value = merged_value,
            None => dest_entries.push(YamlEntry { key: src_entry.key.clone(), value: merged_value }),
        }
    }
    dest
}
