//! Recursive descent for Lucene query strings, with the precedence the reference parser (luqum)
//! uses: clauses side by side bind loosest, then `OR`, then `AND`, then the prefix operators
//! (`NOT`, `!`, `+`, `-`). Parsing never fails: errors become diagnostics and missing nodes.

use detwiki_ir::{Diagnostic, Span};

use super::ast::Node;
use super::diagnostics;
use super::lexer::{Token, TokenKind, tokenize};

/// Deepest nesting of groups and prefix operators parsed.
pub const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub query: Option<Node>,
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
            .unwrap_or(Token { kind: TokenKind::Eof, span: Span::from_usize(self.text.len(), self.text.len()) })
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

    fn report(&mut self, diagnostic: Diagnostic) {
        if !self.diagnostics.iter().any(|known| known.span.start == diagnostic.span.start) {
            self.diagnostics.push(diagnostic);
        }
    }

    fn error_expected(&mut self, what: &str) {
        let token = self.current();
        let diagnostic = if token.kind == TokenKind::Unterminated {
            diagnostics::unterminated(token.span)
        } else {
            diagnostics::expected(what, &self.found(), token.span)
        };
        self.report(diagnostic);
    }

    fn top(&mut self) -> Option<Node> {
        if self.kind() == TokenKind::Eof {
            return None;
        }
        let mut items = vec![self.implicit()];
        // Each round consumes at least one token.
        while self.kind() != TokenKind::Eof {
            self.error_expected("an operator, a clause or end of query");
            self.bump();
            if self.can_start() {
                items.push(self.implicit());
            }
        }
        if items.len() == 1 {
            return items.pop();
        }
        let span = cover(&items);
        Some(Node::Implicit { items, span })
    }

    fn can_start(&self) -> bool {
        matches!(
            self.kind(),
            TokenKind::Term
                | TokenKind::Phrase
                | TokenKind::Regex
                | TokenKind::LeftParen
                | TokenKind::LeftBracket
                | TokenKind::LeftBrace
                | TokenKind::Not
                | TokenKind::Plus
                | TokenKind::Minus
                | TokenKind::Unterminated
        )
    }

    fn implicit(&mut self) -> Node {
        let mut items = vec![self.or_expression()];
        while self.can_start() {
            let before = self.position;
            items.push(self.or_expression());
            if self.position == before {
                break;
            }
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Node::Missing { span: Span::default() });
        }
        let span = cover(&items);
        Node::Implicit { items, span }
    }

    fn or_expression(&mut self) -> Node {
        let mut items = vec![self.and_expression()];
        while self.kind() == TokenKind::Or {
            self.bump();
            items.push(self.and_expression());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Node::Missing { span: Span::default() });
        }
        let span = cover(&items);
        Node::Or { items, span }
    }

    fn and_expression(&mut self) -> Node {
        let mut items = vec![self.unary()];
        while self.kind() == TokenKind::And {
            self.bump();
            items.push(self.unary());
        }
        if items.len() == 1 {
            return items.pop().unwrap_or(Node::Missing { span: Span::default() });
        }
        let span = cover(&items);
        Node::And { items, span }
    }

    fn unary(&mut self) -> Node {
        let kind = self.kind();
        if matches!(kind, TokenKind::Not | TokenKind::Plus | TokenKind::Minus) {
            let operator = self.current();
            if !self.enter() {
                return Node::Missing { span: operator.span };
            }
            self.bump();
            let item = Box::new(self.unary());
            self.leave();
            let span = operator.span.cover(item.span());
            return match kind {
                TokenKind::Not => Node::Not { item, span },
                TokenKind::Plus => Node::Required { item, span },
                _ => Node::Prohibit { item, span },
            };
        }
        let node = self.primary();
        self.modifiers();
        node
    }

    /// Boosts, fuzziness and proximity (`^2`, `~`, `~3`) change scoring or distance, not which
    /// field or value is searched: they are consumed.
    fn modifiers(&mut self) {
        while self.kind() == TokenKind::Modifier {
            self.bump();
        }
    }

    fn primary(&mut self) -> Node {
        let token = self.current();
        match token.kind {
            TokenKind::LeftParen => self.group(),
            TokenKind::Term if self.tokens.get(self.position + 1).map(|next| next.kind) == Some(TokenKind::Colon) => {
                if !self.enter() {
                    return Node::Missing { span: token.span };
                }
                self.bump();
                self.bump();
                let value = self.field_value();
                self.leave();
                let span = token.span.cover(value.span());
                Node::Field { name: token.span, value: Box::new(value), span }
            }
            TokenKind::Term => Node::Term { span: self.bump().span },
            TokenKind::Phrase => Node::Phrase { span: self.bump().span },
            TokenKind::Regex => Node::Regex { span: self.bump().span },
            TokenKind::LeftBracket | TokenKind::LeftBrace => self.range(),
            _ => {
                self.error_expected("a term, a field or `(`");
                let span = Span::empty(token.span.start);
                if matches!(
                    token.kind,
                    TokenKind::Colon | TokenKind::Compare | TokenKind::Modifier | TokenKind::Unterminated
                ) {
                    self.bump();
                }
                Node::Missing { span }
            }
        }
    }

    fn field_value(&mut self) -> Node {
        let token = self.current();
        match token.kind {
            TokenKind::Compare => {
                self.bump();
                let value = self.current();
                if matches!(value.kind, TokenKind::Term | TokenKind::Phrase) {
                    self.bump();
                    return Node::Compare { op: token.span, value: value.span, span: token.span.cover(value.span) };
                }
                self.error_expected("a value");
                Node::Missing { span: Span::empty(value.span.start) }
            }
            TokenKind::Not | TokenKind::Plus | TokenKind::Minus => self.unary(),
            _ => {
                let node = self.primary();
                self.modifiers();
                node
            }
        }
    }

    fn group(&mut self) -> Node {
        let open = self.current();
        if !self.enter() {
            return Node::Missing { span: open.span };
        }
        self.bump();
        let item = if self.kind() == TokenKind::RightParen {
            self.error_expected("a clause");
            Node::Missing { span: Span::empty(self.current().span.start) }
        } else {
            self.implicit()
        };
        let close = self.expect_close(TokenKind::RightParen, ")", open.span);
        self.leave();
        Node::Group { item: Box::new(item), span: open.span.cover(close) }
    }

    fn range(&mut self) -> Node {
        let open = self.bump();
        let include_low = open.kind == TokenKind::LeftBracket;
        let low = self.bound();
        let to = self.current();
        if to.kind == TokenKind::Term && to.span.slice(self.text) == Some("TO") {
            self.bump();
        } else {
            self.error_expected("`TO`");
        }
        let high = self.bound();
        let close = self.current();
        let include_high = match close.kind {
            TokenKind::RightBracket => true,
            TokenKind::RightBrace => false,
            _ => {
                let found = self.found();
                self.report(diagnostics::unclosed("]` or `}", &found, close.span, open.span));
                return Node::Range { low, high, include_low, include_high: true, span: open.span.cover(high) };
            }
        };
        self.bump();
        Node::Range { low, high, include_low, include_high, span: open.span.cover(close.span) }
    }

    fn bound(&mut self) -> Span {
        let token = self.current();
        let is_to = token.span.slice(self.text) == Some("TO");
        if matches!(token.kind, TokenKind::Term | TokenKind::Phrase) && !is_to {
            return self.bump().span;
        }
        self.error_expected("a range bound");
        Span::empty(token.span.start)
    }

    fn expect_close(&mut self, kind: TokenKind, closer: &str, opened: Span) -> Span {
        if self.kind() == kind {
            return self.bump().span;
        }
        let token = self.current();
        let found = self.found();
        self.report(diagnostics::unclosed(closer, &found, token.span, opened));
        Span::empty(token.span.start)
    }

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

fn cover(items: &[Node]) -> Span {
    items.iter().map(Node::span).reduce(Span::cover).unwrap_or_default()
}
