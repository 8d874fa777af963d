//! Maps byte offsets of a decoded query back to byte offsets of the file it came from.
//!
//! A query is often not a verbatim slice of its file: a YAML block scalar strips indentation, a
//! folded or quoted scalar rewrites line breaks and escapes, a Markdown fence sits inside other
//! text. Readers build a [`SourceMap`] while decoding; parsers work on the decoded text; every
//! range shown to users goes back through the map.

use serde::{Deserialize, Serialize};

use crate::Span;

/// One run of decoded bytes that were copied verbatim from the file.
///
/// Decoded bytes `query_start..query_start + len` are file bytes `file_start..file_start + len`.
/// Bytes between segments were produced by decoding (an escape, a folded line break) and map to
/// the file position of the next segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub query_start: u32,
    pub file_start: u32,
    pub len: u32,
}

/// Segments in increasing `query_start` order, not overlapping.
///
/// **Invariant:** segments are sorted by `query_start` and by `file_start`, and do not overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMap {
    segments: Vec<Segment>,
    /// File offset of the end of the decoded text (where an offset equal to its length maps).
    file_end: u32,
}

impl SourceMap {
    /// A map for a query that is the verbatim slice `file_start..file_start + len` of its file.
    pub fn verbatim(file_start: u32, len: u32) -> Self {
        Self { segments: vec![Segment { query_start: 0, file_start, len }], file_end: file_start + len }
    }

    /// Starts an empty map; push segments in order with [`SourceMap::push`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a verbatim run. Runs that continue the previous one in both texts are merged.
    pub fn push(&mut self, query_start: u32, file_start: u32, len: u32) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.segments.last_mut()
            && last.query_start + last.len == query_start
            && last.file_start + last.len == file_start
        {
            last.len += len;
        } else {
            self.segments.push(Segment { query_start, file_start, len });
        }
        self.file_end = self.file_end.max(file_start + len);
    }

    /// Sets the file offset that the end of the decoded text maps to (for example the end of a
    /// block scalar, past its last line break).
    pub fn set_file_end(&mut self, file_end: u32) {
        self.file_end = file_end;
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// File offset of decoded offset `offset`. Offsets inside a verbatim run map exactly;
    /// decoded-only bytes map to the start of the next run (or the end of the text).
    pub fn to_file(&self, offset: u32) -> u32 {
        let index = self.segments.partition_point(|segment| segment.query_start <= offset);
        if index > 0 {
            let segment = self.segments[index - 1];
            if offset < segment.query_start + segment.len {
                return segment.file_start + (offset - segment.query_start);
            }
        }
        match self.segments.get(index) {
            Some(next) => next.file_start,
            None => self.file_end,
        }
    }

    /// The first segment whose decoded text is not the same text of `file` (or that falls
    /// outside either text, or not on character boundaries); `None` when every verbatim run
    /// really is verbatim. Readers test their maps with it.
    pub fn first_unfaithful_segment(&self, decoded: &str, file: &str) -> Option<Segment> {
        self.segments.iter().copied().find(|segment| {
            let run = |start: u32| start as usize..(start as usize + segment.len as usize);
            let decoded = decoded.get(run(segment.query_start));
            decoded.is_none() || decoded != file.get(run(segment.file_start))
        })
    }

    /// File span of a decoded span. An end offset maps through the byte before it, so a span
    /// that ends a line does not swallow the next line's indentation.
    pub fn span_to_file(&self, span: Span) -> Span {
        let start = self.to_file(span.start);
        let end = if span.end > span.start { self.to_file(span.end - 1) + 1 } else { start };
        Span::new(start, end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_scalar_lines_map_back() {
        // File: "query: |\n  a | b\n  c\n"; decoded: "a | b\nc\n".
        let mut map = SourceMap::new();
        map.push(0, 11, 6); // "a | b\n"
        map.push(6, 19, 2); // "c\n"
        assert_eq!(map.to_file(0), 11);
        assert_eq!(map.to_file(6), 19);
        assert_eq!(map.span_to_file(Span::new(0, 5)), Span::new(11, 16));
        assert_eq!(map.span_to_file(Span::new(4, 7)), Span::new(15, 20));
    }

    #[test]
    fn decoded_only_bytes_map_to_next_run() {
        // File: "'it''s'": decoded "it's", the quote pair is one decoded byte.
        let mut map = SourceMap::new();
        map.push(0, 1, 2);
        map.push(3, 5, 1);
        map.set_file_end(6);
        assert_eq!(map.to_file(2), 5);
        assert_eq!(map.to_file(4), 6);
    }

    #[test]
    fn unfaithful_segments_are_found() {
        let file = "query: |\n  a | b\n";
        let mut map = SourceMap::new();
        map.push(0, 11, 6);
        assert_eq!(map.first_unfaithful_segment("a | b\n", file), None);
        assert!(map.first_unfaithful_segment("a | c\n", file).is_some());
        assert!(map.first_unfaithful_segment("a", file).is_some(), "outside the decoded text");
        let mut split = SourceMap::new();
        split.push(0, 1, 1);
        assert!(split.first_unfaithful_segment("é", "xé").is_some(), "inside a character");
    }

    #[test]
    fn adjacent_runs_merge() {
        let mut map = SourceMap::new();
        map.push(0, 10, 3);
        map.push(3, 13, 2);
        assert_eq!(map.segments().len(), 1);
    }
}
