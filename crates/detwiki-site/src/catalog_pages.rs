//! Pages built from the catalog index: indicator pages, field pages, provider and event pages,
//! technique pages and the ATT&CK matrix, each with its JSON twin.
//!
//! Rules are listed by family, then by title and id, so the same catalog always gives the same
//! pages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use askama::Template;
use detwiki_catalog::{
    Catalog, CatalogIndex, EventKeyRef, IndicatorKey, event_path, field_path, indicator_path, provider_path,
    technique_path, visible_text,
};
use detwiki_ir::{Family, JSON_VERSION};
use detwiki_knowledge::{Fit, Knowledge};
use serde::Serialize;

use crate::pages::rule_title;
use crate::{SiteError, write_page};

/// An event and the (rule, coverage row) pairs that need it.
type EventUses<'a> = (&'a EventKeyRef, &'a Vec<(usize, usize)>);

/// How many indicators an event or field page lists.
const TOP_INDICATORS: usize = 50;

/// A rule in a list.
#[derive(Debug, Clone, Serialize)]
pub struct RuleLink {
    pub id: String,
    pub title: String,
    /// The rule page, relative to the site root.
    pub path: String,
    pub source: String,
    /// What makes the rule belong here (`Image on windows/process_creation`), when useful.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Rules of one family.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyGroup {
    pub family: &'static str,
    pub name: &'static str,
    pub rules: Vec<RuleLink>,
}

/// An indicator with its corpus count, in a list.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorLink {
    pub field: String,
    pub kind: String,
    /// The most written spelling of the value.
    pub value: String,
    /// The value as shown (invisible characters escaped).
    #[serde(skip)]
    pub value_text: String,
    pub rules: u64,
    /// `kusto 2, sigma 1`.
    pub by_family: String,
    pub path: String,
}

/// One spelling of an indicator's value and how many rules write it so.
#[derive(Debug, Clone, Serialize)]
pub struct Spelling {
    pub value: String,
    /// As shown (invisible characters escaped).
    #[serde(skip)]
    pub text: String,
    pub rules: u64,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "indicator.html")]
pub struct IndicatorPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub field: String,
    pub kind: String,
    /// The most written spelling of the value.
    pub value: String,
    #[serde(skip)]
    pub value_text: String,
    /// The value as rules are matched on it (case-folded when the comparison ignores case).
    pub match_value: String,
    /// Every spelling of the value in the rules, most written first.
    pub spellings: Vec<Spelling>,
    pub canonical: bool,
    #[serde(skip)]
    pub field_page: String,
    pub total: u64,
    pub by_family: BTreeMap<&'static str, u64>,
    pub groups: Vec<FamilyGroup>,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "field.html")]
pub struct FieldPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    pub total: u64,
    pub indicators: Vec<IndicatorLink>,
    pub groups: Vec<FamilyGroup>,
}

/// An event of a provider, in a list.
#[derive(Debug, Clone, Serialize)]
pub struct EventLink {
    pub event: String,
    pub title: String,
    pub rules: u64,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "provider.html")]
pub struct ProviderPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub provider: String,
    pub product: String,
    pub events: Vec<EventLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderLink {
    pub provider: String,
    pub product: String,
    pub events: u64,
    pub rules: u64,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "events.html")]
pub struct EventsPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub providers: Vec<ProviderLink>,
    /// Datasets no knowledge names (custom `_CL` tables, functions), with the rules reading them:
    /// not providers.
    pub unknown_datasets: Vec<UnknownDatasetLink>,
}

/// A dataset that is not a known provider, in the events index.
#[derive(Debug, Clone, Serialize)]
pub struct UnknownDatasetLink {
    pub dataset: String,
    pub rules: Vec<RuleLink>,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "event.html")]
pub struct EventPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub provider: String,
    pub event: String,
    pub title: String,
    #[serde(skip)]
    pub provider_page: String,
    pub total: u64,
    /// Canonical fields the rules read on the datasets holding this event, with how many rules.
    pub fields: Vec<(String, u64)>,
    pub indicators: Vec<IndicatorLink>,
    /// Rules every field of which this event carries (fit `full`).
    pub groups: Vec<FamilyGroup>,
    /// Rules that read fields this event lacks, or whose fit is unknown.
    pub partial_groups: Vec<FamilyGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubTechniqueLink {
    pub id: String,
    pub name: String,
    pub rules: u64,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "technique.html")]
pub struct TechniquePage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub release: String,
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub tactics: Vec<String>,
    /// `revoked, replaced by T1685` or `deprecated` when the technique is not active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub subtechniques: Vec<SubTechniqueLink>,
    pub total: u64,
    pub groups: Vec<FamilyGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixTechnique {
    pub id: String,
    pub name: String,
    /// Rules tagged with the technique or one of its sub-techniques.
    pub rules: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixTactic {
    pub id: String,
    pub name: String,
    pub covered: u64,
    pub techniques: Vec<MatrixTechnique>,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "matrix.html")]
pub struct MatrixPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub release: String,
    pub tactics: Vec<MatrixTactic>,
}

/// What the catalog pages need from the rest of the site.
pub struct CatalogPages<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a CatalogIndex,
    pub knowledge: &'a Knowledge,
    /// Rule page folders under `rules/`, parallel to the catalog's rules.
    pub folders: &'a [String],
    pub generated: &'a str,
}

fn root_of(path: &str) -> String {
    "../".repeat(path.trim_end_matches('/').split('/').count())
}

fn by_family_text(counts: &BTreeMap<&'static str, u64>) -> String {
    counts.iter().map(|(family, count)| format!("{family} {count}")).collect::<Vec<_>>().join(", ")
}

impl CatalogPages<'_> {
    fn rule_link(&self, position: usize, detail: String) -> Option<(Family, RuleLink)> {
        let entry = self.catalog.rules.get(position)?;
        let folder = self.folders.get(position)?;
        Some((
            entry.rule.family,
            RuleLink {
                id: entry.rule.id.clone(),
                title: rule_title(&entry.rule),
                path: format!("rules/{folder}/"),
                source: entry.rule.provenance.source.clone(),
                detail,
            },
        ))
    }

    /// Rules grouped by family in [`Family::ALL`] order, each group sorted by title then id.
    fn groups(&self, links: impl IntoIterator<Item = (Family, RuleLink)>) -> Vec<FamilyGroup> {
        let mut by_family: BTreeMap<Family, Vec<RuleLink>> = BTreeMap::new();
        for (family, link) in links {
            by_family.entry(family).or_default().push(link);
        }
        Family::ALL
            .into_iter()
            .filter_map(|family| {
                let mut rules = by_family.remove(&family)?;
                rules.sort_by(|left, right| (&left.title, &left.id).cmp(&(&right.title, &right.id)));
                Some(FamilyGroup { family: family.as_str(), name: family.display_name(), rules })
            })
            .collect()
    }

    fn indicator_link(&self, key: &IndicatorKey) -> IndicatorLink {
        let count = self.index.indicator_count(key);
        let value = self.index.display_value(key);
        IndicatorLink {
            field: key.field.clone(),
            kind: key.kind.clone(),
            value_text: visible_text(&value),
            value,
            rules: count.rules,
            by_family: by_family_text(&count.by_family),
            path: indicator_path(key),
        }
    }

    /// The most common indicators among `keys`: by rule count, then by key.
    fn top_indicators<'k>(&self, keys: impl IntoIterator<Item = &'k IndicatorKey>) -> Vec<IndicatorLink> {
        let mut links: Vec<IndicatorLink> = keys.into_iter().map(|key| self.indicator_link(key)).collect();
        links.sort_by(|left, right| {
            right
                .rules
                .cmp(&left.rules)
                .then_with(|| (&left.field, &left.kind, &left.value).cmp(&(&right.field, &right.kind, &right.value)))
        });
        links.truncate(TOP_INDICATORS);
        links
    }

    /// Writes every catalog page under `root`; returns how many pages.
    pub fn write(&self, root: &Path) -> Result<u64, SiteError> {
        let mut pages = 0u64;
        pages += self.write_indicators(root)?;
        pages += self.write_fields(root)?;
        pages += self.write_events(root)?;
        pages += self.write_attack(root)?;
        Ok(pages)
    }

    fn write_indicators(&self, root: &Path) -> Result<u64, SiteError> {
        let mut pages = 0;
        for (key, positions) in &self.index.indicators {
            let path = indicator_path(key);
            let links = positions.iter().filter_map(|position| {
                let facts = self.index.facts.get(*position)?;
                let stated: BTreeSet<String> = facts
                    .indicators
                    .iter()
                    .filter(|occurrence| !occurrence.exclusion && &occurrence.key == key)
                    .map(|occurrence| match &occurrence.dataset {
                        Some(dataset) => format!("{} on {dataset}", occurrence.raw_field),
                        None => occurrence.raw_field.clone(),
                    })
                    .collect();
                self.rule_link(*position, stated.into_iter().collect::<Vec<_>>().join(", "))
            });
            let count = self.index.indicator_count(key);
            let spellings: Vec<Spelling> = self
                .index
                .spellings(key)
                .into_iter()
                .map(|(value, rules)| Spelling { text: visible_text(&value), value, rules })
                .collect();
            let value = spellings.first().map(|spelling| spelling.value.clone()).unwrap_or_else(|| key.value.clone());
            let page = IndicatorPage {
                version: JSON_VERSION,
                root: root_of(&path),
                generated: self.generated.to_owned(),
                field: key.field.clone(),
                kind: key.kind.clone(),
                value_text: visible_text(&value),
                value,
                match_value: key.value.clone(),
                spellings,
                canonical: key.canonical,
                field_page: field_path(&key.field),
                total: count.rules,
                by_family: count.by_family,
                groups: self.groups(links),
            };
            write_page(&root.join(&path), &page, &path)?;
            pages += 1;
        }
        Ok(pages)
    }

    fn write_fields(&self, root: &Path) -> Result<u64, SiteError> {
        let mut fields: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for (field, positions) in &self.index.fields {
            fields.entry(field).or_default().extend(positions.iter().copied());
        }
        let mut keys_by_field: BTreeMap<&str, Vec<&IndicatorKey>> = BTreeMap::new();
        for (key, positions) in &self.index.indicators {
            if key.canonical {
                keys_by_field.entry(&key.field).or_default().push(key);
                fields.entry(&key.field).or_default().extend(positions.iter().copied());
            }
        }
        let taxonomy = self.knowledge.fields();
        let mut pages = 0;
        for (field, positions) in fields {
            let path = field_path(field);
            let meaning = taxonomy
                .data()
                .canonical
                .iter()
                .find(|canonical| canonical.name == field)
                .map(|canonical| canonical.meaning.clone());
            let page = FieldPage {
                version: JSON_VERSION,
                root: root_of(&path),
                generated: self.generated.to_owned(),
                field: field.to_owned(),
                meaning,
                total: positions.len() as u64,
                indicators: self.top_indicators(keys_by_field.get(field).into_iter().flatten().copied()),
                groups: self.groups(positions.iter().filter_map(|position| self.rule_link(*position, String::new()))),
            };
            write_page(&root.join(&path), &page, &path)?;
            pages += 1;
        }
        Ok(pages)
    }

    fn write_events(&self, root: &Path) -> Result<u64, SiteError> {
        let mut providers: BTreeMap<&str, Vec<EventUses<'_>>> = BTreeMap::new();
        for (key, uses) in &self.index.events {
            providers.entry(key.provider.as_str()).or_default().push((key, uses));
        }
        let mut pages = 0;
        let mut provider_links = Vec::new();
        for (provider, events) in &providers {
            let mut product = String::new();
            let mut event_links = Vec::new();
            let mut provider_rules = BTreeSet::new();
            for (key, uses) in events {
                let mut title = String::new();
                let mut field_rules: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
                let mut keys: BTreeSet<&IndicatorKey> = BTreeSet::new();
                let mut positions = Vec::new();
                let mut full_fit = BTreeSet::new();
                for (position, row_index) in uses.iter() {
                    let Some(facts) = self.index.facts.get(*position) else { continue };
                    let Some(row) = facts.coverage.get(*row_index) else { continue };
                    if title.is_empty() {
                        title = row.title.clone();
                    }
                    if product.is_empty() {
                        product = row.product.clone();
                    }
                    positions.push(*position);
                    provider_rules.insert(*position);
                    // A rule fits fully when any of its rows for this event does.
                    if facts.coverage.iter().any(|other| {
                        other.provider == key.provider && other.event == key.event && other.fit == Fit::Full
                    }) {
                        full_fit.insert(*position);
                    }
                    // Fields and indicators of the datasets that hold this event in the rule.
                    let datasets: BTreeSet<(usize, &str)> = facts
                        .coverage
                        .iter()
                        .filter(|other| other.provider == key.provider && other.event == key.event)
                        .map(|other| (other.analysis, other.dataset.as_str()))
                        .collect();
                    for other in facts
                        .coverage
                        .iter()
                        .filter(|other| datasets.contains(&(other.analysis, other.dataset.as_str())))
                    {
                        for field in &other.fields_read {
                            field_rules.entry(field.clone()).or_default().insert(*position);
                        }
                    }
                    for occurrence in facts.indicators.iter().filter(|occurrence| !occurrence.exclusion) {
                        let on_dataset = occurrence
                            .dataset
                            .as_deref()
                            .is_some_and(|dataset| datasets.contains(&(occurrence.analysis, dataset)));
                        if on_dataset {
                            keys.insert(&occurrence.key);
                        }
                    }
                }
                let mut fields: Vec<(String, u64)> =
                    field_rules.into_iter().map(|(field, rules)| (field, rules.len() as u64)).collect();
                fields.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
                let path = event_path(&key.provider, &key.event);
                let page = EventPage {
                    version: JSON_VERSION,
                    root: root_of(&path),
                    generated: self.generated.to_owned(),
                    provider: key.provider.clone(),
                    event: key.event.clone(),
                    title: title.clone(),
                    provider_page: provider_path(&key.provider),
                    total: positions.len() as u64,
                    fields,
                    indicators: self.top_indicators(keys),
                    groups: self.groups(
                        positions
                            .iter()
                            .filter(|position| full_fit.contains(*position))
                            .filter_map(|position| self.rule_link(*position, String::new())),
                    ),
                    partial_groups: self.groups(
                        positions
                            .iter()
                            .filter(|position| !full_fit.contains(*position))
                            .filter_map(|position| self.rule_link(*position, String::new())),
                    ),
                };
                write_page(&root.join(&path), &page, &path)?;
                pages += 1;
                event_links.push(EventLink { event: key.event.clone(), title, rules: positions.len() as u64, path });
            }
            let path = provider_path(provider);
            let page = ProviderPage {
                version: JSON_VERSION,
                root: root_of(&path),
                generated: self.generated.to_owned(),
                provider: (*provider).to_owned(),
                product: product.clone(),
                events: event_links,
            };
            write_page(&root.join(&path), &page, &path)?;
            pages += 1;
            provider_links.push(ProviderLink {
                provider: (*provider).to_owned(),
                product,
                events: events.len() as u64,
                rules: provider_rules.len() as u64,
                path,
            });
        }
        let page = EventsPage {
            version: JSON_VERSION,
            root: "../".to_owned(),
            generated: self.generated.to_owned(),
            providers: provider_links,
            unknown_datasets: self
                .index
                .unknown_datasets
                .iter()
                .map(|(dataset, positions)| UnknownDatasetLink {
                    dataset: dataset.clone(),
                    rules: positions
                        .iter()
                        .filter_map(|position| self.rule_link(*position, String::new()))
                        .map(|(_, link)| link)
                        .collect(),
                })
                .collect(),
        };
        write_page(&root.join("events"), &page, "events")?;
        Ok(pages + 1)
    }

    fn write_attack(&self, root: &Path) -> Result<u64, SiteError> {
        let attack = self.knowledge.attack();
        let release = attack.release().to_owned();
        let rules_of = |id: &str| -> &[usize] { self.index.techniques.get(id).map(Vec::as_slice).unwrap_or_default() };
        let mut pages = 0;
        let mut with_subs: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for technique in attack.techniques().iter().filter(|technique| technique.is_active()) {
            let parent = technique.parent.as_deref().unwrap_or(&technique.id);
            with_subs.entry(parent).or_default().extend(rules_of(&technique.id).iter().copied());
        }
        // Every technique gets a page, revoked and deprecated ones too: a rule tagged with one links
        // to it from its ATT&CK section.
        for technique in attack.techniques() {
            let subtechniques = attack
                .techniques()
                .iter()
                .filter(|sub| sub.is_active() && sub.parent.as_deref() == Some(technique.id.as_str()))
                .map(|sub| SubTechniqueLink {
                    id: sub.id.clone(),
                    name: sub.name.clone(),
                    rules: rules_of(&sub.id).len() as u64,
                })
                .collect();
            let tactics = technique
                .tactics
                .iter()
                .map(|id| attack.tactic(id).map_or_else(|| id.clone(), |tactic| tactic.name.clone()))
                .collect();
            let positions = rules_of(&technique.id);
            let path = technique_path(&technique.id);
            let page = TechniquePage {
                version: JSON_VERSION,
                root: root_of(&path),
                generated: self.generated.to_owned(),
                release: release.clone(),
                id: technique.id.clone(),
                name: attack.technique_full_name(technique),
                // Only a parent the release has gets a link (a partial bundle may lack it).
                parent: technique.parent.clone().filter(|parent| attack.technique(parent).is_some()),
                tactics,
                status: if technique.revoked {
                    Some(match &technique.revoked_by {
                        Some(replacement) => format!("revoked, replaced by {replacement}"),
                        None => "revoked".to_owned(),
                    })
                } else if technique.deprecated {
                    Some("deprecated".to_owned())
                } else {
                    None
                },
                subtechniques,
                total: positions.len() as u64,
                groups: self.groups(positions.iter().filter_map(|position| self.rule_link(*position, String::new()))),
            };
            write_page(&root.join(&path), &page, &path)?;
            pages += 1;
        }
        let tactics = attack
            .tactics()
            .iter()
            .map(|tactic| {
                let techniques: Vec<MatrixTechnique> = attack
                    .techniques()
                    .iter()
                    .filter(|technique| {
                        technique.is_active() && technique.parent.is_none() && technique.tactics.contains(&tactic.id)
                    })
                    .map(|technique| MatrixTechnique {
                        id: technique.id.clone(),
                        name: technique.name.clone(),
                        rules: with_subs.get(technique.id.as_str()).map_or(0, |rules| rules.len() as u64),
                    })
                    .collect();
                MatrixTactic {
                    id: tactic.id.clone(),
                    name: tactic.name.clone(),
                    covered: techniques.iter().filter(|technique| technique.rules > 0).count() as u64,
                    techniques,
                }
            })
            .collect();
        let page = MatrixPage {
            version: JSON_VERSION,
            root: "../".to_owned(),
            generated: self.generated.to_owned(),
            release,
            tactics,
        };
        write_page(&root.join("attack"), &page, "attack")?;
        Ok(pages + 1)
    }
}

/// The JSON twin of the rule page at `position` in `catalog.rules`, byte for byte what the site
/// writes as its `index.json` (`detwiki show --json` prints it). `None` when out of range.
pub fn rule_twin_json(catalog: &Catalog, index: &CatalogIndex, position: usize) -> Option<String> {
    let entry = catalog.rules.get(position)?;
    let mut page = crate::pages::rule_page(entry, String::new(), "", String::new());
    page.catalog = detwiki_catalog::RuleView::new(catalog, index, position);
    let mut json = serde_json::to_string_pretty(&page).ok()?;
    json.push('\n');
    Some(json)
}
