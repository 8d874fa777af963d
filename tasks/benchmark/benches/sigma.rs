//! Criterion bench of detwiki-sigma over the whole SigmaHQ corpus: files are read once, outside
//! the timed loop; each iteration loads, lowers and lints every document.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[allow(dead_code)]
#[path = "../../conformance/src/shared.rs"]
mod shared;

fn yaml_files(folder: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "yml" || extension == "yaml") {
            out.push(path);
        }
    }
}

fn corpus(criterion: &mut Criterion) {
    let mut files = Vec::new();
    yaml_files(&shared::shared_dir(&[]).join("corpus/SigmaHQ__sigma"), &mut files);
    files.sort();
    if files.is_empty() {
        println!("SKIPPED: sigma bench: no SigmaHQ corpus under {}", shared::shared_dir(&[]).display());
        return;
    }
    let texts: Vec<String> = files.iter().filter_map(|path| std::fs::read_to_string(path).ok()).collect();
    let context = detwiki_sigma::LintContext::default();
    let documents: usize = texts.iter().map(|text| detwiki_sigma::load(text).documents.len()).sum();
    let mut group = criterion.benchmark_group("sigma");
    group.sample_size(10);
    group.throughput(Throughput::Elements(documents as u64));
    group.bench_function("sigmahq_load", |bencher| {
        bencher.iter(|| {
            for text in &texts {
                std::hint::black_box(detwiki_sigma::load(text));
            }
        })
    });
    group.bench_function("sigmahq_load_lower_lint", |bencher| {
        bencher.iter(|| {
            for text in &texts {
                let file = detwiki_sigma::load(text);
                for index in 0..file.documents.len() {
                    std::hint::black_box(detwiki_sigma::analyze_loaded(&file, index, text));
                }
                std::hint::black_box(detwiki_sigma::lint(text, &file, &context));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, corpus);
criterion_main!(benches);
