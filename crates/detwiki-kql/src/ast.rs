//! The syntax tree. Every node keeps its byte range; the tree is always structurally complete,
//! with [`ExprKind::Missing`] standing for pieces the parser expected but did not find.
//!
//! KQL mixes scalar and tabular expressions (`T | where x`, `toscalar(T | count)`, `x in (T |
//! project y)`), so one [`Expr`] type covers both, and a pipeline is an expression.

use detwiki_ir::Span;

/// A whole text: statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `let name = value` (a scalar, a list, a tabular expression or a function).
    Let { name: Name, value: Expr },
    /// `set`, `declare query_parameters`, `alias`, `pattern`, `restrict`: kept as text.
    Directive { keyword: String, parameters: Vec<ColumnDeclaration> },
    /// A query or any other expression.
    Query(Expr),
}

/// A name as written and as meant (`['Column name']` means `Column name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// `name: type` in a schema (`datatable`, `externaldata`, function parameters, `scan declare`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDeclaration {
    pub name: Name,
    /// The type as written (`string`, `dynamic`, `(a:string)` for a tabular parameter).
    pub type_text: String,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    String,
    Long,
    Real,
    Bool,
    Timespan,
    Datetime,
    Guid,
    /// `dynamic(...)`: the elements of an array are the literal's `elements`.
    Dynamic,
    /// `long(null)`, `dynamic(null)`, `null`.
    Null,
    /// Another typed literal kept as written (`int(5)`, `real(1.5)`).
    Typed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub kind: LiteralKind,
    /// Strings: the decoded value; other kinds: the text as written.
    pub value: String,
    /// The elements of a `dynamic([...])` array, flattened.
    pub elements: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column, table, function or variable name (bracketed names decoded).
    Name(String),
    Literal(Literal),
    /// `*` as an argument (`count(*)`, `union *`, `project-away *`).
    Star,
    /// A wildcard table or column name: `Device*`, `*Events`.
    Wildcard(String),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Member {
        target: Box<Expr>,
        name: Name,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: String,
        operand: Box<Expr>,
    },
    /// A binary operator as written (`==`, `=~`, `!has`, `matches regex`, `+`, `:`).
    Binary {
        op: String,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `and`/`or` chains, flattened so a long chain is not a deep tree.
    Logical {
        and: bool,
        items: Vec<Expr>,
    },
    /// `in`, `!in`, `in~`, `!in~`, `has_any`, `has_all` (and their `_cs`/`!` forms).
    List {
        op: String,
        left: Box<Expr>,
        items: Vec<Expr>,
    },
    Between {
        negated: bool,
        left: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    Paren(Box<Expr>),
    /// `(a, b)`: several values in parentheses outside a list operator.
    Tuple(Vec<Expr>),
    /// `name = value` in a project, extend or summarize list, a named argument.
    Assign {
        target: Box<Expr>,
        value: Box<Expr>,
    },
    /// `source | op | op`. `source` is `None` for pipelines that start with an operator, as in
    /// `mv-apply ... on (where x | summarize y)`.
    Pipe {
        source: Option<Box<Expr>>,
        operators: Vec<Operator>,
    },
    /// A tabular operator in head position: `union`, `print`, `range`, `search`, `find`,
    /// `evaluate`.
    Operator(Box<Operator>),
    /// `(params) { statements }` bound by a `let`.
    Function {
        parameters: Vec<ColumnDeclaration>,
        body: Vec<Statement>,
    },
    /// `datatable(schema) [values]`, `externaldata(schema) [urls] with (...)`.
    Table {
        keyword: String,
        columns: Vec<ColumnDeclaration>,
        values: Vec<Expr>,
    },
    /// A sort key with its direction (`x desc`, `y asc nulls last`).
    Sorted {
        expr: Box<Expr>,
        direction: String,
    },
    /// Tokens kept without structure (a `parse` pattern, a graph pattern).
    Raw,
    /// A piece the parser expected and did not find; always has an error diagnostic.
    Missing,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self { kind, span }
    }

    pub fn missing(offset: u32) -> Self {
        Self { kind: ExprKind::Missing, span: Span::empty(offset) }
    }

    /// The name when the expression is a plain column or table reference.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(name) => Some(name),
            ExprKind::Paren(inner) => inner.as_name(),
            _ => None,
        }
    }
}

/// One tabular operator (`where`, `join`, `summarize`...) with its clauses.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// The keyword as written: `where`, `mv-expand`, `order`, `mvexpand`.
    pub keyword: String,
    pub kind: OperatorKind,
    /// From the keyword to the end of the operator.
    pub span: Span,
    /// `kind=inner`, `hint.strategy=broadcast`, `isfuzzy=true`, `withsource=T`.
    pub parameters: Vec<(Name, Expr)>,
    /// The main list: a where predicate, project/extend/summarize items, take's count.
    pub items: Vec<Expr>,
    /// `by` keys (summarize, top, sort, partition, make-series).
    pub by: Vec<Expr>,
    /// `on` keys (join, lookup, make-series axis, mv-apply's sub-query).
    pub on: Vec<Expr>,
    /// Tables or sub-queries the operator reads: a join's right side, union members, `in (...)`
    /// of find/search, `mv-apply`/`partition`/`scan` bodies.
    pub sources: Vec<Expr>,
    /// Columns the operator declares without an assignment: the names of a `parse` pattern
    /// (`with * "user=" User:string *`) and of `scan declare (Step:string)`. Kept so the
    /// lowering knows these columns are computed by the query, not read from the event.
    pub declared: Vec<Name>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    Where,
    Project,
    ProjectAway,
    ProjectKeep,
    ProjectRename,
    ProjectReorder,
    Extend,
    Summarize,
    Distinct,
    Count,
    Take,
    Top,
    TopNested,
    TopHitters,
    Sort,
    Join,
    Lookup,
    Union,
    MvExpand,
    MvApply,
    Parse,
    ParseWhere,
    ParseKv,
    MakeSeries,
    Evaluate,
    Invoke,
    Render,
    Serialize,
    Scan,
    Print,
    Range,
    As,
    Sample,
    SampleDistinct,
    Getschema,
    Find,
    Search,
    Partition,
    Facet,
    Fork,
    Consume,
    Reduce,
    MakeGraph,
    GraphMatch,
    Other,
}

impl OperatorKind {
    /// Recognises an operator keyword as written (with its hyphens).
    pub fn from_keyword(keyword: &str) -> Option<OperatorKind> {
        Some(match keyword {
            "where" | "filter" => OperatorKind::Where,
            "project" => OperatorKind::Project,
            "project-away" => OperatorKind::ProjectAway,
            "project-keep" => OperatorKind::ProjectKeep,
            "project-rename" => OperatorKind::ProjectRename,
            "project-reorder" => OperatorKind::ProjectReorder,
            "extend" => OperatorKind::Extend,
            "summarize" => OperatorKind::Summarize,
            "distinct" => OperatorKind::Distinct,
            "count" => OperatorKind::Count,
            "take" | "limit" => OperatorKind::Take,
            "top" => OperatorKind::Top,
            "top-nested" => OperatorKind::TopNested,
            "top-hitters" => OperatorKind::TopHitters,
            "sort" | "order" => OperatorKind::Sort,
            "join" => OperatorKind::Join,
            "lookup" => OperatorKind::Lookup,
            "union" => OperatorKind::Union,
            "mv-expand" | "mvexpand" => OperatorKind::MvExpand,
            "mv-apply" | "mvapply" => OperatorKind::MvApply,
            "parse" => OperatorKind::Parse,
            "parse-where" => OperatorKind::ParseWhere,
            "parse-kv" => OperatorKind::ParseKv,
            "make-series" => OperatorKind::MakeSeries,
            "evaluate" => OperatorKind::Evaluate,
            "invoke" => OperatorKind::Invoke,
            "render" => OperatorKind::Render,
            "serialize" => OperatorKind::Serialize,
            "scan" => OperatorKind::Scan,
            "print" => OperatorKind::Print,
            "range" => OperatorKind::Range,
            "as" => OperatorKind::As,
            "sample" => OperatorKind::Sample,
            "sample-distinct" => OperatorKind::SampleDistinct,
            "getschema" => OperatorKind::Getschema,
            "find" => OperatorKind::Find,
            "search" => OperatorKind::Search,
            "partition" => OperatorKind::Partition,
            "facet" => OperatorKind::Facet,
            "fork" => OperatorKind::Fork,
            "consume" => OperatorKind::Consume,
            "reduce" => OperatorKind::Reduce,
            "make-graph" => OperatorKind::MakeGraph,
            "graph-match" => OperatorKind::GraphMatch,
            "project-smart" | "graph-merge" | "graph-to-table" | "macro-expand" | "assert-schema"
            | "execute-and-cache" => OperatorKind::Other,
            _ => return None,
        })
    }
}
