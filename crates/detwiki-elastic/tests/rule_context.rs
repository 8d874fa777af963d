//! What a rule's `index` patterns make of the datasets of its query: an EQL event category or an
//! `event.category` filter narrows the indexes (it is no dataset of its own), and several
//! patterns (or an ES|QL `FROM a, b`) are one union of indexes, so any one of them can serve the
//! rule (`detwiki coverage --telemetry`).

use detwiki_elastic::{ElasticQuery, QueryRole, RuleContext, analyze};
use detwiki_ir::{Analysis, Language};

fn analysis(language: Language, text: &str, index: &[&str]) -> Analysis {
    let context =
        RuleContext { index: index.iter().map(|pattern| (*pattern).to_owned()).collect(), ..RuleContext::default() };
    analyze(&ElasticQuery { language, text, role: QueryRole::Main, context: &context }).expect("an engine")
}

/// `name role category` for every dataset.
fn datasets(analysis: &Analysis) -> Vec<String> {
    analysis
        .datasets
        .iter()
        .map(|dataset| {
            let category = dataset.attributes.get("category").map_or("-", String::as_str);
            format!("{} {} {category}", dataset.name, dataset.role.as_str())
        })
        .collect()
}

const SEQUENCE: &str = "sequence by process.entity_id with maxspan=1m\n  [process where process.name : \"msiexec.exe\"]\n  [network where destination.port == 443]";

#[test]
fn eql_categories_narrow_the_index_patterns() {
    let two = analysis(Language::Eql, SEQUENCE, &["logs-endpoint.events.*", "winlogbeat-*"]);
    assert_eq!(
        datasets(&two),
        [
            "logs-endpoint.events.* union member process",
            "logs-endpoint.events.* union member network",
            "winlogbeat-* union member process",
            "winlogbeat-* union member network",
        ]
    );
    // Stages and predicates still point at the narrowed first pattern of their step.
    let steps: Vec<Option<usize>> =
        two.stages.iter().filter(|stage| stage.kind == "sequence-step").map(|stage| stage.dataset).collect();
    assert_eq!(steps, [Some(0), Some(1)]);

    let one = analysis(Language::Eql, SEQUENCE, &["logs-endpoint.events.*"]);
    assert_eq!(
        datasets(&one),
        ["logs-endpoint.events.* sequence step process", "logs-endpoint.events.* sequence step network"]
    );
    let any = analysis(Language::Eql, "any where event.category : \"file\"", &["logs-endpoint.events.*"]);
    assert_eq!(datasets(&any), ["logs-endpoint.events.* source -"]);

    // Without index patterns (a bare query) the categories are all there is, steps stay steps.
    let bare = analysis(Language::Eql, SEQUENCE, &[]);
    assert_eq!(datasets(&bare), ["process sequence step process", "network sequence step network"]);
}

#[test]
fn index_patterns_are_one_union_for_every_language() {
    let kuery = analysis(
        Language::Kuery,
        "event.category:process and process.name:msiexec.exe",
        &["logs-endpoint.events.*", "logs-windows.sysmon_operational-*"],
    );
    assert_eq!(
        datasets(&kuery),
        ["logs-endpoint.events.* union member process", "logs-windows.sysmon_operational-* union member process",]
    );
    let lucene = analysis(Language::Lucene, "event.category:network", &["logs-endpoint.events.*"]);
    assert_eq!(datasets(&lucene), ["logs-endpoint.events.* source network"]);
    let esql = analysis(
        Language::Esql,
        "FROM logs-endpoint.events.process-*, logs-system.security-* | WHERE process.name == \"a\" | LOOKUP JOIN hosts ON host.name",
        &[],
    );
    assert_eq!(
        datasets(&esql),
        ["logs-endpoint.events.process-* union member -", "logs-system.security-* union member -", "hosts lookup -",]
    );
}
