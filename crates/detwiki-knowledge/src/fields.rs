//! The canonical field taxonomy: raw field names per language and dataset -> snake_case entity
//! attributes (`process_name`, `parent_process_command_line`, `dst_port`), the canonical fields
//! each event carries, and the fit of an event for the fields a rule reads.
//!
//! The mapping is data (`data/fields.json`, hand-written, documented in `docs/semantics.md`)
//! because the same raw name means different things in different datasets:
//! `InitiatingProcessFileName` is the parent in DeviceProcessEvents and the acting process in
//! DeviceNetworkEvents.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::Family;
use serde::{Deserialize, Serialize};

/// The serialized taxonomy (`data/fields.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldTaxonomyData {
    /// Every canonical field with what it means.
    pub canonical: Vec<CanonicalField>,
    /// `[derived, from]`: a field that can be computed from another one (`process_name` from
    /// `process_path`), so an event carrying the second also fits rules reading the first.
    #[serde(default)]
    pub derived: Vec<(String, String)>,
    /// Named raw -> canonical maps that datasets and events combine.
    pub sets: BTreeMap<String, BTreeMap<String, String>>,
    /// Which sets apply to which dataset of which language, most specific entries first.
    pub datasets: Vec<DatasetFields>,
    /// Which sets apply to the raw fields of which event.
    pub events: Vec<EventFields>,
    /// Fields every event of a provider carries without listing them (the event envelope).
    #[serde(default)]
    pub envelope: Vec<ProviderEnvelope>,
    /// Where to find fields an event lacks.
    #[serde(default)]
    pub correlations: Vec<Correlation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalField {
    pub name: String,
    /// `process`, `parent_process`, `network`, `file`, `registry`, `user`, `host`, ...
    pub entity: String,
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFields {
    /// `kusto`, `sigma`, `splunk`, `elastic`, `yaral`.
    pub family: String,
    /// The dataset name (`DeviceProcessEvents`, a Sigma category or service, a UDM event type), or
    /// `*` for every dataset of the language.
    pub dataset: String,
    pub sets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFields {
    pub provider: String,
    /// Event ID or ActionType, or `*` for every event of the provider.
    pub event: String,
    pub sets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEnvelope {
    pub provider: String,
    pub fields: Vec<String>,
}

/// An event that supplies fields another event of the same provider lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    pub provider: String,
    /// The event to correlate with.
    pub event: String,
    /// Canonical fields (or prefixes ending in `*`) the correlation supplies.
    pub supplies: Vec<String>,
    /// How the two events are joined, said for people (`ProcessGuid`).
    pub join: String,
}

/// How well an event fits the canonical fields a rule reads on a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fit", rename_all = "snake_case")]
pub enum Fit {
    /// The event carries every field.
    Full,
    /// Some fields are missing; `correlate_with` names an event of the same provider that has them
    /// (`Sysmon 1`), with the join, when one exists.
    Partial {
        missing: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correlate_with: Option<CorrelationHint>,
    },
    /// The event's fields are not known (`any` rows, unknown events): nothing can be said.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrelationHint {
    pub provider: String,
    pub event: String,
    pub join: String,
    /// The missing fields the correlated event supplies (all of them, or as many as one event of
    /// the provider can).
    pub supplies: Vec<String>,
}

/// The family name used in `data/fields.json` and `data/datasets.json`.
pub(crate) fn family_key(family: Family) -> &'static str {
    family.as_str()
}

/// Indexed taxonomy.
#[derive(Debug, Clone, Default)]
pub struct FieldTaxonomy {
    data: FieldTaxonomyData,
    canonical_names: BTreeSet<String>,
}

impl FieldTaxonomy {
    pub fn from_data(data: FieldTaxonomyData) -> FieldTaxonomy {
        let canonical_names = data.canonical.iter().map(|field| field.name.clone()).collect();
        FieldTaxonomy { data, canonical_names }
    }

    pub fn data(&self) -> &FieldTaxonomyData {
        &self.data
    }

    /// Whether `name` is a canonical field of the taxonomy.
    pub fn is_canonical(&self, name: &str) -> bool {
        self.canonical_names.contains(name)
    }

    /// The canonical name of `raw_field` on `dataset` of `family`. The dataset-specific sets are
    /// tried before the language-wide ones. Exact names first, then ASCII case-insensitively
    /// (Sigma and Elastic field names are not case-sensitive in practice; Kusto columns are, and
    /// their exact match wins).
    pub fn canonical_field(&self, family: Family, dataset: &str, raw_field: &str) -> Option<&str> {
        let raw = normalize_raw_field(family, raw_field);
        let sets = self.sets_for_dataset(family, dataset);
        self.lookup(&sets, raw)
    }

    fn lookup<'a>(&'a self, sets: &[&'a str], raw: &str) -> Option<&'a str> {
        for set in sets {
            if let Some(canonical) = self.data.sets.get(*set).and_then(|map| map.get(raw)) {
                return Some(canonical);
            }
        }
        for set in sets {
            if let Some(map) = self.data.sets.get(*set)
                && let Some((_, canonical)) = map.iter().find(|(name, _)| name.eq_ignore_ascii_case(raw))
            {
                return Some(canonical);
            }
        }
        None
    }

    /// The sets for a dataset: entries naming it (case-insensitively; for Sigma any `/`- or
    /// `:`-separated part of the name, so `windows/process_creation` finds `process_creation`)
    /// in file order, then the `*` entries.
    fn sets_for_dataset(&self, family: Family, dataset: &str) -> Vec<&str> {
        let key = family_key(family);
        // Kusto names are single identifiers; other languages compose names (`windows/process_creation`,
        // `Endpoint.Processes`, `logs-endpoint.events.process-*`).
        let separators: &[char] =
            if family == Family::Kusto { &['/', ':', ' ', ','] } else { &['/', ':', ' ', ',', '.'] };
        let parts: Vec<&str> = dataset.split(separators).map(str::trim).filter(|part| !part.is_empty()).collect();
        let mut sets = Vec::new();
        let entries = self.data.datasets.iter().filter(|entry| entry.family == key);
        for entry in entries.clone().filter(|entry| entry.dataset != "*") {
            let named = entry.dataset.eq_ignore_ascii_case(dataset.trim())
                || parts.iter().any(|part| entry.dataset.eq_ignore_ascii_case(part));
            if named {
                sets.extend(entry.sets.iter().map(String::as_str));
            }
        }
        for entry in entries.filter(|entry| entry.dataset == "*") {
            sets.extend(entry.sets.iter().map(String::as_str));
        }
        sets
    }

    /// The canonical name of a raw field of an event (`Image` of `Sysmon 3` -> `process_path`).
    pub fn canonical_event_field(&self, provider: &str, event: &str, raw_field: &str) -> Option<&str> {
        let sets = self.sets_for_event(provider, event);
        self.lookup(&sets, raw_field)
    }

    fn sets_for_event(&self, provider: &str, event: &str) -> Vec<&str> {
        let mut sets = Vec::new();
        let entries = self.data.events.iter().filter(|entry| entry.provider.eq_ignore_ascii_case(provider));
        for entry in entries.clone().filter(|entry| entry.event != "*") {
            if entry.event.eq_ignore_ascii_case(event) {
                sets.extend(entry.sets.iter().map(String::as_str));
            }
        }
        for entry in entries.filter(|entry| entry.event == "*") {
            sets.extend(entry.sets.iter().map(String::as_str));
        }
        sets
    }

    /// Canonical fields from raw ones, plus the envelope of the provider and every field derivable
    /// from those (`process_name` from `process_path`).
    pub(crate) fn canonical_fields_of(&self, provider: &str, event: &str, raw_fields: &[&str]) -> BTreeSet<String> {
        let mut fields: BTreeSet<String> = raw_fields
            .iter()
            .filter_map(|raw| self.canonical_event_field(provider, event, raw))
            .map(str::to_owned)
            .collect();
        let applies =
            |envelope: &&ProviderEnvelope| envelope.provider == "*" || envelope.provider.eq_ignore_ascii_case(provider);
        for envelope in self.data.envelope.iter().filter(applies) {
            fields.extend(envelope.fields.iter().cloned());
        }
        // Derivations can chain (path -> name); a few rounds reach the fixed point.
        for _ in 0..4 {
            let before = fields.len();
            for (derived, from) in &self.data.derived {
                if fields.contains(from) {
                    fields.insert(derived.clone());
                }
            }
            if fields.len() == before {
                break;
            }
        }
        fields
    }

    /// The correlation with another event of `provider` that supplies the most of `missing` (at
    /// least one; ties go to the first listed), checked against the fields the target event
    /// carries.
    pub(crate) fn correlation_for(
        &self,
        provider: &str,
        event: &str,
        missing: &[String],
        fields_of: impl Fn(&str, &str) -> Option<BTreeSet<String>>,
    ) -> Option<CorrelationHint> {
        let mut best: Option<CorrelationHint> = None;
        for correlation in self.data.correlations.iter() {
            if !correlation.provider.eq_ignore_ascii_case(provider) || correlation.event.eq_ignore_ascii_case(event) {
                continue;
            }
            let pattern_matches = |field: &String| {
                correlation.supplies.iter().any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => field.starts_with(prefix),
                    None => pattern == field,
                })
            };
            let carried = fields_of(&correlation.provider, &correlation.event).unwrap_or_default();
            let supplied: Vec<String> =
                missing.iter().filter(|field| pattern_matches(field) && carried.contains(*field)).cloned().collect();
            if !supplied.is_empty() && best.as_ref().is_none_or(|known| supplied.len() > known.supplies.len()) {
                best = Some(CorrelationHint {
                    provider: correlation.provider.clone(),
                    event: correlation.event.clone(),
                    join: correlation.join.clone(),
                    supplies: supplied,
                });
            }
        }
        best
    }
}

/// Strips what is not part of the field name itself: a Splunk data-model dataset prefix
/// (`Processes.process_name` -> `process_name`) and a YARA-L event variable (`$e.principal.ip` ->
/// `principal.ip`), and Winlogbeat's `winlog.event_data.` prefix (`winlog.event_data.Image` ->
/// `Image`).
fn normalize_raw_field(family: Family, raw_field: &str) -> &str {
    let raw = raw_field.trim();
    match family {
        Family::Splunk => raw.rsplit_once('.').map_or(raw, |(_, name)| name),
        Family::Yaral => match raw.strip_prefix('$') {
            Some(rest) => rest.split_once('.').map_or(rest, |(_, name)| name),
            None => raw,
        },
        // Winlogbeat keeps the Windows event's own field names under `winlog.event_data.`.
        Family::Elastic => raw.strip_prefix("winlog.event_data.").unwrap_or(raw),
        _ => raw,
    }
}

/// The file name of a path-suffix pattern made of exactly one leading separator and a bare name:
/// `\msiexec.exe` -> `msiexec.exe`, `/curl` -> `curl`. Any other suffix is `None` and stays a
/// path comparison: `msiexec.exe` alone (`xmsiexec.exe` ends with it too), `/etc/doas.conf` and
/// `spool\svchost.exe` (they also say which folder holds the file), `\\share` (two separators),
/// a name with a wildcard.
///
/// This is the equivalence behind PRODUCT.md §5: `Image|endswith: '\msiexec.exe'` (a
/// `process_path ends_with` predicate) matches exactly the events where `process_name eq
/// msiexec.exe`, case-insensitively.
pub fn path_suffix_file_name(value: &str) -> Option<&str> {
    let name = value.strip_prefix(['\\', '/'])?;
    let valid = !name.is_empty() && !name.contains(['\\', '/', '*', '?']);
    valid.then_some(name)
}

/// The path-suffix equivalence in one call: for `process_path ends_with \msiexec.exe` it returns
/// `("process_name", "msiexec.exe")`, meaning the predicate is `process_name eq msiexec.exe`
/// (compared case-insensitively, as Windows file names are). `None` when the field is not a path
/// field or the value does not name one file after a separator.
pub fn path_suffix_equivalence<'v>(
    canonical_path_field: &str,
    ends_with_value: &'v str,
) -> Option<(&'static str, &'v str)> {
    Some((name_field_of_path_field(canonical_path_field)?, path_suffix_file_name(ends_with_value)?))
}

/// For a path field, the canonical name field the path-suffix equivalence turns it into:
/// `process_path` -> `process_name`, `parent_process_path` -> `parent_process_name`,
/// `file_path` -> `file_name`, `module_path` -> `module_name`, `target_process_path` ->
/// `target_process_name`.
pub fn name_field_of_path_field(canonical_path_field: &str) -> Option<&'static str> {
    Some(match canonical_path_field {
        "process_path" => "process_name",
        "parent_process_path" => "parent_process_name",
        "grandparent_process_path" => "grandparent_process_name",
        "target_process_path" => "target_process_name",
        "file_path" => "file_name",
        "module_path" => "module_name",
        "service_path" => "service_file_name",
        _ => return None,
    })
}

impl FieldTaxonomy {
    /// The taxonomy as Markdown tables (canonical fields, derivations, which sets each dataset and
    /// event uses, every set's raw -> canonical pairs, correlations), for `docs/semantics.md`. The
    /// generator writes it between the taxonomy markers and a test checks the document is current.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("### Canonical fields\n\n| field | entity | meaning |\n|---|---|---|\n");
        for field in &self.data.canonical {
            out.push_str(&format!("| `{}` | {} | {} |\n", field.name, field.entity, field.meaning));
        }
        out.push_str("\n### Derived fields\n\nAn event carrying the right-hand field also fits rules reading the left-hand one.\n\n");
        out.push_str("| derived | from |\n|---|---|\n");
        for (derived, from) in &self.data.derived {
            out.push_str(&format!("| `{derived}` | `{from}` |\n"));
        }
        out.push_str(
            "\n### Datasets: which sets apply\n\nSets are tried in order; the first that knows the raw field wins.\n\n",
        );
        out.push_str("| language | dataset | sets |\n|---|---|---|\n");
        for entry in &self.data.datasets {
            let sets: Vec<String> = entry.sets.iter().map(|set| format!("`{set}`")).collect();
            out.push_str(&format!("| {} | `{}` | {} |\n", entry.family, entry.dataset, sets.join(", ")));
        }
        out.push_str(
            "\n### Events: which sets apply to their raw fields\n\n| provider | event | sets |\n|---|---|---|\n",
        );
        for entry in &self.data.events {
            let sets: Vec<String> = entry.sets.iter().map(|set| format!("`{set}`")).collect();
            out.push_str(&format!("| {} | `{}` | {} |\n", entry.provider, entry.event, sets.join(", ")));
        }
        for envelope in &self.data.envelope {
            let fields: Vec<String> = envelope.fields.iter().map(|field| format!("`{field}`")).collect();
            out.push_str(&format!(
                "\nEvery event of provider `{}` also carries {}.\n",
                envelope.provider,
                fields.join(", ")
            ));
        }
        out.push_str("\n### Correlations\n\nWhere a partial event's missing fields can be found.\n\n");
        out.push_str("| provider | correlate with | supplies | join |\n|---|---|---|---|\n");
        for correlation in &self.data.correlations {
            let supplies: Vec<String> = correlation.supplies.iter().map(|field| format!("`{field}`")).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                correlation.provider,
                correlation.event,
                supplies.join(", "),
                correlation.join
            ));
        }
        out.push_str("\n### Sets\n");
        for (name, set) in &self.data.sets {
            if name == crate::ECS_GENERATED_SET {
                // Generated from the ECS field list; its table is the `ecs` region of the document.
                out.push_str(&format!("\n#### `{name}`\n\nDerived from the ECS field list: see below.\n"));
                continue;
            }
            out.push_str(&format!("\n#### `{name}`\n\n| raw field | canonical |\n|---|---|\n"));
            for (raw, canonical) in set {
                out.push_str(&format!("| `{raw}` | `{canonical}` |\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_suffix_equivalences() {
        assert_eq!(path_suffix_equivalence("process_path", "\\msiexec.exe"), Some(("process_name", "msiexec.exe")));
        assert_eq!(
            path_suffix_equivalence("parent_process_path", "\\cmd.exe"),
            Some(("parent_process_name", "cmd.exe"))
        );
        assert_eq!(path_suffix_equivalence("process_command_line", "\\msiexec.exe"), None);
        assert_eq!(path_suffix_equivalence("process_path", "msiexec.exe"), None);
    }

    #[test]
    fn path_suffixes() {
        assert_eq!(path_suffix_file_name("\\msiexec.exe"), Some("msiexec.exe"));
        assert_eq!(path_suffix_file_name("C:\\Windows\\System32\\msiexec.exe"), None);
        assert_eq!(path_suffix_file_name("/usr/bin/curl"), None);
        assert_eq!(path_suffix_file_name("/etc/doas.conf"), None);
        assert_eq!(path_suffix_file_name("spool\\svchost.exe"), None);
        assert_eq!(path_suffix_file_name("\\\\share"), None);
        assert_eq!(path_suffix_file_name("/curl"), Some("curl"));
        assert_eq!(path_suffix_file_name("msiexec.exe"), None);
        assert_eq!(path_suffix_file_name("\\"), None);
        assert_eq!(path_suffix_file_name("\\*.exe"), None);
    }

    #[test]
    fn raw_field_prefixes() {
        assert_eq!(normalize_raw_field(Family::Splunk, "Processes.process_name"), "process_name");
        assert_eq!(
            normalize_raw_field(Family::Yaral, "$e.target.process.file.full_path"),
            "target.process.file.full_path"
        );
        assert_eq!(normalize_raw_field(Family::Elastic, "process.parent.name"), "process.parent.name");
    }
}
