//! The hand-written lexer. Elastic's grammar switches lexer modes after `FROM`, `ENRICH`,
//! `KEEP`, ... so the lexer here is called on demand: [`next_token`] in expression mode, and
//! [`pattern_token`] where the parser expects an index pattern or a name pattern.

use detwiki_ir::Span;

use super::token::{Token, TokenKind};

/// What a [`pattern_token`] may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// `logs-endpoint.events.*`, `remote:logs-*`, `logs-*::failures`, `_mode:policy`: anything
    /// up to white space, `,`, `|`, a quote, a bracket or a comment.
    Source,
    /// `process.*`, `*name`, `` `a b`.c ``: identifier characters, dots, `*` and backquoted
    /// parts.
    Name,
}

/// Skips white space and comments from `position`; returns the first offset that is neither,
/// or the offset of an unclosed `/*` (which the next token then reports).
pub fn skip_trivia(text: &str, mut position: usize) -> usize {
    let bytes = text.as_bytes();
    while position < bytes.len() {
        match bytes[position] {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => position += 1,
            b'/' if bytes.get(position + 1) == Some(&b'/') => {
                while position < bytes.len() && bytes[position] != b'\n' {
                    position += 1;
                }
            }
            b'/' if bytes.get(position + 1) == Some(&b'*') => match block_comment_end(bytes, position) {
                Some(end) => position = end,
                None => return position,
            },
            _ => {
                // Other Unicode white space (a non-breaking space pasted from a web page).
                match text[position..].chars().next() {
                    Some(c) if c.is_whitespace() => position += c.len_utf8(),
                    _ => return position,
                }
            }
        }
    }
    position
}

/// End of the block comment starting at `start` (nested comments count, as in Elastic's
/// grammar); `None` when it is never closed.
fn block_comment_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut position = start;
    while position + 1 < bytes.len() {
        if bytes[position] == b'/' && bytes[position + 1] == b'*' {
            depth += 1;
            position += 2;
        } else if bytes[position] == b'*' && bytes[position + 1] == b'/' {
            depth -= 1;
            position += 2;
            if depth == 0 {
                return Some(position);
            }
        } else {
            position += 1;
        }
    }
    None
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The next expression-mode token at or after `position`.
pub fn next_token(text: &str, position: usize) -> Token {
    let bytes = text.as_bytes();
    let start = skip_trivia(text, position);
    let token = |kind, end: usize| Token { kind, span: Span::from_usize(start, end) };
    let Some(&first) = bytes.get(start) else { return token(TokenKind::Eof, start) };
    let second = bytes.get(start + 1).copied();
    match first {
        b'|' => token(TokenKind::Pipe, start + 1),
        b',' => token(TokenKind::Comma, start + 1),
        b'(' => token(TokenKind::LeftParen, start + 1),
        b')' => token(TokenKind::RightParen, start + 1),
        b'[' => token(TokenKind::LeftBracket, start + 1),
        b']' => token(TokenKind::RightBracket, start + 1),
        b'{' => token(TokenKind::LeftBrace, start + 1),
        b'}' => token(TokenKind::RightBrace, start + 1),
        b'+' => token(TokenKind::Plus, start + 1),
        b'-' => token(TokenKind::Minus, start + 1),
        b'*' => token(TokenKind::Star, start + 1),
        b'/' => token(if second == Some(b'*') { TokenKind::Unknown } else { TokenKind::Slash }, start + 1),
        b'%' => token(TokenKind::Percent, start + 1),
        b'=' => match second {
            Some(b'=') => token(TokenKind::Equal, start + 2),
            Some(b'~') => token(TokenKind::InsensitiveEqual, start + 2),
            _ => token(TokenKind::Assign, start + 1),
        },
        b'!' if second == Some(b'=') => token(TokenKind::NotEqual, start + 2),
        b'<' if second == Some(b'=') => token(TokenKind::LessEqual, start + 2),
        b'<' => token(TokenKind::Less, start + 1),
        b'>' if second == Some(b'=') => token(TokenKind::GreaterEqual, start + 2),
        b'>' => token(TokenKind::Greater, start + 1),
        b':' if second == Some(b':') => token(TokenKind::Cast, start + 2),
        b':' => token(TokenKind::Colon, start + 1),
        b'"' => string_token(bytes, start),
        b'`' => quoted_identifier(bytes, start),
        b'?' => {
            let mut end = start + 1;
            if bytes.get(end) == Some(&b'?') {
                end += 1;
            }
            while end < bytes.len() && is_identifier_byte(bytes[end]) {
                end += 1;
            }
            token(TokenKind::Parameter, end)
        }
        b'.' if second.is_some_and(|byte| byte.is_ascii_digit()) => number(bytes, start),
        b'.' => token(TokenKind::Dot, start + 1),
        b'0'..=b'9' => number(bytes, start),
        b'@' | b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
            let mut end = start + 1;
            while end < bytes.len() && is_identifier_byte(bytes[end]) {
                end += 1;
            }
            token(TokenKind::Identifier, end)
        }
        _ => {
            let width = text[start..].chars().next().map_or(1, char::len_utf8);
            token(TokenKind::Unknown, start + width)
        }
    }
}

fn number(bytes: &[u8], start: usize) -> Token {
    let mut end = start;
    let mut decimal = false;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if bytes.get(end) == Some(&b'.') && !bytes.get(end + 1).is_some_and(|byte| byte.is_ascii_alphabetic()) {
        decimal = true;
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        if bytes.get(exponent).is_some_and(u8::is_ascii_digit) {
            decimal = true;
            end = exponent;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
    }
    let kind = if decimal { TokenKind::Decimal } else { TokenKind::Integer };
    Token { kind, span: Span::from_usize(start, end) }
}

/// A `"..."` or `"""..."""` string. Neither kind may span lines (Elastic's grammar excludes line
/// breaks from both): an unclosed string is a [`TokenKind::BadString`] ending at the line break,
/// and a string with an undefined escape is one ending at its closing quote.
fn string_token(bytes: &[u8], start: usize) -> Token {
    if bytes[start..].starts_with(b"\"\"\"") {
        let mut position = start + 3;
        while position < bytes.len() && bytes[position] != b'\n' && bytes[position] != b'\r' {
            if bytes[position..].starts_with(b"\"\"\"") {
                let mut end = position + 3;
                // Up to two more quotes belong to the string (`"""a""""` is `a"`).
                while end < bytes.len() && end < position + 5 && bytes[end] == b'"' {
                    end += 1;
                }
                return Token { kind: TokenKind::TripleString, span: Span::from_usize(start, end) };
            }
            position += 1;
        }
        return Token { kind: TokenKind::BadString, span: Span::from_usize(start, position) };
    }
    let mut position = start + 1;
    // An undefined escape makes the string bad, but the token still runs to the closing quote
    // so that the rest of the string is not read as query text.
    let mut kind = TokenKind::String;
    while position < bytes.len() {
        match bytes[position] {
            b'"' => return Token { kind, span: Span::from_usize(start, position + 1) },
            b'\\' => {
                if !matches!(bytes.get(position + 1), Some(b't' | b'n' | b'r' | b'"' | b'\\')) {
                    kind = TokenKind::BadString;
                }
                position += if matches!(bytes.get(position + 1), Some(b'\n' | b'\r') | None) { 1 } else { 2 };
            }
            b'\n' | b'\r' => break,
            _ => position += 1,
        }
    }
    Token { kind: TokenKind::BadString, span: Span::from_usize(start, position) }
}

fn quoted_identifier(bytes: &[u8], start: usize) -> Token {
    let mut position = start + 1;
    while position < bytes.len() {
        if bytes[position] == b'`' {
            if bytes.get(position + 1) == Some(&b'`') {
                position += 2;
                continue;
            }
            return Token { kind: TokenKind::QuotedIdentifier, span: Span::from_usize(start, position + 1) };
        }
        if bytes[position] == b'\n' {
            break;
        }
        position += 1;
    }
    Token { kind: TokenKind::Unknown, span: Span::from_usize(start, position) }
}

/// A pattern token at or after `position`, or the expression-mode token there when no pattern
/// starts at it (a `,`, `|`, quoted string or the end).
pub fn pattern_token(text: &str, position: usize, kind: PatternKind) -> Token {
    let bytes = text.as_bytes();
    let start = skip_trivia(text, position);
    let mut end = start;
    while end < bytes.len() {
        let byte = bytes[end];
        let accepted = match kind {
            PatternKind::Source => {
                !(byte.is_ascii_whitespace()
                    || matches!(byte, b',' | b'|' | b'"' | b'[' | b']' | b'(' | b')' | b'`')
                    || byte == b'/' && matches!(bytes.get(end + 1), Some(b'/' | b'*')))
            }
            PatternKind::Name => {
                if byte == b'`' {
                    let quoted = quoted_identifier(bytes, end);
                    if quoted.kind != TokenKind::QuotedIdentifier {
                        break;
                    }
                    end = quoted.span.end as usize;
                    continue;
                }
                is_identifier_byte(byte) || matches!(byte, b'@' | b'.' | b'*')
            }
        };
        if !accepted {
            break;
        }
        end += 1;
    }
    if end == start {
        return next_token(text, start);
    }
    Token { kind: TokenKind::Pattern, span: Span::from_usize(start, end) }
}

/// The value of a [`TokenKind::String`] or [`TokenKind::TripleString`] token's text.
pub fn decode_string(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix("\"\"\"") {
        return inner.strip_suffix("\"\"\"").unwrap_or(inner).to_owned();
    }
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut value = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(c) = characters.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match characters.next() {
            Some('t') => value.push('\t'),
            Some('n') => value.push('\n'),
            Some('r') => value.push('\r'),
            Some(other) => value.push(other),
            None => value.push('\\'),
        }
    }
    value
}

/// The name a backquoted identifier stands for.
pub fn unquote_identifier(raw: &str) -> String {
    let inner = raw.strip_prefix('`').unwrap_or(raw);
    inner.strip_suffix('`').unwrap_or(inner).replace("``", "`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        let mut kinds = Vec::new();
        let mut position = 0;
        loop {
            let token = next_token(text, position);
            kinds.push(token.kind);
            if token.kind == TokenKind::Eof {
                return kinds;
            }
            position = token.span.end as usize;
        }
    }

    #[test]
    fn operators_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("a == 1 // x\n/* y /* z */ */ != b::ip =~ c: 1.5e3"),
            vec![
                Identifier,
                Equal,
                Integer,
                NotEqual,
                Identifier,
                Cast,
                Identifier,
                InsensitiveEqual,
                Identifier,
                Colon,
                Decimal,
                Eof
            ]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(decode_string(r#""a\\b\"c""#), "a\\b\"c");
        assert_eq!(decode_string(r#""""a\b""""#), "a\\b");
        assert_eq!(next_token(r#""a\?b""#, 0).kind, TokenKind::BadString);
        assert_eq!(next_token("\"a\nb\"", 0).kind, TokenKind::BadString);
        let text = r#""""x"""" + 1"#;
        assert_eq!(next_token(text, 0).span.slice(text), Some("\"\"\"x\"\"\"\""));
    }

    #[test]
    fn patterns() {
        let text = "FROM logs-endpoint.events.*, remote:x-* METADATA _id";
        let token = pattern_token(text, 4, PatternKind::Source);
        assert_eq!(token.span.slice(text), Some("logs-endpoint.events.*"));
        let token = pattern_token("KEEP process.*, `a b`", 4, PatternKind::Name);
        assert_eq!(token.span, Span::new(5, 14));
    }
}
