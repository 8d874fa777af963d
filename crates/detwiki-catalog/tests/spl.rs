//! Splunk security_content end to end: every detection analysed (or with a located
//! diagnostic), Splunk rules counted on shared indicator pages, macro-expanded datasets on their
//! events, and event-coverage recall against each detection's declared `data_source`.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use detwiki_catalog::{Catalog, CatalogIndex, IndicatorKey, analysis_coverage, analysis_indicators};
use detwiki_ir::{Family, Language};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

/// The Splunk source, read and analysed once for every test of this file.
fn catalog() -> Option<&'static Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let shared = shared()?;
            let read = common::manifest_source(&shared, "splunk/security_content");
            let entry = detwiki_catalog::SourceEntry { info: read.info, context: read.context };
            Some(Catalog::build(vec![(entry, read.rules)], &|_| {}))
        })
        .as_ref()
}

#[test]
fn every_detection_is_analysed() {
    let Some(catalog) = catalog() else { return };
    let spl: Vec<_> = catalog
        .rules
        .iter()
        .filter(|entry| entry.rule.queries.iter().any(|query| query.language == Language::Spl))
        .collect();
    assert!(spl.len() >= 1711, "{} Splunk rules", spl.len());
    let panics = spl.iter().filter(|entry| entry.panic.is_some()).count();
    assert_eq!(panics, 0);
    let with_stages =
        spl.iter().filter(|entry| entry.analyses.iter().any(|analysis| !analysis.analysis.stages.is_empty())).count();
    let with_errors = spl.iter().filter(|entry| entry.has_errors()).count();
    println!("splunk rules {}, with stages {with_stages}, with errors {with_errors}", spl.len());
    for entry in spl.iter().filter(|entry| entry.has_errors()).take(20) {
        let first = entry.diagnostics().find(|diagnostic| diagnostic.is_error()).expect("error");
        println!("  {}: {} at {:?}", entry.rule.provenance.path, first.message, first.span);
    }
    // Every rule has an analysis with stages, or a diagnostic located in its file.
    for entry in &spl {
        let analysed = entry.analyses.iter().any(|analysis| !analysis.analysis.stages.is_empty());
        let located = entry.diagnostics().any(|diagnostic| diagnostic.span.end as usize <= entry.rule.file_text.len());
        assert!(analysed || located, "{} has neither stages nor a located diagnostic", entry.rule.provenance.path);
    }
    assert_eq!(with_stages, spl.len());
}

#[test]
fn splunk_rules_count_on_shared_indicator_pages() {
    let Some(catalog) = catalog() else { return };
    let knowledge = Knowledge::bundled();
    let index = CatalogIndex::build(catalog, knowledge);
    let key = |value: &str| IndicatorKey {
        field: "process_name".to_owned(),
        kind: "eq".to_owned(),
        value: value.to_owned(),
        canonical: true,
    };
    let mut counts = BTreeMap::new();
    for value in ["net.exe", "msiexec.exe"] {
        let count = index.indicator_count(&key(value)).rules as usize;
        println!("process_name eq {value}: {count} Splunk rules");
        counts.insert(value, count);
    }
    assert!(counts["net.exe"] >= 20, "{counts:?}");
    assert!(counts["msiexec.exe"] >= 5, "{counts:?}");
}

#[test]
fn macro_expanded_system_search_is_on_system_7045() {
    let Some(catalog) = catalog() else { return };
    let knowledge = Knowledge::bundled();
    let entry = catalog
        .rules
        .iter()
        .find(|entry| entry.rule.provenance.path.ends_with("windows_service_created_with_suspicious_service_path.yml"))
        .expect("the 7045 detection");
    let analysis = &entry.analyses[0].analysis;
    let rows = analysis_coverage(knowledge, Family::Splunk, 0, analysis);
    assert!(
        rows.iter().any(|row| row.provider == "Service Control Manager" && row.event == "7045"),
        "{:#?}",
        rows.iter().map(|row| format!("{} {} {}", row.dataset, row.provider, row.event)).collect::<Vec<_>>()
    );
    let indicators = analysis_indicators(knowledge, Family::Splunk, 0, analysis);
    assert!(indicators.iter().any(|occurrence| occurrence.raw_value == "*.exe" || occurrence.raw_value == ".exe"));
}

/// The fixed table from a `data_source` name to the event it stands for (`docs/conformance.md`,
/// "SPL data_source recall"): (name, provider, event). `any` means any event of the provider.
const DATA_SOURCE_EVENTS: &[(&str, &str, &str)] = &[
    ("Sysmon EventID 1", "Sysmon", "1"),
    ("Windows Event Log Security 4688", "Security", "4688"),
    ("CrowdStrike ProcessRollup2", "CrowdStrike", "ProcessRollup2"),
    ("Sysmon EventID 13", "Sysmon", "13"),
    ("Sysmon EventID 12", "Sysmon", "12"),
    ("Powershell Script Block Logging 4104", "PowerShell", "4104"),
    ("Sysmon for Linux EventID 1", "Sysmon for Linux", "1"),
    ("Sysmon EventID 11", "Sysmon", "11"),
    ("AWS CloudTrail", "AWS CloudTrail", "any"),
    ("Sysmon EventID 7", "Sysmon", "7"),
    ("Suricata", "Suricata", "any"),
    ("Okta", "Okta System Log", "any"),
    ("Linux Auditd Execve", "auditd", "EXECVE"),
    ("Sysmon EventID 3", "Sysmon", "3"),
    ("Sysmon for Linux EventID 11", "Sysmon for Linux", "11"),
    ("Windows Security 5136", "Security", "5136"),
    ("Kubernetes Audit", "Kubernetes audit", "any"),
    ("Azure Active Directory", "Azure Active Directory", "any"),
    ("Sysmon EventID 22", "Sysmon", "22"),
    ("Windows Event Log Security 4663", "Security", "4663"),
    ("Sysmon EventID 10", "Sysmon", "10"),
    ("O365 Universal Audit Log", "O365 Universal Audit Log", "any"),
    ("Nginx Access", "Nginx", "any"),
    ("Linux Auditd Proctitle", "auditd", "PROCTITLE"),
    ("Windows Event Log System 7045", "Service Control Manager", "7045"),
    ("Linux Auditd Syscall", "auditd", "SYSCALL"),
    ("Windows Event Log Security 4768", "Security", "4768"),
];

/// The `data_source` names of a detection, compound names split on ` AND `.
fn declared_data_sources(rule: &detwiki_ir::Rule) -> Vec<String> {
    let Some(serde_json::Value::Array(items)) = rule.metadata.extra.get("data_source") else { return Vec::new() };
    items
        .iter()
        .filter_map(serde_json::Value::as_str)
        .flat_map(|name| name.split(" AND ").map(|part| part.trim().to_owned()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn event_coverage_recall_against_data_source() {
    let Some(catalog) = catalog() else { return };
    let knowledge = Knowledge::bundled();
    let mut per_name: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for entry in &catalog.rules {
        let path = &entry.rule.provenance.path;
        if path.contains("/deprecated/") || path.starts_with("detections/deprecated") {
            continue;
        }
        let rows: Vec<_> = entry
            .analyses
            .iter()
            .enumerate()
            .flat_map(|(index, analysis)| analysis_coverage(knowledge, Family::Splunk, index, &analysis.analysis))
            .collect();
        for name in declared_data_sources(&entry.rule) {
            let Some((name, provider, event)) = DATA_SOURCE_EVENTS.iter().find(|(known, _, _)| *known == name) else {
                continue;
            };
            let counts = per_name.entry(name).or_default();
            counts.1 += 1;
            let found = rows.iter().any(|row| {
                row.provider.eq_ignore_ascii_case(provider)
                    && (*event == "any" || row.event.eq_ignore_ascii_case(event))
            });
            if found {
                counts.0 += 1;
            } else {
                let seen: Vec<String> = rows.iter().map(|row| format!("{}:{}", row.provider, row.event)).collect();
                misses.entry(name).or_default().push(format!("{path} -> {}", seen.join(", ")));
            }
        }
    }
    let (hits, total) = per_name.values().fold((0, 0), |(hits, total), (h, t)| (hits + h, total + t));
    println!("| data_source | pairs | covered | recall |\n|---|---:|---:|---:|");
    for (name, _, _) in DATA_SOURCE_EVENTS {
        let (hit, all) = per_name.get(name).copied().unwrap_or_default();
        let recall = if all == 0 { 0.0 } else { 100.0 * hit as f64 / all as f64 };
        println!("| {name} | {all} | {hit} | {recall:.1}% |");
    }
    println!("| **all** | {total} | {hits} | {:.1}% |", 100.0 * hits as f64 / total as f64);
    for (name, list) in &misses {
        println!("misses for {name}: {}", list.len());
        for miss in list.iter().take(4) {
            println!("    {miss}");
        }
    }
    assert!(hits * 100 >= total * 90, "recall {hits}/{total} is below 90%");
}

/// The lines the answer key compares for one analysis (see `spl_answer_key/README.md`).
fn answer_lines(analysis: &detwiki_ir::Analysis) -> Vec<String> {
    use detwiki_ir::{Expr, FieldOrigin};
    fn walk(expr: &Expr, negated: bool, out: &mut Vec<String>) {
        match expr {
            Expr::And { items } | Expr::Or { items } => items.iter().for_each(|item| walk(item, negated, out)),
            Expr::Not { item } => walk(item, !negated, out),
            Expr::Opaque { .. } => {}
            Expr::Predicate(predicate) => {
                if predicate.time_filter {
                    return;
                }
                let not = if negated || predicate.negated { "not " } else { "" };
                let origin = match predicate.origin {
                    FieldOrigin::Computed { .. } => " (computed)",
                    FieldOrigin::Aggregate { .. } => " (aggregate)",
                    _ => "",
                };
                let head = format!("{not}{}{origin} {}", predicate.field, predicate.op.as_str());
                if predicate.values.is_empty() {
                    out.push(head.clone());
                }
                for value in &predicate.values {
                    out.push(format!("{head} {}", value.literal_text().unwrap_or_default()));
                }
            }
        }
    }
    let mut lines: Vec<String> = analysis
        .datasets
        .iter()
        .map(|dataset| {
            format!(
                "dataset {} {}",
                dataset.name,
                serde_json::to_value(dataset.role).unwrap_or_default().as_str().unwrap_or("")
            )
        })
        .collect();
    for stage in &analysis.stages {
        stage.predicate.iter().chain(stage.thresholds.iter()).for_each(|tree| walk(tree, stage.negated, &mut lines));
    }
    lines.sort();
    lines
}

#[test]
fn answer_key() {
    let Some(catalog) = catalog() else { return };
    let key = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spl_answer_key/key.txt"))
        .expect("answer key");
    let mut agree = 0;
    let mut total = 0;
    for block in key.split("== ").filter(|block| !block.trim().is_empty()) {
        let mut lines = block.lines();
        let path = lines.next().unwrap_or_default().trim();
        let mut expected: Vec<String> =
            lines.map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect();
        expected.sort();
        let entry = catalog.rules.iter().find(|entry| entry.rule.provenance.path == path).expect(path);
        // Key lines are trimmed when read, so values with edge spaces are compared trimmed on both sides.
        let mut actual: Vec<String> =
            answer_lines(&entry.analyses[0].analysis).iter().map(|line| line.trim().to_owned()).collect();
        actual.sort();
        total += 1;
        if actual == expected {
            agree += 1;
        } else {
            println!("answer key disagrees on {path}\n  expected: {expected:#?}\n  actual:   {actual:#?}");
        }
    }
    println!("answer key: {agree}/{total} searches agree");
    assert!(total >= 60, "the issue asks for at least 60 hand-checked searches, the key has {total}");
    assert_eq!(agree, total, "every search of the answer key should agree");
}

/// `Channel=`, `LogName=` and `source=XmlWinEventLog:<channel>` written in a search (not only in a
/// macro) name the Windows log it reads: with `EventCode` they narrow the dataset to that event.
/// Needs no shared folder.
#[test]
fn channel_logname_and_source_narrow_the_events() {
    let knowledge = Knowledge::bundled();
    let cases = [
        (r#"index=main source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1"#, "Sysmon", "1"),
        ("index=wineventlog sourcetype=XmlWinEventLog Channel=Security EventCode=4688", "Security", "4688"),
        ("index=wineventlog LogName=System EventCode=7045", "Service Control Manager", "7045"),
        ("sourcetype=WinEventLog:Security EventCode=4625", "Security", "4625"),
        (
            r#"index=win (Channel="Microsoft-Windows-PowerShell/Operational" OR LogName="Microsoft-Windows-PowerShell/Operational") EventCode=4104"#,
            "PowerShell",
            "4104",
        ),
    ];
    for (search, provider, event) in cases {
        let analysis = detwiki_spl::analyze(search, &BTreeMap::new());
        let rows = analysis_coverage(knowledge, Family::Splunk, 0, &analysis);
        let seen: Vec<String> = rows.iter().map(|row| format!("{}:{}", row.provider, row.event)).collect();
        assert_eq!(seen, [format!("{provider}:{event}")], "{search}");
        // The log selectors are the dataset's attributes, not filters on the events.
        let filters_on_log = analysis.stages.iter().filter_map(|stage| stage.predicate.as_ref()).any(|tree| {
            let mut found = false;
            tree.for_each_predicate(&mut |predicate, _| {
                found |= ["channel", "logname"].contains(&predicate.field.to_ascii_lowercase().as_str())
            });
            found
        });
        assert!(!filters_on_log, "{search}");
    }
}
