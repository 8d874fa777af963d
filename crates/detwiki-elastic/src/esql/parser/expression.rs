//! Expressions: a Pratt parser with the precedence of Elastic's grammar, loosest first: `OR`,
//! `AND`, `NOT`, then predicates (comparisons, `LIKE`/`RLIKE`, `IN`, `IS [NOT] NULL`, `:`), `+`
//! `-`, `*` `/` `%`, unary `-`, `::` casts, primaries.

use detwiki_ir::Span;

use super::super::ast::{BinaryOp, Expr, ExprKind, Literal};
use super::super::diagnostics;
use super::super::lexer::decode_string;
use super::super::token::TokenKind;
use super::{MAX_DEPTH, Parser};

/// Words that end or continue an expression and so never name a column.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "is", "like", "rlike", "by", "as", "asc", "desc", "nulls", "on", "with", "where",
    "metadata",
];

impl Parser<'_> {
    /// A boolean expression (the loosest level).
    pub(super) fn expression(&mut self) -> Expr {
        self.boolean(0)
    }

    /// Runs `parse` one nesting level deeper, or reports the depth and gives a missing
    /// expression after skipping the rest of the command.
    fn nested(&mut self, parse: impl FnOnce(&mut Self) -> Expr) -> Expr {
        if self.depth >= MAX_DEPTH {
            let span = self.current.span;
            self.error(diagnostics::too_deep(span));
            self.skip_to_command_end(true);
            return Expr::missing(span.start);
        }
        self.depth += 1;
        let expr = parse(self);
        self.depth -= 1;
        expr
    }

    /// `OR` binds 1, `AND` 2; `NOT` applies to a whole predicate.
    fn boolean(&mut self, minimum: u8) -> Expr {
        let mut left = if self.at_keyword("not") {
            let start = self.bump().span.start;
            let operand = self.nested(|parser| parser.boolean(3));
            let span = Span::new(start, operand.span.end.max(start));
            Expr { kind: ExprKind::Not(Box::new(operand)), span }
        } else {
            self.predicate()
        };
        loop {
            let (op, power) = if self.at_keyword("or") {
                (BinaryOp::Or, 1)
            } else if self.at_keyword("and") {
                (BinaryOp::And, 2)
            } else {
                return left;
            };
            if power <= minimum {
                return left;
            }
            self.bump();
            let right = self.nested(|parser| parser.boolean(power));
            let span = left.span.cover(right.span);
            left = match left.kind {
                ExprKind::Logical { op: left_op, mut items } if left_op == op => {
                    items.push(right);
                    Expr { kind: ExprKind::Logical { op, items }, span }
                }
                kind => {
                    Expr { kind: ExprKind::Logical { op, items: vec![Expr { kind, span: left.span }, right] }, span }
                }
            };
        }
    }

    /// A value expression, optionally followed by one predicate operator.
    fn predicate(&mut self) -> Expr {
        let input = self.arithmetic(0);
        let comparison = match self.current.kind {
            TokenKind::Equal => Some(BinaryOp::Equal),
            TokenKind::InsensitiveEqual => Some(BinaryOp::InsensitiveEqual),
            TokenKind::NotEqual => Some(BinaryOp::NotEqual),
            TokenKind::Less => Some(BinaryOp::Less),
            TokenKind::LessEqual => Some(BinaryOp::LessEqual),
            TokenKind::Greater => Some(BinaryOp::Greater),
            TokenKind::GreaterEqual => Some(BinaryOp::GreaterEqual),
            TokenKind::Colon => Some(BinaryOp::Match),
            _ => None,
        };
        if let Some(op) = comparison {
            self.bump();
            let right = self.arithmetic(0);
            let span = input.span.cover(right.span);
            return Expr { kind: ExprKind::Binary { op, left: Box::new(input), right: Box::new(right) }, span };
        }
        let negated = self.at_keyword("not")
            && matches!(self.slice(self.peek().span).to_ascii_lowercase().as_str(), "like" | "rlike" | "in");
        if negated {
            self.bump();
        }
        if self.at_keyword("like") || self.at_keyword("rlike") {
            let regex = self.at_keyword("rlike");
            self.bump();
            let patterns =
                if self.at(TokenKind::LeftParen) { self.parenthesized_list() } else { vec![self.arithmetic(0)] };
            let end = patterns.last().map_or(self.previous_end, |pattern| pattern.span.end.max(self.previous_end));
            let span = Span::new(input.span.start, end);
            return Expr { kind: ExprKind::Like { input: Box::new(input), patterns, regex, negated }, span };
        }
        if self.at_keyword("in") {
            self.bump();
            let list = if self.at(TokenKind::LeftParen) {
                self.parenthesized_list()
            } else {
                self.error_expected("`(` opening the IN list");
                Vec::new()
            };
            let span = Span::new(input.span.start, self.previous_end.max(input.span.start));
            return Expr { kind: ExprKind::In { input: Box::new(input), list, negated }, span };
        }
        if self.at_keyword("is") {
            self.bump();
            let negated = self.eat_keyword("not");
            if !self.eat_keyword("null") {
                self.error_expected("`NULL`");
            }
            let span = Span::new(input.span.start, self.previous_end.max(input.span.start));
            return Expr { kind: ExprKind::IsNull { input: Box::new(input), negated }, span };
        }
        input
    }

    /// `( expression, ... )` after `IN` or `LIKE`.
    fn parenthesized_list(&mut self) -> Vec<Expr> {
        let open = self.bump().span;
        let mut items = Vec::new();
        loop {
            items.push(self.nested(|parser| parser.arithmetic(0)));
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        if !self.eat(TokenKind::RightParen) {
            let found = self.found();
            self.error(diagnostics::unclosed(")", &found, self.current.span, open));
        }
        items
    }

    /// `+ -` bind 1, `* / %` bind 2; unary `-`/`+` and `::` casts bind tighter.
    fn arithmetic(&mut self, minimum: u8) -> Expr {
        let mut left = if self.at(TokenKind::Minus) || self.at(TokenKind::Plus) {
            let sign = self.bump();
            let operand = self.nested(|parser| parser.arithmetic(3));
            let span = sign.span.cover(operand.span);
            if sign.kind == TokenKind::Plus {
                Expr { kind: operand.kind, span }
            } else {
                Expr { kind: ExprKind::Negate(Box::new(operand)), span }
            }
        } else {
            self.cast()
        };
        // Each operator of a chain (`1 + 1 + ...`) nests the tree one level deeper.
        let mut chain = 0;
        loop {
            let (op, power) = match self.current.kind {
                TokenKind::Plus => (BinaryOp::Add, 1),
                TokenKind::Minus => (BinaryOp::Subtract, 1),
                TokenKind::Star => (BinaryOp::Multiply, 2),
                TokenKind::Slash => (BinaryOp::Divide, 2),
                TokenKind::Percent => (BinaryOp::Modulo, 2),
                _ => return left,
            };
            if power <= minimum {
                return left;
            }
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                let span = self.current.span;
                self.error(diagnostics::too_deep(span));
                self.skip_to_command_end(true);
                return left;
            }
            self.bump();
            let right = self.nested(|parser| parser.arithmetic(power));
            let span = left.span.cover(right.span);
            left = Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span };
        }
    }

    fn cast(&mut self) -> Expr {
        let mut expr = self.primary();
        let mut chain = 0;
        while self.at(TokenKind::Cast) {
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                let span = self.current.span;
                self.error(diagnostics::too_deep(span));
                self.skip_to_command_end(true);
                return expr;
            }
            self.bump();
            if !self.at(TokenKind::Identifier) {
                self.error_expected("a data type");
                return expr;
            }
            let data_type = self.bump();
            let span = expr.span.cover(data_type.span);
            let data_type = self.slice(data_type.span).to_ascii_lowercase();
            expr = Expr { kind: ExprKind::Cast { input: Box::new(expr), data_type }, span };
        }
        expr
    }

    /// Literals, parameters, parenthesised expressions, lists, maps, calls and columns.
    pub(super) fn primary(&mut self) -> Expr {
        let token = self.current;
        let literal = |kind, parser: &mut Self| {
            parser.bump();
            Expr { kind: ExprKind::Literal(kind), span: token.span }
        };
        match token.kind {
            TokenKind::String | TokenKind::TripleString => {
                let value = decode_string(self.current_text());
                literal(Literal::String(value), self)
            }
            TokenKind::Integer => {
                let text = self.current_text().to_owned();
                self.bump();
                // A qualified integer (`7 days`, `5m`): Elastic's grammar takes any identifier
                // as the unit and checks it later, so the parser does too.
                let unit = self.current_text().to_ascii_lowercase();
                if self.at(TokenKind::Identifier)
                    && !RESERVED.contains(&unit.as_str())
                    && !matches!(unit.as_str(), "true" | "false" | "null" | "first" | "last")
                {
                    let unit_token = self.bump();
                    let span = token.span.cover(unit_token.span);
                    return Expr { kind: ExprKind::Literal(Literal::Duration(format!("{text} {unit}"))), span };
                }
                Expr { kind: ExprKind::Literal(Literal::Integer(text)), span: token.span }
            }
            TokenKind::Decimal => {
                let text = self.current_text().to_owned();
                literal(Literal::Decimal(text), self)
            }
            TokenKind::Parameter => {
                let name = self.current_text().to_owned();
                self.bump();
                Expr { kind: ExprKind::Parameter(name), span: token.span }
            }
            TokenKind::LeftParen => {
                self.bump();
                let inner = self.nested(|parser| parser.expression());
                if !self.eat(TokenKind::RightParen) {
                    let found = self.found();
                    self.error(diagnostics::unclosed(")", &found, self.current.span, token.span));
                }
                let span = Span::new(token.span.start, self.previous_end);
                Expr { kind: ExprKind::Paren(Box::new(inner)), span }
            }
            TokenKind::LeftBracket => self.list(),
            TokenKind::LeftBrace => self.map(),
            TokenKind::BadString | TokenKind::Unknown => {
                self.report_bad_token();
                Expr::missing(token.span.start)
            }
            TokenKind::Identifier | TokenKind::QuotedIdentifier => self.name_or_call(),
            _ => {
                self.error_expected("an expression");
                Expr::missing(self.previous_end)
            }
        }
    }

    fn name_or_call(&mut self) -> Expr {
        let token = self.current;
        let word = self.current_text().to_ascii_lowercase();
        if token.kind == TokenKind::Identifier {
            match word.as_str() {
                "true" | "false" => {
                    self.bump();
                    return Expr { kind: ExprKind::Literal(Literal::Bool(word == "true")), span: token.span };
                }
                "null" => {
                    self.bump();
                    return Expr { kind: ExprKind::Literal(Literal::Null), span: token.span };
                }
                _ => {}
            }
            if self.peek().kind == TokenKind::LeftParen {
                return self.call();
            }
            if RESERVED.contains(&word.as_str()) || word == "first" || word == "last" {
                self.error_expected("an expression");
                return Expr::missing(self.previous_end);
            }
        }
        match self.qualified_name("a column name") {
            Some(name) => Expr { kind: ExprKind::Column(name.text), span: name.span },
            None => Expr::missing(self.previous_end),
        }
    }

    /// `name(arguments)`; `COUNT(*)` takes a star, options are `{...}` maps.
    fn call(&mut self) -> Expr {
        let name_token = self.bump();
        let name = self.slice(name_token.span).to_owned();
        let open = self.bump().span;
        let mut arguments = Vec::new();
        if self.at(TokenKind::Star) {
            let star = self.bump();
            arguments.push(Expr { kind: ExprKind::Column("*".to_owned()), span: star.span });
        } else if !self.at(TokenKind::RightParen) {
            loop {
                arguments.push(self.nested(|parser| parser.expression()));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.eat(TokenKind::RightParen) {
            let found = self.found();
            self.error(diagnostics::unclosed(")", &found, self.current.span, open));
        }
        let span = Span::new(name_token.span.start, self.previous_end);
        Expr { kind: ExprKind::Call { name, arguments }, span }
    }

    /// `[constant, ...]`.
    fn list(&mut self) -> Expr {
        let open = self.bump().span;
        let mut items = Vec::new();
        if !self.at(TokenKind::RightBracket) {
            loop {
                items.push(self.nested(|parser| parser.arithmetic(0)));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.eat(TokenKind::RightBracket) {
            let found = self.found();
            self.error(diagnostics::unclosed("]", &found, self.current.span, open));
        }
        Expr { kind: ExprKind::Literal(Literal::List(items)), span: Span::new(open.start, self.previous_end) }
    }

    /// `{"key": value, ...}`, the options map of functions and `COMPLETION`.
    fn map(&mut self) -> Expr {
        let open = self.bump().span;
        if !self.at(TokenKind::RightBrace) {
            loop {
                if !matches!(self.current.kind, TokenKind::String | TokenKind::TripleString) {
                    self.error_expected("a quoted option name");
                    break;
                }
                self.bump();
                if !self.eat(TokenKind::Colon) {
                    self.error_expected("`:`");
                    break;
                }
                self.nested(|parser| parser.arithmetic(0));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.eat(TokenKind::RightBrace) {
            let found = self.found();
            self.error(diagnostics::unclosed("}", &found, self.current.span, open));
        }
        Expr { kind: ExprKind::Literal(Literal::Map), span: Span::new(open.start, self.previous_end) }
    }
}
