//! The recovering parser: rules and sections here, expressions in `expression.rs`.
//!
//! Parsing never fails: every input gives a [`File`] (possibly without rules) and diagnostics.
//! Every loop either consumes a token or stops, and a second error at the offset of the previous
//! one is dropped, so one mistake gives one message.

mod expression;

use detwiki_ir::{Diagnostic, Span};

use crate::ast::{Assignment, Entry, Expr, File, MatchSection, RuleDefinition, Section, SectionBody, SectionKind};
use crate::diagnostics;
use crate::lexer::tokenize;
use crate::token::{Token, TokenKind};

/// How deep expressions may nest before the parser gives up on the rest of one.
pub const MAX_DEPTH: usize = 128;

/// A parsed file and everything that went wrong on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a YARA-L text. Spans are byte ranges into `text`.
pub fn parse(text: &str) -> Parsed {
    let (tokens, diagnostics) = tokenize(text);
    let mut parser = Parser { text, tokens, position: 0, depth: 0, diagnostics };
    let file = parser.file();
    let mut diagnostics = parser.diagnostics;
    diagnostics.sort_by_key(|diagnostic| diagnostic.span.start);
    Parsed { file, diagnostics }
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Parser<'a> {
    fn current(&self) -> Token {
        self.nth(0)
    }

    fn nth(&self, offset: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.position + offset).min(last))
            .copied()
            .unwrap_or(Token { kind: TokenKind::Eof, span: Span::from_usize(self.text.len(), self.text.len()) })
    }

    fn kind(&self) -> TokenKind {
        self.current().kind
    }

    fn text_of(&self, token: Token) -> &'a str {
        self.text.get(token.span.range()).unwrap_or("")
    }

    /// True when the current token is the word `word` (any letter case).
    fn at_word(&self, word: &str) -> bool {
        let token = self.current();
        token.kind == TokenKind::Ident && self.text_of(token).eq_ignore_ascii_case(word)
    }

    fn nth_is_word(&self, offset: usize, word: &str) -> bool {
        let token = self.nth(offset);
        token.kind == TokenKind::Ident && self.text_of(token).eq_ignore_ascii_case(word)
    }

    fn bump(&mut self) -> Token {
        let token = self.current();
        if token.kind != TokenKind::Eof {
            self.position += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        (self.kind() == kind).then(|| self.bump())
    }

    /// End of the previous token, for spans of nodes that end there.
    fn previous_end(&self) -> u32 {
        self.position.checked_sub(1).and_then(|index| self.tokens.get(index)).map_or(0, |token| token.span.end)
    }

    fn found(&self) -> String {
        let token = self.current();
        match token.kind {
            TokenKind::Ident | TokenKind::Variable | TokenKind::Number | TokenKind::Duration => {
                format!("`{}`", self.text_of(token))
            }
            kind => kind.describe().to_owned(),
        }
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        let repeated = self.diagnostics.last().is_some_and(|last| last.span.start == diagnostic.span.start);
        if !repeated {
            self.diagnostics.push(diagnostic);
        }
    }

    fn error_expected(&mut self, what: &str) {
        let found = self.found();
        let span = self.current().span;
        self.report(diagnostics::expected(what, &found, span));
    }

    /// A section keyword followed by `:` starts a section.
    fn at_section_start(&self) -> bool {
        let token = self.current();
        token.kind == TokenKind::Ident
            && SectionKind::from_keyword(self.text_of(token)).is_some()
            && self.nth(1).kind == TokenKind::Colon
    }

    /// True where a section's content ends: the next section, the rule's `}` or the end.
    fn at_section_end(&self) -> bool {
        matches!(self.kind(), TokenKind::RightBrace | TokenKind::Eof) || self.at_section_start()
    }

    fn file(&mut self) -> File {
        let mut file = File::default();
        while self.kind() != TokenKind::Eof {
            if self.at_word("rule") {
                file.rules.push(self.rule());
            } else {
                self.error_expected("`rule`");
                self.bump();
                while self.kind() != TokenKind::Eof && !self.at_word("rule") {
                    self.bump();
                }
            }
        }
        if file.rules.is_empty() && !self.diagnostics.iter().any(Diagnostic::is_error) {
            self.report(diagnostics::no_rule(Span::empty(0)));
        }
        file
    }

    fn rule(&mut self) -> RuleDefinition {
        let start = self.bump().span;
        let (name, name_span) = match self.eat(TokenKind::Ident) {
            Some(token) => (self.text_of(token).to_owned(), token.span),
            None => {
                self.error_expected("a rule name");
                (String::new(), Span::empty(self.current().span.start))
            }
        };
        let open = self.eat(TokenKind::LeftBrace);
        if open.is_none() {
            self.error_expected("`{`");
        }
        let mut sections: Vec<Section> = Vec::new();
        loop {
            if self.kind() == TokenKind::RightBrace || self.kind() == TokenKind::Eof || self.at_word("rule") {
                break;
            }
            if self.at_section_start() {
                let section = self.section();
                self.check_section_place(&sections, &section);
                sections.push(section);
                continue;
            }
            let token = self.current();
            if token.kind == TokenKind::Ident && self.nth(1).kind == TokenKind::Colon {
                let name = self.text_of(token).to_owned();
                self.report(diagnostics::unknown_section(&name, token.span));
            } else {
                self.error_expected("a section such as `events:`");
            }
            self.bump();
            while !self.at_section_end() && !self.at_word("rule") {
                self.bump();
            }
        }
        let end = match self.eat(TokenKind::RightBrace) {
            Some(token) => token.span.end,
            None => {
                let found = self.found();
                let span = self.current().span;
                self.report(diagnostics::unclosed("}", &found, span, open.map_or(start, |token| token.span)));
                self.previous_end()
            }
        };
        let span = Span::new(start.start, end.max(start.end));
        for required in [SectionKind::Events, SectionKind::Condition] {
            if !sections.iter().any(|section| section.kind == required) {
                self.report(diagnostics::missing_section(required.as_str(), name_span));
            }
        }
        RuleDefinition { name, name_span, span, sections }
    }

    /// Sections appear once each, in the documented order.
    fn check_section_place(&mut self, before: &[Section], section: &Section) {
        if let Some(first) = before.iter().find(|earlier| earlier.kind == section.kind) {
            self.report(diagnostics::duplicate_section(
                section.kind.as_str(),
                section.keyword_span,
                first.keyword_span,
            ));
        } else if let Some(later) = before.iter().find(|earlier| earlier.kind > section.kind) {
            self.report(diagnostics::section_order(section.kind.as_str(), later.kind.as_str(), section.keyword_span));
        }
    }

    fn section(&mut self) -> Section {
        let keyword = self.bump();
        let kind = SectionKind::from_keyword(self.text_of(keyword)).unwrap_or(SectionKind::Events);
        self.bump(); // the colon, checked by `at_section_start`
        let body = match kind {
            SectionKind::Meta | SectionKind::Options => SectionBody::Entries(self.entries()),
            SectionKind::Events => SectionBody::Statements(self.statements()),
            SectionKind::Match => SectionBody::Match(self.match_section()),
            SectionKind::Outcome => SectionBody::Assignments(self.assignments()),
            SectionKind::Condition => SectionBody::Condition(self.condition()),
        };
        let end = self.previous_end().max(keyword.span.end);
        Section { kind, keyword_span: keyword.span, span: Span::new(keyword.span.start, end), body }
    }

    /// Skips to the start of the next line-level item after an error: a token that begins a new
    /// line, or the end of the section. Always consumes at least one token.
    fn skip_line_rest(&mut self) {
        self.bump();
        while !self.at_section_end() && !self.at_line_start() {
            self.bump();
        }
    }

    /// True when a line break separates the current token from the previous one.
    fn at_line_start(&self) -> bool {
        let gap = Span::new(self.previous_end(), self.current().span.start);
        gap.slice(self.text).is_some_and(|between| between.contains('\n'))
    }

    fn entries(&mut self) -> Vec<Entry> {
        let mut entries = Vec::new();
        while !self.at_section_end() {
            let Some(key) = self.eat(TokenKind::Ident) else {
                self.error_expected("`key = value`");
                self.skip_line_rest();
                continue;
            };
            if self.eat(TokenKind::Equal).is_none() {
                self.error_expected("`=`");
                self.skip_line_rest();
                continue;
            }
            let value = self.expression();
            let span = Span::new(key.span.start, value.span.end.max(key.span.end));
            entries.push(Entry { key: self.text_of(key).to_owned(), key_span: key.span, value, span });
        }
        entries
    }

    fn statements(&mut self) -> Vec<Expr> {
        let mut statements = Vec::new();
        while !self.at_section_end() {
            let before = self.position;
            let statement = self.expression();
            if self.position == before {
                self.bump();
            } else {
                statements.push(statement);
            }
        }
        statements
    }

    fn assignments(&mut self) -> Vec<Assignment> {
        let mut assignments = Vec::new();
        while !self.at_section_end() {
            let Some(name) = self.eat(TokenKind::Variable) else {
                self.error_expected("`$variable = expression`");
                self.skip_line_rest();
                continue;
            };
            if self.eat(TokenKind::Equal).is_none() {
                self.error_expected("`=`");
                self.skip_line_rest();
                continue;
            }
            let value = self.expression();
            let span = Span::new(name.span.start, value.span.end.max(name.span.end));
            let name_text = self.text_of(name).trim_start_matches('$').to_owned();
            assignments.push(Assignment { name: name_text, name_span: name.span, value, span });
        }
        assignments
    }

    fn condition(&mut self) -> Expr {
        let condition = self.expression();
        while !self.at_section_end() {
            self.error_expected("the end of the condition");
            self.skip_line_rest();
        }
        condition
    }

    fn match_section(&mut self) -> MatchSection {
        let start = self.current().span.start;
        let mut section =
            MatchSection { variables: Vec::new(), window_keyword: None, window: None, span: Span::empty(start) };
        loop {
            match self.eat(TokenKind::Variable) {
                Some(token) => {
                    section.variables.push((self.text_of(token).trim_start_matches('$').to_owned(), token.span));
                }
                None => {
                    self.error_expected("a match variable");
                    break;
                }
            }
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        if ["over", "by", "every"].iter().any(|word| self.at_word(word)) {
            let keyword = self.bump();
            section.window_keyword = Some(self.text_of(keyword).to_ascii_lowercase());
            // `every` may be followed by `over` (hop windows written out).
            if self.at_word("over") {
                self.bump();
            }
            match self.eat(TokenKind::Duration) {
                Some(token) => section.window = Some((self.text_of(token).to_owned(), token.span)),
                None => self.error_expected("a duration such as `10m`"),
            }
            // A hop window may name its step after the size: `over 10m every 5m`.
            if self.at_word("every") {
                self.bump();
                if self.eat(TokenKind::Duration).is_none() {
                    self.error_expected("a duration such as `5m`");
                }
            }
            if self.at_word("before") || self.at_word("after") {
                self.bump();
                if self.eat(TokenKind::Variable).is_none() {
                    self.error_expected("a variable");
                }
            }
        } else if !section.variables.is_empty() {
            self.error_expected("`over` and a duration");
        }
        while !self.at_section_end() {
            self.error_expected("the end of the match section");
            self.skip_line_rest();
        }
        section.span = Span::new(start, self.previous_end().max(start));
        section
    }
}
