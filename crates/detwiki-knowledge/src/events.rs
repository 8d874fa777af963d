//! The event catalog: providers (Windows event-log providers, Sysmon, Defender XDR tables) and
//! their events (an event ID or an ActionType) with titles and raw fields.

use serde::{Deserialize, Serialize};

/// Where a part of the generated data comes from and under which license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub source: String,
    pub license: String,
    /// What was taken from the source (facts only, or descriptions too).
    pub used_for: String,
}

/// The serialized event catalog (`data/events.json` merged with the hand-written
/// `data/events-extra.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventCatalogData {
    #[serde(default)]
    pub attribution: Vec<Attribution>,
    pub providers: Vec<Provider>,
}

/// How a provider's events are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKey {
    /// Windows event IDs (`4688`).
    EventId,
    /// Defender XDR `ActionType` values (`ConnectionSuccess`).
    ActionType,
    /// Categories or product-specific event names (Elastic Defend's `process`, `network`), and
    /// products listed as a whole without their events (AWS CloudTrail, web proxies).
    Category,
}

/// A source of events: a Windows event-log provider or a Defender XDR table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// The short name detwiki shows and links by: `Sysmon`, `Security`, `PowerShell`,
    /// `DeviceNetworkEvents`.
    pub name: String,
    /// The ETW provider or table name (`Microsoft-Windows-Sysmon`, `DeviceNetworkEvents`).
    pub full_name: String,
    /// `Windows event log`, `Sysmon` or `Microsoft Defender XDR`.
    pub product: String,
    /// The event-log channel (`Microsoft-Windows-Sysmon/Operational`, `Security`, `System`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Other names queries use for it (provider names, channels, Splunk sources), compared
    /// case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub key: EventKey,
    /// Fields every event of the provider carries (the columns of a Defender table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    pub events: Vec<Event>,
}

/// One event of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event ID (`3`) or the ActionType (`ConnectionSuccess`).
    pub id: String,
    pub title: String,
    /// Only from sources whose license allows it (OSSEM and msticpy, MIT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Raw field names as the event carries them (in addition to the provider's fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Native Windows events that record the same thing (`Sysmon 3`, `Security 5156`), for
    /// Defender ActionTypes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native: Vec<String>,
    /// Sources that list the event (`ossem-dd`, `sysmon-schema`, `msticpy`, `defender-actiontypes`,
    /// `ossem-dm`, `detwiki`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

impl Provider {
    /// An event by ID or ActionType (ActionTypes compare case-insensitively, as KQL `=~` would).
    pub fn event(&self, id: &str) -> Option<&Event> {
        let id = id.trim();
        self.events
            .iter()
            .find(|event| event.id == id)
            .or_else(|| self.events.iter().find(|event| event.id.eq_ignore_ascii_case(id)))
    }

    /// Whether `name` is this provider's name, full name, channel or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        let name = name.trim();
        std::iter::once(&self.name)
            .chain(std::iter::once(&self.full_name))
            .chain(self.channel.iter())
            .chain(self.aliases.iter())
            .any(|candidate| candidate.eq_ignore_ascii_case(name))
    }
}

/// A reference to one event as text: `Sysmon 3`, `Security 4688`, `DeviceProcessEvents ProcessCreated`.
/// The provider name may contain spaces (`Service Control Manager 7045`), so the event is the last
/// word.
pub fn split_event_reference(reference: &str) -> Option<(&str, &str)> {
    let reference = reference.trim();
    let (provider, event) = reference.rsplit_once(' ')?;
    let provider = provider.trim();
    (!provider.is_empty() && !event.is_empty()).then_some((provider, event))
}

/// Indexed event catalog.
#[derive(Debug, Clone, Default)]
pub struct EventCatalog {
    data: EventCatalogData,
}

impl EventCatalog {
    /// Builds the catalog from generated data and hand-written additions. An extra provider with
    /// the name of a generated one adds its events (a generated event with the same ID wins for
    /// fields, the hand-written title wins when the generated one is empty) and its aliases.
    pub fn from_parts(generated: EventCatalogData, extra: EventCatalogData) -> EventCatalog {
        let mut data = generated;
        data.attribution.extend(extra.attribution);
        for provider in extra.providers {
            match data.providers.iter_mut().find(|existing| existing.name == provider.name) {
                Some(existing) => {
                    for alias in provider.aliases {
                        if !existing.aliases.contains(&alias) {
                            existing.aliases.push(alias);
                        }
                    }
                    for event in provider.events {
                        match existing.events.iter_mut().find(|known| known.id == event.id) {
                            Some(known) => {
                                if known.title.is_empty() || known.title.starts_with("Event ") {
                                    known.title = event.title;
                                }
                                for field in event.fields {
                                    if !known.fields.contains(&field) {
                                        known.fields.push(field);
                                    }
                                }
                                known.sources.extend(event.sources);
                            }
                            None => existing.events.push(event),
                        }
                    }
                }
                None => data.providers.push(provider),
            }
        }
        EventCatalog { data }
    }

    pub fn providers(&self) -> &[Provider] {
        &self.data.providers
    }

    pub fn attribution(&self) -> &[Attribution] {
        &self.data.attribution
    }

    /// A provider by short name, full name, channel or alias (case-insensitive).
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        let name = name.trim();
        self.data
            .providers
            .iter()
            .find(|provider| provider.name == name)
            .or_else(|| self.data.providers.iter().find(|provider| provider.is_named(name)))
    }

    /// An event by provider and ID or ActionType.
    pub fn event(&self, provider: &str, id: &str) -> Option<(&Provider, &Event)> {
        let provider = self.provider(provider)?;
        Some((provider, provider.event(id)?))
    }
}
