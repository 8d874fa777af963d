//! Criterion benches of the answers `detwiki coverage`, `find` and `show` give from a catalog
//! database, each measured from opening the file (as a command does) to the finished answer.
//!
//! The database is a built one, named by `DETWIKI_BENCH_CATALOG` (the full `../shared` catalog:
//! `detwiki build --config ../shared/corpus/MANIFEST.toml --out /tmp/site`, then
//! `DETWIKI_BENCH_CATALOG=/tmp/site/catalog.sqlite cargo bench -p detwiki-db`); without it the
//! benches print `SKIPPED:` and measure nothing.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use detwiki_catalog::TelemetryProfile;
use detwiki_db::{CatalogDb, CoverageQuery, FindQuery, Resolved};
use detwiki_knowledge::Knowledge;

fn catalog() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("DETWIKI_BENCH_CATALOG")?);
    if path.is_file() {
        return Some(path);
    }
    println!("SKIPPED: DETWIKI_BENCH_CATALOG={} is not a file", path.display());
    None
}

fn profile(name: &str) -> TelemetryProfile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/telemetry/{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("example profile");
    TelemetryProfile::from_toml(&path.display().to_string(), &text).expect("valid example profile")
}

fn answers(criterion: &mut Criterion) {
    let Some(path) = catalog() else {
        println!("SKIPPED: answers benches: set DETWIKI_BENCH_CATALOG to a built catalog.sqlite");
        return;
    };
    let knowledge = Knowledge::bundled();
    let mut group = criterion.benchmark_group("answers");
    group.bench_function("coverage", |bencher| {
        bencher.iter(|| {
            let db = CatalogDb::open(&path).expect("catalog");
            db.coverage(knowledge, &CoverageQuery::default(), None).expect("coverage").techniques.len()
        })
    });
    for name in ["sysmon-security", "defender-xdr", "elastic-defend"] {
        let profile = profile(name);
        group.bench_function(format!("coverage --telemetry {name}"), |bencher| {
            bencher.iter(|| {
                let db = CatalogDb::open(&path).expect("catalog");
                db.coverage(knowledge, &CoverageQuery::default(), Some(&profile)).expect("coverage").rules.len()
            })
        });
    }
    group.bench_function("find --field process_name --value msiexec.exe", |bencher| {
        let query = FindQuery {
            field: Some("process_name".to_owned()),
            value: Some("msiexec.exe".to_owned()),
            ..FindQuery::default()
        };
        bencher.iter(|| CatalogDb::open(&path).expect("catalog").find(&query).expect("find").len())
    });
    group.bench_function("show (resolve a path, read the documents)", |bencher| {
        bencher.iter(|| {
            let db = CatalogDb::open(&path).expect("catalog");
            match db.resolve("Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md") {
                Ok(Resolved::One(rule)) => db.documents(&rule).expect("documents").map_or(0, |(text, _)| text.len()),
                _ => 0,
            }
        })
    });
    group.finish();
}

criterion_group!(benches, answers);
criterion_main!(benches);
