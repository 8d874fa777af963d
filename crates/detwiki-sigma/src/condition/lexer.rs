//! Tokens of a Sigma condition. Keywords are lower-case and whole words, as in pySigma's grammar
//! (`notepad` is an identifier, `AND` is an identifier).

use detwiki_ir::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or an identifier pattern (`selection_*`); also `1`.
    Word,
    LeftParen,
    RightParen,
    And,
    Or,
    Not,
    Of,
    /// `|`: everything after it is the deprecated aggregation.
    Pipe,
    /// A character the grammar does not know.
    Unknown,
}

/// A token: its kind and its byte range in the condition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

fn is_word_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '*')
}

/// Splits `text` into tokens; whitespace separates, nothing is lost (unknown characters become
/// `Unknown` tokens so the parser can report them).
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut characters = text.char_indices().peekable();
    while let Some((start, character)) = characters.next() {
        if character.is_whitespace() {
            continue;
        }
        let kind = match character {
            '(' => TokenKind::LeftParen,
            ')' => TokenKind::RightParen,
            '|' => TokenKind::Pipe,
            c if is_word_character(c) => {
                let mut end = start + c.len_utf8();
                while let Some(&(index, next)) = characters.peek() {
                    if !is_word_character(next) {
                        break;
                    }
                    end = index + next.len_utf8();
                    characters.next();
                }
                let kind = match &text[start..end] {
                    "and" => TokenKind::And,
                    "or" => TokenKind::Or,
                    "not" => TokenKind::Not,
                    "of" => TokenKind::Of,
                    _ => TokenKind::Word,
                };
                tokens.push(Token { kind, span: Span::from_usize(start, end) });
                continue;
            }
            _ => TokenKind::Unknown,
        };
        tokens.push(Token { kind, span: Span::from_usize(start, start + character.len_utf8()) });
    }
    tokens
}
