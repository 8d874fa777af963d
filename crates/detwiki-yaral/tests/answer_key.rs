//! Compares the engine with the hand-written answer key `tests/answer_key.txt` (datasets,
//! group-by, window, thresholds and every predicate of `events`), rule by rule, on the Chronicle
//! rules of `../shared`. The key was written by reading the rules, not from the engine's output.

use detwiki_ir::{Analysis, Expr, FieldFunctionKind, Op, Predicate, Value};
use detwiki_testkit::shared_dir;

fn value_text(value: &Value) -> String {
    match value {
        Value::String { value } => format!("\"{value}\""),
        Value::Regex { pattern, .. } => format!("/{pattern}/"),
        Value::Variable { name, .. } | Value::Column { name } => name.clone(),
        Value::Call { text, .. } => text.clone(),
        other => other.literal_text().unwrap_or_default(),
    }
}

fn predicate_line(analysis: &Analysis, predicate: &Predicate, negated: bool) -> String {
    let variable = predicate
        .dataset
        .and_then(|index| analysis.datasets.get(index))
        .and_then(|dataset| dataset.attributes.get("variable"))
        .cloned()
        .unwrap_or_else(|| "-".to_owned());
    let mut field = predicate.resolved_field.clone().unwrap_or_else(|| predicate.field.clone());
    for function in predicate.functions.iter().rev() {
        let name = match function.kind {
            FieldFunctionKind::Lower => "lower",
            FieldFunctionKind::Upper => "upper",
            FieldFunctionKind::Trim => "trim",
            FieldFunctionKind::PathLeaf => "leaf",
        };
        field = format!("{name}({field})");
    }
    let op = match (predicate.op, predicate.negated) {
        (Op::Eq, true) => "ne".to_owned(),
        (op, false) => op.as_str().to_owned(),
        (op, true) => format!("not_{}", op.as_str()),
    };
    let values: Vec<String> = predicate.values.iter().map(value_text).collect();
    let mut line = format!("{}{variable} {field} {op} {}", if negated { "not " } else { "" }, values.join(", "));
    if !predicate.case_sensitive {
        line.push_str(" nocase");
    }
    line
}

fn render(analysis: &Analysis) -> Vec<String> {
    let mut lines = Vec::new();
    for dataset in &analysis.datasets {
        let variable = dataset.attributes.get("variable").cloned().unwrap_or_default();
        lines.push(format!("dataset {variable} {}", dataset.name));
    }
    for key in &analysis.group_by {
        lines.push(format!("group_by {key}"));
    }
    if let Some(seconds) = analysis.time_window.as_ref().and_then(|window| window.seconds) {
        lines.push(format!("window {seconds}"));
    }
    for stage in &analysis.stages {
        for threshold in &stage.thresholds {
            if let Expr::Predicate(predicate) = threshold {
                let values: Vec<String> = predicate.values.iter().map(value_text).collect();
                lines.push(format!("threshold {} {} {}", predicate.field, predicate.op.as_str(), values.join(", ")));
            }
        }
        if !matches!(stage.kind.as_str(), "events" | "join") {
            continue;
        }
        if let Some(tree) = &stage.predicate {
            tree.for_each_predicate(&mut |predicate, negated| lines.push(predicate_line(analysis, predicate, negated)));
        }
    }
    lines.sort();
    lines
}

#[test]
fn answer_key() {
    let Some(shared) = shared_dir() else { return };
    let rules = shared.join("corpus/chronicle__detection-rules/rules");
    let key = include_str!("answer_key.txt");
    let mut checked = 0;
    let mut failures = Vec::new();
    for block in key.split("\n== ").skip(1) {
        let mut lines = block.lines();
        let path = lines.next().unwrap_or_default().trim();
        let mut expected: Vec<String> =
            lines.map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned).collect();
        expected.sort();
        let text = std::fs::read_to_string(rules.join(path)).unwrap_or_else(|error| panic!("{path}: {error}"));
        let analyses = detwiki_yaral::analyze(&text);
        let found = render(&analyses[0]);
        checked += 1;
        if found != expected {
            let missing: Vec<&String> = expected.iter().filter(|line| !found.contains(line)).collect();
            let extra: Vec<&String> = found.iter().filter(|line| !expected.contains(line)).collect();
            failures.push(format!("{path}\n  expected, not found: {missing:#?}\n  found, not expected: {extra:#?}"));
        }
    }
    println!("answer key: {} of {checked} rules agree", checked - failures.len());
    assert!(checked >= 40, "the key covers {checked} rules");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
