//! Tests over `../shared`: the committed ATT&CK table matches the bundle it was generated from, a
//! run-time bundle loads, and every ATT&CK technique ID the corpora use resolves or is reported.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use detwiki_knowledge::{Knowledge, TagResolution, attack_data_from_stix};
use detwiki_testkit::shared_dir as shared;
use regex::Regex;

#[test]
fn committed_attack_table_matches_the_v19_bundle() {
    let Some(shared) = shared() else { return };
    let bytes = std::fs::read(shared.join("knowledge/attack/enterprise-attack-19.partial.json.gz"))
        .unwrap_or_else(|error| panic!("v19 bundle: {error}"));
    let generated = attack_data_from_stix(&bytes, "enterprise-attack-19.partial.json.gz")
        .unwrap_or_else(|error| panic!("v19 bundle: {error}"));
    assert!(
        &generated == Knowledge::bundled().attack().data(),
        "data/attack.json is stale: run `cargo run -p detwiki-knowledge-gen`"
    );
}

#[test]
fn a_v18_bundle_loads_at_run_time() {
    let Some(shared) = shared() else { return };
    let path = shared.join("knowledge/attack/enterprise-attack-18.1.assembled.json.gz");
    let knowledge = Knowledge::from_attack_bundle(&path).unwrap_or_else(|error| panic!("{error}"));
    let attack = knowledge.attack();
    assert_eq!(attack.release(), "18.1");
    assert_eq!(attack.tactics().len(), 14);
    // In v18.1 TA0005 is still Defense Evasion: the old label is current, not legacy.
    match attack.resolve_tag("attack.defense_evasion") {
        TagResolution::Tactic { tactic, legacy } => {
            assert_eq!((tactic.id.as_str(), tactic.name.as_str(), legacy), ("TA0005", "Defense Evasion", false));
        }
        other => panic!("{other:?}"),
    }
    match attack.resolve_tag("T1562.001") {
        TagResolution::Technique { technique, chain } => {
            assert_eq!((technique.id.as_str(), chain.len()), ("T1562.001", 1));
        }
        other => panic!("{other:?}"),
    }
    // Other parts of the knowledge stay the bundled ones.
    assert!(knowledge.events().provider("Sysmon").is_some());
    assert!(Knowledge::from_attack_bundle(&shared.join("no-such-bundle.json")).is_err());
}

/// Where a technique ID was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    SigmaTags,
    ElasticThreat,
    SentinelRelevantTechniques,
    SplunkMitreAttackId,
    MarkdownTables,
}

/// Collects technique IDs from the corpora the way each format writes them. Line-based on purpose:
/// this test checks the knowledge, not the parsers.
fn corpus_technique_ids(corpus: &Path) -> BTreeMap<Origin, Vec<(String, String)>> {
    let technique = Regex::new(r"(?i)\bT\d{4}(?:\.\d{3})?\b").unwrap_or_else(|error| panic!("{error}"));
    let mut found: BTreeMap<Origin, Vec<(String, String)>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(corpus)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    for path in files {
        let extension = path.extension().map(|ext| ext.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if !["yml", "yaml", "toml", "md"].contains(&extension.as_str()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let file = path.strip_prefix(corpus).unwrap_or(&path).display().to_string();
        let mut push = |origin: Origin, id: &str| found.entry(origin).or_default().push((id.to_owned(), file.clone()));
        match extension.as_str() {
            "md" => {
                for line in text.lines().filter(|line| line.trim_start().starts_with('|')) {
                    for id in technique.find_iter(line) {
                        push(Origin::MarkdownTables, id.as_str());
                    }
                }
            }
            "toml" => {
                let mut in_technique = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with('[') {
                        in_technique = line.starts_with("[[rule.threat.technique");
                    } else if in_technique && let Some(value) = line.strip_prefix("id = ") {
                        push(Origin::ElasticThreat, value.trim_matches('"'));
                    }
                }
            }
            _ => {
                let mut list: Option<Origin> = None;
                for line in text.lines() {
                    let trimmed = line.trim();
                    let key = trimmed.split(':').next().unwrap_or_default();
                    let origin = match key {
                        "tags" if file.starts_with("SigmaHQ__sigma/") => Some(Origin::SigmaTags),
                        "relevantTechniques" => Some(Origin::SentinelRelevantTechniques),
                        "mitre_attack_id" => Some(Origin::SplunkMitreAttackId),
                        _ => None,
                    };
                    if let Some(origin) = origin {
                        list = Some(origin);
                        // Inline lists: `relevantTechniques: [T1078, T1110]`.
                        let rest = trimmed.split_once(':').map(|(_, rest)| rest).unwrap_or_default();
                        for id in technique.find_iter(rest) {
                            push(origin, id.as_str());
                        }
                        continue;
                    }
                    match (list, trimmed.strip_prefix("- ")) {
                        (Some(origin), Some(item)) => {
                            // A YAML comment after the item is not part of it.
                            let item = item.split(" #").next().unwrap_or_default();
                            let item = item.trim().trim_matches(['\'', '"']);
                            if origin == Origin::SigmaTags {
                                let lower = item.to_ascii_lowercase();
                                if let Some(body) = lower.strip_prefix("attack.")
                                    && technique.is_match(body)
                                {
                                    push(origin, item);
                                }
                            } else if let Some(id) = technique.find(item) {
                                push(origin, id.as_str());
                            }
                        }
                        _ if !trimmed.is_empty() && !trimmed.starts_with('#') => list = None,
                        _ => {}
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_technique_tag_in_the_corpora_resolves_or_is_reported() {
    let Some(shared) = shared() else { return };
    let Some(corpus) = detwiki_testkit::existing(shared.join("corpus"), "the shared corpus") else { return };
    let attack = Knowledge::bundled().attack();
    let found = corpus_technique_ids(&corpus);
    let mut revoked: BTreeMap<String, String> = BTreeMap::new();
    let mut unknown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut still_revoked: BTreeSet<String> = BTreeSet::new();
    println!("ATT&CK v{} technique tags in {}:", attack.release(), corpus.display());
    println!("{:<28} {:>7} {:>9} {:>8} {:>8} {:>8}", "origin", "tags", "distinct", "active", "revoked", "unknown");
    for (origin, ids) in &found {
        let (mut active, mut followed, mut missing) = (0, 0, 0);
        let distinct: BTreeSet<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
        for (id, file) in ids {
            match attack.resolve_tag(id) {
                TagResolution::Technique { technique, chain } => {
                    if chain.len() > 1 {
                        followed += 1;
                        revoked.insert(chain[0].clone(), chain.join(" -> "));
                    } else {
                        active += 1;
                    }
                    if !technique.is_active() {
                        still_revoked.insert(format!("{} (chain {})", technique.id, chain.join(" -> ")));
                    }
                }
                TagResolution::Unknown { id } => {
                    missing += 1;
                    unknown.entry(id).or_default().insert(file.clone());
                }
                other => panic!("{id} in {file} did not resolve as a technique: {other:?}"),
            }
        }
        println!(
            "{:<28} {:>7} {:>9} {:>8} {:>8} {:>8}",
            format!("{origin:?}"),
            ids.len(),
            distinct.len(),
            active,
            followed,
            missing
        );
    }
    println!("revoked IDs followed to their v19 replacement ({}):", revoked.len());
    for chain in revoked.values() {
        println!("  {chain}");
    }
    println!("unknown IDs ({}):", unknown.len());
    for (id, files) in &unknown {
        let sample: Vec<&String> = files.iter().take(3).collect();
        println!("  {id}: {} file(s), e.g. {sample:?}", files.len());
    }
    println!("revoked or deprecated, without a replacement ({}): {still_revoked:?}", still_revoked.len());

    let total: usize = found.values().map(Vec::len).sum();
    assert!(total > 1000, "only {total} technique tags found: is the corpus layout still the same?");
    for origin in [Origin::SigmaTags, Origin::ElasticThreat, Origin::SplunkMitreAttackId, Origin::MarkdownTables] {
        assert!(found.get(&origin).is_some_and(|ids| !ids.is_empty()), "no technique IDs from {origin:?}");
    }
    // The v18 IDs the corpora still use for Impair Defenses follow their revoked-by links.
    assert_eq!(revoked.get("T1562.001").map(String::as_str), Some("T1562.001 -> T1685"));
}

/// Reads the `logsource:` block of a Sigma rule line by line (product, category, service).
fn sigma_logsource(text: &str) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("logsource:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with(' ') && !line.trim().is_empty() {
                break;
            }
            if let Some((key, value)) = line.trim().split_once(':') {
                let key = key.trim();
                if ["product", "category", "service"].contains(&key) {
                    let value = value.split(" #").next().unwrap_or_default().trim().trim_matches(['\'', '"']);
                    attributes.insert(key.to_owned(), value.to_owned());
                }
            }
        }
    }
    attributes
}

/// How many SigmaHQ rules get event rows from a known provider or table, with the log sources
/// that do not (printed, most frequent first).
#[test]
fn sigma_log_sources_map_to_known_events() {
    let Some(shared) = shared() else { return };
    let Some(rules) = detwiki_testkit::existing(shared.join("corpus/SigmaHQ__sigma/rules"), "the SigmaHQ rules") else {
        return;
    };
    let knowledge = Knowledge::bundled();
    let (mut total, mut mapped) = (0, 0);
    let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&rules).into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_none_or(|ext| ext != "yml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let attributes = sigma_logsource(&text);
        if attributes.is_empty() {
            continue;
        }
        total += 1;
        let name = attributes.values().cloned().collect::<Vec<_>>().join("/");
        let rows = knowledge.events_for_dataset(detwiki_ir::Family::Sigma, &name, &attributes, &[]);
        if rows.iter().any(|row| row.known) {
            mapped += 1;
        } else {
            *unmapped.entry(format!("{attributes:?}")).or_default() += 1;
        }
    }
    let mut unmapped: Vec<(String, usize)> = unmapped.into_iter().collect();
    unmapped.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("SigmaHQ rules whose log source maps to a known event or table: {mapped}/{total}");
    for (logsource, count) in unmapped.iter().take(25) {
        println!("  {count:>4} {logsource}");
    }
    assert!(total > 2000, "only {total} Sigma rules with a log source");
    assert!(mapped * 100 >= total * 90, "{mapped}/{total} mapped");
}
