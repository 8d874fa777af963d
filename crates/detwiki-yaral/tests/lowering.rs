//! What the lowering makes of the constructs the issue names: datasets per event variable,
//! regexes with `nocase`, placeholders joining events, `match ... over`, thresholds, outcomes.

use detwiki_ir::{Expr, FieldFunctionKind, FieldOrigin, Op, Predicate, Value};

const RULE: &str = r#"rule r {
  meta:
    author = "a"
  events:
    $e.metadata.event_type = "PROCESS_LAUNCH"
    $e.metadata.product_event_type = "1" or $e.metadata.product_event_type = "4688"
    re.regex($e.target.process.file.full_path, `\\msiexec\.exe$`) nocase
    strings.to_lower($e.target.process.command_line) != "x"
    $e.principal.hostname = $host
    $f.metadata.log_type = "WINEVTLOG"
    $f.principal.hostname = $host
    $f.target.ip in cidr %ranges
  match:
    $host over 10m
  outcome:
    $risk = max(50)
    $name = $e.principal.hostname
  condition:
    $e and !$f and #e > 2 and $risk >= 40
}
"#;

fn predicates(expr: &Expr) -> Vec<&Predicate> {
    let mut out = Vec::new();
    expr.for_each_predicate(&mut |predicate, _| out.push(predicate));
    out
}

#[test]
fn datasets_joins_windows_thresholds() {
    let analyses = detwiki_yaral::analyze(RULE);
    assert_eq!(analyses.len(), 1);
    let analysis = &analyses[0];
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);
    assert_eq!(analysis.datasets.len(), 2);
    assert_eq!(analysis.datasets[0].name, "PROCESS_LAUNCH");
    assert_eq!(analysis.datasets[0].attributes["product_event_type"], "1, 4688");
    assert_eq!(analysis.datasets[1].name, "any UDM event");
    assert_eq!(analysis.datasets[1].attributes["log_type"], "WINEVTLOG");
    assert_eq!(analysis.group_by, vec!["$host"]);
    assert_eq!(analysis.time_window.as_ref().and_then(|window| window.seconds), Some(600));
    assert_eq!(analysis.output_fields, vec!["$risk", "$name"]);

    let events_e = analysis.stages.iter().find(|stage| stage.label.as_deref() == Some("$e")).unwrap();
    let found = predicates(events_e.predicate.as_ref().unwrap());
    let regex = found.iter().find(|predicate| predicate.op == Op::RegexMatch).unwrap();
    assert_eq!(regex.resolved_field.as_deref(), Some("target.process.file.full_path"));
    assert_eq!(regex.values, vec![Value::Regex { pattern: r"\\msiexec\.exe$".to_owned(), flags: "i".to_owned() }]);
    assert!(!regex.case_sensitive);
    let lowered = found.iter().find(|predicate| !predicate.functions.is_empty()).unwrap();
    assert_eq!(lowered.functions[0].kind, FieldFunctionKind::Lower);
    assert!(lowered.negated);
    assert_eq!(lowered.resolved_field.as_deref(), Some("target.process.command_line"));

    let events_f = analysis.stages.iter().find(|stage| stage.label.as_deref() == Some("$f")).unwrap();
    assert!(events_f.negated, "`!$f` in the condition makes $f an absence");
    let join = analysis.stages.iter().find(|stage| stage.kind == "join").unwrap();
    assert_eq!(join.aggregation_keys, vec!["$host"]);

    let condition = analysis.stages.iter().find(|stage| stage.kind == "condition").unwrap();
    assert_eq!(condition.thresholds.len(), 2);
    let Expr::Predicate(risk) = &condition.thresholds[1] else { panic!("a predicate") };
    assert!(matches!(risk.origin, FieldOrigin::Aggregate { .. }));
    assert_eq!(analysis.parameters[0].name, "%ranges");
}

#[test]
fn sections_out_of_order_and_missing_are_reported() {
    let analyses = detwiki_yaral::analyze("rule r {\n condition:\n $e\n events:\n $e.x = 1\n}\n");
    let codes: Vec<&str> = analyses[0].diagnostics.iter().map(|diagnostic| diagnostic.code.as_str()).collect();
    assert_eq!(codes, vec!["yaral-section-order"]);
    let analyses = detwiki_yaral::analyze("rule r {\n events:\n $e.x = 1\n}\n");
    let codes: Vec<&str> = analyses[0].diagnostics.iter().map(|diagnostic| diagnostic.code.as_str()).collect();
    assert_eq!(codes, vec!["yaral-missing-section"]);
}

#[test]
fn keywords_in_any_case_and_negative_numbers() {
    let text = "rule r {\n events:\n NOT $e.x = \"a\" NOCASE OR $e.y = -5 AND $e.z = true\n condition:\n $e\n}\n";
    let analyses = detwiki_yaral::analyze(text);
    assert!(analyses[0].diagnostics.is_empty(), "{:?}", analyses[0].diagnostics);
    let stage = &analyses[0].stages[0];
    let Some(Expr::Or { items }) = &stage.predicate else { panic!("an or: {:?}", stage.predicate) };
    assert!(matches!(items[0], Expr::Not { .. }));
    let found = predicates(&items[1]);
    assert_eq!(found[0].values, vec![Value::Number { value: (-5).into() }]);
    assert_eq!(found[1].values, vec![Value::Bool { value: true }]);
}

#[test]
fn placeholder_on_the_left_binds_like_on_the_right() {
    let text = "rule r {\n events:\n  $e.metadata.product_event_type = \"X\"\n  $user = $e.principal.user.userid\n condition:\n  $e\n}\n";
    let analyses = detwiki_yaral::analyze(text);
    let stage = &analyses[0].stages[0];
    let found = predicates(stage.predicate.as_ref().unwrap());
    assert_eq!(found.len(), 2, "{:#?}", analyses[0].stages);
    assert_eq!(found[1].resolved_field.as_deref(), Some("principal.user.userid"));
}

/// The demo corpus's msiexec rule: the regexes reach the catalog as written, case-insensitive, on
/// the dataset of their event variable (the catalog's regex rule turns the anchored path suffix
/// into the msiexec name indicator).
#[test]
fn demo_msiexec_regex_is_kept_faithfully() {
    let text = include_str!("../../../examples/demo-corpus/yaral/rules/windows/msiexec_remote_package_network.yaral");
    let analyses = detwiki_yaral::analyze(text);
    let analysis = &analyses[0];
    assert!(analysis.diagnostics.is_empty(), "{:?}", analysis.diagnostics);
    let names: Vec<&str> = analysis.datasets.iter().map(|dataset| dataset.name.as_str()).collect();
    assert_eq!(names, ["PROCESS_LAUNCH", "NETWORK_CONNECTION"]);
    let install = analysis.stages.iter().find(|stage| stage.label.as_deref() == Some("$install")).unwrap();
    let found = predicates(install.predicate.as_ref().unwrap());
    let path = found.iter().find(|predicate| predicate.op == Op::RegexMatch).unwrap();
    assert_eq!(path.resolved_field.as_deref(), Some("target.process.file.full_path"));
    assert_eq!(path.values, vec![Value::Regex { pattern: r"\\msiexec\.exe$".to_owned(), flags: "i".to_owned() }]);
    assert!(!path.case_sensitive);
    assert_eq!(path.dataset, Some(0));
    assert!(analysis.stages.iter().any(|stage| stage.kind == "join" && stage.aggregation_keys == ["$host"]));
}

/// Google's metrics functions take named arguments (`period:1d`, `target.user.userid: $user`, `field: *`), and a
/// hop window may name its step (`over 10m every 5m`): both read without diagnostics, and the outcome keeps its
/// aggregate with the function's placeholder argument.
#[test]
fn metrics_named_arguments_and_window_steps() {
    let text = "rule r {\n events:\n  $e.target.user.userid = $user\n match:\n  $user over 10m every 5m\n \
                outcome:\n  $days = max(metrics.auth_attempts_total( // baseline\n    period:1d, window:30d,\n    \
                metric:event_count_sum, agg:num_metric_periods,\n    target.user.userid: $user,\n    \
                principal.ip_geo_artifact.location.country_or_region: *\n  ))\n condition:\n  $e and $days > 5\n}\n";
    let analyses = detwiki_yaral::analyze(text);
    assert!(analyses[0].diagnostics.is_empty(), "{:?}", analyses[0].diagnostics);
    let summary = detwiki_yaral::summarize(text, &detwiki_yaral::parse(text).file);
    assert!(summary.functions.contains("metrics.auth_attempts_total"), "{:?}", summary.functions);
    let broken =
        detwiki_yaral::analyze("rule r {\n events:\n  $e.x = 1\n match:\n  $e over 10m every\n condition:\n  $e\n}\n");
    assert!(broken[0].diagnostics.iter().any(|diagnostic| diagnostic.message.contains("duration")));
}
