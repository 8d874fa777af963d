//! Facts the catalog relies on: ATT&CK v19 resolution, the seed rule's event coverage and fit,
//! canonical fields across languages, and the consistency of the hand-written maps with the
//! generated catalog.

use std::collections::BTreeMap;

use detwiki_ir::Family;
use detwiki_knowledge::{ANY, EventRow, Fit, Knowledge, OtherTag, TagResolution, path_suffix_file_name};

fn knowledge() -> &'static Knowledge {
    let knowledge = Knowledge::bundled();
    assert_eq!(knowledge.load_errors(), Vec::<String>::new());
    knowledge
}

fn rows(family: Family, name: &str, narrowing: &[(&str, &str)]) -> Vec<EventRow> {
    knowledge().events_for_dataset(family, name, &BTreeMap::new(), narrowing)
}

fn has_row(rows: &[EventRow], provider: &str, event: &str) -> bool {
    rows.iter().any(|row| row.provider == provider && row.event == event)
}

fn describe(rows: &[EventRow]) -> Vec<String> {
    rows.iter().map(|row| format!("{} {} ({})", row.provider, row.event, row.reason)).collect()
}

#[test]
fn bundled_attack_is_v19() {
    let attack = knowledge().attack();
    assert_eq!(attack.release(), "19");
    let tactics: Vec<&str> = attack.tactics().iter().map(|tactic| tactic.id.as_str()).collect();
    assert_eq!(tactics.len(), 15);
    assert_eq!(&tactics[6..8], ["TA0005", "TA0112"]);
    let active = attack.techniques().iter().filter(|technique| technique.is_active()).collect::<Vec<_>>();
    assert_eq!(active.iter().filter(|technique| !technique.is_subtechnique()).count(), 221);
    assert_eq!(active.iter().filter(|technique| technique.is_subtechnique()).count(), 475);
    assert!(attack.data().attribution.contains("The MITRE Corporation"));
    assert!(!attack.data_components().is_empty());
}

#[test]
fn tags_resolve_as_written() {
    let attack = knowledge().attack();
    let technique = |tag: &str| match attack.resolve_tag(tag) {
        TagResolution::Technique { technique, chain } => (technique.id.clone(), chain),
        other => panic!("{tag}: {other:?}"),
    };
    assert_eq!(technique("attack.t1218.007"), ("T1218.007".to_owned(), vec!["T1218.007".to_owned()]));
    assert_eq!(technique("T1218.007").0, "T1218.007");
    assert_eq!(technique("attack.t1562.001"), ("T1685".to_owned(), vec!["T1562.001".to_owned(), "T1685".to_owned()]));
    assert_eq!(technique("T1656").0, "T1684.001");
    assert_eq!(technique("T1070.001").0, "T1685.005");

    let tactic = |tag: &str| match attack.resolve_tag(tag) {
        TagResolution::Tactic { tactic, legacy } => (tactic.id.clone(), tactic.name.clone(), legacy),
        other => panic!("{tag}: {other:?}"),
    };
    let stealth = ("TA0005".to_owned(), "Stealth".to_owned(), false);
    let legacy_stealth = ("TA0005".to_owned(), "Stealth".to_owned(), true);
    assert_eq!(tactic("attack.stealth"), stealth);
    assert_eq!(tactic("TA0005"), stealth);
    assert_eq!(tactic("attack.ta0005"), stealth);
    for legacy in ["attack.defense_evasion", "attack.defense-evasion", "DefenseEvasion", "Defense Evasion"] {
        assert_eq!(tactic(legacy), legacy_stealth, "{legacy}");
    }
    assert_eq!(tactic("attack.defense-impairment").0, "TA0112");
    assert_eq!(tactic("CommandAndControl").0, "TA0011");
    assert_eq!(tactic("attack.command_and_control").0, "TA0011");

    assert_eq!(attack.resolve_tag("attack.g0016"), TagResolution::NotAttack { kind: OtherTag::Group });
    assert_eq!(attack.resolve_tag("attack.s0002"), TagResolution::NotAttack { kind: OtherTag::Software });
    assert_eq!(attack.resolve_tag("car.2013-05-004"), TagResolution::NotAttack { kind: OtherTag::OtherNamespace });
    assert_eq!(attack.resolve_tag("cve.2021-44228"), TagResolution::NotAttack { kind: OtherTag::OtherNamespace });
    assert_eq!(attack.resolve_tag("attack.t9999"), TagResolution::Unknown { id: "T9999".to_owned() });
    assert_eq!(attack.resolve_tag("attack.something"), TagResolution::NotAttack { kind: OtherTag::UnknownAttackLabel });
}

#[test]
fn technique_display_and_rows() {
    let attack = knowledge().attack();
    assert_eq!(
        attack.technique_display("T1218.007").as_deref(),
        Some("T1218.007 System Binary Proxy Execution: Msiexec")
    );
    assert_eq!(attack.technique_display("T1218").as_deref(), Some("T1218 System Binary Proxy Execution"));
    assert_eq!(attack.technique_display("T9999"), None);

    // The seed: tagged with the technique and the legacy tactic label.
    let tags = ["attack.t1218.007", "attack.defense_evasion"].map(|tag| attack.resolve_tag(tag));
    let rows = attack.tactic_rows(&tags);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].tactic.name, "Stealth");
    assert_eq!(rows[0].techniques.iter().map(|technique| technique.id.as_str()).collect::<Vec<_>>(), ["T1218.007"]);
    assert!(!rows[0].legacy_label);

    // A tactic tag without a technique under it gives a row without technique, in matrix order.
    let tags = ["attack.execution", "attack.t1218.007", "attack.defense_evasion"].map(|tag| attack.resolve_tag(tag));
    let rows = attack.tactic_rows(&tags);
    let names: Vec<&str> = rows.iter().map(|row| row.tactic.name.as_str()).collect();
    assert_eq!(names, ["Execution", "Stealth"]);
    assert!(rows[0].techniques.is_empty());

    let tags = [attack.resolve_tag("attack.defense_evasion")];
    let rows = attack.tactic_rows(&tags);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].legacy_label && rows[0].techniques.is_empty());
}

/// The seed rule (issue 5): DeviceNetworkEvents joined with DeviceProcessEvents.
#[test]
fn seed_rule_event_coverage_and_fit() {
    let knowledge = knowledge();
    let network = rows(Family::Kusto, "DeviceNetworkEvents", &[]);
    for (provider, event) in [("DeviceNetworkEvents", ANY), ("Sysmon", "3"), ("Security", "5156")] {
        assert!(has_row(&network, provider, event), "{provider} {event} missing: {:?}", describe(&network));
    }
    assert!(network.iter().all(|row| !row.reason.is_empty() && row.known), "{:?}", describe(&network));
    let sysmon3 = network.iter().find(|row| row.provider == "Sysmon").map(|row| row.title.as_str());
    assert_eq!(sysmon3, Some("Network connection"));

    let parent_name =
        knowledge.canonical_field(Family::Kusto, "DeviceNetworkEvents", "InitiatingProcessParentFileName");
    assert_eq!(parent_name, Some("parent_process_name"));
    let read = ["parent_process_name"];
    assert_eq!(knowledge.event_fit("DeviceNetworkEvents", ANY, &read), Fit::Full);
    match knowledge.event_fit("Sysmon", "3", &read) {
        Fit::Partial { missing, correlate_with: Some(hint) } => {
            assert_eq!(missing, ["parent_process_name"]);
            assert_eq!((hint.provider.as_str(), hint.event.as_str()), ("Sysmon", "1"));
        }
        other => panic!("Sysmon 3: {other:?}"),
    }
    match knowledge.event_fit("Security", "5156", &read) {
        Fit::Partial { missing, correlate_with: Some(hint) } => {
            assert_eq!(missing, ["parent_process_name"]);
            assert_eq!((hint.provider.as_str(), hint.event.as_str()), ("Security", "4688"));
        }
        other => panic!("Security 5156: {other:?}"),
    }

    let process = rows(Family::Kusto, "DeviceProcessEvents", &[]);
    for (provider, event) in [("DeviceProcessEvents", ANY), ("Sysmon", "1"), ("Security", "4688")] {
        assert!(has_row(&process, provider, event), "{provider} {event} missing: {:?}", describe(&process));
    }
    let read: Vec<&str> = ["InitiatingProcessFileName", "InitiatingProcessCommandLine"]
        .iter()
        .filter_map(|raw| knowledge.canonical_field(Family::Kusto, "DeviceProcessEvents", raw))
        .collect();
    assert_eq!(read, ["parent_process_name", "parent_process_command_line"]);
    assert_eq!(knowledge.event_fit("DeviceProcessEvents", ANY, &read), Fit::Full);
    assert_eq!(knowledge.event_fit("Sysmon", "1", &read), Fit::Full);
    match knowledge.event_fit("Security", "4688", &read) {
        Fit::Partial { missing, .. } => assert_eq!(missing, ["parent_process_command_line"]),
        other => panic!("Security 4688: {other:?}"),
    }
    match knowledge.event_fit("Security", "4688", &["process_original_file_name"]) {
        Fit::Partial { missing, .. } => assert_eq!(missing, ["process_original_file_name"]),
        other => panic!("Security 4688: {other:?}"),
    }
    assert_eq!(knowledge.event_fit("Security", ANY, &read), Fit::Unknown);

    // With the join keys read too, Sysmon 1 still supplies what it can.
    let read = ["parent_process_name", "parent_process_id", "parent_process_creation_time", "device_id"];
    match knowledge.event_fit("Sysmon", "3", &read) {
        Fit::Partial { missing, correlate_with: Some(hint) } => {
            assert_eq!(missing, ["parent_process_creation_time", "parent_process_id", "parent_process_name"]);
            assert_eq!(hint.event, "1");
            assert_eq!(hint.supplies, ["parent_process_id", "parent_process_name"]);
        }
        other => panic!("Sysmon 3: {other:?}"),
    }
}

#[test]
fn narrowing_by_action_type_and_event_id() {
    let network = rows(Family::Kusto, "DeviceNetworkEvents", &[("ActionType", "ConnectionSuccess")]);
    assert!(has_row(&network, "DeviceNetworkEvents", "ConnectionSuccess"), "{:?}", describe(&network));
    assert!(!has_row(&network, "DeviceNetworkEvents", ANY));
    assert!(has_row(&network, "Sysmon", "3") && has_row(&network, "Security", "5156"), "{:?}", describe(&network));
    assert!(network[0].reason.contains("ActionType == ConnectionSuccess"), "{}", network[0].reason);

    let unknown = rows(Family::Kusto, "DeviceEvents", &[("ActionType", "NoSuchActionType")]);
    assert_eq!(unknown.len(), 1);
    assert!(!unknown[0].known);

    let security = rows(Family::Kusto, "SecurityEvent", &[("EventID", "4688"), ("EventID", "4689")]);
    assert!(
        has_row(&security, "Security", "4688") && has_row(&security, "Security", "4689"),
        "{:?}",
        describe(&security)
    );
    assert_eq!(rows(Family::Kusto, "SecurityEvent", &[])[0].event, ANY);

    let windows = rows(Family::Kusto, "WindowsEvent", &[("Provider", "Microsoft-Windows-Sysmon"), ("EventID", "1")]);
    assert!(has_row(&windows, "Sysmon", "1"), "{:?}", describe(&windows));
    let system = rows(Family::Kusto, "Event", &[("EventLog", "System"), ("EventID", "7045")]);
    assert!(has_row(&system, "Service Control Manager", "7045"), "{:?}", describe(&system));
    let msi = rows(Family::Kusto, "Event", &[("Source", "MsiInstaller"), ("EventID", "1033")]);
    assert!(has_row(&msi, "MsiInstaller", "1033") && msi[0].known, "{:?}", describe(&msi));
}

#[test]
fn datasets_of_every_language() {
    let asim = rows(Family::Kusto, "_Im_ProcessCreate", &[]);
    assert!(has_row(&asim, "Sysmon", "1") && has_row(&asim, "Security", "4688"), "{:?}", describe(&asim));
    let asim = rows(Family::Kusto, "imNetworkSession", &[]);
    assert!(has_row(&asim, "Sysmon", "3"), "{:?}", describe(&asim));
    let sentinel = rows(Family::Kusto, "SigninLogs", &[]);
    assert_eq!((sentinel[0].provider.as_str(), sentinel[0].product.as_str()), ("SigninLogs", "Microsoft Sentinel"));

    let mut attributes = BTreeMap::new();
    attributes.insert("product".to_owned(), "windows".to_owned());
    attributes.insert("category".to_owned(), "process_creation".to_owned());
    let sigma = knowledge().events_for_dataset(Family::Sigma, "windows/process_creation", &attributes, &[]);
    for (provider, event) in [("Sysmon", "1"), ("Security", "4688"), ("DeviceProcessEvents", ANY)] {
        assert!(has_row(&sigma, provider, event), "{provider} {event}: {:?}", describe(&sigma));
    }
    let sigma = rows(Family::Sigma, "windows/network_connection", &[]);
    assert!(has_row(&sigma, "Sysmon", "3"), "{:?}", describe(&sigma));
    let linux = rows(Family::Sigma, "linux/process_creation", &[]);
    assert!(!has_row(&linux, "Security", "4688"), "{:?}", describe(&linux));
    let security = rows(Family::Sigma, "windows/security", &[("EventID", "4624")]);
    assert!(has_row(&security, "Security", "4624"), "{:?}", describe(&security));
    let system = rows(Family::Sigma, "windows/system", &[("EventID", "7045")]);
    assert!(has_row(&system, "Service Control Manager", "7045"), "{:?}", describe(&system));

    let splunk = rows(Family::Splunk, "Endpoint.Processes", &[]);
    assert!(has_row(&splunk, "Sysmon", "1"), "{:?}", describe(&splunk));
    let splunk = rows(
        Family::Splunk,
        "XmlWinEventLog:Security",
        &[("source", "XmlWinEventLog:Security"), ("EventCode", "4624")],
    );
    assert!(has_row(&splunk, "Security", "4624"), "{:?}", describe(&splunk));

    let mut attributes = BTreeMap::new();
    attributes.insert("category".to_owned(), "process".to_owned());
    let elastic = knowledge().events_for_dataset(Family::Elastic, "logs-endpoint.events.process-*", &attributes, &[]);
    assert!(
        has_row(&elastic, "Elastic Defend", "process") && has_row(&elastic, "Sysmon", "1"),
        "{:?}",
        describe(&elastic)
    );

    let udm = rows(Family::Yaral, "PROCESS_LAUNCH", &[]);
    assert!(has_row(&udm, "Sysmon", "1"), "{:?}", describe(&udm));
    let udm = rows(Family::Yaral, "e", &[("metadata.event_type", "NETWORK_CONNECTION")]);
    assert!(has_row(&udm, "Sysmon", "3"), "{:?}", describe(&udm));
    let kuery = rows(Family::Elastic, "logs-endpoint.events.*", &[("event.category", "process")]);
    assert!(has_row(&kuery, "Elastic Defend", ANY) && has_row(&kuery, "Sysmon", "1"), "{:?}", describe(&kuery));
    let winlog = rows(Family::Elastic, "winlogbeat-*", &[("winlog.channel", "Security"), ("event.code", "4624")]);
    assert!(has_row(&winlog, "Security", "4624"), "{:?}", describe(&winlog));
    let splunk = rows(
        Family::Splunk,
        "search",
        &[
            ("sourcetype", "XmlWinEventLog"),
            ("source", "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"),
            ("EventCode", "1"),
        ],
    );
    assert_eq!(describe(&splunk).len(), 1, "{:?}", describe(&splunk));
    assert!(has_row(&splunk, "Sysmon", "1"), "{:?}", describe(&splunk));

    let unknown = rows(Family::Splunk, "no_such_model.Things", &[]);
    assert!(!unknown.is_empty());
    let unknown = rows(Family::Kusto, "NoSuchTable", &[]);
    assert_eq!(unknown.len(), 1);
    assert!(!unknown[0].known && unknown[0].reason.contains("NoSuchTable"));
}

#[test]
fn canonical_fields_depend_on_language_and_dataset() {
    let knowledge = knowledge();
    let cases = [
        (Family::Kusto, "DeviceProcessEvents", "FileName", "process_name"),
        (Family::Kusto, "DeviceProcessEvents", "InitiatingProcessFileName", "parent_process_name"),
        (Family::Kusto, "DeviceProcessEvents", "InitiatingProcessParentFileName", "grandparent_process_name"),
        (Family::Kusto, "DeviceNetworkEvents", "InitiatingProcessFileName", "process_name"),
        (Family::Kusto, "DeviceNetworkEvents", "InitiatingProcessParentFileName", "parent_process_name"),
        (Family::Kusto, "DeviceNetworkEvents", "RemotePort", "dst_port"),
        (Family::Kusto, "DeviceFileEvents", "FileName", "file_name"),
        (Family::Kusto, "DeviceImageLoadEvents", "FileName", "module_name"),
        (Family::Kusto, "DeviceRegistryEvents", "RegistryKey", "registry_key"),
        (Family::Kusto, "SecurityEvent", "NewProcessName", "process_path"),
        (Family::Kusto, "imProcessCreate", "TargetProcessCommandLine", "process_command_line"),
        (Family::Sigma, "windows/process_creation", "Image", "process_path"),
        (Family::Sigma, "windows/process_creation", "ParentImage", "parent_process_path"),
        (Family::Sigma, "windows/process_creation", "ParentCommandLine", "parent_process_command_line"),
        (Family::Sigma, "windows/process_creation", "OriginalFileName", "process_original_file_name"),
        (Family::Sigma, "windows/dns_query", "QueryName", "dns_query"),
        (Family::Sigma, "windows/security", "NewProcessName", "process_path"),
        (Family::Elastic, "logs-endpoint.events.process-*", "process.name", "process_name"),
        (Family::Elastic, "logs-endpoint.events.process-*", "process.parent.name", "parent_process_name"),
        (Family::Elastic, "logs-endpoint.events.process-*", "process.command_line", "process_command_line"),
        (Family::Elastic, "winlogbeat-*", "winlog.event_data.ParentImage", "parent_process_path"),
        (Family::Splunk, "Endpoint.Processes", "Processes.process_name", "process_name"),
        (Family::Splunk, "Endpoint.Processes", "Processes.parent_process_name", "parent_process_name"),
        (Family::Splunk, "Endpoint.Processes", "Processes.dest", "host_name"),
        (Family::Splunk, "Network_Traffic.All_Traffic", "All_Traffic.dest", "dst_ip"),
        (Family::Yaral, "PROCESS_LAUNCH", "$e.target.process.file.full_path", "process_path"),
        (Family::Yaral, "PROCESS_LAUNCH", "$e.principal.process.command_line", "parent_process_command_line"),
        (Family::Yaral, "NETWORK_CONNECTION", "$e.principal.process.command_line", "process_command_line"),
        // Cloud API names and web fields line up across languages too.
        (Family::Sigma, "aws/cloudtrail", "eventName", "action_type"),
        (Family::Kusto, "AWSCloudTrail", "EventName", "action_type"),
        (Family::Splunk, "aws:cloudtrail", "eventName", "action_type"),
        (Family::Sigma, "proxy", "c-useragent", "user_agent"),
        (Family::Elastic, "logs-*", "user_agent.original", "user_agent"),
        (Family::Kusto, "SigninLogs", "UserPrincipalName", "user_upn"),
        (Family::Kusto, "DnsEvents", "Name", "dns_query"),
    ];
    for (family, dataset, raw, expected) in cases {
        assert_eq!(knowledge.canonical_field(family, dataset, raw), Some(expected), "{family:?} {dataset} {raw}");
    }
    assert_eq!(knowledge.canonical_field(Family::Kusto, "DeviceProcessEvents", "NoSuchColumn"), None);

    // `Image|endswith: '\msiexec.exe'` is `process_name eq msiexec.exe`.
    let field = knowledge.canonical_field(Family::Sigma, "windows/process_creation", "Image");
    assert_eq!(field.and_then(detwiki_knowledge::name_field_of_path_field), Some("process_name"));
    assert_eq!(path_suffix_file_name("\\msiexec.exe"), Some("msiexec.exe"));
}

#[test]
fn tables_have_typed_columns() {
    let knowledge = knowledge();
    let columns = knowledge.table_columns("DeviceNetworkEvents").unwrap_or_default();
    let parent = columns.iter().find(|column| column.name == "InitiatingProcessParentFileName");
    assert_eq!(parent.map(|column| column.r#type.as_str()), Some("string"));
    assert!(knowledge.table_columns("SecurityEvent").is_some_and(|columns| columns.len() > 100));
    assert!(knowledge.table_columns("NoSuchTable").is_none());
    assert!(knowledge.tables().len() > 900);
}

/// Every event a hand-written map names, for a provider the catalog knows, exists in the catalog;
/// every taxonomy set a dataset names exists and maps to canonical fields only.
#[test]
fn hand_written_maps_agree_with_the_catalog() {
    let knowledge = knowledge();
    let mut problems = Vec::new();
    for entry in knowledge.datasets().entries() {
        for mapped in &entry.events {
            if let Some(provider) = knowledge.events().provider(&mapped.provider)
                && mapped.event != ANY
                && provider.event(&mapped.event).is_none()
            {
                problems.push(format!("{} {} ({})", mapped.provider, mapped.event, entry.reason));
            }
        }
        for provider in entry.table.iter().chain(entry.provider.iter()) {
            if knowledge.events().provider(provider).is_none() {
                problems.push(format!("unknown provider {provider} ({})", entry.reason));
            }
        }
    }
    let fields = knowledge.fields().data();
    for (name, set) in &fields.sets {
        for canonical in set.values() {
            if !knowledge.fields().is_canonical(canonical) {
                problems.push(format!("set {name}: {canonical} is not a canonical field"));
            }
        }
    }
    for sets in fields.datasets.iter().map(|entry| &entry.sets).chain(fields.events.iter().map(|entry| &entry.sets)) {
        for set in sets {
            if !fields.sets.contains_key(set) {
                problems.push(format!("unknown set {set}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn event_catalog_has_the_providers_of_the_issue() {
    let events = knowledge().events();
    for (provider, event) in [
        ("Sysmon", "1"),
        ("Security", "4688"),
        ("PowerShell", "4104"),
        ("MsiInstaller", "11707"),
        ("Service Control Manager", "7045"),
        ("TaskScheduler", "106"),
        ("WMI-Activity", "5861"),
        ("DNS-Client", "3008"),
        ("DeviceProcessEvents", "ProcessCreated"),
        ("DeviceEvents", "NamedPipeEvent"),
    ] {
        let found = events.event(provider, event);
        assert!(found.is_some_and(|(_, event)| !event.title.is_empty()), "{provider} {event}");
    }
    let (_, created) =
        events.event("DeviceProcessEvents", "processcreated").unwrap_or_else(|| panic!("ProcessCreated"));
    assert!(created.native.iter().any(|native| native == "Sysmon 1"));
    assert!(knowledge().attributions().len() >= 5);
}

/// The ECS list generated from npm `@elastic/ecs` is complete, agrees with the hand-written `ecs`
/// set wherever both name a field, and fills the set's gaps on Elastic datasets.
#[test]
fn ecs_field_list() {
    let knowledge = knowledge();
    let ecs = knowledge.ecs();
    assert!(ecs.data().fields.len() > 1_500, "{} ECS fields", ecs.data().fields.len());
    let command_line = ecs.field("process.command_line").expect("process.command_line is ECS");
    assert_eq!(command_line.field_type, "wildcard");
    assert!(ecs.field("process.Ext.token.integrity_level_name").is_none(), "Endpoint extensions are not ECS");
    let hand_written = &knowledge.fields().data().sets["ecs"];
    for (raw, canonical) in hand_written {
        if let Some(derived) = ecs.field(raw).and_then(|field| field.canonical.as_ref()) {
            assert_eq!(derived, canonical, "{raw}: derived and hand-written names differ");
        }
    }
    // Derived only: neither is in the hand-written set.
    assert!(!hand_written.contains_key("process.parent.pe.company"));
    let field = |raw: &str| knowledge.canonical_field(Family::Elastic, "logs-endpoint.events.process-*", raw);
    assert_eq!(field("process.parent.pe.company"), Some("parent_process_company"));
    assert_eq!(field("dll.code_signature.status"), Some("module_signature_status"));
    // The hand-written set still comes first.
    assert_eq!(field("process.name"), Some("process_name"));
    assert!(knowledge.attributions().iter().any(|attribution| attribution.source.contains("@elastic/ecs")));
}

/// `docs/semantics.md` shows the taxonomy and maps the crate embeds.
#[test]
fn semantics_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/semantics.md");
    let document = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let knowledge = knowledge();
    let expected =
        detwiki_knowledge::replace_generated_region(&document, "taxonomy", &knowledge.fields().to_markdown())
            .and_then(|text| {
                detwiki_knowledge::replace_generated_region(&text, "datasets", &knowledge.datasets().to_markdown())
            })
            .and_then(|text| detwiki_knowledge::replace_generated_region(&text, "ecs", &knowledge.ecs().to_markdown()));
    assert!(
        expected.as_deref() == Some(document.as_str()),
        "docs/semantics.md is stale: run `cargo run -p detwiki-knowledge-gen`"
    );
}

proptest::proptest! {
    /// Lookups never panic, whatever the text, and always answer.
    #[test]
    fn lookups_never_panic(text in "\\PC{0,24}", other in "[A-Za-z0-9_./:$ -]{0,24}") {
        let knowledge = knowledge();
        let _ = knowledge.attack().resolve_tag(&text);
        let _ = knowledge.attack().resolve_tag(&other);
        let _ = knowledge.attack().technique_display(&other);
        for family in Family::ALL {
            let _ = knowledge.canonical_field(family, &text, &other);
            let rows = knowledge.events_for_dataset(family, &other, &BTreeMap::new(), &[("EventID", text.as_str()), ("ActionType", other.as_str())]);
            proptest::prop_assert!(!rows.is_empty());
        }
        let _ = knowledge.event_fit(&other, &text, &[other.as_str()]);
        let _ = path_suffix_file_name(&text);
    }
}

#[test]
fn tactic_rows_from_tags_as_written() {
    let attack = knowledge().attack();
    let rows = attack.tactic_rows_for_tags(&["attack.t1562.001", "attack.defense_evasion", "T1218.007"]);
    let summary: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|row| (row.tactic.name.clone(), row.techniques.iter().map(|technique| technique.id.clone()).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Stealth".to_owned(), vec!["T1218.007".to_owned()]),
            ("Defense Impairment".to_owned(), vec!["T1685".to_owned()]),
        ]
    );
    // A v18 rule: the legacy label does not add a Stealth row next to the technique's tactic.
    let rows = attack.tactic_rows_for_tags(&["attack.defense_evasion", "attack.t1562.001"]);
    let names: Vec<&str> = rows.iter().map(|row| row.tactic.name.as_str()).collect();
    assert_eq!(names, ["Defense Impairment"]);
    // A current tactic tag without technique under it still shows.
    let rows = attack.tactic_rows_for_tags(&["attack.stealth", "attack.t1562.001"]);
    let names: Vec<&str> = rows.iter().map(|row| row.tactic.name.as_str()).collect();
    assert_eq!(names, ["Stealth", "Defense Impairment"]);
}

/// A YARA-L event variable narrowed by an `or` of event types holds the events of each type.
#[test]
fn yaral_or_of_event_types() {
    let attributes =
        std::collections::BTreeMap::from([("event_type".to_owned(), "PROCESS_LAUNCH, FILE_CREATION".to_owned())]);
    let rows = knowledge().events_for_dataset(
        detwiki_ir::Family::Yaral,
        "PROCESS_LAUNCH, FILE_CREATION",
        &attributes,
        &[("metadata.event_type", "PROCESS_LAUNCH"), ("metadata.event_type", "FILE_CREATION")],
    );
    let events: Vec<String> = rows.iter().map(|row| format!("{} {}", row.provider, row.event)).collect();
    assert!(events.contains(&"Sysmon 1".to_owned()), "{events:?}");
    assert!(events.contains(&"Sysmon 11".to_owned()), "{events:?}");
}

/// Issue 8: a Sigma category or service reads its own events only; the product catch-all is for
/// a product alone, and an unknown category gives one row saying so.
#[test]
fn sigma_log_sources_never_fall_back_to_the_product() {
    let knowledge = knowledge();
    let attributes = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect()
    };
    let catch_all = |rows: &[EventRow]| rows.iter().any(|row| row.reason.contains("without a category or service"));
    let process = knowledge.events_for_dataset(
        Family::Sigma,
        "windows/process_creation",
        &attributes(&[("product", "windows"), ("category", "process_creation")]),
        &[],
    );
    assert!(!catch_all(&process), "{process:?}");
    assert!(process.iter().any(|row| row.provider == "Sysmon" && row.event == "1"));
    let unknown = knowledge.events_for_dataset(
        Family::Sigma,
        "windows/no_such_category",
        &attributes(&[("product", "windows"), ("category", "no_such_category")]),
        &[],
    );
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].title, "unknown category no_such_category");
    let product = knowledge.events_for_dataset(Family::Sigma, "windows", &attributes(&[("product", "windows")]), &[]);
    assert!(catch_all(&product), "{product:?}");
}

/// Generic names map only where the meaning holds: Zeek's `name` is no WMI name.
#[test]
fn generic_names_stay_on_their_datasets() {
    let knowledge = knowledge();
    assert_eq!(knowledge.canonical_field(Family::Sigma, "zeek/smb_files", "name"), None);
    assert_eq!(knowledge.canonical_field(Family::Sigma, "windows/wmi_event", "Name"), Some("wmi_name"));
    assert_eq!(knowledge.fields().canonical_event_field("Sysmon", "20", "Name"), Some("wmi_name"));
    assert_eq!(knowledge.fields().canonical_event_field("Sysmon", "1", "Name"), None);
}
