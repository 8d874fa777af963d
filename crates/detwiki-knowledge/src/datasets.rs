//! Dataset -> event maps: which telemetry events a dataset a query reads can hold, for every
//! language, each with the reason (`data/datasets.json`, hand-written).

use std::collections::BTreeMap;

use detwiki_ir::Family;
use serde::{Deserialize, Serialize};

use crate::events::{EventCatalog, EventKey, split_event_reference};
use crate::fields::family_key;
use crate::tables::{TableEnvironment, Tables};

/// The serialized maps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetMapData {
    pub entries: Vec<DatasetMapEntry>,
}

/// One dataset (or family of datasets) and the events it holds.
///
/// An entry applies when every criterion it sets holds: `dataset` (the name, case-insensitively;
/// Kusto function names also ignore `_` and read `ASim` as `im`), `dataset_prefix`, and `match`
/// (dataset attributes such as Sigma `category`; when the caller has no attributes, a value may
/// also appear as a `/`- or `:`-separated part of the name). The most specific applicable entries
/// win.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetMapEntry {
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_prefix: Option<String>,
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Applies to every dataset of the family, with the lowest specificity (Splunk searches over
    /// `source`/`sourcetype`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any: bool,
    /// Entries of different groups add up (an Elastic index pattern says which product, the EQL
    /// category which kind of event); within a group the most specific entries win.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// An event-log channel shared by several providers (`System`, `Application`): narrowed event
    /// IDs are looked up in the providers writing to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A Defender XDR table: one row per ActionType the query narrows to (or `any`), plus the
    /// native events of those ActionTypes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The provider whose event IDs the `narrow_by` values are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Narrowing keys whose values name the provider (`Channel`, `Provider`, `source`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers_from: Vec<String>,
    /// Narrowing keys whose values are event IDs or ActionTypes (`EventID`, `EventCode`,
    /// `ActionType`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrow_by: Vec<String>,
    /// Values of the `providers_from` keys that name no provider (`XmlWinEventLog`, a sourcetype
    /// shared by every Windows log), compared case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_values: Vec<String>,
    /// Title of the `any` row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Events the dataset holds whatever the query narrows to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<MappedEvent>,
    pub reason: String,
}

/// An event a dataset holds, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedEvent {
    pub provider: String,
    /// Event ID, ActionType or `any`.
    pub event: String,
    pub reason: String,
}

/// One event-coverage row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// Short provider name (`Sysmon`, `Security`, `DeviceNetworkEvents`), or the name as written
    /// when no provider is known.
    pub provider: String,
    /// `Sysmon`, `Windows event log`, `Microsoft Defender XDR`, `Microsoft Sentinel`, or empty.
    pub product: String,
    /// Event ID, ActionType, or `any`.
    pub event: String,
    pub title: String,
    /// Why the dataset holds this event.
    pub reason: String,
    /// The provider and event are in the catalog (an `any` row counts as known when its provider
    /// or table is).
    pub known: bool,
}

impl EventRow {
    pub fn is_any(&self) -> bool {
        self.event == ANY
    }
}

/// The event of a row that stands for every event of its provider or table.
pub const ANY: &str = "any";

/// Names detwiki gives to Sigma products so that a bare name (`windows/process_creation`) can be
/// split without attributes.
#[derive(Debug, Clone, Default)]
pub struct DatasetMaps {
    data: DatasetMapData,
}

impl DatasetMaps {
    pub fn from_data(data: DatasetMapData) -> DatasetMaps {
        DatasetMaps { data }
    }

    pub fn entries(&self) -> &[DatasetMapEntry] {
        &self.data.entries
    }

    /// Rows for one dataset. See [`crate::Knowledge::events_for_dataset`].
    pub(crate) fn rows(
        &self,
        catalog: &EventCatalog,
        tables: &Tables,
        family: Family,
        name: &str,
        attributes: &BTreeMap<String, String>,
        narrowing: &[(&str, &str)],
    ) -> Vec<EventRow> {
        // A YARA-L event variable narrowed by an `or` of event types (`PROCESS_LAUNCH,
        // FILE_CREATION`, as the engine writes it) holds the events of each type.
        if family == Family::Yaral
            && let Some(types) = attributes.get("event_type")
            && types.contains(", ")
        {
            let mut rows = Vec::new();
            for single_type in types.split(", ") {
                let mut single = attributes.clone();
                single.insert("event_type".to_owned(), single_type.to_owned());
                rows.extend(self.rows(catalog, tables, family, single_type, &single, narrowing));
            }
            return dedup_rows(rows);
        }
        let key = family_key(family);
        // Filters on the field that names the kind of event select the dataset like an attribute
        // does (`event.category == "process"` in an Elastic KQL query, a YARA-L
        // `metadata.event_type`).
        let mut attributes = attributes.clone();
        for (field, value) in narrowing {
            let attribute = match (family, *field) {
                (Family::Elastic, "event.category") => "category",
                (Family::Yaral, "metadata.event_type") => "event_type",
                _ => continue,
            };
            attributes.entry(attribute.to_owned()).or_insert_with(|| (*value).to_owned());
        }
        let attributes = &attributes;
        // Attributes narrow like filters do (a Splunk `sourcetype`, an Elastic `event.code`).
        let mut narrowing: Vec<(&str, &str)> = narrowing.to_vec();
        narrowing.extend(attributes.iter().map(|(key, value)| (key.as_str(), value.as_str())));
        // A Sigma log source with a category or service reads that category's or service's
        // events only: entries naming neither (the product catch-all, "any Windows log") do not
        // apply to it, and when no entry knows the category or service one row says so.
        let selector = if family == Family::Sigma { sigma_selector(attributes) } else { None };
        let applicable: Vec<(usize, &DatasetMapEntry)> = self
            .data
            .entries
            .iter()
            .filter(|entry| entry.family == key)
            .filter(|entry| selector.is_none() || entry.dataset.is_some() || names_selector(entry))
            .filter_map(|entry| specificity(entry, family, name, attributes).map(|score| (score, entry)))
            .collect();
        let mut best: BTreeMap<&str, usize> = BTreeMap::new();
        for (score, entry) in &applicable {
            let best_score = best.entry(entry.group.as_str()).or_default();
            *best_score = (*best_score).max(*score);
        }
        let mut rows = Vec::new();
        for (score, entry) in &applicable {
            if best.get(entry.group.as_str()) == Some(score) {
                entry_rows(catalog, tables, entry, &narrowing, &mut rows);
            }
        }
        if rows.is_empty() {
            match selector {
                Some((kind, value)) => rows.push(EventRow {
                    provider: name.to_owned(),
                    product: String::new(),
                    event: ANY.to_owned(),
                    title: format!("unknown {kind} {value}"),
                    reason: format!("no event mapping is known for the Sigma {kind} {value}"),
                    known: false,
                }),
                None => fallback_rows(catalog, tables, family, name, &narrowing, &mut rows),
            }
        }
        dedup_rows(rows)
    }
}

/// The attribute that picks a Sigma log source's events: its `category`, else its `service`.
fn sigma_selector(attributes: &BTreeMap<String, String>) -> Option<(&'static str, &str)> {
    let find = |wanted: &str| {
        attributes
            .iter()
            .find(|(key, value)| key.eq_ignore_ascii_case(wanted) && !value.trim().is_empty())
            .map(|(_, value)| value.trim())
    };
    find("category").map(|value| ("category", value)).or_else(|| find("service").map(|value| ("service", value)))
}

/// The entry names a Sigma category or service (not only a product).
fn names_selector(entry: &DatasetMapEntry) -> bool {
    entry.attributes.keys().any(|key| key.eq_ignore_ascii_case("category") || key.eq_ignore_ascii_case("service"))
}

/// How specific an applicable entry is, or `None` when it does not apply: 1000 per criterion, plus
/// the length of a matching prefix so that `logs-endpoint.events.process` beats
/// `logs-endpoint.events.`.
fn specificity(
    entry: &DatasetMapEntry,
    family: Family,
    name: &str,
    attributes: &BTreeMap<String, String>,
) -> Option<usize> {
    let mut score = 0;
    if let Some(dataset) = &entry.dataset {
        let wanted = normalize_name(family, dataset);
        let named = normalize_name(family, name) == wanted
            || attributes.values().any(|value| normalize_name(family, value) == wanted);
        if !named {
            return None;
        }
        score += 2000;
    }
    if let Some(prefix) = &entry.dataset_prefix {
        let prefix = normalize_name(family, prefix);
        let named = std::iter::once(name)
            .chain(name.split(',').map(str::trim))
            .any(|part| normalize_name(family, part).starts_with(&prefix));
        if !named {
            return None;
        }
        score += 1000 + prefix.len();
    }
    let parts: Vec<&str> = name.split(['/', ':']).map(str::trim).filter(|part| !part.is_empty()).collect();
    for (key, value) in &entry.attributes {
        let given = attributes.iter().find(|(given_key, _)| given_key.eq_ignore_ascii_case(key)).map(|(_, v)| v);
        let holds = match given {
            Some(given) => given.trim().eq_ignore_ascii_case(value),
            None => attributes.is_empty() && parts.iter().any(|part| part.eq_ignore_ascii_case(value)),
        };
        if !holds {
            return None;
        }
        score += 1000;
    }
    if entry.any {
        score += 1;
    }
    (score > 0).then_some(score)
}

/// Kusto function names are compared without `_` and with `ASim` read as `im`
/// (`_Im_ProcessCreate`, `imProcessCreate`, `ASimProcessCreate` are one parser family); other names
/// case-insensitively.
fn normalize_name(family: Family, name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    if family != Family::Kusto {
        return lower;
    }
    let compact: String = lower.chars().filter(|c| *c != '_').collect();
    match compact.strip_prefix("asim") {
        Some(rest) => format!("im{rest}"),
        None => compact,
    }
}

/// The narrowing values whose key is one of `keys` (case-insensitive), in order, without repeats.
fn values_for<'a>(narrowing: &[(&str, &'a str)], keys: &[String]) -> Vec<&'a str> {
    let mut values: Vec<&str> = Vec::new();
    for (key, value) in narrowing {
        if keys.iter().any(|wanted| wanted.eq_ignore_ascii_case(key)) && !values.contains(value) {
            values.push(value);
        }
    }
    values
}

fn entry_rows(
    catalog: &EventCatalog,
    tables: &Tables,
    entry: &DatasetMapEntry,
    narrowing: &[(&str, &str)],
    rows: &mut Vec<EventRow>,
) {
    let narrowed = values_for(narrowing, &entry.narrow_by);
    let narrowing_text = |value: &str| {
        let keys = entry.narrow_by.join("/");
        format!("{}; narrowed by {keys} == {value}", entry.reason)
    };
    if let Some(table) = &entry.table {
        if narrowed.is_empty() {
            rows.push(any_row(catalog, tables, table, entry.title.as_deref(), &entry.reason));
            push_mapped(catalog, tables, &entry.events, rows);
        } else {
            for value in narrowed {
                rows.push(event_row(catalog, table, value, &narrowing_text(value)));
                native_rows(catalog, table, value, rows);
            }
        }
        return;
    }
    let mut providers: Vec<String> = entry.provider.iter().cloned().collect();
    for value in values_for(narrowing, &entry.providers_from) {
        let generic = entry.ignore_values.iter().any(|ignored| ignored.eq_ignore_ascii_case(value.trim()));
        let value = strip_log_prefix(value);
        if generic || value.is_empty() || value.contains('*') {
            continue;
        }
        let provider = catalog.provider(value).map_or_else(|| value.to_owned(), |provider| provider.name.clone());
        if !providers.contains(&provider) {
            providers.push(provider);
        }
    }
    if providers.is_empty()
        && let Some(channel) = &entry.channel
        && !narrowed.is_empty()
    {
        for value in &narrowed {
            let provider = catalog
                .providers()
                .iter()
                .filter(|provider| provider.channel.as_deref() == Some(channel.as_str()))
                .find(|provider| provider.event(value).is_some())
                .map_or_else(|| channel.clone(), |provider| provider.name.clone());
            rows.push(event_row(catalog, &provider, value, &narrowing_text(value)));
        }
        return;
    }
    for provider in &providers {
        if narrowed.is_empty() {
            rows.push(any_row(catalog, tables, provider, entry.title.as_deref(), &entry.reason));
        } else {
            for value in &narrowed {
                rows.push(event_row(catalog, provider, value, &narrowing_text(value)));
            }
        }
    }
    let names_providers = !entry.providers_from.is_empty() || entry.channel.is_some();
    if providers.is_empty() && names_providers && entry.events.is_empty() {
        // A channel written by known providers (System, Application) is known as a log even
        // when no filter says which of its providers the rule reads.
        let channel_known = entry.channel.as_deref().is_some_and(|channel| {
            catalog.providers().iter().any(|provider| provider.channel.as_deref() == Some(channel))
        });
        rows.push(EventRow {
            provider: entry.channel.clone().unwrap_or_else(|| "Windows event log".to_owned()),
            product: "Windows event log".to_owned(),
            event: ANY.to_owned(),
            title: entry.title.clone().unwrap_or_else(|| "any event".to_owned()),
            reason: format!("{}; no provider filter narrows it", entry.reason),
            known: channel_known,
        });
    }
    if providers.is_empty() || narrowed.is_empty() {
        push_mapped(catalog, tables, &entry.events, rows);
    }
}

/// `XmlWinEventLog:Security` -> `Security`: Splunk's Windows sources and sourcetypes prefix the
/// channel.
fn strip_log_prefix(value: &str) -> &str {
    let value = value.trim();
    for prefix in ["XmlWinEventLog:", "WinEventLog:", "xmlwineventlog:", "wineventlog:"] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return rest;
        }
    }
    value
}

fn push_mapped(catalog: &EventCatalog, tables: &Tables, events: &[MappedEvent], rows: &mut Vec<EventRow>) {
    for mapped in events {
        if mapped.event == ANY {
            rows.push(any_row(catalog, tables, &mapped.provider, None, &mapped.reason));
        } else {
            rows.push(event_row(catalog, &mapped.provider, &mapped.event, &mapped.reason));
        }
    }
}

/// The native Windows events the catalog links to a Defender ActionType.
fn native_rows(catalog: &EventCatalog, table: &str, action_type: &str, rows: &mut Vec<EventRow>) {
    let Some((_, event)) = catalog.event(table, action_type) else { return };
    for native in &event.native {
        let Some((provider, id)) = split_event_reference(native) else { continue };
        let reason = format!("records the same activity as {table} ActionType {} (defender-actiontypes)", event.id);
        rows.push(event_row(catalog, provider, id, &reason));
    }
}

fn any_row(catalog: &EventCatalog, tables: &Tables, provider: &str, title: Option<&str>, reason: &str) -> EventRow {
    let known = catalog.provider(provider);
    let table = tables.table(provider);
    let any_title = match known.map(|provider| provider.key) {
        Some(EventKey::ActionType) => "any ActionType",
        Some(EventKey::Category) => "any category",
        None if table.is_some() => "any row",
        _ => "any event",
    };
    let product = match (known, table) {
        (Some(known), _) => known.product.clone(),
        (None, Some(table)) => table_product(table.environment).to_owned(),
        (None, None) => String::new(),
    };
    EventRow {
        provider: known.map_or_else(
            || table.map_or_else(|| provider.to_owned(), |table| table.name.clone()),
            |known| known.name.clone(),
        ),
        product,
        event: ANY.to_owned(),
        title: match title {
            Some(title) => format!("{title} ({any_title})"),
            None => any_title.to_owned(),
        },
        reason: reason.to_owned(),
        known: known.is_some() || table.is_some(),
    }
}

fn table_product(environment: TableEnvironment) -> &'static str {
    match environment {
        TableEnvironment::DefenderXdr => "Microsoft Defender XDR",
        TableEnvironment::Sentinel => "Microsoft Sentinel",
    }
}

fn event_row(catalog: &EventCatalog, provider: &str, id: &str, reason: &str) -> EventRow {
    let known_provider = catalog.provider(provider);
    let known_event = known_provider.and_then(|provider| provider.event(id));
    EventRow {
        provider: known_provider.map_or_else(|| provider.to_owned(), |known| known.name.clone()),
        product: known_provider.map(|known| known.product.clone()).unwrap_or_default(),
        event: known_event.map_or_else(|| id.trim().to_owned(), |event| event.id.clone()),
        title: known_event.map_or_else(|| "not in the event catalog".to_owned(), |event| event.title.clone()),
        reason: reason.to_owned(),
        known: known_event.is_some(),
    }
}

/// Rows when no entry applies: a known Defender table or Sentinel table is its own event source;
/// anything else is one unknown row, so nothing is dropped.
fn fallback_rows(
    catalog: &EventCatalog,
    tables: &Tables,
    family: Family,
    name: &str,
    narrowing: &[(&str, &str)],
    rows: &mut Vec<EventRow>,
) {
    if family == Family::Kusto {
        if let Some(provider) = catalog.provider(name).filter(|provider| provider.key == EventKey::ActionType) {
            let entry = DatasetMapEntry {
                family: family_key(family).to_owned(),
                dataset: Some(provider.name.clone()),
                dataset_prefix: None,
                attributes: BTreeMap::new(),
                any: false,
                group: String::new(),
                channel: None,
                table: Some(provider.name.clone()),
                provider: None,
                providers_from: Vec::new(),
                narrow_by: vec!["ActionType".to_owned()],
                ignore_values: Vec::new(),
                title: None,
                events: Vec::new(),
                reason: format!("{} table read as itself", provider.product),
            };
            entry_rows(catalog, tables, &entry, narrowing, rows);
            return;
        }
        if let Some(table) = tables.table(name) {
            let product = table_product(table.environment);
            rows.push(EventRow {
                provider: table.name.clone(),
                product: product.to_owned(),
                event: ANY.to_owned(),
                title: "any row".to_owned(),
                reason: format!("{product} table read as itself"),
                known: true,
            });
            return;
        }
    }
    rows.push(EventRow {
        provider: name.to_owned(),
        product: String::new(),
        event: ANY.to_owned(),
        title: "unknown dataset".to_owned(),
        reason: format!("no event mapping is known for the {} dataset {name}", family.display_name()),
        known: false,
    });
}

/// Keeps the first row of each (provider, event), joining the reasons of later duplicates.
fn dedup_rows(rows: Vec<EventRow>) -> Vec<EventRow> {
    let mut result: Vec<EventRow> = Vec::new();
    for row in rows {
        match result
            .iter_mut()
            .find(|kept| kept.provider == row.provider && kept.event.eq_ignore_ascii_case(&row.event))
        {
            Some(kept) => {
                if !kept.reason.contains(&row.reason) {
                    kept.reason = format!("{}; {}", kept.reason, row.reason);
                }
            }
            None => result.push(row),
        }
    }
    result
}

impl DatasetMaps {
    /// Every entry as a Markdown table, for `docs/semantics.md`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| language | dataset | narrowed by | events | reason |\n|---|---|---|---|---|\n");
        for entry in &self.data.entries {
            let mut selector = Vec::new();
            if let Some(dataset) = &entry.dataset {
                selector.push(format!("`{dataset}`"));
            }
            if let Some(prefix) = &entry.dataset_prefix {
                selector.push(format!("`{prefix}`…"));
            }
            for (key, value) in &entry.attributes {
                selector.push(format!("{key}: `{value}`"));
            }
            if entry.any {
                selector.push("any".to_owned());
            }
            let mut narrowed: Vec<String> = entry.narrow_by.iter().map(|key| format!("`{key}`")).collect();
            narrowed.extend(entry.providers_from.iter().map(|key| format!("`{key}` (provider)")));
            let mut events: Vec<String> = Vec::new();
            if let Some(table) = &entry.table {
                events.push(format!("{table} (per ActionType, with its native events)"));
            }
            if let Some(provider) = &entry.provider {
                events.push(format!("{provider} (per event ID)"));
            }
            if let Some(channel) = &entry.channel {
                events.push(format!("providers of channel {channel}"));
            }
            events.extend(entry.events.iter().map(|event| format!("{} {}", event.provider, event.event)));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                entry.family,
                selector.join(", "),
                narrowed.join(", "),
                events.join("; "),
                entry.reason.replace('|', "\\|")
            ));
        }
        out
    }
}
