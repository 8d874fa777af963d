//! `detwiki build` on the bundled demo corpus: pages in all five languages, valid JSON twins,
//! deterministic output.

mod common;

use std::collections::BTreeSet;

use common::{broken_links, detwiki, files_under, read_json, text, workspace_root};

#[test]
fn demo_catalog_has_pages_in_all_five_languages() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("site");
    let config = workspace_root().join("detwiki.toml");
    let output = detwiki(temp.path(), &["build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "build failed: {}\n{}", text(&output.stdout), text(&output.stderr));
    let summary = text(&output.stdout);
    assert!(summary.contains("engine panics: 0"), "{summary}");
    assert!(summary.contains(&format!("{}/", out.display())), "the summary says where the site is: {summary}");

    let browse = read_json(&out.join("rules/index.json"));
    let rules = browse["rules"].as_array().expect("rules list");
    let families: BTreeSet<&str> = rules.iter().filter_map(|rule| rule["family"].as_str()).collect();
    assert_eq!(families, BTreeSet::from(["elastic", "kusto", "sigma", "splunk", "yaral"]));
    for family in &families {
        let count = rules.iter().filter(|rule| rule["family"].as_str() == Some(family)).count();
        assert!(count >= 5, "{family}: only {count} rules");
    }
    for rule in rules {
        let folder = out.join(rule["path"].as_str().expect("page path"));
        assert!(folder.join("index.html").is_file(), "{} has no page", folder.display());
        let twin = read_json(&folder.join("index.json"));
        assert_eq!(twin["version"], 1);
        assert_eq!(twin["id"], rule["id"]);
        assert!(twin["body"].as_str().is_some_and(|body| !body.is_empty()));
    }

    // Every JSON file of the site parses; the home twin has counts per source and language.
    for file in files_under(&out) {
        if file.extension().is_some_and(|extension| extension == "json") {
            read_json(&file);
        }
    }
    let home = read_json(&out.join("index.json"));
    assert_eq!(home["version"], 1);
    assert_eq!(home["generated"], "2023-11-14T22:13:20Z");
    assert_eq!(home["totals"]["rules"].as_u64(), Some(rules.len() as u64));
    assert_eq!(home["sources"].as_array().map(Vec::len), Some(5));
    for language in home["languages"].as_array().expect("languages") {
        assert!(language["rules"].as_u64() >= Some(5), "{language}");
        assert!(language.get("skipped_files").is_some() && language.get("rules_with_diagnostics").is_some());
    }

    // The Markdown KQL rule: title, rendered description, body labelled with its format, KQL queries.
    let kql = rules
        .iter()
        .find(|rule| {
            rule["id"].as_str().is_some_and(|id| id.ends_with("msiexec-remote-package-network") && id.contains("kql"))
        })
        .expect("the msiexec KQL rule");
    let page = std::fs::read_to_string(out.join(kql["path"].as_str().unwrap()).join("index.html")).unwrap();
    assert!(page.contains("<h1>Msiexec installs a remote package and then talks to the internet</h1>"));
    assert!(page.contains("<strong>check the URL</strong>"), "description is rendered Markdown");
    assert!(page.contains(r#"<span class="badge format">Markdown</span>"#));
    assert!(page.contains("Defender XDR") && page.contains("Sentinel"));
    assert!(page.contains("T1218.007"));

    // The msiexec name indicator joins the five languages: the YARA-L rule reaches it through its path regex
    // (`\\msiexec\.exe$`, read like Sigma's `endswith '\msiexec.exe'`).
    let indicators = out.join("indicators/process_name/eq");
    let msiexec = std::fs::read_dir(&indicators)
        .unwrap()
        .flatten()
        .find(|entry| entry.file_name().to_string_lossy().starts_with("msiexec.exe-"))
        .expect("the msiexec.exe name indicator has a page");
    let indicator = read_json(&msiexec.path().join("index.json"));
    for family in ["kusto", "sigma", "elastic", "splunk", "yaral"] {
        assert!(indicator["by_family"][family].as_u64() >= Some(1), "no {family} rule on msiexec.exe: {indicator}");
    }

    // No page links to a page that does not exist.
    let (checked, broken) = broken_links(&out);
    assert!(checked > 500, "only {checked} links found: the link check is not reading the pages");
    assert!(broken.is_empty(), "{} broken links, first: {:?}", broken.len(), broken.first());
}

#[test]
fn two_builds_of_the_same_corpus_are_identical() {
    let temp = tempfile::tempdir().unwrap();
    let config = workspace_root().join("detwiki.toml");
    let mut sites = Vec::new();
    for name in ["first", "second"] {
        let out = temp.path().join(name);
        let output =
            detwiki(temp.path(), &["build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let files: Vec<(String, Vec<u8>)> = files_under(&out)
            .into_iter()
            .map(|file| (file.strip_prefix(&out).unwrap().display().to_string(), std::fs::read(&file).unwrap()))
            .collect();
        sites.push(files);
    }
    assert_eq!(sites[0].len(), sites[1].len());
    for (left, right) in sites[0].iter().zip(&sites[1]) {
        assert_eq!(left.0, right.0);
        assert!(left.1 == right.1, "{} differs between two builds", left.0);
    }
}

#[test]
fn a_missing_config_is_a_usage_error() {
    let temp = tempfile::tempdir().unwrap();
    let output = detwiki(temp.path(), &["build"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.starts_with("detwiki: detwiki.toml not found"), "{message}");
}

#[test]
fn a_source_below_its_expected_count_fails_the_build() {
    let temp = tempfile::tempdir().unwrap();
    let corpus = workspace_root().join("examples/demo-corpus/yaral");
    let config = temp.path().join("sources.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\nname = \"yaral\"\npath = {:?}\nexpect_rules_at_least = 500\n",
            corpus.display().to_string()
        ),
    )
    .unwrap();
    let output = detwiki(temp.path(), &["build", "--config", "sources.toml", "--out", "site"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("BELOW EXPECTED 500"));
    // The site is written all the same, so the reader can see what was found.
    assert!(temp.path().join("site/index.html").is_file());
}

#[test]
fn a_foreign_output_folder_is_left_alone() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir(temp.path().join("notes")).unwrap();
    std::fs::write(temp.path().join("notes/todo.txt"), "mine").unwrap();
    let config = workspace_root().join("detwiki.toml");
    let output = detwiki(temp.path(), &["build", "--config", config.to_str().unwrap(), "--out", "notes"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(temp.path().join("notes/todo.txt").is_file());
}
