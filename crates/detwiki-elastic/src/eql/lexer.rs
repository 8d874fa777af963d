//! The hand-written EQL lexer and string decoding.
//!
//! Comments (`//` to the end of the line, `/* ... */`) and whitespace are skipped. Strings never
//! span lines (as in Elasticsearch): an unclosed quote becomes an
//! [`TokenKind::UnterminatedString`] ending at the line break, so one bad line does not swallow
//! the rest of the query.

use detwiki_ir::Span;

use super::token::{Token, TokenKind};

/// Splits `text` into tokens; the last one is always [`TokenKind::EndOfInput`].
pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 4 + 1);
    let mut position = 0;
    while position < bytes.len() {
        let start = position;
        let byte = bytes[position];
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                position += 1;
                continue;
            }
            b'/' if bytes.get(position + 1) == Some(&b'/') => {
                while position < bytes.len() && bytes[position] != b'\n' {
                    position += 1;
                }
                continue;
            }
            b'/' if bytes.get(position + 1) == Some(&b'*') => match text[position + 2..].find("*/") {
                Some(end) => {
                    position += 2 + end + 2;
                    continue;
                }
                None => {
                    position = bytes.len();
                    TokenKind::UnterminatedComment
                }
            },
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while position < bytes.len() && (bytes[position].is_ascii_alphanumeric() || bytes[position] == b'_') {
                    position += 1;
                }
                if bytes.get(position) == Some(&b'~') {
                    position += 1;
                    TokenKind::NameTilde
                } else {
                    TokenKind::Name
                }
            }
            b'0'..=b'9' => number(bytes, &mut position),
            b'.' if bytes.get(position + 1).is_some_and(u8::is_ascii_digit) => number(bytes, &mut position),
            b'`' => match text[position + 1..].find(['`', '\n', '\r']) {
                Some(end) if bytes[position + 1 + end] == b'`' && end > 0 => {
                    position += end + 2;
                    TokenKind::QuotedName
                }
                _ => {
                    position += 1;
                    TokenKind::Unknown
                }
            },
            b'"' if text[position..].starts_with("\"\"\"") => triple_string(text, &mut position),
            b'"' => quoted(bytes, &mut position, b'"', TokenKind::String),
            b'\'' => quoted(bytes, &mut position, b'\'', TokenKind::SingleQuotedString),
            b'?' if matches!(bytes.get(position + 1), Some(b'"' | b'\'')) => {
                position += 1;
                let quote = bytes[position];
                quoted(bytes, &mut position, quote, TokenKind::RawString)
            }
            _ => {
                let (kind, length) = punctuation(&bytes[position..]);
                // Advance by whole characters so spans stay on character boundaries.
                let width = if kind == TokenKind::Unknown {
                    text[position..].chars().next().map_or(1, char::len_utf8)
                } else {
                    length
                };
                position += width;
                kind
            }
        };
        tokens.push(Token { kind, span: Span::from_usize(start, position) });
    }
    tokens.push(Token { kind: TokenKind::EndOfInput, span: Span::from_usize(bytes.len(), bytes.len()) });
    tokens
}

fn punctuation(rest: &[u8]) -> (TokenKind, usize) {
    let two = |second: u8| rest.get(1) == Some(&second);
    match rest[0] {
        b'!' if two(b'[') => (TokenKind::BangBracket, 2),
        b'!' if two(b'=') => (TokenKind::BangEqual, 2),
        b'=' if two(b'=') => (TokenKind::EqualEqual, 2),
        b'=' => (TokenKind::Equal, 1),
        b'<' if two(b'=') => (TokenKind::LessEqual, 2),
        b'<' => (TokenKind::Less, 1),
        b'>' if two(b'=') => (TokenKind::GreaterEqual, 2),
        b'>' => (TokenKind::Greater, 1),
        b'[' => (TokenKind::LeftBracket, 1),
        b']' => (TokenKind::RightBracket, 1),
        b'(' => (TokenKind::LeftParen, 1),
        b')' => (TokenKind::RightParen, 1),
        b',' => (TokenKind::Comma, 1),
        b'.' => (TokenKind::Dot, 1),
        b'|' => (TokenKind::Pipe, 1),
        b':' => (TokenKind::Colon, 1),
        b'+' => (TokenKind::Plus, 1),
        b'-' => (TokenKind::Minus, 1),
        b'*' => (TokenKind::Star, 1),
        b'/' => (TokenKind::Slash, 1),
        b'%' => (TokenKind::Percent, 1),
        b'?' => (TokenKind::Question, 1),
        b'$' => (TokenKind::Dollar, 1),
        _ => (TokenKind::Unknown, 1),
    }
}

fn number(bytes: &[u8], position: &mut usize) -> TokenKind {
    let digits = |position: &mut usize| {
        while *position < bytes.len() && bytes[*position].is_ascii_digit() {
            *position += 1;
        }
    };
    digits(position);
    let mut kind = TokenKind::Integer;
    if bytes.get(*position) == Some(&b'.') && bytes.get(*position + 1).is_some_and(u8::is_ascii_digit) {
        *position += 1;
        digits(position);
        kind = TokenKind::Decimal;
    }
    if matches!(bytes.get(*position), Some(b'e' | b'E')) {
        let mut after = *position + 1;
        if matches!(bytes.get(after), Some(b'+' | b'-')) {
            after += 1;
        }
        if bytes.get(after).is_some_and(u8::is_ascii_digit) {
            *position = after;
            digits(position);
            kind = TokenKind::Decimal;
        }
    }
    kind
}

/// A quoted string ending at the same quote (backslash escapes skipped) or, unclosed, at the end
/// of the line.
fn quoted(bytes: &[u8], position: &mut usize, quote: u8, kind: TokenKind) -> TokenKind {
    *position += 1;
    while *position < bytes.len() {
        match bytes[*position] {
            b'\\' if *position + 1 < bytes.len() && !matches!(bytes[*position + 1], b'\n' | b'\r') => *position += 2,
            b'\n' | b'\r' => return TokenKind::UnterminatedString,
            byte if byte == quote => {
                *position += 1;
                return kind;
            }
            _ => *position += 1,
        }
    }
    TokenKind::UnterminatedString
}

/// `"""..."""` on one line; up to two more quotes directly after the closing ones belong to the
/// value (`""""a""""` is `"a"`), as in eql's grammar.
fn triple_string(text: &str, position: &mut usize) -> TokenKind {
    let body_start = *position + 3;
    let line_end = text[body_start..].find(['\n', '\r']).map_or(text.len(), |end| body_start + end);
    match text[body_start..line_end].find("\"\"\"") {
        Some(close) => {
            let mut end = body_start + close + 3;
            let bytes = text.as_bytes();
            for _ in 0..2 {
                if end < line_end && bytes[end] == b'"' {
                    end += 1;
                }
            }
            *position = end;
            TokenKind::TripleString
        }
        None => {
            *position = line_end;
            TokenKind::UnterminatedString
        }
    }
}

/// Decodes a string token's text (quotes included). `"..."` strings take the escapes `\\`, `\"`,
/// `\'`, `\t`, `\n`, `\r`, `\b`, `\f` and `\u{XXXX}`; `"""..."""` strings are raw. Returns `None`
/// for an escape Elasticsearch rejects.
pub fn decode_string(token_text: &str) -> Option<String> {
    if let Some(body) = token_text.strip_prefix("\"\"\"") {
        return Some(body.strip_suffix("\"\"\"").unwrap_or(body).to_owned());
    }
    let body = token_text.get(1..token_text.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(character) = chars.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                if !(2..=8).contains(&hex.len()) {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn words_operators_and_strings() {
        use TokenKind::*;
        assert_eq!(
            kinds(r#"process where a.b : "x" and c like~ """y\z""" // c"#),
            vec![Name, Name, Name, Dot, Name, Colon, String, Name, Name, NameTilde, TripleString, EndOfInput]
        );
        assert_eq!(
            kinds("![ ] != == = 1.5 7 `a b`"),
            vec![BangBracket, RightBracket, BangEqual, EqualEqual, Equal, Decimal, Integer, QuotedName, EndOfInput]
        );
    }

    #[test]
    fn unterminated_string_stops_at_line_end() {
        let tokens = tokenize("a == \"x\nb");
        assert_eq!(tokens[2].kind, TokenKind::UnterminatedString);
        assert_eq!(tokens[3].kind, TokenKind::Name);
    }

    #[test]
    fn decoding() {
        assert_eq!(decode_string(r#""C:\\a\"b""#).as_deref(), Some(r#"C:\a"b"#));
        assert_eq!(decode_string(r#""""C:\a""""#).as_deref(), Some(r"C:\a"));
        assert_eq!(decode_string(r#""\u{41}""#).as_deref(), Some("A"));
        assert_eq!(decode_string(r#""\q""#), None);
    }
}
