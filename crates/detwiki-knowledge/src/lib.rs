//! # detwiki-knowledge
//!
//! ## Overview
//!
//! Facts detwiki needs besides the rules, as data: MITRE ATT&CK (v19 by default, any STIX bundle at
//! run time), the event catalog (Windows event-log providers, Sysmon, Defender XDR tables and their
//! ActionTypes), table schemas, which events each dataset of each language holds, and the canonical
//! field taxonomy that makes fields comparable across languages.
//!
//! The data is generated from `../shared/knowledge` by `cargo run -p detwiki-knowledge-gen`
//! (`data/attack.json`, `data/events.json`, `data/tables.json`, `data/ecs.json`) or written by hand
//! (`data/datasets.json`, `data/fields.json`, `data/events-extra.json`), committed, embedded in the
//! binary and parsed on first use. Every generated file names its sources and their licenses.
//!
//! **Invariant:** this crate knows no query language's syntax. Language crates never call it; the
//! catalog applies it to their analyses.
//!
//! ## Source code layout
//!
//! - `lib.rs`: [`Knowledge`], the entry point, with lazy loading of the embedded data.
//! - `attack.rs`: [`Attack`], tactics, techniques, tag resolution, the STIX loader.
//! - `events.rs`: [`EventCatalog`], providers and events.
//! - `tables.rs`: [`Tables`], typed columns of Defender XDR and Sentinel tables.
//! - `datasets.rs`: [`DatasetMaps`], dataset -> event rows with reasons.
//! - `fields.rs`: [`FieldTaxonomy`], raw -> canonical fields, event fields, fit, path-suffix
//!   equivalence.
//! - `ecs.rs`: [`EcsFields`], the ECS field list generated from npm `@elastic/ecs`, whose derived
//!   canonical names join the taxonomy as the `ecs_generated` set.

mod attack;
mod datasets;
mod ecs;
mod events;
mod fields;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use detwiki_ir::Family;

pub use attack::{
    ATTACK_ATTRIBUTION, Attack, AttackData, DataComponent, OtherTag, Tactic, TacticRow, TagResolution, Technique,
    attack_data_from_stix,
};
pub use datasets::{ANY, DatasetMapData, DatasetMapEntry, DatasetMaps, EventRow, MappedEvent};
pub use ecs::{ECS_GENERATED_SET, EcsField, EcsFieldData, EcsFields};
pub use events::{Attribution, Event, EventCatalog, EventCatalogData, EventKey, Provider, split_event_reference};
pub use fields::{
    CanonicalField, Correlation, CorrelationHint, DatasetFields, EventFields, FieldTaxonomy, FieldTaxonomyData, Fit,
    ProviderEnvelope, name_field_of_path_field, path_suffix_equivalence, path_suffix_file_name,
};
pub use tables::{Column, Table, TableEnvironment, TableSchemaData, Tables};

/// Errors of run-time loading (a user-supplied ATT&CK bundle).
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{what} is not valid JSON: {source}")]
    Json { what: String, source: serde_json::Error },
}

const ATTACK_JSON: &str = include_str!("../data/attack.json");
const EVENTS_JSON: &str = include_str!("../data/events.json");
const EVENTS_EXTRA_JSON: &str = include_str!("../data/events-extra.json");
const TABLES_JSON: &str = include_str!("../data/tables.json");
const DATASETS_JSON: &str = include_str!("../data/datasets.json");
const FIELDS_JSON: &str = include_str!("../data/fields.json");
const ECS_JSON: &str = include_str!("../data/ecs.json");

/// All knowledge, each part parsed on first use.
#[derive(Debug, Default)]
pub struct Knowledge {
    attack: OnceLock<Attack>,
    events: OnceLock<EventCatalog>,
    tables: OnceLock<Tables>,
    fields: OnceLock<FieldTaxonomy>,
    ecs: OnceLock<EcsFields>,
    datasets: OnceLock<DatasetMaps>,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Knowledge {
    /// The knowledge embedded in the binary (ATT&CK v19).
    pub fn bundled() -> &'static Knowledge {
        static BUNDLED: OnceLock<Knowledge> = OnceLock::new();
        BUNDLED.get_or_init(Knowledge::default)
    }

    /// The embedded knowledge with ATT&CK replaced by a STIX bundle (`.json` or `.json.gz`).
    pub fn from_attack_bundle(path: &Path) -> Result<Knowledge, KnowledgeError> {
        let knowledge = Knowledge::default();
        let _ = knowledge.attack.set(Attack::from_stix_bundle(path)?);
        Ok(knowledge)
    }

    /// Problems parsing the embedded data (empty unless the committed data files are broken; a
    /// test checks it). A broken part loads as empty rather than aborting the program.
    pub fn load_errors(&self) -> Vec<String> {
        self.errors.lock().map(|errors| errors.clone()).unwrap_or_default()
    }

    fn parse<T: serde::de::DeserializeOwned + Default>(&self, what: &str, text: &str) -> T {
        match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.push(format!("{what}: {error}"));
                }
                T::default()
            }
        }
    }

    pub fn attack(&self) -> &Attack {
        self.attack.get_or_init(|| Attack::from_data(self.parse("data/attack.json", ATTACK_JSON)))
    }

    pub fn events(&self) -> &EventCatalog {
        self.events.get_or_init(|| {
            EventCatalog::from_parts(
                self.parse("data/events.json", EVENTS_JSON),
                self.parse("data/events-extra.json", EVENTS_EXTRA_JSON),
            )
        })
    }

    pub fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| Tables::from_data(self.parse("data/tables.json", TABLES_JSON)))
    }

    /// The field taxonomy of `data/fields.json`, with the ECS names derived by the generator
    /// (`data/ecs.json`) added as the `ecs_generated` set right after every Elastic dataset's
    /// hand-written `ecs` set, so a hand-written entry always wins.
    pub fn fields(&self) -> &FieldTaxonomy {
        self.fields.get_or_init(|| {
            let mut data: FieldTaxonomyData = self.parse("data/fields.json", FIELDS_JSON);
            self.ecs().merge_into(&mut data);
            FieldTaxonomy::from_data(data)
        })
    }

    /// The ECS field list (names, types, levels, derived canonical names).
    pub fn ecs(&self) -> &EcsFields {
        self.ecs.get_or_init(|| EcsFields::from_data(self.parse("data/ecs.json", ECS_JSON)))
    }

    pub fn datasets(&self) -> &DatasetMaps {
        self.datasets.get_or_init(|| DatasetMaps::from_data(self.parse("data/datasets.json", DATASETS_JSON)))
    }

    /// Every source the knowledge comes from, with its license, for the site's About page.
    pub fn attributions(&self) -> Vec<Attribution> {
        let mut all = vec![Attribution {
            source: format!("MITRE ATT&CK ({})", self.attack().data().source),
            license: self.attack().data().attribution.clone(),
            used_for: "tactics, techniques, revocations, data components".to_owned(),
        }];
        all.extend(self.events().attribution().iter().cloned());
        all.extend(self.tables().attribution().iter().cloned());
        all.extend(self.ecs().data().attribution.iter().cloned());
        all
    }

    /// The events a dataset can hold, each with why: `family` is the rule's language, `name` the
    /// dataset as written (`DeviceNetworkEvents`, `windows/process_creation`, `Endpoint.Processes`,
    /// `logs-endpoint.events.*`, `PROCESS_LAUNCH`), `attributes` its structured parts (Sigma
    /// `product`/`category`/`service`, Elastic `category`, Splunk `sourcetype`/`source`), and
    /// `narrowing` the (field, value) equality filters the query puts on it (`ActionType`,
    /// `EventID`, `EventCode`, `Channel`, `Provider`). Never empty: an unknown dataset gives one
    /// row saying so.
    pub fn events_for_dataset(
        &self,
        family: Family,
        name: &str,
        attributes: &BTreeMap<String, String>,
        narrowing: &[(&str, &str)],
    ) -> Vec<EventRow> {
        self.datasets().rows(self.events(), self.tables(), family, name, attributes, narrowing)
    }

    /// The canonical field a raw field means on a dataset (`InitiatingProcessFileName` on
    /// `DeviceProcessEvents` -> `parent_process_name`, on `DeviceNetworkEvents` ->
    /// `process_name`). For KQL join suffixes pass the resolved field (`InitiatingProcessCommandLine`,
    /// not `...1`) and the right-hand table.
    pub fn canonical_field(&self, family: Family, dataset: &str, raw_field: &str) -> Option<&str> {
        self.fields().canonical_field(family, dataset, raw_field)
    }

    /// The canonical fields an event carries, including those derivable from them (`process_name`
    /// from `process_path`) and the provider's envelope (`host_name`, `timestamp`). For a Defender
    /// table, `event` may be `any` or an ActionType: the columns are the same. `None` when the event
    /// is not in the catalog (or is `any` of a Windows provider).
    pub fn event_fields(&self, provider: &str, event: &str) -> Option<BTreeSet<String>> {
        let provider = self.events().provider(provider)?;
        if provider.key == EventKey::ActionType {
            let fields = self.fields();
            let mut canonical: BTreeSet<String> = provider
                .fields
                .iter()
                .filter_map(|column| fields.canonical_field(Family::Kusto, &provider.name, column))
                .map(str::to_owned)
                .collect();
            canonical.extend(fields.canonical_fields_of(&provider.name, event, &[]));
            return Some(canonical);
        }
        let event = provider.event(event)?;
        let raw: Vec<&str> = event.fields.iter().chain(provider.fields.iter()).map(String::as_str).collect();
        Some(self.fields().canonical_fields_of(&provider.name, &event.id, &raw))
    }

    /// How well an event fits the canonical fields a rule reads on the dataset the event stands
    /// for: full, partial (with the missing fields and, where one exists, the event of the same
    /// provider to correlate with), or unknown.
    pub fn event_fit(&self, provider: &str, event: &str, fields_read: &[&str]) -> Fit {
        let Some(carried) = self.event_fields(provider, event) else { return Fit::Unknown };
        let mut missing: Vec<String> =
            fields_read.iter().filter(|field| !carried.contains(**field)).map(|field| (*field).to_owned()).collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            return Fit::Full;
        }
        let provider_name = self.events().provider(provider).map_or(provider, |known| known.name.as_str());
        let correlate_with = self
            .fields()
            .correlation_for(provider_name, event, &missing, |provider, event| self.event_fields(provider, event));
        Fit::Partial { missing, correlate_with }
    }

    /// The typed columns of a Defender XDR or Sentinel table.
    pub fn table_columns(&self, table: &str) -> Option<&[Column]> {
        self.tables().table(table).map(|table| table.columns.as_slice())
    }
}

/// Replaces the text between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` in a
/// document with `content`; `None` when the markers are missing. Used by the generator for
/// `docs/semantics.md` and by the test that checks the document is current.
pub fn replace_generated_region(document: &str, name: &str, content: &str) -> Option<String> {
    let begin = format!("<!-- generated: {name} -->");
    let end = format!("<!-- end generated: {name} -->");
    let start = document.find(&begin)? + begin.len();
    let stop = start + document.get(start..)?.find(&end)?;
    Some(format!("{}\n\n{}\n{}", document.get(..start)?, content.trim_end(), document.get(stop..)?))
}
