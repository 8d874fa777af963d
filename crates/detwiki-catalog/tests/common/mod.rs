//! What several catalog tests share: reading one source of `../shared/corpus/MANIFEST.toml`.

use std::path::Path;

/// The source named `name` (`elastic/detection-rules`) of the shared corpus's manifest, read whole.
pub fn manifest_source(shared: &Path, name: &str) -> detwiki_sources::SourceRead {
    let specs = detwiki_sources::load_sources_file(&shared.join("corpus/MANIFEST.toml")).expect("manifest");
    let spec = specs
        .iter()
        .find(|spec| detwiki_sources::source_name(spec) == name)
        .unwrap_or_else(|| panic!("{name} is not in the manifest"));
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-catalog-test-cache") };
    detwiki_sources::read_source(spec, &options, &|_| {}).expect("source reads")
}
