//! Which Elastic rules of the shared corpus can fire with the Elastic Defend telemetry profile
//! (`examples/telemetry/elastic-defend.toml`, `detwiki coverage --telemetry`).
//!
//! An Elastic rule reads the union of its `index` patterns, and an EQL event category or an
//! `event.category:` filter narrows those indexes: it is not another dataset. So a rule of the
//! Elastic Defend integration whose query reads endpoint events must be able to fire with a
//! profile that collects exactly those events, however many other vendors' index patterns the
//! rule also lists. The test counts, among `[rule]` files declaring `integration = ["endpoint"]`
//! with an analysable query, those that can fire fully or partly, and fails below 90%.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! test prints `SKIPPED:` and passes, unless `DETWIKI_REQUIRE_SHARED=1`.

mod common;

use std::collections::BTreeMap;

use detwiki_catalog::{FireLevel, TelemetryProfile, analysis_coverage, analyze_rule, rule_firing};
use detwiki_ir::{Family, Language, SourceContext};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

fn integrations(rule: &detwiki_ir::Rule) -> Vec<String> {
    match rule.metadata.extra.get("integration") {
        Some(serde_json::Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(name)) => vec![name.clone()],
        _ => Vec::new(),
    }
}

#[test]
fn elastic_defend_profile_fires_endpoint_rules() {
    let Some(shared) = shared() else { return };
    let profile_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/telemetry/elastic-defend.toml");
    let profile = TelemetryProfile::from_toml(
        profile_path,
        &std::fs::read_to_string(profile_path).expect("the elastic-defend profile"),
    )
    .expect("profile parses");
    let read = common::manifest_source(&shared, "elastic/detection-rules");
    let knowledge = Knowledge::bundled();

    // Per query language: endpoint rules, and those that can fire fully / partly.
    let mut counts: BTreeMap<&'static str, [usize; 3]> = BTreeMap::new();
    let mut cannot: Vec<String> = Vec::new();
    for rule in &read.rules {
        let is_rule = rule.metadata.extra.get("elastic_kind").and_then(|kind| kind.as_str()) == Some("rule");
        let Some(language) = rule.queries.first().map(|query| query.language) else { continue };
        if !is_rule || language == Language::None || !integrations(rule).iter().any(|name| name == "endpoint") {
            continue;
        }
        let analyses = analyze_rule(rule, &SourceContext::default());
        let needs: Vec<_> = analyses
            .iter()
            .enumerate()
            .flat_map(|(index, entry)| analysis_coverage(knowledge, Family::Elastic, index, &entry.analysis))
            .map(|row| row.need())
            .collect();
        let firing = rule_firing(&profile, &needs);
        let entry = counts.entry(language.display_name()).or_default();
        entry[0] += 1;
        match firing.level {
            FireLevel::Full => entry[1] += 1,
            FireLevel::Partial => entry[2] += 1,
            FireLevel::None => cannot.push(format!(
                "{} ({})",
                rule.provenance.path,
                firing.datasets.iter().map(|dataset| dataset.dataset.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    println!("| language | endpoint rules | fire fully | fire partly | cannot fire |");
    println!("|---|---:|---:|---:|---:|");
    let (mut rules, mut fire) = (0, 0);
    for (language, [total, full, partial]) in &counts {
        println!("| {language} | {total} | {full} | {partial} | {} |", total - full - partial);
        rules += total;
        fire += full + partial;
    }
    println!("cannot fire, e.g.: {:#?}", &cannot[..cannot.len().min(10)]);
    assert!(rules > 500, "only {rules} endpoint rules read");
    assert!(
        fire as f64 >= 0.9 * rules as f64,
        "{fire}/{rules} endpoint rules can fire with elastic-defend; e.g. {:#?}",
        &cannot[..cannot.len().min(10)]
    );
}
