//! Pages built from the catalog index: indicator pages, field pages, provider and event pages,
//! technique pages and the ATT&CK matrix, each with its JSON twin.
//!
//! Rules are listed by family, then by title and id, so the same catalog always gives the same
//! pages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use askama::Template;
use detwiki_catalog::{
    Catalog, CatalogIndex, EventKeyRef, IndicatorKey, event_path, field_path, indicator_path, provider_path, slug,
    technique_path, visible_text,
};
use detwiki_ir::{Family, JSON_VERSION};
use detwiki_knowledge::{Fit, Knowledge};
use serde::Serialize;

use crate::browse::FacetValue;
use crate::lists::{Pagination, SortKey, list_page_path, page_count, page_slice};
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

/// Rules of one family, on one page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyGroup {
    pub family: &'static str,
    pub name: &'static str,
    /// Rules of this family in the whole list (`rules` holds those on this page).
    pub total: u64,
    pub rules: Vec<RuleLink>,
}

/// One page of a list of rules grouped by family: its folder, its groups, where it sits.
struct GroupedPage {
    path: String,
    /// Rules of the list's first part (an event's fully fitting rules; every rule elsewhere).
    groups: Vec<FamilyGroup>,
    /// Rules of the second part (an event's partly fitting rules).
    second: Vec<FamilyGroup>,
    pagination: Pagination,
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
    pub pagination: Pagination,
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
    pub pagination: Pagination,
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
    /// Rules needing any event of the provider, and how many per language.
    pub total: u64,
    pub by_family: BTreeMap<&'static str, u64>,
    /// The most common indicators of those rules on the provider's datasets, across languages.
    pub indicators: Vec<IndicatorLink>,
    pub groups: Vec<FamilyGroup>,
    pub pagination: Pagination,
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

/// Most rules the events index names per unknown dataset; the twin lists them all.
const UNKNOWN_DATASET_RULES_SHOWN: usize = 10;

impl UnknownDatasetLink {
    /// The rules the page names.
    pub fn rules_shown(&self) -> &[RuleLink] {
        &self.rules[..self.rules.len().min(UNKNOWN_DATASET_RULES_SHOWN)]
    }

    /// Rules the page only counts.
    pub fn rules_hidden(&self) -> usize {
        self.rules.len().saturating_sub(UNKNOWN_DATASET_RULES_SHOWN)
    }
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
    pub pagination: Pagination,
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
    pub pagination: Pagination,
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
    /// The language or source the matrix counts the rules of; `None` for all rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FacetValue>,
    /// The matrix of every language and source.
    #[serde(skip)]
    pub filters: Vec<MatrixFilter>,
    pub tactics: Vec<MatrixTactic>,
}

/// A link to the matrix of one language or source.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixFilter {
    /// `all`, `language` or `source`.
    pub facet: &'static str,
    pub name: String,
    pub path: String,
    pub current: bool,
}

/// What the catalog pages need from the rest of the site.
pub struct CatalogPages<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a CatalogIndex,
    pub knowledge: &'a Knowledge,
    /// Rule page folders under `rules/`, parallel to the catalog's rules.
    pub folders: &'a [String],
    pub generated: &'a str,
    /// Rules per page of each list.
    pub page_size: usize,
}

/// The relative path from the page in folder `path` (relative to the site root) to the root.
pub(crate) fn root_of(path: &str) -> String {
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

    /// The pages of a list of rules at `base`, grouped by family in [`Family::ALL`] order and
    /// sorted by title then id within a family; rules flagged `true` form a second part after all
    /// the others (an event's partly fitting rules). An empty list still gets its one page.
    fn grouped_pages(&self, base: &str, items: impl IntoIterator<Item = (bool, Family, RuleLink)>) -> Vec<GroupedPage> {
        let mut items: Vec<(bool, Family, RuleLink)> = items.into_iter().collect();
        let family_rank = |family: &Family| Family::ALL.iter().position(|other| other == family);
        items.sort_by(|left, right| {
            (left.0, family_rank(&left.1), &left.2.title, &left.2.id).cmp(&(
                right.0,
                family_rank(&right.1),
                &right.2.title,
                &right.2.id,
            ))
        });
        let mut totals: BTreeMap<(bool, Family), u64> = BTreeMap::new();
        for (second, family, _) in &items {
            *totals.entry((*second, *family)).or_default() += 1;
        }
        let pages = page_count(items.len(), self.page_size);
        (1..=pages)
            .map(|page| {
                let pagination = Pagination::new(base, None, page, self.page_size, items.len());
                let mut groups: Vec<FamilyGroup> = Vec::new();
                let mut second: Vec<FamilyGroup> = Vec::new();
                for (in_second, family, link) in page_slice(&items, page, self.page_size) {
                    let part = if *in_second { &mut second } else { &mut groups };
                    if part.last().is_none_or(|group| group.family != family.as_str()) {
                        part.push(FamilyGroup {
                            family: family.as_str(),
                            name: family.display_name(),
                            total: totals.get(&(*in_second, *family)).copied().unwrap_or(0),
                            rules: Vec::new(),
                        });
                    }
                    if let Some(group) = part.last_mut() {
                        group.rules.push(link.clone());
                    }
                }
                GroupedPage { path: list_page_path(base, SortKey::Title, page), groups, second, pagination }
            })
            .collect()
    }

    /// The links of the rules at `positions`, in the first part of a list, without detail.
    fn links(&self, positions: impl IntoIterator<Item = usize>) -> Vec<(bool, Family, RuleLink)> {
        positions
            .into_iter()
            .filter_map(|position| self.rule_link(position, String::new()))
            .map(|(family, link)| (false, family, link))
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
                let (family, link) = self.rule_link(*position, stated.into_iter().collect::<Vec<_>>().join(", "))?;
                Some((false, family, link))
            });
            let count = self.index.indicator_count(key);
            let spellings: Vec<Spelling> = self
                .index
                .spellings(key)
                .into_iter()
                .map(|(value, rules)| Spelling { text: visible_text(&value), value, rules })
                .collect();
            let value = spellings.first().map(|spelling| spelling.value.clone()).unwrap_or_else(|| key.value.clone());
            for listed in self.grouped_pages(&path, links) {
                let page = IndicatorPage {
                    version: JSON_VERSION,
                    root: root_of(&listed.path),
                    generated: self.generated.to_owned(),
                    field: key.field.clone(),
                    kind: key.kind.clone(),
                    value_text: visible_text(&value),
                    value: value.clone(),
                    match_value: key.value.clone(),
                    spellings: spellings.clone(),
                    canonical: key.canonical,
                    field_page: field_path(&key.field),
                    total: count.rules,
                    by_family: count.by_family.clone(),
                    groups: listed.groups,
                    pagination: listed.pagination,
                };
                write_page(&root.join(&listed.path), &page, &listed.path)?;
                pages += 1;
            }
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
            let indicators = self.top_indicators(keys_by_field.get(field).into_iter().flatten().copied());
            for listed in self.grouped_pages(&path, self.links(positions.iter().copied())) {
                let page = FieldPage {
                    version: JSON_VERSION,
                    root: root_of(&listed.path),
                    generated: self.generated.to_owned(),
                    field: field.to_owned(),
                    meaning: meaning.clone(),
                    total: positions.len() as u64,
                    indicators: indicators.clone(),
                    groups: listed.groups,
                    pagination: listed.pagination,
                };
                write_page(&root.join(&listed.path), &page, &listed.path)?;
                pages += 1;
            }
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
            let mut provider_keys: BTreeSet<&IndicatorKey> = BTreeSet::new();
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
                provider_keys.extend(keys.iter().copied());
                let indicators = self.top_indicators(keys);
                let links = positions.iter().filter_map(|position| {
                    let (family, link) = self.rule_link(*position, String::new())?;
                    Some((!full_fit.contains(position), family, link))
                });
                for listed in self.grouped_pages(&path, links) {
                    let page = EventPage {
                        version: JSON_VERSION,
                        root: root_of(&listed.path),
                        generated: self.generated.to_owned(),
                        provider: key.provider.clone(),
                        event: key.event.clone(),
                        title: title.clone(),
                        provider_page: provider_path(&key.provider),
                        total: positions.len() as u64,
                        fields: fields.clone(),
                        indicators: indicators.clone(),
                        groups: listed.groups,
                        partial_groups: listed.second,
                        pagination: listed.pagination,
                    };
                    write_page(&root.join(&listed.path), &page, &listed.path)?;
                    pages += 1;
                }
                event_links.push(EventLink { event: key.event.clone(), title, rules: positions.len() as u64, path });
            }
            let path = provider_path(provider);
            let indicators = self.top_indicators(provider_keys);
            for listed in self.grouped_pages(&path, self.links(provider_rules.iter().copied())) {
                let page = ProviderPage {
                    version: JSON_VERSION,
                    root: root_of(&listed.path),
                    generated: self.generated.to_owned(),
                    provider: (*provider).to_owned(),
                    product: product.clone(),
                    events: event_links.clone(),
                    total: provider_rules.len() as u64,
                    by_family: self.index.by_family(&provider_rules.iter().copied().collect::<Vec<_>>()),
                    indicators: indicators.clone(),
                    groups: listed.groups,
                    pagination: listed.pagination,
                };
                write_page(&root.join(&listed.path), &page, &listed.path)?;
                pages += 1;
            }
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
                groups: Vec::new(),
                pagination: Pagination::new(&path, None, 1, self.page_size, positions.len()),
            };
            for listed in self.grouped_pages(&path, self.links(positions.iter().copied())) {
                let page = TechniquePage {
                    root: root_of(&listed.path),
                    groups: listed.groups,
                    pagination: listed.pagination,
                    ..page.clone()
                };
                write_page(&root.join(&listed.path), &page, &listed.path)?;
                pages += 1;
            }
        }
        // The whole catalog, then one matrix per language and per source.
        let mut matrices: Vec<(String, Option<FacetValue>, Option<BTreeSet<usize>>)> =
            vec![("attack/".to_owned(), None, None)];
        for family in Family::ALL {
            let positions: BTreeSet<usize> = (0..self.catalog.rules.len())
                .filter(|position| self.catalog.rules[*position].rule.family == family)
                .collect();
            let value = FacetValue {
                facet: "language",
                value: family.as_str().to_owned(),
                name: family.display_name().to_owned(),
            };
            matrices.push((format!("attack/language/{}/", family.as_str()), Some(value), Some(positions)));
        }
        for source in &self.catalog.sources {
            let positions: BTreeSet<usize> = (0..self.catalog.rules.len())
                .filter(|position| self.catalog.rules[*position].rule.provenance.source == source.info.name)
                .collect();
            let value = FacetValue { facet: "source", value: source.info.name.clone(), name: source.info.name.clone() };
            matrices.push((format!("attack/source/{}/", slug(&source.info.slug, 80)), Some(value), Some(positions)));
        }
        let filters: Vec<MatrixFilter> = matrices
            .iter()
            .map(|(path, filter, _)| MatrixFilter {
                facet: filter.as_ref().map_or("all", |filter| filter.facet),
                name: filter.as_ref().map_or_else(|| "All rules".to_owned(), |filter| filter.name.clone()),
                path: path.clone(),
                current: false,
            })
            .collect();
        for (path, filter, subset) in &matrices {
            let in_subset = |position: &usize| subset.as_ref().is_none_or(|subset| subset.contains(position));
            let tactics = attack
                .tactics()
                .iter()
                .map(|tactic| {
                    let techniques: Vec<MatrixTechnique> = attack
                        .techniques()
                        .iter()
                        .filter(|technique| {
                            technique.is_active()
                                && technique.parent.is_none()
                                && technique.tactics.contains(&tactic.id)
                        })
                        .map(|technique| MatrixTechnique {
                            id: technique.id.clone(),
                            name: technique.name.clone(),
                            rules: with_subs
                                .get(technique.id.as_str())
                                .map_or(0, |rules| rules.iter().filter(|position| in_subset(position)).count() as u64),
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
                root: root_of(path),
                generated: self.generated.to_owned(),
                release: release.clone(),
                filter: filter.clone(),
                filters: filters
                    .iter()
                    .map(|other| MatrixFilter { current: &other.path == path, ..other.clone() })
                    .collect(),
                tactics,
            };
            write_page(&root.join(path), &page, path)?;
            pages += 1;
        }
        Ok(pages)
    }
}

/// The catalog view of the rule at `position`, with the page path of every linked or related
/// rule (`folders` from [`crate::assign_folders`], in catalog order).
pub(crate) fn placed_rule_view(
    catalog: &Catalog,
    index: &CatalogIndex,
    position: usize,
    folders: &[String],
) -> Option<detwiki_catalog::RuleView> {
    let mut view = detwiki_catalog::RuleView::new(catalog, index, position)?;
    let page_of =
        |other: Option<usize>| other.and_then(|other| folders.get(other)).map(|folder| format!("rules/{folder}/"));
    for link in &mut view.links {
        link.path = page_of(link.position);
    }
    for related in &mut view.related {
        related.path = page_of(related.position);
    }
    Some(view)
}

/// The JSON twin of the rule page at `position` in `catalog.rules`, byte for byte what the site
/// writes as its `index.json` (`detwiki show --json` prints it). `folders` are the rules' page
/// folders from [`crate::assign_folders`], in catalog order. `None` when out of range.
pub fn rule_twin_json(catalog: &Catalog, index: &CatalogIndex, position: usize, folders: &[String]) -> Option<String> {
    let entry = catalog.rules.get(position)?;
    let mut page = crate::pages::rule_page(entry, String::new(), "", String::new());
    page.catalog = placed_rule_view(catalog, index, position, folders);
    let mut json = serde_json::to_string_pretty(&page).ok()?;
    json.push('\n');
    Some(json)
}
