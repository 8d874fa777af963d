//! The kuery syntax tree. Every node carries its byte span in the query text; missing pieces
//! (after a syntax error) are [`Query::Missing`] with an empty span.

use detwiki_ir::Span;

/// A query: the boolean structure over field expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Or {
        items: Vec<Query>,
        span: Span,
    },
    And {
        items: Vec<Query>,
        span: Span,
    },
    Not {
        item: Box<Query>,
        span: Span,
    },
    /// `field : values`, `field < value`, `field : { nested query }`.
    Field {
        field: Literal,
        target: Target,
        span: Span,
    },
    /// A value without a field: a search over every default field.
    Value {
        value: Literal,
    },
    /// Nothing could be parsed here.
    Missing {
        span: Span,
    },
}

impl Query {
    pub fn span(&self) -> Span {
        match self {
            Query::Or { span, .. } | Query::And { span, .. } | Query::Not { span, .. } | Query::Field { span, .. } => {
                *span
            }
            Query::Value { value } => value.span,
            Query::Missing { span } => *span,
        }
    }
}

/// What a field is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Values(Values),
    Range { op: RangeOp, value: Literal },
    Nested(Box<Query>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

impl RangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::Less => "<",
            RangeOp::LessEqual => "<=",
            RangeOp::Greater => ">",
            RangeOp::GreaterEqual => ">=",
        }
    }
}

/// The values after `field :`: one value, or a parenthesised boolean list `(a or not b)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Or { items: Vec<Values>, span: Span },
    And { items: Vec<Values>, span: Span },
    Not { item: Box<Values>, span: Span },
    One(Literal),
    Missing { span: Span },
}

/// A quoted or unquoted literal as written; decode it with [`Literal::pieces`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    pub quoted: bool,
    pub span: Span,
}
