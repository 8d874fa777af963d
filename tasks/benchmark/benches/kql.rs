//! Criterion benches of detwiki-kql per stage (lex, parse, lower) over every KQL query unit of
//! the corpora. The units are read once (through the oracle's batch reader, which defines them)
//! before any timing; each iteration processes the whole set.

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)]
#[path = "../src/kql.rs"]
mod kql;
#[allow(dead_code)]
#[path = "../../conformance/src/shared.rs"]
mod shared;
#[allow(dead_code)]
#[path = "../src/timing.rs"]
mod timing;

fn corpus() -> Vec<String> {
    let shared = shared::shared_dir(&[]);
    match kql::oracle_units(&shared) {
        Ok(units) => units.into_iter().map(|(text, _)| text).collect(),
        Err(error) => {
            println!("SKIPPED: {error}");
            Vec::new()
        }
    }
}

fn stages(criterion: &mut Criterion) {
    let texts = corpus();
    if texts.is_empty() {
        return;
    }
    let units: Vec<(String, Vec<detwiki_kql::Unit>)> =
        texts.iter().map(|text| (text.clone(), detwiki_kql::split_units(text))).collect();
    let mut group = criterion.benchmark_group("kql");
    group.throughput(criterion::Throughput::Elements(texts.len() as u64));
    group.bench_function("lex", |bencher| {
        bencher.iter(|| texts.iter().map(|text| detwiki_kql::tokenize(text).len()).sum::<usize>())
    });
    group.bench_function("parse", |bencher| {
        bencher.iter(|| texts.iter().map(|text| detwiki_kql::parse(text).script.statements.len()).sum::<usize>())
    });
    group.bench_function("lower", |bencher| {
        bencher.iter(|| {
            units
                .iter()
                .flat_map(|(text, units)| {
                    units.iter().map(move |unit| detwiki_kql::lower_unit(text, unit).stages.len())
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
