//! A recursive-descent parser with a Pratt expression parser (`expression.rs`), one function per
//! tabular operator (`operators.rs`) and shared recovery machinery (`recovery.rs`).
//!
//! Parsing never fails: it returns a complete [`Script`] plus diagnostics. Missing pieces become
//! [`ExprKind::Missing`] with an empty range; recursion is bounded by [`MAX_DEPTH`] so deep
//! nesting gives a diagnostic rather than a stack overflow.

mod expression;
mod operators;
mod recovery;

use detwiki_ir::{Diagnostic, Span};

use crate::ast::{ColumnDeclaration, Expr, ExprKind, Name, Script, Statement, StatementKind};
use crate::diagnostics;
use crate::lexer::tokenize;
use crate::token::{Token, TokenKind};

/// Deepest nesting of expressions and sub-queries accepted before the rest is skipped.
pub const MAX_DEPTH: u32 = 200;

/// The result of parsing: always a tree, plus every syntax diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub script: Script,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses a whole text (statements separated by `;`).
pub fn parse(text: &str) -> Parsed {
    parse_range(text, Span::from_usize(0, text.len()))
}

/// Parses the part of `text` under `range` (on character boundaries); the tree's spans are
/// offsets into the whole `text`.
pub(crate) fn parse_range(text: &str, range: Span) -> Parsed {
    let slice = range.slice(text).unwrap_or("");
    let mut tokens = tokenize(slice);
    for token in &mut tokens {
        token.span = token.span.shift(range.start);
    }
    let mut parser = Parser::new(text, tokens);
    parser.range = range;
    let script = parser.parse_script();
    Parsed { script, diagnostics: parser.diagnostics }
}

pub(crate) struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    position: usize,
    diagnostics: Vec<Diagnostic>,
    /// Offset of the last error, so one place never gets two errors.
    last_error_offset: Option<u32>,
    depth: u32,
    /// `search` and `find` accept `column:value` terms.
    allow_colon: bool,
    /// The part of the text being parsed.
    range: Span,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, tokens: Vec<Token>) -> Self {
        Self {
            text,
            tokens,
            position: 0,
            diagnostics: Vec::new(),
            last_error_offset: None,
            depth: 0,
            allow_colon: false,
            range: Span::from_usize(0, text.len()),
        }
    }

    // ----- token access -----

    fn nth_token(&self, offset: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.position + offset).min(last))
            .copied()
            .unwrap_or(Token { kind: TokenKind::Eof, span: Span::empty(self.range.end) })
    }

    fn current(&self) -> Token {
        self.nth_token(0)
    }

    fn kind(&self) -> TokenKind {
        self.current().kind
    }

    fn nth_kind(&self, offset: usize) -> TokenKind {
        self.nth_token(offset).kind
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.kind() == kind
    }

    fn token_text(&self, token: Token) -> &'a str {
        token.span.slice(self.text).unwrap_or("")
    }

    fn nth_text(&self, offset: usize) -> &'a str {
        self.token_text(self.nth_token(offset))
    }

    fn at_word(&self, word: &str) -> bool {
        self.at(TokenKind::Ident) && self.nth_text(0) == word
    }

    fn nth_is_word(&self, offset: usize, word: &str) -> bool {
        self.nth_kind(offset) == TokenKind::Ident && self.nth_text(offset) == word
    }

    /// True when token `offset` starts exactly where the one before it ends (no space between).
    fn glued_at(&self, offset: usize) -> bool {
        let Some(previous) = (self.position + offset).checked_sub(1).and_then(|index| self.tokens.get(index)) else {
            return false;
        };
        previous.span.end == self.nth_token(offset).span.start
    }

    fn at_eof(&self) -> bool {
        self.at(TokenKind::Eof)
    }

    fn bump(&mut self) -> Token {
        let token = self.current();
        if token.kind != TokenKind::Eof {
            self.position += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// End offset of the last consumed token (the start of the text when nothing was consumed).
    fn previous_end(&self) -> u32 {
        self.position
            .checked_sub(1)
            .and_then(|index| self.tokens.get(index))
            .map_or(self.range.start, |token| token.span.end)
    }

    fn span_from(&self, start: u32) -> Span {
        Span::new(start, self.previous_end().max(start))
    }

    fn found(&self) -> String {
        let token = self.current();
        match token.kind {
            TokenKind::Eof => "end of input".to_owned(),
            TokenKind::Ident | TokenKind::Unknown | TokenKind::BadNumber => {
                format!("`{}`", self.token_text(token))
            }
            kind => kind.describe().to_owned(),
        }
    }

    // ----- diagnostics -----

    fn report(&mut self, diagnostic: Diagnostic) {
        if diagnostic.is_error() {
            if self.last_error_offset == Some(diagnostic.span.start) {
                return;
            }
            self.last_error_offset = Some(diagnostic.span.start);
        }
        self.diagnostics.push(diagnostic);
    }

    fn error_expected(&mut self, what: &str) {
        let found = self.found();
        let span = self.current().span;
        self.report(diagnostics::expected(what, &found, span));
    }

    fn expect(&mut self, kind: TokenKind) -> bool {
        if self.eat(kind) {
            return true;
        }
        self.error_expected(kind.describe());
        false
    }

    fn expect_closing(&mut self, kind: TokenKind, opened: Span) -> bool {
        if self.eat(kind) {
            return true;
        }
        let found = self.found();
        let span = self.current().span;
        let closer = self.token_text_of_kind(kind);
        self.report(diagnostics::unclosed(closer, &found, span, opened));
        false
    }

    fn token_text_of_kind(&self, kind: TokenKind) -> &'static str {
        match kind {
            TokenKind::RightParen => ")",
            TokenKind::RightBracket => "]",
            TokenKind::RightBrace => "}",
            _ => "?",
        }
    }

    /// A statement ended without `;` before something else: reported where the `;` belongs (the
    /// end of the statement, as Kusto does), with a label on what was found.
    fn report_missing_semicolon(&mut self) {
        let found = self.found();
        let found_span = self.current().span;
        let span = Span::empty(self.previous_end());
        self.report(diagnostics::missing_semicolon(&found, span).with_label(found_span, "next statement starts here"));
    }

    // ----- statements -----

    fn parse_script(&mut self) -> Script {
        let mut statements = Vec::new();
        loop {
            while self.eat(TokenKind::Semicolon) {}
            if self.at_eof() {
                break;
            }
            let before = self.position;
            let statement = self.parse_statement();
            statements.push(statement);
            if self.at_eof() {
                break;
            }
            if !self.eat(TokenKind::Semicolon) {
                if matches!(self.kind(), TokenKind::Unknown | TokenKind::UnterminatedString | TokenKind::BadNumber) {
                    self.report_bad_token();
                    self.bump();
                } else {
                    self.report_missing_semicolon();
                    if self.at(TokenKind::RightParen)
                        || self.at(TokenKind::RightBracket)
                        || self.at(TokenKind::RightBrace)
                    {
                        self.bump();
                    }
                }
            }
            if self.position == before {
                // Progress guard: a statement that consumed nothing must not loop.
                self.bump();
            }
        }
        Script { statements, span: self.range }
    }

    fn parse_statement(&mut self) -> Statement {
        let start = self.current().span.start;
        let kind = if self.at_word("let") {
            self.parse_let()
        } else if self.at_word("set") && self.nth_kind(1) == TokenKind::Ident {
            self.bump();
            self.skip_to_statement_end();
            StatementKind::Directive { keyword: "set".to_owned(), parameters: Vec::new() }
        } else if self.at_word("declare") && self.nth_is_word(1, "query_parameters") {
            self.bump();
            self.bump();
            let parameters = self.parse_column_declarations();
            StatementKind::Directive { keyword: "declare".to_owned(), parameters }
        } else if (self.at_word("alias") || self.at_word("pattern") || self.at_word("restrict"))
            && self.nth_kind(1) == TokenKind::Ident
        {
            let keyword = self.bump();
            self.skip_to_statement_end();
            StatementKind::Directive { keyword: self.token_text(keyword).to_owned(), parameters: Vec::new() }
        } else {
            StatementKind::Query(self.parse_pipe())
        };
        Statement { kind, span: self.span_from(start) }
    }

    fn parse_let(&mut self) -> StatementKind {
        self.bump();
        let name = self.parse_name("a name after `let`");
        self.expect(TokenKind::Assign);
        let value = if self.at(TokenKind::LeftParen) && self.function_follows(0) {
            self.parse_function()
        } else if self.at_word("view") && self.nth_kind(1) == TokenKind::LeftParen && self.function_follows(1) {
            self.bump();
            self.parse_function()
        } else {
            self.parse_pipe()
        };
        StatementKind::Let { name, value }
    }

    /// True when the parenthesis at `offset` closes and is followed by `{`: a function definition.
    fn function_follows(&self, offset: usize) -> bool {
        let mut depth = 0usize;
        let mut index = self.position + offset;
        while let Some(token) = self.tokens.get(index) {
            match token.kind {
                TokenKind::LeftParen => depth += 1,
                TokenKind::RightParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return self.tokens.get(index + 1).is_some_and(|next| next.kind == TokenKind::LeftBrace);
                    }
                }
                TokenKind::Eof | TokenKind::Semicolon | TokenKind::Pipe => return false,
                _ => {}
            }
            index += 1;
        }
        false
    }

    fn parse_function(&mut self) -> Expr {
        let start = self.current().span.start;
        let parameters = self.parse_column_declarations();
        let mut body = Vec::new();
        let open = self.current().span;
        if self.expect(TokenKind::LeftBrace) {
            if !self.enter() {
                return Expr::missing(start);
            }
            loop {
                while self.eat(TokenKind::Semicolon) {}
                if self.at(TokenKind::RightBrace) || self.at_eof() {
                    break;
                }
                let before = self.position;
                body.push(self.parse_statement());
                if !self.eat(TokenKind::Semicolon) && !self.at(TokenKind::RightBrace) {
                    self.report_missing_semicolon();
                    if self.position == before {
                        self.bump();
                    }
                    if !self.at_eof() && !self.at(TokenKind::RightBrace) {
                        self.bump();
                    }
                }
            }
            self.leave();
            self.expect_closing(TokenKind::RightBrace, open);
        }
        Expr::new(ExprKind::Function { parameters, body }, self.span_from(start))
    }

    /// `(name: type [= default], ...)`, also used for `datatable` and `externaldata` schemas.
    fn parse_column_declarations(&mut self) -> Vec<ColumnDeclaration> {
        let mut columns = Vec::new();
        let open = self.current().span;
        if !self.expect(TokenKind::LeftParen) {
            return columns;
        }
        while !self.at(TokenKind::RightParen) && !self.at_eof() {
            let before = self.position;
            let start = self.current().span.start;
            let name = if self.at(TokenKind::Star) {
                let token = self.bump();
                Name { text: "*".to_owned(), span: token.span }
            } else {
                self.parse_name("a column name")
            };
            let mut type_text = String::new();
            if self.eat(TokenKind::Colon) {
                let type_start = self.current().span.start;
                if self.at(TokenKind::LeftParen) {
                    self.skip_balanced();
                } else if self.at(TokenKind::Star) {
                    self.bump();
                } else {
                    self.parse_name("a type");
                }
                type_text = self.text.get(self.span_from(type_start).range()).unwrap_or("").to_owned();
            }
            let default = if self.eat(TokenKind::Assign) { Some(self.parse_expr()) } else { None };
            columns.push(ColumnDeclaration { name, type_text, default, span: self.span_from(start) });
            if !self.eat(TokenKind::Comma) {
                break;
            }
            if self.position == before {
                break;
            }
        }
        self.expect_closing(TokenKind::RightParen, open);
        columns
    }

    /// A name: a word or a bracketed, quoted name (`['Account Name']`).
    fn parse_name(&mut self, what: &str) -> Name {
        if self.at(TokenKind::Ident) {
            let token = self.bump();
            return Name { text: self.token_text(token).to_owned(), span: token.span };
        }
        if self.at(TokenKind::LeftBracket) && self.nth_kind(1) == TokenKind::String {
            let start = self.bump().span.start;
            let value = crate::lexer::decode_string(self.nth_text(0));
            self.bump();
            self.expect(TokenKind::RightBracket);
            return Name { text: value, span: self.span_from(start) };
        }
        self.error_expected(what);
        Name { text: String::new(), span: Span::empty(self.current().span.start) }
    }
}
