//! Expressions: a Pratt parser for scalar operators, primaries with every literal form, and
//! pipelines (`source | op | op`), which KQL allows wherever a parenthesised value may stand.

use detwiki_ir::Span;

use super::{MAX_DEPTH, Parser};
use crate::ast::{Expr, ExprKind, Literal, LiteralKind, Name};
use crate::diagnostics;
use crate::lexer::decode_string;
use crate::token::TokenKind;

/// Binding powers, loosest first.
const OR_POWER: u8 = 1;
const AND_POWER: u8 = 2;
const COMPARE_POWER: u8 = 3;
const ADD_POWER: u8 = 4;
const MULTIPLY_POWER: u8 = 5;
const UNARY_POWER: u8 = 6;

/// String operators written as words; each also exists negated with a leading `!`.
const STRING_OPERATORS: &[&str] = &[
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "like",
    "like_cs",
];

/// Word operators without a `!` form.
const PLAIN_WORD_OPERATORS: &[&str] = &["notcontains", "notcontainscs", "notlike", "notlikecs", "nothas"];

/// Operators whose right side is a parenthesised list.
const LIST_OPERATORS: &[&str] = &["in", "has_any", "has_all"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinaryShape {
    Logical { and: bool },
    Compare,
    Arithmetic,
    List,
    Between { negated: bool },
}

struct BinaryOperator {
    text: String,
    tokens: usize,
    power: u8,
    shape: BinaryShape,
}

/// Words that start a tabular operator in head position (`union A, B`, `print x = 1`).
const HEAD_OPERATORS: &[&str] = &["union", "print", "range", "search", "find", "evaluate"];

impl Parser<'_> {
    /// A pipeline or a plain expression, as allowed inside parentheses, call arguments, `let`
    /// values and statements.
    pub(super) fn parse_pipe(&mut self) -> Expr {
        let start = self.current().span.start;
        if !self.enter() {
            return Expr::missing(start);
        }
        let source = if self.at(TokenKind::Pipe) {
            let span = self.current().span;
            self.report(diagnostics::fragment(span));
            None
        } else if self.at_head_operator() {
            let operator = self.parse_operator();
            let span = operator.span;
            Some(Box::new(Expr::new(ExprKind::Operator(Box::new(operator)), span)))
        } else {
            Some(Box::new(self.parse_expr()))
        };
        let mut operators = Vec::new();
        while self.eat(TokenKind::Pipe) {
            operators.push(self.parse_operator());
        }
        self.leave();
        match source {
            Some(source) if operators.is_empty() => *source,
            source => Expr::new(ExprKind::Pipe { source, operators }, self.span_from(start)),
        }
    }

    /// A pipeline that starts with an operator (`mv-apply ... on (where x | take 1)`).
    pub(super) fn parse_headless_pipe(&mut self) -> Expr {
        let start = self.current().span.start;
        if !self.enter() {
            return Expr::missing(start);
        }
        let mut operators = vec![self.parse_operator()];
        while self.eat(TokenKind::Pipe) {
            operators.push(self.parse_operator());
        }
        self.leave();
        Expr::new(ExprKind::Pipe { source: None, operators }, self.span_from(start))
    }

    fn at_head_operator(&self) -> bool {
        if !self.at(TokenKind::Ident) {
            return false;
        }
        let word = self.nth_text(0);
        if !HEAD_OPERATORS.contains(&word) {
            return false;
        }
        match word {
            "union" | "print" => true,
            "range" => self.nth_kind(1) == TokenKind::Ident,
            // Keywords at the head of a query, even when what follows is broken (`search > x`).
            "search" | "find" => !matches!(
                self.nth_kind(1),
                TokenKind::Dot | TokenKind::Assign | TokenKind::Comma | TokenKind::RightParen | TokenKind::Semicolon
            ),
            _ => matches!(
                self.nth_kind(1),
                TokenKind::Ident | TokenKind::String | TokenKind::Star | TokenKind::LeftParen
            ),
        }
    }

    pub(super) fn parse_expr(&mut self) -> Expr {
        self.parse_expr_with_power(0)
    }

    fn parse_expr_with_power(&mut self, minimum: u8) -> Expr {
        let start = self.current().span.start;
        if !self.enter() {
            return Expr::missing(start);
        }
        let mut left = self.parse_prefix();
        let mut chain = 0u32;
        while let Some(operator) = self.peek_binary() {
            if operator.power <= minimum {
                break;
            }
            if !matches!(operator.shape, BinaryShape::Logical { .. }) {
                chain += 1;
                if self.depth + chain > MAX_DEPTH {
                    let span = self.current().span;
                    self.report(diagnostics::too_deep(span));
                    self.skip_nested_rest();
                    break;
                }
            }
            for _ in 0..operator.tokens {
                self.bump();
            }
            left = match operator.shape {
                BinaryShape::Logical { and } => {
                    let right = self.parse_expr_with_power(operator.power);
                    let span = self.span_from(start);
                    match left.kind {
                        ExprKind::Logical { and: left_and, mut items } if left_and == and => {
                            items.push(right);
                            Expr::new(ExprKind::Logical { and, items }, span)
                        }
                        _ => Expr::new(ExprKind::Logical { and, items: vec![left, right] }, span),
                    }
                }
                BinaryShape::Compare | BinaryShape::Arithmetic => {
                    let right = self.parse_expr_with_power(operator.power);
                    let span = self.span_from(start);
                    Expr::new(
                        ExprKind::Binary { op: operator.text, left: Box::new(left), right: Box::new(right) },
                        span,
                    )
                }
                BinaryShape::List => {
                    let items = self.parse_list_operand();
                    Expr::new(ExprKind::List { op: operator.text, left: Box::new(left), items }, self.span_from(start))
                }
                BinaryShape::Between { negated } => self.parse_between_operand(left, negated, start),
            };
        }
        self.leave();
        left
    }

    fn peek_binary(&self) -> Option<BinaryOperator> {
        let simple = |text: &str, power: u8, shape: BinaryShape| {
            Some(BinaryOperator { text: text.to_owned(), tokens: 1, power, shape })
        };
        match self.kind() {
            TokenKind::EqualEqual => simple("==", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::BangEqual => simple("!=", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::LessGreater => simple("<>", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::EqualTilde => simple("=~", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::BangTilde => simple("!~", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::Less => simple("<", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::LessEqual => simple("<=", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::Greater => simple(">", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::GreaterEqual => simple(">=", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::Assign => simple("=", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::Colon if self.allow_colon => simple(":", COMPARE_POWER, BinaryShape::Compare),
            TokenKind::Plus => simple("+", ADD_POWER, BinaryShape::Arithmetic),
            TokenKind::Minus => simple("-", ADD_POWER, BinaryShape::Arithmetic),
            TokenKind::Star => simple("*", MULTIPLY_POWER, BinaryShape::Arithmetic),
            TokenKind::Slash => simple("/", MULTIPLY_POWER, BinaryShape::Arithmetic),
            TokenKind::Percent => simple("%", MULTIPLY_POWER, BinaryShape::Arithmetic),
            TokenKind::Bang if self.nth_kind(1) == TokenKind::Ident && self.glued_at(1) => {
                let word = self.nth_text(1);
                if STRING_OPERATORS.contains(&word) {
                    return Some(BinaryOperator {
                        text: format!("!{word}"),
                        tokens: 2,
                        power: COMPARE_POWER,
                        shape: BinaryShape::Compare,
                    });
                }
                if word == "between" {
                    return Some(BinaryOperator {
                        text: "!between".to_owned(),
                        tokens: 2,
                        power: COMPARE_POWER,
                        shape: BinaryShape::Between { negated: true },
                    });
                }
                if LIST_OPERATORS.contains(&word) {
                    let tilde = self.nth_kind(2) == TokenKind::Tilde && self.glued_at(2) && word == "in";
                    return Some(BinaryOperator {
                        text: if tilde { "!in~".to_owned() } else { format!("!{word}") },
                        tokens: if tilde { 3 } else { 2 },
                        power: COMPARE_POWER,
                        shape: BinaryShape::List,
                    });
                }
                None
            }
            TokenKind::Ident => {
                let word = self.nth_text(0);
                match word {
                    "and" => simple("and", AND_POWER, BinaryShape::Logical { and: true }),
                    "or" => simple("or", OR_POWER, BinaryShape::Logical { and: false }),
                    "between" => simple("between", COMPARE_POWER, BinaryShape::Between { negated: false }),
                    "notbetween" => simple("notbetween", COMPARE_POWER, BinaryShape::Between { negated: true }),
                    "matches" if self.nth_is_word(1, "regex") => Some(BinaryOperator {
                        text: "matches regex".to_owned(),
                        tokens: 2,
                        power: COMPARE_POWER,
                        shape: BinaryShape::Compare,
                    }),
                    "in" if self.nth_kind(1) == TokenKind::Tilde && self.glued_at(1) => Some(BinaryOperator {
                        text: "in~".to_owned(),
                        tokens: 2,
                        power: COMPARE_POWER,
                        shape: BinaryShape::List,
                    }),
                    _ if LIST_OPERATORS.contains(&word) => simple(word, COMPARE_POWER, BinaryShape::List),
                    _ if STRING_OPERATORS.contains(&word) || PLAIN_WORD_OPERATORS.contains(&word) => {
                        simple(word, COMPARE_POWER, BinaryShape::Compare)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `( a, b, ... )` after a list operator; elements may be sub-queries.
    fn parse_list_operand(&mut self) -> Vec<Expr> {
        let open = self.current().span;
        if !self.at(TokenKind::LeftParen) {
            self.error_expected("`(`");
            return vec![Expr::missing(open.start)];
        }
        self.bump();
        let mut items = Vec::new();
        if self.at(TokenKind::RightParen) {
            self.error_expected("an expression");
        }
        while !self.at(TokenKind::RightParen) && !self.at_eof() {
            let before = self.position;
            items.push(self.parse_pipe());
            if !self.eat(TokenKind::Comma) {
                break;
            }
            if self.position == before {
                break;
            }
        }
        self.expect_closing(TokenKind::RightParen, open);
        items
    }

    /// `between (low .. high)`.
    fn parse_between_operand(&mut self, left: Expr, negated: bool, start: u32) -> Expr {
        let open = self.current().span;
        let (low, high) = if self.expect(TokenKind::LeftParen) {
            let low = self.parse_expr();
            self.expect(TokenKind::DotDot);
            let high = self.parse_expr();
            self.expect_closing(TokenKind::RightParen, open);
            (low, high)
        } else {
            (Expr::missing(open.start), Expr::missing(open.start))
        };
        Expr::new(
            ExprKind::Between { negated, left: Box::new(left), low: Box::new(low), high: Box::new(high) },
            self.span_from(start),
        )
    }

    fn parse_prefix(&mut self) -> Expr {
        let start = self.current().span.start;
        let op = match self.kind() {
            TokenKind::Minus => Some("-"),
            TokenKind::Plus => Some("+"),
            TokenKind::Bang => Some("!"),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let operand = self.parse_expr_with_power(UNARY_POWER - 1);
            return Expr::new(ExprKind::Unary { op: op.to_owned(), operand: Box::new(operand) }, self.span_from(start));
        }
        let primary = self.parse_primary();
        self.parse_postfix(primary, start)
    }

    fn parse_postfix(&mut self, mut expr: Expr, start: u32) -> Expr {
        let mut chain = 0u32;
        loop {
            let callable = matches!(expr.kind, ExprKind::Name(_) | ExprKind::Member { .. });
            let step = match self.kind() {
                TokenKind::Dot => 0,
                TokenKind::LeftBracket => 1,
                TokenKind::LeftParen if callable => 2,
                _ => break,
            };
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                let span = self.current().span;
                self.report(diagnostics::too_deep(span));
                self.skip_nested_rest();
                break;
            }
            expr = match step {
                0 if self.nth_kind(1) == TokenKind::LeftBracket && self.nth_kind(2) != TokenKind::String => {
                    // `parse_json(x).[0]`: an index written after a dot.
                    self.bump();
                    let open = self.bump().span;
                    let index = self.parse_expr();
                    self.expect_closing(TokenKind::RightBracket, open);
                    Expr::new(ExprKind::Index { target: Box::new(expr), index: Box::new(index) }, self.span_from(start))
                }
                0 => {
                    self.bump();
                    let name = if self.at(TokenKind::Ident) || self.at(TokenKind::LeftBracket) {
                        self.parse_name("a name after `.`")
                    } else {
                        self.error_expected("a name after `.`");
                        Name { text: String::new(), span: Span::empty(self.current().span.start) }
                    };
                    Expr::new(ExprKind::Member { target: Box::new(expr), name }, self.span_from(start))
                }
                1 => {
                    let open = self.bump().span;
                    let index = self.parse_expr();
                    self.expect_closing(TokenKind::RightBracket, open);
                    Expr::new(ExprKind::Index { target: Box::new(expr), index: Box::new(index) }, self.span_from(start))
                }
                _ => {
                    let args = self.parse_arguments();
                    Expr::new(ExprKind::Call { callee: Box::new(expr), args }, self.span_from(start))
                }
            };
        }
        expr
    }

    /// `( arg, name = arg, T | sub-query, * )`.
    pub(super) fn parse_arguments(&mut self) -> Vec<Expr> {
        let open = self.current().span;
        let mut args = Vec::new();
        if !self.expect(TokenKind::LeftParen) {
            return args;
        }
        while !self.at(TokenKind::RightParen) && !self.at_eof() {
            let before = self.position;
            args.push(self.parse_parenthesized_item());
            if !self.eat(TokenKind::Comma) {
                break;
            }
            if self.position == before {
                break;
            }
        }
        self.expect_closing(TokenKind::RightParen, open);
        args
    }

    /// An element inside parentheses: `name = value`, `*`, or a pipeline.
    fn parse_parenthesized_item(&mut self) -> Expr {
        if self.assignment_follows() {
            return self.parse_assignment();
        }
        self.parse_pipe()
    }

    /// True at `name =`, `['name'] =` or `(a, b) =` (a single `=`, not `==`).
    pub(super) fn assignment_follows(&self) -> bool {
        match self.kind() {
            TokenKind::Ident => self.nth_kind(1) == TokenKind::Assign,
            TokenKind::LeftBracket => {
                self.nth_kind(1) == TokenKind::String
                    && self.nth_kind(2) == TokenKind::RightBracket
                    && self.nth_kind(3) == TokenKind::Assign
            }
            TokenKind::LeftParen => {
                let mut offset = 1;
                while matches!(self.nth_kind(offset), TokenKind::Ident | TokenKind::Comma) {
                    offset += 1;
                }
                offset > 1
                    && self.nth_kind(offset) == TokenKind::RightParen
                    && self.nth_kind(offset + 1) == TokenKind::Assign
            }
            _ => false,
        }
    }

    pub(super) fn parse_assignment(&mut self) -> Expr {
        let start = self.current().span.start;
        let target = if self.at(TokenKind::LeftParen) {
            let open = self.bump().span;
            let mut names = Vec::new();
            while self.at(TokenKind::Ident) {
                let name = self.parse_name("a column name");
                names.push(Expr::new(ExprKind::Name(name.text), name.span));
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
            self.expect_closing(TokenKind::RightParen, open);
            Expr::new(ExprKind::Tuple(names), self.span_from(start))
        } else {
            let name = self.parse_name("a column name");
            Expr::new(ExprKind::Name(name.text), name.span)
        };
        self.expect(TokenKind::Assign);
        let value = self.parse_pipe_or_expr_in_list();
        Expr::new(ExprKind::Assign { target: Box::new(target), value: Box::new(value) }, self.span_from(start))
    }

    /// The value of an assignment: inside parentheses a pipeline is allowed, in an operator's
    /// list the `|` ends the operator. Both cases are served by `parse_expr`, because a
    /// sub-query inside a value is always parenthesised.
    fn parse_pipe_or_expr_in_list(&mut self) -> Expr {
        self.parse_expr()
    }

    fn parse_primary(&mut self) -> Expr {
        let token = self.current();
        let start = token.span.start;
        match token.kind {
            TokenKind::Ident => self.parse_word(),
            TokenKind::String => {
                let mut value = String::new();
                while self.at(TokenKind::String) {
                    let token = self.bump();
                    value.push_str(&decode_string(self.token_text(token)));
                }
                let literal = Literal { kind: LiteralKind::String, value, elements: Vec::new() };
                Expr::new(ExprKind::Literal(literal), self.span_from(start))
            }
            TokenKind::Int | TokenKind::Real | TokenKind::Timespan => {
                self.bump();
                let kind = match token.kind {
                    TokenKind::Int => LiteralKind::Long,
                    TokenKind::Real => LiteralKind::Real,
                    _ => LiteralKind::Timespan,
                };
                let literal = Literal { kind, value: self.token_text(token).to_owned(), elements: Vec::new() };
                Expr::new(ExprKind::Literal(literal), token.span)
            }
            TokenKind::LeftParen => self.parse_parenthesized(),
            TokenKind::LeftBracket if self.nth_kind(1) == TokenKind::String => {
                let name = self.parse_name("a name");
                Expr::new(ExprKind::Name(name.text), name.span)
            }
            TokenKind::Star => {
                self.bump();
                Expr::new(ExprKind::Star, token.span)
            }
            TokenKind::UnterminatedString | TokenKind::BadNumber | TokenKind::Unknown => {
                self.report_bad_token();
                self.bump();
                Expr::new(ExprKind::Missing, token.span)
            }
            _ => {
                self.error_expected("an expression");
                Expr::missing(start)
            }
        }
    }

    fn parse_parenthesized(&mut self) -> Expr {
        let open = self.bump().span;
        let start = open.start;
        let mut items = Vec::new();
        let mut trailing_comma = false;
        if self.at(TokenKind::RightParen) {
            self.error_expected("an expression");
        }
        while !self.at(TokenKind::RightParen) && !self.at_eof() {
            let before = self.position;
            items.push(self.parse_parenthesized_item());
            trailing_comma = self.eat(TokenKind::Comma);
            if !trailing_comma || self.position == before {
                break;
            }
        }
        self.expect_closing(TokenKind::RightParen, open);
        let span = self.span_from(start);
        if items.len() == 1 && !trailing_comma {
            let inner = items.pop().unwrap_or_else(|| Expr::missing(start));
            Expr::new(ExprKind::Paren(Box::new(inner)), span)
        } else {
            Expr::new(ExprKind::Tuple(items), span)
        }
    }

    fn parse_word(&mut self) -> Expr {
        let token = self.current();
        let word = self.token_text(token);
        let call_follows = self.nth_kind(1) == TokenKind::LeftParen;
        match word {
            "true" | "false" => {
                self.bump();
                let literal = Literal { kind: LiteralKind::Bool, value: word.to_owned(), elements: Vec::new() };
                Expr::new(ExprKind::Literal(literal), token.span)
            }
            "null" => {
                self.bump();
                let literal = Literal { kind: LiteralKind::Null, value: word.to_owned(), elements: Vec::new() };
                Expr::new(ExprKind::Literal(literal), token.span)
            }
            "dynamic" if call_follows => self.parse_dynamic(),
            "datetime" | "guid" | "time" | "timespan" | "long" | "int" | "real" | "double" | "bool" | "boolean"
            | "decimal"
                if call_follows =>
            {
                self.parse_typed_literal()
            }
            "datatable" | "externaldata" if call_follows => self.parse_table_literal(),
            // Reserved: `x == or y` lacks an operand, `or` is not a column.
            "and" | "or" => {
                self.error_expected("an expression");
                Expr::missing(token.span.start)
            }
            _ => {
                self.bump();
                Expr::new(ExprKind::Name(word.to_owned()), token.span)
            }
        }
    }

    /// `datetime(2024-01-01)`, `time(1h)`, `long(null)`: the text is kept as written.
    fn parse_typed_literal(&mut self) -> Expr {
        let word_token = self.bump();
        let word = self.token_text(word_token);
        let start = word_token.span.start;
        let open = self.bump().span;
        let inner_start = self.current().span.start;
        let mut depth = 0usize;
        while !self.at_eof() {
            match self.kind() {
                TokenKind::LeftParen => depth += 1,
                TokenKind::RightParen if depth == 0 => break,
                TokenKind::RightParen => depth -= 1,
                TokenKind::Pipe | TokenKind::Semicolon if depth == 0 => break,
                _ => {}
            }
            self.bump();
        }
        let inner = self.text.get(Span::new(inner_start, self.previous_end().max(inner_start)).range()).unwrap_or("");
        if inner.trim().is_empty() && !matches!(word, "datetime") {
            self.error_expected("a literal value");
        }
        self.expect_closing(TokenKind::RightParen, open);
        let span = self.span_from(start);
        let kind = match word {
            _ if inner.trim() == "null" => LiteralKind::Null,
            "datetime" => LiteralKind::Datetime,
            "guid" => LiteralKind::Guid,
            "time" | "timespan" => LiteralKind::Timespan,
            _ => LiteralKind::Typed,
        };
        let literal =
            Literal { kind, value: self.text.get(span.range()).unwrap_or("").to_owned(), elements: Vec::new() };
        Expr::new(ExprKind::Literal(literal), span)
    }

    /// `dynamic([...])`, `dynamic({...})`, `dynamic(null)`, `dynamic("x")`.
    fn parse_dynamic(&mut self) -> Expr {
        let start = self.bump().span.start;
        let open = self.bump().span;
        let mut elements = Vec::new();
        match self.kind() {
            TokenKind::LeftBracket => {
                let bracket = self.bump().span;
                while !self.at(TokenKind::RightBracket) && !self.at_eof() {
                    let before = self.position;
                    if self.at(TokenKind::LeftBrace) || self.at(TokenKind::LeftBracket) {
                        let element_start = self.current().span.start;
                        self.skip_balanced();
                        elements.push(Expr::new(ExprKind::Raw, self.span_from(element_start)));
                    } else {
                        elements.push(self.parse_expr());
                    }
                    if !self.eat(TokenKind::Comma) || self.position == before {
                        break;
                    }
                }
                self.expect_closing(TokenKind::RightBracket, bracket);
            }
            TokenKind::LeftBrace => self.skip_balanced(),
            TokenKind::RightParen => self.error_expected("a dynamic value"),
            _ => {
                let value = self.parse_expr();
                elements.push(value);
            }
        }
        self.expect_closing(TokenKind::RightParen, open);
        let span = self.span_from(start);
        let literal = Literal {
            kind: LiteralKind::Dynamic,
            value: self.text.get(span.range()).unwrap_or("").to_owned(),
            elements,
        };
        Expr::new(ExprKind::Literal(literal), span)
    }

    /// `datatable(a:string)[ "x", ... ]` and `externaldata(a:string)[ "url" ] with (...)`.
    fn parse_table_literal(&mut self) -> Expr {
        let keyword_token = self.bump();
        let keyword = self.token_text(keyword_token).to_owned();
        let start = keyword_token.span.start;
        let columns = self.parse_column_declarations();
        let mut values = Vec::new();
        let open = self.current().span;
        if self.expect(TokenKind::LeftBracket) {
            while !self.at(TokenKind::RightBracket) && !self.at_eof() {
                let before = self.position;
                values.push(self.parse_expr());
                if !self.eat(TokenKind::Comma) || self.position == before {
                    break;
                }
            }
            self.expect_closing(TokenKind::RightBracket, open);
        }
        if keyword == "externaldata" && self.at_word("with") && self.nth_kind(1) == TokenKind::LeftParen {
            self.bump();
            self.skip_balanced();
        }
        Expr::new(ExprKind::Table { keyword, columns, values }, self.span_from(start))
    }
}
