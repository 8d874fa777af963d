//! The catalog pages of a small hand-built catalog: a KQL rule and a Sigma rule that look for the
//! same process, one of them with a hostile value. Checks the rule page sections, the indicator
//! page listing both rules, the field, event, technique and matrix pages, and escaping.

use std::path::Path;
use std::sync::Arc;

use detwiki_catalog::{Catalog, CatalogRule, QueryAnalysis};
use detwiki_ir::{
    Analysis, BodyFormat, Dataset, DatasetRole, Expr, Family, FieldOrigin, Language, Metadata, Op, Predicate,
    Provenance, Rule, Span, Stage, Value,
};
use detwiki_site::{SiteOptions, build_site, format_timestamp};

fn predicate(field: &str, op: Op, value: &str) -> Expr {
    Expr::Predicate(Predicate {
        field: field.to_owned(),
        dataset: Some(0),
        resolved_field: None,
        origin: FieldOrigin::Event,
        functions: Vec::new(),
        op,
        written_op: op.as_str().to_owned(),
        values: vec![Value::string(value)],
        case_sensitive: false,
        all: false,
        transforms: Vec::new(),
        negated: false,
        time_filter: false,
        span: Span::default(),
    })
}

fn rule(id: &str, family: Family, dataset: Dataset, tree: Expr) -> CatalogRule {
    let analysis = Analysis {
        language: Some(if family == Family::Sigma { Language::Sigma } else { Language::Kql }),
        stages: vec![Stage { dataset: Some(0), predicate: Some(tree), ..Stage::new("where", Span::default()) }],
        datasets: vec![dataset],
        ..Analysis::default()
    };
    CatalogRule {
        rule: Rule {
            id: id.to_owned(),
            family,
            format: BodyFormat::Kql,
            provenance: Provenance { source: "test".to_owned(), path: format!("{id}.txt"), ..Provenance::default() },
            metadata: Metadata {
                title: Some(format!("Rule {id}")),
                tags: vec!["attack.t1218.007".to_owned()],
                ..Metadata::default()
            },
            body_span: Span::default(),
            queries: Vec::new(),
            diagnostics: Vec::new(),
            file_text: Arc::from("text"),
        },
        analyses: vec![QueryAnalysis { query: 0, name: None, analysis }],
        panic: None,
        links: Vec::new(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn catalog_pages_link_rules_by_canonical_indicator() {
    let mut sigma_dataset = Dataset::new("windows/process_creation", DatasetRole::Source, Span::default());
    sigma_dataset.attributes.insert("product".to_owned(), "windows".to_owned());
    sigma_dataset.attributes.insert("category".to_owned(), "process_creation".to_owned());
    let catalog = Catalog {
        sources: Vec::new(),
        rules: vec![
            rule(
                "test/kql",
                Family::Kusto,
                Dataset::new("DeviceProcessEvents", DatasetRole::Source, Span::default()),
                Expr::And {
                    items: vec![
                        predicate("FileName", Op::Eq, "msiexec.exe"),
                        predicate("ProcessCommandLine", Op::Contains, "<script>alert(1)</script>"),
                    ],
                },
            ),
            rule("test/sigma", Family::Sigma, sigma_dataset, predicate("Image", Op::EndsWith, "\\msiexec.exe")),
        ],
    };
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("site");
    let report = build_site(&catalog, &out, &SiteOptions::new(format_timestamp(0))).unwrap();
    assert!(report.pages > 5, "{report:?}");

    let rule_page = read(&out.join("rules/test/kql/index.html"));
    for section in ["id=\"attack\"", "id=\"events\"", "id=\"indicators\""] {
        assert!(rule_page.contains(section), "rule page lacks {section}");
    }
    let attack = rule_page.find("id=\"attack\"").unwrap_or(0);
    let events = rule_page.find("id=\"events\"").unwrap_or(0);
    let indicators = rule_page.find("id=\"indicators\"").unwrap_or(0);
    assert!(attack < events && events < indicators, "sections out of order");
    assert!(rule_page.contains("T1218.007 System Binary Proxy Execution: Msiexec"));
    assert!(!rule_page.contains("<script>alert(1)"), "a rule value reached the page unescaped");
    assert!(
        rule_page.contains("script&#62;alert(1)") || rule_page.contains("script&gt;alert(1)"),
        "the value is shown escaped"
    );

    let twin: serde_json::Value = serde_json::from_str(&read(&out.join("rules/test/kql/index.json"))).unwrap();
    let rows = twin["catalog"]["indicators"].as_array().cloned().unwrap_or_default();
    let process = rows.iter().find(|row| row["field"] == "process_name").expect("process_name row");
    assert_eq!(process["corpus"]["rules"], 2);
    let path = process["path"].as_str().expect("indicator path");

    let indicator: serde_json::Value = serde_json::from_str(&read(&out.join(path).join("index.json"))).unwrap();
    assert_eq!(indicator["total"], 2);
    let families: Vec<&str> =
        indicator["groups"].as_array().into_iter().flatten().filter_map(|group| group["family"].as_str()).collect();
    assert_eq!(families, ["kusto", "sigma"]);
    let html = read(&out.join(path).join("index.html"));
    assert!(html.contains("Rule test/kql") && html.contains("Rule test/sigma"));

    assert!(out.join("fields/process_name/index.html").is_file());
    assert!(out.join("events/Sysmon/1/index.html").is_file());
    assert!(out.join("events/Sysmon/index.html").is_file());
    assert!(out.join("events/index.html").is_file());
    let technique: serde_json::Value = serde_json::from_str(&read(&out.join("attack/T1218.007/index.json"))).unwrap();
    assert_eq!(technique["total"], 2);
    let matrix: serde_json::Value = serde_json::from_str(&read(&out.join("attack/index.json"))).unwrap();
    let stealth = matrix["tactics"].as_array().into_iter().flatten().find(|tactic| tactic["name"] == "Stealth");
    let t1218 = stealth
        .and_then(|tactic| tactic["techniques"].as_array())
        .into_iter()
        .flatten()
        .find(|technique| technique["id"] == "T1218")
        .cloned();
    assert_eq!(t1218.map(|technique| technique["rules"].clone()), Some(serde_json::json!(2)));

    // Same catalog, same pages.
    let again = temp.path().join("again");
    build_site(&catalog, &again, &SiteOptions::new(format_timestamp(0))).unwrap();
    assert_eq!(read(&out.join(path).join("index.html")), read(&again.join(path).join("index.html")));
    assert_eq!(read(&out.join("attack/index.json")), read(&again.join("attack/index.json")));
}

/// A rule whose body is over 100 KB: its page shows the body collapsed, every line anchored, with
/// the raw file beside it; a small body is shown open, anchored from its first file line.
#[test]
fn big_bodies_are_collapsed_with_the_raw_file_beside_them() {
    let line = "| where ProcessCommandLine has \"<b>x</b>\"\n";
    let big_text: String = line.repeat(110 * 1024 / line.len() + 1);
    let mut big = rule(
        "test/big",
        Family::Kusto,
        Dataset::new("DeviceProcessEvents", DatasetRole::Source, Span::default()),
        predicate("FileName", Op::Eq, "a.exe"),
    );
    big.rule.body_span = Span::new(0, big_text.len() as u32);
    big.rule.file_text = Arc::from(big_text.as_str());
    let mut small = rule(
        "test/small",
        Family::Kusto,
        Dataset::new("DeviceProcessEvents", DatasetRole::Source, Span::default()),
        predicate("FileName", Op::Eq, "a.exe"),
    );
    // The body starts on the file's third line.
    let small_text = "---\nfront: matter\nDeviceProcessEvents\n| take 1\n";
    small.rule.body_span = Span::new(18, small_text.len() as u32);
    small.rule.file_text = Arc::from(small_text);
    let catalog = Catalog { sources: Vec::new(), rules: vec![big, small] };
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("site");
    build_site(&catalog, &out, &SiteOptions::new(format_timestamp(0))).unwrap();

    let page = read(&out.join("rules/test/big/index.html"));
    assert!(page.contains(r#"<details class="body">"#));
    assert!(page.contains(r#"<a href="raw.txt">raw file</a>"#));
    // The first lines up to 48 KiB are shown, anchored; the raw file has the rest.
    let shown = 48 * 1024 / line.len();
    assert!(page.contains(&format!(r#"<span id="L{shown}">"#)) && !page.contains(&format!(r#"id="L{}""#, shown + 1)));
    assert!(page.len() < 150 * 1024, "{} bytes", page.len());
    assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x</b>"));
    assert_eq!(read(&out.join("rules/test/big/raw.txt")), big_text);

    let page = read(&out.join("rules/test/small/index.html"));
    assert!(!page.contains("<details class=\"body\">") && !out.join("rules/test/small/raw.txt").exists());
    assert!(page.contains("<span id=\"L3\">DeviceProcessEvents</span>\n<span id=\"L4\">| take 1</span>\n"), "{page}");
    assert!(!page.contains("id=\"L1\""));
}
