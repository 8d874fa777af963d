//! Every YARA-L rule of `../shared/corpus/chronicle__detection-rules`: an analysis per rule, no
//! error diagnostic, a dataset per event variable, and every span inside the file.

use std::path::{Path, PathBuf};

use detwiki_ir::Span;
use detwiki_testkit::shared_dir;

fn yaral_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            yaral_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "yaral") {
            out.push(path);
        }
    }
}

#[test]
fn every_chronicle_rule_is_analysed() {
    let Some(shared) = shared_dir() else { return };
    let mut files = Vec::new();
    yaral_files(&shared.join("corpus/chronicle__detection-rules"), &mut files);
    assert_eq!(files.len(), 886, "the corpus holds 886 .yaral files");
    let mut with_errors = Vec::new();
    let mut without_datasets = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("utf-8 rule");
        let analyses = detwiki_yaral::analyze(&text);
        assert!(!analyses.is_empty());
        let end = u32::try_from(text.len()).unwrap();
        for mut analysis in analyses {
            analysis.visit_spans(&mut |span: &mut Span| {
                assert!(
                    span.end <= end && span.slice(&text).is_some(),
                    "{}: span {span:?} out of the text",
                    path.display()
                );
            });
            let errors: Vec<String> = analysis
                .diagnostics
                .iter()
                .filter(|diagnostic| diagnostic.is_error())
                .map(|diagnostic| format!("{}@{}", diagnostic.message, diagnostic.span.start))
                .collect();
            if !errors.is_empty() {
                with_errors.push(format!("{}: {}", path.display(), errors.join("; ")));
            }
            if analysis.datasets.is_empty() {
                without_datasets.push(path.display().to_string());
            }
        }
    }
    for line in &with_errors {
        println!("{line}");
    }
    assert!(with_errors.is_empty(), "{} files with errors", with_errors.len());
    assert!(without_datasets.is_empty(), "rules without a dataset: {without_datasets:?}");
}
