//! Expressions: a Pratt parser with YARA-L's precedence, from loosest to tightest: `or`, `and`,
//! `not` (prefix), comparisons and `in`, `+ -`, `* /`, unary `-`. Keywords are case-insensitive
//! (`AND`, `Or`, `NOT`, `NOCASE` all occur in the corpus).
//!
//! Statements of `events` are not separated by any token: one ends where the next token cannot
//! continue an expression, which is how `$a = "x"` on one line and `$b = "y"` on the next become
//! two statements while `$a = "x"\n or $b = "y"` stays one.

use detwiki_ir::Span;

use super::{MAX_DEPTH, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, ListMatch, PathStep};
use crate::diagnostics;
use crate::lexer::decode_string;
use crate::token::TokenKind;

const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const COMPARISON: u8 = 4;
const ADDITIVE: u8 = 5;
const MULTIPLICATIVE: u8 = 6;
const UNARY: u8 = 7;

impl Parser<'_> {
    pub(super) fn expression(&mut self) -> Expr {
        self.expression_above(0)
    }

    /// Parses an expression whose infix operators all bind tighter than `minimum`.
    fn expression_above(&mut self, minimum: u8) -> Expr {
        if self.depth >= MAX_DEPTH {
            let span = self.current().span;
            self.report(diagnostics::too_deep(span));
            self.skip_nested_rest();
            return Expr::missing(span.start);
        }
        self.depth += 1;
        let mut left = self.prefix();
        while let Some((precedence, operator)) = self.infix() {
            if precedence <= minimum {
                break;
            }
            left = match operator {
                Infix::Binary(op @ (BinaryOp::And | BinaryOp::Or)) => {
                    self.bump();
                    let right = self.expression_above(precedence);
                    let span = left.span.cover(right.span);
                    let mut items = match left.kind {
                        ExprKind::And(items) if op == BinaryOp::And => items,
                        ExprKind::Or(items) if op == BinaryOp::Or => items,
                        kind => vec![Expr { kind, span: left.span }],
                    };
                    items.push(right);
                    let kind = if op == BinaryOp::And { ExprKind::And(items) } else { ExprKind::Or(items) };
                    Expr { kind, span }
                }
                Infix::Binary(op) => {
                    self.bump();
                    let right = self.expression_above(precedence);
                    let (right, nocase) = match right.kind {
                        ExprKind::Nocase(inner) if op.is_comparison() => (*inner, true),
                        kind => (Expr { kind, span: right.span }, false),
                    };
                    let span = left.span.cover(right.span).cover(Span::new(left.span.start, self.previous_end()));
                    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right), nocase }, span }
                }
                Infix::In { negated } => self.in_list(left, negated),
            };
        }
        self.depth -= 1;
        left
    }

    /// Skips tokens until an unmatched closing bracket or the end of the section. Used when
    /// nesting is too deep: the outer levels then close normally.
    fn skip_nested_rest(&mut self) {
        let mut depth = 0usize;
        while !self.at_section_end() {
            match self.kind() {
                TokenKind::LeftParen | TokenKind::LeftBracket => depth += 1,
                TokenKind::RightParen | TokenKind::RightBracket => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }

    fn infix(&self) -> Option<(u8, Infix)> {
        let binary = |op| Some((precedence_of(op), Infix::Binary(op)));
        match self.kind() {
            TokenKind::Equal => binary(BinaryOp::Equal),
            TokenKind::BangEqual => binary(BinaryOp::NotEqual),
            TokenKind::Less => binary(BinaryOp::Less),
            TokenKind::LessEqual => binary(BinaryOp::LessEqual),
            TokenKind::Greater => binary(BinaryOp::Greater),
            TokenKind::GreaterEqual => binary(BinaryOp::GreaterEqual),
            TokenKind::Plus => binary(BinaryOp::Add),
            TokenKind::Minus => binary(BinaryOp::Subtract),
            TokenKind::Star => binary(BinaryOp::Multiply),
            TokenKind::Slash => binary(BinaryOp::Divide),
            TokenKind::Ident if self.at_word("or") => binary(BinaryOp::Or),
            TokenKind::Ident if self.at_word("and") => binary(BinaryOp::And),
            TokenKind::Ident if self.at_word("in") => Some((COMPARISON, Infix::In { negated: false })),
            TokenKind::Ident if self.at_word("not") && self.nth_is_word(1, "in") => {
                Some((COMPARISON, Infix::In { negated: true }))
            }
            _ => None,
        }
    }

    /// `value in %list`, `value in regex %list`, `value in cidr %list`, `value not in %list`.
    fn in_list(&mut self, value: Expr, negated: bool) -> Expr {
        if negated {
            self.bump();
        }
        self.bump();
        let matching = if self.at_word("regex") && self.nth(1).kind == TokenKind::ReferenceList {
            self.bump();
            ListMatch::Regex
        } else if self.at_word("cidr") && self.nth(1).kind == TokenKind::ReferenceList {
            self.bump();
            ListMatch::Cidr
        } else {
            ListMatch::Exact
        };
        if self.kind() != TokenKind::ReferenceList {
            self.error_expected("a reference list such as `%list`");
        }
        let list = self.expression_above(ADDITIVE);
        let span = Span::new(value.span.start, self.previous_end().max(value.span.end));
        Expr { kind: ExprKind::In { value: Box::new(value), list: Box::new(list), matching, negated }, span }
    }

    fn prefix(&mut self) -> Expr {
        let token = self.current();
        let start = token.span.start;
        let unary = |parser: &mut Self, precedence: u8, build: fn(Box<Expr>) -> ExprKind| {
            parser.bump();
            let item = parser.expression_above(precedence);
            let span = Span::new(start, item.span.end.max(token.span.end));
            Expr { kind: build(Box::new(item)), span }
        };
        match token.kind {
            TokenKind::Bang => unary(self, NOT, ExprKind::Not),
            TokenKind::Ident if self.at_word("not") => unary(self, NOT, ExprKind::Not),
            TokenKind::Minus => unary(self, UNARY, ExprKind::Negate),
            TokenKind::Ident
                if (self.at_word("any") || self.at_word("all")) && self.nth(1).kind == TokenKind::Variable =>
            {
                let all = self.at_word("all");
                self.bump();
                let item = self.expression_above(NOT);
                let span = Span::new(start, item.span.end);
                Expr { kind: ExprKind::Quantified { all, item: Box::new(item) }, span }
            }
            _ => {
                let primary = self.primary();
                if self.at_word("nocase") {
                    let end = self.bump().span.end;
                    return Expr {
                        span: Span::new(primary.span.start, end),
                        kind: ExprKind::Nocase(Box::new(primary)),
                    };
                }
                primary
            }
        }
    }

    fn primary(&mut self) -> Expr {
        let token = self.current();
        let text = self.text_of(token);
        let literal = |kind: ExprKind| Expr { kind, span: token.span };
        match token.kind {
            TokenKind::Variable => self.path(),
            TokenKind::EventCount => {
                self.bump();
                literal(ExprKind::EventCount(text[1..].to_owned()))
            }
            TokenKind::ReferenceList => {
                self.bump();
                let mut column = None;
                let mut span = token.span;
                if self.kind() == TokenKind::Dot && self.nth(1).kind == TokenKind::Ident {
                    self.bump();
                    let name = self.bump();
                    column = Some(self.text_of(name).to_owned());
                    span = span.cover(name.span);
                }
                Expr { kind: ExprKind::ReferenceList { name: text[1..].to_owned(), column }, span }
            }
            TokenKind::String => {
                self.bump();
                literal(ExprKind::String { value: decode_string(text), raw: false })
            }
            TokenKind::RawString => {
                self.bump();
                literal(ExprKind::String { value: text[1..text.len() - 1].to_owned(), raw: true })
            }
            TokenKind::Regex => {
                self.bump();
                literal(ExprKind::Regex(text[1..text.len() - 1].to_owned()))
            }
            TokenKind::Number => {
                self.bump();
                literal(ExprKind::Number(text.to_owned()))
            }
            TokenKind::Duration => {
                self.bump();
                literal(ExprKind::Duration(text.to_owned()))
            }
            TokenKind::Unterminated | TokenKind::Unknown => {
                // The lexer has reported it.
                self.bump();
                Expr::missing(token.span.start)
            }
            TokenKind::LeftParen => {
                self.bump();
                let inner = self.expression();
                match self.eat(TokenKind::RightParen) {
                    Some(close) => Expr { kind: inner.kind, span: Span::new(token.span.start, close.span.end) },
                    None => {
                        let found = self.found();
                        let span = self.current().span;
                        self.report(diagnostics::unclosed(")", &found, span, token.span));
                        inner
                    }
                }
            }
            TokenKind::Ident if !self.at_section_start() => self.name_or_call(),
            _ => {
                self.error_expected("an expression");
                Expr::missing(token.span.start)
            }
        }
    }

    /// `$e`, `$e.principal.hostname`, `$e.about[0].labels["key"]`.
    fn path(&mut self) -> Expr {
        let variable = self.bump();
        let name = self.text_of(variable)[1..].to_owned();
        let mut steps = Vec::new();
        loop {
            if self.kind() == TokenKind::Dot && self.nth(1).kind == TokenKind::Ident {
                self.bump();
                let field = self.bump();
                steps.push(PathStep::Field(self.text_of(field).to_owned()));
            } else if self.kind() == TokenKind::LeftBracket {
                let open = self.bump();
                let key = self.current();
                match key.kind {
                    TokenKind::String | TokenKind::RawString => {
                        self.bump();
                        let text = self.text_of(key);
                        let value = if key.kind == TokenKind::String {
                            decode_string(text)
                        } else {
                            text[1..text.len() - 1].to_owned()
                        };
                        steps.push(PathStep::Key(value));
                    }
                    TokenKind::Number => {
                        self.bump();
                        steps.push(PathStep::Index(self.text_of(key).parse().unwrap_or(0)));
                    }
                    TokenKind::Minus if self.nth(1).kind == TokenKind::Number => {
                        self.bump();
                        let number = self.bump();
                        steps.push(PathStep::Index(-self.text_of(number).parse::<i64>().unwrap_or(0)));
                    }
                    _ => self.error_expected("a map key or an index"),
                }
                if self.eat(TokenKind::RightBracket).is_none() {
                    let found = self.found();
                    let span = self.current().span;
                    self.report(diagnostics::unclosed("]", &found, span, open.span));
                    break;
                }
            } else {
                break;
            }
        }
        Expr {
            kind: ExprKind::Path { variable: name, steps },
            span: Span::new(variable.span.start, self.previous_end()),
        }
    }

    /// Skips the name of a named argument (`period:`, `target.user.userid:` in the `metrics.*` functions); the
    /// value stays a positional argument, which is all lowering and the leaf summary read.
    /// Says whether there was one.
    fn skip_argument_name(&mut self) -> bool {
        let mut ahead = 0;
        while self.nth(ahead).kind == TokenKind::Ident {
            match self.nth(ahead + 1).kind {
                TokenKind::Colon => {
                    for _ in 0..ahead + 2 {
                        self.bump();
                    }
                    return true;
                }
                TokenKind::Dot => ahead += 2,
                _ => return false,
            }
        }
        false
    }

    /// A bare word (`true`, `null`, an enum constant) or a call (`re.regex(...)`, `max(...)`).
    fn name_or_call(&mut self) -> Expr {
        let first = self.bump();
        let mut name = self.text_of(first).to_owned();
        let mut name_span = first.span;
        while self.kind() == TokenKind::Dot && self.nth(1).kind == TokenKind::Ident {
            self.bump();
            let part = self.bump();
            name.push('.');
            name.push_str(self.text_of(part));
            name_span = name_span.cover(part.span);
        }
        if self.kind() != TokenKind::LeftParen {
            let kind = match name.to_ascii_lowercase().as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ => ExprKind::Name(name),
            };
            return Expr { kind, span: name_span };
        }
        let open = self.bump();
        let mut arguments = Vec::new();
        if self.eat(TokenKind::RightParen).is_none() {
            loop {
                let before = self.position;
                let named = self.skip_argument_name();
                let star = self.current();
                if named && star.kind == TokenKind::Star {
                    // `field: *` in a metrics filter: any value.
                    self.bump();
                    arguments.push(Expr { kind: ExprKind::Name("*".to_owned()), span: star.span });
                } else {
                    arguments.push(self.expression());
                }
                if self.eat(TokenKind::Comma).is_some() {
                    continue;
                }
                if self.eat(TokenKind::RightParen).is_some() {
                    break;
                }
                let found = self.found();
                let span = self.current().span;
                self.report(diagnostics::unclosed(")", &found, span, open.span));
                if self.position == before || self.at_section_end() {
                    break;
                }
                self.skip_nested_rest();
                self.eat(TokenKind::RightParen);
                break;
            }
        }
        let span = Span::new(first.span.start, self.previous_end());
        Expr { kind: ExprKind::Call { name, name_span, arguments }, span }
    }
}

#[derive(Debug, Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    In { negated: bool },
}

fn precedence_of(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => OR,
        BinaryOp::And => AND,
        BinaryOp::Equal
        | BinaryOp::NotEqual
        | BinaryOp::Less
        | BinaryOp::LessEqual
        | BinaryOp::Greater
        | BinaryOp::GreaterEqual => COMPARISON,
        BinaryOp::Add | BinaryOp::Subtract => ADDITIVE,
        BinaryOp::Multiply | BinaryOp::Divide => MULTIPLICATIVE,
    }
}
