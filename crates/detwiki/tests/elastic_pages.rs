//! Elastic rule pages built from the shared corpus: building-block rules carry a banner and
//! `catalog.building_block` in their JSON twin, and the investigation guide (`note`) and `setup`
//! are rendered as sanitized Markdown sections rather than raw text under "Other fields".
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! test prints `SKIPPED:` and passes, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::path::Path;

use detwiki_catalog::{Catalog, SourceEntry};
use detwiki_site::{SiteOptions, build_site, format_timestamp, rule_folder};
use detwiki_testkit::shared_dir as shared;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn extra_text<'a>(rule: &'a detwiki_ir::Rule, key: &str) -> Option<&'a str> {
    rule.metadata.extra.get(key).and_then(serde_json::Value::as_str).filter(|text| !text.trim().is_empty())
}

#[test]
fn building_blocks_guides_and_setup_on_corpus_pages() {
    let Some(shared) = shared() else { return };
    let specs = detwiki_sources::load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("manifest");
    let spec = specs
        .iter()
        .find(|spec| detwiki_sources::source_name(spec) == "elastic/detection-rules")
        .expect("elastic source in the manifest");
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-site-test-cache") };
    let read_source = detwiki_sources::read_source(spec, &options, &|_| {}).expect("source reads");

    // Every building-block rule, and the first 40 other rules that have both a guide and a setup.
    let mut rules: Vec<detwiki_ir::Rule> = Vec::new();
    let mut guided = 0;
    for rule in read_source.rules {
        let building_block = rule.metadata.extra.contains_key("building_block_type");
        let both = extra_text(&rule, "note").is_some() && extra_text(&rule, "setup").is_some();
        if building_block || (both && guided < 40) {
            guided += usize::from(both && !building_block);
            rules.push(rule);
        }
    }
    let building_blocks = rules.iter().filter(|rule| rule.metadata.extra.contains_key("building_block_type")).count();
    assert!(building_blocks >= 50, "{building_blocks} building-block rules in the corpus");
    assert_eq!(guided, 40, "corpus rules with an investigation guide and a setup");

    let expected: Vec<(String, bool, bool, bool)> = rules
        .iter()
        .map(|rule| {
            (
                rule.id.clone(),
                rule.metadata.extra.contains_key("building_block_type"),
                extra_text(rule, "note").is_some(),
                extra_text(rule, "setup").is_some(),
            )
        })
        .collect();
    let catalog =
        Catalog::build(vec![(SourceEntry { info: read_source.info, context: read_source.context }, rules)], &|_| {});
    let temp = tempfile::tempdir().expect("temp dir");
    let out = temp.path().join("site");
    build_site(&catalog, &out, &SiteOptions { search: false, ..SiteOptions::new(format_timestamp(0)) })
        .expect("site builds");

    let (mut banners, mut guides, mut setups) = (0, 0, 0);
    for (id, building_block, note, setup) in &expected {
        let folder = out.join("rules").join(rule_folder(id));
        let page = read(&folder.join("index.html"));
        let twin: serde_json::Value = serde_json::from_str(&read(&folder.join("index.json"))).expect("twin is JSON");
        assert_eq!(page.contains("id=\"building-block\""), *building_block, "{id}: building-block banner");
        assert_eq!(twin["catalog"]["building_block"].as_str().is_some(), *building_block, "{id}: twin");
        banners += usize::from(*building_block);
        for (present, section, key) in
            [(*note, "id=\"investigation-guide\"", "investigation_guide_html"), (*setup, "id=\"setup\"", "setup_html")]
        {
            assert_eq!(page.contains(section), present, "{id}: {section}");
            let Some(html) = twin[key].as_str() else {
                assert!(!present, "{id}: {key} missing from the twin");
                continue;
            };
            // Rendered Markdown, not the raw text: guides open with a `##` heading and use lists.
            assert!(html.contains("</h") || html.contains("<p>"), "{id}: {key} is not rendered: {html:.200}");
            assert!(!html.contains("<script") && !html.contains("## "), "{id}: {key} is not sanitized/rendered");
            // The raw text is no longer repeated under "Other fields".
            assert!(twin["metadata"]["extra"].get(if key == "setup_html" { "setup" } else { "note" }).is_some());
            assert!(!page.contains("<dt>note</dt>") && !page.contains("<dt>setup</dt>"), "{id}: raw text repeated");
        }
        guides += usize::from(*note);
        setups += usize::from(*setup);
    }
    println!(
        "pages checked: {}, building-block banners: {banners}, guides: {guides}, setups: {setups}",
        expected.len()
    );
    assert_eq!(banners, building_blocks);
}
