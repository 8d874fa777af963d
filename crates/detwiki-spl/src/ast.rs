//! The syntax tree of an SPL search: a pipeline of commands, each with a body shaped by its
//! command. Every node carries a byte span into the text the parser was given.

use detwiki_ir::Span;

/// `search | command | command ...`; subsearches are pipelines of their own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    pub commands: Vec<Command>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command name, lower-case (`search` for the leading search without `|`).
    pub name: String,
    /// The name as written; empty for the implicit leading `search`.
    pub name_span: Span,
    /// From the name (or the first term of an implicit search) to the end of the arguments.
    pub span: Span,
    /// The leading search written without a `search` keyword.
    pub implicit: bool,
    pub body: Body,
    /// `[...]` subsearches (and `appendpipe`'s sub-pipeline), in order.
    pub subsearches: Vec<Pipeline>,
}

/// A name=value option (`summariesonly=true`, `max=0`, `type=outer`).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOption {
    pub name: String,
    pub value: String,
    pub span: Span,
}

/// A name written in the arguments (a field, a lookup table).
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `search` and the leading search: a boolean search expression (`None` when empty).
    Search(Option<SearchExpr>),
    /// `where`: an eval expression.
    Where(Option<EvalExpr>),
    /// `eval a=..., b=...`.
    Eval(Vec<Assignment>),
    /// `stats`, `eventstats`, `streamstats`, `tstats`, `chart`, `timechart`, `top`, `rare`.
    Stats(Stats),
    /// `rename a as b, ...`.
    Rename(Vec<(Name, Name)>),
    /// `rex [field=x] "regex"`.
    Rex(Rex),
    /// `regex field="regex"` / `regex field!="regex"`.
    Regex { field: Name, negated: bool, pattern: String, span: Span },
    /// `lookup` and `inputlookup`.
    Lookup(Lookup),
    /// Every other command: options and the remaining names (`table a b`, `dedup x`,
    /// `join type=outer key [...]`).
    Generic { options: Vec<CommandOption>, names: Vec<Name> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub field: Name,
    pub value: EvalExpr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    pub options: Vec<CommandOption>,
    pub aggregates: Vec<Aggregate>,
    /// `from datamodel=Endpoint.Processes` (tstats) with its span.
    pub datamodel: Option<Name>,
    pub nodename: Option<Name>,
    /// `where` of tstats: search syntax.
    pub where_clause: Option<SearchExpr>,
    pub by: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// `count`, `dc`, `values`, `min`, ...
    pub function: String,
    /// The argument as written (`_time`, `Processes.process`), if any.
    pub argument: Option<String>,
    /// The column it makes: the `as` name, else `function(argument)` or `function`.
    pub output: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rex {
    pub field: Option<Name>,
    pub pattern: String,
    /// Named groups (`(?<name>...)`): computed columns.
    pub groups: Vec<String>,
    pub sed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub table: Option<Name>,
    /// Input fields as `(lookup field, event field)`.
    pub inputs: Vec<(Name, Name)>,
    /// Output fields as `(lookup field, column made)`.
    pub outputs: Vec<(Name, Name)>,
    /// `inputlookup ... where ...`.
    pub where_clause: Option<SearchExpr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A literal of a search term, as written (quotes included) and as Splunk reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchValue {
    pub value: String,
    pub quoted: bool,
    pub span: Span,
}

/// The search language: implicit AND, `OR` binding tighter than `AND`, `NOT`.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchExpr {
    And(Vec<SearchExpr>),
    Or(Vec<SearchExpr>),
    Not {
        item: Box<SearchExpr>,
        span: Span,
    },
    Compare {
        field: Name,
        op: CompareOp,
        value: SearchValue,
        span: Span,
    },
    In {
        field: Name,
        values: Vec<SearchValue>,
        span: Span,
    },
    /// A bare term (keyword search over the raw event).
    Term(SearchValue),
    /// A `[subsearch]`: index into [`Command::subsearches`].
    Subsearch {
        index: usize,
        span: Span,
    },
}

impl SearchExpr {
    pub fn span(&self) -> Span {
        match self {
            SearchExpr::And(items) | SearchExpr::Or(items) => {
                items.iter().map(SearchExpr::span).reduce(Span::cover).unwrap_or_default()
            }
            SearchExpr::Not { span, .. }
            | SearchExpr::Compare { span, .. }
            | SearchExpr::In { span, .. }
            | SearchExpr::Subsearch { span, .. } => *span,
            SearchExpr::Term(value) => value.span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Add,
    Subtract,
    Concat,
    Multiply,
    Divide,
    Modulo,
}

/// The eval expression language (`where`, `eval`).
#[derive(Debug, Clone, PartialEq)]
pub enum EvalExpr {
    Field(Name),
    String {
        value: String,
        span: Span,
    },
    Number {
        text: String,
        span: Span,
    },
    Call {
        name: String,
        arguments: Vec<EvalExpr>,
        span: Span,
    },
    Binary {
        op: BinaryOp,
        left: Box<EvalExpr>,
        right: Box<EvalExpr>,
        span: Span,
    },
    Not {
        item: Box<EvalExpr>,
        span: Span,
    },
    Negate {
        item: Box<EvalExpr>,
        span: Span,
    },
    In {
        item: Box<EvalExpr>,
        list: Vec<EvalExpr>,
        span: Span,
    },
    /// What could not be parsed (a diagnostic says why).
    Error {
        span: Span,
    },
}

impl EvalExpr {
    pub fn span(&self) -> Span {
        match self {
            EvalExpr::Field(name) => name.span,
            EvalExpr::String { span, .. }
            | EvalExpr::Number { span, .. }
            | EvalExpr::Call { span, .. }
            | EvalExpr::Binary { span, .. }
            | EvalExpr::Not { span, .. }
            | EvalExpr::Negate { span, .. }
            | EvalExpr::In { span, .. }
            | EvalExpr::Error { span } => *span,
        }
    }
}
