//! Related rules over a whole sources file: how long the computation takes, how many relations
//! of each kind it finds, and a reproducible random sample of *equivalent* pairs to judge by hand
//! (`docs/conformance.md`, "Related rules").
//!
//! ```text
//! cargo run -p detwiki-catalog --example related_pairs -- ../shared/corpus/MANIFEST.toml [SEED] [COUNT]
//! ```
//!
//! The sample is drawn from the distinct unordered equivalent pairs, in catalog order, by a
//! xorshift generator seeded with SEED (default 12), so the same catalog and seed give the same
//! pairs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use detwiki_catalog::{Catalog, CatalogIndex, Relation, SourceEntry, related_rules};
use detwiki_knowledge::Knowledge;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let manifest = PathBuf::from(arguments.next().unwrap_or_else(|| "../shared/corpus/MANIFEST.toml".to_owned()));
    let seed: u64 = arguments.next().and_then(|text| text.parse().ok()).unwrap_or(12);
    let count: usize = arguments.next().and_then(|text| text.parse().ok()).unwrap_or(30);

    let specs = match detwiki_sources::load_sources_file(&manifest) {
        Ok(specs) => specs,
        Err(error) => {
            eprintln!("related_pairs: {}: {error}", manifest.display());
            std::process::exit(2);
        }
    };
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-related-cache") };
    let sources: Vec<(SourceEntry, Vec<detwiki_ir::Rule>)> = specs
        .iter()
        .filter_map(|spec| detwiki_sources::read_source(spec, &options, &|_| {}).ok())
        .map(|read| (SourceEntry { info: read.info, context: read.context }, read.rules))
        .collect();
    let catalog = Catalog::build(sources, &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());

    // Timed again on its own: the index build above already computed it once.
    let started = Instant::now();
    let related = related_rules(&catalog, &index.facts);
    let elapsed = started.elapsed();
    assert_eq!(related, index.related, "the computation is deterministic");

    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (position, list) in related.iter().enumerate() {
        let mut kinds_here = BTreeSet::new();
        for entry in list {
            let counts = per_kind.entry(entry.relation.as_str()).or_default();
            counts.0 += 1;
            if kinds_here.insert(entry.relation) {
                counts.1 += 1;
            }
            if entry.relation == Relation::Equivalent {
                pairs.insert((position.min(entry.other), position.max(entry.other)));
            }
        }
    }
    println!("rules: {}", catalog.rules.len());
    println!("related rules computed in {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    for (kind, (entries, rules)) in &per_kind {
        println!("{kind}: {entries} entries on {rules} rules");
    }
    println!("distinct equivalent pairs: {}", pairs.len());
    let cross_family = pairs
        .iter()
        .filter(|(left, right)| catalog.rules[*left].rule.family != catalog.rules[*right].rule.family)
        .count();
    println!("of which across families: {cross_family}");

    if std::env::var_os("RELATED_LIST").is_some() {
        for (left, right) in &pairs {
            let (left, right) = (&catalog.rules[*left].rule, &catalog.rules[*right].rule);
            if left.family != right.family {
                println!("cross-family equivalent: {} <-> {}", left.id, right.id);
            }
        }
        for (position, list) in related.iter().enumerate().filter(|(position, _)| position % 97 == 0) {
            for entry in list.iter().filter(|entry| entry.relation == Relation::Broader).take(1) {
                println!("broader: {} has {}", catalog.rules[position].rule.id, catalog.rules[entry.other].rule.id);
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    let mut state = seed.max(1);
    let mut sample = Vec::new();
    while sample.len() < count && !pairs.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let pick = (state % pairs.len() as u64) as usize;
        sample.push(pairs.swap_remove(pick));
    }
    for (number, (left, right)) in sample.into_iter().enumerate() {
        let score = related[left]
            .iter()
            .find(|entry| entry.other == right)
            .or_else(|| related[right].iter().find(|entry| entry.other == left))
            .map(|entry| entry.score.text());
        println!("\n## {}. score {}", number + 1, score.unwrap_or_default());
        for position in [left, right] {
            let entry = &catalog.rules[position];
            let facts = &index.facts[position];
            println!(
                "- [{}] {} — {} ({})",
                entry.rule.family.as_str(),
                entry.rule.metadata.title.as_deref().unwrap_or(""),
                entry.rule.id,
                entry.rule.provenance.path
            );
            let keys: Vec<String> = facts.indicator_keys().into_iter().map(ToString::to_string).collect();
            println!("    indicators: {}", keys.join(" | "));
            let events: BTreeSet<String> =
                facts.coverage.iter().map(|row| format!("{} {}", row.provider, row.event)).collect();
            println!("    events: {}", events.into_iter().collect::<Vec<_>>().join(", "));
        }
    }
}
