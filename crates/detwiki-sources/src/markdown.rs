//! Markdown rule files with fenced KQL (HybridBrothers, Bert-JanP, FalconFriday, Microsoft 365
//! Defender hunting queries). One rule per file with at least one KQL block; each block is a
//! query named by its nearest heading.
//!
//! Fences are found line by line with the same rules as the reference batch reader
//! (`kql_batch.js`): up to three spaces of indentation, three or more backticks or tildes,
//! closed by a fence of the same character at least as long; a fence never closed runs to the end
//! of the file. Blocks inside block quotes or list items indented four spaces or more are not
//! seen. Metadata (title, description, author, ATT&CK table, references, data sources) comes from
//! the headings, tables and lines outside fences.

use std::collections::BTreeSet;

use detwiki_ir::{BodyFormat, DeclaredDataSource, Diagnostic, Language, Metadata, Query, SourceMap, Span};

use crate::kql_files::{fence_tag_may_be_kql, looks_like_kql};
use crate::{FileInput, Outcome};

/// One physical line of the file.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// Text without the line break (and without a `\r` before it).
    text: &'a str,
    start: usize,
    /// Offset of the `\n` ending the line, if any.
    lf: Option<usize>,
}

fn lines_of(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0usize;
    while start < text.len() {
        let rest = text.get(start..).unwrap_or("");
        let (content_len, lf) = match rest.find('\n') {
            Some(index) => (index, Some(start + index)),
            None => (rest.len(), None),
        };
        let mut content = rest.get(..content_len).unwrap_or("");
        if let Some(stripped) = content.strip_suffix('\r') {
            content = stripped;
        }
        lines.push(Line { text: content, start, lf });
        start = match lf {
            Some(lf) => lf + 1,
            None => text.len(),
        };
    }
    lines
}

#[derive(Debug, Clone)]
struct Fence {
    info: String,
    /// Line index of the opening fence.
    open_line: usize,
    /// Line index of the closing fence, or `None` when it runs to the end of the file.
    close_line: Option<usize>,
    indent: usize,
}

#[derive(Debug, Clone)]
struct Heading {
    level: usize,
    text: String,
    line: usize,
}

/// `(character, length, indent, info)` when `line` opens a fence.
fn fence_open(line: &str) -> Option<(u8, usize, usize, &str)> {
    let indent = line.bytes().take_while(|&byte| byte == b' ').count();
    if indent > 3 {
        return None;
    }
    let rest = line.get(indent..)?;
    let character = *rest.as_bytes().first()?;
    if character != b'`' && character != b'~' {
        return None;
    }
    let length = rest.bytes().take_while(|&byte| byte == character).count();
    if length < 3 {
        return None;
    }
    let info = rest.get(length..)?;
    if character == b'`' && info.contains('`') {
        return None;
    }
    Some((character, length, indent, info.trim()))
}

fn fence_closes(line: &str, character: u8, length: usize) -> bool {
    let indent = line.bytes().take_while(|&byte| byte == b' ').count();
    if indent > 3 {
        return false;
    }
    let rest = line.get(indent..).unwrap_or("");
    let run = rest.bytes().take_while(|&byte| byte == character).count();
    run >= length && rest.get(run..).is_some_and(|tail| tail.trim().is_empty())
}

fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.bytes().take_while(|&byte| byte == b' ').count();
    if indent > 3 {
        return None;
    }
    let rest = line.get(indent..)?;
    let level = rest.bytes().take_while(|&byte| byte == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let after = rest.get(level..)?;
    if !(after.is_empty() || after.starts_with(' ') || after.starts_with('\t')) {
        return None;
    }
    let mut content = after.trim();
    // A closing sequence of `#` preceded by a space is not part of the heading.
    let trimmed = content.trim_end_matches('#');
    if trimmed.is_empty() || trimmed.ends_with(' ') || trimmed.ends_with('\t') {
        content = trimmed.trim_end();
    }
    Some((level, content))
}

/// Plain text of inline Markdown (emphasis markers, link targets and code ticks removed).
fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

struct Scan<'a> {
    lines: Vec<Line<'a>>,
    fences: Vec<Fence>,
    headings: Vec<Heading>,
    /// For each line, whether it is part of a fence (opening, content or closing).
    in_fence: Vec<bool>,
}

fn scan(text: &str) -> Scan<'_> {
    let lines = lines_of(text);
    let mut fences = Vec::new();
    let mut headings = Vec::new();
    let mut in_fence = vec![false; lines.len()];
    let mut index = 0usize;
    while index < lines.len() {
        let Some(line) = lines.get(index) else { break };
        if let Some((character, length, indent, info)) = fence_open(line.text) {
            let mut close_line = None;
            let mut cursor = index + 1;
            while cursor < lines.len() {
                if lines.get(cursor).is_some_and(|candidate| fence_closes(candidate.text, character, length)) {
                    close_line = Some(cursor);
                    break;
                }
                cursor += 1;
            }
            let last = close_line.unwrap_or(lines.len().saturating_sub(1));
            for flag in in_fence.iter_mut().take(last + 1).skip(index) {
                *flag = true;
            }
            fences.push(Fence { info: info.to_owned(), open_line: index, close_line, indent });
            index = last + 1;
            continue;
        }
        if let Some((level, content)) = atx_heading(line.text) {
            headings.push(Heading { level, text: plain_text(content), line: index });
        }
        index += 1;
    }
    Scan { lines, fences, headings, in_fence }
}

/// Whether a text holds a fenced code block (for files without an extension).
pub(crate) fn has_fence(text: &str) -> bool {
    lines_of(text).iter().any(|line| fence_open(line.text).is_some())
}

/// Content of a fence as decoded text (indentation of the opening fence removed, `\r\n` read as
/// `\n`) with its map, and the content's byte range.
fn fence_content(text: &str, scan: &Scan<'_>, fence: &Fence) -> (String, SourceMap, Span) {
    let first = fence.open_line + 1;
    let end_line = fence.close_line.unwrap_or(scan.lines.len());
    let mut decoded = String::new();
    let mut map = SourceMap::new();
    let content_start = scan.lines.get(first).map(|line| line.start).unwrap_or(text.len());
    let mut content_end = content_start;
    for line in scan.lines.iter().take(end_line).skip(first) {
        let strip = line.text.bytes().take(fence.indent).take_while(|&byte| byte == b' ').count();
        let piece = line.text.get(strip..).unwrap_or("");
        let file_start = line.start + strip;
        let query_start = u32::try_from(decoded.len()).unwrap_or(u32::MAX);
        decoded.push_str(piece);
        map.push(
            query_start,
            u32::try_from(file_start).unwrap_or(u32::MAX),
            u32::try_from(piece.len()).unwrap_or(u32::MAX),
        );
        content_end = line.start + line.text.len();
        if let Some(lf) = line.lf {
            let query_start = u32::try_from(decoded.len()).unwrap_or(u32::MAX);
            decoded.push('\n');
            map.push(query_start, u32::try_from(lf).unwrap_or(u32::MAX), 1);
            content_end = lf + 1;
        }
    }
    map.set_file_end(u32::try_from(content_end).unwrap_or(u32::MAX));
    (decoded, map, Span::from_usize(content_start, content_end.max(content_start)))
}

pub(crate) fn read(input: &FileInput) -> Outcome {
    let text: &str = &input.text;
    let scan = scan(text);
    let mut queries: Vec<Query> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut other_tags: Vec<String> = Vec::new();
    let mut names_used: Vec<String> = Vec::new();
    for fence in &scan.fences {
        let open = scan.lines.get(fence.open_line).map(|line| line.start).unwrap_or(0);
        let fence_span = Span::from_usize(open, open + scan.lines.get(fence.open_line).map_or(0, |l| l.text.len()));
        let (decoded, map, span) = fence_content(text, &scan, fence);
        if let Some(language) = spl_fence(&fence.info, &decoded, &input.languages) {
            if fence.close_line.is_none() {
                diagnostics.push(Diagnostic::warning(
                    "markdown-unclosed-fence",
                    "code fence is never closed: the block runs to the end of the file",
                    fence_span,
                ));
            }
            let name = query_name(&scan, fence.open_line, &mut names_used);
            queries.push(Query { name, language, document: None, text: decoded, span, source_map: map });
            continue;
        }
        if input.languages.contains(&Language::Spl) && !input.languages.contains(&Language::Kql) {
            other_tags.push(if fence.info.is_empty() { "untagged".to_owned() } else { fence.info.clone() });
            diagnostics.push(Diagnostic::info(
                "markdown-block-not-spl",
                format!("code block tagged `{}` is not SPL: ignored", fence.info),
                fence_span,
            ));
            continue;
        }
        if !fence_tag_may_be_kql(&fence.info) {
            other_tags.push(fence.info.split_whitespace().next().unwrap_or("").to_owned());
            diagnostics.push(Diagnostic::info(
                "markdown-other-code-block",
                format!("code block tagged `{}` is not KQL: ignored", fence.info),
                fence_span,
            ));
            continue;
        }
        if !looks_like_kql(&decoded) {
            let label = if fence.info.is_empty() { "untagged".to_owned() } else { format!("`{}`", fence.info) };
            other_tags.push(if fence.info.is_empty() { "untagged".to_owned() } else { fence.info.clone() });
            diagnostics.push(Diagnostic::info(
                "markdown-block-not-kql",
                format!("{label} code block does not look like KQL: ignored"),
                fence_span,
            ));
            continue;
        }
        if fence.close_line.is_none() {
            diagnostics.push(Diagnostic::warning(
                "markdown-unclosed-fence",
                "code fence is never closed: the block runs to the end of the file",
                fence_span,
            ));
        }
        let info_lower = fence.info.trim().to_ascii_lowercase();
        if info_lower.starts_with("kql") && info_lower.len() > 3 && !info_lower.starts_with("kql ") {
            diagnostics.push(Diagnostic::info(
                "markdown-odd-fence-tag",
                format!("fence tag `{}` read as KQL", fence.info),
                fence_span,
            ));
        }
        let name = query_name(&scan, fence.open_line, &mut names_used);
        queries.push(Query { name, language: Language::Kql, document: None, text: decoded, span, source_map: map });
    }
    if queries.is_empty() {
        let reason = if scan.fences.is_empty() {
            "Markdown without a fenced code block (no query)".to_owned()
        } else {
            let tags: BTreeSet<String> =
                other_tags.iter().map(|tag| if tag.is_empty() { "untagged".to_owned() } else { tag.clone() }).collect();
            format!(
                "Markdown without a KQL block ({} other code block{}: {})",
                scan.fences.len(),
                if scan.fences.len() == 1 { "" } else { "s" },
                tags.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        return Outcome::Skipped(reason);
    }
    let mut metadata = metadata(input, &scan);
    for query in &queries {
        for author in crate::kql_files::comment_authors(&query.text) {
            if !metadata.authors.contains(&author) {
                metadata.authors.push(author);
            }
        }
    }
    let body_span = Span::from_usize(0, text.len());
    Outcome::Rules(vec![input.rule(BodyFormat::Markdown, metadata, body_span, queries, diagnostics)])
}

/// The query's name: the nearest heading above the fence, ` (2)`, ` (3)` ... when repeated.
fn query_name(scan: &Scan<'_>, open_line: usize, names_used: &mut Vec<String>) -> Option<String> {
    let heading = scan.headings.iter().rev().find(|heading| heading.line < open_line);
    let base_name = heading.map(|heading| heading.text.clone()).filter(|name| !name.is_empty());
    base_name.map(|base| {
        let count = names_used.iter().filter(|used| **used == base).count();
        names_used.push(base.clone());
        if count == 0 { base } else { format!("{base} ({})", count + 1) }
    })
}

/// `Some(Language::Spl)` when a fence holds SPL (docs/formats.md, "Markdown with SPL"): tagged
/// `spl` or `splunk` (any case), or untagged with content that looks like SPL, where an untagged
/// block that also looks like KQL is SPL only in a source declared `languages = ["spl"]`.
fn spl_fence(info: &str, content: &str, languages: &[Language]) -> Option<Language> {
    let tag = info.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    if matches!(tag.as_str(), "spl" | "splunk" | "splunk-spl") {
        return Some(Language::Spl);
    }
    if !tag.is_empty() || !looks_like_spl(content) {
        return None;
    }
    let declared_spl = languages.contains(&Language::Spl);
    (declared_spl || !looks_like_kql(content)).then_some(Language::Spl)
}

/// The first line that is not blank and not a ```` ``` ```` comment starts like a Splunk search:
/// `|` and a generating command, a macro call, or a `index=`/`sourcetype=`/`source=`/
/// `eventtype=`/`search ` term.
pub(crate) fn looks_like_spl(content: &str) -> bool {
    let Some(line) = content.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with("```")) else {
        return false;
    };
    let lower = line.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix('|') {
        let command = rest.trim_start().split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
        const GENERATING: &[&str] = &[
            "tstats",
            "inputlookup",
            "from",
            "makeresults",
            "rest",
            "datamodel",
            "search",
            "mstats",
            "metadata",
            "multisearch",
            "union",
            "pivot",
            "dbxquery",
            "ldapsearch",
            "loadjob",
            "savedsearch",
        ];
        return GENERATING.contains(&command);
    }
    if lower.starts_with('`') {
        return true;
    }
    ["index=", "index =", "sourcetype=", "sourcetype =", "source=", "eventtype=", "search "]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
}

/// Lines of the section under heading `index` (up to the next heading of any level).
fn section_lines<'a>(scan: &'a Scan<'a>, index: usize) -> impl Iterator<Item = (usize, &'a Line<'a>)> + 'a {
    let start = scan.headings.get(index).map(|heading| heading.line + 1).unwrap_or(0);
    let end = scan.headings.get(index + 1).map(|heading| heading.line).unwrap_or(scan.lines.len());
    scan.lines.iter().enumerate().take(end).skip(start)
}

/// Lines of the section under heading `index` including its sub-headings.
fn section_lines_deep<'a>(scan: &'a Scan<'a>, index: usize) -> impl Iterator<Item = (usize, &'a Line<'a>)> + 'a {
    let level = scan.headings.get(index).map(|heading| heading.level).unwrap_or(0);
    let start = scan.headings.get(index).map(|heading| heading.line + 1).unwrap_or(0);
    let end = scan
        .headings
        .iter()
        .skip(index + 1)
        .find(|heading| heading.level <= level)
        .map(|heading| heading.line)
        .unwrap_or(scan.lines.len());
    scan.lines.iter().enumerate().take(end).skip(start)
}

/// Markdown source of a run of lines, trimmed of blank lines at both ends.
fn join_markdown<'a>(
    text: &str,
    lines: impl Iterator<Item = (usize, &'a Line<'a>)>,
    scan: &Scan<'_>,
) -> Option<String> {
    let mut first: Option<usize> = None;
    let mut last: Option<usize> = None;
    for (index, line) in lines {
        if scan.in_fence.get(index).copied().unwrap_or(false) {
            break;
        }
        if line.text.trim().is_empty() || line.text.trim() == "---" {
            continue;
        }
        if first.is_none() {
            first = Some(line.start);
        }
        last = Some(line.start + line.text.len());
    }
    let markdown = text.get(first?..last?)?.replace("\r\n", "\n");
    let markdown = markdown.trim().to_owned();
    if markdown.is_empty() { None } else { Some(markdown) }
}

fn metadata(input: &FileInput, scan: &Scan<'_>) -> Metadata {
    let text: &str = &input.text;
    let title = scan
        .headings
        .iter()
        .find(|heading| heading.level == 1)
        .map(|heading| heading.text.clone())
        .filter(|title| !title.is_empty())
        .unwrap_or_else(|| crate::title_from_file_name(&input.repo_path));
    // FalconFriday writes `**ID:** 0xFF-0299-...` under its Metadata heading.
    let rule_id = scan
        .lines
        .iter()
        .enumerate()
        .filter(|(index, _)| !scan.in_fence.get(*index).copied().unwrap_or(false))
        .find_map(|(_, line)| labelled(line.text, &["id"]));
    Metadata {
        title: Some(title),
        rule_id,
        description: description(text, scan),
        authors: authors(scan),
        tags: attack_tags(scan),
        references: references(scan),
        data_sources: data_sources(scan),
        ..Metadata::default()
    }
}

fn description(text: &str, scan: &Scan<'_>) -> Option<String> {
    let lower: Vec<String> = scan.headings.iter().map(|heading| heading.text.to_lowercase()).collect();
    let chosen = lower
        .iter()
        .position(|heading| heading == "description" || heading.ends_with(" description"))
        .or_else(|| lower.iter().position(|heading| heading.starts_with("description") || heading == "summary"));
    if let Some(index) = chosen
        && let Some(markdown) = join_markdown(text, section_lines(scan, index), scan)
    {
        return Some(markdown);
    }
    // Otherwise the paragraphs between the title and the next heading.
    let h1 = scan.headings.iter().position(|heading| heading.level == 1);
    let start = h1.map(|index| scan.headings.get(index).map_or(0, |h| h.line + 1)).unwrap_or(0);
    let end = scan
        .headings
        .iter()
        .find(|heading| heading.line >= start)
        .map(|heading| heading.line)
        .unwrap_or(scan.lines.len());
    let lines = scan
        .lines
        .iter()
        .enumerate()
        .take(end)
        .skip(start)
        .filter(|(_, line)| !line.text.trim_start().starts_with('|'));
    if let Some(markdown) = join_markdown(text, lines, scan) {
        return Some(markdown);
    }
    // Last, prose written under a `## Query` heading before its fenced query: some collections
    // describe the query there and nowhere else. `join_markdown` stops at the fence.
    let query = lower.iter().position(|heading| heading == "query" || heading == "query:")?;
    join_markdown(text, section_lines(scan, query).filter(|(_, line)| !line.text.trim_start().starts_with('|')), scan)
}

/// Text of an author line value: links reduced to their text, emphasis removed.
fn clean_value(value: &str) -> String {
    plain_text(value).trim().trim_matches(|c: char| c == '-' || c == ':' || c.is_whitespace()).to_owned()
}

fn strip_bullet(line: &str) -> &str {
    let trimmed = line.trim();
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = trimmed.strip_prefix(bullet) {
            return rest.trim();
        }
    }
    trimmed
}

/// `Some(value)` when the line is `label: value` for one of `labels` (emphasis ignored).
fn labelled(line: &str, labels: &[&str]) -> Option<String> {
    let unemphasised = strip_bullet(line).replace("**", "").replace("__", "");
    let (label, value) = unemphasised.split_once(':')?;
    let label = label.trim().trim_matches('*').trim().to_lowercase();
    if labels.contains(&label.as_str()) {
        let value = clean_value(value);
        if value.is_empty() { None } else { Some(value) }
    } else {
        None
    }
}

fn authors(scan: &Scan<'_>) -> Vec<String> {
    let mut authors: Vec<String> = Vec::new();
    let push = |name: String, authors: &mut Vec<String>| {
        for part in name.split([',', ';']).flat_map(|part| part.split(" and ")) {
            let part = part.trim();
            if !part.is_empty() && !authors.iter().any(|known| known == part) {
                authors.push(part.to_owned());
            }
        }
    };
    // Sections titled "Author", "Author(s)", "Contributor info", ...
    for (index, heading) in scan.headings.iter().enumerate() {
        let lower = heading.text.to_lowercase();
        if !(lower.starts_with("author") || lower.starts_with("contributor")) {
            continue;
        }
        let mut found = false;
        let mut plain_lines = Vec::new();
        for (line_index, line) in section_lines(scan, index) {
            if scan.in_fence.get(line_index).copied().unwrap_or(false) {
                continue;
            }
            if let Some(name) =
                labelled(line.text, &["name", "author", "authors", "author(s)", "contributor", "contributors"])
            {
                push(name, &mut authors);
                found = true;
            } else if !line.text.trim().is_empty() && !line.text.contains(':') {
                plain_lines.push(clean_value(strip_bullet(line.text)));
            }
        }
        if !found && plain_lines.len() == 1 {
            push(plain_lines.remove(0), &mut authors);
        }
    }
    // "Author: X" lines anywhere outside fences.
    for (index, line) in scan.lines.iter().enumerate() {
        if scan.in_fence.get(index).copied().unwrap_or(false) {
            continue;
        }
        if let Some(name) = labelled(line.text, &["author", "authors", "author(s)", "contributor", "contributors"]) {
            push(name, &mut authors);
        }
    }
    authors
}

/// Rows of the table starting at line `start` (header cells, then data rows).
fn table_at(scan: &Scan<'_>, start: usize) -> Option<(Vec<String>, Vec<Vec<String>>, usize)> {
    let split = |line: &str| -> Vec<String> {
        let trimmed = line.trim();
        let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        inner.split('|').map(|cell| cell.trim().to_owned()).collect()
    };
    let header_line = scan.lines.get(start)?;
    let separator = scan.lines.get(start + 1)?;
    let separator_cells = split(separator.text);
    if !separator.text.contains('-')
        || !separator_cells.iter().all(|cell| cell.chars().all(|c| c == '-' || c == ':' || c == ' '))
    {
        return None;
    }
    let header = split(header_line.text);
    let mut rows = Vec::new();
    let mut index = start + 2;
    while let Some(line) = scan.lines.get(index) {
        if !line.text.trim_start().starts_with('|') || scan.in_fence.get(index).copied().unwrap_or(false) {
            break;
        }
        rows.push(split(line.text));
        index += 1;
    }
    Some((header, rows, index))
}

/// Every table outside fences: `(line of header, header, rows)`.
fn tables(scan: &Scan<'_>) -> Vec<(usize, Vec<String>, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    let mut index = 0usize;
    while index < scan.lines.len() {
        let is_candidate = scan.lines.get(index).is_some_and(|line| line.text.trim_start().starts_with('|'))
            && !scan.in_fence.get(index).copied().unwrap_or(false);
        if is_candidate && let Some((header, rows, next)) = table_at(scan, index) {
            out.push((index, header, rows));
            index = next.max(index + 1);
            continue;
        }
        index += 1;
    }
    out
}

fn heading_before<'a>(scan: &'a Scan<'_>, line: usize) -> Option<&'a Heading> {
    scan.headings.iter().rev().find(|heading| heading.line < line)
}

/// ATT&CK tags from tables with technique or tactic columns, as written. A sub-technique
/// column is joined to its technique (`T1550` + `003` -> `T1550.003`); a "Covered?" column keeps
/// only the rows marked covered.
fn attack_tags(scan: &Scan<'_>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for (line, header, rows) in tables(scan) {
        if heading_before(scan, line).is_some_and(|heading| heading.text.to_lowercase().contains("data source")) {
            continue;
        }
        let lower: Vec<String> = header.iter().map(|cell| cell.to_lowercase()).collect();
        let is_tag_column = |cell: &String| {
            (cell.contains("tactic") || cell.contains("technique"))
                && !["name", "title", "link", "url", "description", "covered"].iter().any(|word| cell.contains(word))
                && !cell.contains("sub")
        };
        let tag_columns: Vec<usize> =
            lower.iter().enumerate().filter(|(_, cell)| is_tag_column(cell)).map(|(index, _)| index).collect();
        if tag_columns.is_empty() {
            continue;
        }
        let subtechnique =
            lower.iter().position(|cell| cell.contains("subtechnique") || cell.contains("sub-technique"));
        let covered = lower.iter().position(|cell| cell.contains("covered"));
        let technique = lower.iter().position(|cell| cell.contains("technique") && !cell.contains("sub"));
        for row in rows {
            if let Some(covered) = covered
                && row.get(covered).is_none_or(|cell| cell.trim().is_empty())
            {
                continue;
            }
            for &column in &tag_columns {
                let Some(cell) = row.get(column) else { continue };
                let mut value = clean_value(cell);
                if value.is_empty() || value == "-" || value.eq_ignore_ascii_case("n/a") {
                    continue;
                }
                if Some(column) == technique
                    && let Some(sub) = subtechnique.and_then(|index| row.get(index))
                {
                    let sub = sub.trim().trim_start_matches('.');
                    if !sub.is_empty() && sub.chars().all(|c| c.is_ascii_digit()) && !value.contains('.') {
                        value = format!("{value}.{sub}");
                    }
                }
                if !tags.contains(&value) {
                    tags.push(value);
                }
            }
        }
    }
    tags
}

/// URLs in a line: Markdown link targets and bare `http(s)://` tokens.
fn urls_in(line: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = line;
    while let Some(index) = rest.find("http") {
        let candidate = &rest[index..];
        if !(candidate.starts_with("http://") || candidate.starts_with("https://")) {
            rest = &rest[index + 4..];
            continue;
        }
        let end = candidate
            .find(|c: char| c.is_whitespace() || c == ')' || c == '>' || c == '<' || c == '"' || c == '|' || c == ']')
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';']);
        if !urls.iter().any(|known: &String| known == url) {
            urls.push(url.to_owned());
        }
        rest = &candidate[end..];
    }
    urls
}

fn references(scan: &Scan<'_>) -> Vec<String> {
    let mut references: Vec<String> = Vec::new();
    for (index, heading) in scan.headings.iter().enumerate() {
        let lower = heading.text.to_lowercase();
        let is_references = lower.contains("reference")
            || lower == "sources"
            || lower == "source"
            || lower.ends_with(" sources") && !lower.contains("data");
        if !is_references {
            continue;
        }
        for (line_index, line) in section_lines_deep(scan, index) {
            if scan.in_fence.get(line_index).copied().unwrap_or(false) {
                continue;
            }
            for url in urls_in(line.text) {
                if !references.contains(&url) {
                    references.push(url);
                }
            }
        }
    }
    references
}

/// Rows of "Utilized Data Sources" tables (FalconFriday), every cell kept by its header.
fn data_sources(scan: &Scan<'_>) -> Vec<DeclaredDataSource> {
    let mut sources = Vec::new();
    for (line, header, rows) in tables(scan) {
        let under_heading =
            heading_before(scan, line).is_some_and(|heading| heading.text.to_lowercase().contains("data source"));
        let lower: Vec<String> = header.iter().map(|cell| cell.to_lowercase()).collect();
        if !under_heading || !lower.iter().any(|cell| cell.contains("provider")) {
            continue;
        }
        let column = |predicate: &dyn Fn(&str) -> bool| lower.iter().position(|cell| predicate(cell));
        let provider = column(&|cell| cell.contains("provider"));
        let table = column(&|cell| cell.contains("table"));
        let event_id = column(&|cell| cell.contains("event id") || cell.contains("actiontype"));
        let event_name = column(&|cell| cell.contains("event name"));
        for row in rows {
            let cell = |index: Option<usize>| -> Option<String> {
                let value = row.get(index?)?.trim().to_owned();
                if value.is_empty() || value == "-" { None } else { Some(value) }
            };
            let mut declared = DeclaredDataSource {
                provider: cell(provider),
                table: cell(table),
                event: cell(event_id).or_else(|| if table.is_some() { cell(event_name) } else { None }),
                ..DeclaredDataSource::default()
            };
            // In the layout without a table column, the event-name column holds the table.
            if table.is_none()
                && let Some(name) = cell(event_name)
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                declared.table = Some(name);
            }
            for (index, name) in header.iter().enumerate() {
                declared.cells.insert(name.clone(), row.get(index).cloned().unwrap_or_default());
            }
            sources.push(declared);
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    fn rule(text: &str) -> detwiki_ir::Rule {
        match read(&input("Defender/x.md", text)) {
            Outcome::Rules(mut rules) => rules.remove(0),
            other => panic!("{other:?}"),
        }
    }

    /// A hand-written hunting write-up with SPL in every shape the reader accepts or refuses.
    const SPL_WRITE_UP: &str = "# Service installs\n\n## Tagged\n```Splunk\n`wineventlog_system` EventCode=7045 | stats count by ServiceName\n```\n\n## Lower case tag\n```spl\nindex=win sourcetype=XmlWinEventLog:System EventCode=7045\n```\n\n## Untagged raw search\n```\nindex=win EventCode=4688 | table host\n```\n\n## Untagged tstats\n```\n| tstats count from datamodel=Endpoint.Processes by Processes.dest\n```\n\n## PowerShell\n```powershell\nGet-Service\n```\n";

    #[test]
    fn spl_fences() {
        let auto = rule(SPL_WRITE_UP);
        let languages: Vec<(Option<&str>, Language)> =
            auto.queries.iter().map(|query| (query.name.as_deref(), query.language)).collect();
        // Without a declared language, the untagged `| tstats` block also looks like KQL and stays KQL.
        assert_eq!(
            languages,
            vec![
                (Some("Tagged"), Language::Spl),
                (Some("Lower case tag"), Language::Spl),
                (Some("Untagged raw search"), Language::Spl),
                (Some("Untagged tstats"), Language::Kql),
            ]
        );
        let mut declared = input("hunts/services.md", SPL_WRITE_UP);
        declared.languages = vec![Language::Spl];
        let Outcome::Rules(rules) = read(&declared) else { panic!("rules") };
        assert!(rules[0].queries.iter().all(|query| query.language == Language::Spl));
        assert_eq!(rules[0].queries.len(), 4);
        assert!(rules[0].diagnostics.iter().any(|diagnostic| diagnostic.code == "markdown-block-not-spl"));
        assert!(rules[0].queries[0].text.starts_with("`wineventlog_system`"));
        assert!(looks_like_spl("```comment```\n`sysmon` EventCode=1"));
        assert!(!looks_like_spl("DeviceProcessEvents\n| take 1"));
    }

    const HYBRID: &str = "# *Detect Msiexec*\n\n## Query Information\n\n#### MITRE ATT&CK Technique(s)\n\n| Technique ID | Title    | Link    |\n| ---  | --- | --- |\n| T1218.007 | System Binary Proxy Execution: Msiexec | https://attack.mitre.org/techniques/T1218/007/ |\n\n#### Description\nAdversaries use **Msiexec**.\n\n> [!WARNING]\n> Tune it.\n\n#### Author <Optional>\n- **Name:** Robbe Van den Daele\n- **Github:** https://github.com/x\n\n#### References\n- https://thecollective.eu/\n\n## Defender XDR\n```KQL\nDeviceNetworkEvents\n| where x\n```\n## Sentinel\n```KQL\nN/A\n```\n";

    #[test]
    fn hybrid_brothers_layout() {
        let rule = rule(HYBRID);
        assert_eq!(rule.metadata.title.as_deref(), Some("Detect Msiexec"));
        assert_eq!(rule.metadata.tags, vec!["T1218.007"]);
        assert_eq!(rule.metadata.authors, vec!["Robbe Van den Daele"]);
        assert_eq!(rule.metadata.references, vec!["https://thecollective.eu/"]);
        assert_eq!(
            rule.metadata.description.as_deref(),
            Some("Adversaries use **Msiexec**.\n\n> [!WARNING]\n> Tune it.")
        );
        assert_eq!(rule.queries.len(), 1);
        assert_eq!(rule.queries[0].name.as_deref(), Some("Defender XDR"));
        assert_eq!(rule.queries[0].text, "DeviceNetworkEvents\n| where x\n");
        assert!(rule.diagnostics.iter().any(|d| d.code == "markdown-block-not-kql"));
    }

    #[test]
    fn falcon_friday_tables() {
        let text = "# UnPAC\n\n## Metadata\n**ID:** 0xFF-0299-UnPAC_the_hash-Win\n\n**OS:** WindowsEndpoint\n\n## ATT&CK Tags\n\n| Tactic | Technique | Subtechnique | Technique Name |\n|---|---|---| --- |\n| TA0005 - Defense Evasion | T1550 | 003 | Pass the Ticket|\n\n## Utilized Data Sources\n\n| Log Provider | Table Name | Event ID | Event Name | ATT&CK Data Source | ATT&CK Data Component|\n|---------|---------|---------|----------|---------|---------|\n|SecurityEvents|SecurityEvent|4769||Active Directory|Active Directory Credential Request|\n---\n\n## Detection description\nLooks for TGS.\n\n## Detection\n```C#\nSecurityEvent\r\n| where EventID == 4769\r\n```\n";
        let rule = rule(text);
        assert_eq!(rule.metadata.tags, vec!["TA0005 - Defense Evasion", "T1550.003"]);
        assert_eq!(rule.metadata.rule_id.as_deref(), Some("0xFF-0299-UnPAC_the_hash-Win"));
        assert_eq!(rule.metadata.description.as_deref(), Some("Looks for TGS."));
        let source = &rule.metadata.data_sources[0];
        assert_eq!(source.provider.as_deref(), Some("SecurityEvents"));
        assert_eq!(source.table.as_deref(), Some("SecurityEvent"));
        assert_eq!(source.event.as_deref(), Some("4769"));
        assert_eq!(source.cells.len(), 6);
        assert_eq!(rule.queries[0].text, "SecurityEvent\n| where EventID == 4769\n");
        assert_eq!(rule.queries[0].source_map.first_unfaithful_segment(&rule.queries[0].text, text), None);
    }

    #[test]
    fn unclosed_fence_and_untagged_blocks() {
        let rule =
            rule("# T\n\nSome text.\n\n```powershell\nGet-Thing\n```\n\n```\nDeviceEvents\n| take 1\n\n```kql\n");
        // The last fence never closes (a fence with an info string cannot close a block).
        assert_eq!(rule.queries.len(), 1);
        assert_eq!(rule.queries[0].text, "DeviceEvents\n| take 1\n\n```kql\n");
        assert!(rule.diagnostics.iter().any(|d| d.code == "markdown-unclosed-fence"));
        assert_eq!(rule.metadata.description.as_deref(), Some("Some text."));
    }

    #[test]
    fn files_without_kql_are_skipped() {
        let outcome = read(&input("x.md", "# Notes\n\n```powershell\nGet-Thing\n```\n"));
        let Outcome::Skipped(reason) = outcome else { panic!() };
        assert!(reason.contains("powershell"), "{reason}");
    }

    #[test]
    fn m365_category_table() {
        let text = "# Bluekeep\n\nDetects RDP.\n\n## Query\n\n```Kusto\nDeviceNetworkEvents\n```\n\n## Category\n\n| Technique, tactic, or state | Covered? (v=yes) | Notes |\n|---|---|---|\n| Initial access | v |  |\n| Execution |  |  |\n\n## Contributor info\n\n**Contributor:** Microsoft Threat Protection team\n";
        let rule = rule(text);
        assert_eq!(rule.metadata.tags, vec!["Initial access"]);
        assert_eq!(rule.metadata.authors, vec!["Microsoft Threat Protection team"]);
        assert_eq!(rule.metadata.description.as_deref(), Some("Detects RDP."));
        assert_eq!(rule.queries[0].name.as_deref(), Some("Query"));
    }

    #[test]
    fn description_under_the_query_heading() {
        let text =
            "# Title\n\n## Query\n\nFinds logons from other countries.\n\n```\nDeviceLogonEvents\n| take 1\n```\n";
        let rule = rule(text);
        assert_eq!(rule.metadata.description.as_deref(), Some("Finds logons from other countries."));
        let without = self::rule("# Title\n\n## Query\n\n```\nDeviceLogonEvents\n```\n");
        assert_eq!(without.metadata.description, None);
    }
}
