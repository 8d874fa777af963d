//! A Sigma correlation rule reads the events of the rules it correlates, and its `group-by` fields count in
//! their fit: grouping failed logons by the target user fits Security 4625 fully, grouping them by a command line
//! (which 4625 does not carry) only partly.

use detwiki_catalog::{Catalog, CatalogIndex, SourceEntry};
use detwiki_knowledge::{Fit, Knowledge};

const FAILED_LOGON: &str = "title: Failed logon\nid: 6b8a1b0e-2f1c-4c55-9d65-2f0f3c1a0a01\nname: failed_logon\n\
status: test\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  \
condition: selection\n";

fn correlation(id: &str, group_by: &str) -> String {
    format!(
        "title: Correlation by {group_by}\nid: {id}\nstatus: test\ncorrelation:\n  type: event_count\n  rules:\n    \
         - failed_logon\n  group-by:\n    - {group_by}\n  timespan: 5m\n  condition:\n    gte: 10\n"
    )
}

#[test]
fn correlation_rules_read_their_rules_events_with_the_group_by_fields() {
    let text = [
        FAILED_LOGON.to_owned(),
        correlation("6b8a1b0e-2f1c-4c55-9d65-2f0f3c1a0a02", "TargetUserName"),
        correlation("6b8a1b0e-2f1c-4c55-9d65-2f0f3c1a0a03", "CommandLine"),
    ]
    .join("---\n");
    let read = detwiki_sources::read_text("rules.yml", &text, Some(detwiki_ir::Language::Sigma));
    let catalog = Catalog::build(vec![(SourceEntry { info: read.info, context: read.context }, read.rules)], &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let position = |title: &str| {
        catalog.rules.iter().position(|entry| entry.rule.metadata.title.as_deref() == Some(title)).expect(title)
    };
    let security_4625 = |title: &str| {
        index.facts[position(title)]
            .coverage
            .iter()
            .find(|row| row.provider == "Security" && row.event == "4625")
            .cloned()
            .unwrap_or_else(|| panic!("{title}: no Security 4625 row: {:?}", index.facts[position(title)].coverage))
    };
    let by_user = security_4625("Correlation by TargetUserName");
    assert_eq!(by_user.fit, Fit::Full, "{by_user:?}");
    assert!(by_user.why.starts_with("correlated rule \"Failed logon\""), "{}", by_user.why);
    let by_command = security_4625("Correlation by CommandLine");
    let Fit::Partial { missing, .. } = &by_command.fit else { panic!("{by_command:?}") };
    assert!(missing.iter().any(|field| field.contains("command_line")), "{missing:?}");
    assert!(by_command.fields_read.iter().any(|field| field.contains("command_line")));
}
