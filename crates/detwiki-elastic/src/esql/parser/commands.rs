//! One function per ES|QL command, following the command reference
//! (<https://www.elastic.co/docs/reference/query-languages/esql/esql-commands>).

use detwiki_ir::Span;

use super::super::ast::{Assignment, Command, CommandKind, ExprKind, Literal, Name, Query, SortKey};
use super::super::diagnostics;
use super::super::lexer::PatternKind;
use super::super::token::TokenKind;
use super::{MAX_DEPTH, Parser};

/// Source commands (a query starts with one).
const SOURCE_COMMANDS: &[&str] = &["FROM", "TS", "ROW", "SHOW", "EXPLAIN"];

impl Parser<'_> {
    /// A source command and its processing commands. `nested` queries (inside `EXPLAIN ( )`)
    /// end at the closing parenthesis.
    pub(super) fn parse_query(&mut self, nested: bool) -> Query {
        let start = self.current.span.start;
        let mut commands = Vec::new();
        let word = self.current_text().to_ascii_uppercase();
        if self.at(TokenKind::Identifier) && SOURCE_COMMANDS.contains(&word.as_str()) {
            commands.push(self.command(nested));
        } else if self.at(TokenKind::Eof) {
            self.error(diagnostics::source_command("end of query", self.current.span));
        } else {
            let found = self.found();
            self.error(diagnostics::source_command(&found, self.current.span));
            // Read what follows as processing commands: a query fragment still has stages.
            if self.at(TokenKind::Identifier) {
                commands.push(self.command(nested));
            } else {
                self.skip_to_command_end(nested);
            }
        }
        commands.extend(self.processing_commands(nested));
        Query { commands, span: Span::new(start, self.previous_end.max(start)) }
    }

    /// `| command` repeated until the end (or the closing `)` of a nested query).
    fn processing_commands(&mut self, nested: bool) -> Vec<Command> {
        let mut commands = Vec::new();
        loop {
            match self.current.kind {
                TokenKind::Eof => return commands,
                TokenKind::RightParen if nested => return commands,
                TokenKind::Pipe => {
                    self.bump();
                    commands.push(self.command(nested));
                }
                _ => {
                    self.error_expected("`|` or end of query");
                    self.bump();
                    self.skip_to_command_end(nested);
                }
            }
        }
    }

    /// One command, then a check that it ends where a command may end.
    fn command(&mut self, nested: bool) -> Command {
        let keyword = self.current;
        let start = keyword.span.start;
        if !self.at(TokenKind::Identifier) {
            self.error_expected("a processing command");
            self.skip_to_command_end(nested);
            return Command {
                name: String::new(),
                keyword_span: Span::empty(start),
                span: Span::new(start, self.previous_end.max(start)),
                kind: CommandKind::Other,
            };
        }
        let mut name = self.current_text().to_ascii_uppercase();
        self.bump();
        let mut keyword_span = keyword.span;
        // Two-word commands.
        let second = match name.as_str() {
            "INLINE" => Some("STATS"),
            "LOOKUP" | "LEFT" | "RIGHT" | "FULL" => Some("JOIN"),
            _ => None,
        };
        if let Some(second) = second
            && self.at_keyword(second)
        {
            keyword_span = keyword_span.cover(self.bump().span);
            name = if name == "INLINE" { "INLINE STATS".to_owned() } else { format!("{name} JOIN") };
        }
        let kind = self.command_body(&name, nested);
        if name == "INLINESTATS" {
            name = "INLINE STATS".to_owned();
        }
        if !(self.at(TokenKind::Pipe) || self.at(TokenKind::Eof) || nested && self.at(TokenKind::RightParen)) {
            if !self.report_bad_token() {
                self.error_expected("`|` or end of query");
            }
            self.skip_to_command_end(nested);
        }
        Command { name, keyword_span, span: Span::new(start, self.previous_end.max(start)), kind }
    }

    fn command_body(&mut self, name: &str, nested: bool) -> CommandKind {
        match name {
            "FROM" | "TS" => self.source(),
            "ROW" => CommandKind::Row(self.assignments(false)),
            "SHOW" => CommandKind::Show(self.qualified_name("`INFO`")),
            "EXPLAIN" => self.explain(),
            "WHERE" => CommandKind::Where(self.expression()),
            "EVAL" => CommandKind::Eval(self.assignments(false)),
            "STATS" => self.stats(false),
            "INLINE STATS" | "INLINESTATS" => self.stats(true),
            "KEEP" => CommandKind::Keep(self.patterns(PatternKind::Name, "a column name or pattern")),
            "DROP" => CommandKind::Drop(self.patterns(PatternKind::Name, "a column name or pattern")),
            "RENAME" => self.rename(),
            "SORT" => self.sort(),
            "LIMIT" => CommandKind::Limit(self.expression()),
            "SAMPLE" => CommandKind::Sample(self.expression()),
            "MV_EXPAND" => match self.qualified_name("a column name") {
                Some(column) => CommandKind::MvExpand(column),
                None => CommandKind::Other,
            },
            "DISSECT" | "GROK" => self.extract(name == "DISSECT"),
            "ENRICH" => self.enrich(),
            "LOOKUP JOIN" | "LEFT JOIN" | "RIGHT JOIN" | "FULL JOIN" => self.lookup_join(),
            "CHANGE_POINT" => self.change_point(),
            "COMPLETION" | "RERANK" => self.inference(),
            "FORK" => self.fork(nested),
            "INSIST" => CommandKind::Insist(self.patterns(PatternKind::Name, "a column name")),
            "RRF" => CommandKind::Other,
            "FUSE" => {
                // Options of `FUSE` (9.2+) are not modelled: keep them as text.
                self.skip_to_command_end(nested);
                CommandKind::Other
            }
            _ => {
                let span = Span::new(self.current.span.start.min(self.previous_end), self.previous_end);
                let keyword = Span::new(span.start.saturating_sub(name.len() as u32), span.end);
                let diagnostic = diagnostics::unknown_command(name, keyword);
                self.diagnostics.push(diagnostic);
                self.skip_to_command_end(nested);
                CommandKind::Other
            }
        }
    }

    fn source(&mut self) -> CommandKind {
        let mut patterns = Vec::new();
        let mut metadata = Vec::new();
        while let Some(pattern) = self.pattern(PatternKind::Source, "an index pattern") {
            if pattern.text.eq_ignore_ascii_case("metadata") && !patterns.is_empty() {
                while let Some(field) = self.qualified_name("a metadata field") {
                    metadata.push(field);
                    if !self.eat(TokenKind::Comma) {
                        break;
                    }
                }
                break;
            }
            patterns.push(pattern);
            if !self.eat(TokenKind::Comma) {
                // `FROM a METADATA _id`: the keyword follows the last pattern without a comma.
                if self.at_keyword("metadata") {
                    continue;
                }
                break;
            }
        }
        CommandKind::Source { patterns, metadata }
    }

    fn explain(&mut self) -> CommandKind {
        let open = self.current.span;
        if !self.eat(TokenKind::LeftParen) {
            self.error_expected("`(`");
            return CommandKind::Other;
        }
        if self.depth >= MAX_DEPTH {
            self.error(diagnostics::too_deep(self.current.span));
            self.skip_to_command_end(true);
            self.eat(TokenKind::RightParen);
            return CommandKind::Other;
        }
        self.depth += 1;
        let query = self.parse_query(true);
        self.depth -= 1;
        if !self.eat(TokenKind::RightParen) {
            let found = self.found();
            self.error(diagnostics::unclosed(")", &found, self.current.span, open));
        }
        CommandKind::Explain(Box::new(query))
    }

    /// `[name =] expression`, comma-separated; with `filters`, each may end in `WHERE condition`
    /// (`STATS` aggregates).
    fn assignments(&mut self, filters: bool) -> Vec<Assignment> {
        let mut assignments = Vec::new();
        loop {
            assignments.push(self.assignment(filters));
            if !self.eat(TokenKind::Comma) {
                return assignments;
            }
        }
    }

    fn assignment(&mut self, filter: bool) -> Assignment {
        let start = self.current.span.start;
        let name = if self.at_assignment() {
            let name = self.qualified_name("a column name");
            self.eat(TokenKind::Assign);
            name
        } else {
            None
        };
        let value = self.expression();
        let filter = if filter && self.eat_keyword("where") { Some(self.expression()) } else { None };
        Assignment { name, value, filter, span: Span::new(start, self.previous_end.max(start)) }
    }

    /// Whether the tokens ahead are `qualified.name =` (lookahead only).
    fn at_assignment(&self) -> bool {
        let name_token =
            |kind| matches!(kind, TokenKind::Identifier | TokenKind::QuotedIdentifier | TokenKind::Parameter);
        if !name_token(self.current.kind) {
            return false;
        }
        let mut token = self.peek();
        while token.kind == TokenKind::Dot {
            let part = super::next_token(self.text, token.span.end as usize);
            if !name_token(part.kind) {
                return false;
            }
            token = super::next_token(self.text, part.span.end as usize);
        }
        token.kind == TokenKind::Assign
    }

    fn stats(&mut self, inline: bool) -> CommandKind {
        let mut aggregates = Vec::new();
        let mut groups = Vec::new();
        if !(self.at_keyword("by") || self.at(TokenKind::Pipe) || self.at(TokenKind::Eof)) {
            aggregates = self.assignments(true);
        }
        if self.eat_keyword("by") {
            groups = self.assignments(false);
        }
        CommandKind::Stats { aggregates, groups, inline }
    }

    fn rename(&mut self) -> CommandKind {
        let mut clauses = Vec::new();
        while let Some(first) = self.pattern(PatternKind::Name, "a column name") {
            if self.eat_keyword("as") {
                let Some(new) = self.pattern(PatternKind::Name, "the new column name") else { break };
                clauses.push((first, new));
            } else if self.eat(TokenKind::Assign) {
                let Some(old) = self.pattern(PatternKind::Name, "the renamed column") else { break };
                clauses.push((old, first));
            } else {
                self.error_expected("`AS` or `=`");
                break;
            }
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        CommandKind::Rename(clauses)
    }

    fn sort(&mut self) -> CommandKind {
        let mut keys = Vec::new();
        loop {
            let expr = self.expression();
            let descending = if self.eat_keyword("desc") {
                true
            } else {
                self.eat_keyword("asc");
                false
            };
            if self.eat_keyword("nulls") && !(self.eat_keyword("first") || self.eat_keyword("last")) {
                self.error_expected("`FIRST` or `LAST`");
            }
            keys.push(SortKey { expr, descending });
            if !self.eat(TokenKind::Comma) {
                return CommandKind::Sort(keys);
            }
        }
    }

    /// `DISSECT input "pattern" [APPEND_SEPARATOR = "x"]`, `GROK input "pattern", ...`.
    fn extract(&mut self, dissect: bool) -> CommandKind {
        let input = self.primary();
        let mut patterns = Vec::new();
        loop {
            let pattern = self.primary();
            if !matches!(pattern.kind, ExprKind::Literal(Literal::String(_)) | ExprKind::Parameter(_)) {
                let diagnostic = diagnostics::expected("a pattern string", "another expression", pattern.span);
                self.error(diagnostic);
            }
            patterns.push(pattern);
            if dissect || !self.eat(TokenKind::Comma) {
                break;
            }
        }
        if dissect {
            // Options: `name = constant`, comma-separated.
            while self.at(TokenKind::Identifier) && self.peek().kind == TokenKind::Assign {
                self.bump();
                self.bump();
                self.primary();
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        let mut outputs = Vec::new();
        for pattern in &patterns {
            if let ExprKind::Literal(Literal::String(text)) = &pattern.kind {
                if dissect {
                    dissect_keys(text, &mut outputs);
                } else {
                    grok_keys(text, &mut outputs);
                }
            }
        }
        CommandKind::Extract { input, patterns, outputs }
    }

    fn enrich(&mut self) -> CommandKind {
        let policy = self
            .pattern(PatternKind::Source, "an enrich policy")
            .unwrap_or(Name { text: String::new(), span: Span::empty(self.previous_end) });
        let on = if self.eat_keyword("on") { self.pattern(PatternKind::Name, "the match column") } else { None };
        let mut with = Vec::new();
        if self.eat_keyword("with") {
            while let Some(first) = self.pattern(PatternKind::Name, "an enrich field") {
                if self.eat(TokenKind::Assign) {
                    let Some(field) = self.pattern(PatternKind::Name, "an enrich field") else { break };
                    with.push((first, field));
                } else {
                    with.push((first.clone(), first));
                }
                if !self.eat(TokenKind::Comma) {
                    break;
                }
            }
        }
        CommandKind::Enrich { policy, on, with }
    }

    fn lookup_join(&mut self) -> CommandKind {
        let index = self
            .pattern(PatternKind::Source, "a lookup index")
            .unwrap_or(Name { text: String::new(), span: Span::empty(self.previous_end) });
        if self.eat_keyword("as") {
            self.qualified_name("an alias");
        }
        let mut on = Vec::new();
        if !self.eat_keyword("on") {
            self.error_expected("`ON`");
            return CommandKind::LookupJoin { index, on };
        }
        loop {
            on.push(self.expression());
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        CommandKind::LookupJoin { index, on }
    }

    fn change_point(&mut self) -> CommandKind {
        let Some(value) = self.qualified_name("a column name") else { return CommandKind::Other };
        let key = if self.eat_keyword("on") { self.qualified_name("a column name") } else { None };
        let mut outputs = Vec::new();
        if self.eat_keyword("as") {
            outputs.extend(self.qualified_name("the type column name"));
            if self.eat(TokenKind::Comma) {
                outputs.extend(self.qualified_name("the p-value column name"));
            }
        }
        CommandKind::ChangePoint { value, key, outputs }
    }

    /// `COMPLETION [target =] prompt WITH options` and `RERANK [target =] query ON fields WITH
    /// options`, where options is an inference id, a parameter or a `{...}` map.
    fn inference(&mut self) -> CommandKind {
        let target = if self.at_assignment() {
            let name = self.qualified_name("a column name");
            self.eat(TokenKind::Assign);
            name
        } else {
            None
        };
        let input = self.expression();
        let on = if self.eat_keyword("on") { self.assignments(false) } else { Vec::new() };
        if self.eat_keyword("with") {
            if self.at(TokenKind::LeftBrace) {
                self.primary();
            } else {
                self.pattern(PatternKind::Source, "an inference id or `{`");
            }
        }
        CommandKind::Inference { target, input, on }
    }

    /// `FORK ( commands ) ( commands ) ...`.
    fn fork(&mut self, nested: bool) -> CommandKind {
        let mut branches = Vec::new();
        while self.at(TokenKind::LeftParen) {
            let open = self.bump().span;
            if self.depth >= MAX_DEPTH {
                self.error(diagnostics::too_deep(open));
                self.skip_to_command_end(true);
                self.eat(TokenKind::RightParen);
                continue;
            }
            self.depth += 1;
            let mut branch = vec![self.command(true)];
            branch.extend(self.processing_commands(true));
            self.depth -= 1;
            if !self.eat(TokenKind::RightParen) {
                let found = self.found();
                self.error(diagnostics::unclosed(")", &found, self.current.span, open));
                self.skip_to_command_end(nested);
            }
            branches.push(branch);
        }
        if branches.is_empty() {
            self.error_expected("`(` opening a FORK branch");
        }
        CommandKind::Fork(branches)
    }
}

/// Output columns of a `DISSECT` pattern: `%{name}`, `%{+name}` (appended), `%{name->}`;
/// `%{}`, `%{?name}` (skipped) and `%{*name}`/`%{&name}` (reference keys) name none.
fn dissect_keys(pattern: &str, outputs: &mut Vec<String>) {
    let mut rest = pattern;
    while let Some(open) = rest.find("%{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else { return };
        let key = after[..close].trim_end_matches("->").trim();
        let key = key.strip_prefix('+').unwrap_or(key);
        if !key.is_empty() && !key.starts_with(['?', '*', '&']) && !outputs.iter().any(|output| output == key) {
            outputs.push(key.to_owned());
        }
        rest = &after[close + 1..];
    }
}

/// Output columns of a `GROK` pattern: `%{SYNTAX:name}`, `%{SYNTAX:name:type}` and Oniguruma
/// named groups `(?<name>...)`.
fn grok_keys(pattern: &str, outputs: &mut Vec<String>) {
    let mut push = |key: &str| {
        if !key.is_empty() && !outputs.iter().any(|output| output == key) {
            outputs.push(key.to_owned());
        }
    };
    let mut rest = pattern;
    while let Some(open) = rest.find("%{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else { break };
        let mut parts = after[..close].split(':');
        parts.next();
        if let Some(key) = parts.next() {
            push(key.trim());
        }
        rest = &after[close + 1..];
    }
    let mut rest = pattern;
    while let Some(open) = rest.find("(?<") {
        let after = &rest[open + 3..];
        let Some(close) = after.find('>') else { break };
        push(&after[..close]);
        rest = &after[close + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_keys() {
        let mut outputs = Vec::new();
        dissect_keys("%{a} %{+a} %{?skip} %{b->} %{}", &mut outputs);
        assert_eq!(outputs, ["a", "b"]);
        let mut outputs = Vec::new();
        grok_keys("%{IP:client.ip} %{NUMBER:bytes:int} %{WORD} (?<user>[a-z]+)", &mut outputs);
        assert_eq!(outputs, ["client.ip", "bytes", "user"]);
    }
}
