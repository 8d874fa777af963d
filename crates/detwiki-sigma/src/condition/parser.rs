//! Recursive descent over condition tokens: `or` binds loosest, then `and`, then `not`; a chain of
//! one operator is one n-ary node (`a and b and c`), parentheses make their own node, as in
//! pySigma's `infix_notation` grammar.

use detwiki_ir::{Diagnostic, Span};

use super::lexer::{Token, TokenKind, tokenize};
use super::{Aggregation, ConditionExpr, Quantifier};
use crate::diagnostics;

/// Nesting depth past which the parser stops (a diagnostic, never a stack overflow).
const MAX_DEPTH: usize = 128;

/// A parsed condition: the expression (when the text had one) and, for the deprecated pipe syntax,
/// the aggregation after `|`. Spans are byte ranges into the condition text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedCondition {
    pub expression: Option<ConditionExpr>,
    pub aggregation: Option<Aggregation>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(text: &str) -> ParsedCondition {
    let tokens = tokenize(text);
    let pipe = tokens.iter().position(|token| token.kind == TokenKind::Pipe);
    let (expression_tokens, aggregation) = match pipe {
        Some(at) => {
            let start = tokens[at].span.end as usize;
            let rest = text.get(start..).unwrap_or_default();
            (&tokens[..at], Some(super::aggregation::parse(rest, start as u32, tokens[at].span)))
        }
        None => (&tokens[..], None),
    };
    let mut parser = Parser { text, tokens: expression_tokens, position: 0, diagnostics: Vec::new(), depth: 0 };
    let end = Span::empty(u32::try_from(text.len()).unwrap_or(u32::MAX));
    let expression = if expression_tokens.is_empty() {
        parser.diagnostics.push(diagnostics::condition_empty(end));
        None
    } else {
        let expression = parser.or_expression();
        if let Some(token) = parser.peek() {
            parser.diagnostics.push(diagnostics::condition_unexpected(
                &token_text(text, token),
                "end of condition",
                token.span,
            ));
            None
        } else {
            expression
        }
    };
    let mut diagnostics_out = parser.diagnostics;
    if let Some(aggregation) = &aggregation {
        diagnostics_out.push(diagnostics::deprecated_aggregation(aggregation.span));
        diagnostics_out.extend(aggregation.diagnostics.iter().cloned());
    }
    ParsedCondition { expression, aggregation, diagnostics: diagnostics_out }
}

fn token_text(text: &str, token: Token) -> String {
    token.span.slice(text).unwrap_or_default().to_owned()
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Token],
    position: usize,
    diagnostics: Vec<Diagnostic>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<Token> {
        self.tokens.get(self.position + offset).copied()
    }

    fn end_span(&self) -> Span {
        Span::empty(self.tokens.last().map_or(0, |token| token.span.end))
    }

    fn or_expression(&mut self) -> Option<ConditionExpr> {
        self.binary(TokenKind::Or)
    }

    fn binary(&mut self, operator: TokenKind) -> Option<ConditionExpr> {
        let operand = |parser: &mut Self| {
            if operator == TokenKind::Or { parser.binary(TokenKind::And) } else { parser.not_expression() }
        };
        let first = operand(self)?;
        let mut items = vec![first];
        while self.peek().is_some_and(|token| token.kind == operator) {
            self.position += 1;
            items.push(operand(self)?);
        }
        if items.len() == 1 {
            return items.pop();
        }
        let span = items.iter().map(ConditionExpr::span).reduce(Span::cover).unwrap_or_default();
        Some(if operator == TokenKind::Or {
            ConditionExpr::Or { items, span }
        } else {
            ConditionExpr::And { items, span }
        })
    }

    fn not_expression(&mut self) -> Option<ConditionExpr> {
        let token = self.peek();
        if let Some(token) = token.filter(|token| token.kind == TokenKind::Not) {
            if !self.enter(token.span) {
                return None;
            }
            self.position += 1;
            let item = self.not_expression();
            self.depth -= 1;
            let item = item?;
            let span = token.span.cover(item.span());
            return Some(ConditionExpr::Not { item: Box::new(item), span });
        }
        self.primary()
    }

    fn enter(&mut self, span: Span) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.diagnostics.push(diagnostics::condition_too_deep(span));
            self.depth -= 1;
            return false;
        }
        true
    }

    fn primary(&mut self) -> Option<ConditionExpr> {
        let Some(token) = self.peek() else {
            self.diagnostics.push(diagnostics::condition_unexpected(
                "end of condition",
                "an identifier",
                self.end_span(),
            ));
            return None;
        };
        match token.kind {
            TokenKind::LeftParen => {
                if !self.enter(token.span) {
                    return None;
                }
                self.position += 1;
                let inner = self.or_expression();
                self.depth -= 1;
                let inner = inner?;
                match self.peek() {
                    Some(close) if close.kind == TokenKind::RightParen => {
                        self.position += 1;
                        Some(inner.with_span(token.span.cover(close.span)))
                    }
                    other => {
                        let (found, span) = match other {
                            Some(other) => (token_text(self.text, other), other.span),
                            None => ("end of condition".to_owned(), self.end_span()),
                        };
                        self.diagnostics.push(
                            diagnostics::condition_unexpected(&found, "`)`", span)
                                .with_label(token.span, "opened here"),
                        );
                        None
                    }
                }
            }
            TokenKind::Word => {
                let word = token_text(self.text, token);
                let quantifier = match word.as_str() {
                    "1" => Some(Quantifier::One),
                    "any" => Some(Quantifier::Any),
                    "all" => Some(Quantifier::All),
                    _ => None,
                };
                if let Some(quantifier) = quantifier
                    && self.peek_at(1).is_some_and(|next| next.kind == TokenKind::Of)
                {
                    self.position += 2;
                    let Some(pattern) = self.peek().filter(|next| next.kind == TokenKind::Word) else {
                        let span = self.peek().map_or(self.end_span(), |next| next.span);
                        self.diagnostics.push(diagnostics::condition_unexpected(
                            &self.peek().map_or("end of condition".to_owned(), |next| token_text(self.text, next)),
                            "an identifier pattern or `them`",
                            span,
                        ));
                        return None;
                    };
                    self.position += 1;
                    let pattern_text = token_text(self.text, pattern);
                    if pattern_text.contains('-') {
                        self.diagnostics.push(diagnostics::condition_bad_pattern(&pattern_text, pattern.span));
                        return None;
                    }
                    return Some(ConditionExpr::Selector {
                        quantifier,
                        pattern: pattern_text,
                        span: token.span.cover(pattern.span),
                    });
                }
                self.position += 1;
                if word.contains('*') {
                    self.diagnostics.push(diagnostics::condition_wildcard_identifier(&word, token.span));
                    return None;
                }
                Some(ConditionExpr::Identifier { name: word, span: token.span })
            }
            _ => {
                self.diagnostics.push(diagnostics::condition_unexpected(
                    &token_text(self.text, token),
                    "an identifier, `not`, `(` or a quantifier",
                    token.span,
                ));
                None
            }
        }
    }
}
