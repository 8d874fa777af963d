//! Raw KQL files (`.kql`, `.csl`, `.kusto`, and `.txt` that looks like KQL), plus the two tests
//! shared with Markdown fences: "looks like KQL" and "fence tag may hold KQL". Both follow the
//! rules of the reference batch reader (`../shared/oracles/README.md`, `kql_batch.js`), so rule
//! counts agree with it.

use detwiki_ir::{BodyFormat, Language, Metadata, Query, SourceMap, Span};

use crate::{FileInput, Outcome};

/// Characters ignored at the start of a line: white space, zero-width space and byte-order mark.
fn trim_start_invisible(line: &str) -> &str {
    line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}')
}

const KQL_START_WORDS: &[&str] = &[
    "let",
    "set",
    "declare",
    "alias",
    "pattern",
    "restrict",
    "union",
    "search",
    "find",
    "print",
    "range",
    "evaluate",
    "datatable",
    "externaldata",
    "external_table",
    "materialize",
    "view",
    "macro-expand",
];

/// Whether a text looks like KQL: its first line that is neither blank nor a `//` comment starts
/// like a query (a pipe, a parenthesis, a quoted name, a control command, a statement keyword, or
/// an identifier followed by nothing, `|`, `(`, `[`, `;` or `//`). A text without such a line does
/// not look like KQL.
pub(crate) fn looks_like_kql(text: &str) -> bool {
    let Some(line) = text.lines().map(trim_start_invisible).find(|line| !line.is_empty() && !line.starts_with("//"))
    else {
        return false;
    };
    first_line_is_kql(line)
}

fn first_line_is_kql(line: &str) -> bool {
    let bytes = line.as_bytes();
    match bytes.first() {
        Some(b'|') | Some(b'(') => return true,
        Some(b'[') => {
            let rest = &line[1..];
            if rest.starts_with('\'') || rest.starts_with('"') || rest.starts_with("@'") || rest.starts_with("@\"") {
                return true;
            }
        }
        Some(b'.') if bytes.get(1).is_some_and(u8::is_ascii_lowercase) => return true,
        _ => {}
    }
    // A leading word (identifier characters plus `-` for `macro-expand`).
    let word_end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        .map(|(index, _)| index)
        .unwrap_or(line.len());
    let word = &line[..word_end];
    if KQL_START_WORDS.contains(&word) {
        return true;
    }
    // An identifier followed by nothing, `|`, `(`, `[`, `;` or `//`.
    let identifier_end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(index, _)| index)
        .unwrap_or(line.len());
    let identifier = &line[..identifier_end];
    let mut characters = identifier.chars();
    match characters.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {}
        _ => return false,
    }
    let rest = line[identifier_end..].trim_start_matches(|c: char| c.is_whitespace() || c == '\u{200B}');
    rest.is_empty()
        || rest.starts_with('|')
        || rest.starts_with('(')
        || rest.starts_with('[')
        || rest.starts_with(';')
        || rest.starts_with("//")
}

/// Whether a fence info string may hold KQL: empty, starting with `kql` or `kusto`, or with `c#`
/// as its first word (compared lower-cased, after trimming).
pub(crate) fn fence_tag_may_be_kql(info: &str) -> bool {
    let info = info.trim().to_lowercase();
    info.is_empty()
        || info.starts_with("kql")
        || info.starts_with("kusto")
        || info.split_whitespace().next() == Some("c#")
}

/// Leading `//` comment lines of a query, without the slashes, as a description.
pub(crate) fn leading_comment_description(text: &str) -> Option<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = trim_start_invisible(line);
        if trimmed.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        let Some(comment) = trimmed.strip_prefix("//") else { break };
        let comment = comment.trim_start_matches('/').trim();
        lines.push(comment.to_owned());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let description = lines.join("\n").trim().to_owned();
    if description.is_empty() { None } else { Some(description) }
}

/// Authors named in `// Author: name` comment lines of a query.
pub(crate) fn comment_authors(text: &str) -> Vec<String> {
    let mut authors = Vec::new();
    for line in text.lines() {
        let Some(comment) = trim_start_invisible(line).strip_prefix("//") else { continue };
        let comment = comment.trim_start_matches('/').trim();
        let Some((label, value)) = comment.split_once(':') else { continue };
        let label = label.trim().to_ascii_lowercase();
        if matches!(label.as_str(), "author" | "authors" | "author(s)") {
            let value = value.trim();
            if !value.is_empty() && !authors.iter().any(|known: &String| known == value) {
                authors.push(value.to_owned());
            }
        }
    }
    authors
}

/// ATT&CK technique IDs (`T1003`, `T1003.001`, also written `T1218/007` in URLs) named in the
/// leading comment lines of a raw query that mention MITRE, ATT&CK or techniques, as written there
/// (`// MITRE ATT&CK: T1003.001`, `//MITRE: Masquerading https://attack.mitre.org/techniques/T1036/`).
pub(crate) fn comment_techniques(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = trim_start_invisible(line);
        if trimmed.is_empty() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("//") else { break };
        let lower = comment.to_ascii_lowercase();
        if !(lower.contains("mitre") || lower.contains("att&ck") || lower.contains("technique")) {
            continue;
        }
        for tag in technique_ids(comment) {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags
}

/// Every `T` followed by four digits (and optionally `.`/`/` and three digits) that stands alone.
fn technique_ids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let boundary = index == 0 || !bytes[index - 1].is_ascii_alphanumeric();
        let digits = |from: usize, count: usize| {
            bytes.get(from..from + count).is_some_and(|run| run.iter().all(u8::is_ascii_digit))
        };
        if boundary && bytes[index] == b'T' && digits(index + 1, 4) {
            let mut end = index + 5;
            let mut id = text[index..end].to_owned();
            if matches!(bytes.get(end), Some(b'.' | b'/')) && digits(end + 1, 3) {
                id.push('.');
                id.push_str(&text[end + 1..end + 4]);
                end += 4;
            }
            if !bytes.get(end).is_some_and(u8::is_ascii_digit) {
                out.push(id);
            }
            index = end;
        } else {
            index += 1;
        }
    }
    out
}

/// Text of a whole file as one query, with `\r\n` read as `\n` (the map points at the `\n`).
pub(crate) fn whole_text_query(text: &str) -> (String, SourceMap) {
    if !text.contains('\r') {
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        return (text.to_owned(), SourceMap::verbatim(0, len));
    }
    let mut decoded = String::with_capacity(text.len());
    let mut map = SourceMap::new();
    let mut start = 0usize;
    let bytes = text.as_bytes();
    let mut index = 0usize;
    while index < bytes.len() {
        if bytes.get(index) == Some(&b'\r') && bytes.get(index + 1) == Some(&b'\n') {
            let piece = text.get(start..index).unwrap_or("");
            push(&mut decoded, &mut map, piece, start);
            start = index + 1;
            index += 2;
            continue;
        }
        index += 1;
    }
    push(&mut decoded, &mut map, text.get(start..).unwrap_or(""), start);
    map.set_file_end(u32::try_from(text.len()).unwrap_or(u32::MAX));
    (decoded, map)
}

fn push(decoded: &mut String, map: &mut SourceMap, piece: &str, file_start: usize) {
    let query_start = u32::try_from(decoded.len()).unwrap_or(u32::MAX);
    decoded.push_str(piece);
    map.push(
        query_start,
        u32::try_from(file_start).unwrap_or(u32::MAX),
        u32::try_from(piece.len()).unwrap_or(u32::MAX),
    );
}

/// Reads a raw KQL file. `check_content` is set for `.txt`, which is only KQL when it looks so.
pub(crate) fn read(input: &FileInput, check_content: bool) -> Outcome {
    let text = &input.text;
    if text.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}').is_empty() {
        return Outcome::skipped("empty file");
    }
    let first = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if (first.starts_with('{') || first.starts_with('[')) && serde_json::from_str::<serde_json::Value>(first).is_ok() {
        return Outcome::skipped("JSON data under a KQL file extension, not a query");
    }
    if check_content && !looks_like_kql(text) {
        let first_line = text
            .lines()
            .map(trim_start_invisible)
            .find(|line| !line.is_empty() && !line.starts_with("//"))
            .unwrap_or("");
        let shown: String = first_line.chars().take(60).collect();
        let kind = if first_line.contains(',') || first_line.contains('\t') { "CSV or table data" } else { "text" };
        return Outcome::skipped(format!("{kind} that does not look like KQL (first line: `{shown}`)"));
    }
    let (decoded, map) = whole_text_query(text);
    let metadata = Metadata {
        title: Some(crate::title_from_file_name(&input.repo_path)),
        description: leading_comment_description(&decoded),
        authors: comment_authors(&decoded),
        tags: comment_techniques(&decoded),
        ..Metadata::default()
    };
    let span = Span::from_usize(0, text.len());
    let query = Query { name: None, language: Language::Kql, document: None, text: decoded, span, source_map: map };
    Outcome::Rules(vec![input.rule(BodyFormat::Kql, metadata, span, vec![query], Vec::new())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_kql_cases() {
        for yes in [
            "DeviceEvents",
            "DeviceEvents | where x",
            "// comment\n\n_GetWatchlist('x')",
            "arg(\"\").Resources",
            "let x = 1;",
            "  \u{200B}| where a",
            "['My Table']",
            ".show tables",
            "macro-expand x as y",
            "Table // trailing",
        ] {
            assert!(looks_like_kql(yes), "{yes:?}");
        }
        for no in [
            "powershell -exec bypass",
            "rundll32.exe \\\\x",
            "HKLM:\\Software",
            "{HTTP method} x",
            "CVE\tVendor",
            "N/A",
            "< Insert query string here >",
            "// only a comment",
            "",
        ] {
            assert!(!looks_like_kql(no), "{no:?}");
        }
    }

    #[test]
    fn fence_tags() {
        for yes in ["", "KQL", "kql", "Kusto", "KQLAADSignInEventsBeta", "C#", "c# title"] {
            assert!(fence_tag_may_be_kql(yes), "{yes}");
        }
        for no in ["powershell", "json", "yaml", "c", "csharp"] {
            assert!(!fence_tag_may_be_kql(no), "{no}");
        }
    }

    #[test]
    fn comments_become_description() {
        assert_eq!(
            leading_comment_description("// Find bad things\n// in two lines\nT | take 1").as_deref(),
            Some("Find bad things\nin two lines")
        );
        assert_eq!(leading_comment_description("T"), None);
    }

    #[test]
    fn authors_in_comments() {
        assert_eq!(comment_authors("// Author: A B (a@b.c)\nT\n// author: A B (a@b.c)\n"), vec!["A B (a@b.c)"]);
        assert!(comment_authors("T | extend Author = 1").is_empty());
    }

    #[test]
    fn techniques_in_header_comments() {
        let text = "// MITRE ATT&CK: T1003.001, T1059\n//MITRE: x https://attack.mitre.org/techniques/T1218/007/\nT\n// MITRE: T9999\n";
        assert_eq!(comment_techniques(text), vec!["T1003.001", "T1059", "T1218.007"]);
        assert!(comment_techniques("// see T1003\nT").is_empty());
        assert!(comment_techniques("// Technique T12345 and XT1003").is_empty());
    }

    #[test]
    fn crlf_is_read_as_lf() {
        let text = "T\r\n| take 1\r\n";
        let (decoded, map) = whole_text_query(text);
        assert_eq!(decoded, "T\n| take 1\n");
        assert_eq!(map.first_unfaithful_segment(&decoded, text), None);
    }
}
