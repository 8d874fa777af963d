//! The event catalog: Windows providers from OSSEM-DD and the Sysmon schema, Security event titles
//! from msticpy, behaviour links from OSSEM-DM, Defender XDR tables and ActionTypes from
//! `defender-actiontypes.json` and OSSEM-DM's `filter_in` conditions.
//!
//! Titles and descriptions come only from MIT sources (OSSEM, msticpy); the Defender titles in
//! `defender-actiontypes.json` were written for detwiki; everything else is facts (IDs, names,
//! field names).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use detwiki_knowledge::{Attribution, Event, EventCatalogData, EventKey, Provider, TableSchemaData};
use regex::Regex;
use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::Value;

use crate::tables::read_json;

/// A provider while it is being assembled: events by ID.
struct Draft {
    provider: Provider,
    events: BTreeMap<String, Event>,
}

impl Draft {
    fn event(&mut self, id: &str) -> &mut Event {
        self.events.entry(id.to_owned()).or_insert_with(|| Event {
            id: id.to_owned(),
            title: String::new(),
            description: None,
            fields: Vec::new(),
            native: Vec::new(),
            sources: Vec::new(),
        })
    }
}

fn add_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|known| known == value) {
        list.push(value.to_owned());
    }
}

/// Short name, product and channel of a Windows provider as OSSEM names it (`log_source`).
fn windows_provider(log_source: &str) -> (String, &'static str, Option<String>) {
    match log_source {
        "Microsoft-Windows-Sysmon" => {
            ("Sysmon".to_owned(), "Sysmon", Some("Microsoft-Windows-Sysmon/Operational".to_owned()))
        }
        "Microsoft-Windows-Security-Auditing" => {
            ("Security".to_owned(), "Windows event log", Some("Security".to_owned()))
        }
        "PowerShell" => ("Windows PowerShell".to_owned(), "Windows event log", Some("Windows PowerShell".to_owned())),
        "Microsoft-Windows-Eventlog" => ("Eventlog".to_owned(), "Windows event log", None),
        "Service Control Manager" => {
            ("Service Control Manager".to_owned(), "Windows event log", Some("System".to_owned()))
        }
        other => {
            let short = other.strip_prefix("Microsoft-Windows-").unwrap_or(other).to_owned();
            let channel = match short.as_str() {
                "Antimalware-Service" | "Firewall" => None,
                _ => Some(format!("{other}/Operational")),
            };
            (short, "Windows event log", channel)
        }
    }
}

fn draft_for(drafts: &mut BTreeMap<String, Draft>, log_source: &str, key: EventKey) -> String {
    let (name, product, channel) = match key {
        EventKey::EventId => windows_provider(log_source),
        EventKey::ActionType | EventKey::Category => (log_source.to_owned(), "Microsoft Defender XDR", None),
    };
    drafts.entry(name.clone()).or_insert_with(|| {
        let mut aliases = Vec::new();
        if key == EventKey::EventId && log_source != name {
            aliases.push(log_source.to_owned());
        }
        Draft {
            provider: Provider {
                name: name.clone(),
                full_name: log_source.to_owned(),
                product: product.to_owned(),
                channel,
                aliases,
                key,
                fields: Vec::new(),
                events: Vec::new(),
            },
            events: BTreeMap::new(),
        }
    });
    name
}

pub fn generate(knowledge: &Path, schemas: &TableSchemaData) -> Result<EventCatalogData> {
    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
    let mut names_for_drafts: Vec<(String, String)> = Vec::new();

    // Sysmon schema: event IDs, titles (the schema's templates) and fields.
    let schema_dir = knowledge.join("ossem-dd/resources/schemas/sysmon");
    let schema_path = newest_sysmon_schema(&schema_dir)?;
    let schema = std::fs::read_to_string(&schema_path).with_context(|| format!("reading {}", schema_path.display()))?;
    let sysmon = draft_for(&mut drafts, "Microsoft-Windows-Sysmon", EventKey::EventId);
    let event_pattern = Regex::new(r#"<event name="[^"]*" value="(\d+)"[^>]*template="([^"]*)""#)?;
    let data_pattern = Regex::new(r#"<data name="([^"]+)""#)?;
    let schema_events = schema.split("<event ").skip(1);
    for chunk in schema_events {
        let chunk = format!("<event {chunk}");
        let Some(captures) = event_pattern.captures(&chunk) else { continue };
        let (id, template) = (&captures[1], &captures[2]);
        let body = chunk.split("</event>").next().unwrap_or_default();
        if let Some(draft) = drafts.get_mut(&sysmon) {
            let event = draft.event(id);
            event.title = template.to_owned();
            for data in data_pattern.captures_iter(body) {
                add_unique(&mut event.fields, &data[1]);
            }
            add_unique(&mut event.sources, "sysmon-schema");
        }
    }

    // OSSEM-DD: one YAML per event.
    let ossem_dd = knowledge.join("ossem-dd/windows");
    let mut ossem_files: Vec<_> = walkdir::WalkDir::new(&ossem_dd)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("event-")))
        .collect();
    ossem_files.sort();
    for path in &ossem_files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let Ok(documents) = Yaml::load_from_str(&text) else {
            eprintln!("skipped {}: not YAML", path.display());
            continue;
        };
        let Some(document) = documents.first().map(to_json) else { continue };
        let (Some(log_source), Some(id)) = (text_of(&document, "log_source"), text_of(&document, "event_id")) else {
            continue;
        };
        let name = draft_for(&mut drafts, &log_source, EventKey::EventId);
        let Some(draft) = drafts.get_mut(&name) else { continue };
        let event = draft.event(&id);
        // OSSEM's titles (MIT) are preferred over the Sysmon schema's template names.
        if let Some(title) = text_of(&document, "name").and_then(|name| ossem_title(&name)) {
            event.title = title;
        }
        if let Some(description) = text_of(&document, "description").filter(|text| !text.trim().is_empty()) {
            event.description = Some(description.trim().to_owned());
        }
        if let Some(fields) = document.get("event_fields").and_then(Value::as_array) {
            for field in fields {
                if let Some(field_name) = text_of(field, "name") {
                    add_unique(&mut event.fields, &field_name);
                }
            }
        }
        add_unique(&mut event.sources, "ossem-dd");
    }

    // msticpy: Security event titles (MIT), with category and subcategory.
    let security = draft_for(&mut drafts, "Microsoft-Windows-Security-Auditing", EventKey::EventId);
    let msticpy = read_json(&knowledge.join("schemas/msticpy-WinSecurityEvent.json"))?;
    for entry in msticpy.as_array().into_iter().flatten() {
        let Some(id) = entry.get("event_id").and_then(Value::as_i64) else { continue };
        let Some(draft) = drafts.get_mut(&security) else { continue };
        let event = draft.event(&id.to_string());
        if let Some(description) = entry.get("description").and_then(Value::as_str) {
            event.title = description.trim().to_owned();
        }
        add_unique(&mut event.sources, "msticpy");
    }

    // OSSEM-DM: events that record behaviours, Defender ActionTypes from `filter_in`.
    let relationships = read_json(&knowledge.join("ossem-dm/relationships/_all_ossem_relationships.json"))?;
    for relationship in relationships.as_array().into_iter().flatten() {
        for event in relationship.get("security_events").and_then(Value::as_array).into_iter().flatten() {
            let (Some(log_source), Some(id)) = (text_of(event, "log_source"), text_of(event, "event_id")) else {
                continue;
            };
            if log_source == "Microsoft Defender for Endpoint" {
                let name = draft_for(&mut drafts, &id, EventKey::ActionType);
                for filter in event.get("filter_in").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(action_type) = text_of(filter, "ActionType")
                        && let Some(draft) = drafts.get_mut(&name)
                    {
                        let entry = draft.event(&action_type);
                        add_unique(&mut entry.sources, "ossem-dm");
                    }
                }
                continue;
            }
            let log_source = match log_source.as_str() {
                "sysmon" => "Microsoft-Windows-Sysmon".to_owned(),
                "EventLog" => "Microsoft-Windows-Eventlog".to_owned(),
                "Microsoft-Windows-Windows Firewall With Advanced Security" => "Microsoft-Windows-Firewall".to_owned(),
                other if other.eq_ignore_ascii_case("cloudtrail") || other.contains('/') => continue,
                other => other.to_owned(),
            };
            let name = draft_for(&mut drafts, &log_source, EventKey::EventId);
            let Some(draft) = drafts.get_mut(&name) else { continue };
            let entry = draft.event(&id);
            if entry.title.is_empty()
                && let Some(title) = text_of(event, "name")
            {
                entry.title = title.trim().to_owned();
            }
            add_unique(&mut entry.sources, "ossem-dm");
            if let Some(channel) = text_of(event, "channel") {
                names_for_drafts.push((name.clone(), channel));
            }
        }
    }
    for (name, channel) in names_for_drafts {
        if let Some(draft) = drafts.get_mut(&name) {
            // `System` holds events of many providers; only Service Control Manager keeps it as its
            // channel, so a `Channel == "System"` filter does not pick the event-log service.
            if draft.provider.channel.as_deref() != Some(channel.as_str()) && channel != "System" {
                add_unique(&mut draft.provider.aliases, &channel);
            }
        }
    }

    // Defender XDR: every advanced-hunting table, its columns and its ActionTypes.
    let actiontypes = read_json(&knowledge.join("schemas/defender-actiontypes.json"))?;
    let m365 = schemas.environments.get("m365").cloned().unwrap_or_default();
    for table in m365.keys() {
        draft_for(&mut drafts, table, EventKey::ActionType);
    }
    if let Some(tables) = actiontypes.get("tables").and_then(Value::as_object) {
        for (table, values) in tables {
            let name = draft_for(&mut drafts, table, EventKey::ActionType);
            let Some(draft) = drafts.get_mut(&name) else { continue };
            for value in values.as_array().into_iter().flatten() {
                let Some(action_type) = text_of(value, "action_type") else { continue };
                let event = draft.event(&action_type);
                if let Some(title) = text_of(value, "title") {
                    event.title = title;
                }
                for native in value.get("native").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(native) = native.as_str() {
                        add_unique(&mut event.native, native);
                    }
                }
                add_unique(&mut event.sources, "defender-actiontypes");
            }
        }
    }
    for draft in drafts.values_mut().filter(|draft| draft.provider.key == EventKey::ActionType) {
        if let Some(columns) = m365.get(&draft.provider.name) {
            draft.provider.fields = columns.iter().map(|(name, _)| name.clone()).collect();
        }
        for event in draft.events.values_mut().filter(|event| event.title.is_empty()) {
            event.title = title_from_identifier(&event.id);
        }
    }

    let mut providers = Vec::new();
    for (_, mut draft) in drafts {
        for event in draft.events.values_mut() {
            if event.title.is_empty() {
                event.title = format!("Event {}", event.id);
            }
            event.sources.sort();
            event.native.sort();
        }
        let mut events: Vec<Event> = draft.events.into_values().collect();
        events.sort_by_key(|a| event_order(&a.id));
        draft.provider.events = events;
        draft.provider.aliases.sort();
        providers.push(draft.provider);
    }
    providers.sort_by(|a, b| (a.key, &a.name).cmp(&(b.key, &b.name)));

    Ok(EventCatalogData { attribution: attribution(), providers })
}

fn attribution() -> Vec<Attribution> {
    vec![
        Attribution {
            source: "OTRF OSSEM data dictionaries (OSSEM-DD), including their Sysmon schema dumps".to_owned(),
            license: "MIT, Copyright (c) 2022 Open Threat Research Forge".to_owned(),
            used_for: "Windows providers, event IDs, titles, descriptions and field names".to_owned(),
        },
        Attribution {
            source: "OTRF OSSEM detection model (OSSEM-DM) relationships".to_owned(),
            license: "MIT, Copyright (c) 2022 Open Threat Research Forge".to_owned(),
            used_for: "events recording each behaviour, Defender ActionTypes in filter_in conditions".to_owned(),
        },
        Attribution {
            source: "msticpy WinSecurityEvent list".to_owned(),
            license: "MIT, Copyright (c) Microsoft Corporation".to_owned(),
            used_for: "Security event titles".to_owned(),
        },
        Attribution {
            source: "defender-actiontypes.json (assembled for detwiki from Microsoft documentation, OSSEM-DM, \
                     public lists and queries)"
                .to_owned(),
            license: "facts only: ActionType names and native-event links; titles written for detwiki".to_owned(),
            used_for: "Defender XDR ActionTypes with titles and native Windows events".to_owned(),
        },
    ]
}

/// Numeric IDs in numeric order, then names.
fn event_order(id: &str) -> (u64, String) {
    (id.parse().unwrap_or(u64::MAX), id.to_owned())
}

/// `Event ID 3: Network connection` -> `Network connection`; `Event 106 - TaskRegistered` ->
/// `TaskRegistered`; `Event 3008 - task_0` -> none (the task name says nothing).
fn ossem_title(name: &str) -> Option<String> {
    let title = name.split_once(": ").map(|(_, rest)| rest).or_else(|| name.split_once(" - ").map(|(_, rest)| rest))?;
    let title = title.trim().trim_matches('\'');
    let meaningless = title.is_empty() || title.starts_with("task_") || title.eq_ignore_ascii_case("none");
    (!meaningless).then(|| title.to_owned())
}

/// `ConnectionSuccess` -> `Connection success`: a neutral title for an ActionType no source
/// describes.
fn title_from_identifier(id: &str) -> String {
    let mut words = String::new();
    for (index, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            words.push(' ');
            words.push(c.to_ascii_lowercase());
        } else {
            words.push(c);
        }
    }
    words.trim_end_matches('.').to_owned()
}

/// The newest `sysmonvX_Y.xml` by schema version (`Y`).
fn newest_sysmon_schema(dir: &Path) -> Result<std::path::PathBuf> {
    let mut best: Option<((u32, u32), std::path::PathBuf)> = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let Some((_, version)) = name.rsplit_once('_') else { continue };
        let Some((major, minor)) = version.split_once('.') else { continue };
        let (Ok(major), Ok(minor)) = (major.parse::<u32>(), minor.parse::<u32>()) else { continue };
        if best.as_ref().is_none_or(|(known, _)| (major, minor) > *known) {
            best = Some(((major, minor), path));
        }
    }
    best.map(|(_, path)| path).context("no Sysmon schema found")
}

/// A scalar field as text (numbers too: `event_id: 4688` and `event_id: '4688'` are the same).
fn text_of(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn to_json(yaml: &Yaml) -> Value {
    to_json_bounded(yaml, 0)
}

/// YAML -> JSON, with a depth limit (OSSEM files are three levels deep; deeper input is cut).
fn to_json_bounded(yaml: &Yaml, depth: usize) -> Value {
    if depth > 32 {
        return Value::Null;
    }
    match yaml {
        Yaml::Value(Scalar::String(text)) => Value::String(text.to_string()),
        Yaml::Value(Scalar::Integer(number)) => Value::from(*number),
        Yaml::Value(Scalar::FloatingPoint(number)) => Value::String(number.to_string()),
        Yaml::Value(Scalar::Boolean(flag)) => Value::Bool(*flag),
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(|item| to_json_bounded(item, depth + 1)).collect()),
        Yaml::Mapping(map) => {
            let mut object = serde_json::Map::new();
            for (key, value) in map {
                let key = match to_json_bounded(key, depth + 1) {
                    Value::String(text) => text,
                    Value::Number(number) => number.to_string(),
                    _ => continue,
                };
                object.insert(key, to_json_bounded(value, depth + 1));
            }
            Value::Object(object)
        }
        _ => Value::Null,
    }
}
