//! A corpus written to break things: script tags and `javascript:` links in descriptions, invalid
//! UTF-8, a 10 MB file, a YAML alias bomb, directory symlink loops. The build reports each file and
//! goes on; pages show the text escaped.

mod common;

use std::fs;

use common::{detwiki, files_under, hostile_corpus, is_search_chunk, read_json, text};

fn alias_bomb() -> String {
    let mut text = String::from(
        "title: bomb\nlogsource:\n    product: windows\na0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        text.push_str(&format!("a{level}: &a{level} [{}]\n", [previous.as_str(); 9].join(", ")));
    }
    text.push_str("detection:\n    selection:\n        CommandLine: *a9\n    condition: selection\n");
    text
}

#[test]
fn hostile_files_are_reported_and_escaped() {
    let temp = tempfile::tempdir().unwrap();
    let corpus = temp.path().join("corpus");
    fs::create_dir_all(corpus.join("rules/nested")).unwrap();
    hostile_corpus::write_script_rules(&corpus.join("rules"));
    fs::write(corpus.join("rules/latin1.kql"), b"// caf\xe9 \xff\xfe\nDeviceEvents\n| where ActionType == \"x\"\n")
        .unwrap();
    let mut big = String::with_capacity(10 * 1024 * 1024 + 64);
    while big.len() < 10 * 1024 * 1024 {
        big.push_str("// padding line of a very large query file\n");
    }
    big.push_str("DeviceEvents\n");
    fs::write(corpus.join("rules/huge.kql"), big).unwrap();
    fs::write(corpus.join("rules/bomb.yml"), alias_bomb()).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("..", corpus.join("rules/nested/up")).unwrap();
        std::os::unix::fs::symlink("loop.kql", corpus.join("rules/loop.kql")).unwrap();
    }
    let config = temp.path().join("sources.toml");
    fs::write(&config, "[[source]]\nname = \"hostile\"\npath = \"corpus\"\n").unwrap();

    let output = detwiki(temp.path(), &["build", "--config", "sources.toml", "--out", "site", "--verbose"]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(output.status.code() == Some(0) || output.status.code() == Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("engine panics: 0"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let site = temp.path().join("site");

    // Every file is accounted for: a rule or a skipped file with its reason.
    let sources = read_json(&site.join("sources/index.json"));
    let source = &sources["sources"][0];
    let skipped: Vec<(String, String)> = source["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["path"].as_str().unwrap().to_owned(), entry["reason"].as_str().unwrap().to_owned()))
        .collect();
    let browse = read_json(&site.join("rules/index.json"));
    let rules = browse["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().filter_map(|rule| rule["id"].as_str()).collect();
    let accounted = |name: &str| {
        skipped.iter().any(|(path, reason)| path.contains(name) && !reason.is_empty())
            || rule_ids.iter().any(|id| id.contains(&name.replace('_', "-")))
    };
    for name in ["hostile", "hostile_sigma", "hostile_elastic", "latin1", "huge", "bomb"] {
        assert!(accounted(name), "{name} is neither a rule nor a skipped file: {skipped:?} {rule_ids:?}");
    }
    assert!(skipped.iter().any(|(path, _)| path.contains("huge")), "the 10 MB file is skipped: {skipped:?}");
    #[cfg(unix)]
    {
        assert!(skipped.iter().any(|(path, _)| path.contains("loop.kql")), "{skipped:?}");
        assert!(skipped.iter().any(|(path, _)| path.contains("nested/up")), "{skipped:?}");
    }
    // The skipped files are listed with their reasons by --verbose too.
    assert!(stdout.contains("huge.kql"), "{stdout}");

    // Nothing executable made it into any page, and the hostile text is shown escaped.
    for file in files_under(&site) {
        // The catalog database is binary data for SQL clients, never rendered as a page; so are
        // the compressed chunks of the search index (checked by `tests/search.rs`).
        if file.file_name().is_some_and(|name| name == "catalog.sqlite") || is_search_chunk(&file, &site) {
            continue;
        }
        let content = fs::read_to_string(&file).unwrap();
        let lower = content.to_ascii_lowercase();
        if file.extension().is_some_and(|extension| extension == "html") {
            // The site may carry its own small scripts; none may come from a rule (every hostile
            // payload here calls `alert` or sets the sentinel `__pwned`).
            for (start, _) in lower.match_indices("<script") {
                let script = &lower[start..];
                let script = &script[..script.find("</script").unwrap_or(script.len())];
                assert!(
                    !script.contains("alert(") && !script.contains("__pwned"),
                    "{} runs a script from a rule: {script}",
                    file.display()
                );
            }
            assert!(!lower.contains("href=\"javascript:"), "{} links to javascript:", file.display());
            assert!(!lower.contains("href=\" javascript:"), "{} links to javascript:", file.display());
            assert!(!lower.contains("<img"), "{} keeps an image tag", file.display());
            assert!(!lower.contains("<b onmouseover"), "{} keeps an event handler", file.display());
            assert!(!lower.contains("<svg"), "{} keeps an svg tag", file.display());
            assert!(!lower.contains("<iframe"), "{} keeps an iframe", file.display());
        }
    }
    let page_of = |needle: &str| -> String {
        let rule = rules.iter().find(|rule| rule["id"].as_str().is_some_and(|id| id.contains(needle))).expect(needle);
        fs::read_to_string(site.join(rule["path"].as_str().unwrap()).join("index.html")).unwrap()
    };
    let markdown_page = page_of("rules/hostile");
    assert!(
        markdown_page.contains("&#60;script&#62;") || markdown_page.contains("&lt;script&gt;"),
        "escaped text shown"
    );
    let sigma_page = page_of("hostile-sigma");
    assert!(sigma_page.contains("&#60;script&#62;alert(") || sigma_page.contains("&lt;script&gt;alert("));
}
