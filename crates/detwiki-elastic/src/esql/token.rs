//! Tokens: a kind and a byte range. Values (names, strings, numbers) are sliced from the source
//! on demand; keywords are identifiers compared case-insensitively by the parser, because ES|QL
//! keywords are not reserved in every position (`first` is a function name and a `SORT` word).

use detwiki_ir::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `process.name` is three tokens: `process`, `.`, `name`. Includes `@timestamp`, `_id`.
    Identifier,
    /// `` `weird name` `` (a doubled backquote stands for one).
    QuotedIdentifier,
    /// `"..."` with escapes `\t \n \r \" \\`.
    String,
    /// `"""..."""`, no escapes.
    TripleString,
    Integer,
    Decimal,
    /// `?`, `?name`, `?1`, `??name`.
    Parameter,
    /// An index pattern, an enrich policy or a `KEEP`/`DROP` name pattern, lexed only where the
    /// parser asks for one (the lexer modes of Elastic's grammar).
    Pattern,
    Pipe,
    Comma,
    Dot,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    LeftBrace,
    RightBrace,
    Assign,
    Equal,
    /// `=~`, the case-insensitive equality.
    InsensitiveEqual,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `::`, the cast operator.
    Cast,
    /// `:`, the full-text match operator.
    Colon,
    /// A character no token starts with.
    Unknown,
    /// A `"` string not closed on its line, or one with an escape ES|QL does not define.
    BadString,
    Eof,
}

/// A token: `start <= end`, both byte offsets into the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}
