//! Generates the data files of `detwiki-knowledge` from `../shared/knowledge`:
//!
//! - `data/attack.json`: ATT&CK tactics, techniques, data components (MITRE license);
//! - `data/events.json`: providers and events from OSSEM-DD, the Sysmon schema, msticpy, OSSEM-DM,
//!   `defender-actiontypes.json` and splunk/security_content's `data_sources/*.yml` (read from
//!   `corpus/` of the shared folder);
//! - `data/tables.json`: typed columns of Defender XDR and Sentinel tables;
//! - the generated regions of `docs/semantics.md` (the field taxonomy and the dataset maps).
//!
//! Usage: `cargo run -p detwiki-knowledge-gen -- [--shared DIR] [--out DIR]`. The output is
//! deterministic (sorted, one record per line) so a regeneration shows as a readable diff. The
//! hand-written files (`datasets.json`, `fields.json`, `events-extra.json`) are not touched.

mod events;
mod json_lines;
mod splunk_data_sources;
mod tables;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().and_then(Path::parent).context("workspace root")?;
    let mut shared = std::env::var_os("DETWIKI_SHARED").map(PathBuf::from).unwrap_or_else(|| root.join("../shared"));
    let mut out = root.join("crates/detwiki-knowledge/data");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shared" => shared = PathBuf::from(args.next().context("--shared needs a folder")?),
            "--out" => out = PathBuf::from(args.next().context("--out needs a folder")?),
            "-h" | "--help" => {
                println!("usage: detwiki-knowledge-gen [--shared DIR] [--out DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}; try --help"),
        }
    }
    let knowledge = shared.join("knowledge");
    if !knowledge.is_dir() {
        bail!("{} is not a folder; pass --shared DIR (the folder holding knowledge/)", knowledge.display());
    }
    std::fs::create_dir_all(&out)?;

    let bundle = knowledge.join("attack/enterprise-attack-19.partial.json.gz");
    let bytes = std::fs::read(&bundle).with_context(|| format!("reading {}", bundle.display()))?;
    let attack = detwiki_knowledge::attack_data_from_stix(&bytes, "enterprise-attack-19.partial.json.gz")?;
    let active = attack.techniques.iter().filter(|technique| technique.is_active()).count();
    write(&out.join("attack.json"), &serde_json::to_value(&attack)?, 2)?;
    println!(
        "attack.json: {} tactics, {} techniques ({active} active), {} data components",
        attack.tactics.len(),
        attack.techniques.len(),
        attack.data_components.len()
    );

    let schemas = tables::generate(&knowledge)?;
    let mut catalog = events::generate(&knowledge, &schemas)?;
    let data_sources = shared.join("corpus/splunk__security_content/data_sources");
    let extra: detwiki_knowledge::EventCatalogData =
        serde_json::from_str(&std::fs::read_to_string(root.join("crates/detwiki-knowledge/data/events-extra.json"))?)?;
    let merged = splunk_data_sources::merge(&data_sources, &extra, &mut catalog)?;
    println!(
        "splunk data_sources: {} files, {} Windows ({} events enriched, {} added, {} new providers), {} other",
        merged.files, merged.windows, merged.events_enriched, merged.events_added, merged.providers_added, merged.other
    );
    let event_count: usize = catalog.providers.iter().map(|provider| provider.events.len()).sum();
    write(&out.join("events.json"), &serde_json::to_value(&catalog)?, 4)?;
    println!("events.json: {} providers, {event_count} events", catalog.providers.len());
    let table_count: usize = schemas.environments.values().map(|tables| tables.len()).sum();
    write(&out.join("tables.json"), &serde_json::to_value(&schemas)?, 3)?;
    println!("tables.json: {table_count} tables");

    let semantics = root.join("docs/semantics.md");
    update_semantics(&semantics, &out)?;
    Ok(())
}

/// Rewrites the generated regions of `docs/semantics.md` from the hand-written taxonomy and maps.
fn update_semantics(path: &Path, data: &Path) -> Result<()> {
    let fields: detwiki_knowledge::FieldTaxonomyData =
        serde_json::from_str(&std::fs::read_to_string(data.join("fields.json"))?)?;
    let datasets: detwiki_knowledge::DatasetMapData =
        serde_json::from_str(&std::fs::read_to_string(data.join("datasets.json"))?)?;
    let mut text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text = detwiki_knowledge::replace_generated_region(
        &text,
        "taxonomy",
        &detwiki_knowledge::FieldTaxonomy::from_data(fields).to_markdown(),
    )
    .context("docs/semantics.md lacks the taxonomy markers")?;
    text = detwiki_knowledge::replace_generated_region(
        &text,
        "datasets",
        &detwiki_knowledge::DatasetMaps::from_data(datasets).to_markdown(),
    )
    .context("docs/semantics.md lacks the datasets markers")?;
    std::fs::write(path, text)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn write(path: &Path, value: &serde_json::Value, depth: usize) -> Result<()> {
    let text = json_lines::to_string(value, depth);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), std::fs::metadata(path)?.len());
    Ok(())
}
