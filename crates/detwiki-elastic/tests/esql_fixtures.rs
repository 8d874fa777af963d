//! Data-driven tests: every file under `resources/esql/valid` and `resources/esql/invalid` is
//! parsed and analysed; its commands, diagnostics and analysis are pinned in a snapshot, and the
//! harness checks invariants (valid inputs have no error, invalid ones at least one, every span
//! lies inside the input, commands follow each other).

use std::fmt::Write;
use std::path::Path;

use detwiki_elastic::esql;
use detwiki_ir::LineIndex;

fn render(name: &str, text: &str) -> String {
    let parsed = esql::parse(text);
    let mut out = String::new();
    out.push_str("## Commands\n");
    let mut previous_end = 0;
    for command in &parsed.query.commands {
        assert!(command.span.start >= previous_end, "{name}: commands overlap");
        assert!(command.span.contains(command.keyword_span), "{name}: keyword outside its command");
        previous_end = command.span.end;
        let _ = writeln!(out, "{} {:?}", command.name, command.span.slice(text).unwrap_or("").lines().next());
    }
    out.push_str("## Errors\n");
    let analysis = esql::analyze(text);
    let index = LineIndex::new(text);
    for diagnostic in &analysis.diagnostics {
        let _ = writeln!(out, "{}", diagnostic.render_plain(name, text, &index));
    }
    out.push_str("## Analysis\n");
    out.push_str(&serde_json::to_string_pretty(&analysis).unwrap_or_default());
    out.push('\n');
    out
}

fn run_folder(folder: &str, expect_errors: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/esql").join(folder);
    let mut entries: Vec<_> =
        std::fs::read_dir(&dir).expect("resources folder").flatten().map(|entry| entry.path()).collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("readable fixture");
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("input").to_owned();
        let mut analysis = esql::analyze(&text);
        assert_eq!(analysis.has_errors(), expect_errors, "{name}: {:?}", analysis.diagnostics);
        let length = text.len() as u32;
        analysis.visit_spans(&mut |span| assert!(span.start <= span.end && span.end <= length, "{name}: {span:?}"));
        insta::assert_snapshot!(format!("esql_{folder}__{name}"), render(&name, &text));
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
