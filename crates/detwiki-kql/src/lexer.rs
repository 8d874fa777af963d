//! A hand-written lexer: one pass over the bytes, never fails, every byte belongs to a token or
//! to trivia (white space, comments).
//!
//! Hand-written rather than generated because KQL's literals are context-heavy: a number glued
//! to a unit is a timespan (`7d`), `@"..."` doubles its quotes instead of escaping, `h"..."` hides
//! a string from logs, and triple backticks open a multi-line string.

use detwiki_ir::Span;

use crate::token::{Token, TokenKind};

/// Units a number may carry to form a timespan literal.
const TIMESPAN_UNITS: &[&str] = &[
    "d",
    "day",
    "days",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "m",
    "min",
    "minute",
    "minutes",
    "s",
    "sec",
    "second",
    "seconds",
    "ms",
    "milli",
    "millis",
    "millisec",
    "millisecond",
    "milliseconds",
    "micro",
    "micros",
    "microsec",
    "microsecond",
    "microseconds",
    "nano",
    "nanos",
    "nanosec",
    "nanosecond",
    "nanoseconds",
    "tick",
    "ticks",
];

/// White space as Kusto sees it: Unicode white space plus the zero-width and no-break spaces
/// that pasted queries carry (U+200B, U+00A0, U+202F, U+FEFF).
pub fn is_whitespace(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}' | '\u{00A0}' | '\u{202F}')
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `text` into tokens, ending with one [`TokenKind::Eof`].
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut lexer = Lexer { text, bytes: text.as_bytes(), position: 0, tokens: Vec::with_capacity(text.len() / 4 + 1) };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn byte(&self, offset: usize) -> u8 {
        self.bytes.get(self.position + offset).copied().unwrap_or(0)
    }

    fn char_at(&self, position: usize) -> Option<char> {
        self.text.get(position..).and_then(|rest| rest.chars().next())
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token { kind, span: Span::from_usize(start, self.position) });
    }

    fn run(&mut self) {
        while self.position < self.bytes.len() {
            let start = self.position;
            let Some(c) = self.char_at(start) else { break };
            if is_whitespace(c) {
                self.position += c.len_utf8();
                continue;
            }
            if c == '/' && self.byte(1) == b'/' {
                self.skip_line();
                continue;
            }
            // A line starting with `#` is a client directive (`#connect`), not part of the query.
            if c == '#' && self.at_line_start(start) {
                self.skip_line();
                continue;
            }
            self.lex_token(c, start);
            debug_assert!(self.position > start, "the lexer must advance");
            if self.position <= start {
                self.position = start + c.len_utf8();
            }
        }
        let end = self.bytes.len();
        self.tokens.push(Token { kind: TokenKind::Eof, span: Span::from_usize(end, end) });
    }

    fn at_line_start(&self, position: usize) -> bool {
        self.text[..position].chars().rev().take_while(|c| *c != '\n').all(is_whitespace)
    }

    fn skip_line(&mut self) {
        while self.position < self.bytes.len() && self.bytes[self.position] != b'\n' {
            self.position += 1;
        }
    }

    fn lex_token(&mut self, c: char, start: usize) {
        // Prefixed strings: h"..", H'..', @"..", h@'..'.
        if (c == 'h' || c == 'H') && matches!(self.byte(1), b'"' | b'\'') {
            self.position += 1;
            self.lex_quoted(start, false);
            return;
        }
        if (c == 'h' || c == 'H') && self.byte(1) == b'@' && matches!(self.byte(2), b'"' | b'\'') {
            self.position += 2;
            self.lex_quoted(start, true);
            return;
        }
        if c == '@' && matches!(self.byte(1), b'"' | b'\'') {
            self.position += 1;
            self.lex_quoted(start, true);
            return;
        }
        if is_ident_start(c) {
            self.position += c.len_utf8();
            while let Some(next) = self.char_at(self.position) {
                if !is_ident_continue(next) {
                    break;
                }
                self.position += next.len_utf8();
            }
            self.push(TokenKind::Ident, start);
            return;
        }
        if c.is_ascii_digit() || (c == '.' && self.byte(1).is_ascii_digit()) {
            self.lex_number(start);
            return;
        }
        match c {
            '"' | '\'' => self.lex_quoted(start, false),
            '`' if self.byte(1) == b'`' && self.byte(2) == b'`' => self.lex_backticks(start),
            _ => self.lex_punctuation(c, start),
        }
    }

    fn lex_number(&mut self, start: usize) {
        let mut kind = TokenKind::Int;
        if self.byte(0) == b'0' && matches!(self.byte(1), b'x' | b'X') && self.byte(2).is_ascii_hexdigit() {
            self.position += 2;
            while self.byte(0).is_ascii_hexdigit() {
                self.position += 1;
            }
            self.push(kind, start);
            return;
        }
        while self.byte(0).is_ascii_digit() {
            self.position += 1;
        }
        if self.byte(0) == b'.' && self.byte(1) != b'.' {
            kind = TokenKind::Real;
            self.position += 1;
            while self.byte(0).is_ascii_digit() {
                self.position += 1;
            }
        }
        if matches!(self.byte(0), b'e' | b'E')
            && (self.byte(1).is_ascii_digit() || (matches!(self.byte(1), b'+' | b'-') && self.byte(2).is_ascii_digit()))
        {
            kind = TokenKind::Real;
            self.position += 2;
            while self.byte(0).is_ascii_digit() {
                self.position += 1;
            }
        }
        let suffix_start = self.position;
        while self.byte(0).is_ascii_alphanumeric() || self.byte(0) == b'_' {
            self.position += 1;
        }
        if self.position > suffix_start {
            let suffix = &self.text[suffix_start..self.position];
            // Kusto reads digits glued to other letters as a name (`2022MostExploited`).
            kind = if TIMESPAN_UNITS.iter().any(|unit| unit.eq_ignore_ascii_case(suffix)) {
                TokenKind::Timespan
            } else if kind == TokenKind::Int && suffix.bytes().any(|byte| byte.is_ascii_alphabetic()) {
                TokenKind::Ident
            } else {
                TokenKind::BadNumber
            };
        }
        self.push(kind, start);
    }

    /// A quoted string whose opening quote is at `self.position`. Verbatim strings (`@`) have no
    /// escapes and double the quote to include it; regular strings escape with a backslash and
    /// end at the line end.
    fn lex_quoted(&mut self, start: usize, verbatim: bool) {
        let quote = self.byte(0);
        self.position += 1;
        loop {
            let byte = self.byte(0);
            if self.position >= self.bytes.len() || byte == b'\n' {
                self.push(TokenKind::UnterminatedString, start);
                return;
            }
            if verbatim {
                if byte == quote {
                    if self.byte(1) == quote {
                        self.position += 2;
                        continue;
                    }
                    self.position += 1;
                    break;
                }
                self.position += 1;
            } else if byte == b'\\' {
                self.position += 1;
                if self.position < self.bytes.len() && self.byte(0) != b'\n' {
                    self.position += self.char_at(self.position).map_or(1, char::len_utf8);
                }
            } else if byte == quote {
                self.position += 1;
                break;
            } else {
                self.position += self.char_at(self.position).map_or(1, char::len_utf8);
            }
        }
        self.push(TokenKind::String, start);
    }

    fn lex_backticks(&mut self, start: usize) {
        self.position += 3;
        match self.text.get(self.position..).and_then(|rest| rest.find("```")) {
            Some(found) => {
                self.position += found + 3;
                self.push(TokenKind::String, start);
            }
            None => {
                self.position = self.bytes.len();
                self.push(TokenKind::UnterminatedString, start);
            }
        }
    }

    fn lex_punctuation(&mut self, c: char, start: usize) {
        let next = self.byte(1);
        let (kind, length) = match c {
            '|' => (TokenKind::Pipe, 1),
            '(' => (TokenKind::LeftParen, 1),
            ')' => (TokenKind::RightParen, 1),
            '[' => (TokenKind::LeftBracket, 1),
            ']' => (TokenKind::RightBracket, 1),
            '{' => (TokenKind::LeftBrace, 1),
            '}' => (TokenKind::RightBrace, 1),
            ',' => (TokenKind::Comma, 1),
            ';' => (TokenKind::Semicolon, 1),
            ':' => (TokenKind::Colon, 1),
            '.' if next == b'.' => (TokenKind::DotDot, 2),
            '.' => (TokenKind::Dot, 1),
            '=' if next == b'=' => (TokenKind::EqualEqual, 2),
            '=' if next == b'~' => (TokenKind::EqualTilde, 2),
            '=' if next == b'>' => (TokenKind::FatArrow, 2),
            '=' => (TokenKind::Assign, 1),
            '!' if next == b'=' => (TokenKind::BangEqual, 2),
            '!' if next == b'~' => (TokenKind::BangTilde, 2),
            '!' => (TokenKind::Bang, 1),
            '<' if next == b'=' => (TokenKind::LessEqual, 2),
            '<' if next == b'>' => (TokenKind::LessGreater, 2),
            '<' => (TokenKind::Less, 1),
            '>' if next == b'=' => (TokenKind::GreaterEqual, 2),
            '>' => (TokenKind::Greater, 1),
            '+' => (TokenKind::Plus, 1),
            // Graph edges (`-->`, `--`, `->`) are tokens of their own, as in Kusto.Language: so
            // a `----` line is an error rather than a chain of minus signs.
            '-' if next == b'-' && self.byte(2) == b'>' => (TokenKind::DashDashArrow, 3),
            '-' if next == b'-' => (TokenKind::DashDash, 2),
            '-' if next == b'>' => (TokenKind::Arrow, 2),
            '-' => (TokenKind::Minus, 1),
            '*' => (TokenKind::Star, 1),
            '/' => (TokenKind::Slash, 1),
            '%' => (TokenKind::Percent, 1),
            '~' => (TokenKind::Tilde, 1),
            '?' => (TokenKind::Question, 1),
            '@' => (TokenKind::At, 1),
            other => (TokenKind::Unknown, other.len_utf8()),
        };
        self.position += length;
        self.push(kind, start);
    }
}

/// Decodes a string token's text (quotes, prefixes and escapes removed) exactly once.
pub fn decode_string(raw: &str) -> String {
    let mut rest = raw;
    if let Some(stripped) = rest.strip_prefix("```") {
        return stripped.strip_suffix("```").unwrap_or(stripped).to_owned();
    }
    if rest.starts_with(['h', 'H']) {
        rest = &rest[1..];
    }
    let verbatim = rest.starts_with('@');
    if verbatim {
        rest = &rest[1..];
    }
    let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return rest.to_owned();
    };
    let body = &rest[1..];
    let body = body.strip_suffix(quote).unwrap_or(body);
    if verbatim {
        let doubled: String = [quote, quote].iter().collect();
        return body.replace(&doubled, &quote.to_string());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        out.push(decoded);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn timespans_numbers_and_ranges() {
        use TokenKind::*;
        assert_eq!(
            kinds("ago(7d) 1.5h 10 1..5 0x1F 2e3 3abc"),
            vec![Ident, LeftParen, Timespan, RightParen, Timespan, Int, Int, DotDot, Int, Int, Real, Ident, Eof]
        );
    }

    #[test]
    fn strings_decode_once() {
        assert_eq!(decode_string(r#""C:\\x""#), r"C:\x");
        assert_eq!(decode_string(r#"@"C:\x""#), r"C:\x");
        assert_eq!(decode_string(r#"@'it''s'"#), "it's");
        assert_eq!(decode_string(r#"h"secret""#), "secret");
        assert_eq!(decode_string("```a\nb```"), "a\nb");
        assert_eq!(kinds("\"open"), vec![TokenKind::UnterminatedString, TokenKind::Eof]);
    }

    #[test]
    fn comments_and_special_spaces_are_trivia() {
        assert_eq!(kinds("a\u{200B}// c\n\u{00A0}b"), vec![TokenKind::Ident, TokenKind::Ident, TokenKind::Eof]);
    }
}
