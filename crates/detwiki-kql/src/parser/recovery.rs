//! Recovery machinery: the depth guard and the skipping functions that resynchronise after an
//! error. Every skipping loop consumes at least one token per iteration or stops.

use super::{MAX_DEPTH, Parser};
use crate::diagnostics;
use crate::token::TokenKind;

impl Parser<'_> {
    /// Enters one level of nesting. Past [`MAX_DEPTH`] it reports once, skips the rest of the
    /// nested text and returns false; the caller then returns a missing node without recursing.
    pub(super) fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            let span = self.current().span;
            self.report(diagnostics::too_deep(span));
            self.skip_nested_rest();
            return false;
        }
        self.depth += 1;
        true
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips tokens until an unmatched closing bracket, or a `|`, `,` or `;` outside brackets.
    /// Used when nesting is too deep: the outer levels then close normally.
    pub(super) fn skip_nested_rest(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::LeftParen | TokenKind::LeftBracket | TokenKind::LeftBrace => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket | TokenKind::RightBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe | TokenKind::Comma | TokenKind::Semicolon if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips one balanced group starting at an opening bracket (or one token otherwise).
    pub(super) fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => {
                    if depth > 0 {
                        self.error_expected("a closing bracket");
                    }
                    return;
                }
                TokenKind::LeftParen | TokenKind::LeftBracket | TokenKind::LeftBrace => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket | TokenKind::RightBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ if depth == 0 => {
                    self.bump();
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips the rest of an operator whose body is kept as raw text: up to a `|`, `;` or an
    /// unmatched closing bracket.
    pub(super) fn skip_operator_rest(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => {
                    if depth > 0 {
                        self.error_expected("a closing bracket");
                    }
                    return;
                }
                TokenKind::LeftParen | TokenKind::LeftBracket | TokenKind::LeftBrace => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket | TokenKind::RightBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe | TokenKind::Semicolon if depth == 0 => return,
                TokenKind::Semicolon if depth > 0 => {
                    self.error_expected("a closing bracket");
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the `;` that ends a directive statement (`set`, `alias`...).
    pub(super) fn skip_to_statement_end(&mut self) {
        while !self.at_eof() && !self.at(TokenKind::Semicolon) {
            self.bump();
        }
    }

    /// Reports a token that cannot start anything here and steps over it, with its own message
    /// for lexical problems.
    pub(super) fn report_bad_token(&mut self) {
        let token = self.current();
        let text = self.token_text(token).to_owned();
        let diagnostic = match token.kind {
            TokenKind::UnterminatedString => diagnostics::unterminated_string(token.span),
            TokenKind::BadNumber => diagnostics::bad_number(&text, token.span),
            TokenKind::Unknown => diagnostics::unexpected_character(&text, token.span),
            _ => {
                let found = self.found();
                diagnostics::expected("an expression", &found, token.span)
            }
        };
        self.report(diagnostic);
    }
}
