//! Related rules on real corpus pairs: a Chronicle rule converted from Sigma next to its original
//! (declared link and computed equivalence), a Sigma `related: derived` link resolved in both
//! directions, and a broader/narrower pair of WMIC rules.
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, RelatedView, RuleView, SourceEntry};
use detwiki_knowledge::Knowledge;

fn shared() -> Option<PathBuf> {
    let path = std::env::var_os("DETWIKI_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if path.join("corpus/MANIFEST.toml").is_file() {
        return Some(path);
    }
    if std::env::var("DETWIKI_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{} is missing and DETWIKI_REQUIRE_SHARED=1", path.display());
    }
    println!("SKIPPED: {} not found", path.display());
    None
}

const SIGMA_RDP: &str = "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_reg_rdp_keys_tamper.yml";
const YARAL_RDP: &str = "chronicle__detection-rules/rules/community/microsoft/windows/potential_tampering_with_rdp_related_registry_keys_via_reg_exe.yaral";
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

#[test]
fn converted_rule_and_its_sigma_original_are_equivalent() {
    let Some(shared) = shared() else { return };
    let (catalog, index) = catalog_of(&shared, &[SIGMA_RDP, YARAL_RDP, SIGMA_WMIC, SIGMA_MSIEXEC]);
    let yaral = view_of(&catalog, &index, YARAL_RDP);
    let sigma = view_of(&catalog, &index, SIGMA_RDP);
    println!("YARA-L:\n{}\nSigma:\n{}", describe(&yaral.related), describe(&sigma.related));

    assert_eq!(kinds_towards(&yaral, &catalog, SIGMA_RDP), ["converted_from", "equivalent"]);
    assert_eq!(kinds_towards(&sigma, &catalog, YARAL_RDP), ["converted_from", "equivalent"]);
    let declared = &yaral.related[0];
    assert_eq!(declared.direction, Some("references"));
    assert_eq!(declared.target.as_deref(), Some("0d5675be-bc88-4172-86d3-1e96a4476536"));
    assert_eq!(sigma.related[0].direction, Some("referenced_by"));
    let computed = yaral.related.iter().find(|related| related.kind == "equivalent").expect("equivalent");
    assert!(computed.score.is_some_and(|score| score.value() >= detwiki_catalog::EQUIVALENT_THRESHOLD));
    assert!(computed.reason.contains("process_command_line"), "{}", computed.reason);
    // Rules on the same events about other things are not equivalent.
    assert!(!kinds_towards(&yaral, &catalog, SIGMA_WMIC).contains(&"equivalent"));
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
    let back = original.related.iter().find(|related| related.kind == "derived").expect("reverse link");
    assert_eq!(back.direction, Some("referenced_by"));
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
