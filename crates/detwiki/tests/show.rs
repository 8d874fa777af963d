//! `detwiki show`: a rule's catalog view in the terminal, and `--json` byte for byte the JSON twin
//! of its page.

mod common;

use common::{detwiki, text, workspace_root};

const RULE: &str = "demo-kql/msiexec-remote-package-network";

#[test]
fn show_prints_attack_events_and_indicators_with_counts() {
    let temp = tempfile::tempdir().unwrap();
    let config = workspace_root().join("detwiki.toml");
    let output = detwiki(temp.path(), &["show", "--config", config.to_str().unwrap(), RULE]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("Stealth | T1218.007 System Binary Proxy Execution: Msiexec"), "{shown}");
    assert!(shown.contains("Sysmon 3 Network connection"), "{shown}");
    // The KQL `FileName =~ "msiexec.exe"` and the demo rules of every other language count towards
    // one indicator (YARA-L through its anchored path regex, Elastic through EQL `process.name`).
    assert!(
        shown.contains("process_name eq msiexec.exe | 5 (elastic 1, kusto 1, sigma 1, splunk 1, yaral 1)"),
        "{shown}"
    );

    // A file path names the same rule.
    let file = workspace_root().join("examples/demo-corpus/kql/msiexec-remote-package-network.md");
    let by_path = detwiki(temp.path(), &["show", "--config", config.to_str().unwrap(), file.to_str().unwrap()]);
    assert!(by_path.status.success(), "{}", text(&by_path.stderr));
    assert_eq!(text(&by_path.stdout), shown);

    let missing = detwiki(temp.path(), &["show", "--config", config.to_str().unwrap(), "no/such-rule"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).starts_with("detwiki: no/such-rule"), "{}", text(&missing.stderr));
}

#[test]
fn show_json_is_the_page_twin() {
    let temp = tempfile::tempdir().unwrap();
    let config = workspace_root().join("detwiki.toml");
    let out = temp.path().join("site");
    let build = detwiki(temp.path(), &["build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(build.status.success(), "{}", text(&build.stderr));
    let output = detwiki(temp.path(), &["show", "--json", "--config", config.to_str().unwrap(), RULE]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let twin = std::fs::read_to_string(out.join("rules").join(RULE).join("index.json")).unwrap();
    assert_eq!(text(&output.stdout), twin);
    let json: serde_json::Value = serde_json::from_str(&twin).unwrap();
    let indicators = json["catalog"]["indicators"].as_array().cloned().unwrap_or_default();
    assert!(indicators.iter().any(|row| row["field"] == "process_name" && row["corpus"]["rules"] == 5));
}
