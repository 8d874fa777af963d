//! The seed rule of the product: its analysis is pinned as JSON and its key facts asserted.

use detwiki_ir::{DatasetRole, Expr, Op, Value};
use detwiki_testkit::shared_dir;

/// The KQL block of the seed page, read from the corpus.
fn seed_query() -> Option<String> {
    let path = shared_dir()?.join(
        "corpus/HybridBrothers__Hunting-Queries-Detection-Rules/Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md",
    );
    let text = std::fs::read_to_string(path).ok()?;
    let start = text.find("```KQL\n")? + "```KQL\n".len();
    let end = start + text[start..].find("```")?;
    Some(text[start..end].to_owned())
}

#[test]
fn seed_rule_lowers_to_five_stages_with_resolved_join() {
    let Some(query) = seed_query() else { return };
    let analyses = detwiki_kql::analyze(&query);
    assert_eq!(analyses.len(), 1);
    let analysis = &analyses[0];
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);

    let kinds: Vec<&str> = analysis.stages.iter().map(|stage| stage.kind.as_str()).collect();
    assert_eq!(kinds, ["source", "where", "where", "join", "where"]);
    let slices: Vec<&str> = analysis.stages.iter().map(|stage| stage.span.slice(&query).unwrap_or("")).collect();
    assert_eq!(slices[0], "DeviceNetworkEvents");
    assert_eq!(slices[1], "where TimeGenerated > ago(1h)");
    assert_eq!(slices[2], "where InitiatingProcessParentFileName =~ \"msiexec.exe\"");
    assert!(slices[3].starts_with("join kind=inner (") && slices[3].ends_with("$right.InitiatingProcessCreationTime"));
    assert_eq!(slices[4], "where InitiatingProcessCommandLine1 has_any (\"/y\", \"-y\", \"/z\", \"-z\")");

    let datasets: Vec<(&str, DatasetRole)> =
        analysis.datasets.iter().map(|dataset| (dataset.name.as_str(), dataset.role)).collect();
    assert_eq!(datasets, [("DeviceNetworkEvents", DatasetRole::Source), ("DeviceProcessEvents", DatasetRole::Join)]);
    let windows: Vec<Option<u64>> = analysis
        .datasets
        .iter()
        .map(|dataset| dataset.time_window.as_ref().and_then(|window| window.seconds))
        .collect();
    assert_eq!(windows, [Some(3600), Some(3 * 86_400)]);

    let mut literal = Vec::new();
    for stage in &analysis.stages {
        if let Some(predicate) = &stage.predicate {
            predicate.for_each_predicate(&mut |predicate, _| {
                if predicate.is_literal() {
                    literal.push(predicate.clone());
                }
            });
        }
    }
    assert!(literal.iter().all(|predicate| predicate.field != "Timestamp" && predicate.field != "TimeGenerated"));
    assert_eq!(literal.len(), 3);
    assert_eq!(literal[0].field, "InitiatingProcessParentFileName");
    assert_eq!((literal[0].op, literal[0].case_sensitive, literal[0].dataset), (Op::Eq, false, Some(0)));
    assert_eq!(literal[1].field, "InitiatingProcessFileName");
    assert_eq!((literal[1].op, literal[1].case_sensitive, literal[1].dataset), (Op::Eq, false, Some(1)));
    assert_eq!(literal[1].values, [Value::string("msiexec.exe")]);
    assert_eq!(literal[2].field, "InitiatingProcessCommandLine1");
    assert_eq!(literal[2].resolved_field.as_deref(), Some("InitiatingProcessCommandLine"));
    assert_eq!((literal[2].op, literal[2].dataset), (Op::Match, Some(1)));
    assert_eq!(literal[2].values, ["/y", "-y", "/z", "-z"].map(Value::string));

    assert_eq!(analysis.group_by, ["DeviceId", "InitiatingProcessParentId", "InitiatingProcessParentCreationTime"]);
    assert!(matches!(analysis.stages[3].predicate, Some(Expr::And { .. })));
    insta::assert_json_snapshot!("seed_analysis", analysis);
}
