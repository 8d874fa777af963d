//! Splunk security_content's `data_sources/*.yml` as knowledge input: each file names one data
//! source (`Sysmon EventID 1`, `Windows Event Log System 7045`) with the `source` Splunk reads it
//! from and the fields the Splunk add-on extracts. For the Windows ones (`source:
//! XmlWinEventLog:<channel>`) the event is the last number of the name; the event gets the
//! add-on's field names (so a Splunk search reading `process_name` on Sysmon 1 fits fully), and an
//! event or a channel no other source lists (CAPI2, PrintService, Application 3000) is added.
//!
//! Other data sources (`aws:cloudtrail`, `OktaIM2:log`, `crowdstrike:events:sensor`) name products
//! that `datasets.json` maps by sourcetype; they carry no event ID and are only counted.

use std::path::Path;

use anyhow::{Context, Result};
use detwiki_knowledge::{Attribution, Event, EventCatalogData, EventKey, Provider};
use saphyr::{LoadableYamlNode, Scalar, Yaml};

/// The tag events taken from the data sources carry in `sources`.
const SOURCE_TAG: &str = "splunk-data-sources";

/// What one merge did, for the generator's summary line.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub windows: usize,
    pub events_added: usize,
    pub events_enriched: usize,
    pub providers_added: usize,
    pub other: usize,
}

/// One data source file, as far as the merge needs it.
struct DataSource {
    name: String,
    source: String,
    fields: Vec<String>,
}

/// Merges every data source under `dir` into `catalog`. `extra` is the hand-written
/// `events-extra.json`: a channel it knows gets a generated provider of the same name, which the
/// loader merges with it.
pub fn merge(dir: &Path, extra: &EventCatalogData, catalog: &mut EventCatalogData) -> Result<Summary> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .collect();
    paths.sort();
    let mut summary = Summary::default();
    for path in &paths {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let Some(data_source) = read_data_source(&text) else {
            eprintln!("skipped {}: no name or source", path.display());
            continue;
        };
        summary.files += 1;
        let Some(channel) = windows_channel(&data_source.source) else {
            summary.other += 1;
            continue;
        };
        summary.windows += 1;
        for id in event_ids(&data_source.name) {
            let index = provider_index(catalog, extra, channel, &id, &mut summary);
            let provider = &mut catalog.providers[index];
            let event = match provider.events.iter().position(|event| event.id == id) {
                Some(position) => {
                    summary.events_enriched += 1;
                    &mut provider.events[position]
                }
                None => {
                    summary.events_added += 1;
                    provider.events.push(Event {
                        id: id.clone(),
                        title: format!("Event {id}"),
                        description: None,
                        fields: Vec::new(),
                        native: Vec::new(),
                        sources: Vec::new(),
                    });
                    provider
                        .events
                        .sort_by_key(|event| (event.id.parse::<u64>().unwrap_or(u64::MAX), event.id.clone()));
                    let position = provider.events.iter().position(|event| event.id == id).unwrap_or_default();
                    &mut provider.events[position]
                }
            };
            for field in data_source.fields.iter().filter(|field| !is_splunk_internal(field)) {
                if !event.fields.contains(field) {
                    event.fields.push(field.clone());
                }
            }
            if !event.sources.iter().any(|source| source == SOURCE_TAG) {
                event.sources.push(SOURCE_TAG.to_owned());
                event.sources.sort();
            }
        }
    }
    catalog.providers.sort_by(|a, b| (a.key, &a.name).cmp(&(b.key, &b.name)));
    catalog.attribution.push(Attribution {
        source: "splunk/security_content data_sources".to_owned(),
        license: "Apache-2.0, Copyright Splunk Inc.".to_owned(),
        used_for: "Splunk add-on field names of Windows events, and events of channels no other source lists"
            .to_owned(),
    });
    Ok(summary)
}

fn read_data_source(text: &str) -> Option<DataSource> {
    let documents = Yaml::load_from_str(text).ok()?;
    let document = documents.first()?;
    let text_of = |key: &str| document.as_mapping_get(key).and_then(scalar_text);
    let fields = document
        .as_mapping_get("fields")
        .and_then(|fields| fields.as_sequence())
        .map(|items| items.iter().filter_map(scalar_text).collect())
        .unwrap_or_default();
    Some(DataSource { name: text_of("name")?, source: text_of("source")?, fields })
}

/// Fields Splunk adds to every event (`_time`, `date_hour`, `punct`, `tag::eventtype`, the index
/// and source it came from): they say nothing about what the event records.
fn is_splunk_internal(field: &str) -> bool {
    const DEFAULT_FIELDS: [&str; 11] = [
        "punct",
        "linecount",
        "splunk_server",
        "splunk_server_group",
        "timeendpos",
        "timestartpos",
        "index",
        "source",
        "sourcetype",
        "eventtype",
        "tag",
    ];
    field.starts_with('_')
        || field.starts_with("date_")
        || field.starts_with("tag::")
        || DEFAULT_FIELDS.contains(&field)
}

/// A scalar as text (numbers too: a field list may hold a bare number), trimmed.
fn scalar_text(yaml: &Yaml) -> Option<String> {
    let text = match yaml {
        Yaml::Value(Scalar::String(text)) => text.to_string(),
        Yaml::Value(Scalar::Integer(number)) => number.to_string(),
        Yaml::Representation(text, _, _) => text.to_string(),
        _ => return None,
    };
    Some(text.trim().to_owned())
}

/// `XmlWinEventLog:Microsoft-Windows-Sysmon/Operational` -> the channel; `None` for sources that
/// are not a Windows event log.
fn windows_channel(source: &str) -> Option<&str> {
    ["XmlWinEventLog:", "WinEventLog:"]
        .iter()
        .find_map(|prefix| source.strip_prefix(prefix))
        .map(str::trim)
        .filter(|channel| !channel.is_empty() && !channel.contains('*'))
}

/// The event IDs a data source name ends with (`Sysmon EventID 1` -> 1, `... 8004,8005` -> both).
fn event_ids(name: &str) -> Vec<String> {
    let last = name.split_whitespace().last().unwrap_or_default();
    last.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The provider writing `channel` that owns event `id`, else the channel's only provider, else a
/// new provider named after the channel (`Microsoft-Windows-CAPI2/Operational` -> `CAPI2`).
fn provider_index(
    catalog: &mut EventCatalogData,
    extra: &EventCatalogData,
    channel: &str,
    id: &str,
    summary: &mut Summary,
) -> usize {
    let writes = |provider: &Provider| {
        provider.key == EventKey::EventId
            && (provider.channel.as_deref().is_some_and(|known| known.eq_ignore_ascii_case(channel))
                || provider.aliases.iter().any(|alias| alias.eq_ignore_ascii_case(channel)))
    };
    let owns = |provider: &Provider| provider.events.iter().any(|event| event.id == id);
    let generated: Vec<usize> =
        (0..catalog.providers.len()).filter(|&index| writes(&catalog.providers[index])).collect();
    if let Some(&index) = generated.iter().find(|&&index| owns(&catalog.providers[index])) {
        return index;
    }
    let hand_written: Vec<&Provider> = extra.providers.iter().filter(|provider| writes(provider)).collect();
    let template = hand_written
        .iter()
        .find(|provider| owns(provider))
        .or_else(|| (generated.is_empty() && hand_written.len() == 1).then(|| &hand_written[0]))
        .copied();
    if let Some(template) = template {
        if let Some(index) = catalog.providers.iter().position(|provider| provider.name == template.name) {
            return index;
        }
        catalog.providers.push(Provider { events: Vec::new(), fields: Vec::new(), ..template.clone() });
        return catalog.providers.len() - 1;
    }
    if let [index] = generated.as_slice() {
        return *index;
    }
    // A known provider writing to another of its channels (`Microsoft-Windows-PrintService/Admin`
    // beside `/Operational`): the events are that provider's, the channel one more alias.
    let full_name = channel.split('/').next().unwrap_or(channel).to_owned();
    let same_provider = |provider: &Provider| provider.full_name.eq_ignore_ascii_case(&full_name);
    let index = match catalog.providers.iter().position(same_provider) {
        Some(index) => Some(index),
        None => extra.providers.iter().find(|provider| same_provider(provider)).map(|template| {
            catalog.providers.push(Provider { events: Vec::new(), fields: Vec::new(), ..template.clone() });
            catalog.providers.len() - 1
        }),
    };
    if let Some(index) = index {
        let aliases = &mut catalog.providers[index].aliases;
        if !aliases.iter().any(|alias| alias.eq_ignore_ascii_case(channel)) {
            aliases.push(channel.to_owned());
            aliases.sort();
        }
        return index;
    }
    summary.providers_added += 1;
    let short = full_name.strip_prefix("Microsoft-Windows-").unwrap_or(&full_name).to_owned();
    let taken = catalog.providers.iter().chain(extra.providers.iter()).any(|provider| provider.name == short);
    catalog.providers.push(Provider {
        name: if taken { channel.to_owned() } else { short },
        full_name,
        product: "Windows event log".to_owned(),
        channel: Some(channel.to_owned()),
        aliases: Vec::new(),
        key: EventKey::EventId,
        fields: Vec::new(),
        events: Vec::new(),
    });
    catalog.providers.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_come_from_the_end_of_the_name() {
        assert_eq!(event_ids("Sysmon EventID 1"), ["1"]);
        assert_eq!(event_ids("NTLM Operational 8004,8005,8006"), ["8004", "8005", "8006"]);
        assert!(event_ids("Windows Event Log Security").is_empty());
    }

    #[test]
    fn splunk_default_fields_are_not_event_fields() {
        assert!(is_splunk_internal("_time") && is_splunk_internal("date_hour") && is_splunk_internal("tag::eventtype"));
        assert!(!is_splunk_internal("process_name") && !is_splunk_internal("CommandLine"));
    }

    #[test]
    fn only_windows_sources_name_a_channel() {
        assert_eq!(
            windows_channel("XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(windows_channel("WinEventLog:System"), Some("System"));
        assert_eq!(windows_channel("aws:cloudtrail"), None);
        assert_eq!(windows_channel("XmlWinEventLog:Microsoft-Windows-AppLocker/*"), None);
    }

    #[test]
    fn a_channel_nobody_lists_gets_a_provider_and_a_known_one_is_enriched() {
        let mut catalog = EventCatalogData {
            attribution: Vec::new(),
            providers: vec![Provider {
                name: "Sysmon".to_owned(),
                full_name: "Microsoft-Windows-Sysmon".to_owned(),
                product: "Sysmon".to_owned(),
                channel: Some("Microsoft-Windows-Sysmon/Operational".to_owned()),
                aliases: Vec::new(),
                key: EventKey::EventId,
                fields: Vec::new(),
                events: Vec::new(),
            }],
        };
        let mut summary = Summary::default();
        let sysmon = provider_index(
            &mut catalog,
            &EventCatalogData::default(),
            "Microsoft-Windows-Sysmon/Operational",
            "1",
            &mut summary,
        );
        assert_eq!(catalog.providers[sysmon].name, "Sysmon");
        let capi = provider_index(
            &mut catalog,
            &EventCatalogData::default(),
            "Microsoft-Windows-CAPI2/Operational",
            "70",
            &mut summary,
        );
        assert_eq!(catalog.providers[capi].name, "CAPI2");
        assert_eq!(summary.providers_added, 1);
    }
}
