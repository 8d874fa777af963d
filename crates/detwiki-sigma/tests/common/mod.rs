//! Shared helpers of the integration tests: where `../shared` is, and a plain rendering of an
//! analysis for snapshots.

#![allow(dead_code)]

use detwiki_ir::{Analysis, Expr, LineIndex};

fn expr(expression: &Expr, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match expression {
        Expr::And { items } | Expr::Or { items } => {
            let name = if matches!(expression, Expr::And { .. }) { "and" } else { "or" };
            out.push_str(&format!("{pad}{name}\n"));
            for item in items {
                expr(item, indent + 1, out);
            }
        }
        Expr::Not { item } => {
            out.push_str(&format!("{pad}not\n"));
            expr(item, indent + 1, out);
        }
        Expr::Opaque { text: opaque, .. } => out.push_str(&format!("{pad}opaque {opaque}\n")),
        Expr::Predicate(predicate) => {
            let mut json = serde_json::to_value(predicate).unwrap_or_default();
            if let Some(object) = json.as_object_mut() {
                object.remove("span");
            }
            out.push_str(&format!("{pad}{json}\n"));
        }
    }
}

/// Stages with their slices, datasets, time window and diagnostics, one line each where possible.
pub fn render(analysis: &Analysis, text: &str) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for dataset in &analysis.datasets {
        out.push_str(&format!("dataset {} {:?} {:?}\n", dataset.name, dataset.role, dataset.attributes));
    }
    if !analysis.group_by.is_empty() {
        out.push_str(&format!("group_by {:?}\n", analysis.group_by));
    }
    if let Some(window) = &analysis.time_window {
        out.push_str(&format!("time_window {} {:?}\n", window.text, window.seconds));
    }
    for stage in &analysis.stages {
        let at = index.line_column(text, stage.span.start);
        out.push_str(&format!(
            "stage {} {:?} negated={} at {at}\n",
            stage.kind,
            stage.label.as_deref().unwrap_or(""),
            stage.negated
        ));
        let slice = stage.span.slice(text).unwrap_or("<out of range>");
        for line in slice.lines() {
            out.push_str(&format!("  | {line}\n"));
        }
        if let Some(predicate) = &stage.predicate {
            expr(predicate, 1, &mut out);
        }
        for threshold in &stage.thresholds {
            out.push_str("  threshold\n");
            expr(threshold, 2, &mut out);
        }
    }
    for diagnostic in &analysis.diagnostics {
        out.push_str(&diagnostic.render_plain("rule", text, &index));
        out.push('\n');
    }
    out
}
