//! Data-driven EQL tests: every file under `resources/eql/valid` and `resources/eql/invalid` is
//! parsed and analysed; its diagnostics and analysis are pinned in a snapshot, and the harness
//! checks invariants (valid inputs have no error, invalid ones at least one, every span lies
//! inside the input and on character boundaries).

use std::fmt::Write;
use std::path::Path;

use detwiki_elastic::eql;
use detwiki_ir::LineIndex;

fn render(name: &str, text: &str) -> String {
    let parsed = eql::parse(text);
    let mut out = String::new();
    out.push_str("## Errors\n");
    let index = LineIndex::new(text);
    for diagnostic in &parsed.diagnostics {
        let _ = writeln!(out, "{}", diagnostic.render_plain(name, text, &index));
    }
    out.push_str("## Analysis\n");
    out.push_str(&serde_json::to_string_pretty(&eql::analyze(text)).unwrap_or_default());
    out.push('\n');
    out
}

fn check_spans(text: &str) {
    let length = text.len() as u32;
    let mut analysis = eql::analyze(text);
    analysis.visit_spans(&mut |span| {
        assert!(span.start <= span.end && span.end <= length, "{span:?}");
        assert!(span.slice(text).is_some(), "{span:?} not on character boundaries");
    });
}

fn run_folder(folder: &str, expect_errors: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/eql").join(folder);
    let mut entries: Vec<_> =
        std::fs::read_dir(&dir).expect("resources folder").flatten().map(|entry| entry.path()).collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("input").to_owned();
        let analysis = eql::analyze(&text);
        assert_eq!(analysis.has_errors(), expect_errors, "{name}: {:?}", analysis.diagnostics);
        check_spans(&text);
        insta::assert_snapshot!(format!("eql_{folder}__{name}"), render(&name, &text));
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

/// The lowering decisions the catalog relies on, stated once outside the snapshots.
#[test]
fn lowering_contract() {
    use detwiki_ir::{DatasetRole, Expr, Op};
    let analysis = eql::analyze(
        "sequence by host.id with maxspan=2m\n [process where process.name : \"a*.exe\"] by user.id\n ![file where true] by user.id",
    );
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    assert_eq!(analysis.group_by, vec!["host.id", "user.id"]);
    assert_eq!(analysis.time_window.as_ref().and_then(|window| window.seconds), Some(120));
    assert_eq!(analysis.datasets.len(), 2);
    assert!(analysis.datasets.iter().all(|dataset| dataset.role == DatasetRole::SequenceStep));
    assert_eq!(analysis.datasets[0].attributes.get("event.category").map(String::as_str), Some("process"));
    assert!(analysis.stages[1].negated && !analysis.stages[0].negated);
    let Some(Expr::Predicate(predicate)) = &analysis.stages[0].predicate else { panic!("a predicate") };
    assert_eq!((predicate.op, predicate.case_sensitive), (Op::Wildcard, false));

    let single = eql::analyze("process where process.name == \"cmd.exe\" and length(process.args) > 2");
    assert_eq!(single.datasets[0].role, DatasetRole::Source);
    let Some(Expr::And { items }) = &single.stages[0].predicate else { panic!("a conjunction") };
    let Expr::Predicate(equal) = &items[0] else { panic!("a predicate") };
    assert_eq!((equal.op, equal.case_sensitive), (Op::Eq, true));
    let Expr::Predicate(computed) = &items[1] else { panic!("a predicate") };
    assert!(computed.origin.is_derived() && !computed.is_literal());
}
