//! The hand-written parser: the pipeline is split at top-level `|` first (quotes, `[...]` and
//! ```` ``` ```` comments respected), then each command's arguments are lexed in the mode its
//! command needs and parsed by the command's grammar. Search expressions are recursive descent
//! (SPL's precedence: `NOT`, then `OR`, then `AND`, implicit between terms); eval expressions are
//! a Pratt parser. Parsing never fails: every input gives a pipeline and diagnostics.

use detwiki_ir::{Diagnostic, Span};

use crate::ast::*;
use crate::diagnostics;
use crate::lexer::{Mode, Token, TokenKind, first_token, tokenize, unquote};

/// Nested expressions and subsearches deeper than this are skipped with a diagnostic.
pub const MAX_DEPTH: usize = 100;

/// A pipeline and what went wrong reading it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub pipeline: Pipeline,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole search. Spans are byte offsets into `text`.
pub fn parse(text: &str) -> Parsed {
    let mut parser = Parser { source: text, diagnostics: Vec::new(), depth: 0 };
    let pipeline = parser.pipeline(0, text.len(), false);
    Parsed { pipeline, diagnostics: parser.diagnostics }
}

/// The top-level command names of a search, in order (the leading search without `|` is
/// `search`), as a command splitter sees them.
pub fn command_names(text: &str) -> Vec<String> {
    parse(text).pipeline.commands.into_iter().map(|command| command.name).collect()
}

struct Parser<'a> {
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
    depth: usize,
}

/// Commands whose arguments are eval expressions.
fn eval_mode(name: &str) -> bool {
    matches!(name, "eval" | "where" | "fieldformat")
}

fn is_stats(name: &str) -> bool {
    matches!(name, "stats" | "eventstats" | "streamstats" | "tstats" | "chart" | "timechart" | "mstats" | "sistats")
}

impl<'a> Parser<'a> {
    /// Command segments of `start..end`: (start, end, preceded by `|`).
    fn segments(&mut self, start: usize, end: usize) -> Vec<(usize, usize, bool)> {
        let bytes = self.source.as_bytes();
        let mut segments = Vec::new();
        let mut depth = 0usize;
        let mut segment_start = start;
        let mut piped = false;
        let mut index = start;
        while index < end {
            match bytes[index] {
                b'"' => {
                    index = crate::macros::skip_string(&bytes[..end], index);
                    continue;
                }
                b'`' if bytes[index..end].starts_with(b"```") => {
                    index = self
                        .source
                        .get(index + 3..end)
                        .and_then(|rest| rest.find("```"))
                        .map_or(end, |o| index + 6 + o);
                    continue;
                }
                // An escaped character outside quotes (`*\\"hostNetwork\\"*`) is not a delimiter.
                b'\\' => index += 1,
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'|' if depth == 0 => {
                    segments.push((segment_start, index, piped));
                    segment_start = index + 1;
                    piped = true;
                }
                _ => {}
            }
            index += 1;
        }
        segments.push((segment_start, end, piped));
        segments
    }

    fn pipeline(&mut self, start: usize, end: usize, leading_is_command: bool) -> Pipeline {
        let mut pipeline = Pipeline { commands: Vec::new(), span: Span::from_usize(start, end) };
        if self.depth >= MAX_DEPTH {
            self.diagnostics.push(diagnostics::too_deep(Span::from_usize(start, end)));
            return pipeline;
        }
        self.depth += 1;
        let segments = self.segments(start, end);
        for (position, (segment_start, segment_end, piped)) in segments.iter().copied().enumerate() {
            let Some(first) = first_token(self.source, segment_start, segment_end) else {
                if piped {
                    self.diagnostics.push(diagnostics::empty_command(Span::from_usize(
                        segment_start.saturating_sub(1),
                        segment_end,
                    )));
                }
                continue;
            };
            let implicit = position == 0 && !piped && !leading_is_command && !is_search_keyword(first, self.source);
            let command = if implicit {
                self.command(
                    String::from("search"),
                    Span::empty(first.span.start),
                    first.span.start as usize,
                    segment_end,
                    true,
                )
            } else if first.kind == TokenKind::Word {
                let name = first.text(self.source).to_ascii_lowercase();
                self.command(name, first.span, first.span.end as usize, segment_end, false)
            } else {
                self.diagnostics.push(diagnostics::expected(
                    "a command name",
                    &describe(first, self.source),
                    first.span,
                ));
                self.command(
                    String::new(),
                    Span::empty(first.span.start),
                    first.span.start as usize,
                    segment_end,
                    false,
                )
            };
            pipeline.commands.push(command);
        }
        self.depth -= 1;
        pipeline
    }

    fn command(&mut self, name: String, name_span: Span, args_start: usize, end: usize, implicit: bool) -> Command {
        let mode = if eval_mode(&name) { Mode::Eval } else { Mode::Search };
        let raw = tokenize(self.source, args_start, end, mode, &mut self.diagnostics);
        let mut subsearches = Vec::new();
        let tokens = self.collapse_subsearches(&raw, &name, &mut subsearches);
        let last_end = tokens.last().map_or(name_span.end, |token| token.token.span.end);
        let span = Span::new(
            if implicit { tokens.first().map_or(name_span.start, |t| t.token.span.start) } else { name_span.start },
            last_end.max(name_span.end),
        );
        let mut cursor = Cursor { tokens: &tokens, position: 0, source: self.source };
        let body = match name.as_str() {
            "search" => Body::Search(self.search_expression(&mut cursor, false)),
            "where" => Body::Where(self.eval_or_none(&mut cursor)),
            "eval" => Body::Eval(self.assignments(&mut cursor)),
            "rename" => Body::Rename(self.rename(&mut cursor)),
            "rex" => Body::Rex(self.rex(&mut cursor)),
            "regex" => self.regex(&mut cursor, name_span),
            "lookup" | "inputlookup" => Body::Lookup(self.lookup(&mut cursor, name == "inputlookup")),
            other if is_stats(other) => Body::Stats(self.stats(&mut cursor)),
            _ => {
                let (options, names) = self.generic(&mut cursor);
                Body::Generic { options, names }
            }
        };
        Command { name, name_span, span, implicit, body, subsearches }
    }

    /// Replaces every top-level `[...]` by one subsearch item, parsing its inside as a pipeline.
    fn collapse_subsearches(&mut self, raw: &[Token], command: &str, subsearches: &mut Vec<Pipeline>) -> Vec<Item> {
        let mut items = Vec::with_capacity(raw.len());
        let mut index = 0;
        while index < raw.len() {
            let token = raw[index];
            if token.kind != TokenKind::LBracket {
                items.push(Item { token, subsearch: None });
                index += 1;
                continue;
            }
            let mut depth = 0usize;
            let mut close = None;
            for (offset, candidate) in raw[index..].iter().enumerate() {
                match candidate.kind {
                    TokenKind::LBracket => depth += 1,
                    TokenKind::RBracket => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(index + offset);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let (inner_end, next, span_end) = match close {
                Some(close) => (raw[close].span.start, close + 1, raw[close].span.end),
                None => {
                    let end = raw.last().map_or(token.span.end, |last| last.span.end);
                    self.diagnostics.push(diagnostics::unclosed("]", Span::empty(end), token.span));
                    (end, raw.len(), end)
                }
            };
            // `appendpipe [stats ...]` and `foreach f* [eval ...]` hold commands, not a search.
            let leading_is_command = matches!(command, "appendpipe" | "foreach");
            let pipeline = self.pipeline(token.span.end as usize, inner_end as usize, leading_is_command);
            subsearches.push(pipeline);
            items.push(Item {
                token: Token { kind: TokenKind::LBracket, span: Span::new(token.span.start, span_end) },
                subsearch: Some(subsearches.len() - 1),
            });
            index = next;
        }
        items
    }

    // ---- search expressions ----

    fn search_expression(&mut self, cursor: &mut Cursor<'_>, nested: bool) -> Option<SearchExpr> {
        if self.depth >= MAX_DEPTH {
            self.diagnostics.push(diagnostics::too_deep(cursor.span_here()));
            cursor.skip_to_end();
            return None;
        }
        self.depth += 1;
        let mut items = Vec::new();
        loop {
            let before = cursor.position;
            match cursor.peek() {
                None => break,
                Some(item) if item.token.kind == TokenKind::RParen => {
                    if nested {
                        break;
                    }
                    self.diagnostics.push(diagnostics::expected("a search term", "`)`", item.token.span));
                    cursor.position += 1;
                    continue;
                }
                // Commas between search terms separate nothing in Splunk: skipped.
                Some(item) if cursor.is_keyword(item, "AND") || item.token.kind == TokenKind::Comma => {
                    cursor.position += 1;
                    continue;
                }
                _ => {}
            }
            if let Some(expr) = self.search_or(cursor) {
                items.push(expr);
            }
            if cursor.position == before {
                cursor.position += 1;
            }
        }
        self.depth -= 1;
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(SearchExpr::And(items)),
        }
    }

    /// Stops before words that end the expression in a tstats/inputlookup `where`.
    fn search_or(&mut self, cursor: &mut Cursor<'_>) -> Option<SearchExpr> {
        let first = self.search_not(cursor)?;
        let mut items = vec![first];
        while let Some(item) = cursor.peek() {
            if !cursor.is_keyword(item, "OR") {
                break;
            }
            cursor.position += 1;
            match self.search_not(cursor) {
                Some(expr) => items.push(expr),
                None => {
                    self.diagnostics.push(diagnostics::expected(
                        "a search term after `OR`",
                        "nothing",
                        item.token.span,
                    ));
                    break;
                }
            }
        }
        if items.len() == 1 { items.pop() } else { Some(SearchExpr::Or(items)) }
    }

    fn search_not(&mut self, cursor: &mut Cursor<'_>) -> Option<SearchExpr> {
        let item = cursor.peek()?;
        if cursor.is_keyword(item, "NOT") {
            cursor.position += 1;
            if self.depth >= MAX_DEPTH {
                self.diagnostics.push(diagnostics::too_deep(item.token.span));
                cursor.skip_to_end();
                return None;
            }
            self.depth += 1;
            let inner = self.search_not(cursor);
            self.depth -= 1;
            let Some(inner) = inner else {
                self.diagnostics.push(diagnostics::expected("a search term after `NOT`", "nothing", item.token.span));
                return None;
            };
            let span = item.token.span.cover(inner.span());
            return Some(SearchExpr::Not { item: Box::new(inner), span });
        }
        self.search_primary(cursor)
    }

    fn search_primary(&mut self, cursor: &mut Cursor<'_>) -> Option<SearchExpr> {
        let item = cursor.peek()?;
        let token = item.token;
        if let Some(index) = item.subsearch {
            cursor.position += 1;
            return Some(SearchExpr::Subsearch { index, span: token.span });
        }
        match token.kind {
            TokenKind::LParen => {
                cursor.position += 1;
                let inner = self.search_expression(cursor, true);
                match cursor.peek() {
                    Some(close) if close.token.kind == TokenKind::RParen => cursor.position += 1,
                    _ => self.diagnostics.push(diagnostics::unclosed(")", cursor.span_here(), token.span)),
                }
                inner
            }
            TokenKind::Word | TokenKind::String => {
                cursor.position += 1;
                let next = cursor.peek().map(|next| next.token.kind);
                let op = match next {
                    Some(TokenKind::Eq | TokenKind::EqEq) => Some(CompareOp::Eq),
                    Some(TokenKind::NotEq) => Some(CompareOp::Ne),
                    Some(TokenKind::Lt) => Some(CompareOp::Lt),
                    Some(TokenKind::Le) => Some(CompareOp::Le),
                    Some(TokenKind::Gt) => Some(CompareOp::Gt),
                    Some(TokenKind::Ge) => Some(CompareOp::Ge),
                    _ => None,
                };
                let field = Name { text: unquote(token.text(self.source)), span: token.span };
                if let Some(op) = op {
                    let op_token = cursor.peek().map(|item| item.token.span).unwrap_or_default();
                    cursor.position += 1;
                    let value = match cursor.peek() {
                        Some(value)
                            if matches!(value.token.kind, TokenKind::Word | TokenKind::String)
                                && value.subsearch.is_none() =>
                        {
                            cursor.position += 1;
                            search_value(value.token, self.source)
                        }
                        other => {
                            let found = other.map_or("nothing".to_owned(), |item| describe(item.token, self.source));
                            self.diagnostics.push(diagnostics::expected(
                                "a value after the comparison",
                                &found,
                                op_token,
                            ));
                            SearchValue { value: String::new(), quoted: false, span: Span::empty(op_token.end) }
                        }
                    };
                    let span = token.span.cover(value.span).cover(op_token);
                    return Some(SearchExpr::Compare { field, op, value, span });
                }
                let is_in = token.kind == TokenKind::Word
                    && cursor.peek().is_some_and(|item| cursor.text(item).eq_ignore_ascii_case("in"))
                    && cursor.peek_at(1).is_some_and(|item| item.token.kind == TokenKind::LParen);
                if is_in {
                    cursor.position += 2;
                    let mut values = Vec::new();
                    let mut end = token.span.end;
                    while let Some(item) = cursor.peek() {
                        cursor.position += 1;
                        end = item.token.span.end;
                        match item.token.kind {
                            TokenKind::RParen => break,
                            TokenKind::Word | TokenKind::String => values.push(search_value(item.token, self.source)),
                            _ => {}
                        }
                    }
                    return Some(SearchExpr::In { field, values, span: Span::new(token.span.start, end) });
                }
                Some(SearchExpr::Term(search_value(token, self.source)))
            }
            _ => {
                cursor.position += 1;
                self.diagnostics.push(diagnostics::expected(
                    "a search term",
                    &describe(token, self.source),
                    token.span,
                ));
                None
            }
        }
    }

    // ---- eval expressions (Pratt) ----

    fn eval_or_none(&mut self, cursor: &mut Cursor<'_>) -> Option<EvalExpr> {
        if cursor.peek().is_none() {
            self.diagnostics.push(diagnostics::expected("an expression", "nothing", cursor.span_here()));
            return None;
        }
        let expr = self.eval_expression(cursor, 0);
        if let Some(extra) = cursor.peek() {
            self.diagnostics.push(diagnostics::expected(
                "the end of the expression",
                &describe(extra.token, self.source),
                extra.token.span,
            ));
            cursor.skip_to_end();
        }
        Some(expr)
    }

    fn eval_expression(&mut self, cursor: &mut Cursor<'_>, min_power: u8) -> EvalExpr {
        if self.depth >= MAX_DEPTH {
            self.diagnostics.push(diagnostics::too_deep(cursor.span_here()));
            let span = cursor.span_here();
            cursor.skip_to_end();
            return EvalExpr::Error { span };
        }
        self.depth += 1;
        let mut left = self.eval_prefix(cursor);
        while let Some(item) = cursor.peek() {
            let Some((op, power)) = binary_operator(cursor, item) else {
                let is_in = cursor.text(item).eq_ignore_ascii_case("in")
                    && cursor.peek_at(1).is_some_and(|next| next.token.kind == TokenKind::LParen);
                if is_in && min_power <= 4 {
                    cursor.position += 2;
                    let list = self.eval_arguments(cursor, item.token.span);
                    let span = left.span().cover(cursor.previous_span());
                    left = EvalExpr::In { item: Box::new(left), list, span };
                    continue;
                }
                break;
            };
            if power < min_power {
                break;
            }
            cursor.position += 1;
            let right = self.eval_expression(cursor, power + 1);
            let span = left.span().cover(right.span());
            left = EvalExpr::Binary { op, left: Box::new(left), right: Box::new(right), span };
        }
        self.depth -= 1;
        left
    }

    fn eval_prefix(&mut self, cursor: &mut Cursor<'_>) -> EvalExpr {
        let Some(item) = cursor.peek() else {
            let span = cursor.span_here();
            self.diagnostics.push(diagnostics::expected("an expression", "nothing", span));
            return EvalExpr::Error { span };
        };
        let token = item.token;
        let text = cursor.text(item);
        cursor.position += 1;
        match token.kind {
            TokenKind::Word if text.eq_ignore_ascii_case("not") => {
                let inner = self.eval_expression(cursor, 3);
                let span = token.span.cover(inner.span());
                EvalExpr::Not { item: Box::new(inner), span }
            }
            TokenKind::Minus => {
                let inner = self.eval_expression(cursor, 7);
                let span = token.span.cover(inner.span());
                EvalExpr::Negate { item: Box::new(inner), span }
            }
            TokenKind::LParen => {
                let inner = self.eval_expression(cursor, 0);
                match cursor.peek() {
                    Some(close) if close.token.kind == TokenKind::RParen => cursor.position += 1,
                    _ => self.diagnostics.push(diagnostics::unclosed(")", cursor.span_here(), token.span)),
                }
                inner
            }
            TokenKind::String => EvalExpr::String { value: unquote(text), span: token.span },
            TokenKind::QuotedField => {
                EvalExpr::Field(Name { text: text.trim_matches('\'').to_owned(), span: token.span })
            }
            TokenKind::Word => {
                if cursor.peek().is_some_and(|next| next.token.kind == TokenKind::LParen) {
                    cursor.position += 1;
                    let arguments = self.eval_arguments(cursor, token.span);
                    let span = token.span.cover(cursor.previous_span());
                    return EvalExpr::Call { name: text.to_ascii_lowercase(), arguments, span };
                }
                if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') && text.parse::<f64>().is_ok() {
                    EvalExpr::Number { text: text.to_owned(), span: token.span }
                } else {
                    EvalExpr::Field(Name { text: text.to_owned(), span: token.span })
                }
            }
            _ => {
                self.diagnostics.push(diagnostics::expected(
                    "an expression",
                    &describe(token, self.source),
                    token.span,
                ));
                EvalExpr::Error { span: token.span }
            }
        }
    }

    /// Arguments after `(` up to the matching `)`, comma-separated.
    fn eval_arguments(&mut self, cursor: &mut Cursor<'_>, opened: Span) -> Vec<EvalExpr> {
        let mut arguments = Vec::new();
        loop {
            match cursor.peek() {
                None => {
                    self.diagnostics.push(diagnostics::unclosed(")", cursor.span_here(), opened));
                    break;
                }
                Some(item) if item.token.kind == TokenKind::RParen => {
                    cursor.position += 1;
                    break;
                }
                Some(item) if item.token.kind == TokenKind::Comma => cursor.position += 1,
                Some(_) => {
                    let before = cursor.position;
                    arguments.push(self.eval_expression(cursor, 0));
                    if cursor.position == before {
                        cursor.position += 1;
                    }
                }
            }
        }
        arguments
    }

    fn assignments(&mut self, cursor: &mut Cursor<'_>) -> Vec<Assignment> {
        let mut assignments = Vec::new();
        while let Some(item) = cursor.peek() {
            if item.token.kind == TokenKind::Comma {
                cursor.position += 1;
                continue;
            }
            if item.token.kind == TokenKind::Word && cursor.text(item).starts_with('`') {
                // An unexpanded macro between assignments (`eval a=1 `enrich``): its body,
                // unknown here, may hold more assignments or even a new command.
                cursor.position += 1;
                continue;
            }
            let is_field = matches!(item.token.kind, TokenKind::Word | TokenKind::QuotedField | TokenKind::String);
            let has_eq = cursor.peek_at(1).is_some_and(|next| next.token.kind == TokenKind::Eq);
            if !(is_field && has_eq) {
                self.diagnostics.push(diagnostics::expected(
                    "`field=expression`",
                    &describe(item.token, self.source),
                    item.token.span,
                ));
                cursor.position += 1;
                continue;
            }
            cursor.position += 2;
            let field = Name { text: unquote(cursor.text(item)).trim_matches('\'').to_owned(), span: item.token.span };
            let value = self.eval_expression(cursor, 0);
            let span = item.token.span.cover(value.span());
            assignments.push(Assignment { field, value, span });
        }
        assignments
    }

    // ---- command grammars ----

    fn rename(&mut self, cursor: &mut Cursor<'_>) -> Vec<(Name, Name)> {
        let mut pairs = Vec::new();
        while let Some(item) = cursor.peek() {
            if item.token.kind == TokenKind::Comma {
                cursor.position += 1;
                continue;
            }
            // A field named after an aggregate (`count(Authentication.src)`) is one name.
            let (source_name, width) = self.call_shaped_name(cursor);
            let has_as = cursor.peek_at(width).is_some_and(|next| cursor.text(next).eq_ignore_ascii_case("as"));
            let target = cursor.peek_at(width + 1);
            match (has_as, target) {
                (true, Some(target)) => {
                    cursor.position += width + 2;
                    pairs.push((source_name, name_of(target.token, self.source)));
                }
                _ => {
                    self.diagnostics.push(diagnostics::expected(
                        "`field as new_name`",
                        &describe(item.token, self.source),
                        item.token.span,
                    ));
                    cursor.position += 1;
                }
            }
        }
        pairs
    }

    /// The name at the cursor and how many items it spans: a word directly followed by a
    /// parenthesised group (`count(src)`, `values(user)`: a column an aggregation named) is one
    /// name up to the matching `)`; anything else is its single item.
    fn call_shaped_name(&self, cursor: &Cursor<'_>) -> (Name, usize) {
        let Some(item) = cursor.peek() else { return (Name { text: String::new(), span: Span::empty(0) }, 1) };
        let single = (name_of(item.token, self.source), 1);
        let opens = cursor
            .peek_at(1)
            .is_some_and(|next| next.token.kind == TokenKind::LParen && next.token.span.start == item.token.span.end);
        if item.token.kind != TokenKind::Word || !opens {
            return single;
        }
        let mut depth = 0usize;
        let mut width = 1;
        while let Some(next) = cursor.peek_at(width) {
            width += 1;
            match next.token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        let span = item.token.span.cover(next.token.span);
                        let text = self.source.get(span.start as usize..span.end as usize).unwrap_or_default();
                        return (Name { text: text.to_owned(), span }, width);
                    }
                }
                _ => {}
            }
        }
        single
    }

    fn rex(&mut self, cursor: &mut Cursor<'_>) -> Rex {
        let mut rex = Rex { field: None, pattern: String::new(), groups: Vec::new(), sed: false };
        while let Some(item) = cursor.peek() {
            cursor.position += 1;
            if item.token.kind == TokenKind::String {
                rex.pattern = unquote(cursor.text(item));
                continue;
            }
            if item.token.kind == TokenKind::Word
                && cursor.peek().is_some_and(|next| next.token.kind == TokenKind::Eq)
                && let Some(value) = cursor.peek_at(1)
            {
                cursor.position += 2;
                let key = cursor.text(item).to_ascii_lowercase();
                let value_text = unquote(cursor.text(value));
                match key.as_str() {
                    "field" => rex.field = Some(Name { text: value_text, span: value.token.span }),
                    "mode" => rex.sed = value_text.eq_ignore_ascii_case("sed"),
                    _ => {}
                }
            }
        }
        if !rex.sed {
            rex.groups = named_groups(&rex.pattern);
        }
        rex
    }

    fn regex(&mut self, cursor: &mut Cursor<'_>, name_span: Span) -> Body {
        let field_item = cursor.peek();
        let (field, negated, pattern_item) = match (field_item, cursor.peek_at(1), cursor.peek_at(2)) {
            (Some(field), Some(op), Some(pattern)) if matches!(op.token.kind, TokenKind::Eq | TokenKind::NotEq) => {
                (name_of(field.token, self.source), op.token.kind == TokenKind::NotEq, Some(pattern))
            }
            (Some(pattern), _, _) => {
                (Name { text: "_raw".to_owned(), span: Span::empty(pattern.token.span.start) }, false, Some(pattern))
            }
            _ => (Name { text: "_raw".to_owned(), span: name_span }, false, None),
        };
        let pattern = pattern_item.map(|item| unquote(cursor.text(item))).unwrap_or_default();
        let span = field_item
            .map_or(name_span, |item| item.token.span)
            .cover(pattern_item.map_or(name_span, |item| item.token.span));
        cursor.skip_to_end();
        Body::Regex { field, negated, pattern, span }
    }

    fn lookup(&mut self, cursor: &mut Cursor<'_>, input: bool) -> Lookup {
        let mut lookup = Lookup { table: None, inputs: Vec::new(), outputs: Vec::new(), where_clause: None };
        let mut in_outputs = false;
        while let Some(item) = cursor.peek() {
            let text = cursor.text(item);
            if item.token.kind == TokenKind::Word
                && cursor.peek_at(1).is_some_and(|next| next.token.kind == TokenKind::Eq)
            {
                cursor.position += 3;
                continue;
            }
            if input && text.eq_ignore_ascii_case("where") {
                cursor.position += 1;
                lookup.where_clause = self.search_expression(cursor, false);
                break;
            }
            if text.eq_ignore_ascii_case("output") || text.eq_ignore_ascii_case("outputnew") {
                in_outputs = true;
                cursor.position += 1;
                continue;
            }
            cursor.position += 1;
            if !matches!(item.token.kind, TokenKind::Word | TokenKind::String) {
                continue;
            }
            let name = name_of(item.token, self.source);
            if lookup.table.is_none() {
                lookup.table = Some(name);
                continue;
            }
            let renamed = if cursor.peek().is_some_and(|next| cursor.text(next).eq_ignore_ascii_case("as"))
                && let Some(target) = cursor.peek_at(1)
            {
                cursor.position += 2;
                name_of(target.token, self.source)
            } else {
                name.clone()
            };
            if in_outputs { lookup.outputs.push((name, renamed)) } else { lookup.inputs.push((name, renamed)) }
        }
        lookup
    }

    fn stats(&mut self, cursor: &mut Cursor<'_>) -> Stats {
        let mut stats = Stats::default();
        while let Some(item) = cursor.peek() {
            let text = cursor.text(item);
            let next_is_eq = cursor.peek_at(1).is_some_and(|next| next.token.kind == TokenKind::Eq);
            if item.token.kind == TokenKind::Comma {
                cursor.position += 1;
            } else if text.eq_ignore_ascii_case("by") {
                cursor.position += 1;
                while let Some(field) = cursor.peek() {
                    if cursor.text(field).eq_ignore_ascii_case("where") {
                        break;
                    }
                    cursor.position += 1;
                    if cursor.peek().is_some_and(|next| next.token.kind == TokenKind::Eq) {
                        cursor.position += 2;
                        continue;
                    }
                    if matches!(field.token.kind, TokenKind::Word | TokenKind::String) {
                        stats.by.push(name_of(field.token, self.source));
                    }
                }
            } else if text.eq_ignore_ascii_case("from") {
                cursor.position += 1;
                if let (Some(key), Some(eq), Some(value)) = (cursor.peek(), cursor.peek_at(1), cursor.peek_at(2))
                    && eq.token.kind == TokenKind::Eq
                {
                    cursor.position += 3;
                    if cursor.text(key).eq_ignore_ascii_case("datamodel") {
                        stats.datamodel = Some(name_of(value.token, self.source));
                    }
                } else if let Some(value) = cursor.peek() {
                    // `from datamodel:Endpoint.Processes` and `from Endpoint.Processes`.
                    cursor.position += 1;
                    let name = name_of(value.token, self.source);
                    let text = name.text.strip_prefix("datamodel:").unwrap_or(&name.text).to_owned();
                    stats.datamodel = Some(Name { text, span: name.span });
                }
            } else if text.eq_ignore_ascii_case("where") {
                cursor.position += 1;
                let mut clause = Vec::new();
                while let Some(part) = cursor.peek() {
                    if cursor.text(part).eq_ignore_ascii_case("by") {
                        break;
                    }
                    clause.push(part.clone());
                    cursor.position += 1;
                }
                let mut inner = Cursor { tokens: &clause, position: 0, source: self.source };
                let mut where_clause = self.search_expression(&mut inner, false);
                if let Some(nodename) = take_nodename(&mut where_clause) {
                    stats.nodename = Some(nodename);
                }
                stats.where_clause = where_clause;
            } else if next_is_eq && item.token.kind == TokenKind::Word {
                let value = cursor.peek_at(2);
                cursor.position += if value.is_some() { 3 } else { 2 };
                let value_text = value.map(|value| unquote(cursor.text(value))).unwrap_or_default();
                let span = item.token.span.cover(value.map_or(item.token.span, |value| value.token.span));
                if text.eq_ignore_ascii_case("nodename") {
                    stats.nodename = Some(Name { text: value_text.clone(), span });
                }
                stats.options.push(CommandOption { name: text.to_ascii_lowercase(), value: value_text, span });
            } else {
                self.aggregate(cursor, &mut stats);
            }
        }
        stats
    }

    fn aggregate(&mut self, cursor: &mut Cursor<'_>, stats: &mut Stats) {
        let Some(item) = cursor.peek() else { return };
        cursor.position += 1;
        if !matches!(item.token.kind, TokenKind::Word | TokenKind::String) {
            return;
        }
        let function = cursor.text(item).to_owned();
        let mut span = item.token.span;
        let mut argument = None;
        if cursor.peek().is_some_and(|next| next.token.kind == TokenKind::LParen) {
            let open = cursor.position;
            let mut depth = 0usize;
            while let Some(part) = cursor.peek() {
                cursor.position += 1;
                match part.token.kind {
                    TokenKind::LParen => depth += 1,
                    TokenKind::RParen => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner_start = cursor.tokens[open].token.span.end as usize;
            let close = cursor.previous_span();
            let inner_end = if close.start as usize >= inner_start { close.start as usize } else { inner_start };
            argument = self.source.get(inner_start..inner_end).map(|text| text.trim().to_owned());
            span = span.cover(close);
        }
        let written = self.source.get(span.range()).unwrap_or(&function).to_owned();
        let mut output = written;
        if cursor.peek().is_some_and(|next| cursor.text(next).eq_ignore_ascii_case("as"))
            && let Some(alias) = cursor.peek_at(1)
        {
            cursor.position += 2;
            output = unquote(cursor.text(alias));
            span = span.cover(alias.token.span);
        }
        stats.aggregates.push(Aggregate { function: function.to_ascii_lowercase(), argument, output, span });
    }

    fn generic(&mut self, cursor: &mut Cursor<'_>) -> (Vec<CommandOption>, Vec<Name>) {
        let mut options = Vec::new();
        let mut names = Vec::new();
        while let Some(item) = cursor.peek() {
            cursor.position += 1;
            if item.subsearch.is_some() || !matches!(item.token.kind, TokenKind::Word | TokenKind::String) {
                continue;
            }
            if cursor.peek().is_some_and(|next| next.token.kind == TokenKind::Eq) {
                let value = cursor.peek_at(1);
                cursor.position += if value.is_some_and(|value| value.subsearch.is_none()) { 2 } else { 1 };
                let value_text = value
                    .filter(|value| value.subsearch.is_none())
                    .map(|value| unquote(cursor.text(value)))
                    .unwrap_or_default();
                options.push(CommandOption {
                    name: cursor.text(item).to_ascii_lowercase(),
                    value: value_text,
                    span: item.token.span.cover(value.map_or(item.token.span, |value| value.token.span)),
                });
                continue;
            }
            names.push(name_of(item.token, self.source));
        }
        (options, names)
    }
}

/// `tstats ... where nodename=DNS ...`: `nodename` picks the data model's node, like the
/// argument of the same name, and is no filter on the events. Taken out of the top-level
/// conjuncts of the clause.
fn take_nodename(clause: &mut Option<SearchExpr>) -> Option<Name> {
    let is_nodename = |expression: &SearchExpr| {
        matches!(expression, SearchExpr::Compare { field, op: CompareOp::Eq, .. }
            if field.text.eq_ignore_ascii_case("nodename"))
    };
    let into_name = |expression: SearchExpr| match expression {
        SearchExpr::Compare { value, span, .. } => Some(Name { text: value.value, span }),
        _ => None,
    };
    match clause {
        Some(SearchExpr::And(items)) => {
            let position = items.iter().position(is_nodename)?;
            let name = into_name(items.remove(position));
            if items.len() == 1 {
                *clause = items.pop();
            }
            name
        }
        Some(expression) if is_nodename(expression) => clause.take().and_then(into_name),
        _ => None,
    }
}

/// A token, or a collapsed `[subsearch]`.
#[derive(Debug, Clone)]
struct Item {
    token: Token,
    subsearch: Option<usize>,
}

struct Cursor<'t> {
    tokens: &'t [Item],
    position: usize,
    source: &'t str,
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<&'t Item> {
        self.tokens.get(self.position)
    }

    fn peek_at(&self, ahead: usize) -> Option<&'t Item> {
        self.tokens.get(self.position + ahead)
    }

    fn text(&self, item: &Item) -> &'t str {
        if item.subsearch.is_some() {
            return "";
        }
        self.source.get(item.token.span.range()).unwrap_or("")
    }

    /// Search keywords are upper-case only: `or` and `not` are search terms.
    fn is_keyword(&self, item: &Item, keyword: &str) -> bool {
        item.token.kind == TokenKind::Word && self.text(item) == keyword
    }

    fn span_here(&self) -> Span {
        match self.peek() {
            Some(item) => Span::empty(item.token.span.start),
            None => Span::empty(self.tokens.last().map_or(0, |item| item.token.span.end)),
        }
    }

    fn previous_span(&self) -> Span {
        self.position
            .checked_sub(1)
            .and_then(|index| self.tokens.get(index))
            .map_or_else(|| self.span_here(), |item| item.token.span)
    }

    fn skip_to_end(&mut self) {
        self.position = self.tokens.len();
    }
}

fn binary_operator(cursor: &Cursor<'_>, item: &Item) -> Option<(BinaryOp, u8)> {
    Some(match item.token.kind {
        TokenKind::Eq | TokenKind::EqEq => (BinaryOp::Eq, 4),
        TokenKind::NotEq => (BinaryOp::Ne, 4),
        TokenKind::Lt => (BinaryOp::Lt, 4),
        TokenKind::Le => (BinaryOp::Le, 4),
        TokenKind::Gt => (BinaryOp::Gt, 4),
        TokenKind::Ge => (BinaryOp::Ge, 4),
        TokenKind::Plus => (BinaryOp::Add, 5),
        TokenKind::Minus => (BinaryOp::Subtract, 5),
        TokenKind::Dot => (BinaryOp::Concat, 5),
        TokenKind::Star => (BinaryOp::Multiply, 6),
        TokenKind::Slash => (BinaryOp::Divide, 6),
        TokenKind::Percent => (BinaryOp::Modulo, 6),
        TokenKind::Word => match cursor.text(item).to_ascii_uppercase().as_str() {
            "OR" => (BinaryOp::Or, 1),
            "XOR" => (BinaryOp::Xor, 1),
            "AND" => (BinaryOp::And, 2),
            "LIKE" => (BinaryOp::Like, 4),
            _ => return None,
        },
        _ => return None,
    })
}

/// `(?<name>...)` and `(?P<name>...)` groups of a regular expression.
pub fn named_groups(pattern: &str) -> Vec<String> {
    let mut groups = Vec::new();
    let mut rest = pattern;
    while let Some(position) = rest.find("(?") {
        rest = &rest[position + 2..];
        let after = rest.strip_prefix('P').unwrap_or(rest);
        if let Some(name_part) = after.strip_prefix('<')
            && !name_part.starts_with(['=', '!'])
            && let Some(end) = name_part.find('>')
        {
            let name = &name_part[..end];
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                groups.push(name.to_owned());
            }
        }
    }
    groups
}

fn is_search_keyword(token: Token, source: &str) -> bool {
    token.kind == TokenKind::Word
        && token.text(source).eq_ignore_ascii_case("search")
        && !source[token.span.end as usize..].trim_start().starts_with('=')
}

fn search_value(token: Token, source: &str) -> SearchValue {
    SearchValue { value: unquote(token.text(source)), quoted: token.kind == TokenKind::String, span: token.span }
}

fn name_of(token: Token, source: &str) -> Name {
    Name { text: unquote(token.text(source)), span: token.span }
}

fn describe(token: Token, source: &str) -> String {
    let text = token.text(source);
    if text.is_empty() { "nothing".to_owned() } else { format!("`{}`", text.chars().take(40).collect::<String>()) }
}
