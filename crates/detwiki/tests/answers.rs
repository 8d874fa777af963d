//! The commands that answer from the catalog database (`show`, `find`, `coverage`, `export`) and
//! `lint`, on the demo corpus, with their outputs opened by their real consumers: the SARIF
//! validator (`@microsoft/sarif-multitool`), `mitreattack-python`'s layer library and the ATT&CK
//! v19 bundle. Each consumer missing prints `SKIPPED:` unless `DETWIKI_REQUIRE_SHARED=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{detwiki, read_json, text, workspace_root};
use detwiki_testkit::shared_dir;

/// Builds the demo catalog into `dir/site` and returns the site folder.
fn build_demo(dir: &Path) -> PathBuf {
    let config = workspace_root().join("detwiki.toml");
    let output = detwiki(dir, &["build", "--config", config.to_str().unwrap(), "--out", "site"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir.join("site")
}

/// The tool at `relative` under the tools folder, or `None` after a `SKIPPED:` line.
fn tool(test: &str, relative: &str) -> Option<PathBuf> {
    detwiki_testkit::existing(detwiki_testkit::tools_dir().join(relative), &format!("{test}: a tool .ci/run installs"))
}

#[test]
fn the_build_writes_a_database_that_show_and_find_answer_from() {
    let temp = tempfile::tempdir().unwrap();
    let site = build_demo(temp.path());
    assert!(site.join("catalog.sqlite").is_file());

    // From the folder holding site/: by id, by the path the page shows, by a title fragment.
    let by_id = detwiki(temp.path(), &["show", "demo-kql/msiexec-remote-package-network"]);
    assert!(by_id.status.success(), "{}", text(&by_id.stderr));
    let shown = text(&by_id.stdout);
    assert!(
        shown.contains("process_name eq msiexec.exe | 5 (elastic 1, kusto 1, sigma 1, splunk 1, yaral 1)"),
        "{shown}"
    );
    let by_path = detwiki(temp.path(), &["show", "msiexec-remote-package-network.md"]);
    assert_eq!(text(&by_path.stdout), shown, "{}", text(&by_path.stderr));
    let absolute = workspace_root().join("examples/demo-corpus/kql/msiexec-remote-package-network.md");
    let by_absolute = detwiki(temp.path(), &["show", absolute.to_str().unwrap()]);
    assert_eq!(text(&by_absolute.stdout), shown, "{}", text(&by_absolute.stderr));

    // --json is the page's twin, byte for byte.
    let json = detwiki(temp.path(), &["show", "--json", "demo-kql/msiexec-remote-package-network"]);
    let twin = std::fs::read_to_string(site.join("rules/demo-kql/msiexec-remote-package-network/index.json")).unwrap();
    assert_eq!(text(&json.stdout), twin);

    // A fragment shared by several titles lists the candidates and fails.
    let ambiguous = detwiki(temp.path(), &["show", "e"]);
    assert_eq!(ambiguous.status.code(), Some(1));
    assert!(text(&ambiguous.stderr).contains("rules match"), "{}", text(&ambiguous.stderr));
    assert!(text(&ambiguous.stdout).lines().count() > 1);

    let found = detwiki(temp.path(), &["find", "--field", "process_name", "--value", "MSIEXEC.exe", "--json"]);
    assert!(found.status.success(), "{}", text(&found.stderr));
    let document: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    let families: Vec<&str> =
        document["rules"].as_array().unwrap().iter().filter_map(|rule| rule["rule"]["family"].as_str()).collect();
    assert!(families.contains(&"kusto") && families.contains(&"sigma"), "{document}");
    // The Sigma rule writes a path suffix; the answer says so.
    let sigma = document["rules"].as_array().unwrap().iter().find(|rule| rule["rule"]["family"] == "sigma").unwrap();
    assert!(sigma["indicators"][0]["written_op"].as_str().is_some_and(|op| op.contains("endswith")), "{sigma}");

    // Filters combine: the same indicator, only Sigma rules.
    let sigma_only =
        detwiki(temp.path(), &["find", "--field", "process_name", "--value", "msiexec.exe", "--language", "sigma"]);
    let listed = text(&sigma_only.stdout);
    assert!(listed.contains("demo-sigma/") && !listed.contains("demo-kql/"), "{listed}");
    let by_event = detwiki(temp.path(), &["find", "--event", "Sysmon:3", "--technique", "T1218"]);
    assert!(text(&by_event.stdout).contains("event: Sysmon 3"), "{}", text(&by_event.stdout));

    let nothing = detwiki(temp.path(), &["find"]);
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn database_is_deterministic_and_documented_queries_run() {
    let temp = tempfile::tempdir().unwrap();
    let site = build_demo(temp.path());
    let first = std::fs::read(site.join("catalog.sqlite")).unwrap();
    let again = tempfile::tempdir().unwrap();
    let second = std::fs::read(build_demo(again.path()).join("catalog.sqlite")).unwrap();
    assert!(first == second, "two builds of the same inputs give different databases");

    let doc = std::fs::read_to_string(workspace_root().join("docs/sqlite.md")).unwrap();
    let queries: Vec<&str> = doc.split("```sql\n").skip(1).filter_map(|rest| rest.split("```").next()).collect();
    assert_eq!(queries.len(), 3, "docs/sqlite.md documents three queries");
    let Some(sqlite3) = which("database_is_deterministic_and_documented_queries_run", "sqlite3") else { return };
    for query in queries {
        let output = Command::new(&sqlite3).arg(site.join("catalog.sqlite")).arg(query).output().unwrap();
        assert!(output.status.success(), "{query}\n{}", text(&output.stderr));
        assert!(!text(&output.stdout).trim().is_empty(), "no row for {query}");
    }
}

/// A program on PATH, or `None` after a `SKIPPED:` line.
fn which(test: &str, program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|path| path.is_file()))
        .unwrap_or_default();
    found.or_else(|| detwiki_testkit::missing(&format!("{test}: {program} is not on PATH")))
}

#[test]
fn lint_writes_sarif_the_validator_accepts_and_baselines_suppress() {
    let temp = tempfile::tempdir().unwrap();
    let corpus = workspace_root().join("examples/demo-corpus");
    let output = detwiki(
        temp.path(),
        &["lint", "--format", "sarif", "--severity", "note", "--output", "lint.sarif", corpus.to_str().unwrap()],
    );
    let log = read_json(&temp.path().join("lint.sarif"));
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(output.status.code(), Some(if results.is_empty() { 0 } else { 1 }), "{}", text(&output.stderr));
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    for result in &results {
        assert!(result["partialFingerprints"]["detwikiFinding/v1"].is_string());
        assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
    }

    // Every finding is known once written to a baseline.
    let write = detwiki(
        temp.path(),
        &["lint", "--severity", "note", "--write-baseline", "baseline.json", corpus.to_str().unwrap()],
    );
    assert!(temp.path().join("baseline.json").is_file(), "{}", text(&write.stderr));
    let quiet =
        detwiki(temp.path(), &["lint", "--severity", "note", "--baseline", "baseline.json", corpus.to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(0), "{}{}", text(&quiet.stdout), text(&quiet.stderr));
    assert!(text(&quiet.stdout).starts_with("0 finding(s)"), "{}", text(&quiet.stdout));

    let Some(validator) = tool("lint_sarif_validates", "sarif/node_modules/.bin/sarif-multitool") else { return };
    validate_sarif(&validator, &temp.path().join("lint.sarif"));
}

/// Runs `sarif-multitool validate` and fails on any error-level result in its output log (its
/// exit code says nothing about the file).
pub fn validate_sarif(validator: &Path, file: &Path) {
    let report = file.with_extension("validation.sarif");
    let output = Command::new(validator)
        .args(["validate", "--output"])
        .arg(&report)
        .arg(file)
        .output()
        .expect("the SARIF validator runs");
    assert!(report.is_file(), "no validation log: {}{}", text(&output.stdout), text(&output.stderr));
    let validation = read_json(&report);
    let errors: Vec<String> = validation["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|run| run["results"].as_array().cloned().unwrap_or_default())
        .filter(|result| result["level"] == "error")
        .map(|result| result.to_string())
        .collect();
    assert!(errors.is_empty(), "the SARIF validator reports errors: {errors:#?}");
}

#[test]
fn coverage_layers_load_in_mitreattack_python() {
    let temp = tempfile::tempdir().unwrap();
    build_demo(temp.path());
    let mut layers = Vec::new();
    for profile in ["sysmon-security", "defender-xdr", "elastic-defend"] {
        let file = workspace_root().join(format!("examples/telemetry/{profile}.toml"));
        let output = detwiki(temp.path(), &["coverage", "--telemetry", file.to_str().unwrap()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stderr).is_empty(), "profile {profile} has problems: {}", text(&output.stderr));
        let shown = text(&output.stdout);
        assert!(shown.contains(&format!("telemetry {profile}:")), "{shown}");
        layers.push(temp.path().join(format!("{profile}-layer.json")));
    }
    // The demo KQL msiexec rule reads Defender tables: Sysmon and Security serve it partly, with
    // the missing fields named; Defender XDR in full.
    let json = detwiki(
        temp.path(),
        &[
            "coverage",
            "--json",
            "--telemetry",
            workspace_root().join("examples/telemetry/defender-xdr.toml").to_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["rule"]["id"] == "demo-kql/msiexec-remote-package-network")
        .unwrap();
    assert_eq!(rule["firing"]["level"], "full", "{rule}");
    let without = detwiki(temp.path(), &["coverage", "--layer", "all.json"]);
    assert!(without.status.success());
    let all = read_json(&temp.path().join("all.json"));
    let scored = all["techniques"].as_array().unwrap();
    assert!(scored.iter().any(|technique| technique["techniqueID"] == "T1218.007"), "{all}");
    assert!(text(&without.stdout).contains("T1003.001"), "zero-rule techniques are listed too");
    layers.push(temp.path().join("all.json"));

    let exported = detwiki(temp.path(), &["export", "--format", "navigator", "--out", "layers"]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    layers.push(temp.path().join("layers/all.json"));
    layers.push(temp.path().join("layers/kusto.json"));

    let ndjson = detwiki(temp.path(), &["export", "--format", "ndjson", "--out", "rules.ndjson"]);
    assert!(ndjson.status.success(), "{}", text(&ndjson.stderr));
    let lines = std::fs::read_to_string(temp.path().join("rules.ndjson")).unwrap();
    let browse = read_json(&temp.path().join("site/rules/index.json"));
    assert_eq!(lines.lines().count(), browse["rules"].as_array().unwrap().len());

    let Some(shared) = shared_dir() else { return };
    let Some(python) = tool("coverage_layers_load_in_mitreattack_python", "venv/bin/python") else { return };
    check_layers(&python, &shared.join("knowledge/attack/enterprise-attack-19.partial.json.gz"), &layers);
}

/// Loads each layer with `mitreattack.navlayers.Layer` (which prints its warnings) and checks every
/// technique ID against the v19 bundle and every score against the layer's own rule count.
pub fn check_layers(python: &Path, bundle: &Path, layers: &[PathBuf]) {
    let script = r#"
import contextlib, gzip, io, json, sys
from mitreattack.navlayers import Layer
bundle = json.load(gzip.open(sys.argv[1]))
ids = {ref["external_id"] for obj in bundle["objects"] if obj.get("type") == "attack-pattern"
       for ref in obj.get("external_references", []) if ref.get("source_name") == "mitre-attack"}
for path in sys.argv[2:]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        layer = Layer()
        layer.from_file(path)
    if printed.getvalue().strip():
        sys.exit(f"{path}: the layer library printed: {printed.getvalue()}")
    data = layer.to_dict()
    if data["versions"]["layer"] != "4.5" or data["domain"] != "enterprise-attack":
        sys.exit(f"{path}: unexpected versions {data['versions']}")
    for technique in data.get("techniques", []):
        if technique["techniqueID"] not in ids:
            sys.exit(f"{path}: {technique['techniqueID']} is not in the v19 bundle")
        if not technique.get("score", 0) > 0:
            sys.exit(f"{path}: {technique['techniqueID']} has no score")
print("ok", len(sys.argv) - 2)
"#;
    let output = Command::new(python).arg("-c").arg(script).arg(bundle).args(layers).output().unwrap();
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
}
