//! Related rules on real corpus pairs: a Chronicle rule converted from Sigma next to its original
//! among all SigmaHQ process-creation rules (declared link and computed equivalence), a Sigma `related: derived` link resolved in both
//! directions, and a broader/narrower pair of WMIC rules.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, RelatedView, RuleView, SourceEntry};
use detwiki_knowledge::Knowledge;
use detwiki_testkit::shared_dir as shared;

const SIGMA_RDP: &str = "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_reg_rdp_keys_tamper.yml";
const SIGMA_PRINTBRM: &str = "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_lolbin_printbrm.yml";
const YARAL_PRINTBRM: &str =
    "chronicle__detection-rules/rules/community/microsoft/windows/printbrm_zip_creation_or_extraction.yaral";
const SIGMA_WMIC: &str = "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_wmic_process_creation.yml";
const SIGMA_WMIC_SUSPICIOUS: &str =
    "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_wmic_susp_process_creation.yml";
const SIGMA_WMIC_REMOTE: &str = "SigmaHQ__sigma/deprecated/windows/proc_creation_win_wmic_remote_command.yml";
const SIGMA_MSIEXEC: &str = "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_msiexec_web_install.yml";

/// The catalog of the named corpus files (one source), with its index.
fn catalog_of(shared: &Path, files: &[&str]) -> (Catalog, CatalogIndex) {
    let paths: Vec<PathBuf> = files.iter().map(|file| shared.join("corpus").join(file)).collect();
    for path in &paths {
        assert!(path.is_file(), "{} is missing from the corpus", path.display());
    }
    let read = detwiki_sources::read_paths(&paths);
    let catalog = Catalog::build(vec![(SourceEntry { info: read.info, context: read.context }, read.rules)], &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    (catalog, index)
}

/// The view of the rule read from `file`.
fn view_of(catalog: &Catalog, index: &CatalogIndex, file: &str) -> RuleView {
    let name = Path::new(file).file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let position = catalog
        .rules
        .iter()
        .position(|entry| entry.rule.provenance.path.ends_with(name))
        .unwrap_or_else(|| panic!("{file} is not in the catalog"));
    RuleView::new(catalog, index, position).expect("view")
}

/// The related entries of `view` that name the rule read from `file`, as `kind` strings.
fn kinds_towards(view: &RuleView, catalog: &Catalog, file: &str) -> Vec<&'static str> {
    let name = Path::new(file).file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let ids: Vec<&str> = catalog
        .rules
        .iter()
        .filter(|entry| entry.rule.provenance.path.ends_with(name))
        .map(|entry| entry.rule.id.as_str())
        .collect();
    view.related
        .iter()
        .filter(|related| related.rule.as_deref().is_some_and(|rule| ids.contains(&rule)))
        .map(|related| related.kind)
        .collect()
}

fn describe(related: &[RelatedView]) -> String {
    related
        .iter()
        .map(|related| format!("{} {:?} {:?}: {}", related.kind, related.rule, related.score, related.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every SigmaHQ Windows process-creation rule: indicator weights depend on how many rules share
/// an indicator, so equivalence is checked against a realistic background.
fn process_creation_rules(shared: &Path) -> Vec<String> {
    let folder = shared.join("corpus/SigmaHQ__sigma/rules/windows/process_creation");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
                .filter(|name| name.ends_with(".yml"))
                .map(|name| format!("SigmaHQ__sigma/rules/windows/process_creation/{name}"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn converted_rule_and_its_sigma_original_are_equivalent() {
    let Some(shared) = shared() else { return };
    let mut files = process_creation_rules(&shared);
    assert!(files.len() > 500, "SigmaHQ process-creation rules: {}", files.len());
    files.push(YARAL_PRINTBRM.to_owned());
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let (catalog, index) = catalog_of(&shared, &files);
    let yaral = view_of(&catalog, &index, YARAL_PRINTBRM);
    let sigma = view_of(&catalog, &index, SIGMA_PRINTBRM);
    println!("YARA-L:\n{}\nSigma:\n{}", describe(&yaral.related), describe(&sigma.related));
    assert!(index.related.iter().any(|related| !related.is_empty()));

    assert_eq!(kinds_towards(&yaral, &catalog, SIGMA_PRINTBRM), ["converted_from", "equivalent"]);
    assert_eq!(kinds_towards(&sigma, &catalog, YARAL_PRINTBRM), ["converted_from", "equivalent"]);
    let declared = &yaral.related[0];
    assert_eq!(declared.direction, Some("references"));
    assert_eq!(declared.target.as_deref(), Some("cafeeba3-01da-4ab4-b6c4-a31b1d9730c7"));
    assert_eq!(sigma.related[0].direction, Some("referenced_by"));
    let computed = yaral.related.iter().find(|related| related.kind == "equivalent").expect("equivalent");
    assert!(computed.score.is_some_and(|score| score.value() >= detwiki_catalog::EQUIVALENT_THRESHOLD));
    assert!(computed.reason.contains("process_command_line"), "{}", computed.reason);
    // Rules on the same events about other things are not equivalent.
    assert!(!kinds_towards(&yaral, &catalog, SIGMA_WMIC).contains(&"equivalent"));
    assert!(!kinds_towards(&yaral, &catalog, SIGMA_RDP).contains(&"equivalent"));
    assert!(!kinds_towards(&yaral, &catalog, SIGMA_MSIEXEC).contains(&"equivalent"));
}

#[test]
fn sigma_related_links_resolve_both_ways() {
    let Some(shared) = shared() else { return };
    let (catalog, index) = catalog_of(&shared, &[SIGMA_WMIC, SIGMA_WMIC_SUSPICIOUS]);
    let derived = view_of(&catalog, &index, SIGMA_WMIC);
    let original = view_of(&catalog, &index, SIGMA_WMIC_SUSPICIOUS);
    let link = derived.related.iter().find(|related| related.kind == "derived").expect("derived link");
    assert_eq!(link.direction, Some("references"));
    assert_eq!(link.target.as_deref(), Some("3c89a1e8-0fba-449e-8f1b-8409d6267ec8"));
    assert!(link.rule.is_some(), "the original is in the catalog");
    let back = original
        .related
        .iter()
        .find(|related| related.kind == "derived" && related.direction == Some("referenced_by"))
        .expect("reverse link");
    assert_eq!(back.rule.as_deref(), Some(derived.id.as_str()));
    // Declared links are not correlation or filter links.
    assert!(derived.links.is_empty());
}

#[test]
fn a_rule_with_one_more_condition_is_narrower() {
    let Some(shared) = shared() else { return };
    let (catalog, index) = catalog_of(&shared, &[SIGMA_WMIC, SIGMA_WMIC_REMOTE, SIGMA_RDP]);
    let general = view_of(&catalog, &index, SIGMA_WMIC);
    let remote = view_of(&catalog, &index, SIGMA_WMIC_REMOTE);
    println!("general:\n{}\nremote:\n{}", describe(&general.related), describe(&remote.related));
    assert_eq!(kinds_towards(&general, &catalog, SIGMA_WMIC_REMOTE), ["narrower"]);
    assert_eq!(kinds_towards(&remote, &catalog, SIGMA_WMIC), ["broader"]);
    let broader = remote.related.iter().find(|related| related.kind == "broader").expect("broader");
    assert!(broader.reason.starts_with("it asks for 5 of this rule's 6 indicators"), "{}", broader.reason);
}
