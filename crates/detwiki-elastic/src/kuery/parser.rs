//! Recursive descent over Kibana's kuery grammar (`or` binds loosest, then `and`, then `not`;
//! `not` applies to a group or an expression, never to another `not`). Parsing never fails: a
//! syntax error gives a diagnostic and a [`Query::Missing`] node, and parsing goes on after it.

use detwiki_ir::{Diagnostic, Span};

use super::ast::{Literal, Query, RangeOp, Target, Values};
use super::diagnostics;
use super::lexer::{Token, TokenKind, tokenize};

/// Deepest nesting of parentheses and braces parsed; deeper text is skipped with a diagnostic.
pub const MAX_DEPTH: usize = 100;

/// A parsed query: the tree (`None` for an empty query) and the syntax errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub query: Option<Query>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(text: &str) -> Parsed {
    let mut parser = Parser { text, tokens: tokenize(text), position: 0, depth: 0, diagnostics: Vec::new() };
    let query = parser.top();
    Parsed { query, diagnostics: parser.diagnostics }
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn current(&self) -> Token {
        self.tokens
            .get(self.position)
            .copied()
            .unwrap_or(Token { kind: TokenKind::Eof, span: Span::empty(self.text.len() as u32) })
    }

    fn kind(&self) -> TokenKind {
        self.current().kind
    }

    fn bump(&mut self) -> Token {
        let token = self.current();
        if token.kind != TokenKind::Eof {
            self.position += 1;
        }
        token
    }

    fn found(&self) -> String {
        let token = self.current();
        match token.kind {
            TokenKind::Eof => "end of query".to_owned(),
            _ => format!("`{}`", token.span.slice(self.text).unwrap_or("")),
        }
    }

    /// Reports at the current token, once per offset.
    fn report(&mut self, diagnostic: Diagnostic) {
        if self.diagnostics.iter().any(|known| known.span.start == diagnostic.span.start) {
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    fn error_expected(&mut self, what: &str) {
        let token = self.current();
        let diagnostic = match token.kind {
            TokenKind::Unexpected => diagnostics::lone_backslash(token.span),
            TokenKind::Not => diagnostics::double_not(token.span),
            _ => diagnostics::expected(what, &self.found(), token.span),
        };
        self.report(diagnostic);
    }

    fn top(&mut self) -> Option<Query> {
        if self.kind() == TokenKind::Eof {
            return None;
        }
        let mut items = vec![self.or_query()];
        // Recovery: report what cannot continue the query, skip it, and parse what follows as
        // another conjunct. Each round consumes at least one token.
        while self.kind() != TokenKind::Eof {
            self.error_expected("`and`, `or` or end of query");
            self.bump();
            if self.kind() != TokenKind::Eof && self.can_start_query() {
                items.push(self.or_query());
            }
        }
        if items.len() == 1 {
            return items.pop();
        }
        let span = cover(&items);
        Some(Query::And { items, span })
    }

    fn can_start_query(&self) -> bool {
        matches!(
            self.kind(),
            TokenKind::Not
                | TokenKind::LeftParen
                | TokenKind::Quoted
                | TokenKind::Unquoted
                | TokenKind::UnterminatedQuoted
        )
    }

    fn or_query(&mut self) -> Query {
        let mut items = vec![self.and_query()];
        while self.kind() == TokenKind::Or {
            self.bump();
            items.push(self.and_query());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Query::Missing { span: Span::default() });
        }
        let span = cover(&items);
        Query::Or { items, span }
    }

    fn and_query(&mut self) -> Query {
        let mut items = vec![self.not_query()];
        while self.kind() == TokenKind::And {
            self.bump();
            items.push(self.not_query());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Query::Missing { span: Span::default() });
        }
        let span = cover(&items);
        Query::And { items, span }
    }

    fn not_query(&mut self) -> Query {
        if self.kind() == TokenKind::Not {
            let keyword = self.bump();
            let item = self.sub_query();
            let span = keyword.span.cover(item.span());
            return Query::Not { item: Box::new(item), span };
        }
        self.sub_query()
    }

    fn sub_query(&mut self) -> Query {
        if self.kind() == TokenKind::LeftParen {
            let open = self.current();
            if !self.enter() {
                return Query::Missing { span: open.span };
            }
            self.bump();
            let inner = self.or_query();
            let close = self.expect_close(TokenKind::RightParen, ")", open.span);
            self.leave();
            return match inner {
                // Parentheses only group: keep the inner node, widened to the brackets for display.
                Query::Or { items, .. } => Query::Or { items, span: open.span.cover(close) },
                Query::And { items, .. } => Query::And { items, span: open.span.cover(close) },
                other => other,
            };
        }
        self.expression()
    }

    fn literal(&mut self) -> Option<Literal> {
        let token = self.current();
        match token.kind {
            TokenKind::Quoted => {
                self.bump();
                Some(Literal { quoted: true, span: token.span })
            }
            TokenKind::UnterminatedQuoted => {
                self.report(diagnostics::unterminated_string(token.span));
                self.bump();
                Some(Literal { quoted: true, span: token.span })
            }
            TokenKind::Unquoted => {
                self.bump();
                Some(Literal { quoted: false, span: token.span })
            }
            _ => None,
        }
    }

    fn expression(&mut self) -> Query {
        let Some(first) = self.literal() else {
            self.error_expected("a field, a value or `(`");
            let span = Span::empty(self.current().span.start);
            // Consume a stray closing bracket or operator so that the caller makes progress.
            if matches!(
                self.kind(),
                TokenKind::Colon
                    | TokenKind::Less
                    | TokenKind::LessEqual
                    | TokenKind::Greater
                    | TokenKind::GreaterEqual
                    | TokenKind::Unexpected
                    | TokenKind::LeftBrace
                    | TokenKind::RightBrace
            ) {
                self.bump();
            }
            return Query::Missing { span };
        };
        let range = match self.kind() {
            TokenKind::Less => Some(RangeOp::Less),
            TokenKind::LessEqual => Some(RangeOp::LessEqual),
            TokenKind::Greater => Some(RangeOp::Greater),
            TokenKind::GreaterEqual => Some(RangeOp::GreaterEqual),
            _ => None,
        };
        if let Some(op) = range {
            self.bump();
            let Some(value) = self.literal() else {
                self.error_expected("a value");
                let span = first.span.cover(Span::empty(self.current().span.start));
                return Query::Field { field: first, target: Target::Values(Values::Missing { span }), span };
            };
            let span = first.span.cover(value.span);
            return Query::Field { field: first, target: Target::Range { op, value }, span };
        }
        if self.kind() != TokenKind::Colon {
            return Query::Value { value: first };
        }
        self.bump();
        if self.kind() == TokenKind::LeftBrace {
            let open = self.current();
            if !self.enter() {
                return Query::Missing { span: open.span };
            }
            self.bump();
            let inner = self.or_query();
            let close = self.expect_close(TokenKind::RightBrace, "}", open.span);
            self.leave();
            let span = first.span.cover(close);
            return Query::Field { field: first, target: Target::Nested(Box::new(inner)), span };
        }
        let values = self.list_of_values();
        let span = first.span.cover(values_span(&values));
        Query::Field { field: first, target: Target::Values(values), span }
    }

    fn list_of_values(&mut self) -> Values {
        if self.kind() == TokenKind::LeftParen {
            let open = self.current();
            if !self.enter() {
                return Values::Missing { span: open.span };
            }
            self.bump();
            let inner = self.or_values();
            let close = self.expect_close(TokenKind::RightParen, ")", open.span);
            self.leave();
            return match inner {
                Values::Or { items, .. } => Values::Or { items, span: open.span.cover(close) },
                Values::And { items, .. } => Values::And { items, span: open.span.cover(close) },
                other => other,
            };
        }
        match self.literal() {
            Some(literal) => Values::One(literal),
            None => {
                self.error_expected("a value or `(`");
                Values::Missing { span: Span::empty(self.current().span.start) }
            }
        }
    }

    fn or_values(&mut self) -> Values {
        let mut items = vec![self.and_values()];
        while self.kind() == TokenKind::Or {
            self.bump();
            items.push(self.and_values());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Values::Missing { span: Span::default() });
        }
        let span = items.iter().map(values_span).reduce(Span::cover).unwrap_or_default();
        Values::Or { items, span }
    }

    fn and_values(&mut self) -> Values {
        let mut items = vec![self.not_values()];
        while self.kind() == TokenKind::And {
            self.bump();
            items.push(self.not_values());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Values::Missing { span: Span::default() });
        }
        let span = items.iter().map(values_span).reduce(Span::cover).unwrap_or_default();
        Values::And { items, span }
    }

    fn not_values(&mut self) -> Values {
        if self.kind() == TokenKind::Not {
            let keyword = self.bump();
            let item = self.list_of_values();
            let span = keyword.span.cover(values_span(&item));
            return Values::Not { item: Box::new(item), span };
        }
        self.list_of_values()
    }

    /// Expects a closing bracket; reports it as unclosed (with where it opened) otherwise. Returns
    /// the span to end the group at.
    fn expect_close(&mut self, kind: TokenKind, closer: &str, opened: Span) -> Span {
        if self.kind() == kind {
            return self.bump().span;
        }
        let token = self.current();
        let found = self.found();
        self.report(diagnostics::unclosed(closer, &found, token.span, opened));
        Span::empty(token.span.start)
    }

    /// Enters one level of nesting; past [`MAX_DEPTH`] reports once, skips to the end of the
    /// query and returns false.
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            let span = self.current().span;
            self.report(diagnostics::too_deep(span));
            self.position = self.tokens.len().saturating_sub(1);
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

fn cover(items: &[Query]) -> Span {
    items.iter().map(Query::span).reduce(Span::cover).unwrap_or_default()
}

pub fn values_span(values: &Values) -> Span {
    match values {
        Values::Or { span, .. } | Values::And { span, .. } | Values::Not { span, .. } | Values::Missing { span } => {
            *span
        }
        Values::One(literal) => literal.span,
    }
}
