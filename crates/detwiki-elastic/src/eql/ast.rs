//! The EQL syntax tree. Every node carries its byte range in the parsed text; missing pieces have
//! empty ranges, so the tree is always structurally valid.

use detwiki_ir::Span;

/// A whole query: an event query, a sequence, a sample or a join, then pipes.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub head: Head,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    Event(EventQuery),
    Sequence(Sequence),
    /// `sample by k [..] [..]`.
    Sample(Sequence),
    /// The legacy `join by k [..] [..] until [..]`.
    Join(Sequence),
    /// A query made only of pipes (`| head 5`), valid EQL with no events to read.
    None,
}

/// `category where condition`. The category is optional in eql's grammar (`[a == 1]` inside a
/// sequence); it is `None` then.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    pub category: Option<Name>,
    pub condition: Expr,
    pub span: Span,
}

/// A word with its place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A sequence, sample or join: shared `by` keys, `maxspan`, steps and `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// The keyword and its parameters (`sequence by host.id with maxspan=5m`).
    pub header_span: Span,
    pub by: Vec<Expr>,
    pub max_span: Option<MaxSpan>,
    pub steps: Vec<Step>,
    pub until: Option<Step>,
}

/// `with maxspan=5m`.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxSpan {
    /// The duration as written (`5m`, `30s`, `1000`).
    pub text: String,
    pub milliseconds: Option<u64>,
    pub span: Span,
}

/// `[category where condition] by keys with runs=N as alias`, or a missing event `![...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub query: EventQuery,
    /// `![...]`: the sequence matches only when no such event happens.
    pub missing: bool,
    pub by: Vec<Expr>,
    /// `with runs=N`: the step repeats N times.
    pub runs: Option<u64>,
    /// Where `with runs=N` is written (empty when absent).
    pub runs_span: Span,
    /// `fork` or `fork=true|false`.
    pub fork: Option<bool>,
    /// `as event0` (Elastic Endpoint behaviour rules).
    pub alias: Option<Name>,
    pub span: Span,
}

/// `| name arguments`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub name: Name,
    pub arguments: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    /// `left op right` with `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Comparison {
        left: Box<Expr>,
        op: CompareOp,
        right: Box<Expr>,
    },
    /// `expr in (...)`, `expr in~ (...)`, `expr not in (...)`.
    In {
        expr: Box<Expr>,
        negated: bool,
        insensitive: bool,
        items: Vec<Expr>,
    },
    /// `expr : "a"`, `expr like~ ("a", "b")`, `expr regex "..."`.
    StringPredicate {
        expr: Box<Expr>,
        op: StringOp,
        insensitive: bool,
        values: Vec<Expr>,
    },
    /// `name(args)` or `name~(args)`; a method `x:length()` is a call with `x` first.
    Call {
        name: Name,
        insensitive: bool,
        arguments: Vec<Expr>,
    },
    /// `left op right` with `+ - * / %`.
    Math {
        left: Box<Expr>,
        op: char,
        right: Box<Expr>,
    },
    /// `-x`.
    Negative(Box<Expr>),
    Field(Field),
    /// `$name` (Elastic Endpoint variables).
    Variable(String),
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
    /// `child of [...]`, `descendant of [...]`, `event of [...]` (legacy process lineage).
    NamedSubquery {
        relation: Name,
        query: Box<EventQuery>,
    },
    /// A missing or unparsable piece, already diagnosed.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
            CompareOp::Less => "<",
            CompareOp::LessEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterEqual => ">=",
        }
    }

    /// The operator seen from the other side (`1 < x` is `x > 1`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Less => CompareOp::Greater,
            CompareOp::LessEqual => CompareOp::GreaterEqual,
            CompareOp::Greater => CompareOp::Less,
            CompareOp::GreaterEqual => CompareOp::LessEqual,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringOp {
    /// `:`: case-insensitive equality with `*` and `?` wildcards.
    Colon,
    Like,
    Regex,
}

/// A field path: `process.parent.name`, `?process.code_signature.subject_name`,
/// `` process.`weird name` ``, `process.args[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub parts: Vec<FieldPart>,
    /// Written `?field`: a field that may be absent from the mapping.
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldPart {
    Name(String),
    Index(u64),
}

impl Field {
    /// The dotted path with indexes in brackets, names unquoted: `process.args[0]`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                FieldPart::Name(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                FieldPart::Index(index) => {
                    out.push('[');
                    out.push_str(&index.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self { kind, span }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self.kind, ExprKind::String(_) | ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Null)
    }

    /// True when a field appears anywhere in the expression.
    pub fn mentions_field(&self) -> bool {
        match &self.kind {
            ExprKind::Field(_) => true,
            ExprKind::Or(items) | ExprKind::And(items) => items.iter().any(Expr::mentions_field),
            ExprKind::Not(item) | ExprKind::Negative(item) => item.mentions_field(),
            ExprKind::Comparison { left, right, .. } | ExprKind::Math { left, right, .. } => {
                left.mentions_field() || right.mentions_field()
            }
            ExprKind::In { expr, items, .. } => expr.mentions_field() || items.iter().any(Expr::mentions_field),
            ExprKind::StringPredicate { expr, .. } => expr.mentions_field(),
            ExprKind::Call { arguments, .. } => arguments.iter().any(Expr::mentions_field),
            _ => false,
        }
    }

    /// A canonical rendering, the way eql prints expressions: names unquoted, strings in double
    /// quotes, calls without their `~`, arithmetic with the parentheses precedence needs.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        out
    }

    fn render_into(&self, out: &mut String, parent_precedence: u8) {
        match &self.kind {
            ExprKind::Field(field) => out.push_str(&field.path()),
            ExprKind::Variable(name) => {
                out.push('$');
                out.push_str(name);
            }
            ExprKind::String(value) => {
                out.push('"');
                for character in value.chars() {
                    match character {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        other => out.push(other),
                    }
                }
                out.push('"');
            }
            ExprKind::Number(number) => out.push_str(&number.to_string()),
            ExprKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            ExprKind::Null => out.push_str("null"),
            ExprKind::Call { name, arguments, .. } => {
                out.push_str(&name.text);
                out.push('(');
                for (index, argument) in arguments.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    argument.render_into(out, 0);
                }
                out.push(')');
            }
            ExprKind::Math { left, op, right } => {
                let precedence = if matches!(op, '+' | '-') { 1 } else { 2 };
                if precedence < parent_precedence {
                    out.push('(');
                }
                left.render_into(out, precedence);
                out.push(' ');
                out.push(*op);
                out.push(' ');
                right.render_into(out, precedence + 1);
                if precedence < parent_precedence {
                    out.push(')');
                }
            }
            ExprKind::Negative(item) => {
                out.push('-');
                item.render_into(out, 3);
            }
            ExprKind::NamedSubquery { relation, .. } => {
                out.push_str(&relation.text);
                out.push_str(" of [...]");
            }
            ExprKind::Or(_)
            | ExprKind::And(_)
            | ExprKind::Not(_)
            | ExprKind::Comparison { .. }
            | ExprKind::In { .. }
            | ExprKind::StringPredicate { .. } => out.push_str("(...)"),
            ExprKind::Error => out.push('?'),
        }
    }
}
