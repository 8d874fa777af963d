//! Every ES|QL query of `../shared/corpus/elastic__detection-rules` (rules with
//! `language = "esql"` and hunting queries) is analysed: no panic, spans inside the text, and
//! syntax errors only on the queries Elastic's own grammar rejects for the same reason.

use detwiki_ir::Language;
use detwiki_testkit::shared_dir;

/// (file, query index) of every ES|QL query in the Elastic corpus with its text.
fn corpus_queries(shared: &std::path::Path) -> Vec<(String, String)> {
    let root = shared.join("corpus/elastic__detection-rules");
    let read = detwiki_sources::read_paths(&[root]);
    let mut queries = Vec::new();
    for rule in &read.rules {
        for (index, query) in rule.queries.iter().enumerate() {
            if query.language == Language::Esql {
                let path = &rule.provenance.path;
                let path = path.split_once("elastic__detection-rules/").map_or(path.as_str(), |(_, rest)| rest);
                queries.push((format!("{path}#{index}"), query.text.clone()));
            }
        }
    }
    queries
}

/// Queries the ES|QL grammar rejects, each for a mistake in the rule repository itself.
const INVALID: &[(&str, &str)] = &[
    ("servicequotas_discovery_multi_region_get_service_quota_calls", "`=` where `==` is meant"),
    ("aks_kubelet_proxy_command_execution_from_external_source", "`\\?` is not an ES|QL string escape"),
    ("entra_authentication_attempts_behind_rare_user_agents", "`or` right before `)`"),
    ("credential_access_rapid_reset_password_requests_for_different_users", "`reset_counts = by`"),
    ("execution_via_windows_scheduled_task_with_low_occurrence_frequency", "`now(-)`"),
];

#[test]
fn every_corpus_query_is_analysed() {
    let Some(shared) = shared_dir() else { return };
    let queries = corpus_queries(&shared);
    assert!(queries.len() >= 370, "only {} ES|QL queries found", queries.len());
    let mut with_errors = Vec::new();
    for (name, text) in &queries {
        let analysis = detwiki_elastic::esql::analyze(text);
        let mut spans_inside = true;
        let mut clone = analysis.clone();
        clone.visit_spans(&mut |span| spans_inside &= span.start <= span.end && span.end as usize <= text.len());
        assert!(spans_inside, "{name}: a span outside the text");
        if analysis.has_errors() {
            let first = analysis.diagnostics.iter().find(|diagnostic| diagnostic.is_error()).map(|d| d.message.clone());
            println!("{name}: {}", first.unwrap_or_default());
            with_errors.push(name.clone());
        } else if !analysis.diagnostics.iter().any(|diagnostic| diagnostic.code == "esql-osquery-sql") {
            assert!(!analysis.stages.is_empty(), "{name}: no stages");
        }
    }
    let unexpected: Vec<&String> =
        with_errors.iter().filter(|name| !INVALID.iter().any(|(file, _)| name.contains(file))).collect();
    assert!(unexpected.is_empty(), "unexpected syntax errors: {unexpected:?}");
    assert_eq!(with_errors.len(), INVALID.len(), "{with_errors:?}");
}
