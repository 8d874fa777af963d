//! Reads all ten sources of `../shared/corpus/MANIFEST.toml`: rule counts, every file accounted
//! for, and every query's source map checked against the file bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use detwiki_ir::{BodyFormat, Family, Language};
use detwiki_sources::{ReadOptions, SourceRead, load_sources_file, read_source};
use detwiki_testkit::shared_dir;

fn read_all() -> Option<Vec<(detwiki_sources::SourceSpec, SourceRead)>> {
    let shared = shared_dir()?;
    let specs = load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("MANIFEST.toml loads as is");
    assert_eq!(specs.len(), 10);
    let options = ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-sources-test-cache") };
    let mut out = Vec::new();
    for spec in specs {
        let started = Instant::now();
        let read = read_source(&spec, &options, &|_| {}).expect("source reads");
        let queries: usize = read.rules.iter().map(|rule| rule.queries.len()).sum();
        println!(
            "{:<50} rules {:>5}  queries {:>5}  skipped {:>4}  files {:>5}  macros {:>4}  {:>7.1} ms",
            read.info.name,
            read.info.rules,
            queries,
            read.info.skipped.len(),
            read.info.files_seen,
            read.context.macros.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        out.push((spec, read));
    }
    Some(out)
}

/// Every regular file under a folder, found independently of the crate's walker.
fn files_under(root: &std::path::Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable folder") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("under root");
                files.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}

#[test]
fn corpus_sources_read_completely() {
    let Some(reads) = read_all() else { return };
    let mut by_name: BTreeMap<String, &SourceRead> = BTreeMap::new();
    let mut approximate = Vec::new();
    let mut checked_segments = 0usize;
    for (spec, read) in &reads {
        by_name.insert(read.info.name.clone(), read);
        // Counts.
        if let Some(expected) = spec.expect_rules_at_least {
            assert!(
                read.info.rules >= expected,
                "{}: {} rules, expected at least {expected}",
                read.info.name,
                read.info.rules
            );
        }
        assert_eq!(read.info.rules as usize, read.rules.len());
        // Every file accounted for: a rule, a skipped entry or context.
        let root = spec.path.as_ref().expect("corpus sources are local");
        let all = files_under(root);
        let mut accounted: BTreeSet<String> = read.rules.iter().map(|rule| rule.provenance.path.clone()).collect();
        accounted.extend(read.info.skipped.iter().map(|skipped| skipped.path.clone()));
        accounted.extend(read.context.macros.values().map(|definition| definition.path.clone()));
        accounted.extend(read.data_sources.values().map(|definition| definition.path.clone()));
        let missing: Vec<&String> = all.difference(&accounted).collect();
        assert!(missing.is_empty(), "{}: files not accounted for: {missing:?}", read.info.name);
        assert_eq!(read.info.files_seen as usize, all.len(), "{}", read.info.name);
        // Ids unique and URL-safe; output sorted by path.
        let ids: BTreeSet<&str> = read.rules.iter().map(|rule| rule.id.as_str()).collect();
        assert_eq!(ids.len(), read.rules.len(), "{}: duplicate rule ids", read.info.name);
        for rule in &read.rules {
            assert!(
                rule.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '/'),
                "{}",
                rule.id
            );
        }
        assert!(read.rules.windows(2).all(|pair| pair[0].provenance.path <= pair[1].provenance.path));
        // Source maps: every verbatim segment of every query is the same text in the file.
        for rule in &read.rules {
            assert!(rule.body_span.slice(&rule.file_text).is_some(), "{}: body span", rule.id);
            for query in &rule.queries {
                let unfaithful = query.source_map.first_unfaithful_segment(&query.text, &rule.file_text);
                assert_eq!(unfaithful, None, "{}: a segment differs from the file or falls outside it", rule.id);
                checked_segments += query.source_map.segments().len();
                assert!(query.span.slice(&rule.file_text).is_some(), "{}: query span", rule.id);
                // Decoded lines map back to the same line in the file.
                let mut offset = 0u32;
                for line in query.text.split_inclusive('\n') {
                    let content = line.trim_end_matches('\n');
                    let length = content.len() as u32;
                    if length > 0 {
                        let span = query.source_map.span_to_file(detwiki_ir::Span::new(offset, offset + length));
                        if query
                            .source_map
                            .segments()
                            .iter()
                            .any(|s| s.query_start <= offset && offset + length <= s.query_start + s.len)
                        {
                            assert_eq!(span.slice(&rule.file_text), Some(content), "{}: line at {offset}", rule.id);
                        }
                    }
                    offset += line.len() as u32;
                }
            }
            for diagnostic in &rule.diagnostics {
                if diagnostic.code.ends_with("approximate-source-map") {
                    approximate.push(format!("{}: {}", rule.id, diagnostic.message));
                }
            }
        }
    }
    println!("checked {checked_segments} verbatim segments");
    assert!(approximate.is_empty(), "approximate source maps: {approximate:#?}");

    let count = |name: &str| by_name[name].info.rules;
    assert_eq!(count("SigmaHQ/sigma"), 4044);
    let sigma = by_name["SigmaHQ/sigma"];
    let sigma_files: BTreeSet<&str> = sigma.rules.iter().map(|rule| rule.provenance.path.as_str()).collect();
    assert_eq!(sigma_files.len(), 4040);
    assert!(sigma.rules.iter().all(|rule| rule.format == BodyFormat::SigmaYaml && rule.queries[0].document.is_some()));
    assert_eq!(count("SigmaHQ/sigma-specification"), 12);
    assert_eq!(count("HybridBrothers/Hunting-Queries-Detection-Rules"), 55);
    assert_eq!(count("splunk/security_content"), 1711);
    assert_eq!(count("chronicle/detection-rules"), 886);
    assert_eq!(count("Azure/Azure-Sentinel"), 44);
    assert!(count("Bert-JanP/Hunting-Queries-Detection-Rules") >= 485);
    assert!(count("FalconForceTeam/FalconFriday") >= 59);
    assert!(count("microsoft/Microsoft-365-Defender-Hunting-Queries") >= 369);

    let elastic = by_name["elastic/detection-rules"];
    let rule_files = elastic
        .rules
        .iter()
        .filter(|rule| rule.metadata.extra.get("elastic_kind").is_some_and(|kind| kind == "rule"))
        .count();
    let hunts: Vec<_> = elastic
        .rules
        .iter()
        .filter(|rule| rule.metadata.extra.get("elastic_kind").is_some_and(|kind| kind == "hunting"))
        .collect();
    let hunting_queries: usize = hunts.iter().map(|rule| rule.queries.len()).sum();
    println!("elastic: {rule_files} rule files, {} hunting files, {hunting_queries} hunting queries", hunts.len());
    assert_eq!(rule_files, 2192);
    assert_eq!(hunts.len(), 140);
    assert_eq!(hunting_queries, 239);
    let machine_learning = elastic.rules.iter().filter(|rule| rule.queries.is_empty()).count();
    assert_eq!(machine_learning, 106);
    let mut languages: BTreeMap<Language, usize> = BTreeMap::new();
    for rule in
        elastic.rules.iter().filter(|rule| rule.metadata.extra.get("elastic_kind").is_some_and(|kind| kind == "rule"))
    {
        if let Some(query) = rule.queries.first() {
            *languages.entry(query.language).or_default() += 1;
        }
    }
    println!("elastic rule languages: {languages:?}");
    assert_eq!(languages.get(&Language::Eql), Some(&1081));
    assert_eq!(languages.get(&Language::Esql), Some(&212));
    assert_eq!(languages.get(&Language::Lucene), Some(&1));

    let splunk = by_name["splunk/security_content"];
    assert_eq!(splunk.context.macros.len(), 189);
    assert_eq!(splunk.data_sources.len(), 205);
    assert!(splunk.rules.iter().all(|rule| rule.family == Family::Splunk));

    // Markdown KQL blocks. The reference reader takes 73 from HybridBrothers, 2 of them in
    // `DetectionTemplate.md`, which is not a rule here; and 114 from FalconFriday.
    let blocks = |name: &str| -> usize {
        by_name[name]
            .rules
            .iter()
            .filter(|rule| rule.format == BodyFormat::Markdown)
            .map(|rule| rule.queries.len())
            .sum()
    };
    println!(
        "markdown KQL blocks: HybridBrothers {}, Bert-JanP {}, FalconFriday {}, M365 {}",
        blocks("HybridBrothers/Hunting-Queries-Detection-Rules"),
        blocks("Bert-JanP/Hunting-Queries-Detection-Rules"),
        blocks("FalconForceTeam/FalconFriday"),
        blocks("microsoft/Microsoft-365-Defender-Hunting-Queries")
    );
    assert_eq!(blocks("HybridBrothers/Hunting-Queries-Detection-Rules"), 71);
    assert_eq!(blocks("FalconForceTeam/FalconFriday"), 114);

    // The robustness files named in the corpus README.
    let rule_at = |source: &str, path: &str| -> Vec<&detwiki_ir::Rule> {
        by_name[source].rules.iter().filter(|rule| rule.provenance.path == path).collect()
    };
    let skip_reason = |source: &str, path: &str| -> Option<String> {
        by_name[source].info.skipped.iter().find(|skipped| skipped.path == path).map(|skipped| skipped.reason.clone())
    };
    let bert = "Bert-JanP/Hunting-Queries-Detection-Rules";
    let unclosed = rule_at(
        bert,
        "Azure Active Directory/nf_ttp_t1562.001_scattered-spider_abuse conditional_access_trusted_locations.md",
    );
    assert!(unclosed[0].diagnostics.iter().any(|diagnostic| diagnostic.code == "markdown-unclosed-fence"));
    assert_eq!(
        rule_at(bert, "Defender For Endpoint/nf_ttp_t1547-001_yellowcockatoo_powershell_create_link_in_startup").len(),
        1
    );
    let odd = rule_at(bert, "Azure Active Directory/SignInsByBrowser.md");
    assert!(odd[0].diagnostics.iter().any(|diagnostic| diagnostic.code == "markdown-odd-fence-tag"));
    assert!(
        skip_reason(bert, "Defender For Endpoint/Living Off The Land/lots-project.txt")
            .is_some_and(|reason| reason.contains("does not look like KQL"))
    );
    let m365 = "microsoft/Microsoft-365-Defender-Hunting-Queries";
    assert_eq!(skip_reason(m365, "Protection events/WindowsDefenderAVEvents.txt").as_deref(), Some("empty file"));
    assert!(skip_reason(m365, "Initial access/identify-potential-missed-phishing-email-campaigns.md").is_some());
    assert!(skip_reason(m365, "00-query-submission-template.md").is_some_and(|reason| reason.contains("template")));
    let falcon = "FalconForceTeam/FalconFriday";
    for stub in [
        "0xFF-0086-Process_injection_via_NtAllocateVirtualMemoryRemote_by_rare_or_unsigned_processes-Win.md",
        "0xFF-0088-Process_injection_via_QueueUserApcRemoteApiCall_by_rare_or_unsigned_processes-Win.md",
    ] {
        assert!(skip_reason(falcon, stub).is_some(), "{stub}");
    }
    // 48 "Utilized Data Sources" tables in the first layout and 9 in the second, one per rule.
    let with_sources: Vec<&detwiki_ir::Rule> =
        by_name[falcon].rules.iter().filter(|rule| !rule.metadata.data_sources.is_empty()).collect();
    assert_eq!(with_sources.len(), 57);
    assert!(with_sources.iter().all(|rule| {
        rule.metadata.data_sources.iter().all(|source| source.provider.is_some() || source.table.is_some())
    }));
    let ids = by_name[falcon]
        .rules
        .iter()
        .filter(|rule| rule.metadata.rule_id.as_deref().is_some_and(|id| id.starts_with("0xFF-")))
        .count();
    println!("FalconFriday: {} rules with data sources, {ids} with an 0xFF id", with_sources.len());
    assert!(ids >= 48);
    for collection in [
        "unsupported/windows/win_remote_service.yml",
        "unsupported/windows/sysmon_process_reimaging.yml",
        "unsupported/windows/win_apt_apt29_tor.yml",
        "other/godmode_sigma_rule.yml",
    ] {
        let rules = rule_at("SigmaHQ/sigma", collection);
        assert!(!rules.is_empty(), "{collection}: no rule");
        for rule in rules {
            let document = rule.queries[0].document.expect("document index");
            assert!(document >= 1, "{collection}: the global document is not a rule");
            assert!(rule.id.ends_with(&format!("/{document}")), "{}", rule.id);
            assert!(rule.metadata.title.is_some(), "{collection}: title merged from the global document");
        }
    }
}

#[test]
fn hybrid_brothers_msiexec_rule() {
    let Some(shared) = shared_dir() else { return };
    let specs = load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("loads");
    let spec = specs
        .iter()
        .find(|spec| spec.name.as_deref() == Some("HybridBrothers/Hunting-Queries-Detection-Rules"))
        .expect("source");
    let read = read_source(spec, &ReadOptions::default(), &|_| {}).expect("reads");
    let rule = read
        .rules
        .iter()
        .find(|rule| rule.provenance.path == "Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md")
        .expect("rule");
    assert_eq!(
        rule.id,
        "hybridbrothers-hunting-queries-detection-rules/defender-for-endpoint/detectmsiexecexecutingdllnetworkconnections"
    );
    assert_eq!(rule.format, BodyFormat::Markdown);
    assert_eq!(rule.family, Family::Kusto);
    assert_eq!(rule.metadata.title.as_deref(), Some("Detect Msiexec executing DLL network connections"));
    assert_eq!(rule.metadata.authors, vec!["Robbe Van den Daele"]);
    assert_eq!(rule.metadata.tags, vec!["T1218.007"]);
    assert_eq!(rule.metadata.references, vec!["https://thecollective.eu/"]);
    let description = rule.metadata.description.as_deref().expect("description");
    assert!(description.starts_with("Adversaries regularly use Msiexec"), "{description}");
    assert!(description.contains("> [!WARNING]"), "{description}");
    assert!(!description.contains("#### Risk"));
    assert_eq!(rule.provenance.commit.as_deref(), Some("bfc233ce244ade751e665dcb6bbb3df497cbec28"));
    assert_eq!(
        rule.provenance.permalink.as_deref(),
        Some(
            "https://github.com/HybridBrothers/Hunting-Queries-Detection-Rules/blob/bfc233ce244ade751e665dcb6bbb3df497cbec28/Defender%20For%20Endpoint/DetectMsiexecExecutingDllNetworkConnections.md"
        )
    );
    assert_eq!(rule.provenance.license.as_deref(), Some("none (README: free to use, attribution requested)"));
    assert_eq!(rule.queries.len(), 1);
    let query = &rule.queries[0];
    assert_eq!(query.language, Language::Kql);
    assert_eq!(query.name.as_deref(), Some("Defender XDR"));
    assert!(query.text.starts_with("DeviceNetworkEvents\n| where TimeGenerated > ago(1h)\n"));
    assert!(query.text.trim_end().ends_with("has_any (\"/y\", \"-y\", \"/z\", \"-z\")"));
    assert_eq!(query.span.slice(&rule.file_text), Some(query.text.as_str()));
}

#[test]
fn azure_sample_uses_per_file_commits() {
    let Some(shared) = shared_dir() else { return };
    let specs = load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("loads");
    let spec = specs.iter().find(|spec| spec.name.as_deref() == Some("Azure/Azure-Sentinel")).expect("source");
    let read = read_source(spec, &ReadOptions::default(), &|_| {}).expect("reads");
    let rule = read
        .rules
        .iter()
        .find(|rule| {
            rule.provenance.path == "Detections/MultipleDataSources/ExchangeWorkerProcessMakingRemoteCall.yaml"
        })
        .expect("rule");
    assert_eq!(rule.provenance.commit.as_deref(), Some("13c4accbca8b1680f42c99d17b6082bc6881ad60"));
    assert!(
        rule.provenance
            .permalink
            .as_deref()
            .is_some_and(|link| link.contains("/blob/13c4accbca8b1680f42c99d17b6082bc6881ad60/Detections/"))
    );
    assert!(read.rules.iter().all(|rule| rule.provenance.commit.is_some() && rule.format == BodyFormat::SentinelYaml));
    assert!(read.info.skipped.iter().any(|skipped| skipped.path == "SAMPLE.md"));
}
