//! The token cursor, error bookkeeping (never two errors at one offset), the depth guard and
//! skipping after an unclosed step.

use detwiki_ir::{Diagnostic, Span};

use super::Parser;
use crate::eql::token::{Token, TokenKind};

impl Parser<'_> {
    pub(super) fn peek(&self) -> Token {
        self.peek_at(0)
    }

    /// The token `offset` places ahead; the end-of-input token past the end.
    pub(super) fn peek_at(&self, offset: usize) -> Token {
        let last = self.tokens.len() - 1;
        self.tokens[(self.position + offset).min(last)]
    }

    pub(super) fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    pub(super) fn at_word(&self, word: &str) -> bool {
        self.peek_word_at(0) == Some(word)
    }

    /// The word `offset` tokens ahead, when that token is a plain name.
    pub(super) fn peek_word_at(&self, offset: usize) -> Option<&str> {
        let token = self.peek_at(offset);
        (token.kind == TokenKind::Name).then(|| self.slice(token.span))
    }

    /// Consumes the current token (never past the end-of-input token).
    pub(super) fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::EndOfInput {
            self.position += 1;
        }
        token
    }

    pub(super) fn previous_end(&self) -> u32 {
        self.position.checked_sub(1).map_or(0, |index| self.tokens[index].span.end)
    }

    pub(super) fn slice(&self, span: Span) -> &str {
        span.slice(self.text).unwrap_or("")
    }

    /// A token as shown in messages: `` `text` `` (shortened), or "end of query".
    pub(super) fn describe(&self, token: Token) -> String {
        if token.kind == TokenKind::EndOfInput {
            return "end of query".to_owned();
        }
        let text = self.slice(token.span);
        let short: String = text.chars().take(24).collect();
        if short.len() < text.len() { format!("`{short}...`") } else { format!("`{short}`") }
    }

    /// Records an error unless one is already recorded at the same offset (one mistake gives
    /// one message, not a cascade).
    pub(super) fn error(&mut self, diagnostic: Diagnostic) {
        if self.diagnostics.iter().any(|existing| existing.is_error() && existing.span.start == diagnostic.span.start) {
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    /// Whether the current token can begin an expression.
    pub(super) fn starts_expression(&self) -> bool {
        !matches!(
            self.peek().kind,
            TokenKind::RightParen
                | TokenKind::RightBracket
                | TokenKind::LeftBracket
                | TokenKind::BangBracket
                | TokenKind::Pipe
                | TokenKind::Comma
                | TokenKind::EndOfInput
        )
    }

    /// Enters one level of nesting; false (with a diagnostic) past [`super::MAX_DEPTH`].
    pub(super) fn enter(&mut self) -> bool {
        if self.depth >= super::MAX_DEPTH {
            let span = self.peek().span;
            self.error(crate::eql::diagnostics::too_deep(span));
            return false;
        }
        self.depth += 1;
        true
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// After a step that did not close: skips to the `]` that closes it (brackets and parentheses
    /// inside are balanced), or stops before the next step or the end.
    pub(super) fn skip_past_bracket(&mut self) {
        let mut nesting = 0usize;
        loop {
            match self.peek().kind {
                TokenKind::EndOfInput | TokenKind::Pipe if nesting == 0 => return,
                TokenKind::EndOfInput => return,
                TokenKind::LeftBracket | TokenKind::BangBracket if nesting == 0 => return,
                TokenKind::LeftParen | TokenKind::LeftBracket | TokenKind::BangBracket => nesting += 1,
                TokenKind::RightParen => nesting = nesting.saturating_sub(1),
                TokenKind::RightBracket if nesting == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::RightBracket => nesting -= 1,
                _ => {}
            }
            self.bump();
        }
    }
}
