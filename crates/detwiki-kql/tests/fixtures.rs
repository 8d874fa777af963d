//! Data-driven tests: every file under `resources/valid` and `resources/invalid` is parsed and
//! analysed; its operators, predicates, diagnostics and analysis are pinned in a snapshot, and
//! the harness checks invariants (valid inputs have no error, invalid ones at least one, every
//! span lies inside the input).

use std::fmt::Write;
use std::path::Path;

use detwiki_ir::LineIndex;

fn render(name: &str, text: &str) -> String {
    let parsed = detwiki_kql::parse(text);
    let mut out = String::new();
    out.push_str("## Tree\n");
    out.push_str(&detwiki_kql::outline(&parsed.script));
    out.push_str("## Operators\n");
    for operator in detwiki_kql::operators(&parsed.script) {
        let _ = writeln!(out, "{}{}", "  ".repeat(operator.nesting as usize), operator.keyword);
    }
    out.push_str("## Predicates\n");
    for predicate in detwiki_kql::predicates(&parsed.script, text) {
        let _ = writeln!(out, "{} {} {:?}", predicate.left, predicate.op, predicate.values);
    }
    out.push_str("## Errors\n");
    let index = LineIndex::new(text);
    for diagnostic in &parsed.diagnostics {
        let _ = writeln!(out, "{}", diagnostic.render_plain(name, text, &index));
    }
    out.push_str("## Analysis\n");
    let analyses = detwiki_kql::analyze(text);
    out.push_str(&serde_json::to_string_pretty(&analyses).unwrap_or_default());
    out.push('\n');
    out
}

fn check_spans(text: &str) {
    let length = text.len() as u32;
    for mut analysis in detwiki_kql::analyze(text) {
        analysis.visit_spans(&mut |span| assert!(span.end <= length && span.start <= span.end, "{span:?}"));
    }
}

fn run_folder(folder: &str, expect_errors: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources").join(folder);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("resources folder")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("input").to_owned();
        let parsed = detwiki_kql::parse(&text);
        let has_errors = detwiki_kql::analyze(&text).iter().any(|analysis| analysis.has_errors());
        assert_eq!(has_errors, expect_errors, "{name}: {:?}", parsed.diagnostics);
        check_spans(&text);
        insta::assert_snapshot!(format!("{folder}__{name}"), render(&name, &text));
    }
}

#[test]
fn valid_inputs() {
    run_folder("valid", false);
}

#[test]
fn invalid_inputs() {
    run_folder("invalid", true);
}

/// `resources/valid/operators/`: one file per tabular operator with every syntax variant of its
/// reference page, one query per blank-line-separated chunk. Each variant parses without an
/// error and is one query unit (the conformance task checks each against Kusto.Language).
#[test]
fn operator_variants() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/valid/operators");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("operators folder").flatten().map(|entry| entry.path()).collect();
    files.sort();
    assert!(files.len() >= 40, "one file per tabular operator");
    let mut failures = Vec::new();
    for path in files {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("").to_owned();
        let text = std::fs::read_to_string(&path).expect("readable variants");
        for variant in detwiki_kql::operator_variants(&text) {
            let analyses = detwiki_kql::analyze(variant);
            let error =
                analyses.iter().flat_map(|analysis| &analysis.diagnostics).find(|diagnostic| diagnostic.is_error());
            match (analyses.len(), error) {
                (1, None) => {}
                (units, error) => failures.push(format!("{name}: {variant}: {units} units, {error:?}")),
            }
            check_spans(variant);
        }
    }
    assert!(failures.is_empty(), "variants detwiki rejects:\n{}", failures.join("\n"));
}
