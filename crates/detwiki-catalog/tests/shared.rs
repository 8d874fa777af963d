//! End-to-end checks on the shared corpora: the seed rule's catalog facts from its real file, a
//! real Sigma rule and the seed counting towards the same canonical indicator, and event-coverage
//! recall against FalconFriday's "Utilized Data Sources" tables.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, IndicatorKey, RuleView, SourceEntry};
use detwiki_ir::{DeclaredDataSource, Rule};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

/// Reads the named sources of the corpus manifest.
fn read_corpus(shared: &Path, names: &[&str]) -> Vec<(SourceEntry, Vec<Rule>)> {
    let specs = detwiki_sources::load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("manifest");
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-catalog-test-cache") };
    specs
        .iter()
        .filter(|spec| names.contains(&detwiki_sources::source_name(spec).as_str()))
        .map(|spec| {
            let read = detwiki_sources::read_source(spec, &options, &|_| {}).expect("source reads");
            (SourceEntry { info: read.info, context: read.context }, read.rules)
        })
        .collect()
}

/// Sigma process-creation rules of SigmaHQ that select `Image|endswith: '\msiexec.exe'`.
fn sigma_msiexec_rules(shared: &Path) -> (SourceEntry, Vec<Rule>) {
    let folder = shared.join("corpus/SigmaHQ__sigma/rules/windows/process_creation");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    paths.retain(|path| {
        std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines().any(|line| line.trim() == "Image|endswith: '\\msiexec.exe'")
                && !text.contains("OriginalFileName")
        })
    });
    paths.sort();
    let read = detwiki_sources::read_paths(&paths);
    (SourceEntry { info: read.info, context: read.context }, read.rules)
}

const SEED_PATH: &str = "Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md";

#[test]
fn seed_rule_from_its_file() {
    let Some(shared) = shared() else { return };
    let mut sources = read_corpus(
        &shared,
        &["HybridBrothers/Hunting-Queries-Detection-Rules", "microsoft/Microsoft-365-Defender-Hunting-Queries"],
    );
    let sigma = sigma_msiexec_rules(&shared);
    assert!(!sigma.1.is_empty(), "no SigmaHQ rule with Image|endswith '\\msiexec.exe'");
    sources.push(sigma);
    let catalog = Catalog::build(sources, &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let position = catalog
        .rules
        .iter()
        .position(|entry| entry.rule.provenance.path == SEED_PATH)
        .expect("the seed rule is in the catalog");
    let view = RuleView::new(&catalog, &index, position).expect("view");

    let attack: Vec<String> = view
        .attack
        .rows
        .iter()
        .flat_map(|row| row.techniques.iter().map(move |technique| format!("{} | {}", row.tactic, technique.display())))
        .collect();
    assert_eq!(attack, ["Stealth | T1218.007 System Binary Proxy Execution: Msiexec"]);

    let fit = |dataset: &str, provider: &str, event: &str| {
        view.event_coverage
            .iter()
            .find(|row| row.dataset == dataset && row.provider == provider && row.event == event)
            .map(|row| row.fit_text())
            .unwrap_or_else(|| format!("missing row: {:#?}", view.event_coverage))
    };
    assert_eq!(fit("DeviceNetworkEvents", "DeviceNetworkEvents", "any"), "full");
    // The join on the parent's id and creation time needs those fields too (join keys count in fit).
    assert!(fit("DeviceNetworkEvents", "Sysmon", "3").starts_with(
        "partial: no parent_process_creation_time, no parent_process_id, no parent_process_name; correlate with Sysmon 1"
    ));
    let security = fit("DeviceNetworkEvents", "Security", "5156");
    assert!(security.starts_with("partial: no parent_process_creation_time"), "{security}");
    assert!(security.contains("no parent_process_name; correlate with Security 4688"), "{security}");
    assert_eq!(fit("DeviceProcessEvents", "DeviceProcessEvents", "any"), "full");
    // Sysmon 1 has no parent creation time, which the join's key needs.
    assert_eq!(fit("DeviceProcessEvents", "Sysmon", "1"), "partial: no parent_process_creation_time");
    let security = fit("DeviceProcessEvents", "Security", "4688");
    assert!(security.contains("no parent_process_command_line"), "{security}");

    let rows: Vec<String> =
        view.indicators.iter().map(|row| format!("{} {} {}", row.field, row.kind, row.value)).collect();
    assert_eq!(
        rows,
        [
            "parent_process_name eq msiexec.exe",
            "parent_process_command_line match /y",
            "parent_process_command_line match -y",
            "parent_process_command_line match /z",
            "parent_process_command_line match -z",
        ]
    );
    let datasets: Vec<Option<&str>> =
        view.indicators[0].sources.iter().map(|source| source.dataset.as_deref()).collect();
    assert_eq!(datasets, [Some("DeviceNetworkEvents"), Some("DeviceProcessEvents")]);
    assert!(
        view.indicators[1..]
            .iter()
            .all(|row| row.sources.iter().all(|source| source.dataset.as_deref() == Some("DeviceProcessEvents")))
    );
    assert!(view.indicators.iter().all(|row| {
        row.sources.iter().all(|source| !matches!(source.raw_field.as_str(), "TimeGenerated" | "Timestamp"))
    }));
    println!(
        "seed indicator counts: {}",
        view.indicators
            .iter()
            .map(|row| format!("{} {} {} = {}", row.field, row.kind, row.value, row.corpus.text()))
            .collect::<Vec<_>>()
            .join("; ")
    );

    // The Sigma rules' `Image|endswith: '\msiexec.exe'` is the same indicator as the KQL
    // `FileName =~ "msiexec.exe"` of Hunting-Queries rules.
    let key = IndicatorKey {
        field: "process_name".to_owned(),
        kind: "eq".to_owned(),
        value: "msiexec.exe".to_owned(),
        canonical: true,
    };
    let count = index.indicator_count(&key);
    println!("process_name eq msiexec.exe: {}", count.text());
    assert!(count.by_family.get("sigma").copied().unwrap_or(0) >= 1, "{count:?}");
    assert!(count.by_family.get("kusto").copied().unwrap_or(0) >= 1, "{count:?}");
    let positions = index.indicators.get(&key).cloned().unwrap_or_default();
    let paths: Vec<&str> = positions
        .iter()
        .filter_map(|position| catalog.rules.get(*position))
        .map(|entry| entry.rule.provenance.path.as_str())
        .collect();
    assert!(paths.contains(&"Privilege escalation/detect-cve-2019-0973-installerbypass-exploit.md"), "{paths:?}");
    assert!(paths.iter().any(|path| path.ends_with(".yml")), "{paths:?}");
}

/// Defender XDR tables are their own providers in the event catalog.
fn is_defender_table(knowledge: &Knowledge, table: &str) -> bool {
    knowledge.events().provider(table).is_some_and(|provider| provider.product == "Microsoft Defender XDR")
}

/// One counted row of an author-declared table, with whether the catalog's coverage matches it.
struct RecallRow {
    rule: String,
    declared: String,
    matched: bool,
    found: String,
}

fn recall_rows(catalog: &Catalog, index: &CatalogIndex, knowledge: &Knowledge) -> Vec<RecallRow> {
    let mut rows = Vec::new();
    for (position, entry) in catalog.rules.iter().enumerate() {
        let Some(facts) = index.facts.get(position) else { continue };
        for declared in &entry.rule.metadata.data_sources {
            let DeclaredDataSource { table: Some(table), event, .. } = declared else { continue };
            let table = table.trim();
            let event = event.as_deref().map(str::trim).filter(|event| !event.is_empty());
            let matched = if is_defender_table(knowledge, table) {
                facts.coverage.iter().any(|row| {
                    row.provider.eq_ignore_ascii_case(table)
                        && match event {
                            Some(event) => row.event.eq_ignore_ascii_case(event) || row.event == "any",
                            None => true,
                        }
                })
            } else if table.eq_ignore_ascii_case("SecurityEvent")
                && event.is_some_and(|event| event.parse::<u32>().is_ok())
            {
                facts.coverage.iter().any(|row| row.provider == "Security" && Some(row.event.as_str()) == event)
            } else {
                continue;
            };
            let mut found: Vec<String> =
                facts.coverage.iter().map(|row| format!("{} {}", row.provider, row.event)).collect();
            found.dedup();
            rows.push(RecallRow {
                rule: entry.rule.provenance.path.clone(),
                declared: format!("{table} {}", event.unwrap_or("(no event)")),
                matched,
                found: if found.is_empty() { "no coverage row".to_owned() } else { found.join(", ") },
            });
        }
    }
    rows
}

/// FalconFriday's authors declare the tables and events each rule uses; the catalog's event
/// coverage should find them.
#[test]
fn falconfriday_event_coverage_recall() {
    let Some(shared) = shared() else { return };
    let sources = read_corpus(&shared, &["FalconForceTeam/FalconFriday"]);
    let catalog = Catalog::build(sources, &|_| {});
    let knowledge = Knowledge::bundled();
    let index = CatalogIndex::build(&catalog, knowledge);
    let rows = recall_rows(&catalog, &index, knowledge);
    let matched = rows.iter().filter(|row| row.matched).count();
    let defender = rows.iter().filter(|row| !row.declared.starts_with("SecurityEvent")).count();
    let percent = if rows.is_empty() { 0.0 } else { matched as f64 * 100.0 / rows.len() as f64 };
    println!("## Event coverage recall (FalconFriday)\n");
    println!(
        "Counted rows: {} ({defender} Defender XDR table rows, {} SecurityEvent rows with an event ID). Matched: {matched}/{} ({percent:.1}%).\n",
        rows.len(),
        rows.len() - defender,
        rows.len()
    );
    for row in rows.iter().filter(|row| !row.matched) {
        println!("- `{}`: declared {}; coverage has {}", row.rule, row.declared, row.found);
    }
    assert!(rows.len() >= 60, "only {} counted rows", rows.len());
    assert!(percent >= 90.0, "recall {percent:.1}% below 90%");
    // Every counted rule reads at least one dataset: no rule is silently without coverage.
    assert!(index.facts.iter().zip(&catalog.rules).all(|(facts, entry)| entry.analyses.is_empty()
        || entry.analyses.iter().all(|query| query.analysis.datasets.is_empty())
        || !facts.coverage.is_empty()));
}
