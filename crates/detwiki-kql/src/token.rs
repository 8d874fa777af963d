//! Tokens: a small `Copy` kind plus a byte range; the text is sliced from the source on demand.
//!
//! KQL keywords are contextual (`where`, `has`, `by` are also valid column names in some places),
//! so every word is an [`TokenKind::Ident`] and the parser decides what it means from its
//! position.

use detwiki_ir::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word: `where`, `DeviceEvents`, `has_any`, `$left`.
    Ident,
    /// An integer (decimal or `0x` hexadecimal).
    Int,
    /// A real number: `1.5`, `2e10`.
    Real,
    /// A number with a time unit: `1h`, `7d`, `1.5min`, `100ms`.
    Timespan,
    /// A string literal in any quoting (`"..."`, `'...'`, `@"..."`, `h'...'`, triple backticks).
    String,
    /// A string literal that is not closed on its line (or a triple-backtick block never closed).
    UnterminatedString,
    Pipe,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    LeftBrace,
    RightBrace,
    Comma,
    Semicolon,
    Colon,
    Dot,
    DotDot,
    Assign,
    EqualEqual,
    EqualTilde,
    FatArrow,
    BangEqual,
    BangTilde,
    Bang,
    Less,
    LessEqual,
    LessGreater,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Arrow,
    DashDash,
    DashDashArrow,
    Star,
    Slash,
    Percent,
    Tilde,
    Question,
    At,
    /// A character KQL does not use outside strings (`\`, `#`, `^`...).
    Unknown,
    /// A number glued to letters that are not a time unit (`1abc`).
    BadNumber,
    Eof,
}

impl TokenKind {
    /// How the token is named in diagnostics ("expected `)`, found ...").
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "a name",
            TokenKind::Int | TokenKind::Real => "a number",
            TokenKind::Timespan => "a timespan",
            TokenKind::String => "a string",
            TokenKind::UnterminatedString => "an unterminated string",
            TokenKind::Pipe => "`|`",
            TokenKind::LeftParen => "`(`",
            TokenKind::RightParen => "`)`",
            TokenKind::LeftBracket => "`[`",
            TokenKind::RightBracket => "`]`",
            TokenKind::LeftBrace => "`{`",
            TokenKind::RightBrace => "`}`",
            TokenKind::Comma => "`,`",
            TokenKind::Semicolon => "`;`",
            TokenKind::Colon => "`:`",
            TokenKind::Dot => "`.`",
            TokenKind::DotDot => "`..`",
            TokenKind::Assign => "`=`",
            TokenKind::EqualEqual => "`==`",
            TokenKind::EqualTilde => "`=~`",
            TokenKind::FatArrow => "`=>`",
            TokenKind::BangEqual => "`!=`",
            TokenKind::BangTilde => "`!~`",
            TokenKind::Bang => "`!`",
            TokenKind::Less => "`<`",
            TokenKind::LessEqual => "`<=`",
            TokenKind::LessGreater => "`<>`",
            TokenKind::Greater => "`>`",
            TokenKind::GreaterEqual => "`>=`",
            TokenKind::Plus => "`+`",
            TokenKind::Minus => "`-`",
            TokenKind::Arrow => "`->`",
            TokenKind::DashDash => "`--`",
            TokenKind::DashDashArrow => "`-->`",
            TokenKind::Star => "`*`",
            TokenKind::Slash => "`/`",
            TokenKind::Percent => "`%`",
            TokenKind::Tilde => "`~`",
            TokenKind::Question => "`?`",
            TokenKind::At => "`@`",
            TokenKind::Unknown => "an unexpected character",
            TokenKind::BadNumber => "a malformed number",
            TokenKind::Eof => "end of input",
        }
    }
}

/// One token. `span` is a byte range into the text given to the lexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}
