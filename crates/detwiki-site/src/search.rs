//! Full-text search of the site, offline on any static host.
//!
//! The catalog becomes one [`SearchRecord`] per rule and one per field, event, provider and
//! technique page (indicator pages are left out: their values are in the records of the rules
//! that look for them). [Pagefind](https://pagefind.app) indexes the records into `pagefind/`: a
//! chunked index that the browser loads piece by piece, so a search on a catalog of ten thousand
//! rules downloads a few hundred kilobytes, not the whole index. The records are fed as custom
//! records, never by crawling the rendered HTML, so the index holds exactly the facts the catalog
//! has and nothing a template adds.
//!
//! `search.html` at the site root is the search page; `assets/search.js` (a file, never inline,
//! for the Content-Security-Policy) runs the queries. Its facet checkboxes are rendered at build
//! time from the records, with their counts, so the page lists them before any script runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use askama::Template;
use detwiki_catalog::{Catalog, CatalogIndex, event_path, field_path, provider_path, technique_path};
use detwiki_knowledge::Knowledge;
use serde::Serialize;

use crate::pages::{rule_languages, rule_title};
use crate::{SiteError, io_error};

/// The facets of the search page, in the order shown: the filter name records carry (and the
/// `data-facet` of the page's checkboxes and the URL parameter) and its label.
pub const FACETS: [(&str, &str); 9] = [
    ("kind", "Page type"),
    ("language", "Language"),
    ("source", "Source"),
    ("tactic", "Tactic"),
    ("technique", "Technique"),
    ("event", "Provider / event"),
    ("severity", "Severity"),
    ("status", "Status"),
    ("diagnostics", "Diagnostics"),
];

/// The folder of the index under the site root (Pagefind's bundle).
pub const SEARCH_INDEX_FOLDER: &str = "pagefind";

/// The most indicator values a rule record holds: enough for any real rule, a bound for
/// generated ones with thousands of values.
const MAX_INDICATORS: usize = 300;

/// The most characters of a description a record holds.
const MAX_DESCRIPTION: usize = 4000;

/// One searchable page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchRecord {
    /// The page, relative to the site root (`rules/<folder>/index.html`).
    pub url: String,
    pub title: String,
    /// `rule`, `field`, `event`, `provider` or `technique`.
    pub kind: &'static str,
    /// The query languages of a rule, comma-separated; empty for other pages.
    pub language: String,
    /// The rule's source; empty for other pages.
    pub source: String,
    /// The text searched and quoted in snippets: plain text, never HTML.
    pub content: String,
    /// Facet name (one of [`FACETS`]) -> values.
    pub filters: BTreeMap<&'static str, BTreeSet<String>>,
}

impl SearchRecord {
    fn new(url: String, title: String, kind: &'static str) -> SearchRecord {
        let filters = BTreeMap::from([("kind", BTreeSet::from([kind.to_owned()]))]);
        SearchRecord {
            url,
            title,
            kind,
            language: String::new(),
            source: String::new(),
            content: String::new(),
            filters,
        }
    }

    fn add_filter(&mut self, facet: &'static str, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.filters.entry(facet).or_default().insert(value.to_owned());
        }
    }
}

/// Appends `text` as a sentence of the record's content.
fn push_sentence(content: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if !content.is_empty() {
        content.push_str(if content.ends_with('.') { " " } else { ". " });
    }
    content.push_str(text);
}

/// The first `limit` characters of `text`, cut at a character boundary.
fn truncated(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The records of every rule and of every field, event, provider and technique page, in a
/// deterministic order (rules in catalog order, then pages by path).
pub fn search_records(
    catalog: &Catalog,
    index: &CatalogIndex,
    knowledge: &Knowledge,
    folders: &[String],
) -> Vec<SearchRecord> {
    let mut records: Vec<SearchRecord> = catalog
        .rules
        .iter()
        .zip(folders)
        .enumerate()
        .map(|(position, (entry, folder))| rule_record(index, position, entry, folder))
        .collect();
    records.extend(field_records(index, knowledge));
    records.extend(event_records(index));
    records.extend(technique_records(index, knowledge));
    records
}

fn rule_record(
    index: &CatalogIndex,
    position: usize,
    entry: &detwiki_catalog::CatalogRule,
    folder: &str,
) -> SearchRecord {
    let rule = &entry.rule;
    let title = rule_title(rule);
    let mut record = SearchRecord::new(format!("rules/{folder}/index.html"), title.clone(), "rule");
    let mut languages = rule_languages(rule);
    if languages.is_empty() {
        languages.push(rule.family.display_name());
    }
    record.language = languages.join(", ");
    record.source = rule.provenance.source.clone();
    for language in &languages {
        record.add_filter("language", language);
    }
    record.add_filter("source", &rule.provenance.source);
    if let Some(severity) = &rule.metadata.severity {
        record.add_filter("severity", &severity.to_lowercase());
    }
    if let Some(status) = &rule.metadata.status {
        record.add_filter("status", &status.to_lowercase());
    }
    record.add_filter("diagnostics", if entry.has_diagnostics() { "with diagnostics" } else { "without diagnostics" });

    let content = &mut record.content;
    push_sentence(content, &title);
    if let Some(description) = &rule.metadata.description {
        push_sentence(content, truncated(description, MAX_DESCRIPTION));
    }
    if !rule.metadata.tags.is_empty() {
        push_sentence(content, &format!("Tags: {}", rule.metadata.tags.join(" ")));
    }
    let mut tactics = BTreeSet::new();
    let mut techniques = BTreeSet::new();
    let mut events = BTreeSet::new();
    let mut fields: Vec<&str> = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(facts) = index.facts.get(position) {
        for row in &facts.attack.rows {
            tactics.insert(row.tactic.clone());
            for technique in &row.techniques {
                techniques.insert(technique.display());
            }
        }
        for id in &facts.attack.technique_ids {
            record.filters.entry("technique").or_default().insert(id.clone());
        }
        for row in facts.coverage.iter().filter(|row| !row.unknown_dataset) {
            events.insert(event_label(&row.provider, &row.event, &row.title));
            record.filters.entry("event").or_default().insert(event_facet(&row.provider, &row.event));
        }
        fields.extend(facts.fields_read.iter().map(String::as_str));
        for occurrence in facts.indicators.iter().filter(|occurrence| !occurrence.exclusion) {
            if values.len() >= MAX_INDICATORS {
                break;
            }
            values.insert(format!("{} {}", occurrence.key.field, occurrence.value));
        }
    }
    for tactic in &tactics {
        record.filters.entry("tactic").or_default().insert(tactic.clone());
    }
    let content = &mut record.content;
    if !values.is_empty() {
        push_sentence(content, &format!("Indicators: {}", values.into_iter().collect::<Vec<_>>().join(", ")));
    }
    if !fields.is_empty() {
        push_sentence(content, &format!("Fields: {}", fields.join(", ")));
    }
    if !events.is_empty() {
        push_sentence(content, &format!("Events: {}", events.into_iter().collect::<Vec<_>>().join(", ")));
    }
    if !techniques.is_empty() {
        push_sentence(content, &format!("ATT&CK: {}", techniques.into_iter().collect::<Vec<_>>().join(", ")));
    }
    push_sentence(content, &format!("File: {}", rule.provenance.path));
    record
}

/// `Sysmon 1 Process creation`: how an event reads in a record.
fn event_label(provider: &str, event: &str, title: &str) -> String {
    [provider, event, title].iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// `Sysmon/1`: an event as a facet value.
fn event_facet(provider: &str, event: &str) -> String {
    format!("{provider}/{event}")
}

fn field_records(index: &CatalogIndex, knowledge: &Knowledge) -> Vec<SearchRecord> {
    // The same set of fields the field pages are written for: fields read, and fields of canonical
    // indicators.
    let mut fields: BTreeSet<&str> = index.fields.keys().map(String::as_str).collect();
    fields.extend(index.indicators.keys().filter(|key| key.canonical).map(|key| key.field.as_str()));
    let taxonomy = knowledge.fields();
    fields
        .into_iter()
        .map(|field| {
            let mut record = SearchRecord::new(format!("{}index.html", field_path(field)), field.to_owned(), "field");
            push_sentence(&mut record.content, &format!("Field {field}"));
            if let Some(canonical) = taxonomy.data().canonical.iter().find(|canonical| canonical.name == field) {
                push_sentence(&mut record.content, &canonical.meaning);
            }
            record
        })
        .collect()
}

fn event_records(index: &CatalogIndex) -> Vec<SearchRecord> {
    let mut providers: BTreeMap<&str, (String, Vec<String>)> = BTreeMap::new();
    let mut records = Vec::new();
    for (key, uses) in &index.events {
        let row = uses
            .iter()
            .find_map(|(position, row)| index.facts.get(*position).and_then(|facts| facts.coverage.get(*row)));
        let (title, product) = row.map(|row| (row.title.clone(), row.product.clone())).unwrap_or_default();
        let label = event_label(&key.provider, &key.event, &title);
        let mut record =
            SearchRecord::new(format!("{}index.html", event_path(&key.provider, &key.event)), label.clone(), "event");
        push_sentence(&mut record.content, &format!("Event {label}"));
        push_sentence(&mut record.content, &product);
        record.add_filter("event", &event_facet(&key.provider, &key.event));
        records.push(record);
        let provider = providers.entry(key.provider.as_str()).or_default();
        if provider.0.is_empty() {
            provider.0 = product;
        }
        provider.1.push(label);
    }
    for (provider, (product, events)) in providers {
        let mut record =
            SearchRecord::new(format!("{}index.html", provider_path(provider)), provider.to_owned(), "provider");
        push_sentence(&mut record.content, &format!("Provider {provider}"));
        push_sentence(&mut record.content, &product);
        push_sentence(&mut record.content, &format!("Events: {}", events.join(", ")));
        records.push(record);
    }
    records
}

fn technique_records(index: &CatalogIndex, knowledge: &Knowledge) -> Vec<SearchRecord> {
    let attack = knowledge.attack();
    attack
        .techniques()
        .iter()
        .map(|technique| {
            let name = attack.technique_full_name(technique);
            let title = format!("{} {name}", technique.id);
            let mut record =
                SearchRecord::new(format!("{}index.html", technique_path(&technique.id)), title.clone(), "technique");
            push_sentence(&mut record.content, &title);
            let tactics: Vec<String> = technique
                .tactics
                .iter()
                .map(|id| attack.tactic(id).map_or_else(|| id.clone(), |tactic| tactic.name.clone()))
                .collect();
            push_sentence(&mut record.content, &format!("Tactics: {}", tactics.join(", ")));
            let rules = index.techniques.get(&technique.id).map_or(0, Vec::len);
            push_sentence(&mut record.content, &format!("{rules} rules"));
            // Tactic only: the technique facet lists the techniques rules cover, not all of ATT&CK.
            for tactic in &tactics {
                record.add_filter("tactic", tactic);
            }
            record
        })
        .collect()
}

/// A facet value and how many records carry it.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// A facet of the search page.
#[derive(Debug, Clone, Serialize)]
pub struct Facet {
    pub name: &'static str,
    pub label: &'static str,
    pub values: Vec<FacetValue>,
}

impl Facet {
    /// Long lists (techniques, events) get a scrolling box.
    pub fn is_long(&self) -> bool {
        self.values.len() > 12
    }
}

/// The facets of `records`, in [`FACETS`] order, values sorted; facets with no value left out.
pub fn facets(records: &[SearchRecord]) -> Vec<Facet> {
    let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for record in records {
        for (facet, values) in &record.filters {
            let facet_counts = counts.entry(*facet).or_default();
            for value in values {
                *facet_counts.entry(value.as_str()).or_default() += 1;
            }
        }
    }
    FACETS
        .iter()
        .filter_map(|(name, label)| {
            let values = counts.remove(name)?;
            Some(Facet {
                name,
                label,
                values: values
                    .into_iter()
                    .map(|(value, count)| FacetValue { value: value.to_owned(), count })
                    .collect(),
            })
        })
        .collect()
}

/// The search page at the site root. It has no JSON twin: the facets are in the index.
#[derive(Debug, Clone, Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub root: String,
    pub generated: String,
    pub records: usize,
    pub facets: Vec<Facet>,
}

/// What indexing wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchIndexReport {
    /// Records indexed.
    pub records: u64,
    /// Files written under [`SEARCH_INDEX_FOLDER`].
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
}

/// Pagefind's files that the site does not use: its own search interfaces (the site has
/// `assets/search.js`) and the playground.
fn is_unused_pagefind_file(name: &str) -> bool {
    name.starts_with("pagefind-ui.")
        || name.starts_with("pagefind-modular-ui.")
        || name.starts_with("pagefind-component-ui.")
        || name.starts_with("pagefind-highlight.")
        || name.starts_with("playground/")
}

/// Indexes `records` with Pagefind and writes the index into `root/pagefind/`.
pub fn write_search_index(root: &Path, records: &[SearchRecord]) -> Result<SearchIndexReport, SiteError> {
    let failed = |message: String| SiteError::Render { page: "search index".to_owned(), message };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|error| failed(format!("starting the indexer: {error}")))?;
    let files = runtime.block_on(async {
        // Result URLs stay as given (`rules/x/index.html`): pages opened from a static host
        // without directory indexes still resolve.
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language("en".to_owned())
            .keep_index_url(true)
            .build();
        let mut search_index = pagefind::api::PagefindIndex::new(Some(options)).map_err(|error| error.to_string())?;
        for record in records {
            let meta = BTreeMap::from([
                ("title".to_owned(), record.title.clone()),
                ("kind".to_owned(), record.kind.to_owned()),
                ("language".to_owned(), record.language.clone()),
                ("source".to_owned(), record.source.clone()),
            ]);
            let filters = record
                .filters
                .iter()
                .map(|(facet, values)| ((*facet).to_owned(), values.iter().cloned().collect()))
                .collect();
            search_index
                .add_custom_record(
                    record.url.clone(),
                    record.content.clone(),
                    "en".to_owned(),
                    Some(meta),
                    Some(filters),
                    None,
                )
                .await
                .map_err(|error| format!("{}: {error}", record.url))?;
        }
        search_index.get_files().await.map_err(|error| error.to_string())
    });
    let files = files.map_err(failed)?;
    let folder = root.join(SEARCH_INDEX_FOLDER);
    let mut report = SearchIndexReport { records: records.len() as u64, ..SearchIndexReport::default() };
    for file in files {
        let name = file.filename.to_string_lossy().replace('\\', "/");
        if is_unused_pagefind_file(&name) {
            continue;
        }
        let path = folder.join(&file.filename);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        std::fs::write(&path, &file.contents).map_err(io_error(&path))?;
        report.files += 1;
        report.bytes += file.contents.len() as u64;
    }
    Ok(report)
}
