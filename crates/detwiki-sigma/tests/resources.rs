//! Data-driven tests: every file under `resources/valid` and `resources/invalid` has a snapshot with
//! its analyses (one per document) and its lint findings, rendered with file:line:column. The
//! harness checks the invariants: valid files have no error, invalid files have at least one, and
//! every span lies inside the file.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use detwiki_ir::{LineIndex, Severity};
use detwiki_sigma::LintContext;

fn files(kind: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect())
        .unwrap_or_default();
    out.retain(|path| path.extension().is_some_and(|extension| extension == "yml"));
    out.sort();
    out
}

/// A small fixed ATT&CK context, so snapshots do not depend on `../shared`.
fn context() -> LintContext {
    let set = |items: &[&str]| Some(items.iter().map(|item| (*item).to_owned()).collect::<HashSet<_>>());
    LintContext {
        attack_techniques: set(&["T1059", "T1059.001", "T1110"]),
        attack_tactics: set(&["execution", "credential-access", "stealth", "defense-impairment"]),
        attack_other_ids: set(&["G0016", "S0002"]),
    }
}

fn render(path: &Path) -> (String, bool) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let index = LineIndex::new(&text);
    let file = detwiki_sigma::load(&text);
    let mut out = String::from("## Analysis\n");
    let mut has_error = false;
    for document in 0..file.documents.len() {
        let mut analysis = detwiki_sigma::analyze_loaded(&file, document, &text);
        analysis.visit_spans(&mut |span| assert!(span.end as usize <= text.len(), "{name}: span outside the file"));
        has_error |= analysis.has_errors();
        out.push_str(&format!("### document {document} ({})\n", file.documents[document].kind.as_str()));
        out.push_str(&common::render(&analysis, &text));
    }
    out.push_str("## Lint\n");
    for diagnostic in detwiki_sigma::lint(&text, &file, &context()) {
        has_error |= diagnostic.severity == Severity::Error;
        out.push_str(&diagnostic.render_plain(name, &text, &index));
        out.push('\n');
    }
    (out, has_error)
}

#[test]
fn valid_resources() {
    for path in files("valid") {
        let (rendered, has_error) = render(&path);
        let name = path.file_stem().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        assert!(!has_error, "{name} is valid but has errors:\n{rendered}");
        insta::assert_snapshot!(format!("valid_{name}"), rendered);
    }
}

#[test]
fn invalid_resources() {
    for path in files("invalid") {
        let (rendered, has_error) = render(&path);
        let name = path.file_stem().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        assert!(has_error, "{name} is invalid but has no error:\n{rendered}");
        insta::assert_snapshot!(format!("invalid_{name}"), rendered);
    }
}
