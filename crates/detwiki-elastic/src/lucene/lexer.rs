//! The Lucene query-string lexer (Elasticsearch `query_string` syntax as Kibana sends it).
//!
//! A term runs until white space or a special character (`( ) [ ] { } ^ " ~ : /`); `+`, `-` and
//! `!` start a term only as prefix operators; `\` escapes any character; `*` and `?` are
//! wildcards. `AND`/`&&`, `OR`/`||`, `NOT`/`!` are operators; `TO` only separates range bounds.

use detwiki_ir::Span;

use crate::wildcard::{Piece, push_char};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    LeftBrace,
    RightBrace,
    Colon,
    Plus,
    Minus,
    And,
    Or,
    Not,
    /// `^2`, `~`, `~2`: boost, fuzziness and proximity modifiers (kept, not compared).
    Modifier,
    /// `>`, `>=`, `<`, `<=` after a field (`a:>5`).
    Compare,
    Phrase,
    Regex,
    Term,
    /// A string, regex or escape that is not closed.
    Unterminated,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

const TERM_STOP: &[u8] = b"()[]{}^\"~:/";

fn is_space(byte: u8) -> bool {
    byte.is_ascii_whitespace()
}

pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    loop {
        while bytes.get(position).copied().is_some_and(is_space) {
            position += 1;
        }
        let Some(&byte) = bytes.get(position) else { break };
        let start = position;
        let next = bytes.get(position + 1).copied();
        let (kind, length) = match byte {
            b'(' => (TokenKind::LeftParen, 1),
            b')' => (TokenKind::RightParen, 1),
            b'[' => (TokenKind::LeftBracket, 1),
            b']' => (TokenKind::RightBracket, 1),
            b'{' => (TokenKind::LeftBrace, 1),
            b'}' => (TokenKind::RightBrace, 1),
            b':' => (TokenKind::Colon, 1),
            b'+' => (TokenKind::Plus, 1),
            b'-' => (TokenKind::Minus, 1),
            b'!' => (TokenKind::Not, 1),
            b'&' if next == Some(b'&') => (TokenKind::And, 2),
            b'|' if next == Some(b'|') => (TokenKind::Or, 2),
            b'>' | b'<' => (TokenKind::Compare, if next == Some(b'=') { 2 } else { 1 }),
            b'^' | b'~' => {
                let digits = bytes[position + 1..].iter().take_while(|b| b.is_ascii_digit() || **b == b'.').count();
                (TokenKind::Modifier, 1 + digits)
            }
            b'"' => delimited(bytes, position, b'"', TokenKind::Phrase),
            b'/' => delimited(bytes, position, b'/', TokenKind::Regex),
            _ => {
                let length = term_length(bytes, position);
                if length == 0 {
                    (TokenKind::Unterminated, 1)
                } else {
                    let word = &bytes[position..position + length];
                    let kind = match word {
                        b"AND" => TokenKind::And,
                        b"OR" => TokenKind::Or,
                        b"NOT" => TokenKind::Not,
                        _ => TokenKind::Term,
                    };
                    (kind, length)
                }
            }
        };
        position = (start + length.max(1)).min(bytes.len());
        while position < bytes.len() && !text.is_char_boundary(position) {
            position += 1;
        }
        tokens.push(Token { kind, span: Span::from_usize(start, position) });
    }
    tokens.push(Token { kind: TokenKind::Eof, span: Span::from_usize(text.len(), text.len()) });
    tokens
}

fn delimited(bytes: &[u8], start: usize, close: u8, kind: TokenKind) -> (TokenKind, usize) {
    let mut position = start + 1;
    while let Some(&byte) = bytes.get(position) {
        if byte == b'\\' {
            position += 2;
            continue;
        }
        if byte == close {
            return (kind, position + 1 - start);
        }
        position += 1;
    }
    (TokenKind::Unterminated, bytes.len() - start)
}

/// Length of a term starting at `start`; 0 when a lone backslash ends the text.
fn term_length(bytes: &[u8], start: usize) -> usize {
    let mut position = start;
    while let Some(&byte) = bytes.get(position) {
        if byte == b'\\' {
            if position + 1 >= bytes.len() {
                return if position == start { 0 } else { position - start };
            }
            position += 2;
            continue;
        }
        if is_space(byte) || TERM_STOP.contains(&byte) {
            break;
        }
        position += 1;
    }
    position - start
}

/// Decodes a term: `\x` is `x`, `*` and `?` are wildcards.
pub fn decode_term(raw: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut characters = raw.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => pieces.push(Piece::Any),
            '?' => pieces.push(Piece::One),
            '\\' => push_char(&mut pieces, characters.next().unwrap_or('\\')),
            other => push_char(&mut pieces, other),
        }
    }
    pieces
}

/// Decodes a phrase or a field name written as a term: `\x` is `x`, nothing is a wildcard.
pub fn decode_plain(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut characters = raw.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            out.extend(characters.next());
        } else {
            out.push(character);
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
    fn tokens() {
        use TokenKind::*;
        assert_eq!(kinds("a:b AND -c:\"d\""), vec![Term, Colon, Term, And, Minus, Term, Colon, Phrase, Eof]);
        assert_eq!(
            kinds("a:[1 TO 5} && x:/r\\/e/ || !y"),
            vec![Term, Colon, LeftBracket, Term, Term, Term, RightBrace, And, Term, Colon, Regex, Or, Not, Term, Eof]
        );
        assert_eq!(kinds("a:g+s b^2"), vec![Term, Colon, Term, Term, Modifier, Eof]);
        assert_eq!(kinds("a:\"x"), vec![Term, Colon, Unterminated, Eof]);
        assert_eq!(decode_term(r"C\:\\x*"), vec![Piece::Text(r"C:\x".to_owned()), Piece::Any]);
    }
}
