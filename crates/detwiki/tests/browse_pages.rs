//! Issue 12 items 2 and 4 on the demo corpus: paginated and sorted rule lists with their twins,
//! facet pages, the diagnostics page linking to rule lines, the coverage page and the per-language
//! matrices, the 404 page, the sitemap and `--base-url`. The demo is built with `--page-size 4` so
//! that every list has several pages.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{all_rows, broken_links, detwiki, files_under, read_json, text, workspace_root};

const BASE_URL: &str = "https://example.org/wiki/";

fn build(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join("site");
    let config = workspace_root().join("detwiki.toml");
    let mut args = vec!["build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = detwiki(dir, &args);
    assert!(output.status.success(), "{}\n{}", text(&output.stdout), text(&output.stderr));
    out
}

#[test]
fn demo_lists_are_paginated_sorted_and_faceted() {
    let temp = tempfile::tempdir().unwrap();
    let site = build(temp.path(), &["--page-size", "4", "--base-url", BASE_URL]);
    let total = read_json(&site.join("index.json"))["totals"]["rules"].as_u64().unwrap() as usize;
    assert!(total > 8, "the demo has {total} rules");

    // Every order lists every rule once, four to a page, and the twin says where the page sits.
    let first = read_json(&site.join("rules/index.json"));
    assert_eq!(first["pagination"]["page"], 1);
    assert_eq!(first["pagination"]["per_page"], 4);
    assert_eq!(first["pagination"]["total"].as_u64(), Some(total as u64));
    assert_eq!(first["pagination"]["pages"].as_u64(), Some(total.div_ceil(4) as u64));
    assert_eq!(first["rules"].as_array().unwrap().len(), 4);
    let ids = |rows: &[serde_json::Value]| rows.iter().map(|row| row["id"].as_str().unwrap().to_owned()).collect();
    let by_title = all_rows(&site, "rules/", "rules");
    let everyone: BTreeSet<String> = ids(&by_title);
    assert_eq!((by_title.len(), everyone.len()), (total, total));
    let titles: Vec<String> = by_title.iter().map(|row| row["title"].as_str().unwrap().to_lowercase()).collect();
    assert!(titles.windows(2).all(|pair| pair[0] <= pair[1]), "title order: {titles:?}");
    for order in ["language", "source", "severity", "date"] {
        let rows = all_rows(&site, &format!("rules/by-{order}/"), "rules");
        assert_eq!(ids(&rows), everyone, "{order}");
        assert_eq!(rows.len(), total, "{order}");
    }
    let by_severity = all_rows(&site, "rules/by-severity/", "rules");
    let rank = |row: &serde_json::Value| match row["severity"].as_str().map(str::to_lowercase).as_deref() {
        Some("critical") => 0,
        Some("high") => 1,
        Some("medium") => 2,
        Some("low") => 3,
        Some("informational") => 4,
        Some(_) => 5,
        None => 7,
    };
    let ranks: Vec<u8> = by_severity.iter().map(rank).collect();
    assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "severity order: {ranks:?}");
    assert_eq!(ranks.first(), Some(&1), "the demo's most severe rules are high");
    let dates: Vec<Option<&str>> =
        all_rows(&site, "rules/by-date/", "rules").iter().map(|row| row["date"].as_str().map(|_| "")).collect();
    assert!(dates.windows(2).all(|pair| !(pair[0].is_none() && pair[1].is_some())), "undated rules come last");
    let dated = all_rows(&site, "rules/by-date/", "rules");
    let days: Vec<&str> = dated.iter().filter_map(|row| row["date"].as_str()).collect();
    assert!(!days.is_empty() && days.windows(2).all(|pair| pair[0] >= pair[1]), "newest first: {days:?}");

    // The HTML page links its neighbours and the other orders without JavaScript.
    let page = std::fs::read_to_string(site.join("rules/by-title/2/index.html")).unwrap();
    assert!(page.contains(r#"<a rel="prev" href="../../../rules/index.html">"#), "{page}");
    assert!(page.contains(r#"href="../../../rules/by-severity/index.html""#));
    assert!(page.contains(r#"<strong aria-current="page">2</strong>"#));
    assert!(!page.contains("<script"));

    // Facet pages: one list per language, source, tactic and technique, each complete.
    let hub = read_json(&site.join("browse/index.json"));
    let facets: Vec<&str> = hub["facets"].as_array().unwrap().iter().map(|f| f["facet"].as_str().unwrap()).collect();
    assert_eq!(facets, ["language", "source", "tactic", "technique"]);
    for facet in hub["facets"].as_array().unwrap() {
        let values = facet["values"].as_array().unwrap();
        assert!(!values.is_empty(), "{facet}");
        for value in values {
            let path = value["path"].as_str().unwrap();
            let rows = all_rows(&site, path, "rules");
            assert_eq!(rows.len() as u64, value["rules"].as_u64().unwrap(), "{path}");
            if facet["facet"] == "language" {
                assert!(rows.iter().all(|row| row["family"] == value["value"]), "{path}");
            }
            let twin = read_json(&site.join(path).join("index.json"));
            assert_eq!(twin["facet"]["facet"], facet["facet"]);
            assert_eq!(twin["pagination"]["orders"].as_array().map(Vec::len), Some(5), "{path}");
        }
    }
    let kusto = all_rows(&site, "browse/language/kusto/", "rules");
    assert_eq!(kusto.len(), by_title.iter().filter(|row| row["family"] == "kusto").count());
    let msiexec = all_rows(&site, "browse/technique/T1218.007/", "rules");
    assert!(msiexec.len() >= 4, "the demo's msiexec rules are tagged T1218.007: {}", msiexec.len());
    assert!(site.join("browse/tactic/TA0005/index.html").is_file(), "Stealth has rules");

    // Catalog pages page their rule lists the same way: the msiexec indicator has more than four.
    let indicator = files_under(&site.join("indicators/process_name/eq"))
        .into_iter()
        .find(|file| {
            file.ends_with("index.json")
                && file.parent().unwrap().file_name().unwrap().to_string_lossy().starts_with("msiexec.exe-")
        })
        .expect("the msiexec.exe indicator page");
    let twin = read_json(&indicator);
    let pages = twin["pagination"]["pages"].as_u64().unwrap();
    assert!(pages >= 2, "{twin}");
    let folder = indicator.parent().unwrap().strip_prefix(&site).unwrap().to_string_lossy().replace('\\', "/") + "/";
    let listed: usize = {
        let mut count = 0;
        let mut next = Some(folder);
        while let Some(path) = next {
            let page = read_json(&site.join(&path).join("index.json"));
            count +=
                page["groups"].as_array().unwrap().iter().map(|g| g["rules"].as_array().unwrap().len()).sum::<usize>();
            next = page["pagination"]["next"].as_str().map(str::to_owned);
        }
        count
    };
    assert_eq!(listed as u64, twin["total"].as_u64().unwrap());

    // Every relative link of every page, the new pages' included, names a file.
    let (checked, broken) = broken_links(&site);
    assert!(checked > 1000, "only {checked} links");
    assert!(broken.is_empty(), "{} broken links, first: {:?}", broken.len(), broken.first());
}

#[test]
fn demo_report_pages_sitemap_and_404() {
    let temp = tempfile::tempdir().unwrap();
    let site = build(temp.path(), &["--page-size", "4", "--base-url", "https://example.org/wiki"]);

    // Diagnostics: the same findings as `detwiki lint`, by code, each linking to its line.
    let lint = detwiki(
        temp.path(),
        &[
            "lint",
            "--config",
            workspace_root().join("detwiki.toml").to_str().unwrap(),
            "--format",
            "json",
            "--severity",
            "note",
        ],
    );
    let findings =
        serde_json::from_slice::<serde_json::Value>(&lint.stdout).unwrap()["findings"].as_array().unwrap().clone();
    assert!(!findings.is_empty(), "the demo has findings: {}", text(&lint.stderr));
    let diagnostics = read_json(&site.join("diagnostics/index.json"));
    assert_eq!(diagnostics["totals"]["findings"].as_u64(), Some(findings.len() as u64));
    let codes = diagnostics["codes"].as_array().unwrap();
    let lint_codes: BTreeSet<&str> = findings.iter().map(|finding| finding["code"].as_str().unwrap()).collect();
    assert_eq!(codes.iter().map(|code| code["code"].as_str().unwrap()).collect::<BTreeSet<_>>(), lint_codes);
    let mut anchors = 0;
    for code in codes {
        let rows = all_rows(&site, code["path"].as_str().unwrap(), "findings");
        assert_eq!(rows.len() as u64, code["findings"].as_u64().unwrap(), "{code}");
        for row in rows {
            let page = std::fs::read_to_string(site.join(row["path"].as_str().unwrap()).join("index.html")).unwrap();
            if page.contains(&format!("<span id=\"L{}\">", row["line"])) {
                anchors += 1;
            }
        }
    }
    assert!(anchors > 0, "findings link to rule lines");
    let html = std::fs::read_to_string(site.join(codes[0]["path"].as_str().unwrap()).join("index.html")).unwrap();
    assert!(html.contains("index.html#L"), "{html}");

    // Coverage per language and source, and a matrix per language and source.
    let coverage = read_json(&site.join("coverage/index.json"));
    let tables = coverage["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 2);
    for table in tables {
        for column in table["columns"].as_array().unwrap() {
            let matrix = read_json(&site.join(column["matrix"].as_str().unwrap()).join("index.json"));
            assert_eq!(matrix["filter"]["name"], column["name"]);
            let covered: u64 =
                matrix["tactics"].as_array().unwrap().iter().map(|t| t["covered"].as_u64().unwrap()).sum();
            assert_eq!(covered > 0, column["tagged"].as_u64().unwrap() > 0, "{column}");
        }
    }
    // The page counts techniques as `detwiki coverage` does for the same language.
    for column in tables[0]["columns"].as_array().unwrap() {
        let language = column["value"].as_str().unwrap();
        let output = detwiki(
            temp.path(),
            &["coverage", "--catalog", site.join("catalog.sqlite").to_str().unwrap(), "--language", language, "--json"],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let covered = report["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| !t["rules"].as_array().unwrap().is_empty())
            .count();
        assert_eq!(column["techniques_covered"].as_u64(), Some(covered as u64), "{language}");
    }
    assert!(
        tables[0]["columns"].as_array().unwrap().iter().any(|column| column["techniques_covered"].as_u64() > Some(0))
    );
    let kusto = read_json(&site.join("attack/language/kusto/index.json"));
    let all = read_json(&site.join("attack/index.json"));
    let count = |matrix: &serde_json::Value, id: &str| {
        matrix["tactics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["techniques"].as_array().unwrap().clone())
            .find(|t| t["id"] == id)
            .map(|t| t["rules"].as_u64().unwrap())
    };
    assert!(count(&kusto, "T1218") < count(&all, "T1218") && count(&kusto, "T1218") > Some(0));

    // The 404 page and the sitemap use the base URL (given without its final slash).
    let not_found = std::fs::read_to_string(site.join("404.html")).unwrap();
    assert!(not_found.contains(r#"<link rel="stylesheet" href="https://example.org/wiki/style.css">"#), "{not_found}");
    assert!(not_found.contains(r#"href="https://example.org/wiki/rules/index.html""#));
    assert!(!not_found.contains("index.json"));
    let sitemap = std::fs::read_to_string(site.join("sitemap.xml")).unwrap();
    let locs: Vec<&str> = sitemap.split("<loc>").skip(1).map(|piece| &piece[..piece.find("</loc>").unwrap()]).collect();
    let pages = files_under(&site).into_iter().filter(|file| file.ends_with("index.html")).count();
    assert_eq!(locs.len(), pages);
    assert!(locs.contains(&"https://example.org/wiki/") && locs.contains(&"https://example.org/wiki/diagnostics/"));
    assert!(locs.iter().all(|loc| loc.starts_with(BASE_URL) && loc.ends_with('/')));
    // Pages still link relatively, so the site works under the sub-path and from disk.
    let home = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!home.contains("example.org"));
}

#[test]
fn base_url_must_be_a_url_or_an_absolute_path() {
    let temp = tempfile::tempdir().unwrap();
    let config = workspace_root().join("detwiki.toml");
    for bad in ["wiki/", "javascript:alert(1)", "https://", "/a b/", "/x\"/"] {
        let output = detwiki(temp.path(), &["build", "--config", config.to_str().unwrap(), "--base-url", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", text(&output.stderr));
    }
    let site = build(temp.path(), &["--base-url", "/detwiki"]);
    let sitemap = std::fs::read_to_string(site.join("sitemap.xml")).unwrap();
    assert!(sitemap.contains("<loc>/detwiki/rules/</loc>"), "{sitemap}");
    assert!(std::fs::read_to_string(site.join("404.html")).unwrap().contains(r#"href="/detwiki/index.html""#));
}
