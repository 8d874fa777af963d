//! Tokens: a small `Copy` kind plus a byte range; the text is sliced from the source on demand.
//!
//! EQL keywords (`where`, `and`, `sequence`, ...) are reserved, but `maxspan`, `runs`, `as` and the
//! event categories are ordinary names, so every word is a [`TokenKind::Name`] and the parser
//! decides what it means from its position (see [`is_keyword`]).

use detwiki_ir::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word: `process`, `where`, `startsWith`, `in`.
    Name,
    /// A word followed directly by `~`: `in~`, `like~`, `regex~`, `startsWith~`.
    NameTilde,
    /// A backquoted name: `` `my field` ``.
    QuotedName,
    /// An unsigned integer.
    Integer,
    /// A decimal number: `1.5`, `.5`, `2e10`.
    Decimal,
    /// `"..."` with backslash escapes.
    String,
    /// `"""..."""`, raw (no escapes), on one line.
    TripleString,
    /// `'...'`: valid EQL once, rejected by Elasticsearch.
    SingleQuotedString,
    /// `?"..."` or `?'...'`: raw strings of the old EQL syntax, rejected by Elasticsearch.
    RawString,
    /// A string literal not closed on its line.
    UnterminatedString,
    LeftBracket,
    /// `![`, which opens a missing-event step.
    BangBracket,
    RightBracket,
    LeftParen,
    RightParen,
    Comma,
    Dot,
    Pipe,
    EqualEqual,
    /// A single `=`: only valid in `maxspan=` and `runs=`.
    Equal,
    BangEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Question,
    Dollar,
    /// A `/* ...` comment never closed.
    UnterminatedComment,
    /// A character EQL does not use outside strings.
    Unknown,
    EndOfInput,
}

/// One token of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// The reserved words of EQL: a bare field may not be called this (eql's `keywords` list).
pub fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "by"
            | "const"
            | "false"
            | "in"
            | "join"
            | "macro"
            | "not"
            | "null"
            | "of"
            | "or"
            | "sample"
            | "sequence"
            | "true"
            | "until"
            | "with"
            | "where"
    )
}
