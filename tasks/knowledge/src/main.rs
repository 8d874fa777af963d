//! Generates the data files of `detwiki-knowledge` from `../shared/knowledge`:
//!
//! - `data/attack.json`: ATT&CK tactics, techniques, data components (MITRE license);
//! - `data/events.json`: providers and events from OSSEM-DD, the Sysmon schema, msticpy, OSSEM-DM,
//!   `defender-actiontypes.json` and splunk/security_content's `data_sources/*.yml` (read from
//!   `corpus/` of the shared folder);
//! - `data/tables.json`: typed columns of Defender XDR and Sentinel tables;
//! - `data/ecs.json`: the ECS field list of npm `@elastic/ecs` (pinned in `ecs.rs`; fetched once
//!   with `npm pack` into a cache folder, or read from `--ecs DIR`), with derived canonical names;
//! - the generated regions of `docs/semantics.md` (the field taxonomy, the dataset maps, the ECS
//!   names).
//!
//! Usage: `cargo run -p detwiki-knowledge-gen -- [--shared DIR] [--out DIR] [--ecs DIR]` (needs
//! Node.js, and npm unless `--ecs` names an unpacked package). The output is
//! deterministic (sorted, one record per line) so a regeneration shows as a readable diff. The
//! hand-written files (`datasets.json`, `fields.json`, `events-extra.json`) are not touched.

mod ecs;
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
    let mut ecs_package: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shared" => shared = PathBuf::from(args.next().context("--shared needs a folder")?),
            "--out" => out = PathBuf::from(args.next().context("--out needs a folder")?),
            "--ecs" => ecs_package = Some(PathBuf::from(args.next().context("--ecs needs a folder")?)),
            "-h" | "--help" => {
                println!("usage: detwiki-knowledge-gen [--shared DIR] [--out DIR] [--ecs DIR]");
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
    let products = splunk_data_sources::splunk_products(&std::fs::read_to_string(
        root.join("crates/detwiki-knowledge/data/datasets.json"),
    )?)?;
    let merged = splunk_data_sources::merge(&data_sources, &extra, &products, &mut catalog)?;
    println!(
        "splunk data_sources: {} files, {} Windows ({} events enriched, {} added, {} new providers), {} other \
         ({} merged into their product, {} events; unmapped sourcetypes: {})",
        merged.files,
        merged.windows,
        merged.events_enriched,
        merged.events_added,
        merged.providers_added,
        merged.other,
        merged.other_merged,
        merged.other_events,
        merged.unmapped.join(", ")
    );
    let event_count: usize = catalog.providers.iter().map(|provider| provider.events.len()).sum();
    write(&out.join("events.json"), &serde_json::to_value(&catalog)?, 4)?;
    println!("events.json: {} providers, {event_count} events", catalog.providers.len());
    let table_count: usize = schemas.environments.values().map(|tables| tables.len()).sum();
    write(&out.join("tables.json"), &serde_json::to_value(&schemas)?, 3)?;
    println!("tables.json: {table_count} tables");

    let fields: detwiki_knowledge::FieldTaxonomyData =
        serde_json::from_str(&std::fs::read_to_string(out.join("fields.json"))?)?;
    let canonical = fields.canonical.iter().map(|field| field.name.clone()).collect();
    let ecs = detwiki_knowledge::EcsFields::from_data(ecs::generate(ecs_package.as_deref(), &canonical)?);
    write(&out.join("ecs.json"), &serde_json::to_value(ecs.data())?, 2)?;
    let derived = ecs.canonical_map();
    println!(
        "ecs.json: {} fields of ECS {}, {} with a canonical name",
        ecs.data().fields.len(),
        ecs::VERSION,
        derived.len()
    );
    // The hand-written set wins over the derived names; say where they differ so a rule or an
    // entry can be fixed, and which hand-written names are not ECS (Endpoint `Ext` fields,
    // integration fields).
    if let Some(hand_written) = fields.sets.get("ecs") {
        for (raw, canonical) in hand_written {
            match ecs.field(raw) {
                None => println!("  hand-written `ecs` entry {raw} is not an ECS {} field", ecs::VERSION),
                Some(field) => {
                    if let Some(generated) = field.canonical.as_ref().filter(|generated| *generated != canonical) {
                        println!("  {raw}: hand-written {canonical}, derived {generated}");
                    }
                }
            }
        }
    }

    let semantics = root.join("docs/semantics.md");
    update_semantics(&semantics, fields, &out, &ecs)?;
    Ok(())
}

/// Rewrites the generated regions of `docs/semantics.md` from the hand-written taxonomy and maps
/// and the ECS list just generated (merged as `Knowledge::fields` merges them).
fn update_semantics(
    path: &Path,
    mut fields: detwiki_knowledge::FieldTaxonomyData,
    data: &Path,
    ecs: &detwiki_knowledge::EcsFields,
) -> Result<()> {
    ecs.merge_into(&mut fields);
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
    text = detwiki_knowledge::replace_generated_region(&text, "ecs", &ecs.to_markdown())
        .context("docs/semantics.md lacks the ecs markers")?;
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
