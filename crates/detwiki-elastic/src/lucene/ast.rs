//! The Lucene query-string tree. Leaves keep their spans; text is decoded when lowering.

use detwiki_ir::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Or {
        items: Vec<Node>,
        span: Span,
    },
    And {
        items: Vec<Node>,
        span: Span,
    },
    /// Clauses side by side without an operator (`a b`): optional unless marked `+`/`-`.
    Implicit {
        items: Vec<Node>,
        span: Span,
    },
    /// `NOT x`, `!x`.
    Not {
        item: Box<Node>,
        span: Span,
    },
    /// `-x`: must not match.
    Prohibit {
        item: Box<Node>,
        span: Span,
    },
    /// `+x`: must match.
    Required {
        item: Box<Node>,
        span: Span,
    },
    Group {
        item: Box<Node>,
        span: Span,
    },
    /// `name:value`; `name` is the field as written (escapes not yet decoded).
    Field {
        name: Span,
        value: Box<Node>,
        span: Span,
    },
    Term {
        span: Span,
    },
    Phrase {
        span: Span,
    },
    Regex {
        span: Span,
    },
    /// `[a TO b]`, `{a TO b}` and mixes; bounds as written (`*` is open).
    Range {
        low: Span,
        high: Span,
        include_low: bool,
        include_high: bool,
        span: Span,
    },
    /// `>5`, `<=x` after a field.
    Compare {
        op: Span,
        value: Span,
        span: Span,
    },
    Missing {
        span: Span,
    },
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Or { span, .. }
            | Node::And { span, .. }
            | Node::Implicit { span, .. }
            | Node::Not { span, .. }
            | Node::Prohibit { span, .. }
            | Node::Required { span, .. }
            | Node::Group { span, .. }
            | Node::Field { span, .. }
            | Node::Term { span }
            | Node::Phrase { span }
            | Node::Regex { span }
            | Node::Range { span, .. }
            | Node::Compare { span, .. }
            | Node::Missing { span } => *span,
        }
    }
}
