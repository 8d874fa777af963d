//! The syntax tree of a YARA-L file. Every node carries the byte range it covers; a missing piece
//! is an [`ExprKind::Missing`] with an empty range, so the tree is always structurally complete.

use detwiki_ir::Span;

/// A whole file: usually one rule, sometimes several, after a licence comment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub rules: Vec<RuleDefinition>,
}

/// `rule NAME { sections }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDefinition {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub sections: Vec<Section>,
}

impl RuleDefinition {
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|section| section.kind == kind)
    }
}

/// The six sections, in the order Google documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    Meta,
    Events,
    Match,
    Outcome,
    Condition,
    Options,
}

impl SectionKind {
    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        Some(match word.to_ascii_lowercase().as_str() {
            "meta" => SectionKind::Meta,
            "events" => SectionKind::Events,
            "match" => SectionKind::Match,
            "outcome" => SectionKind::Outcome,
            "condition" => SectionKind::Condition,
            "options" => SectionKind::Options,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Meta => "meta",
            SectionKind::Events => "events",
            SectionKind::Match => "match",
            SectionKind::Outcome => "outcome",
            SectionKind::Condition => "condition",
            SectionKind::Options => "options",
        }
    }
}

/// One section: its keyword and what follows up to the next section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    pub keyword_span: Span,
    pub span: Span,
    pub body: SectionBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SectionBody {
    /// `key = value` lines (`meta`, `options`).
    Entries(Vec<Entry>),
    /// Statements joined by an implicit `and` (`events`).
    Statements(Vec<Expr>),
    Match(MatchSection),
    /// `$name = expression` lines (`outcome`).
    Assignments(Vec<Assignment>),
    /// One boolean expression over event variables and counts (`condition`).
    Condition(Expr),
}

/// `key = value` in `meta` or `options`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Expr,
    pub span: Span,
}

/// `match: $a, $b over 10m` (or `by`, `every`; `before`/`after` a variable).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchSection {
    pub variables: Vec<(String, Span)>,
    /// The window keyword as written (`over`, `by`, `every`), when there is one.
    pub window_keyword: Option<String>,
    pub window: Option<(String, Span)>,
    pub span: Span,
}

/// `$risk_score = max(...)` in `outcome`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
    pub span: Span,
}

/// An expression with its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Equal => "=",
            BinaryOp::NotEqual => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterEqual => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Equal
                | BinaryOp::NotEqual
                | BinaryOp::Less
                | BinaryOp::LessEqual
                | BinaryOp::Greater
                | BinaryOp::GreaterEqual
        )
    }
}

/// How `in %list` compares: as strings, as regular expressions, as CIDR ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListMatch {
    Exact,
    Regex,
    Cidr,
}

/// One step of a UDM path after the variable: `.field`, `["key"]`, `[0]`.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Field(String),
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `$e.principal.hostname`, `$e.about[0].labels["k"]`, or a bare `$var` (no steps).
    Path {
        variable: String,
        steps: Vec<PathStep>,
    },
    /// `#e`.
    EventCount(String),
    /// `%list`, or `%list.column`.
    ReferenceList {
        name: String,
        column: Option<String>,
    },
    /// A `"..."` string (decoded) or a backquoted raw string.
    String {
        value: String,
        raw: bool,
    },
    /// `/pattern/`.
    Regex(String),
    Number(String),
    Duration(String),
    Bool(bool),
    Null,
    /// A bare name where a value is expected (an enum constant such as `ALLOW`, a meta value).
    Name(String),
    /// `re.regex(...)`, `max(...)`, `if(...)`: the dotted name and the arguments.
    Call {
        name: String,
        name_span: Span,
        arguments: Vec<Expr>,
    },
    /// `a and b and c`: one node for a whole chain, so long chains stay shallow.
    And(Vec<Expr>),
    /// `a or b or c`.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    /// Comparisons and arithmetic (`and`/`or` are [`ExprKind::And`]/[`ExprKind::Or`]).
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
        nocase: bool,
    },
    /// `x in %list`, `x in regex %list`, `x in cidr %list`, `x not in %list`.
    In {
        value: Box<Expr>,
        list: Box<Expr>,
        matching: ListMatch,
        negated: bool,
    },
    /// `any $e.x = "a"`, `all $e.x != "a"`.
    Quantified {
        all: bool,
        item: Box<Expr>,
    },
    /// A postfix `nocase` on something that is not a comparison (a regex in a function call).
    Nocase(Box<Expr>),
    /// Something that could not be parsed; a diagnostic says why.
    Missing,
}

impl Expr {
    pub fn missing(at: u32) -> Expr {
        Expr { kind: ExprKind::Missing, span: Span::empty(at) }
    }

    /// Calls `visit` on this expression and every expression inside it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Call { arguments, .. } | ExprKind::And(arguments) | ExprKind::Or(arguments) => {
                arguments.iter().for_each(|argument| argument.walk(visit))
            }
            ExprKind::Not(item) | ExprKind::Negate(item) | ExprKind::Nocase(item) => item.walk(visit),
            ExprKind::Quantified { item, .. } => item.walk(visit),
            ExprKind::Binary { left, right, .. } => {
                left.walk(visit);
                right.walk(visit);
            }
            ExprKind::In { value, list, .. } => {
                value.walk(visit);
                list.walk(visit);
            }
            _ => {}
        }
    }
}

/// A UDM path as text without the variable: `principal.hostname`, `about[0].labels["k"]`.
pub fn path_text(steps: &[PathStep]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            PathStep::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            PathStep::Key(key) => {
                out.push_str("[\"");
                out.push_str(key);
                out.push_str("\"]");
            }
            PathStep::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}
