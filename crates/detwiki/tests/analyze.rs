//! `detwiki analyze --json` on a file of each format prints one valid JSON document per rule.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{detwiki, text, workspace_root};

const SENTINEL_RULE: &str = r#"id: 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
name: Msiexec installs a remote package
description: |
  Finds msiexec.exe started with an HTTP(S) package URL.
severity: Medium
status: Available
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - DeviceProcessEvents
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - DefenseEvasion
relevantTechniques:
  - T1218.007
query: |
  DeviceProcessEvents
  | where FileName =~ "msiexec.exe"
  | where ProcessCommandLine has_any ("http://", "https://")
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: DeviceName
version: 1.0.0
kind: Scheduled
"#;

/// Runs `analyze --json FILE` and checks every line; returns the parsed lines.
fn analyze_json(file: &std::path::Path) -> Vec<serde_json::Value> {
    let output = detwiki(&workspace_root(), &["analyze", "--json", file.to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{}: invalid JSON line: {error}\n{line}", file.display()))
        })
        .collect();
    assert!(!lines.is_empty(), "{}: no rule printed; stderr: {}", file.display(), text(&output.stderr));
    for line in &lines {
        assert_eq!(line["version"], 1);
        assert!(line["rule"]["id"].is_string());
        assert!(line["rule"]["queries"].is_array());
        assert!(line["analyses"].is_array());
    }
    lines
}

#[test]
fn each_format_gives_valid_json_lines() {
    let demo = workspace_root().join("examples/demo-corpus");
    let cases = [
        ("kql/msiexec-remote-package-network.md", "markdown", "kusto"),
        ("kql/password-spray-signins.kql", "kql", "kusto"),
        ("sigma/rules/windows/builtin/security/win_security_failed_logon_burst.yml", "sigma_yaml", "sigma"),
        ("elastic/rules/windows/execution_msiexec_network_sequence.toml", "elastic_toml", "elastic"),
        ("splunk/detections/endpoint/msiexec_remote_package.yml", "splunk_yaml", "splunk"),
        ("yaral/rules/windows/msiexec_remote_package_network.yaral", "yaral", "yaral"),
    ];
    for (path, format, family) in cases {
        let lines = analyze_json(&demo.join(path));
        for line in &lines {
            assert_eq!(line["rule"]["format"], format, "{path}");
            assert_eq!(line["rule"]["family"], family, "{path}");
        }
    }

    // A Sentinel analytic rule, written here.
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("msiexec_remote_package.yaml");
    std::fs::write(&file, SENTINEL_RULE).unwrap();
    let lines = analyze_json(&file);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rule"]["format"], "sentinel_yaml");
    // KQL has an engine: its analysis is there, with spans inside the file.
    let analyses = lines[0]["analyses"].as_array().unwrap();
    assert!(!analyses.is_empty());
    let end = analyses[0]["analysis"]["span"]["end"].as_u64().unwrap();
    assert!(end as usize <= SENTINEL_RULE.len());
    assert!(analyses[0]["analysis"]["span"]["start"].as_u64().unwrap() > 0, "span mapped to the file");
}

#[test]
fn a_sigma_collection_gives_one_line_per_rule() {
    let file = workspace_root()
        .join("examples/demo-corpus/sigma/rules/windows/builtin/security/win_security_failed_logon_burst.yml");
    let lines = analyze_json(&file);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["rule"]["queries"][0]["document"], 1);
}

#[test]
fn standard_input_with_a_language() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_detwiki"))
        .args(["analyze", "--lang", "kql", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"DeviceProcessEvents\n| where FileName ==\n").unwrap();
    let output = child.wait_with_output().unwrap();
    // The query has an error: exit 1, and the diagnostic is rendered path:line:column.
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("<stdin>:2:"), "{stdout}");
    assert!(stdout.contains("error["), "{stdout}");
}

#[test]
fn missing_paths_and_bad_flags() {
    let output = detwiki(&workspace_root(), &["analyze", "no/such/file.kql"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).starts_with("detwiki: no/such/file.kql: no such file or folder"));
    let output = detwiki(&workspace_root(), &["analyze", "--lang", "cobol", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).starts_with("detwiki: invalid value 'cobol'"), "{}", text(&output.stderr));
    let output = detwiki(&workspace_root(), &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("Exit codes:"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let demo = workspace_root().join("examples/demo-corpus");
    let demo = demo.to_str().unwrap();
    // Thirty copies of the demo corpus print megabytes: far more than a pipe holds.
    let mut arguments = vec!["analyze", "--json"];
    arguments.extend(std::iter::repeat_n(demo, 30));
    let mut child = Command::new(env!("CARGO_BIN_EXE_detwiki"))
        .args(&arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"version\":1"));
    // The reader is dropped here: the binary's next writes fail with a broken pipe.
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("panicked"));
}

/// Raw Elastic query files: one per language, named by extension.
const ELASTIC_QUERIES: &[(&str, &str, &str)] = &[
    (
        "sequence.eql",
        "eql",
        "sequence by host.id with maxspan=1m\n  [process where process.name : \"msiexec.exe\"]\n  [network where process.name : \"msiexec.exe\"]\n",
    ),
    (
        "stats.esql",
        "esql",
        "FROM logs-endpoint.events.process-*\n| WHERE process.name == \"msiexec.exe\"\n| STATS n = COUNT(*) BY host.name\n",
    ),
    ("filter.kuery", "kuery", "process.name : \"msiexec.exe\" and not user.name : SYSTEM\n"),
    ("filter.lucene", "lucene", "process.name:msiexec.exe AND NOT user.name:SYSTEM\n"),
];

fn write_elastic_queries(folder: &std::path::Path) {
    for (name, _, text) in ELASTIC_QUERIES {
        std::fs::write(folder.join(name), text).unwrap();
    }
}

/// `analyze --json` lines of a run that must succeed.
fn json_lines(arguments: &[&str]) -> Vec<serde_json::Value> {
    let output = detwiki(&workspace_root(), arguments);
    assert_eq!(output.status.code(), Some(0), "{arguments:?}: {}", text(&output.stderr));
    text(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// Every predicate leaf of an Expr tree as `field op value`.
fn leaves(expr: &serde_json::Value, out: &mut Vec<String>) {
    if expr["type"] == "predicate" {
        let value = expr["values"][0]["value"].as_str().unwrap_or_default();
        out.push(format!("{} {} {value}", expr["field"].as_str().unwrap_or_default(), expr["op"]));
    }
    for child in expr["items"].as_array().into_iter().flatten().chain(expr.get("item")) {
        leaves(child, out);
    }
}

#[test]
fn elastic_query_files_by_language() {
    let temp = tempfile::tempdir().unwrap();
    write_elastic_queries(temp.path());
    for (name, language, _) in ELASTIC_QUERIES {
        let file = temp.path().join(name);
        let lines = json_lines(&["analyze", "--json", "--lang", language, file.to_str().unwrap()]);
        assert_eq!(lines.len(), 1, "{name}");
        let line = &lines[0];
        assert_eq!(line["version"], 1);
        assert_eq!(line["rule"]["family"], "elastic", "{name}");
        assert_eq!(line["rule"]["format"], "elastic_query", "{name}");
        assert_eq!(line["rule"]["queries"][0]["language"], *language, "{name}");
        let analysis = &line["analyses"][0]["analysis"];
        assert_eq!(analysis["language"], *language, "{name}");
        assert!(analysis.get("diagnostics").is_none(), "{name}: {}", analysis["diagnostics"]);
        let mut found = Vec::new();
        for stage in analysis["stages"].as_array().into_iter().flatten() {
            if let Some(tree) = stage.get("predicate") {
                leaves(tree, &mut found);
            }
        }
        assert!(
            found.iter().any(|leaf| leaf.starts_with("process.name ") && leaf.ends_with(" msiexec.exe")),
            "{name}: {found:?}"
        );
    }

    // The EQL sequence: two steps on their event categories, joined by host.id within a minute.
    let file = temp.path().join("sequence.eql");
    let eql =
        &json_lines(&["analyze", "--json", "--lang", "eql", file.to_str().unwrap()])[0]["analyses"][0]["analysis"];
    let roles: Vec<&str> =
        eql["datasets"].as_array().unwrap().iter().filter_map(|dataset| dataset["role"].as_str()).collect();
    assert_eq!(roles, ["sequence_step", "sequence_step"]);
    assert_eq!(eql["group_by"][0], "host.id");
    assert_eq!(eql["time_window"]["seconds"], 60);
    // ES|QL: the FROM pattern is the dataset and the STATS keys the group-by.
    let file = temp.path().join("stats.esql");
    let esql =
        &json_lines(&["analyze", "--json", "--lang", "esql", file.to_str().unwrap()])[0]["analyses"][0]["analysis"];
    assert_eq!(esql["datasets"][0]["name"], "logs-endpoint.events.process-*");
}

#[test]
fn elastic_query_folders_and_errors() {
    let temp = tempfile::tempdir().unwrap();
    write_elastic_queries(temp.path());
    let folder = temp.path().to_str().unwrap();
    // Without --lang every file is read by its extension; with it, only that language is kept.
    let all = json_lines(&["analyze", "--json", folder]);
    let mut languages: Vec<&str> =
        all.iter().filter_map(|line| line["rule"]["queries"][0]["language"].as_str()).collect();
    languages.sort();
    assert_eq!(languages, ["eql", "esql", "kuery", "lucene"]);
    for (name, language, _) in ELASTIC_QUERIES {
        let only = json_lines(&["analyze", "--json", "--lang", language, folder]);
        assert_eq!(only.len(), 1, "--lang {language}");
        assert!(only[0]["rule"]["provenance"]["path"].as_str().unwrap().ends_with(name));
    }

    // A raw query under another extension is read as the language given; a broken one is located.
    let broken = temp.path().join("broken.txt");
    std::fs::write(&broken, "process where\n  process.name : (\"a\", \n").unwrap();
    let output = detwiki(&workspace_root(), &["analyze", "--lang", "eql", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("broken.txt:"), "{stdout}");
    assert!(stdout.contains("error["), "{stdout}");
    let lines = json_lines_allowing_errors(&["analyze", "--json", "--lang", "kuery", broken.to_str().unwrap()]);
    let diagnostics = &lines[0]["analyses"][0]["analysis"]["diagnostics"];
    assert!(diagnostics.as_array().is_some_and(|list| !list.is_empty()), "{}", lines[0]);
}

/// `analyze --json` lines of a run that may report diagnostics (exit 1).
fn json_lines_allowing_errors(arguments: &[&str]) -> Vec<serde_json::Value> {
    let output = detwiki(&workspace_root(), arguments);
    assert_ne!(output.status.code(), Some(2), "{arguments:?}: {}", text(&output.stderr));
    text(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}
