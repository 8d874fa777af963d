//! The database answers as the in-memory catalog it was written from: the demo corpus is read,
//! catalogued and written, then every rule's firing with each example telemetry profile (from
//! the stored event-coverage rows) must equal the catalog's own ([`rule_firing`] over the rows'
//! [`CoverageRow::need`]), and the stored documents must decompress to what was written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, SourceEntry, TelemetryProfile, catalog_findings, rule_firing};
use detwiki_db::{CatalogDb, CoverageQuery, Resolved, WriteInput, write_catalog};
use detwiki_knowledge::Knowledge;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo() -> (Catalog, CatalogIndex) {
    let source = detwiki_sources::read_paths(&[workspace().join("examples/demo-corpus")]);
    let catalog =
        Catalog::build(vec![(SourceEntry { info: source.info, context: source.context }, source.rules)], &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    (catalog, index)
}

fn written(catalog: &Catalog, index: &CatalogIndex, dir: &Path) -> PathBuf {
    let findings = catalog_findings(catalog, index, Knowledge::bundled());
    let path = dir.join("catalog.sqlite");
    let input = WriteInput { catalog, index, findings: &findings, roots: &BTreeMap::new(), generated: "" };
    write_catalog(&input, &path).expect("the database is written");
    path
}

#[test]
fn firing_from_the_database_equals_the_catalogs() {
    let (catalog, index) = demo();
    assert!(catalog.rules.len() > 5, "the demo corpus has rules");
    let temp = tempfile::tempdir().unwrap();
    let db = CatalogDb::open(&written(&catalog, &index, temp.path())).expect("the database opens");
    let mut partly_or_fully = 0;
    for name in ["sysmon-security", "defender-xdr", "elastic-defend"] {
        let file = workspace().join(format!("examples/telemetry/{name}.toml"));
        let profile =
            TelemetryProfile::from_toml(name, &std::fs::read_to_string(file).unwrap()).expect("example profile");
        let report = db.coverage(Knowledge::bundled(), &CoverageQuery::default(), Some(&profile)).unwrap();
        assert_eq!(report.rules.len(), catalog.rules.len());
        for (position, rule) in report.rules.iter().enumerate() {
            assert_eq!(rule.rule.id, catalog.rules[position].rule.id, "catalog order");
            let needs: Vec<_> = index.facts[position].coverage.iter().map(|row| row.need()).collect();
            let expected = rule_firing(&profile, &needs);
            assert_eq!(rule.firing.as_ref(), Some(&expected), "{name}: {}", rule.rule.id);
            if expected.level != detwiki_catalog::FireLevel::None {
                partly_or_fully += 1;
            }
        }
    }
    assert!(partly_or_fully > 0, "some demo rule can fire with some profile");
}

#[test]
fn stored_documents_read_back_and_two_writes_are_identical() {
    let (catalog, index) = demo();
    let temp = tempfile::tempdir().unwrap();
    let path = written(&catalog, &index, temp.path());
    let again = tempfile::tempdir().unwrap();
    let second = written(&catalog, &index, again.path());
    assert!(std::fs::read(&path).unwrap() == std::fs::read(second).unwrap(), "two writes differ");

    let db = CatalogDb::open(&path).unwrap();
    let position = catalog
        .rules
        .iter()
        .position(|entry| entry.rule.provenance.path.ends_with("kql/msiexec-remote-package-network.md"))
        .expect("the demo KQL msiexec rule");
    let Resolved::One(rule) = db.resolve(&catalog.rules[position].rule.id).unwrap() else {
        panic!("the demo KQL msiexec rule resolves by id");
    };
    let (text, twin) = db.documents(&rule).unwrap().expect("stored documents");
    let (folders, _) = detwiki_site::assign_folders(catalog.rules.iter().map(|entry| entry.rule.id.as_str()));
    assert!(text.contains("T1218.007"), "{text}");
    let expected: serde_json::Value =
        serde_json::from_str(&detwiki_site::rule_twin_json(&catalog, &index, position, &folders).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&twin).unwrap(), expected);
    let mut twins = 0;
    db.for_each_twin(|_| {
        twins += 1;
        true
    })
    .unwrap();
    assert_eq!(twins, catalog.rules.len());
}
