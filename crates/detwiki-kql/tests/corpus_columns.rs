//! Column flow on real rules of `../shared/corpus`, one test per class of the column model:
//! joined columns attributed to their table, aggregates and computed columns never event
//! fields, value-preserving wrappers kept on the predicate, lookbacks from `let` arithmetic.
//! The schema-aware tests read `../shared/knowledge/schemas/kqlanalyzer-environments.json`.

use detwiki_ir::{Analysis, FieldFunctionKind, FieldOrigin, Predicate};
use detwiki_testkit::shared_dir;

/// The first fenced code block of a corpus Markdown file.
fn first_block(shared: &std::path::Path, file: &str) -> String {
    let text = std::fs::read_to_string(shared.join("corpus").join(file)).expect("corpus rule");
    let mut lines = text.lines().skip_while(|line| !line.trim_start().starts_with("```")).skip(1);
    lines.by_ref().take_while(|line| !line.trim_start().starts_with("```")).collect::<Vec<_>>().join("\n")
}

fn one(text: &str) -> Analysis {
    let mut analyses = detwiki_kql::analyze(text);
    assert_eq!(analyses.len(), 1, "{text}");
    analyses.remove(0)
}

fn predicates(analysis: &Analysis) -> Vec<Predicate> {
    let mut out = Vec::new();
    for stage in &analysis.stages {
        if let Some(tree) = &stage.predicate {
            tree.for_each_predicate(&mut |predicate, _| out.push(predicate.clone()));
        }
    }
    out
}

fn dataset_name(analysis: &Analysis, predicate: &Predicate) -> String {
    predicate
        .dataset
        .and_then(|index| analysis.datasets.get(index))
        .map(|dataset| dataset.name.clone())
        .unwrap_or_default()
}

/// The schema both sides of the conformance check use: every Sentinel table, Defender tables
/// with the union of their two environments' columns.
fn schema(shared: &std::path::Path) -> detwiki_kql::Schema {
    let path = shared.join("knowledge/schemas/kqlanalyzer-environments.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).expect("schemas")).expect("json");
    let mut schema = detwiki_kql::Schema::new();
    for environment in ["sentinel", "m365"] {
        for (table, columns) in json[environment]["tables"].as_object().into_iter().flatten() {
            let columns = columns.as_object().into_iter().flatten();
            schema.add_typed_table(
                table,
                columns.map(|(name, kind)| (name.clone(), kind.as_str().unwrap_or("").to_owned())),
            );
        }
    }
    schema
}

#[test]
fn a_column_from_a_joined_table_is_attributed_to_it() {
    let Some(shared) = shared_dir() else { return };
    let text =
        first_block(&shared, "Bert-JanP__Hunting-Queries-Detection-Rules/Defender For Endpoint/LocalGroupDiscovery.md");
    let analysis = one(&text);
    let predicates = predicates(&analysis);
    let department = predicates.iter().find(|predicate| predicate.field == "Department").expect("Department predicate");
    assert_eq!(dataset_name(&analysis, department), "IdentityInfo");
    assert_eq!(department.origin, FieldOrigin::Event);
    let file_name = predicates.iter().find(|predicate| predicate.field == "FileName").expect("FileName predicate");
    assert_eq!(dataset_name(&analysis, file_name), "DeviceProcessEvents");
}

#[test]
fn a_join_suffix_names_the_right_table_only_where_both_sides_have_the_column() {
    let Some(shared) = shared_dir() else { return };
    let text = first_block(
        &shared,
        "microsoft__Microsoft-365-Defender-Hunting-Queries/Exploits/Print Spooler RCE/Suspicious Spoolsv Child Process.md",
    );
    let schema = schema(&shared);
    // Without schemas (the syntactic rule) and with them, the same attribution: `FileName1` is
    // DeviceProcessEvents' `FileName`, `ProcessCommandLine` (absent on the left after
    // `distinct`) too, and `FileName` of the left side stays DeviceImageLoadEvents'.
    for analyses in [detwiki_kql::analyze(&text), detwiki_kql::analyze_with_schema(&text, &schema)] {
        let analysis = &analyses[0];
        let predicates = predicates(analysis);
        let suffixed = predicates.iter().find(|predicate| predicate.field == "FileName1").expect("FileName1");
        assert_eq!(dataset_name(analysis, suffixed), "DeviceProcessEvents");
        assert_eq!(suffixed.resolved_field.as_deref(), Some("FileName"));
        let command_line = predicates.iter().find(|predicate| predicate.field == "ProcessCommandLine").expect("cmd");
        assert_eq!(dataset_name(analysis, command_line), "DeviceProcessEvents");
        let unknown: Vec<_> =
            analysis.diagnostics.iter().filter(|diagnostic| diagnostic.code == "kql-unknown-column").collect();
        assert!(unknown.is_empty(), "{unknown:?}");
    }
    // With schemas, a suffix that no clash made is an unknown column.
    let renamed = text.replace("ProcessIntegrityLevel =~", "ProcessIntegrityLevel1 =~");
    let analyses = detwiki_kql::analyze_with_schema(&renamed, &schema);
    let unknown: Vec<&str> = analyses[0]
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code == "kql-unknown-column")
        .filter_map(|diagnostic| diagnostic.span.slice(&renamed))
        .collect();
    assert_eq!(unknown, ["ProcessIntegrityLevel1"]);
}

#[test]
fn a_default_aggregate_name_is_an_aggregate() {
    let Some(shared) = shared_dir() else { return };
    let text = first_block(&shared, "microsoft__Microsoft-365-Defender-Hunting-Queries/Discovery/doppelpaymer.md");
    let analysis = one(&text);
    let sets: Vec<Predicate> =
        predicates(&analysis).into_iter().filter(|predicate| predicate.field == "set_ProcessCommandLine").collect();
    assert!(sets.len() >= 4, "{sets:?}");
    for predicate in &sets {
        let FieldOrigin::Aggregate { definition } = predicate.origin else { panic!("{predicate:?}") };
        assert_eq!(definition.slice(&text), Some("makeset(ProcessCommandLine)"));
        assert!(!predicate.is_literal());
    }
}

#[test]
fn a_scan_declared_column_is_computed() {
    let Some(shared) = shared_dir() else { return };
    let text = first_block(
        &shared,
        "Bert-JanP__Hunting-Queries-Detection-Rules/Defender For Endpoint/SliverC2BeaconLoaded.md",
    );
    let analysis = one(&text);
    let step = predicates(&analysis).into_iter().find(|predicate| predicate.field == "Step").expect("Step predicate");
    let FieldOrigin::Computed { definition } = step.origin else { panic!("{step:?}") };
    assert!(definition.slice(&text).is_some_and(|scan| scan.starts_with("scan with_match_id=Id declare")));
}

#[test]
fn value_preserving_wrappers_are_kept_on_the_inner_column() {
    let Some(shared) = shared_dir() else { return };
    let text = first_block(
        &shared,
        "Bert-JanP__Hunting-Queries-Detection-Rules/Threat Hunting/Behaviour - SuspiciousNamedPipes.md",
    );
    let pipe = analyze_all(&text)
        .into_iter()
        .find(|predicate| predicate.field.ends_with(".PipeName"))
        .expect("PipeName predicate");
    let kinds: Vec<FieldFunctionKind> = pipe.functions.iter().map(|function| function.kind).collect();
    assert_eq!(kinds, [FieldFunctionKind::PathLeaf, FieldFunctionKind::Lower]);
    assert!(pipe.functions[0].text.starts_with("split(tolower("));
    let text = first_block(
        &shared,
        "Bert-JanP__Hunting-Queries-Detection-Rules/Threat Hunting/TI Feed - ThreatviewioDomain-High-Confidence-Feed.md",
    );
    let url = analyze_all(&text).into_iter().find(|predicate| predicate.field == "RemoteUrl").expect("RemoteUrl");
    assert_eq!(url.functions.iter().map(|function| function.kind).collect::<Vec<_>>(), [FieldFunctionKind::Lower]);
    assert_eq!(url.origin, FieldOrigin::Event);
}

fn analyze_all(text: &str) -> Vec<Predicate> {
    detwiki_kql::analyze(text).iter().flat_map(predicates).collect()
}

#[test]
fn a_lookback_bound_by_let_arithmetic_sets_the_window() {
    let Some(shared) = shared_dir() else { return };
    let text =
        first_block(&shared, "FalconForceTeam__FalconFriday/0xFF-0001-Ingress_Tool_Transfer_Certutil_abuse-Win.md");
    let analysis = one(&text);
    let window = analysis.datasets[0].time_window.as_ref().expect("a lookback");
    assert_eq!((window.text.as_str(), window.seconds), ("2*1h", Some(7200)));
}
