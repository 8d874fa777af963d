//! The HybridBrothers rule page named in issue 2, built from `../shared` (skipped without it).

mod common;

use common::{detwiki, read_json, text};
use detwiki_testkit::shared_dir;

#[test]
fn hybridbrothers_msiexec_rule_page() {
    let Some(shared) = shared_dir() else { return };
    let corpus = shared.join("corpus/HybridBrothers__Hunting-Queries-Detection-Rules");
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("sources.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\nname = \"HybridBrothers/Hunting-Queries-Detection-Rules\"\npath = {:?}\nurl = \"https://github.com/HybridBrothers/Hunting-Queries-Detection-Rules\"\ncommit = \"bfc233ce244ade751e665dcb6bbb3df497cbec28\"\nlicense = \"none\"\nexpect_rules_at_least = 55\n",
            corpus.display().to_string()
        ),
    )
    .unwrap();
    let output = detwiki(temp.path(), &["build", "--config", "sources.toml", "--out", "site"]);
    assert!(output.status.success(), "{}\n{}", text(&output.stdout), text(&output.stderr));
    let site = temp.path().join("site");
    let browse = read_json(&site.join("rules/index.json"));
    let rule = browse["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["id"].as_str().is_some_and(|id| id.ends_with("detectmsiexecexecutingdllnetworkconnections")))
        .expect("the msiexec rule has a page");
    let folder = site.join(rule["path"].as_str().unwrap());
    let twin = read_json(&folder.join("index.json"));
    let page = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(twin["title"].as_str().is_some_and(|title| !title.is_empty()));
    assert!(twin["description_html"].as_str().is_some_and(|html| html.contains("<p>")), "description rendered");
    assert!(page.contains("Robbe Van den Daele"));
    assert!(page.contains("T1218.007"));
    let permalink = twin["provenance"]["permalink"].as_str().expect("permalink");
    assert!(permalink.contains("bfc233c"), "{permalink}");
    assert!(page.contains(&format!("href=\"{permalink}\"")));
    assert!(twin["queries"].as_array().unwrap().iter().all(|query| query["language"] == "KQL"));
    assert!(page.contains(r#"<span class="badge lang">KQL</span>"#));
}
