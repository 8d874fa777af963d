//! The Elastic Common Schema field list, generated from the npm package `@elastic/ecs` (its
//! generated flat field file, Apache-2.0) by `detwiki-knowledge-gen`: every ECS field's name,
//! type and level, and the canonical field the generator derived for it from the taxonomy's
//! names (`process.parent.pe.original_file_name` -> `parent_process_original_file_name`).
//!
//! Why a generated list next to the hand-written `ecs` set of `data/fields.json`: ECS reuses
//! field sets at many places (`process.parent.*`, `source.user.*`, `dll.code_signature.*`), so a
//! hand-written map covers the common spellings and misses the rest. The derived names fill the
//! gaps; the hand-written set is tried first and so keeps the last word.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Attribution, FieldTaxonomyData};

/// Name of the set the derived ECS names form in the field taxonomy (tried right after the
/// hand-written `ecs` set).
pub const ECS_GENERATED_SET: &str = "ecs_generated";

/// The serialized list (`data/ecs.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsFieldData {
    #[serde(default)]
    pub attribution: Vec<Attribution>,
    /// The package version the list was generated from (`9.3.0`).
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub fields: Vec<EcsField>,
}

/// One ECS field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsField {
    /// The flat name (`process.parent.name`).
    pub name: String,
    /// The Elasticsearch mapping type (`keyword`, `wildcard`, `match_only_text`, `ip`, `long`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// `core`, `extended` or `custom`.
    pub level: String,
    /// The canonical field the generator derived, when the taxonomy has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
}

/// The indexed list.
#[derive(Debug, Clone, Default)]
pub struct EcsFields {
    data: EcsFieldData,
    by_name: BTreeMap<String, usize>,
}

impl EcsFields {
    pub fn from_data(data: EcsFieldData) -> EcsFields {
        let by_name = data.fields.iter().enumerate().map(|(index, field)| (field.name.clone(), index)).collect();
        EcsFields { data, by_name }
    }

    pub fn data(&self) -> &EcsFieldData {
        &self.data
    }

    /// The ECS field named exactly `name`, if ECS defines it.
    pub fn field(&self, name: &str) -> Option<&EcsField> {
        self.by_name.get(name).map(|index| &self.data.fields[*index])
    }

    /// The derived raw -> canonical map, the taxonomy's `ecs_generated` set.
    pub fn canonical_map(&self) -> BTreeMap<String, String> {
        self.data.fields.iter().filter_map(|field| Some((field.name.clone(), field.canonical.clone()?))).collect()
    }

    /// Adds the derived names to a taxonomy as the `ecs_generated` set, tried right after the
    /// hand-written `ecs` set of every Elastic dataset entry. The generator calls it with the list
    /// it has just written, [`crate::Knowledge::fields`] with the embedded one, so both describe
    /// the same taxonomy.
    pub fn merge_into(&self, taxonomy: &mut FieldTaxonomyData) {
        taxonomy.sets.insert(ECS_GENERATED_SET.to_owned(), self.canonical_map());
        for entry in taxonomy.datasets.iter_mut().filter(|entry| entry.family == "elastic") {
            if let Some(position) = entry.sets.iter().position(|set| set == "ecs") {
                entry.sets.insert(position + 1, ECS_GENERATED_SET.to_owned());
            }
        }
    }

    /// The derived names as a Markdown table, for the generated region of `docs/semantics.md`.
    pub fn to_markdown(&self) -> String {
        let derived: Vec<&EcsField> = self.data.fields.iter().filter(|field| field.canonical.is_some()).collect();
        let mut out = format!(
            "ECS {}: {} fields, {} with a derived canonical field.\n\n| ECS field | type | canonical |\n|---|---|---|\n",
            self.data.version,
            self.data.fields.len(),
            derived.len()
        );
        for field in derived {
            let canonical = field.canonical.as_deref().unwrap_or_default();
            out.push_str(&format!("| `{}` | {} | `{canonical}` |\n", field.name, field.field_type));
        }
        out
    }
}
