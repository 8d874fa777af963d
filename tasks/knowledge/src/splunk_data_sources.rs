//! Splunk security_content's `data_sources/*.yml` as knowledge input: each file names one data
//! source (`Sysmon EventID 1`, `Windows Event Log System 7045`) with the `source` Splunk reads it
//! from and the fields the Splunk add-on extracts. For the Windows ones (`source:
//! XmlWinEventLog:<channel>`) the event is the last number of the name; the event gets the
//! add-on's field names (so a Splunk search reading `process_name` on Sysmon 1 fits fully), and an
//! event or a channel no other source lists (CAPI2, PrintService, Application 3000) is added.
//!
//! Other data sources (`aws:cloudtrail`, `OktaIM2:log`, `suricata`) name products that the
//! hand-written `datasets.json` maps by sourcetype (or source) to one provider (`AWS CloudTrail`).
//! The data source named after the product alone (`AWS CloudTrail`) gives the provider its fields
//! (every event carries them, as a Defender table's columns); one whose name adds a suffix to it
//! (`AWS CloudTrail ConsoleLogin`, split on the file's `separator` field) is an event of that
//! provider with its own fields, so a search reading `eventName` and `userIdentity.arn` on
//! CloudTrail fits fully. The provider takes its product and key from `events-extra.json` when it
//! is listed there. A sourcetype no entry maps to one provider is counted as unmapped: which
//! product a sourcetype is stays a hand-written decision.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Non-Windows data sources merged into a provider `datasets.json` maps their sourcetype to.
    pub other_merged: usize,
    /// Events those added to their providers.
    pub other_events: usize,
    /// Non-Windows sourcetypes (or sources) no `datasets.json` entry maps to a single provider.
    pub unmapped: Vec<String>,
}

/// One data source file, as far as the merge needs it.
struct DataSource {
    name: String,
    source: String,
    sourcetype: String,
    fields: Vec<String>,
}

/// Merges every data source under `dir` into `catalog`. `extra` is the hand-written
/// `events-extra.json`: a channel it knows gets a generated provider of the same name, which the
/// loader merges with it. `products` maps a lower-case Splunk sourcetype or source to the provider
/// `datasets.json` names for it (see [`splunk_products`]).
pub fn merge(
    dir: &Path,
    extra: &EventCatalogData,
    products: &BTreeMap<String, String>,
    catalog: &mut EventCatalogData,
) -> Result<Summary> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .collect();
    paths.sort();
    let mut summary = Summary::default();
    let mut others = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let Some(data_source) = read_data_source(&text) else {
            eprintln!("skipped {}: no name or source", path.display());
            continue;
        };
        summary.files += 1;
        let Some(channel) = windows_channel(&data_source.source) else {
            summary.other += 1;
            others.push(data_source);
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
    merge_products(&others, extra, products, catalog, &mut summary);
    catalog.providers.sort_by(|a, b| (a.key, &a.name).cmp(&(b.key, &b.name)));
    catalog.attribution.push(Attribution {
        source: "splunk/security_content data_sources".to_owned(),
        license: "Apache-2.0, Copyright Splunk Inc.".to_owned(),
        used_for: "Splunk add-on field names of Windows events, events of channels no other source lists, and \
                   the fields and events of the cloud, identity, network and Linux products Splunk reads"
            .to_owned(),
    });
    Ok(summary)
}

/// Sourcetype (or source) -> provider, from the hand-written `datasets.json` text: every Splunk
/// entry naming one `dataset` whose events all belong to one provider. Keys are lower-case.
pub fn splunk_products(datasets_json: &str) -> Result<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_str(datasets_json).context("parsing datasets.json")?;
    let mut products = BTreeMap::new();
    for entry in value["entries"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let (Some("splunk"), Some(dataset)) = (entry["family"].as_str(), entry["dataset"].as_str()) else {
            continue;
        };
        let providers: BTreeSet<&str> = entry["events"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|event| event["provider"].as_str())
            .collect();
        if let [provider] = providers.into_iter().collect::<Vec<_>>().as_slice() {
            products.insert(dataset.to_ascii_lowercase(), (*provider).to_owned());
        }
    }
    Ok(products)
}

/// The non-Windows part of [`merge`] (see the module documentation).
fn merge_products(
    others: &[DataSource],
    extra: &EventCatalogData,
    products: &BTreeMap<String, String>,
    catalog: &mut EventCatalogData,
    summary: &mut Summary,
) {
    let mut unmapped = BTreeSet::new();
    let mut touched = BTreeSet::new();
    for data_source in others {
        let product = [&data_source.sourcetype, &data_source.source]
            .iter()
            .find_map(|key| products.get(&key.to_ascii_lowercase()));
        let Some(provider_name) = product else {
            unmapped.insert(data_source.sourcetype.clone());
            continue;
        };
        summary.other_merged += 1;
        // The product's own data source: the one of the same sourcetype whose name the others
        // extend (`AWS CloudTrail` for `AWS CloudTrail ConsoleLogin`).
        let base = others
            .iter()
            .filter(|other| other.sourcetype.eq_ignore_ascii_case(&data_source.sourcetype))
            .filter(|other| data_source.name.starts_with(&format!("{} ", other.name)))
            .max_by_key(|other| other.name.len());
        let index = product_index(catalog, extra, provider_name);
        touched.insert(provider_name.clone());
        let provider = &mut catalog.providers[index];
        let fields = data_source.fields.iter().filter(|field| !is_splunk_internal(field));
        let Some(base) = base else {
            for field in fields {
                if !provider.fields.contains(field) {
                    provider.fields.push(field.clone());
                }
            }
            continue;
        };
        let id = data_source.name[base.name.len()..].trim().to_owned();
        if id.is_empty() || provider.events.iter().any(|event| event.id == id) {
            continue;
        }
        summary.other_events += 1;
        provider.events.push(Event {
            id: id.clone(),
            title: id,
            description: None,
            fields: fields.cloned().collect(),
            native: Vec::new(),
            sources: vec![SOURCE_TAG.to_owned()],
        });
    }
    for provider in catalog.providers.iter_mut().filter(|provider| touched.contains(&provider.name)) {
        provider.events.sort_by(|a, b| a.id.cmp(&b.id));
        provider.fields.sort();
    }
    summary.unmapped = unmapped.into_iter().collect();
}

/// The generated provider named `name`, created from its `events-extra.json` entry (product,
/// key, aliases) or, for a product no hand-written file lists, as a category provider of its own
/// name.
fn product_index(catalog: &mut EventCatalogData, extra: &EventCatalogData, name: &str) -> usize {
    if let Some(index) = catalog.providers.iter().position(|provider| provider.name == name) {
        return index;
    }
    let provider = match extra.providers.iter().find(|provider| provider.name == name) {
        Some(template) => Provider { events: Vec::new(), fields: Vec::new(), ..template.clone() },
        None => Provider {
            name: name.to_owned(),
            full_name: name.to_owned(),
            product: name.to_owned(),
            channel: None,
            aliases: Vec::new(),
            key: EventKey::Category,
            fields: Vec::new(),
            events: Vec::new(),
        },
    };
    catalog.providers.push(provider);
    catalog.providers.len() - 1
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
    let sourcetype = text_of("sourcetype").unwrap_or_default();
    Some(DataSource { name: text_of("name")?, source: text_of("source")?, sourcetype, fields })
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

    fn data_source(name: &str, sourcetype: &str, fields: &[&str]) -> DataSource {
        DataSource {
            name: name.to_owned(),
            source: sourcetype.to_owned(),
            sourcetype: sourcetype.to_owned(),
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        }
    }

    #[test]
    fn products_come_from_single_provider_splunk_entries() {
        let datasets = r#"{"entries": [
            {"family": "splunk", "dataset": "aws:cloudtrail", "events": [{"provider": "AWS CloudTrail", "event": "any"}]},
            {"family": "splunk", "dataset": "mixed", "events": [{"provider": "A", "event": "any"}, {"provider": "B", "event": "any"}]},
            {"family": "splunk", "dataset_prefix": "Web", "events": [{"provider": "Nginx", "event": "any"}]},
            {"family": "kusto", "dataset": "SigninLogs", "events": [{"provider": "SigninLogs", "event": "any"}]}
        ]}"#;
        let products = splunk_products(datasets).unwrap();
        assert_eq!(
            products.into_iter().collect::<Vec<_>>(),
            [("aws:cloudtrail".to_owned(), "AWS CloudTrail".to_owned())]
        );
    }

    #[test]
    fn a_product_gets_its_fields_and_the_named_variants_become_events() {
        let products = BTreeMap::from([("aws:cloudtrail".to_owned(), "AWS CloudTrail".to_owned())]);
        let others = [
            data_source("AWS CloudTrail", "aws:cloudtrail", &["eventName", "userIdentity.arn", "_time"]),
            data_source(
                "AWS CloudTrail ConsoleLogin",
                "aws:cloudtrail",
                &["eventName", "responseElements.ConsoleLogin"],
            ),
            data_source("CrowdStrike ProcessRollup2", "crowdstrike:events:sensor", &["CommandLine"]),
        ];
        let extra = EventCatalogData {
            attribution: Vec::new(),
            providers: vec![Provider {
                name: "AWS CloudTrail".to_owned(),
                full_name: "AWS CloudTrail".to_owned(),
                product: "AWS".to_owned(),
                channel: None,
                aliases: Vec::new(),
                key: EventKey::Category,
                fields: Vec::new(),
                events: Vec::new(),
            }],
        };
        let mut catalog = EventCatalogData::default();
        let mut summary = Summary::default();
        merge_products(&others, &extra, &products, &mut catalog, &mut summary);
        let [provider] = catalog.providers.as_slice() else { panic!("one provider: {:?}", catalog.providers) };
        assert_eq!(provider.product, "AWS");
        assert_eq!(provider.fields, ["eventName", "userIdentity.arn"]);
        assert_eq!(provider.events.len(), 1);
        assert_eq!(provider.events[0].id, "ConsoleLogin");
        assert!(provider.events[0].fields.contains(&"responseElements.ConsoleLogin".to_owned()));
        assert_eq!((summary.other_merged, summary.other_events), (2, 1));
        assert_eq!(summary.unmapped, ["crowdstrike:events:sensor"]);
    }

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
