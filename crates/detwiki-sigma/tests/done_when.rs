//! The done-when rules, read from the real corpus and the specification's examples.

mod common;

use std::path::Path;

use detwiki_ir::{Expr, Op};

fn read(shared: &Path, relative: &str) -> String {
    std::fs::read_to_string(shared.join(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"))
}

const RULES: &str = "corpus/SigmaHQ__sigma/rules/windows/process_creation";

#[test]
fn base64offset_keeps_its_three_encodings() {
    let Some(shared) = detwiki_testkit::shared_dir() else { return };
    let text = read(&shared, &format!("{RULES}/proc_creation_win_powershell_base64_iex.yml"));
    let analysis = detwiki_sigma::analyze(&text, 0);
    let mut base64offset_predicates = 0;
    for stage in &analysis.stages {
        let Some(predicate) = &stage.predicate else { continue };
        predicate.for_each_predicate(&mut |predicate, _| {
            if let Some(transform) = predicate.transforms.iter().find(|transform| transform.name == "base64offset") {
                base64offset_predicates += 1;
                assert_eq!(transform.expansions.len(), 3 * predicate.values.len());
                assert_eq!(predicate.op, Op::Contains);
            }
        });
    }
    assert!(base64offset_predicates > 0);
    insta::assert_snapshot!(common::render(&analysis, &text));
}

#[test]
fn obfuscated_ip_has_one_stage_per_selector_match() {
    let Some(shared) = detwiki_testkit::shared_dir() else { return };
    let text = read(&shared, &format!("{RULES}/proc_creation_win_susp_obfuscated_ip_via_cli.yml"));
    let analysis = detwiki_sigma::analyze(&text, 0);
    let labels: Vec<&str> = analysis.stages.iter().filter_map(|stage| stage.label.as_deref()).collect();
    assert!(labels.contains(&"selection_img"));
    assert!(labels.contains(&"1 of selection_ip_*: selection_ip_1"));
    assert!(analysis.stages.iter().any(|stage| stage.negated && stage.kind == "filter"));
    for stage in &analysis.stages {
        assert!(stage.span.slice(&text).is_some());
    }
    insta::assert_snapshot!(common::render(&analysis, &text));
}

#[test]
fn temporal_ordered_keeps_order_and_reports_unresolved_references() {
    let Some(shared) = detwiki_testkit::shared_dir() else { return };
    let text = read(&shared, "corpus/SigmaHQ__sigma-specification/tests/schema/correlation/temporal_ordered.yml");
    let analysis = detwiki_sigma::analyze(&text, 0);
    let rules: Vec<&str> = analysis
        .stages
        .iter()
        .filter(|stage| stage.kind == "correlation-rule")
        .filter_map(|stage| stage.label.as_deref())
        .collect();
    assert_eq!(rules, ["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"]);
    let file = detwiki_sigma::load(&text);
    let index = detwiki_sigma::RuleIndex::<usize>::new();
    let (resolved, warnings) = index.link(&file, |document| document);
    assert_eq!(resolved.len(), 3);
    assert_eq!(warnings.len(), 3);
    let mut rendered = common::render(&analysis, &text);
    let line_index = detwiki_ir::LineIndex::new(&text);
    for warning in &warnings {
        rendered.push_str(&warning.render_plain("temporal_ordered.yml", &text, &line_index));
        rendered.push('\n');
    }
    insta::assert_snapshot!(rendered);
}

#[test]
fn correlation_links_to_a_rule_in_the_same_file() {
    let text = "title: base\nid: 11111111-1111-1111-1111-111111111111\nname: base_rule\nlogsource:\n  product: windows\ndetection:\n  sel:\n    EventID: 4625\n  condition: sel\n---\ntitle: many\ncorrelation:\n  type: event_count\n  rules: base_rule\n  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 10\n";
    let file = detwiki_sigma::load(text);
    let (resolved, warnings) = detwiki_sigma::RuleIndex::<usize>::new().link(&file, |document| document);
    assert!(warnings.is_empty());
    assert_eq!(resolved[0].target, Some(0));
    let analysis = detwiki_sigma::analyze(text, 1);
    assert_eq!(analysis.group_by, ["User"]);
    assert_eq!(analysis.time_window.as_ref().and_then(|window| window.seconds), Some(3600));
    let threshold = analysis.stages.iter().flat_map(|stage| &stage.thresholds).next();
    assert!(matches!(threshold, Some(Expr::Predicate(predicate)) if predicate.op == Op::Ge));
}
