//! Tree invariants on every fixture and on the KQL blocks of the corpora (when `../shared` is
//! present): every node's range lies inside its parent's, operators of a pipeline come in
//! source order, and every range is inside the text.

use std::path::{Path, PathBuf};

use detwiki_kql::{Expr, ExprKind, Operator, Span, StatementKind};

fn check_expr(expr: &Expr, parent: Span, text: &str) {
    assert!(expr.span.end as usize <= text.len());
    // A missing piece is an empty range at the token where it was expected, which may lie after
    // the end of its parent (`where x ==` then end of line).
    if matches!(expr.kind, ExprKind::Missing) && expr.span.is_empty() {
        return;
    }
    assert!(parent.contains(expr.span), "{:?} not inside {:?} in {text:?}", expr.span, parent);
    let span = expr.span;
    let children: Vec<&Expr> = match &expr.kind {
        ExprKind::Call { callee, args } => std::iter::once(callee.as_ref()).chain(args).collect(),
        ExprKind::Member { target, .. } | ExprKind::Unary { operand: target, .. } | ExprKind::Paren(target) => {
            vec![target.as_ref()]
        }
        ExprKind::Index { target, index } => vec![target.as_ref(), index.as_ref()],
        ExprKind::Binary { left, right, .. } | ExprKind::Assign { target: left, value: right } => {
            vec![left.as_ref(), right.as_ref()]
        }
        ExprKind::Logical { items, .. } | ExprKind::Tuple(items) => items.iter().collect(),
        ExprKind::List { left, items, .. } => std::iter::once(left.as_ref()).chain(items).collect(),
        ExprKind::Between { left, low, high, .. } => vec![left.as_ref(), low.as_ref(), high.as_ref()],
        ExprKind::Sorted { expr, .. } => vec![expr.as_ref()],
        ExprKind::Table { values, .. } => values.iter().collect(),
        ExprKind::Pipe { source, operators } => {
            let mut previous = span.start;
            if let Some(source) = source {
                check_expr(source, span, text);
                previous = source.span.end;
            }
            for operator in operators {
                assert!(operator.span.start >= previous, "operators out of order in {text:?}");
                previous = operator.span.end;
                check_operator(operator, span, text);
            }
            Vec::new()
        }
        ExprKind::Operator(operator) => {
            check_operator(operator, span, text);
            Vec::new()
        }
        ExprKind::Function { body, .. } => {
            for statement in body {
                assert!(span.contains(statement.span));
            }
            Vec::new()
        }
        _ => Vec::new(),
    };
    for child in children {
        check_expr(child, span, text);
    }
}

fn check_operator(operator: &Operator, parent: Span, text: &str) {
    assert!(
        parent.contains(operator.span),
        "{} {:?} not inside {parent:?} in {text:?}",
        operator.keyword,
        operator.span
    );
    for expr in operator
        .parameters
        .iter()
        .map(|(_, value)| value)
        .chain(&operator.sources)
        .chain(&operator.items)
        .chain(&operator.on)
        .chain(&operator.by)
    {
        check_expr(expr, operator.span, text);
    }
}

fn check_text(text: &str) {
    let parsed = detwiki_kql::parse(text);
    let whole = Span::from_usize(0, text.len());
    for statement in &parsed.script.statements {
        assert!(whole.contains(statement.span));
        match &statement.kind {
            StatementKind::Let { value, .. } | StatementKind::Query(value) => check_expr(value, statement.span, text),
            StatementKind::Directive { .. } => {}
        }
    }
}

fn visit(dir: &Path, texts: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            visit(&path, texts);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            match path.extension().and_then(|extension| extension.to_str()) {
                Some("md") => texts.extend(text.split("```").skip(1).step_by(2).map(str::to_owned)),
                Some("kql" | "csl" | "txt") => texts.push(text),
                _ => {}
            }
        }
    }
}

#[test]
fn nodes_nest_inside_their_parents() {
    let mut texts = Vec::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    visit(&root.join("resources"), &mut texts);
    if let Some(shared) = detwiki_testkit::shared_dir() {
        for corpus in [
            "HybridBrothers__Hunting-Queries-Detection-Rules",
            "Bert-JanP__Hunting-Queries-Detection-Rules",
            "FalconForceTeam__FalconFriday",
            "microsoft__Microsoft-365-Defender-Hunting-Queries",
        ] {
            visit(&shared.join("corpus").join(corpus), &mut texts);
        }
    }
    assert!(texts.len() > 5);
    for text in &texts {
        check_text(text);
    }
}
