//! The catalog facts of hand-built analyses: the seed rule of issue 5 (DeviceNetworkEvents joined
//! with DeviceProcessEvents), a Sigma rule and a KQL rule that look for the same process, and the
//! rules that must not give indicators or ATT&CK coverage.

use std::collections::BTreeMap;
use std::sync::Arc;

use detwiki_catalog::{
    Catalog, CatalogIndex, CatalogRule, IndicatorKey, QueryAnalysis, RuleView, TagNote, attack_section,
};
use detwiki_ir::{
    Analysis, BodyFormat, Dataset, DatasetRole, Expr, Family, FieldOrigin, Language, Metadata, Op, Predicate,
    Provenance, Rule, Span, Stage, TimeWindow, Transform, Value,
};
use detwiki_knowledge::{Fit, Knowledge};

fn predicate(field: &str, dataset: usize, op: Op, written: &str, values: &[&str]) -> Predicate {
    Predicate {
        field: field.to_owned(),
        dataset: Some(dataset),
        resolved_field: None,
        origin: FieldOrigin::Event,
        functions: Vec::new(),
        op,
        written_op: written.to_owned(),
        values: values.iter().map(|value| Value::string(*value)).collect(),
        case_sensitive: false,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span: Span::default(),
    }
}

fn time_filter(field: &str, dataset: usize, text: &str) -> Predicate {
    Predicate {
        op: Op::Gt,
        written_op: ">".to_owned(),
        values: vec![Value::Call { text: format!("ago({text})"), span: Span::default() }],
        case_sensitive: true,
        time_filter: true,
        ..predicate(field, dataset, Op::Gt, ">", &[])
    }
}

fn stage(kind: &str, dataset: usize, tree: Option<Expr>) -> Stage {
    Stage { dataset: Some(dataset), predicate: tree, ..Stage::new(kind, Span::default()) }
}

fn window(text: &str, seconds: u64) -> Option<TimeWindow> {
    Some(TimeWindow { text: text.to_owned(), seconds: Some(seconds), span: Span::default() })
}

/// The analysis the KQL engine gives for the seed rule (see the KQL crate's seed snapshot).
fn seed_analysis() -> Analysis {
    let mut network = Dataset::new("DeviceNetworkEvents", DatasetRole::Source, Span::default());
    network.time_window = window("1h", 3600);
    let mut process = Dataset::new("DeviceProcessEvents", DatasetRole::Join, Span::default());
    process.time_window = window("3d", 259_200);
    let mut command_line =
        predicate("InitiatingProcessCommandLine1", 1, Op::Match, "has_any", &["/y", "-y", "/z", "-z"]);
    command_line.resolved_field = Some("InitiatingProcessCommandLine".to_owned());
    Analysis {
        language: Some(Language::Kql),
        stages: vec![
            stage("source", 0, None),
            stage("where", 0, Some(Expr::Predicate(time_filter("TimeGenerated", 0, "1h")))),
            stage(
                "where",
                0,
                Some(Expr::Predicate(predicate("InitiatingProcessParentFileName", 0, Op::Eq, "=~", &["msiexec.exe"]))),
            ),
            stage(
                "join",
                1,
                Some(Expr::And {
                    items: vec![
                        Expr::Predicate(time_filter("Timestamp", 1, "3d")),
                        Expr::Predicate(predicate("InitiatingProcessFileName", 1, Op::Eq, "=~", &["msiexec.exe"])),
                    ],
                }),
            ),
            stage("where", 0, Some(Expr::Predicate(command_line))),
        ],
        datasets: vec![network, process],
        group_by: vec!["DeviceId".to_owned(), "InitiatingProcessParentId".to_owned()],
        ..Analysis::default()
    }
}

fn rule(id: &str, language: Language, tags: &[&str], analysis: Analysis) -> CatalogRule {
    let family = language.family().unwrap_or(Family::Kusto);
    CatalogRule {
        rule: Rule {
            id: id.to_owned(),
            family,
            format: if family == Family::Sigma { BodyFormat::SigmaYaml } else { BodyFormat::Markdown },
            provenance: Provenance { source: "test".to_owned(), path: format!("{id}.txt"), ..Provenance::default() },
            metadata: Metadata { tags: tags.iter().map(|tag| (*tag).to_owned()).collect(), ..Metadata::default() },
            body_span: Span::default(),
            queries: Vec::new(),
            diagnostics: Vec::new(),
            file_text: Arc::from(""),
        },
        analyses: vec![QueryAnalysis { query: 0, name: None, analysis }],
        panic: None,
        links: Vec::new(),
    }
}

/// A Sigma process-creation rule: `Image|endswith: '\msiexec.exe'` and a base64offset filter.
fn sigma_analysis() -> Analysis {
    let mut dataset = Dataset::new("windows/process_creation", DatasetRole::Source, Span::default());
    dataset.attributes = BTreeMap::from([
        ("product".to_owned(), "windows".to_owned()),
        ("category".to_owned(), "process_creation".to_owned()),
    ]);
    let mut image = predicate("Image", 0, Op::EndsWith, "|endswith", &["\\msiexec.exe"]);
    image.dataset = None;
    let mut encoded = predicate("CommandLine", 0, Op::Contains, "|base64offset|contains", &["http"]);
    encoded.transforms = vec![Transform { name: "base64offset".to_owned(), expansions: Vec::new() }];
    let mut plain = predicate("CommandLine", 0, Op::Contains, "|contains", &["HTTP"]);
    plain.dataset = None;
    let filter = predicate("ParentImage", 0, Op::EndsWith, "|endswith", &["\\explorer.exe"]);
    Analysis {
        language: Some(Language::Sigma),
        stages: vec![
            Stage {
                label: Some("selection".to_owned()),
                predicate: Some(Expr::And {
                    items: vec![Expr::Predicate(image), Expr::Predicate(encoded), Expr::Predicate(plain)],
                }),
                ..Stage::new("selection", Span::default())
            },
            Stage {
                label: Some("filter".to_owned()),
                negated: true,
                predicate: Some(Expr::Predicate(filter)),
                ..Stage::new("filter", Span::default())
            },
        ],
        datasets: vec![dataset],
        ..Analysis::default()
    }
}

/// A KQL rule: `DeviceProcessEvents | where FileName =~ "MsiExec.exe" and ProcessCommandLine !has "x"`.
fn kql_process_analysis() -> Analysis {
    let mut exclusion = predicate("ProcessCommandLine", 0, Op::Match, "!has", &["x"]);
    exclusion.negated = true;
    let mut computed = predicate("Extended", 0, Op::Eq, "==", &["y"]);
    computed.origin = FieldOrigin::Computed { definition: Span::default() };
    let mut variable = predicate("AccountName", 0, Op::In, "in", &[]);
    variable.values = vec![Value::Variable { name: "users".to_owned(), span: Span::default() }];
    Analysis {
        language: Some(Language::Kql),
        stages: vec![
            stage("source", 0, None),
            stage(
                "where",
                0,
                Some(Expr::And {
                    items: vec![
                        Expr::Predicate(predicate("FileName", 0, Op::Eq, "=~", &["MsiExec.exe"])),
                        Expr::Predicate(exclusion),
                        Expr::Predicate(computed),
                        Expr::Predicate(variable),
                    ],
                }),
            ),
        ],
        datasets: vec![Dataset::new("DeviceProcessEvents", DatasetRole::Source, Span::default())],
        ..Analysis::default()
    }
}

fn catalog() -> Catalog {
    Catalog {
        sources: Vec::new(),
        rules: vec![
            rule("test/kql", Language::Kql, &["T1218.007"], kql_process_analysis()),
            rule("test/seed", Language::Kql, &["attack.t1218.007", "attack.defense_evasion"], seed_analysis()),
            rule("test/sigma", Language::Sigma, &["attack.stealth", "attack.t1562.001"], sigma_analysis()),
        ],
    }
}

fn key(field: &str, kind: &str, value: &str) -> IndicatorKey {
    IndicatorKey { field: field.to_owned(), kind: kind.to_owned(), value: value.to_owned(), canonical: true }
}

fn view(catalog: &Catalog, index: &CatalogIndex, id: &str) -> RuleView {
    let position = catalog.rules.iter().position(|entry| entry.rule.id == id).expect("rule in catalog");
    RuleView::new(catalog, index, position).expect("view")
}

#[test]
fn seed_rule_attack_row() {
    let catalog = catalog();
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let seed = view(&catalog, &index, "test/seed");
    let rows: Vec<String> = seed
        .attack
        .rows
        .iter()
        .map(|row| {
            let techniques: Vec<String> = row.techniques.iter().map(|technique| technique.display()).collect();
            format!("{} | {}", row.tactic, techniques.join("; "))
        })
        .collect();
    assert_eq!(rows, ["Stealth | T1218.007 System Binary Proxy Execution: Msiexec"]);
    assert!(
        seed.attack
            .notes
            .iter()
            .any(|note| matches!(note, TagNote::LegacyTactic { tactic_id, .. } if tactic_id == "TA0005"))
    );
}

#[test]
fn seed_rule_event_coverage() {
    let catalog = catalog();
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let seed = view(&catalog, &index, "test/seed");
    let row = |dataset: &str, provider: &str, event: &str| {
        seed.event_coverage
            .iter()
            .find(|row| row.dataset == dataset && row.provider == provider && row.event == event)
            .unwrap_or_else(|| panic!("no row {dataset} {provider} {event}: {:#?}", seed.event_coverage))
    };
    let network = row("DeviceNetworkEvents", "DeviceNetworkEvents", "any");
    assert_eq!(network.fit, Fit::Full);
    assert_eq!(network.role, DatasetRole::Source);
    assert!(network.why.starts_with("DeviceNetworkEvents (source table)"), "{}", network.why);
    for (provider, event, correlate) in [("Sysmon", "3", "1"), ("Security", "5156", "4688")] {
        let partial = row("DeviceNetworkEvents", provider, event);
        match &partial.fit {
            Fit::Partial { missing, correlate_with: Some(hint) } => {
                assert_eq!(missing, &["parent_process_name"]);
                assert_eq!((hint.provider.as_str(), hint.event.as_str()), (provider, correlate));
            }
            other => panic!("{provider} {event}: {other:?}"),
        }
        assert!(partial.fit_text().starts_with("partial: no parent_process_name; correlate with"));
    }
    let process = row("DeviceProcessEvents", "DeviceProcessEvents", "any");
    assert_eq!(process.fit, Fit::Full);
    assert!(process.why.starts_with("DeviceProcessEvents (joined table)"), "{}", process.why);
    assert_eq!(process.fields_read, ["parent_process_command_line", "parent_process_name"]);
    assert_eq!(row("DeviceProcessEvents", "Sysmon", "1").fit, Fit::Full);
    match &row("DeviceProcessEvents", "Security", "4688").fit {
        Fit::Partial { missing, .. } => assert_eq!(missing, &["parent_process_command_line"]),
        other => panic!("Security 4688: {other:?}"),
    }
    assert!(seed.event_coverage.iter().all(|row| !row.why.is_empty()));
    // Time filters say nothing about which events fit.
    assert!(seed.event_coverage.iter().all(|row| !row.fields_read.iter().any(|field| field == "timestamp")));
}

#[test]
fn seed_rule_indicators_and_counts() {
    let catalog = catalog();
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let seed = view(&catalog, &index, "test/seed");
    let rows: Vec<String> =
        seed.indicators.iter().map(|row| format!("{} {} {}", row.field, row.kind, row.value)).collect();
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
    let parent = &seed.indicators[0];
    let sources: Vec<String> = parent.sources.iter().map(|source| source.text()).collect();
    assert_eq!(
        sources,
        ["InitiatingProcessParentFileName on DeviceNetworkEvents", "InitiatingProcessFileName on DeviceProcessEvents"]
    );
    let command_line = &seed.indicators[1];
    assert_eq!(command_line.sources.len(), 1);
    assert_eq!(command_line.sources[0].dataset.as_deref(), Some("DeviceProcessEvents"));
    assert_eq!(command_line.sources[0].resolved_field.as_deref(), Some("InitiatingProcessCommandLine"));
    assert_eq!(command_line.corpus.rules, 1);
    assert_eq!(command_line.corpus.text(), "1 (kusto 1)");
    assert!(seed.indicators.iter().all(|row| !row.sources.iter().any(|source| source.raw_field.contains("Time"))));
    assert_eq!(seed.time_windows.lookbacks.iter().map(|window| window.text.as_str()).collect::<Vec<_>>(), ["1h", "3d"]);
    assert!(seed.time_windows.correlation.is_empty());
}

#[test]
fn sigma_and_kql_count_towards_the_same_indicator() {
    let catalog = catalog();
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let process_name = key("process_name", "eq", "msiexec.exe");
    assert_eq!(index.indicators.get(&process_name).cloned().unwrap_or_default(), [0, 2]);
    let count = index.indicator_count(&process_name);
    assert_eq!(count.rules, 2);
    assert_eq!(count.by_family, BTreeMap::from([("kusto", 1), ("sigma", 1)]));

    let sigma = view(&catalog, &index, "test/sigma");
    let first = &sigma.indicators[0];
    assert_eq!(
        (first.field.as_str(), first.kind.as_str(), first.value.as_str()),
        ("process_name", "eq", "msiexec.exe")
    );
    assert_eq!(first.sources[0].raw_field, "Image");
    assert_eq!(first.sources[0].raw_value, "\\msiexec.exe");
    assert!(first.sources[0].note.is_some());
    assert_eq!(first.corpus.text(), "2 (kusto 1, sigma 1)");
    // A base64offset contains is not a plain contains; case folded only where the operator ignores
    // case, and only for matching: the row shows the rule's spelling.
    let kinds: Vec<(&str, &str, &str)> =
        sigma.indicators.iter().map(|row| (row.kind.as_str(), row.match_value.as_str(), row.value.as_str())).collect();
    assert_eq!(
        kinds,
        [("eq", "msiexec.exe", "msiexec.exe"), ("contains|base64offset", "http", "http"), ("contains", "http", "HTTP")]
    );
    // The filter is an exclusion, not an indicator.
    assert!(sigma.indicators.iter().all(|row| row.field != "parent_process_name"));
    assert_eq!(sigma.exclusions.len(), 1);
    assert!(sigma.exclusions[0].condition.contains("explorer.exe"), "{:?}", sigma.exclusions);
    // The Sigma rule's coverage includes Sysmon 1 and the Defender table.
    assert!(sigma.event_coverage.iter().any(|row| row.provider == "Sysmon" && row.event == "1"));

    let kql = view(&catalog, &index, "test/kql");
    let rows: Vec<String> = kql
        .indicators
        .iter()
        .map(|row| format!("{} {} {} [{}]", row.field, row.kind, row.match_value, row.value))
        .collect();
    // Computed columns, variables and negated predicates are not indicators; the value keeps the
    // rule's spelling.
    assert_eq!(rows, ["process_name eq msiexec.exe [MsiExec.exe]"]);
    assert_eq!(kql.exclusions.len(), 1);
    // `!has "x"` is excluded when the positive condition holds.
    assert_eq!(kql.exclusions[0].condition, "ProcessCommandLine match \"x\"");
}

#[test]
fn revoked_and_unknown_tags_are_listed() {
    let attack = Knowledge::bundled().attack();
    let tags = ["attack.t1562.001", "attack.t9999", "attack.stealth", "attack.g0016"].map(str::to_owned);
    let section = attack_section(attack, &tags);
    let notes: Vec<String> = section.notes.iter().map(TagNote::text).collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("replaced by T1685"), "{notes:?}");
    assert!(notes[1].contains("unknown ATT&CK ID T9999"), "{notes:?}");
    assert_eq!(section.technique_ids, ["T1685"]);
    // A v19 tactic tag alone still gives its row.
    let section = attack_section(attack, &["attack.stealth".to_owned()]);
    assert_eq!(section.rows.len(), 1);
    assert_eq!(section.rows[0].tactic, "Stealth");
    assert!(section.rows[0].techniques.is_empty());
}

#[test]
fn vendor_alert_rules_are_flagged_and_left_out_of_attack_coverage() {
    let alerts = Analysis {
        language: Some(Language::Kql),
        stages: vec![stage("source", 0, None)],
        datasets: vec![
            Dataset::new("AlertInfo", DatasetRole::Source, Span::default()),
            Dataset::new("AlertEvidence", DatasetRole::Join, Span::default()),
        ],
        ..Analysis::default()
    };
    let catalog = Catalog {
        sources: Vec::new(),
        rules: vec![
            rule("test/alerts", Language::Kql, &["T1218.007"], alerts),
            rule("test/seed", Language::Kql, &["T1218.007"], seed_analysis()),
        ],
    };
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    assert!(index.facts[0].vendor_alerts.as_deref().is_some_and(|reason| reason.contains("AlertInfo")));
    assert_eq!(index.facts[1].vendor_alerts, None);
    assert_eq!(index.vendor_alert_rules, [0]);
    assert_eq!(index.techniques.get("T1218.007").cloned().unwrap_or_default(), [1]);
}

#[test]
fn views_serialize_deterministically() {
    let catalog = catalog();
    let first = CatalogIndex::build(&catalog, Knowledge::bundled());
    let second = CatalogIndex::build(&catalog, Knowledge::bundled());
    for position in 0..catalog.rules.len() {
        let left = serde_json::to_string(&RuleView::new(&catalog, &first, position)).unwrap_or_default();
        let right = serde_json::to_string(&RuleView::new(&catalog, &second, position)).unwrap_or_default();
        assert_eq!(left, right);
        assert!(left.contains("\"event_coverage\""));
    }
    assert!(RuleView::new(&catalog, &first, 99).is_none());
}

fn single_stage(dataset: Dataset, tree: Expr) -> Analysis {
    Analysis {
        language: Some(Language::Kql),
        stages: vec![stage("where", 0, Some(tree))],
        datasets: vec![dataset],
        ..Analysis::default()
    }
}

#[test]
fn action_type_filters_narrow_the_coverage_only_when_they_hold_for_the_stage() {
    let network = || Dataset::new("DeviceNetworkEvents", DatasetRole::Source, Span::default());
    let action = || Expr::Predicate(predicate("ActionType", 0, Op::Eq, "==", &["ConnectionSuccess"]));
    let port = || Expr::Predicate(predicate("RemotePort", 0, Op::Eq, "==", &["445"]));
    let narrowed = single_stage(network(), Expr::And { items: vec![action(), port()] });
    let loose = single_stage(network(), Expr::Or { items: vec![action(), port()] });
    let catalog = Catalog {
        sources: Vec::new(),
        rules: vec![rule("test/narrowed", Language::Kql, &[], narrowed), rule("test/loose", Language::Kql, &[], loose)],
    };
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let events = |position: usize| -> Vec<String> {
        index.facts[position]
            .coverage
            .iter()
            .filter(|row| row.provider == "DeviceNetworkEvents")
            .map(|row| row.event.clone())
            .collect()
    };
    assert_eq!(events(0), ["ConnectionSuccess"]);
    assert_eq!(index.facts[0].coverage[0].narrowed_by, ["ActionType == ConnectionSuccess"]);
    assert!(index.facts[0].coverage[0].why.contains("ConnectionSuccess"), "{}", index.facts[0].coverage[0].why);
    // `ActionType == X or RemotePort == 445` also matches other ActionTypes: no narrowing.
    assert_eq!(events(1), ["any"]);
    assert!(index.facts[1].coverage.iter().all(|row| row.narrowed_by.is_empty()));
}

#[test]
fn wildcards_transforms_and_case() {
    let process = || Dataset::new("DeviceProcessEvents", DatasetRole::Source, Span::default());
    let mut glob = predicate("ProcessCommandLine", 0, Op::Wildcard, "matches regex", &["*Invoke-Mimikatz*"]);
    glob.case_sensitive = false;
    let mut complex = predicate("ProcessCommandLine", 0, Op::Wildcard, "like", &["a*b"]);
    complex.case_sensitive = true;
    let mut sensitive = predicate("FileName", 0, Op::Eq, "==", &["MsiExec.exe"]);
    sensitive.case_sensitive = true;
    let mut windash = predicate("ProcessCommandLine", 0, Op::Contains, "|windash|contains", &[" -enc "]);
    windash.transforms = vec![Transform { name: "windash".to_owned(), expansions: Vec::new() }];
    let mut regex = predicate("ProcessCommandLine", 0, Op::RegexMatch, "matches regex", &[]);
    regex.values = vec![Value::Regex { pattern: "\\D+X".to_owned(), flags: String::new() }];
    let tree =
        Expr::And { items: [glob, complex, sensitive, windash, regex].into_iter().map(Expr::Predicate).collect() };
    let catalog =
        Catalog { sources: Vec::new(), rules: vec![rule("test/w", Language::Kql, &[], single_stage(process(), tree))] };
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let rows: Vec<String> = index.facts[0].indicators.iter().map(|occurrence| occurrence.key.to_string()).collect();
    assert_eq!(
        rows,
        [
            "process_command_line contains invoke-mimikatz",
            "process_command_line wildcard a*b",
            "process_name eq MsiExec.exe",
            "process_command_line contains|windash  -enc ",
            "process_command_line regex_match \\D+X",
        ]
    );
}
