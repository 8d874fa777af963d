//! The EQL parser: queries, sequences, samples, joins and pipes here; expressions in
//! `expression.rs`; the token cursor, depth guard and skipping in `recovery.rs`.
//!
//! Parsing never fails: [`parse`] always returns a tree plus diagnostics. The checks eql makes
//! after parsing that Elasticsearch also makes (join-key counts, `runs` values, missing events
//! only in sequences with `maxspan`, field-to-field comparisons, function arities) are made here
//! too, so a query Elasticsearch rejects is flagged.

mod expression;
mod recovery;

use detwiki_ir::{Diagnostic, Span};

use super::ast::{EventQuery, Expr, Head, MaxSpan, Name, Pipe, Query, Sequence, Step};
use super::diagnostics;
use super::lexer::tokenize;
use super::token::{Token, TokenKind};

/// Nesting limit of expressions; deeper input is diagnosed and skipped.
pub const MAX_DEPTH: u32 = 200;

/// A tree and the problems found while building it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub query: Query,
    pub diagnostics: Vec<Diagnostic>,
    /// The query uses Elastic Endpoint syntax (step aliases `as name`), which also allows
    /// field-to-field comparisons and `$` variables.
    pub endpoint_dialect: bool,
}

/// Parses one EQL query.
pub fn parse(text: &str) -> Parsed {
    let mut parser = Parser::new(text);
    let query = parser.query();
    Parsed { query, diagnostics: parser.diagnostics, endpoint_dialect: parser.endpoint_dialect }
}

/// Which keyword opened a multi-event query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MultiKind {
    Sequence,
    Sample,
    Join,
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    position: usize,
    diagnostics: Vec<Diagnostic>,
    depth: u32,
    endpoint_dialect: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let mut diagnostics = Vec::new();
        let mut tokens = Vec::new();
        for token in tokenize(text) {
            let slice = &text[token.span.range()];
            match token.kind {
                TokenKind::Unknown => diagnostics.push(diagnostics::unexpected_character(slice, token.span)),
                TokenKind::UnterminatedComment => diagnostics.push(diagnostics::unterminated_comment(token.span)),
                _ => tokens.push(token),
            }
        }
        // `] as name` and the `_arraysearch(array, $entry, condition)` function are only valid in
        // Elastic Endpoint rules; seeing either switches the dialect for the whole query (aliases
        // are referenced from other steps, before or after; `$entry` is the function's variable).
        let endpoint_dialect = tokens.windows(3).any(|window| {
            window[0].kind == TokenKind::RightBracket
                && window[1].kind == TokenKind::Name
                && &text[window[1].span.range()] == "as"
                && window[2].kind == TokenKind::Name
        }) || tokens.windows(2).any(|window| {
            window[0].kind == TokenKind::Name
                && text[window[0].span.range()].eq_ignore_ascii_case("_arraysearch")
                && window[1].kind == TokenKind::LeftParen
        });
        Self { text, tokens, position: 0, diagnostics, depth: 0, endpoint_dialect }
    }

    fn query(&mut self) -> Query {
        let start = self.peek().span.start;
        let head = if self.at_word("sequence") {
            Head::Sequence(self.multi(MultiKind::Sequence))
        } else if self.at_word("sample") {
            Head::Sample(self.multi(MultiKind::Sample))
        } else if self.at_word("join") {
            Head::Join(self.multi(MultiKind::Join))
        } else if self.at(TokenKind::Pipe) {
            Head::None
        } else {
            Head::Event(self.event_query())
        };
        let mut pipes = Vec::new();
        while self.at(TokenKind::Pipe) {
            pipes.push(self.pipe());
        }
        if !self.at(TokenKind::EndOfInput) {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::expected("`|` or the end of the query", &found, token.span));
        }
        let end = self.previous_end().max(start);
        Query { head, pipes, span: Span::new(start, end) }
    }

    /// `[category where] condition`.
    fn event_query(&mut self) -> EventQuery {
        let start = self.peek().span.start;
        let mut category = None;
        if self.at(TokenKind::Name) && self.peek_word_at(1) == Some("where") {
            let token = self.bump();
            category = Some(Name { text: self.slice(token.span).to_owned(), span: token.span });
            self.bump();
        }
        let condition = self.expression();
        let end = self.previous_end().max(start);
        EventQuery { category, condition, span: Span::new(start, end) }
    }

    fn multi(&mut self, kind: MultiKind) -> Sequence {
        let keyword = self.bump();
        let mut by = Vec::new();
        let mut max_span = None;
        for _ in 0..2 {
            if self.at_word("by") && by.is_empty() {
                self.bump();
                by = self.expression_list();
            } else if self.at_word("with") && max_span.is_none() && kind == MultiKind::Sequence {
                self.bump();
                max_span = Some(self.max_span());
            }
        }
        let header_span = Span::new(keyword.span.start, self.previous_end().max(keyword.span.start));
        let mut steps = Vec::new();
        while self.at(TokenKind::LeftBracket) || self.at(TokenKind::BangBracket) {
            steps.push(self.step());
        }
        if steps.is_empty() {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::expected("a `[` step", &found, token.span));
        }
        let mut until = None;
        if kind != MultiKind::Sample && self.at_word("until") {
            self.bump();
            if self.at(TokenKind::LeftBracket) || self.at(TokenKind::BangBracket) {
                until = Some(self.step());
            } else {
                let token = self.peek();
                let found = self.describe(token);
                self.error(diagnostics::expected("a `[` step after `until`", &found, token.span));
            }
        }
        let sequence = Sequence { header_span, by, max_span, steps, until };
        self.check_multi(kind, &sequence);
        sequence
    }

    /// `maxspan=5m` after `with`.
    fn max_span(&mut self) -> MaxSpan {
        let name = self.peek();
        if name.kind == TokenKind::Name {
            self.bump();
            let word = self.slice(name.span);
            if word != "maxspan" {
                self.error(diagnostics::unknown_parameter(word, name.span));
            }
        } else {
            let found = self.describe(name);
            self.error(diagnostics::expected("`maxspan`", &found, name.span));
        }
        if self.at(TokenKind::Equal) || self.at(TokenKind::EqualEqual) {
            self.bump();
        } else {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::expected("`=`", &found, token.span));
        }
        let number = self.peek();
        let mut milliseconds = None;
        if matches!(number.kind, TokenKind::Integer | TokenKind::Decimal) {
            self.bump();
            let quantity: f64 = self.slice(number.span).parse().unwrap_or(f64::NAN);
            // The unit must follow the number directly or after spaces (`5m`, `5 m`); without one,
            // eql reads the number as seconds.
            let mut factor = Some(1000.0);
            if self.at(TokenKind::Name) {
                let unit = self.bump();
                factor = match self.slice(unit.span) {
                    "ms" => Some(1.0),
                    "s" => Some(1000.0),
                    "m" => Some(60_000.0),
                    "h" => Some(3_600_000.0),
                    "d" => Some(86_400_000.0),
                    _ => None,
                };
            }
            if let Some(factor) = factor
                && quantity.is_finite()
                && number.kind == TokenKind::Integer
            {
                milliseconds = Some((quantity * factor) as u64);
            }
        }
        let span = Span::new(number.span.start, self.previous_end().max(number.span.start));
        if milliseconds.is_none() {
            self.error(diagnostics::bad_max_span(if span.is_empty() { number.span } else { span }));
        }
        MaxSpan { text: self.slice(span).to_owned(), milliseconds, span }
    }

    /// `[query] fork by keys with runs=N as alias`, or `![query] ...`.
    fn step(&mut self) -> Step {
        let open = self.bump();
        let missing = open.kind == TokenKind::BangBracket;
        let query = self.event_query();
        if self.at(TokenKind::RightBracket) {
            self.bump();
        } else {
            let token = self.peek();
            let found = self.describe(token);
            self.error(diagnostics::unclosed("]", &found, token.span, open.span));
            self.skip_past_bracket();
        }
        let mut fork = None;
        if self.at_word("fork") {
            self.bump();
            fork = Some(true);
            if self.at(TokenKind::Equal) || self.at(TokenKind::EqualEqual) {
                self.bump();
                if self.at_word("true") || self.at_word("false") {
                    fork = Some(self.at_word("true"));
                    self.bump();
                } else {
                    let token = self.peek();
                    let found = self.describe(token);
                    self.error(diagnostics::expected("`true` or `false`", &found, token.span));
                }
            }
        }
        let mut by = Vec::new();
        if self.at_word("by") {
            self.bump();
            by = self.expression_list();
        }
        let mut runs = None;
        let mut runs_span = Span::empty(self.previous_end());
        if self.at_word("with") && self.peek_word_at(1) == Some("runs") {
            let with = self.bump();
            let word = self.bump();
            if self.at(TokenKind::Equal) || self.at(TokenKind::EqualEqual) {
                self.bump();
            }
            let number = self.peek();
            if number.kind == TokenKind::Integer {
                self.bump();
                runs = Some(self.slice(number.span).parse().unwrap_or(u64::MAX));
            } else {
                self.error(diagnostics::bad_runs(word.span.cover(number.span)));
                runs = Some(0);
            }
            runs_span = Span::new(with.span.start, self.previous_end());
        }
        let mut alias = None;
        if self.at_word("as") && self.peek_at(1).kind == TokenKind::Name {
            self.bump();
            let name = self.bump();
            alias = Some(Name { text: self.slice(name.span).to_owned(), span: name.span });
        }
        Step { query, missing, by, runs, runs_span, fork, alias, span: Span::new(open.span.start, self.previous_end()) }
    }

    /// The checks eql makes on a sequence, sample or join once its steps are known.
    fn check_multi(&mut self, kind: MultiKind, sequence: &Sequence) {
        let first_keys = sequence.steps.first().map_or(0, |step| step.by.len());
        let until = sequence.until.iter().map(|step| (step, true));
        for (index, (step, is_until)) in sequence.steps.iter().map(|step| (step, false)).chain(until).enumerate() {
            if index > 0 && step.by.len() != first_keys {
                let span = step.by.first().map_or(step.span, |key| key.span);
                self.error(diagnostics::by_count(first_keys, step.by.len(), span));
            }
            if let Some(runs) = step.runs {
                if kind != MultiKind::Sequence || is_until {
                    let what = if is_until { "`until`" } else { "a sample or join step" };
                    self.error(diagnostics::runs_not_here(what, step.runs_span));
                } else if runs <= 1 {
                    self.error(diagnostics::bad_runs(step.runs_span));
                }
            }
            if step.fork.is_some() && (index == 0 || is_until) {
                self.error(diagnostics::fork_not_here(step.span));
            }
            if step.missing && kind != MultiKind::Sequence {
                let what = if kind == MultiKind::Sample { "a sample" } else { "a join" };
                self.error(diagnostics::missing_event_not_here(what, step.span));
            }
            if let Some(alias) = &step.alias
                && kind != MultiKind::Sequence
            {
                self.error(diagnostics::alias_outside_sequence(alias.span));
            }
        }
        let expanded: u64 = sequence.steps.iter().map(|step| step.runs.unwrap_or(1).max(1)).sum();
        match kind {
            MultiKind::Sequence if sequence.max_span.is_none() && sequence.steps.iter().any(|step| step.missing) => {
                self.error(diagnostics::missing_event_without_max_span(sequence.header_span));
            }
            MultiKind::Sample if expanded == 1 => self.error(diagnostics::sample_one_step(sequence.header_span)),
            MultiKind::Join if expanded == 1 => self.error(diagnostics::join_one_step(sequence.header_span)),
            _ => {}
        }
        if let Some(alias) = sequence.steps.iter().find_map(|step| step.alias.as_ref()) {
            self.diagnostics.push(diagnostics::dialect_alias(alias.span));
        }
    }

    /// `| name arguments`.
    fn pipe(&mut self) -> Pipe {
        let bar = self.bump();
        let token = self.peek();
        let name = if token.kind == TokenKind::Name {
            self.bump();
            Name { text: self.slice(token.span).to_owned(), span: token.span }
        } else {
            let found = self.describe(token);
            self.error(diagnostics::expected("a pipe name", &found, token.span));
            Name { text: String::new(), span: Span::empty(token.span.start) }
        };
        if !name.text.is_empty()
            && !matches!(name.text.as_str(), "head" | "tail" | "filter" | "unique" | "unique_count" | "count" | "sort")
        {
            self.error(diagnostics::unknown_pipe(&name.text, name.span));
        }
        let mut arguments = Vec::new();
        if !self.at(TokenKind::Pipe) && !self.at(TokenKind::EndOfInput) {
            arguments = self.expression_list();
        }
        Pipe { name, arguments, span: Span::new(bar.span.start, self.previous_end()) }
    }

    /// `expr, expr, ...` (a trailing comma is allowed, as in eql).
    fn expression_list(&mut self) -> Vec<Expr> {
        let mut items = vec![self.expression()];
        while self.at(TokenKind::Comma) {
            self.bump();
            if !self.starts_expression() {
                break;
            }
            items.push(self.expression());
        }
        items
    }
}
