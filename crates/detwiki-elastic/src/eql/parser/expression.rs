//! Expressions: boolean operators, comparisons, set and string predicates, arithmetic by
//! binding power (Pratt), function calls, methods, fields and literals.
//!
//! Binding from loosest to tightest: `or`, `and`, `not`, one comparison or predicate (they do not
//! chain), `+ -`, `* / %`, unary sign, method calls (`x:length()`).

use detwiki_ir::Span;

use super::Parser;
use crate::eql::ast::{CompareOp, EventQuery, Expr, ExprKind, Field, FieldPart, Name, StringOp};
use crate::eql::diagnostics;
use crate::eql::lexer::decode_string;
use crate::eql::token::{TokenKind, is_keyword};

/// Argument counts of the functions eql knows (by their exact names), and whether the arguments
/// after the first must be string literals. Other names are accepted with any arguments, as
/// Elastic's rule repository configures eql (`ignore_missing_functions`).
fn signature(name: &str) -> Option<(usize, Option<usize>, bool)> {
    Some(match name {
        "add" | "divide" | "modulo" | "multiply" | "subtract" | "endsWith" | "startsWith" | "stringContains" => {
            (2, Some(2), false)
        }
        "arrayContains" => (2, None, false),
        "arrayCount" | "arraySearch" => (3, Some(3), false),
        "between" => (3, Some(4), false),
        "cidrMatch" | "match" | "matchLite" | "wildcard" => (2, None, true),
        "concat" => (1, None, false),
        "indexOf" | "substring" => (2, Some(3), false),
        "length" | "safe" | "string" => (1, Some(1), false),
        "number" => (1, Some(2), false),
        _ => return None,
    })
}

impl Parser<'_> {
    /// A full boolean expression.
    pub(super) fn expression(&mut self) -> Expr {
        if !self.enter() {
            let start = self.peek().span.start;
            self.skip_nested();
            return Expr::new(ExprKind::Error, Span::new(start, self.previous_end().max(start)));
        }
        let expr = self.or_expression();
        self.leave();
        expr
    }

    /// Skips the rest of a too-deep expression up to where its enclosing level resumes.
    fn skip_nested(&mut self) {
        let mut nesting = 0usize;
        loop {
            match self.peek().kind {
                TokenKind::EndOfInput => return,
                TokenKind::LeftParen => nesting += 1,
                TokenKind::RightParen | TokenKind::RightBracket if nesting == 0 => return,
                TokenKind::RightParen => nesting -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    fn or_expression(&mut self) -> Expr {
        let first = self.and_expression();
        if !self.at_word("or") {
            return first;
        }
        let mut items = vec![first];
        while self.at_word("or") {
            self.bump();
            items.push(self.and_expression());
        }
        let span = items[0].span.cover(items[items.len() - 1].span);
        Expr::new(ExprKind::Or(items), span)
    }

    fn and_expression(&mut self) -> Expr {
        let first = self.not_expression();
        if !self.at_word("and") {
            return first;
        }
        let mut items = vec![first];
        while self.at_word("and") {
            self.bump();
            items.push(self.not_expression());
        }
        let span = items[0].span.cover(items[items.len() - 1].span);
        Expr::new(ExprKind::And(items), span)
    }

    fn not_expression(&mut self) -> Expr {
        let start = self.peek().span.start;
        let mut count = 0usize;
        while self.at_word("not") {
            self.bump();
            count += 1;
        }
        let term = self.term();
        if count % 2 == 1 {
            let span = Span::new(start, term.span.end.max(start));
            Expr::new(ExprKind::Not(Box::new(term)), span)
        } else {
            term
        }
    }

    /// One comparison, set test or string predicate, or a bare value.
    fn term(&mut self) -> Expr {
        let left = self.sum();
        let token = self.peek();
        let compare = match token.kind {
            TokenKind::EqualEqual => Some(CompareOp::Equal),
            TokenKind::Equal => {
                self.error(diagnostics::single_equal(token.span));
                Some(CompareOp::Equal)
            }
            TokenKind::BangEqual => Some(CompareOp::NotEqual),
            TokenKind::Less => Some(CompareOp::Less),
            TokenKind::LessEqual => Some(CompareOp::LessEqual),
            TokenKind::Greater => Some(CompareOp::Greater),
            TokenKind::GreaterEqual => Some(CompareOp::GreaterEqual),
            _ => None,
        };
        if let Some(op) = compare {
            self.bump();
            let right = self.sum();
            self.check_comparison(&left, &right, token.span);
            let span = left.span.cover(right.span);
            return Expr::new(ExprKind::Comparison { left: Box::new(left), op, right: Box::new(right) }, span);
        }
        let word = self.slice(token.span).to_owned();
        let (negated, set_word) = match (token.kind, word.as_str()) {
            (TokenKind::Name, "not") => match self.peek_at(1) {
                next if matches!(self.slice(next.span), "in" | "in~") => (true, true),
                _ => (false, false),
            },
            (TokenKind::Name, "in") | (TokenKind::NameTilde, "in~") => (false, true),
            _ => (false, false),
        };
        if set_word {
            if negated {
                self.bump();
            }
            let keyword = self.bump();
            let insensitive = self.slice(keyword.span) == "in~";
            let (items, end) = self.parenthesized_list();
            let span = Span::new(left.span.start, end.max(left.span.start));
            return Expr::new(ExprKind::In { expr: Box::new(left), negated, insensitive, items }, span);
        }
        let string_op = match (token.kind, word.as_str()) {
            (TokenKind::Colon, _) => Some((StringOp::Colon, false)),
            (TokenKind::Name, "like") => Some((StringOp::Like, false)),
            (TokenKind::NameTilde, "like~") => Some((StringOp::Like, true)),
            (TokenKind::Name, "regex") => Some((StringOp::Regex, false)),
            (TokenKind::NameTilde, "regex~") => Some((StringOp::Regex, true)),
            _ => None,
        };
        if let Some((op, insensitive)) = string_op {
            self.bump();
            let (values, end) = if self.at(TokenKind::LeftParen) {
                self.parenthesized_list()
            } else {
                let value = self.value();
                let end = value.span.end;
                (vec![value], end)
            };
            for value in &values {
                if !matches!(value.kind, ExprKind::String(_) | ExprKind::Error) {
                    self.error(diagnostics::string_predicate_value(value.span));
                }
            }
            if left.is_literal() && !matches!(left.kind, ExprKind::String(_)) {
                self.error(diagnostics::string_predicate_subject(left.span));
            }
            let span = Span::new(left.span.start, end.max(left.span.start));
            return Expr::new(ExprKind::StringPredicate { expr: Box::new(left), op, insensitive, values }, span);
        }
        left
    }

    /// The checks Elasticsearch makes on `left op right`.
    fn check_comparison(&mut self, left: &Expr, right: &Expr, op_span: Span) {
        if !self.endpoint_dialect && left.mentions_field() && right.mentions_field() {
            self.error(diagnostics::field_comparison(left.span.cover(right.span)));
        }
        let type_of = |expr: &Expr| match expr.kind {
            ExprKind::String(_) => Some(0),
            ExprKind::Number(_) => Some(1),
            ExprKind::Bool(_) => Some(2),
            _ => None,
        };
        if let (Some(left_type), Some(right_type)) = (type_of(left), type_of(right))
            && left_type != right_type
        {
            self.error(diagnostics::literal_comparison(op_span));
        }
    }

    /// `( expr, ... )` as after `in` or a string predicate; returns the items and the end offset.
    fn parenthesized_list(&mut self) -> (Vec<Expr>, u32) {
        let open = self.peek();
        if open.kind != TokenKind::LeftParen {
            let found = self.describe(open);
            self.error(diagnostics::expected("`(`", &found, open.span));
            return (Vec::new(), self.previous_end());
        }
        self.bump();
        let items = if self.at(TokenKind::RightParen) {
            let token = self.peek();
            self.error(diagnostics::expected("a value", "`)`", token.span));
            Vec::new()
        } else {
            self.expression_list()
        };
        self.close_paren(open.span);
        (items, self.previous_end())
    }

    fn close_paren(&mut self, open: Span) {
        if self.at(TokenKind::RightParen) {
            self.bump();
        } else {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::unclosed(")", &found, token.span, open));
        }
    }

    /// `+ -` then `* / %`, left-associative, by binding power.
    fn sum(&mut self) -> Expr {
        self.arithmetic(0)
    }

    fn arithmetic(&mut self, minimum_power: u8) -> Expr {
        let mut left = self.value();
        // A left-associative chain nests without recursion here, but every later walk of the tree
        // recurses through it: past the depth limit, operands are still parsed and then dropped.
        let mut chain = 0u32;
        loop {
            let (op, power) = match self.peek().kind {
                TokenKind::Plus => ('+', 1),
                TokenKind::Minus => ('-', 1),
                TokenKind::Star => ('*', 2),
                TokenKind::Slash => ('/', 2),
                TokenKind::Percent => ('%', 2),
                _ => return left,
            };
            if power < minimum_power || !self.enter() {
                return left;
            }
            self.bump();
            let right = self.arithmetic(power + 1);
            self.leave();
            chain += 1;
            if chain + self.depth > super::MAX_DEPTH {
                if chain + self.depth == super::MAX_DEPTH + 1 {
                    self.error(diagnostics::too_deep(right.span));
                }
                continue;
            }
            let span = left.span.cover(right.span);
            left = Expr::new(ExprKind::Math { left: Box::new(left), op, right: Box::new(right) }, span);
        }
    }

    /// A signed operand followed by any method calls.
    fn value(&mut self) -> Expr {
        let token = self.peek();
        if matches!(token.kind, TokenKind::Minus | TokenKind::Plus) {
            self.bump();
            if !self.enter() {
                return Expr::new(ExprKind::Error, token.span);
            }
            let operand = self.value();
            self.leave();
            let span = token.span.cover(operand.span);
            if token.kind == TokenKind::Plus {
                return Expr::new(operand.kind, span);
            }
            let kind = match &operand.kind {
                ExprKind::Number(number) => {
                    negate(number).map_or(ExprKind::Negative(Box::new(operand)), ExprKind::Number)
                }
                _ => ExprKind::Negative(Box::new(operand)),
            };
            return Expr::new(kind, span);
        }
        let mut expr = self.primary();
        // `x:name(args)`: the colon, name and parenthesis touch, as in eql's METHOD_START token.
        while self.at(TokenKind::Colon) {
            let (colon, name, open) = (self.peek(), self.peek_at(1), self.peek_at(2));
            if !(matches!(name.kind, TokenKind::Name | TokenKind::NameTilde)
                && open.kind == TokenKind::LeftParen
                && colon.span.end == name.span.start
                && name.span.end == open.span.start)
            {
                break;
            }
            self.bump();
            self.bump();
            self.bump();
            let mut arguments = vec![expr];
            if !self.at(TokenKind::RightParen) {
                arguments.extend(self.expression_list());
            }
            self.close_paren(open.span);
            let text = self.slice(name.span);
            let insensitive = text.ends_with('~');
            let name = Name { text: text.trim_end_matches('~').to_owned(), span: name.span };
            let span = arguments[0].span.cover(Span::new(colon.span.start, self.previous_end()));
            expr = self.call(name, insensitive, arguments, span);
        }
        expr
    }

    fn primary(&mut self) -> Expr {
        let token = self.peek();
        let text = self.slice(token.span).to_owned();
        match token.kind {
            TokenKind::LeftParen => {
                self.bump();
                let inner = self.expression();
                self.close_paren(token.span);
                Expr::new(inner.kind, Span::new(token.span.start, self.previous_end()))
            }
            TokenKind::String | TokenKind::TripleString => {
                self.bump();
                let value = decode_string(&text).unwrap_or_else(|| {
                    self.error(diagnostics::bad_escape(token.span));
                    text.trim_matches('"').to_owned()
                });
                Expr::new(ExprKind::String(value), token.span)
            }
            TokenKind::SingleQuotedString | TokenKind::RawString => {
                self.bump();
                self.error(diagnostics::single_quoted(token.span));
                let body = text.trim_start_matches('?');
                Expr::new(
                    ExprKind::String(body.get(1..body.len().saturating_sub(1)).unwrap_or("").to_owned()),
                    token.span,
                )
            }
            TokenKind::UnterminatedString => {
                self.bump();
                self.error(diagnostics::unterminated_string(token.span));
                Expr::new(ExprKind::String(text.get(1..).unwrap_or("").to_owned()), token.span)
            }
            TokenKind::Integer => {
                self.bump();
                let number = text
                    .parse::<u64>()
                    .map(serde_json::Number::from)
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().and_then(serde_json::Number::from_f64));
                number.map_or(Expr::new(ExprKind::Error, token.span), |n| Expr::new(ExprKind::Number(n), token.span))
            }
            TokenKind::Decimal => {
                self.bump();
                match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                    Some(number) => Expr::new(ExprKind::Number(number), token.span),
                    None => Expr::new(ExprKind::Error, token.span),
                }
            }
            TokenKind::Name | TokenKind::NameTilde
                if self.peek_at(1).kind == TokenKind::LeftParen
                    && !(token.kind == TokenKind::Name && is_keyword(&text)) =>
            {
                self.bump();
                let open = self.bump();
                let arguments = if self.at(TokenKind::RightParen) { Vec::new() } else { self.expression_list() };
                self.close_paren(open.span);
                let insensitive = token.kind == TokenKind::NameTilde;
                let name = Name { text: text.trim_end_matches('~').to_owned(), span: token.span };
                let span = Span::new(token.span.start, self.previous_end());
                self.call(name, insensitive, arguments, span)
            }
            TokenKind::Name
                if self.peek_word_at(1) == Some("of")
                    && matches!(self.peek_at(2).kind, TokenKind::LeftBracket | TokenKind::BangBracket) =>
            {
                self.named_subquery()
            }
            // A reserved word where a value belongs (`a == and b`): the value is missing; the word
            // is left for the level that knows it.
            TokenKind::Name
                if is_keyword(&text)
                    && !matches!(text.as_str(), "true" | "false" | "null")
                    && !(self.peek_at(1).kind == TokenKind::Dot && self.peek_at(1).span.start == token.span.end) =>
            {
                self.error(diagnostics::expected("a field, a value or `(`", &format!("`{text}`"), token.span));
                Expr::new(ExprKind::Error, Span::empty(token.span.start))
            }
            TokenKind::Name | TokenKind::QuotedName | TokenKind::Question => self.field_or_keyword(),
            TokenKind::Dollar => {
                self.bump();
                if !self.endpoint_dialect {
                    self.error(diagnostics::dialect_variable(token.span));
                }
                let inner = self.field_or_keyword();
                let name = match &inner.kind {
                    ExprKind::Field(field) => field.path(),
                    _ => String::new(),
                };
                Expr::new(ExprKind::Variable(name), token.span.cover(inner.span))
            }
            _ => {
                let found = self.describe(token);
                self.error(diagnostics::expected("a field, a value or `(`", &found, token.span));
                Expr::new(ExprKind::Error, Span::empty(token.span.start))
            }
        }
    }

    /// Builds a call and checks its arguments against eql's signature for that name.
    fn call(&mut self, name: Name, insensitive: bool, arguments: Vec<Expr>, span: Span) -> Expr {
        if let Some((minimum, maximum, literal_patterns)) = signature(&name.text) {
            let count = arguments.len();
            if count < minimum || maximum.is_some_and(|maximum| count > maximum) {
                let expected = match maximum {
                    Some(maximum) if maximum == minimum => minimum.to_string(),
                    Some(maximum) => format!("{minimum} to {maximum}"),
                    None => format!("{minimum} or more"),
                };
                self.error(diagnostics::function_arguments(&name.text, &expected, count, span));
            } else if literal_patterns {
                for argument in arguments.iter().skip(1) {
                    if !matches!(argument.kind, ExprKind::String(_) | ExprKind::Error) {
                        self.error(diagnostics::string_predicate_value(argument.span));
                    }
                }
            }
        }
        Expr::new(ExprKind::Call { name, insensitive, arguments }, span)
    }

    /// `descendant of [process where ...]`.
    fn named_subquery(&mut self) -> Expr {
        let relation = self.bump();
        self.bump();
        let open = self.bump();
        let query: EventQuery = self.event_query();
        if self.at(TokenKind::RightBracket) {
            self.bump();
        } else {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::unclosed("]", &found, token.span, open.span));
        }
        let relation = Name { text: self.slice(relation.span).to_owned(), span: relation.span };
        let span = Span::new(relation.span.start, self.previous_end());
        Expr::new(ExprKind::NamedSubquery { relation, query: Box::new(query) }, span)
    }

    /// A field path, or the literal keywords `true`, `false`, `null`; other keywords are an error.
    fn field_or_keyword(&mut self) -> Expr {
        let first = self.peek();
        let optional = first.kind == TokenKind::Question;
        if optional {
            self.bump();
            let next = self.peek();
            if !matches!(next.kind, TokenKind::Name | TokenKind::QuotedName) || next.span.start != first.span.end {
                let found = self.describe(next);
                self.error(diagnostics::expected("a field name after `?`", &found, next.span));
                return Expr::new(ExprKind::Error, first.span);
            }
        }
        let head = self.bump();
        let head_text = self.slice(head.span).to_owned();
        let mut parts = vec![FieldPart::Name(name_of(head.kind, &head_text))];
        let mut end = head.span.end;
        loop {
            let next = self.peek();
            if next.span.start != end {
                break;
            }
            if next.kind == TokenKind::Dot {
                let part = self.peek_at(1);
                if !matches!(part.kind, TokenKind::Name | TokenKind::QuotedName) {
                    break;
                }
                self.bump();
                self.bump();
                parts.push(FieldPart::Name(name_of(part.kind, self.slice(part.span))));
                end = part.span.end;
            } else if next.kind == TokenKind::LeftBracket
                && self.peek_at(1).kind == TokenKind::Integer
                && self.peek_at(2).kind == TokenKind::RightBracket
            {
                self.bump();
                let index = self.bump();
                let close = self.bump();
                parts.push(FieldPart::Index(self.slice(index.span).parse().unwrap_or(u64::MAX)));
                end = close.span.end;
            } else {
                break;
            }
        }
        let span = Span::new(first.span.start, end);
        if parts.len() == 1 && !optional && head.kind == TokenKind::Name {
            match head_text.as_str() {
                "true" => return Expr::new(ExprKind::Bool(true), span),
                "false" => return Expr::new(ExprKind::Bool(false), span),
                "null" => return Expr::new(ExprKind::Null, span),
                word if is_keyword(word) => {
                    self.error(diagnostics::keyword_as_field(word, span));
                    return Expr::new(ExprKind::Error, span);
                }
                _ => {}
            }
        }
        Expr::new(ExprKind::Field(Field { parts, optional }), span)
    }
}

/// A field part's name: a backquoted name without its quotes.
fn name_of(kind: TokenKind, text: &str) -> String {
    if kind == TokenKind::QuotedName { text.trim_matches('`').to_owned() } else { text.to_owned() }
}

fn negate(number: &serde_json::Number) -> Option<serde_json::Number> {
    if let Some(value) = number.as_u64() {
        let value = i64::try_from(value).ok()?;
        return Some(serde_json::Number::from(-value));
    }
    serde_json::Number::from_f64(-number.as_f64()?)
}
