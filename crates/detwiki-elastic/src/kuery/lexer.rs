//! The kuery lexer. Kibana's grammar is scannerless: whether white space belongs to a value or
//! separates tokens depends on what follows it (`a : b c` is the value `b c`, `a : b or c` is two
//! values), so tokens are cut here with the grammar's own rules and values are decoded on demand.
//!
//! - `or` and `and` are keywords only with white space on both sides; `not` only when white
//!   space follows it (so `a : b and` is the value `b and`).
//! - An unquoted value runs until a special character (`\ ( ) : < > " { }`) or a keyword, and is
//!   trimmed of trailing white space; `*` is a wildcard; `\` escapes a special character, a
//!   keyword, `\t`/`\r`/`\n` and `\uXXXX`.
//! - A quoted value runs to the next unescaped `"`; `\\` and `\"` are escapes, `\t`/`\r`/`\n` are
//!   white space, any other backslash is itself.

use detwiki_ir::Span;

use crate::wildcard::{Piece, push_char};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    Colon,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    And,
    Or,
    Not,
    Quoted,
    /// A quoted value without its closing quote (reported by the parser).
    UnterminatedQuoted,
    Unquoted,
    /// A character no token starts with (a lone backslash).
    Unexpected,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

const SPECIAL: &[u8] = b"\\():<>\"{}";

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether `word` (ASCII, lower case) starts `bytes` at `at`, case-insensitively.
fn word_at(bytes: &[u8], at: usize, word: &str) -> bool {
    bytes.get(at..at + word.len()).is_some_and(|slice| slice.eq_ignore_ascii_case(word.as_bytes()))
}

/// `or`/`and` keyword with white space on both sides, starting at `at` (the first space).
fn binary_keyword_after_space(bytes: &[u8], at: usize) -> bool {
    let mut position = at;
    while bytes.get(position).copied().is_some_and(is_space) {
        position += 1;
    }
    if position == at {
        return false;
    }
    ["or", "and"]
        .iter()
        .any(|word| word_at(bytes, position, word) && bytes.get(position + word.len()).copied().is_some_and(is_space))
}

fn not_keyword_at(bytes: &[u8], at: usize) -> bool {
    word_at(bytes, at, "not") && bytes.get(at + 3).copied().is_some_and(is_space)
}

/// Length of the escape starting with the backslash at `at`, or `None` when the backslash
/// escapes nothing (a syntax error in kuery).
fn escape_length(bytes: &[u8], at: usize) -> Option<usize> {
    let next = *bytes.get(at + 1)?;
    if matches!(next, b't' | b'r' | b'n') || SPECIAL.contains(&next) || next == b'*' {
        return Some(2);
    }
    if next == b'u' && bytes.get(at + 2..at + 6).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
        return Some(6);
    }
    for word in ["and", "not", "or"] {
        if word_at(bytes, at + 1, word) {
            return Some(1 + word.len());
        }
    }
    None
}

pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut after_space = true;
    loop {
        let start = position;
        while bytes.get(position).copied().is_some_and(is_space) {
            position += 1;
        }
        if position > start {
            after_space = true;
        }
        let Some(&byte) = bytes.get(position) else { break };
        let start = position;
        let single = |kind| (kind, 1);
        let (kind, length) = match byte {
            b'(' => single(TokenKind::LeftParen),
            b')' => single(TokenKind::RightParen),
            b'{' => single(TokenKind::LeftBrace),
            b'}' => single(TokenKind::RightBrace),
            b':' => single(TokenKind::Colon),
            b'<' if bytes.get(position + 1) == Some(&b'=') => (TokenKind::LessEqual, 2),
            b'<' => single(TokenKind::Less),
            b'>' if bytes.get(position + 1) == Some(&b'=') => (TokenKind::GreaterEqual, 2),
            b'>' => single(TokenKind::Greater),
            b'"' => quoted(bytes, position),
            _ if after_space && start > 0 && binary_keyword_after_space(bytes, start - 1) => {
                if word_at(bytes, start, "or") { (TokenKind::Or, 2) } else { (TokenKind::And, 3) }
            }
            _ if not_keyword_at(bytes, position) => (TokenKind::Not, 3),
            b'\\' if escape_length(bytes, position).is_none() => (TokenKind::Unexpected, 1),
            _ => (TokenKind::Unquoted, unquoted_length(bytes, position)),
        };
        // Every branch consumes at least one byte; the guard keeps the loop finite regardless.
        let length = length.max(1);
        position = (start + length).min(bytes.len());
        // Never cut inside a UTF-8 sequence.
        while position < bytes.len() && !text.is_char_boundary(position) {
            position += 1;
        }
        tokens.push(Token { kind, span: Span::from_usize(start, position) });
        after_space = false;
    }
    tokens.push(Token { kind: TokenKind::Eof, span: Span::from_usize(text.len(), text.len()) });
    tokens
}

fn quoted(bytes: &[u8], start: usize) -> (TokenKind, usize) {
    let mut position = start + 1;
    while let Some(&byte) = bytes.get(position) {
        match byte {
            b'\\' if matches!(bytes.get(position + 1), Some(b'\\' | b'"')) => position += 2,
            b'"' => return (TokenKind::Quoted, position + 1 - start),
            _ => position += 1,
        }
    }
    (TokenKind::UnterminatedQuoted, bytes.len() - start)
}

/// Length of the unquoted value starting at `start`, trailing white space excluded.
fn unquoted_length(bytes: &[u8], start: usize) -> usize {
    let mut position = start;
    let mut end = start;
    while let Some(&byte) = bytes.get(position) {
        if byte == b'\\' {
            match escape_length(bytes, position) {
                Some(length) => {
                    position += length;
                    end = position;
                    continue;
                }
                None => break,
            }
        }
        if byte == b'*' {
            position += 1;
            end = position;
            continue;
        }
        if SPECIAL.contains(&byte) {
            break;
        }
        if is_space(byte) {
            if binary_keyword_after_space(bytes, position) {
                break;
            }
            position += 1;
            continue;
        }
        if position > start && not_keyword_at(bytes, position) {
            break;
        }
        position += 1;
        end = position;
    }
    end - start
}

/// Decodes an unquoted value into pieces (`*` is a wildcard).
pub fn decode_unquoted(raw: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut characters = raw.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        match character {
            '*' => pieces.push(Piece::Any),
            '\\' => {
                let Some((_, next)) = characters.next() else {
                    push_char(&mut pieces, '\\');
                    break;
                };
                match next {
                    't' => push_char(&mut pieces, '\t'),
                    'r' => push_char(&mut pieces, '\r'),
                    'n' => push_char(&mut pieces, '\n'),
                    'u' => {
                        let hex = raw.get(index + 2..index + 6).unwrap_or("");
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(decoded) if hex.len() == 4 => {
                                push_char(&mut pieces, decoded);
                                for _ in 0..4 {
                                    characters.next();
                                }
                            }
                            _ => push_char(&mut pieces, 'u'),
                        }
                    }
                    other => push_char(&mut pieces, other),
                }
            }
            other => push_char(&mut pieces, other),
        }
    }
    pieces
}

/// Decodes a quoted value (with its quotes; the closing one may be missing). Never a wildcard.
pub fn decode_quoted(raw: &str) -> String {
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut characters = inner.chars().peekable();
    while let Some(character) = characters.next() {
        if character == '\\' {
            match characters.peek() {
                Some('\\') | Some('"') => {
                    out.extend(characters.next());
                    continue;
                }
                Some('t') => {
                    characters.next();
                    out.push('\t');
                    continue;
                }
                Some('r') => {
                    characters.next();
                    out.push('\r');
                    continue;
                }
                Some('n') => {
                    characters.next();
                    out.push('\n');
                    continue;
                }
                _ => {}
            }
        }
        out.push(character);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|token| token.kind).collect()
    }

    fn slices(text: &str) -> Vec<&str> {
        tokenize(text).into_iter().map(|token| &text[token.span.range()]).collect()
    }

    #[test]
    fn keywords_need_white_space() {
        use TokenKind::*;
        assert_eq!(kinds("a : b or c"), vec![Unquoted, Colon, Unquoted, Or, Unquoted, Eof]);
        assert_eq!(slices("a : b c and d"), vec!["a", ":", "b c", "and", "d", ""]);
        assert_eq!(slices("a:b and"), vec!["a", ":", "b and", ""]);
        assert_eq!(kinds("not a:b"), vec![Not, Unquoted, Colon, Unquoted, Eof]);
        assert_eq!(slices("a:xor y"), vec!["a", ":", "xor y", ""]);
        assert_eq!(slices("a:cannot x"), vec!["a", ":", "can", "not", "x", ""]);
    }

    #[test]
    fn escapes_and_quotes() {
        assert_eq!(
            slices(r#"a:C\:\\x* and b:"q \" r""#),
            vec!["a", ":", r"C\:\\x*", "and", "b", ":", r#""q \" r""#, ""]
        );
        assert_eq!(decode_unquoted(r"C\:\\x*"), vec![Piece::Text(r"C:\x".to_owned()), Piece::Any]);
        assert_eq!(decode_unquoted(r"a\*b"), vec![Piece::Text("a*b".to_owned())]);
        assert_eq!(decode_unquoted(r"\or\u0041"), vec![Piece::Text("orA".to_owned())]);
        assert_eq!(decode_quoted(r#""a\\b\"c\d""#), r#"a\b"c\d"#);
        assert_eq!(
            kinds("a:x\\"),
            vec![TokenKind::Unquoted, TokenKind::Colon, TokenKind::Unquoted, TokenKind::Unexpected, TokenKind::Eof]
        );
        assert_eq!(
            kinds("a:\"x"),
            vec![TokenKind::Unquoted, TokenKind::Colon, TokenKind::UnterminatedQuoted, TokenKind::Eof]
        );
    }
}
