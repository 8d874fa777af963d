//! The Chronicle YARA-L rules of `../shared` through the whole catalog: analyses, indicators,
//! event coverage, ATT&CK from `mitre_attack_url`, and the recall of the event coverage against
//! the `data_source` each rule states in its meta (the name -> provider table is the one in
//! `docs/conformance.md`, "YARA-L data_source recall").
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use detwiki_catalog::{Catalog, CatalogIndex, SourceEntry};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

/// The providers a `data_source` name stands for (lower-cased, trimmed). A name that is not here
/// names a product detwiki has no events for (CrowdStrike, SentinelOne, Zscaler, ...): it still
/// counts, as a miss.
const DATA_SOURCE_PROVIDERS: &[(&str, &[&str])] = &[
    ("sysmon", &["Sysmon"]),
    ("microsoft sysmon", &["Sysmon"]),
    ("sysmon windows registry", &["Sysmon"]),
    ("sysmon for linux", &["Sysmon"]),
    ("windows registry", &["Sysmon", "Security"]),
    ("microsoft windows events", &["Security", "System", "Service Control Manager", "PowerShell"]),
    ("windows event logs", &["Security", "System", "Service Control Manager", "PowerShell"]),
    ("windows event log", &["Security", "System", "Service Control Manager", "PowerShell"]),
    ("windows event", &["Security", "System", "Service Control Manager", "PowerShell"]),
    ("windows security events", &["Security"]),
    ("windows security event log", &["Security"]),
    ("windows system event log", &["System", "Service Control Manager"]),
    ("microsoft windows", &["Security", "System", "Service Control Manager", "PowerShell"]),
    ("microsoft login events", &["Security"]),
    (
        "microsoft defender atp",
        &[
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "DeviceFileEvents",
            "DeviceRegistryEvents",
            "DeviceEvents",
            "DeviceLogonEvents",
            "DeviceImageLoadEvents",
        ],
    ),
    (
        "microsoft defender xdr",
        &[
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "DeviceFileEvents",
            "DeviceRegistryEvents",
            "DeviceEvents",
            "DeviceLogonEvents",
            "DeviceImageLoadEvents",
        ],
    ),
    ("aws cloudtrail", &["AWS CloudTrail"]),
    ("aws guardduty", &["AWS GuardDuty"]),
    ("gcp cloud audit", &["GCP Audit Logs"]),
    ("cloud audit logs", &["GCP Audit Logs"]),
    ("okta", &["Okta System Log"]),
    ("github", &["GitHub audit log"]),
    ("workspace activity", &["Google Workspace"]),
    ("workspace alerts", &["Google Workspace"]),
    ("gmail", &["Google Workspace"]),
    ("chrome management", &["Google Workspace"]),
    ("o365", &["OfficeActivity"]),
    ("ms graph activity logs", &["MicrosoftGraphActivityLogs"]),
    ("azure ad", &["SigninLogs", "AuditLogs"]),
    ("azure ad audit", &["AuditLogs"]),
    ("azure activity", &["AzureActivity"]),
    ("onelogin", &["OneLogin"]),
    // Spellings seen in YARA-L rules outside the corpus.
    ("entra id", &["SigninLogs", "AuditLogs"]),
    ("entraid", &["SigninLogs", "AuditLogs"]),
    ("microsoft entra id", &["SigninLogs", "AuditLogs"]),
    ("azure active directory", &["SigninLogs", "AuditLogs"]),
    ("gcp", &["GCP Audit Logs"]),
    ("gcp audit logs", &["GCP Audit Logs"]),
    ("google cloud audit logs", &["GCP Audit Logs"]),
    ("office 365", &["OfficeActivity"]),
    ("microsoft 365", &["OfficeActivity"]),
    ("cloudtrail", &["AWS CloudTrail"]),
];

/// The providers of a `data_source` name: compared in lower case with `_` and `-` read as spaces.
fn providers_for(name: &str) -> &'static [&'static str] {
    let name = name.trim().to_lowercase().replace(['_', '-'], " ");
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    DATA_SOURCE_PROVIDERS.iter().find(|(known, _)| *known == name).map_or(&[], |(_, providers)| providers)
}

/// Recall of stated `data_source` names over the rules at `positions`: (rules stating one, rules whose
/// coverage names a provider of at least one, names, names recalled). Misses are printed.
fn data_source_recall(catalog: &Catalog, index: &CatalogIndex, positions: &[usize]) -> (usize, usize, usize, usize) {
    let (mut rules, mut recalled, mut names, mut names_recalled) = (0, 0, 0, 0);
    let mut misses: BTreeMap<String, usize> = BTreeMap::new();
    for position in positions {
        let entry = &catalog.rules[*position];
        let Some(declared) = entry.rule.metadata.extra.get("data_source").and_then(|value| value.as_str()) else {
            continue;
        };
        rules += 1;
        let providers: BTreeSet<&str> =
            index.facts[*position].coverage.iter().map(|row| row.provider.as_str()).collect();
        let mut any = false;
        for name in declared.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            names += 1;
            if providers_for(name).iter().any(|provider| providers.contains(provider)) {
                names_recalled += 1;
                any = true;
            } else {
                *misses.entry(name.to_lowercase()).or_default() += 1;
            }
        }
        if any {
            recalled += 1;
        } else {
            println!("missed: {} ({declared}) -> {providers:?}", entry.rule.provenance.path);
        }
    }
    println!(
        "data_source recall: rules {recalled}/{rules} ({:.1}%), names {names_recalled}/{names} ({:.1}%)",
        rate(recalled, rules),
        rate(names_recalled, names)
    );
    println!("names missed: {misses:?}");
    (rules, recalled, names, names_recalled)
}

fn rate(hit: usize, all: usize) -> f64 {
    100.0 * hit as f64 / all.max(1) as f64
}

/// YARA-L rules from elsewhere: the folder named by `DETWIKI_YARAL_HELD_OUT` (rules the team has not seen), else
/// the hand-written fixtures of `tasks/conformance/fixtures/yaral_held_out`. Every rule gets an analysis or a
/// located error, and the `data_source` recall holds.
#[test]
fn held_out_rules_analysed_and_data_sources_recalled() {
    let folder = std::env::var_os("DETWIKI_YARAL_HELD_OUT").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tasks/conformance/fixtures/yaral_held_out")
    });
    let read = detwiki_sources::read_paths_as(&[folder], &[detwiki_ir::Language::Yaral]);
    let catalog = Catalog::build(vec![(SourceEntry { info: read.info, context: read.context }, read.rules)], &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let yaral: Vec<usize> = (0..catalog.rules.len())
        .filter(|position| catalog.rules[*position].rule.family == detwiki_ir::Family::Yaral)
        .collect();
    assert!(!yaral.is_empty(), "no YARA-L rule read");
    for position in &yaral {
        let entry = &catalog.rules[*position];
        let located = entry.diagnostics().filter(|diagnostic| diagnostic.is_error()).all(|error| error.span.end > 0);
        assert!(
            !entry.analyses.is_empty() && located,
            "{}: no analysis or an unlocated error",
            entry.rule.provenance.path
        );
    }
    assert_eq!(catalog.panics(), 0);
    let (rules, recalled, ..) = data_source_recall(&catalog, &index, &yaral);
    assert!(rules > 0, "no rule states a data_source");
    assert!(rate(recalled, rules) >= 90.0);
}

#[test]
fn chronicle_rules_through_the_catalog() {
    let Some(shared) = shared() else { return };
    let read = common::manifest_source(&shared, "chronicle/detection-rules");
    // The SigmaHQ rules the converted rules name, so that their links resolve.
    let uuids: BTreeSet<String> = read
        .rules
        .iter()
        .filter_map(|rule| rule.metadata.extra.get("sigma_uuid").and_then(|value| value.as_str()))
        .map(str::to_owned)
        .collect();
    let mut originals = Vec::new();
    let mut stack = vec![shared.join("corpus/SigmaHQ__sigma/rules")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && text.lines().any(|line| line.strip_prefix("id: ").is_some_and(|id| uuids.contains(id.trim())))
            {
                originals.push(path);
            }
        }
    }
    originals.sort();
    let sigma = detwiki_sources::read_paths(&originals);
    let catalog = Catalog::build(
        vec![
            (SourceEntry { info: read.info, context: read.context }, read.rules),
            (SourceEntry { info: sigma.info, context: sigma.context }, sigma.rules),
        ],
        &|_| {},
    );
    let knowledge = Knowledge::bundled();
    let index = CatalogIndex::build(&catalog, knowledge);

    let yaral: Vec<usize> = (0..catalog.rules.len())
        .filter(|position| catalog.rules[*position].rule.family == detwiki_ir::Family::Yaral)
        .collect();
    assert_eq!(yaral.len(), 886);
    let analysed = yaral.iter().filter(|position| !catalog.rules[**position].analyses.is_empty()).count();
    let with_errors = yaral
        .iter()
        .filter(|position| catalog.rules[**position].diagnostics().any(detwiki_ir::Diagnostic::is_error))
        .count();
    let with_indicators = yaral.iter().filter(|position| !index.facts[**position].indicator_keys().is_empty()).count();
    let with_known_events =
        yaral.iter().filter(|position| index.facts[**position].coverage.iter().any(|row| row.known)).count();
    let with_techniques =
        yaral.iter().filter(|position| !index.facts[**position].attack.technique_ids.is_empty()).count();
    println!(
        "YARA-L rules {}: analysed {analysed}, with errors {with_errors}, with indicators {with_indicators}, with a known event {with_known_events}, with ATT&CK techniques {with_techniques}",
        yaral.len()
    );
    let converted: Vec<&detwiki_catalog::CatalogRule> = yaral
        .iter()
        .map(|position| &catalog.rules[*position])
        .filter(|entry| entry.rule.metadata.extra.contains_key("sigma_uuid"))
        .collect();
    let resolved = converted
        .iter()
        .filter(|entry| {
            entry
                .links
                .iter()
                .any(|link| link.kind == detwiki_catalog::LinkKind::ConvertedFrom && link.position.is_some())
        })
        .count();
    println!(
        "converted from Sigma: {} rules, {resolved} linked to their original ({} SigmaHQ files name them)",
        converted.len(),
        originals.len()
    );
    assert!(
        converted
            .iter()
            .all(|entry| entry.links.iter().any(|link| link.kind == detwiki_catalog::LinkKind::ConvertedFrom))
    );
    let sigma_ids: BTreeSet<&str> = catalog
        .rules
        .iter()
        .filter(|entry| entry.rule.family == detwiki_ir::Family::Sigma)
        .filter_map(|entry| entry.rule.metadata.rule_id.as_deref())
        .collect();
    let linkable = converted
        .iter()
        .filter(|entry| {
            entry.rule.metadata.extra["sigma_uuid"].as_str().is_some_and(|uuid| sigma_ids.contains(uuid.trim()))
        })
        .count();
    assert!(linkable > 0, "some originals are in SigmaHQ");
    assert_eq!(resolved, linkable, "every original in the catalog is linked");
    assert_eq!(analysed, 886);
    assert_eq!(with_errors, 0);
    assert!(with_indicators >= 800, "{with_indicators} rules with indicators");
    assert!(with_known_events >= 600, "{with_known_events} rules with a known event");

    // data_source recall: a rule is recalled when its coverage names a provider of one of the
    // data sources it states; every rule that states one counts.
    let (rules, recalled, ..) = data_source_recall(&catalog, &index, &yaral);
    assert_eq!(rules, 342, "rules stating a data_source");
    assert!(rate(recalled, rules) >= 90.0);
}
