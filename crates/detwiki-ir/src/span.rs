//! Byte ranges and the line index that turns them into line:column when rendering.

use serde::{Deserialize, Serialize};

/// A half-open byte range `start..end` into one text (a file or a decoded query).
///
/// **Invariant:** `start <= end`. Every constructor keeps it; `&text[span]` works whenever the span
/// came from that text and falls on character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Builds a span, swapping the bounds if they come reversed so the invariant always holds.
    pub fn new(start: u32, end: u32) -> Self {
        if start <= end { Self { start, end } } else { Self { start: end, end: start } }
    }

    /// An empty span at `offset`, used for missing pieces of a tree.
    pub fn empty(offset: u32) -> Self {
        Self { start: offset, end: offset }
    }

    /// Builds a span from `usize` offsets, saturating at `u32::MAX` (texts over 4 GiB are not rules).
    pub fn from_usize(start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self::new(clamp(start), clamp(end))
    }

    pub fn len(self) -> u32 {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span that covers both.
    pub fn cover(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Moves both bounds by `delta` bytes (used when a sub-text starts inside a larger one).
    pub fn shift(self, delta: u32) -> Span {
        Span { start: self.start.saturating_add(delta), end: self.end.saturating_add(delta) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The text under this span, or `None` when it is out of bounds or not on character boundaries.
    pub fn slice(self, text: &str) -> Option<&str> {
        text.get(self.range())
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(range: std::ops::Range<usize>) -> Self {
        Span::from_usize(range.start, range.end)
    }
}

/// A 1-based line and column; the column counts Unicode scalar values, as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for LineColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Start offsets of every line of a text, so offsets become line:column in `O(log n)`.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        for (index, byte) in text.bytes().enumerate() {
            if byte == b'\n' {
                line_starts.push(u32::try_from(index + 1).unwrap_or(u32::MAX));
            }
        }
        Self { line_starts, len: u32::try_from(text.len()).unwrap_or(u32::MAX) }
    }

    /// Line and column of `offset` in `text` (the text this index was built from). Offsets past
    /// the end are clamped to the end; offsets inside a character count that character.
    pub fn line_column(&self, text: &str, offset: u32) -> LineColumn {
        let offset = offset.min(self.len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let line_start = self.line_starts[line] as usize;
        let column = text
            .get(line_start..)
            .map(|rest| rest.char_indices().take_while(|(index, _)| line_start + index < offset as usize).count())
            .unwrap_or(0);
        LineColumn { line: line as u32 + 1, column: column as u32 + 1 }
    }

    /// The 1-based line on which `offset` falls.
    pub fn line(&self, offset: u32) -> u32 {
        let offset = offset.min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line as u32 + 1,
            Err(next) => next as u32,
        }
    }
}

/// Byte offsets of character indexes, for tools that count characters (saphyr's YAML markers).
#[derive(Debug, Clone)]
pub struct CharOffsets {
    /// Byte offset of every character, plus the text length; empty when the text is ASCII.
    offsets: Vec<u32>,
    len: u32,
}

impl CharOffsets {
    pub fn new(text: &str) -> Self {
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        if text.is_ascii() {
            return Self { offsets: Vec::new(), len };
        }
        let mut offsets: Vec<u32> =
            text.char_indices().map(|(index, _)| u32::try_from(index).unwrap_or(u32::MAX)).collect();
        offsets.push(len);
        Self { offsets, len }
    }

    /// Byte offset of the character at `char_index`; indexes past the end give the text length.
    pub fn byte(&self, char_index: usize) -> u32 {
        if self.offsets.is_empty() {
            return u32::try_from(char_index).unwrap_or(u32::MAX).min(self.len);
        }
        self.offsets.get(char_index).copied().unwrap_or(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_columns_count_characters() {
        let text = "ab\ncé d\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(text, 0), LineColumn { line: 1, column: 1 });
        assert_eq!(index.line_column(text, 3), LineColumn { line: 2, column: 1 });
        // "é" is two bytes: the space after it is column 3.
        assert_eq!(index.line_column(text, 6), LineColumn { line: 2, column: 3 });
        assert_eq!(index.line_column(text, 999), LineColumn { line: 3, column: 1 });
    }

    #[test]
    fn character_indexes_become_byte_offsets() {
        let offsets = CharOffsets::new("aé b");
        assert_eq!((offsets.byte(1), offsets.byte(2), offsets.byte(4), offsets.byte(99)), (1, 3, 5, 5));
        assert_eq!(CharOffsets::new("abc").byte(7), 3);
    }

    #[test]
    fn reversed_bounds_are_swapped() {
        assert_eq!(Span::new(5, 2), Span { start: 2, end: 5 });
        assert_eq!(Span::new(1, 3).cover(Span::new(7, 9)), Span::new(1, 9));
    }
}
