//! Tokens: a small `Copy` kind plus a byte range; the text is sliced from the source on demand.
//!
//! YARA-L keywords (`rule`, `and`, `nocase`, `over`, section names) are case-insensitive and
//! several of them are also valid UDM path segments (`$e.metadata.event_type`, `$e.match`), so
//! every word is an [`TokenKind::Ident`] and the parser decides what it means from its position.

use detwiki_ir::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word: `rule`, `and`, `principal`, `re`, `max`.
    Ident,
    /// `$name`: an event or placeholder variable, or an outcome variable.
    Variable,
    /// `#name`: the number of events (or values) a variable matched, in conditions and outcomes.
    EventCount,
    /// `%name`: a reference list.
    ReferenceList,
    /// `"..."` with backslash escapes.
    String,
    /// `` `...` ``: a raw string, no escapes.
    RawString,
    /// `/.../`: a regular expression literal (where an operand is expected).
    Regex,
    /// An integer or a decimal number.
    Number,
    /// A number with a time unit: `5m`, `1h`, `30s`, `2d`.
    Duration,
    /// A string, raw string or regex literal not closed before the end of the line (of the text
    /// for raw strings).
    Unterminated,
    LeftBrace,
    RightBrace,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
    Colon,
    Equal,
    BangEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Star,
    Slash,
    Bang,
    /// A character YARA-L does not use outside strings.
    Unknown,
    Eof,
}

impl TokenKind {
    /// How the token is named in diagnostics ("expected `)`, found ...").
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "a name",
            TokenKind::Variable => "a variable",
            TokenKind::EventCount => "an event count",
            TokenKind::ReferenceList => "a reference list",
            TokenKind::String | TokenKind::RawString => "a string",
            TokenKind::Regex => "a regular expression",
            TokenKind::Number => "a number",
            TokenKind::Duration => "a duration",
            TokenKind::Unterminated => "an unterminated literal",
            TokenKind::LeftBrace => "`{`",
            TokenKind::RightBrace => "`}`",
            TokenKind::LeftParen => "`(`",
            TokenKind::RightParen => "`)`",
            TokenKind::LeftBracket => "`[`",
            TokenKind::RightBracket => "`]`",
            TokenKind::Comma => "`,`",
            TokenKind::Dot => "`.`",
            TokenKind::Colon => "`:`",
            TokenKind::Equal => "`=`",
            TokenKind::BangEqual => "`!=`",
            TokenKind::Less => "`<`",
            TokenKind::LessEqual => "`<=`",
            TokenKind::Greater => "`>`",
            TokenKind::GreaterEqual => "`>=`",
            TokenKind::Plus => "`+`",
            TokenKind::Minus => "`-`",
            TokenKind::Star => "`*`",
            TokenKind::Slash => "`/`",
            TokenKind::Bang => "`!`",
            TokenKind::Unknown => "an unexpected character",
            TokenKind::Eof => "end of input",
        }
    }

    /// Tokens after which a `/` divides rather than opens a regular expression.
    pub fn ends_operand(self) -> bool {
        matches!(
            self,
            TokenKind::Ident
                | TokenKind::Variable
                | TokenKind::EventCount
                | TokenKind::ReferenceList
                | TokenKind::String
                | TokenKind::RawString
                | TokenKind::Regex
                | TokenKind::Number
                | TokenKind::Duration
                | TokenKind::RightParen
                | TokenKind::RightBracket
        )
    }
}

/// One token: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}
