//! The browse lists: every rule (`rules/`), and one list per facet value (language, source,
//! tactic, technique under `browse/`), each written in every order and split into pages; and the
//! browse hub (`browse/`) that links the facet values with their rule counts.
//!
//! Facet pages are static so that they work without JavaScript and on any host; the search page
//! combines facets on request. Tactic and technique lists leave out rules that only forward a
//! vendor's alerts, as ATT&CK coverage does; the language and source lists keep them, marked.

use std::collections::BTreeMap;
use std::path::Path;

use askama::Template;
use detwiki_catalog::{Catalog, CatalogIndex, slug};
use detwiki_ir::{Family, JSON_VERSION};
use detwiki_knowledge::Knowledge;
use rayon::prelude::*;
use serde::Serialize;

use crate::catalog_pages::root_of;
use crate::lists::{Pagination, RuleOrders, SortKey, list_page_path, page_count, page_slice};
use crate::pages::{BrowsePage, RuleSummary};
use crate::{SiteError, write_page};

/// The facet value a list is restricted to.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    /// `language`, `source`, `tactic` or `technique`.
    pub facet: &'static str,
    /// The value as filters name it: `kusto`, the source name, `TA0002`, `T1059.001`.
    pub value: String,
    /// As shown: `Kusto (KQL)`, `TA0002 Execution`.
    pub name: String,
}

impl FacetValue {
    /// The facet's name as a heading: `Language`.
    pub fn facet_name(&self) -> &'static str {
        facet_name(self.facet)
    }
}

fn facet_name(facet: &str) -> &'static str {
    match facet {
        "language" => "Language",
        "source" => "Source",
        "tactic" => "Tactic",
        _ => "Technique",
    }
}

/// A facet value in the hub, with its list.
#[derive(Debug, Clone, Serialize)]
pub struct FacetLink {
    pub value: String,
    pub name: String,
    pub rules: u64,
    /// The list's folder relative to the site root.
    pub path: String,
}

/// One facet and its values.
#[derive(Debug, Clone, Serialize)]
pub struct FacetGroup {
    pub facet: &'static str,
    #[serde(skip)]
    pub name: &'static str,
    pub values: Vec<FacetLink>,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "browse_hub.html")]
pub struct BrowseHubPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub total: u64,
    pub facets: Vec<FacetGroup>,
}

/// A list to write: where, under which heading, and which rules (positions in the catalog).
struct RuleList {
    base: String,
    heading: String,
    facet: Option<FacetValue>,
    positions: Vec<usize>,
}

/// What the lists need from the build.
pub struct RuleLists<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a CatalogIndex,
    pub knowledge: &'a Knowledge,
    /// Parallel to the catalog's rules.
    pub summaries: &'a [RuleSummary],
    pub page_size: usize,
    pub generated: &'a str,
}

impl RuleLists<'_> {
    /// Writes every list and the hub; returns how many HTML pages.
    pub fn write(&self, root: &Path) -> Result<u64, SiteError> {
        let orders = RuleOrders::new(self.summaries);
        let (lists, facets) = self.lists();
        let pages: Vec<u64> =
            lists.par_iter().map(|list| self.write_list(root, &orders, list)).collect::<Result<_, _>>()?;
        let hub = BrowseHubPage {
            version: JSON_VERSION,
            root: "../".to_owned(),
            generated: self.generated.to_owned(),
            total: self.summaries.len() as u64,
            facets,
        };
        write_page(&root.join("browse"), &hub, "browse")?;
        Ok(pages.iter().sum::<u64>() + 1)
    }

    fn lists(&self) -> (Vec<RuleList>, Vec<FacetGroup>) {
        let attack = self.knowledge.attack();
        let mut lists = vec![RuleList {
            base: "rules/".to_owned(),
            heading: "Rules".to_owned(),
            facet: None,
            positions: (0..self.summaries.len()).collect(),
        }];
        let mut facets = Vec::new();

        let mut by_family: BTreeMap<Family, Vec<usize>> = BTreeMap::new();
        for (position, entry) in self.catalog.rules.iter().enumerate() {
            by_family.entry(entry.rule.family).or_default().push(position);
        }
        let languages = Family::ALL
            .into_iter()
            .filter_map(|family| {
                let positions = by_family.remove(&family)?;
                Some((
                    FacetValue {
                        facet: "language",
                        value: family.as_str().to_owned(),
                        name: family.display_name().to_owned(),
                    },
                    format!("{} rules", family.display_name()),
                    format!("browse/language/{}/", family.as_str()),
                    positions,
                ))
            })
            .collect();
        facets.push(self.facet("language", languages, &mut lists));

        let mut by_source: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (position, entry) in self.catalog.rules.iter().enumerate() {
            by_source.entry(entry.rule.provenance.source.as_str()).or_default().push(position);
        }
        let sources = self
            .catalog
            .sources
            .iter()
            .filter_map(|source| {
                let positions = by_source.remove(source.info.name.as_str())?;
                Some((
                    FacetValue { facet: "source", value: source.info.name.clone(), name: source.info.name.clone() },
                    format!("Rules from {}", source.info.name),
                    format!("browse/source/{}/", slug(&source.info.slug, 80)),
                    positions,
                ))
            })
            .collect();
        facets.push(self.facet("source", sources, &mut lists));

        let mut by_tactic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (position, facts) in self.index.facts.iter().enumerate() {
            if facts.vendor_alerts.is_some() {
                continue;
            }
            for row in &facts.attack.rows {
                let rules = by_tactic.entry(row.tactic_id.as_str()).or_default();
                if rules.last() != Some(&position) {
                    rules.push(position);
                }
            }
        }
        let tactics = attack
            .tactics()
            .iter()
            .filter_map(|tactic| {
                let positions = by_tactic.remove(tactic.id.as_str())?;
                let name = format!("{} {}", tactic.id, tactic.name);
                Some((
                    FacetValue { facet: "tactic", value: tactic.id.clone(), name: name.clone() },
                    format!("Rules for tactic {name}"),
                    format!("browse/tactic/{}/", slug(&tactic.id, 20)),
                    positions,
                ))
            })
            .collect();
        facets.push(self.facet("tactic", tactics, &mut lists));

        let techniques = self
            .index
            .techniques
            .iter()
            .map(|(id, positions)| {
                let name = match attack.technique(id) {
                    Some(technique) => format!("{id} {}", attack.technique_full_name(technique)),
                    None => id.clone(),
                };
                (
                    FacetValue { facet: "technique", value: id.clone(), name: name.clone() },
                    format!("Rules for {name}"),
                    format!("browse/technique/{}/", slug(id, 20)),
                    positions.clone(),
                )
            })
            .collect();
        facets.push(self.facet("technique", techniques, &mut lists));
        (lists, facets)
    }

    /// Adds one list per value of a facet; returns the facet for the hub.
    fn facet(
        &self,
        facet: &'static str,
        values: Vec<(FacetValue, String, String, Vec<usize>)>,
        lists: &mut Vec<RuleList>,
    ) -> FacetGroup {
        let mut links = Vec::new();
        for (value, heading, base, positions) in values {
            links.push(FacetLink {
                value: value.value.clone(),
                name: value.name.clone(),
                rules: positions.len() as u64,
                path: base.clone(),
            });
            lists.push(RuleList { base, heading, facet: Some(value), positions });
        }
        FacetGroup { facet, name: facet_name(facet), values: links }
    }

    fn write_list(&self, root: &Path, orders: &RuleOrders, list: &RuleList) -> Result<u64, SiteError> {
        let mut written = 0;
        let pages = page_count(list.positions.len(), self.page_size);
        for sort in SortKey::ALL {
            let sorted = orders.sorted(sort, &list.positions);
            for page in 1..=pages {
                let path = list_page_path(&list.base, sort, page);
                let rules = page_slice(&sorted, page, self.page_size)
                    .iter()
                    .filter_map(|position| self.summaries.get(*position).cloned())
                    .collect();
                let model = BrowsePage {
                    version: JSON_VERSION,
                    root: root_of(&path),
                    generated: self.generated.to_owned(),
                    heading: list.heading.clone(),
                    facet: list.facet.clone(),
                    pagination: Pagination::new(&list.base, Some(sort), page, self.page_size, list.positions.len()),
                    rules,
                };
                write_page(&root.join(&path), &model, &path)?;
                written += 1;
            }
        }
        Ok(written)
    }
}
