//! Issue 13's seed rule (HybridBrothers `Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md`)
//! answered from the catalog database of its source in `../shared` (skipped without it): `find`
//! by its parent-process indicator, `show` by the path its page shows, and `coverage` with the
//! example telemetry profiles (Sysmon and Security serve its Defender tables partly, Defender XDR
//! fully). `lint` of the source passes the SARIF validator.

mod common;

use common::{detwiki, read_json, text, workspace_root};
use detwiki_testkit::shared_dir;

const SEED_PATH: &str = "Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md";

#[test]
fn seed_rule_is_found_shown_and_covered() {
    let Some(shared) = shared_dir() else { return };
    let corpus = shared.join("corpus/HybridBrothers__Hunting-Queries-Detection-Rules");
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("sources.toml"),
        format!(
            "[[source]]\nname = \"HybridBrothers/Hunting-Queries-Detection-Rules\"\npath = {:?}\nlicense = \"none\"\n",
            corpus.display().to_string()
        ),
    )
    .unwrap();
    let build = detwiki(temp.path(), &["build", "--config", "sources.toml", "--out", "site"]);
    assert!(build.status.success(), "{}", text(&build.stderr));

    let found = detwiki(temp.path(), &["find", "--field", "parent_process_name", "--value", "msiexec.exe"]);
    let listed = text(&found.stdout);
    assert!(listed.contains(SEED_PATH), "{listed}{}", text(&found.stderr));

    let shown = detwiki(temp.path(), &["show", SEED_PATH]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(text(&shown.stdout).contains("T1218.007"), "{}", text(&shown.stdout));
    let absolute = corpus.join(SEED_PATH);
    let by_absolute = detwiki(temp.path(), &["show", absolute.to_str().unwrap()]);
    assert_eq!(text(&by_absolute.stdout), text(&shown.stdout), "{}", text(&by_absolute.stderr));

    let level = |profile: &str| {
        let file = workspace_root().join(format!("examples/telemetry/{profile}.toml"));
        let output = detwiki(temp.path(), &["coverage", "--json", "--telemetry", file.to_str().unwrap()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|rule| rule["rule"]["path"] == SEED_PATH)
            .map(|rule| rule["firing"].clone())
            .expect("the seed rule is counted")
    };
    let sysmon = level("sysmon-security");
    assert_eq!(sysmon["level"], "partial", "{sysmon}");
    let events: Vec<&str> =
        sysmon["datasets"].as_array().unwrap().iter().filter_map(|dataset| dataset["event"].as_str()).collect();
    assert!(events.iter().any(|event| event.starts_with("Sysmon ")), "{sysmon}");
    assert!(
        sysmon["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|dataset| !dataset["missing"].as_array().unwrap_or(&Vec::new()).is_empty()),
        "missing fields are listed: {sysmon}"
    );
    assert_eq!(level("defender-xdr")["level"], "full");

    let lint =
        detwiki(temp.path(), &["lint", "--config", "sources.toml", "--format", "sarif", "--output", "lint.sarif"]);
    let log = read_json(&temp.path().join("lint.sarif"));
    let root = log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"].as_str().unwrap_or_default().to_owned();
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
    let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(lint.status.code(), Some(if results.is_empty() { 0 } else { 1 }));
    let validator = detwiki_testkit::tools_dir().join("sarif/node_modules/.bin/sarif-multitool");
    let Some(validator) = detwiki_testkit::existing(validator, "the SARIF validator .ci/run installs") else { return };
    let report = temp.path().join("lint.validation.sarif");
    let output = std::process::Command::new(&validator)
        .args(["validate", "--output"])
        .arg(&report)
        .arg(temp.path().join("lint.sarif"))
        .output()
        .unwrap();
    assert!(report.is_file(), "{}", text(&output.stdout));
    let validation = read_json(&report);
    let errors = validation["runs"][0]["results"]
        .as_array()
        .map(|results| results.iter().filter(|result| result["level"] == "error").count())
        .unwrap_or(0);
    assert_eq!(errors, 0, "{validation}");
}
