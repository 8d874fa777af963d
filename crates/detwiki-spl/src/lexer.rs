//! Tokens of one command's arguments.
//!
//! SPL has two lexical worlds: search terms (`CommandLine=*\\cmd.exe*`, where `*`, `\` and `.`
//! are parts of a word) and eval expressions (`a.b + 1`, where `+` and a lone `.` are
//! operators). The parser splits the pipeline first and lexes each command's text in the mode its
//! command needs. Values are sliced from the text on demand; tokens are small and `Copy`.

use detwiki_ir::{Diagnostic, Span};

use crate::diagnostics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A bare word: a field name, a value, a keyword, a number, a wildcard pattern.
    Word,
    /// A double-quoted string (quotes included in the span).
    String,
    /// A single-quoted field name in eval (`'Processes.process'`).
    QuotedField,
    Pipe,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Eq,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// The eval concatenation operator (a `.` standing alone).
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    pub fn text(self, source: &str) -> &str {
        source.get(self.span.range()).unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Search,
    Eval,
}

/// Lexes `source[start..end]`; spans are offsets into `source`.
pub fn tokenize(source: &str, start: usize, end: usize, mode: Mode, diagnostics: &mut Vec<Diagnostic>) -> Vec<Token> {
    lex(source, start, end, mode, diagnostics, usize::MAX)
}

/// The first token of `source[start..end]` in search mode (comments skipped), without lexing the
/// rest: the pipeline splitter only needs it to name a command.
pub(crate) fn first_token(source: &str, start: usize, end: usize) -> Option<Token> {
    lex(source, start, end, Mode::Search, &mut Vec::new(), 1).first().copied()
}

/// [`tokenize`], stopping after `limit` tokens.
fn lex(
    source: &str,
    start: usize,
    end: usize,
    mode: Mode,
    diagnostics: &mut Vec<Diagnostic>,
    limit: usize,
) -> Vec<Token> {
    let bytes = source.as_bytes();
    let end = end.min(bytes.len());
    let mut tokens = Vec::new();
    let mut index = start;
    while index < end && tokens.len() < limit {
        let byte = bytes[index];
        if byte.is_ascii_whitespace() {
            index += 1;
            continue;
        }
        if bytes[index..end].starts_with(b"```") {
            match source.get(index + 3..end).and_then(|rest| rest.find("```")) {
                Some(offset) => index += 3 + offset + 3,
                None => {
                    diagnostics.push(diagnostics::unterminated_comment(Span::from_usize(index, end)));
                    index = end;
                }
            }
            continue;
        }
        let single = |kind| (kind, 1);
        let next = bytes.get(index + 1).copied().filter(|_| index + 1 < end);
        let (kind, length) = match byte {
            b'"' => {
                let close = crate::macros::skip_string(&bytes[..end], index);
                if close > end || bytes.get(close - 1) != Some(&b'"') || close == index + 1 {
                    diagnostics.push(diagnostics::unterminated_string(Span::from_usize(index, end)));
                }
                (TokenKind::String, close.min(end) - index)
            }
            b'\'' if mode == Mode::Eval => {
                let close = source.get(index + 1..end).and_then(|rest| rest.find('\'')).map_or(end, |o| index + 2 + o);
                (TokenKind::QuotedField, close - index)
            }
            b'|' => single(TokenKind::Pipe),
            b'[' => single(TokenKind::LBracket),
            b']' => single(TokenKind::RBracket),
            b'(' => single(TokenKind::LParen),
            b')' => single(TokenKind::RParen),
            b',' => single(TokenKind::Comma),
            b'=' if next == Some(b'=') => (TokenKind::EqEq, 2),
            b'=' => single(TokenKind::Eq),
            b'!' if next == Some(b'=') => (TokenKind::NotEq, 2),
            b'<' if next == Some(b'=') => (TokenKind::Le, 2),
            b'<' if next == Some(b'>') => (TokenKind::NotEq, 2),
            b'<' => single(TokenKind::Lt),
            b'>' if next == Some(b'=') => (TokenKind::Ge, 2),
            b'>' => single(TokenKind::Gt),
            b'+' if mode == Mode::Eval => single(TokenKind::Plus),
            b'-' if mode == Mode::Eval && !next.is_some_and(|c| c.is_ascii_digit()) => single(TokenKind::Minus),
            b'*' if mode == Mode::Eval => single(TokenKind::Star),
            b'/' if mode == Mode::Eval => single(TokenKind::Slash),
            b'%' if mode == Mode::Eval => single(TokenKind::Percent),
            b'.' if mode == Mode::Eval && !next.is_some_and(|c| c.is_ascii_digit()) => single(TokenKind::Dot),
            _ => (TokenKind::Word, word_length(bytes, index, end, mode)),
        };
        let length = length.max(1);
        // Words end on ASCII delimiters only, so `index + length` is a char boundary; a
        // multi-byte character inside a word is consumed whole.
        tokens.push(Token { kind, span: Span::from_usize(index, (index + length).min(end)) });
        index += length;
    }
    tokens
}

fn word_length(bytes: &[u8], start: usize, end: usize, mode: Mode) -> usize {
    // An unexpanded macro call is one word, whatever its arguments hold.
    if bytes[start] == b'`'
        && let Some(close) = bytes[start + 1..end].iter().position(|byte| *byte == b'`')
    {
        return close + 2;
    }
    let mut index = start;
    while index < end {
        let byte = bytes[index];
        let stop = match mode {
            Mode::Search => {
                byte.is_ascii_whitespace()
                    || matches!(byte, b'"' | b'(' | b')' | b'[' | b']' | b'|' | b',' | b'=' | b'<' | b'>')
                    || (byte == b'!' && bytes.get(index + 1) == Some(&b'='))
                    || (byte == b'`' && bytes[index..end].starts_with(b"```"))
            }
            Mode::Eval => {
                !(byte.is_ascii_alphanumeric()
                    || matches!(byte, b'_' | b'.' | b':' | b'{' | b'}' | b'@' | b'$' | b'\\')
                    || byte >= 0x80)
                    || (byte == b'.'
                        && index > start
                        && bytes.get(index + 1).is_some_and(|c| c.is_ascii_whitespace() || *c == b'"'))
            }
        };
        if stop {
            break;
        }
        if byte == b'\\' && mode == Mode::Search && index + 1 < end {
            index += 2;
            continue;
        }
        index += 1;
    }
    // A leading `-` in eval starts a negative number.
    if mode == Mode::Eval && index == start {
        index = start + 1;
        while index < end && (bytes[index].is_ascii_digit() || bytes[index] == b'.') {
            index += 1;
        }
    }
    while index < end && index < bytes.len() && (bytes[index] & 0xC0) == 0x80 {
        index += 1;
    }
    index - start
}

/// The value of a string or word as Splunk reads it: surrounding quotes removed, `\\` and `\"`
/// unescaped once; other backslashes kept (paths such as `C:\Windows`).
pub fn unquote(text: &str) -> String {
    let inner = if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        &text[1..text.len() - 1]
    } else {
        text.strip_prefix('"').unwrap_or(text)
    };
    if !inner.contains('\\') {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && (next == '\\' || next == '"')
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, mode: Mode) -> Vec<(TokenKind, String)> {
        let mut diagnostics = Vec::new();
        tokenize(text, 0, text.len(), mode, &mut diagnostics)
            .into_iter()
            .map(|token| (token.kind, token.text(text).to_owned()))
            .collect()
    }

    #[test]
    fn search_words_keep_wildcards_and_paths() {
        let tokens = kinds(r#"CommandLine=*\\cmd.exe* NOT x!="a \"b\"" ```c```(y<=3)"#, Mode::Search);
        let texts: Vec<&str> = tokens.iter().map(|(_, text)| text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["CommandLine", "=", r"*\\cmd.exe*", "NOT", "x", "!=", r#""a \"b\"""#, "(", "y", "<=", "3", ")"]
        );
    }

    #[test]
    fn eval_operators() {
        let tokens = kinds(r#"x = a.b + -1 . "s" * 'f g'"#, Mode::Eval);
        let texts: Vec<&str> = tokens.iter().map(|(_, text)| text.as_str()).collect();
        assert_eq!(texts, vec!["x", "=", "a.b", "+", "-1", ".", "\"s\"", "*", "'f g'"]);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""*\\cmd.exe""#), r"*\cmd.exe");
        assert_eq!(unquote(r#""a\"b""#), "a\"b");
        assert_eq!(unquote(r"C:\Windows"), r"C:\Windows");
    }
}
