//! The syntax tree of one ES|QL query: a source command followed by processing commands. Every
//! node carries its byte range; pieces missing from a broken query are [`ExprKind::Missing`]
//! with an empty range, so the tree is always complete.

use detwiki_ir::Span;

/// A name as written and as meant (`` `a b` `` means `a b`; `process.name` is one name).
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub commands: Vec<Command>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command as the reference names it, upper case: `FROM`, `WHERE`, `INLINE STATS`, ...
    /// For an unknown command, its first word as written.
    pub name: String,
    /// The command keyword(s).
    pub keyword_span: Span,
    /// The whole command, keyword to last token.
    pub span: Span,
    pub kind: CommandKind,
}

/// `name = expression`, or a bare expression (whose column is named by its text).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: Option<Name>,
    pub value: Expr,
    /// `STATS c = COUNT(*) WHERE x`: the per-aggregate filter.
    pub filter: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `FROM` and `TS`: index patterns (one per comma-separated pattern) and `METADATA` fields.
    Source {
        patterns: Vec<Name>,
        metadata: Vec<Name>,
    },
    Row(Vec<Assignment>),
    Show(Option<Name>),
    /// `EXPLAIN ( query )`.
    Explain(Box<Query>),
    Where(Expr),
    Eval(Vec<Assignment>),
    /// `STATS` and `INLINE STATS` (`INLINESTATS`).
    Stats {
        aggregates: Vec<Assignment>,
        groups: Vec<Assignment>,
        inline: bool,
    },
    Keep(Vec<Name>),
    Drop(Vec<Name>),
    /// `old AS new` or `new = old`: (old, new).
    Rename(Vec<(Name, Name)>),
    Sort(Vec<SortKey>),
    Limit(Expr),
    Sample(Expr),
    MvExpand(Name),
    /// `DISSECT` and `GROK`: the input column and the pattern(s); `outputs` are the columns the
    /// patterns name.
    Extract {
        input: Expr,
        patterns: Vec<Expr>,
        outputs: Vec<String>,
    },
    /// `ENRICH policy ON column WITH new = field, ...`: (new name, enrich field).
    Enrich {
        policy: Name,
        on: Option<Name>,
        with: Vec<(Name, Name)>,
    },
    /// `LOOKUP JOIN index ON a, b` (or `ON expression`).
    LookupJoin {
        index: Name,
        on: Vec<Expr>,
    },
    ChangePoint {
        value: Name,
        key: Option<Name>,
        outputs: Vec<Name>,
    },
    /// `COMPLETION target = prompt WITH options`, `RERANK target = query ON fields WITH options`.
    Inference {
        target: Option<Name>,
        input: Expr,
        on: Vec<Assignment>,
    },
    /// `FORK ( ... ) ( ... )`: one list of processing commands per branch.
    Fork(Vec<Vec<Command>>),
    /// `INSIST name, ...` (a technical-preview command).
    Insist(Vec<Name>),
    /// A command without arguments (`RRF`) or one this parser does not know (kept as text).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Equal,
    InsensitiveEqual,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    /// `field : "query"`, the full-text match operator.
    Match,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Equal => "==",
            BinaryOp::InsensitiveEqual => "=~",
            BinaryOp::NotEqual => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterEqual => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
            BinaryOp::Match => ":",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Integer(String),
    Decimal(String),
    Bool(bool),
    Null,
    /// `7 days`, `1 hour`: a qualified integer (a time span or date period).
    Duration(String),
    /// `[1, 2]`, a multi-value constant.
    List(Vec<Expr>),
    /// `{"key": value}`, an options map.
    Map,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Column(String),
    Literal(Literal),
    Parameter(String),
    Call {
        name: String,
        arguments: Vec<Expr>,
    },
    Negate(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a AND b AND c` (or `OR`): n-ary, so that a long chain is a list rather than a deep tree.
    Logical {
        op: BinaryOp,
        items: Vec<Expr>,
    },
    /// `x LIKE "a*"`, `x RLIKE "a.*"`, `x NOT LIKE ("a*", "b*")`.
    Like {
        input: Box<Expr>,
        patterns: Vec<Expr>,
        regex: bool,
        negated: bool,
    },
    In {
        input: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsNull {
        input: Box<Expr>,
        negated: bool,
    },
    Cast {
        input: Box<Expr>,
        data_type: String,
    },
    Paren(Box<Expr>),
    /// A piece the parser expected and did not find (empty range).
    Missing,
}

impl Expr {
    pub fn missing(offset: u32) -> Expr {
        Expr { kind: ExprKind::Missing, span: Span::empty(offset) }
    }
}
