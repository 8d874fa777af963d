//! Every document of the SigmaHQ corpus loads and lowers without a panic, and every span stays
//! inside its file.

mod common;

use std::path::{Path, PathBuf};

fn yaml_files(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for path in entries {
        let hidden = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "yml" || extension == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn whole_sigmahq_corpus_loads_without_panics() {
    let Some(shared) = detwiki_testkit::shared_dir() else { return };
    let mut files = Vec::new();
    yaml_files(&shared.join("corpus/SigmaHQ__sigma"), &mut files);
    let mut documents = 0usize;
    let mut panics = Vec::new();
    let mut with_errors = 0usize;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let result = std::panic::catch_unwind(|| {
            let file = detwiki_sigma::load(&text);
            let mut errors = 0usize;
            for index in 0..file.documents.len() {
                let analysis = detwiki_sigma::analyze_loaded(&file, index, &text);
                let mut inside = true;
                let mut analysis = analysis;
                analysis.visit_spans(&mut |span| inside &= span.end as usize <= text.len());
                assert!(inside, "{}#{index}: a span is outside the file", path.display());
                errors += usize::from(analysis.has_errors());
            }
            (file.documents.len(), errors)
        });
        match result {
            Ok((count, errors)) => {
                documents += count;
                with_errors += errors;
            }
            Err(_) => panics.push(path.display().to_string()),
        }
    }
    println!("files {}, documents {documents}, documents with errors {with_errors}", files.len());
    let truncated_panics = truncated_copies_never_panic(&files);
    assert!(truncated_panics.is_empty(), "panics on truncated copies of {truncated_panics:?}");
    assert!(panics.is_empty(), "panics in {panics:?}");
    assert_eq!(files.len(), 4040);
    assert_eq!(documents, 4048);
}

/// Every file cut at a third and at two thirds (a broken document, an unclosed quote or list) still
/// loads, lowers and lints without a panic, with spans on character boundaries.
fn truncated_copies_never_panic(files: &[PathBuf]) -> Vec<String> {
    let context = detwiki_sigma::LintContext::default();
    let mut panics = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for numerator in [1, 2] {
            let mut cut = text.len() * numerator / 3;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let truncated = &text[..cut];
            let result = std::panic::catch_unwind(|| {
                let file = detwiki_sigma::load(truncated);
                for index in 0..file.documents.len() {
                    let mut analysis = detwiki_sigma::analyze_loaded(&file, index, truncated);
                    analysis.visit_spans(&mut |span| {
                        assert!(truncated.is_char_boundary(span.start as usize));
                        assert!(truncated.is_char_boundary(span.end as usize));
                    });
                }
                detwiki_sigma::lint(truncated, &file, &context)
            });
            if result.is_err() {
                panics.push(format!("{} at {cut}", path.display()));
            }
        }
    }
    panics
}
