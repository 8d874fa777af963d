//! A recursive-descent parser: one function per command (`commands.rs`), a Pratt parser for
//! expressions (`expression.rs`), token handling and recovery here.
//!
//! Parsing never fails: it returns a complete [`Query`] plus diagnostics. Missing pieces become
//! [`ExprKind::Missing`](super::ast::ExprKind::Missing) with an empty range; recursion is bounded
//! by [`MAX_DEPTH`] so deep nesting gives a diagnostic rather than a stack overflow. After an
//! error inside a command, the parser skips to the next top-level `|`, so one mistake gives one
//! diagnostic and the following commands are still read.

mod commands;
mod expression;

use detwiki_ir::{Diagnostic, Span};

use super::ast::{Name, Query};
use super::diagnostics;
use super::lexer::{PatternKind, decode_string, next_token, pattern_token, unquote_identifier};
use super::token::{Token, TokenKind};

/// Deepest nesting of expressions and `FORK` branches accepted before the rest is skipped.
pub const MAX_DEPTH: u32 = 200;

/// The result of parsing: always a tree, plus every syntax diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub query: Query,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses the query starting at byte `start` of `text` (after a stray first line); spans are
/// offsets into the whole `text`.
pub(crate) fn parse_from(text: &str, start: usize) -> Parsed {
    let start = if text.is_char_boundary(start) { start.min(text.len()) } else { 0 };
    let mut parser = Parser {
        text,
        current: next_token(text, start),
        previous_end: start as u32,
        diagnostics: Vec::new(),
        last_error_offset: None,
        depth: 0,
    };
    let query = parser.parse_query(false);
    Parsed { query, diagnostics: parser.diagnostics }
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    current: Token,
    /// End of the last consumed token: where a missing piece is placed.
    previous_end: u32,
    diagnostics: Vec<Diagnostic>,
    /// Offset of the last error, so one place never gets two errors.
    last_error_offset: Option<u32>,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn slice(&self, span: Span) -> &'a str {
        span.slice(self.text).unwrap_or("")
    }

    fn current_text(&self) -> &'a str {
        self.slice(self.current.span)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.current.kind == kind
    }

    /// True when the current token is the identifier `keyword` (any case).
    fn at_keyword(&self, keyword: &str) -> bool {
        self.current.kind == TokenKind::Identifier && self.current_text().eq_ignore_ascii_case(keyword)
    }

    /// The token after the current one, in expression mode.
    fn peek(&self) -> Token {
        next_token(self.text, self.current.span.end as usize)
    }

    fn bump(&mut self) -> Token {
        let token = self.current;
        if token.kind != TokenKind::Eof {
            self.previous_end = token.span.end;
            self.current = next_token(self.text, token.span.end as usize);
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Re-reads the current token as a pattern (the lexer modes of Elastic's grammar).
    fn relex_pattern(&mut self, kind: PatternKind) {
        self.current = pattern_token(self.text, self.current.span.start as usize, kind);
    }

    /// How the current token is named in messages.
    fn found(&self) -> String {
        match self.current.kind {
            TokenKind::Eof => "end of query".to_owned(),
            _ => {
                let text: String = self.current_text().chars().take(40).collect();
                format!("`{text}`")
            }
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        if self.last_error_offset == Some(diagnostic.span.start) {
            return;
        }
        self.last_error_offset = Some(diagnostic.span.start);
        self.diagnostics.push(diagnostic);
    }

    fn error_expected(&mut self, what: &str) {
        let diagnostic = diagnostics::expected(what, &self.found(), self.current.span);
        self.error(diagnostic);
    }

    /// Reports a lexer problem at the current token, if it is one, and consumes it.
    fn report_bad_token(&mut self) -> bool {
        match self.current.kind {
            TokenKind::BadString => {
                let diagnostic = diagnostics::bad_string(self.current.span);
                self.error(diagnostic);
            }
            TokenKind::Unknown => {
                let diagnostic = diagnostics::unexpected_character(self.current_text(), self.current.span);
                self.error(diagnostic);
            }
            _ => return false,
        }
        self.bump();
        true
    }

    /// Skips to the next `|` outside parentheses, or to the `)` that closes the enclosing
    /// `FORK` branch when `nested`, or to the end. Reports lexer problems on the way, since they
    /// make the query invalid whatever the parser thought of the command.
    fn skip_to_command_end(&mut self, nested: bool) {
        let mut depth = 0u32;
        loop {
            match self.current.kind {
                TokenKind::Eof => return,
                TokenKind::Pipe if depth == 0 => return,
                TokenKind::RightParen if depth == 0 && nested => return,
                TokenKind::LeftParen | TokenKind::LeftBracket | TokenKind::LeftBrace => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket | TokenKind::RightBrace => {
                    depth = depth.saturating_sub(1)
                }
                TokenKind::BadString | TokenKind::Unknown => {
                    self.report_bad_token();
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// A possibly qualified column name: `a`, `process.name`, `` `a b`.c ``, `?param`.
    fn qualified_name(&mut self, what: &str) -> Option<Name> {
        if !matches!(self.current.kind, TokenKind::Identifier | TokenKind::QuotedIdentifier | TokenKind::Parameter) {
            self.error_expected(what);
            return None;
        }
        let first = self.bump();
        let mut text = self.name_part(first);
        let mut span = first.span;
        while self.at(TokenKind::Dot)
            && matches!(self.peek().kind, TokenKind::Identifier | TokenKind::QuotedIdentifier | TokenKind::Parameter)
        {
            self.bump();
            let part = self.bump();
            text.push('.');
            text.push_str(&self.name_part(part));
            span = span.cover(part.span);
        }
        Some(Name { text, span })
    }

    fn name_part(&self, token: Token) -> String {
        let raw = self.slice(token.span);
        match token.kind {
            TokenKind::QuotedIdentifier => unquote_identifier(raw),
            _ => raw.to_owned(),
        }
    }

    /// A pattern token (index, policy, or name pattern) or a quoted string standing for one.
    fn pattern(&mut self, kind: PatternKind, what: &str) -> Option<Name> {
        self.relex_pattern(kind);
        match self.current.kind {
            TokenKind::Pattern => {
                let token = self.bump();
                let raw = self.slice(token.span);
                let text = if raw.contains('`') { unquote_pattern(raw) } else { raw.to_owned() };
                Some(Name { text, span: token.span })
            }
            TokenKind::String | TokenKind::TripleString if kind == PatternKind::Source => {
                let token = self.bump();
                Some(Name { text: decode_string(self.slice(token.span)), span: token.span })
            }
            _ => {
                if !self.report_bad_token() {
                    self.error_expected(what);
                }
                None
            }
        }
    }

    /// A comma-separated list of patterns.
    fn patterns(&mut self, kind: PatternKind, what: &str) -> Vec<Name> {
        let mut names = Vec::new();
        loop {
            match self.pattern(kind, what) {
                Some(name) => names.push(name),
                None => return names,
            }
            if !self.eat(TokenKind::Comma) {
                return names;
            }
        }
    }
}

/// `` `a b`.c* `` to `a b.c*`.
fn unquote_pattern(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('`') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let mut close = None;
        let bytes = after.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'`' {
                if bytes.get(index + 1) == Some(&b'`') {
                    index += 2;
                    continue;
                }
                close = Some(index);
                break;
            }
            index += 1;
        }
        let close = close.unwrap_or(after.len());
        text.push_str(&after[..close].replace("``", "`"));
        rest = after.get(close + 1..).unwrap_or("");
    }
    text.push_str(rest);
    text
}
