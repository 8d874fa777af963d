//! Every message the ES|QL engine emits, in one place, so wording stays consistent and codes stay
//! stable. Messages are short, lower-case, and name what was expected and what was found.

use detwiki_ir::{Diagnostic, Span};

pub fn expected(what: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("esql-expected", format!("expected {what}, found {found}"), span)
}

pub fn unclosed(closer: &str, found: &str, span: Span, opened: Span) -> Diagnostic {
    Diagnostic::error("esql-unclosed", format!("expected `{closer}`, found {found}"), span)
        .with_label(opened, "opened here")
}

pub fn source_command(found: &str, span: Span) -> Diagnostic {
    Diagnostic::error("esql-source-command", format!("expected a source command, found {found}"), span)
        .with_help("a query starts with FROM, ROW, SHOW or TS")
}

pub fn unknown_command(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "esql-unknown-command",
        format!("unknown processing command `{name}`; its arguments are kept as text"),
        span,
    )
    .with_help("known commands are WHERE, EVAL, STATS, KEEP, DROP, RENAME, SORT, LIMIT, DISSECT, GROK, ENRICH, ...")
}

pub fn bad_string(span: Span) -> Diagnostic {
    Diagnostic::error(
        "esql-bad-string",
        "expected a closed string with escapes \\t \\n \\r \\\" \\\\ only, found an unknown escape or a line break",
        span,
    )
    .with_help("use a triple-quoted string \"\"\"...\"\"\" to write a backslash verbatim")
}

pub fn unexpected_character(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error("esql-unexpected-character", format!("expected a token, found `{text}`"), span)
}

pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("esql-too-deep", "expected at most 200 nested expressions, found more", span)
        .with_help("the rest of the nested expression is skipped")
}

pub fn stray_sql_line(span: Span) -> Diagnostic {
    Diagnostic::warning(
        "esql-stray-sql-line",
        "expected a query, found a leading `sql` line; the line is ignored",
        span,
    )
    .with_help("a Markdown fence info string copied into the query")
}

pub fn osquery_sql(span: Span) -> Diagnostic {
    Diagnostic::info("esql-osquery-sql", "not analysed (osquery SQL): the text is a SELECT statement, not ES|QL", span)
}
