//! Event-coverage recall of the Elastic rules of the shared corpus against their declared
//! integrations (`[metadata] integration`): for every integration named by at least 20 rules,
//! the share of (rule, integration) pairs whose event coverage names that integration's
//! provider must be at least 90%. The integration -> provider table is the one in
//! `docs/conformance.md` ("Elastic integrations and event coverage").
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! test prints `SKIPPED:` and passes, unless `DETWIKI_REQUIRE_SHARED=1`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use detwiki_catalog::{analysis_coverage, analyze_rule};
use detwiki_ir::{Family, SourceContext};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

/// Integration -> the providers (or products) an event-coverage row must name.
const INTEGRATION_PROVIDERS: &[(&str, &[&str])] = &[
    ("endpoint", &["Elastic Defend"]),
    ("windows", &["Sysmon", "Windows event log"]),
    ("system", &["Security"]),
    ("m365_defender", &["Microsoft Defender XDR"]),
    ("sentinel_one_cloud_funnel", &["SentinelOne"]),
    ("crowdstrike", &["CrowdStrike Falcon"]),
    ("aws", &["AWS CloudTrail"]),
    ("auditd_manager", &["auditd"]),
    ("azure", &["Azure Monitor", "SigninLogs", "AuditLogs", "AzureActivity"]),
    ("gcp", &["GCP Audit Logs"]),
    ("network_traffic", &["Packetbeat"]),
    ("cloud_defend", &["Defend for Containers"]),
    ("o365", &["OfficeActivity"]),
    ("okta", &["Okta System Log"]),
    ("kubernetes", &["Kubernetes audit"]),
    ("github", &["GitHub audit log"]),
    ("google_workspace", &["Google Workspace"]),
    ("pad", &["Privileged access detection"]),
    ("panw", &["Palo Alto PAN-OS"]),
];

#[derive(Debug, Default)]
struct Recall {
    pairs: usize,
    found: usize,
    /// Found only through the declared-integration fallback (the rule names no index).
    through_fallback: usize,
    missed: Vec<String>,
}

#[test]
fn elastic_integrations_are_covered() {
    let Some(shared) = shared() else { return };
    let read = common::manifest_source(&shared, "elastic/detection-rules");
    let knowledge = Knowledge::bundled();
    let table: BTreeMap<&str, &[&str]> = INTEGRATION_PROVIDERS.iter().copied().collect();
    let mut recall: BTreeMap<String, Recall> = BTreeMap::new();
    let mut rules_per_integration: BTreeMap<String, usize> = BTreeMap::new();
    for rule in &read.rules {
        if rule.metadata.extra.get("elastic_kind").and_then(|kind| kind.as_str()) != Some("rule") {
            continue;
        }
        let integrations: Vec<String> = match rule.metadata.extra.get("integration") {
            Some(serde_json::Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(serde_json::Value::String(name)) => vec![name.clone()],
            _ => Vec::new(),
        };
        let analyses = analyze_rule(rule, &SourceContext::default());
        let mut named: BTreeSet<String> = BTreeSet::new();
        let mut fallback = false;
        for (index, entry) in analyses.iter().enumerate() {
            fallback |= entry.analysis.datasets.iter().any(|dataset| dataset.name.starts_with("integration:"));
            for row in analysis_coverage(knowledge, Family::Elastic, index, &entry.analysis) {
                named.insert(row.provider.clone());
                named.insert(row.product.clone());
            }
        }
        for integration in integrations {
            *rules_per_integration.entry(integration.clone()).or_default() += 1;
            let Some(expected) = table.get(integration.as_str()) else { continue };
            let entry = recall.entry(integration).or_default();
            entry.pairs += 1;
            if expected.iter().any(|provider| named.contains(*provider)) {
                entry.found += 1;
                entry.through_fallback += usize::from(fallback);
            } else {
                entry.missed.push(rule.provenance.path.clone());
            }
        }
    }
    println!("| integration | rules | covered | recall | through the integration fallback |");
    println!("|---|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    for (integration, count) in &rules_per_integration {
        if *count < 20 {
            continue;
        }
        let Some(entry) = recall.get(integration) else {
            failures.push(format!("{integration}: named by {count} rules but not in the integration table"));
            continue;
        };
        let rate = entry.found as f64 / entry.pairs as f64;
        println!(
            "| {integration} | {} | {} | {:.1}% | {} |",
            entry.pairs,
            entry.found,
            100.0 * rate,
            entry.through_fallback
        );
        if rate < 0.9 {
            failures.push(format!(
                "{integration}: recall {:.1}%, missed e.g. {:?}",
                100.0 * rate,
                &entry.missed[..entry.missed.len().min(5)]
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
