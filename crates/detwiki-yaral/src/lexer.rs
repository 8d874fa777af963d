//! The hand-written lexer and the decoding of string literals.
//!
//! A `/` is ambiguous in YARA-L: it opens a regular expression where an operand is expected
//! (`$e.x = /a.b/ nocase`) and divides after one (`$a / 2`). The lexer decides from the previous
//! token, as JavaScript lexers do; `//` always starts a comment (a regex is never empty).

use detwiki_ir::{Diagnostic, Span};

use crate::diagnostics;
use crate::token::{Token, TokenKind};

/// Words after which an operand is expected even though they are names.
const OPERAND_EXPECTING_WORDS: &[&str] = &["and", "or", "not", "in", "regex", "cidr", "nocase", "any", "all"];

/// Splits `text` into tokens (the last one is always [`TokenKind::Eof`]) and reports characters
/// and literals that cannot be tokens. Never fails.
pub fn tokenize(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer { text, bytes: text.as_bytes(), position: 0, tokens: Vec::new(), diagnostics: Vec::new() };
    lexer.run();
    (lexer.tokens, lexer.diagnostics)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.position + offset).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token { kind, span: Span::from_usize(start, self.position) });
    }

    /// True when a `/` here divides: the previous token ends an operand and is not a keyword
    /// that expects one.
    fn slash_divides(&self) -> bool {
        let Some(previous) = self.tokens.last() else { return false };
        if !previous.kind.ends_operand() {
            return false;
        }
        if previous.kind == TokenKind::Ident {
            let word = &self.text[previous.span.range()];
            return !OPERAND_EXPECTING_WORDS.iter().any(|keyword| keyword.eq_ignore_ascii_case(word));
        }
        true
    }

    fn run(&mut self) {
        while self.position < self.bytes.len() {
            let start = self.position;
            let byte = self.bytes[start];
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0c => self.position += 1,
                b'/' if self.peek(1) == b'/' => self.skip_line(),
                b'/' if self.peek(1) == b'*' => self.skip_block_comment(),
                b'/' if !self.slash_divides() => self.regex(),
                b'"' => self.string(),
                b'`' => self.raw_string(),
                b'$' | b'#' | b'%' => {
                    self.position += 1;
                    let name_start = self.position;
                    self.word();
                    let kind = match byte {
                        b'$' => TokenKind::Variable,
                        b'#' => TokenKind::EventCount,
                        _ => TokenKind::ReferenceList,
                    };
                    if self.position == name_start {
                        self.diagnostics.push(diagnostics::unexpected_character(
                            &self.text[start..self.position],
                            Span::from_usize(start, self.position),
                        ));
                        self.push(TokenKind::Unknown, start);
                    } else {
                        self.push(kind, start);
                    }
                }
                b'0'..=b'9' => self.number(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    self.word();
                    self.push(TokenKind::Ident, start);
                }
                _ => self.punctuation(),
            }
        }
        let end = self.bytes.len();
        self.tokens.push(Token { kind: TokenKind::Eof, span: Span::from_usize(end, end) });
    }

    fn word(&mut self) {
        while matches!(self.peek(0), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') {
            self.position += 1;
        }
    }

    fn skip_line(&mut self) {
        while self.position < self.bytes.len() && self.bytes[self.position] != b'\n' {
            self.position += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        let start = self.position;
        match self.text[start + 2..].find("*/") {
            Some(index) => self.position = start + 2 + index + 2,
            None => {
                self.position = self.bytes.len();
                self.diagnostics.push(diagnostics::unterminated("comment", "*/", Span::from_usize(start, start + 2)));
            }
        }
    }

    /// `"..."`: ends at the first unescaped quote. A line break inside is accepted with a warning
    /// (a Sigma conversion wrote `\r` of `Desktop\readme.txt` as a real line break, and the rule
    /// is in the corpus).
    fn string(&mut self) {
        let start = self.position;
        self.position += 1;
        let mut line_breaks = 0;
        loop {
            if self.position >= self.bytes.len() {
                // Never closed: the string ends with its first line, so the lines after it are
                // still read as rule text.
                let line_end = self.text[start..].find('\n').map_or(self.bytes.len(), |index| start + index);
                self.position = line_end;
                self.diagnostics.push(diagnostics::unterminated("string", "\"", Span::from_usize(start, line_end)));
                self.push(TokenKind::Unterminated, start);
                return;
            }
            match self.peek(0) {
                b'"' => {
                    self.position += 1;
                    if line_breaks > 0 {
                        self.diagnostics.push(diagnostics::multiline_string(Span::from_usize(start, self.position)));
                    }
                    self.push(TokenKind::String, start);
                    return;
                }
                b'\n' => {
                    line_breaks += 1;
                    self.position += 1;
                }
                b'\\' if self.position + 1 < self.bytes.len() => self.position += 2,
                _ => self.position += 1,
            }
        }
    }

    /// `` `...` ``: a raw string, which may span lines.
    fn raw_string(&mut self) {
        let start = self.position;
        match self.text[start + 1..].find('`') {
            Some(index) => {
                self.position = start + 1 + index + 1;
                self.push(TokenKind::RawString, start);
            }
            None => {
                self.position = self.bytes.len();
                self.diagnostics.push(diagnostics::unterminated("raw string", "`", Span::from_usize(start, start + 1)));
                self.push(TokenKind::Unterminated, start);
            }
        }
    }

    /// `/.../`: ends at the first unescaped `/` outside a character class, on the same line.
    fn regex(&mut self) {
        let start = self.position;
        self.position += 1;
        let mut in_class = false;
        loop {
            if self.position >= self.bytes.len() || self.peek(0) == b'\n' {
                self.diagnostics.push(diagnostics::unterminated(
                    "regular expression",
                    "/",
                    Span::from_usize(start, self.position),
                ));
                self.push(TokenKind::Unterminated, start);
                return;
            }
            match self.peek(0) {
                b'/' if !in_class => {
                    self.position += 1;
                    self.push(TokenKind::Regex, start);
                    return;
                }
                b'[' => {
                    in_class = true;
                    self.position += 1;
                }
                b']' => {
                    in_class = false;
                    self.position += 1;
                }
                b'\\' if self.peek(1) != b'\n' && self.peek(1) != 0 => self.position += 2,
                _ => self.position += 1,
            }
        }
    }

    /// Digits with an optional fraction; a unit glued to them (`5m`, `24h`) makes a duration.
    fn number(&mut self) {
        let start = self.position;
        while self.peek(0).is_ascii_digit() {
            self.position += 1;
        }
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            self.position += 1;
            while self.peek(0).is_ascii_digit() {
                self.position += 1;
            }
        }
        if self.peek(0).is_ascii_alphabetic() {
            let unit_start = self.position;
            self.word();
            let unit = &self.text[unit_start..self.position];
            if matches!(unit, "s" | "m" | "h" | "d") {
                self.push(TokenKind::Duration, start);
            } else {
                self.diagnostics.push(diagnostics::bad_number(
                    &self.text[start..self.position],
                    Span::from_usize(start, self.position),
                ));
                self.push(TokenKind::Unknown, start);
            }
            return;
        }
        self.push(TokenKind::Number, start);
    }

    fn punctuation(&mut self) {
        let start = self.position;
        let (kind, length) = match (self.peek(0), self.peek(1)) {
            (b'{', _) => (TokenKind::LeftBrace, 1),
            (b'}', _) => (TokenKind::RightBrace, 1),
            (b'(', _) => (TokenKind::LeftParen, 1),
            (b')', _) => (TokenKind::RightParen, 1),
            (b'[', _) => (TokenKind::LeftBracket, 1),
            (b']', _) => (TokenKind::RightBracket, 1),
            (b',', _) => (TokenKind::Comma, 1),
            (b'.', _) => (TokenKind::Dot, 1),
            (b':', _) => (TokenKind::Colon, 1),
            (b'=', b'=') => (TokenKind::Equal, 2),
            (b'=', _) => (TokenKind::Equal, 1),
            (b'!', b'=') => (TokenKind::BangEqual, 2),
            (b'!', _) => (TokenKind::Bang, 1),
            (b'<', b'=') => (TokenKind::LessEqual, 2),
            (b'<', _) => (TokenKind::Less, 1),
            (b'>', b'=') => (TokenKind::GreaterEqual, 2),
            (b'>', _) => (TokenKind::Greater, 1),
            (b'+', _) => (TokenKind::Plus, 1),
            (b'-', _) => (TokenKind::Minus, 1),
            (b'*', _) => (TokenKind::Star, 1),
            (b'/', _) => (TokenKind::Slash, 1),
            _ => (TokenKind::Unknown, 0),
        };
        if kind == TokenKind::Unknown {
            // One whole character, so that spans stay on character boundaries.
            let width = self.text[start..].chars().next().map_or(1, char::len_utf8);
            self.position += width;
            self.diagnostics.push(diagnostics::unexpected_character(
                &self.text[start..self.position],
                Span::from_usize(start, self.position),
            ));
        } else {
            self.position += length;
        }
        self.push(kind, start);
    }
}

/// The value of a `"..."` literal: `\\`, `\"`, `\n`, `\t`, `\r` decoded; any other backslash is
/// kept with the character after it (regular-expression strings rely on that).
pub fn decode_string(literal: &str) -> String {
    let inner = literal.strip_prefix('"').unwrap_or(literal);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match characters.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).0.into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn slash_is_regex_or_division_by_context() {
        assert_eq!(
            kinds("$e.x = /a\\/b/ nocase"),
            vec![
                TokenKind::Variable,
                TokenKind::Dot,
                TokenKind::Ident,
                TokenKind::Equal,
                TokenKind::Regex,
                TokenKind::Ident,
                TokenKind::Eof
            ]
        );
        assert_eq!(
            kinds("$a / 2 // comment"),
            vec![TokenKind::Variable, TokenKind::Slash, TokenKind::Number, TokenKind::Eof]
        );
    }

    #[test]
    fn durations_and_sigils() {
        assert_eq!(
            kinds("#e > 5 over 10m %list"),
            vec![
                TokenKind::EventCount,
                TokenKind::Greater,
                TokenKind::Number,
                TokenKind::Ident,
                TokenKind::Duration,
                TokenKind::ReferenceList,
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn unterminated_string_is_reported() {
        let (tokens, diagnostics) = tokenize("\"abc\n x");
        assert_eq!(tokens[0].kind, TokenKind::Unterminated);
        assert_eq!(diagnostics.len(), 1);
    }

    #[test]
    fn strings_decode_once() {
        assert_eq!(decode_string(r#""C:\\Windows\\a.exe""#), r"C:\Windows\a.exe");
        assert_eq!(decode_string(r#""\.exe""#), r"\.exe");
    }
}
