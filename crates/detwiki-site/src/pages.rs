//! Page models: what each page shows, built once and rendered twice (HTML through askama, JSON
//! through serde), so a page and its twin cannot disagree.

use askama::Template;
use detwiki_catalog::{Catalog, CatalogRule, Counts};
use detwiki_ir::{
    Analysis, Family, JSON_VERSION, LineIndex, Metadata, ParameterKind, Provenance, Rule, SourceInfo, Span,
};
use serde::Serialize;

use crate::markdown::{is_safe_link, render_markdown_with_base};
use detwiki_catalog::{expr_text, positive_text, value_text};

use crate::render::PlacedDiagnostic;

/// A link that may not be safe to follow: `href` is set only for web and mail URLs.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

impl Link {
    pub fn new(url: &str) -> Link {
        Link { text: url.to_owned(), href: is_safe_link(url).then(|| url.trim().to_owned()) }
    }
}

/// One row of a browse list (and of `rules/index.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    pub id: String,
    /// Page folder relative to the site root (`rules/<folder>/`).
    pub path: String,
    pub title: String,
    pub family: &'static str,
    pub family_name: &'static str,
    pub languages: Vec<&'static str>,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Last modified, else created, as `YYYY-MM-DD` (the date order sorts by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub has_diagnostics: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub engine_panic: bool,
    /// The rule only forwards a vendor's alerts: listed, but not counted as a detection.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub vendor_alerts: bool,
}

/// The title shown for a rule: its metadata title, else its file name.
pub fn rule_title(rule: &Rule) -> String {
    rule.metadata
        .title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| rule.provenance.path.rsplit('/').next().unwrap_or(&rule.provenance.path).to_owned())
}

/// Distinct query languages of a rule, in query order.
pub fn rule_languages(rule: &Rule) -> Vec<&'static str> {
    let mut languages: Vec<&'static str> = Vec::new();
    for query in &rule.queries {
        let name = query.language.display_name();
        if !languages.contains(&name) {
            languages.push(name);
        }
    }
    languages
}

pub fn summary(entry: &CatalogRule, folder: &str, vendor_alerts: bool) -> RuleSummary {
    let rule = &entry.rule;
    RuleSummary {
        id: rule.id.clone(),
        path: format!("rules/{folder}/"),
        title: rule_title(rule),
        family: rule.family.as_str(),
        family_name: rule.family.display_name(),
        languages: rule_languages(rule),
        source: rule.provenance.source.clone(),
        severity: rule.metadata.severity.clone(),
        status: rule.metadata.status.clone(),
        date: crate::lists::normalized_date(rule.metadata.modified.as_deref(), rule.metadata.date.as_deref()),
        has_diagnostics: entry.has_diagnostics(),
        engine_panic: entry.panic.is_some(),
        vendor_alerts,
    }
}

// ---------------------------------------------------------------------------------------------
// Rule page

/// A stage as shown: its kind, the exact slice of the file, its predicate tree.
#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub depth: u32,
    pub negated: bool,
    pub span: Span,
    pub line: u32,
    /// The stage's text exactly as it is in the file.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Conditions the stage excludes events by, each in its positive form ("excluded when").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aggregation_keys: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParameterView {
    pub name: String,
    pub kind: String,
    pub values: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetView {
    pub name: String,
    pub role: &'static str,
    pub attributes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookback: Option<String>,
}

/// The analysis of one query, ready to show, with the analysis itself for machines.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisView<'a> {
    /// Index of the query in the rule's `queries`.
    pub query: usize,
    pub heading: String,
    pub language: &'static str,
    pub parameters: Vec<ParameterView>,
    /// The query as its engine ran it: every macro call written in it replaced by the macro's
    /// expansion (SPL). `None` when the query calls no macro the source defines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expanded: Option<String>,
    pub datasets: Vec<DatasetView>,
    pub stages: Vec<StageView>,
    pub output_fields: Vec<String>,
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_window: Option<String>,
    pub diagnostics: Vec<PlacedDiagnostic>,
    /// The engine's analysis in the shape `detwiki analyze --json` prints (spans are file
    /// offsets).
    pub analysis: &'a Analysis,
}

/// Longest stage slice, predicate or query text a page shows before clipping it: the page budget
/// is 300 KB, and a rule with thousands of values repeats them in every view. The JSON twin always
/// holds the whole text.
pub const TEXT_SHOWN_BYTES: usize = 8 * 1024;

/// Most indicator rows a page shows; the JSON twin lists them all.
pub const INDICATOR_ROWS_SHOWN: usize = 150;

/// `text` cut to at most `max` bytes at a character boundary.
pub fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl StageView {
    /// The stage's slice as shown (see [`TEXT_SHOWN_BYTES`]).
    pub fn source_shown(&self) -> &str {
        clip(&self.source, TEXT_SHOWN_BYTES)
    }

    /// The predicate as shown (see [`TEXT_SHOWN_BYTES`]).
    pub fn predicate_shown(&self) -> Option<&str> {
        self.predicate.as_deref().map(|predicate| clip(predicate, TEXT_SHOWN_BYTES))
    }

    /// Whether the page shows less than the whole slice or predicate.
    pub fn clipped(&self) -> bool {
        self.source.len() > TEXT_SHOWN_BYTES
            || self.predicate.as_ref().is_some_and(|predicate| predicate.len() > TEXT_SHOWN_BYTES)
    }
}

impl QueryView {
    /// The query's text as shown, clipped like a stage's (see [`TEXT_SHOWN_BYTES`]): four stages'
    /// worth, since it is the one place the whole query reads top to bottom.
    pub fn text_shown(&self) -> Option<&str> {
        self.text.as_deref().map(|text| clip(text, 4 * TEXT_SHOWN_BYTES))
    }

    pub fn source_shown(&self) -> Option<&str> {
        self.source.as_deref().map(|source| clip(source, 4 * TEXT_SHOWN_BYTES))
    }

    pub fn clipped(&self) -> bool {
        [&self.text, &self.source].into_iter().flatten().any(|text| text.len() > 4 * TEXT_SHOWN_BYTES)
    }
}

/// A query of the rule with no engine yet: named so the reader knows why there are no stages.
#[derive(Debug, Clone, Serialize)]
pub struct QueryView {
    pub heading: String,
    pub language: &'static str,
    pub analysed: bool,
    /// The query as its engine receives it, ready to copy (no YAML `|` or quotes, no TOML
    /// `'''`), when it is only part of the rule body (a fence of a Markdown file, the `query:` of
    /// a YAML rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The query exactly as it sits in the file, when that differs from `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Everything a rule page shows; serialized as-is into the page's JSON twin.
#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "rule.html")]
pub struct RulePage<'a> {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub id: &'a str,
    pub title: String,
    pub family: &'static str,
    pub family_name: &'static str,
    pub languages: Vec<&'static str>,
    /// Query languages worth a badge beside the family (not "Sigma" twice).
    #[serde(skip)]
    pub language_badges: Vec<&'static str>,
    pub format: &'static str,
    pub metadata: &'a Metadata,
    #[serde(skip)]
    pub metadata_rows: Vec<(&'static str, String)>,
    #[serde(skip)]
    pub references: Vec<Link>,
    #[serde(skip)]
    pub extra: Vec<(String, String)>,
    /// The description rendered from Markdown and sanitized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_html: Option<String>,
    /// An Elastic rule's investigation guide (`note`), rendered from Markdown and sanitized like
    /// the description (rule text is untrusted input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investigation_guide_html: Option<String>,
    /// An Elastic rule's `setup` (what to enable so the rule has data), rendered the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_html: Option<String>,
    pub provenance: &'a Provenance,
    #[serde(skip)]
    pub permalink: Option<Link>,
    #[serde(skip)]
    pub source_folder: String,
    /// The rule's text as in its file.
    pub body: &'a str,
    /// The body as HTML, one `<span id="L<n>">` per line numbered as in the file.
    #[serde(skip)]
    pub body_html: String,
    /// The body is too big to show open: it is collapsed, and `raw.txt` beside the page holds it.
    #[serde(skip)]
    pub body_collapsed: bool,
    /// The body's size in KiB, shown when it is collapsed.
    #[serde(skip)]
    pub body_kib: usize,
    /// Leave out the query and stage texts (the body holds them): set for a page that would be
    /// over [`PAGE_BUDGET_BYTES`] with them.
    #[serde(skip)]
    pub compact: bool,
    /// The file lines the body shows (anchors `L<first>` to `L<last>`), so that diagnostics
    /// link only to lines that exist.
    #[serde(skip)]
    pub body_lines: (u32, u32),
    pub queries: Vec<QueryView>,
    pub analyses: Vec<AnalysisView<'a>>,
    /// Problems found reading the rule (engine diagnostics are under each analysis).
    pub diagnostics: Vec<PlacedDiagnostic>,
    /// The catalog view (ATT&CK, event coverage, exclusions, indicators with corpus counts),
    /// set by the site build; `detwiki show --json` prints the same value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<detwiki_catalog::RuleView>,
}

fn push_row(rows: &mut Vec<(&'static str, String)>, label: &'static str, value: Option<&String>) {
    if let Some(value) = value.map(|value| value.trim()).filter(|value| !value.is_empty()) {
        rows.push((label, value.to_owned()));
    }
}

/// The query of `analysis` with each macro call written in `text` replaced by its expansion.
///
/// Engines list every call as a `macro` parameter, outermost call first, with the span of the
/// call as written (the source-map contract of [`Analysis::macro_of`]); nested calls share their
/// outer call's span. The first parameter at a span is therefore the call written in the text,
/// and its value is the complete expansion. Unknown macros (no value) stay as written. `None`
/// when no call was expanded.
fn expanded_query(text: &str, analysis: &Analysis) -> Option<String> {
    let mut calls: Vec<(Span, String)> = Vec::new();
    for parameter in analysis.parameters.iter().filter(|parameter| parameter.kind == ParameterKind::Macro) {
        if calls.iter().any(|(span, _)| span.contains(parameter.span) || parameter.span.contains(*span)) {
            continue;
        }
        if !analysis.span.contains(parameter.span) {
            continue;
        }
        let Some(expansion) = parameter.values.first().and_then(detwiki_ir::Value::literal_text) else { continue };
        calls.push((parameter.span, expansion));
    }
    if calls.is_empty() {
        return None;
    }
    calls.sort_by_key(|(span, _)| span.start);
    let mut expanded = String::new();
    let mut cursor = analysis.span.start as usize;
    for (span, expansion) in &calls {
        expanded.push_str(text.get(cursor..span.start as usize)?);
        expanded.push_str(expansion);
        cursor = span.end as usize;
    }
    expanded.push_str(text.get(cursor..analysis.span.end as usize)?);
    Some(expanded)
}

fn slice_of(text: &str, span: Span) -> String {
    span.slice(text).map(str::to_owned).unwrap_or_default()
}

/// Largest HTML page the site writes, except a rule page whose body alone is bigger.
pub const PAGE_BUDGET_BYTES: usize = 300 * 1024;

/// Bodies longer than this are shown collapsed, with the raw file beside the page: the page
/// budget is 300 KB and a body is shown about twice (the body, and its queries and stages).
pub const BODY_COLLAPSE_BYTES: usize = 100 * 1024;

/// How much of a collapsed body the page shows: its first whole lines up to this size; the rest
/// is in `raw.txt` beside the page.
pub const BODY_SHOWN_BYTES: usize = 48 * 1024;

/// The part of `body` the page shows: all of it, or for a body over [`BODY_COLLAPSE_BYTES`] its
/// first whole lines within [`BODY_SHOWN_BYTES`].
pub fn shown_body(body: &str) -> &str {
    if body.len() <= BODY_COLLAPSE_BYTES {
        return body;
    }
    let head = clip(body, BODY_SHOWN_BYTES);
    match head.rfind('\n') {
        Some(end) => &body[..end + 1],
        None => head,
    }
}

/// The file line the body starts on (1-based); the whole file starts on line 1.
pub(crate) fn body_first_line(rule: &Rule, index: &LineIndex) -> u32 {
    if rule.body_span.slice(&rule.file_text).is_some() { index.line(rule.body_span.start) } else { 1 }
}

impl RulePage<'_> {
    /// The indicator rows the page shows (see [`INDICATOR_ROWS_SHOWN`]).
    pub fn indicators_shown(&self) -> &[detwiki_catalog::IndicatorRow] {
        let rows = self.catalog.as_ref().map(|view| view.indicators.as_slice()).unwrap_or_default();
        &rows[..rows.len().min(INDICATOR_ROWS_SHOWN)]
    }

    /// Indicator rows left out of the page.
    pub fn indicators_hidden(&self) -> usize {
        self.catalog.as_ref().map_or(0, |view| view.indicators.len().saturating_sub(INDICATOR_ROWS_SHOWN))
    }
}

pub fn rule_page<'a>(entry: &'a CatalogRule, root: String, generated: &str, source_folder: String) -> RulePage<'a> {
    let rule = &entry.rule;
    let text: &str = &rule.file_text;
    let index = LineIndex::new(text);
    let metadata = &rule.metadata;

    let mut metadata_rows = Vec::new();
    push_row(&mut metadata_rows, "Status", metadata.status.as_ref());
    push_row(&mut metadata_rows, "Severity", metadata.severity.as_ref());
    push_row(&mut metadata_rows, "Lookback", metadata.lookback.as_ref());
    push_row(&mut metadata_rows, "Runs every", metadata.frequency.as_ref());
    if !metadata.authors.is_empty() {
        metadata_rows.push(("Author", metadata.authors.join(", ")));
    }
    push_row(&mut metadata_rows, "Date", metadata.date.as_ref());
    push_row(&mut metadata_rows, "Modified", metadata.modified.as_ref());
    push_row(&mut metadata_rows, "Rule id", metadata.rule_id.as_ref());
    for source in &metadata.data_sources {
        let cells: Vec<String> = source.cells.iter().map(|(key, value)| format!("{key}: {value}")).collect();
        let text = if cells.is_empty() {
            [&source.provider, &source.table, &source.event]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" / ")
        } else {
            cells.join("; ")
        };
        if !text.is_empty() {
            metadata_rows.push(("Data source", text));
        }
    }

    let analysed_queries: std::collections::BTreeSet<usize> = entry.analyses.iter().map(|entry| entry.query).collect();
    let query_heading = |index: usize| -> String {
        match rule.queries.get(index).and_then(|query| query.name.clone()) {
            Some(name) => name,
            None if rule.queries.len() > 1 => format!("Query {}", index + 1),
            None => "Query".to_owned(),
        }
    };
    let queries = rule
        .queries
        .iter()
        .enumerate()
        .map(|(position, query)| {
            let part = query.span != rule.body_span && rule.body_span.contains(query.span) && !query.span.is_empty();
            let source = part.then(|| slice_of(text, query.span)).filter(|source| !source.is_empty());
            let copy = part.then(|| query.text.clone()).filter(|copy| !copy.trim().is_empty());
            QueryView {
                heading: query_heading(position),
                language: query.language.display_name(),
                analysed: analysed_queries.contains(&position),
                source: source.filter(|source| copy.as_ref() != Some(source)),
                text: copy,
            }
        })
        .collect();

    let analyses = entry
        .analyses
        .iter()
        .map(|query_analysis| {
            let analysis = &query_analysis.analysis;
            let dataset_name = |index: Option<usize>| {
                index.and_then(|index| analysis.datasets.get(index)).map(|dataset| dataset.name.clone())
            };
            AnalysisView {
                query: query_analysis.query,
                analysis,
                heading: query_heading(query_analysis.query),
                language: analysis.language.map(|language| language.display_name()).unwrap_or("unknown"),
                parameters: analysis
                    .parameters
                    .iter()
                    .map(|parameter| ParameterView {
                        name: parameter.name.clone(),
                        kind: format!("{:?}", parameter.kind).to_lowercase(),
                        values: parameter.values.iter().map(value_text).collect(),
                        source: slice_of(text, parameter.span),
                    })
                    .collect(),
                expanded: expanded_query(text, analysis),
                datasets: analysis
                    .datasets
                    .iter()
                    .map(|dataset| DatasetView {
                        name: dataset.name.clone(),
                        role: dataset.role.as_str(),
                        attributes: dataset.attributes.iter().map(|(key, value)| format!("{key}: {value}")).collect(),
                        lookback: dataset.time_window.as_ref().map(|window| window.text.clone()),
                    })
                    .collect(),
                stages: analysis
                    .stages
                    .iter()
                    .map(|stage| StageView {
                        kind: stage.kind.clone(),
                        label: stage.label.clone(),
                        depth: stage.depth,
                        negated: stage.negated,
                        span: stage.span,
                        line: index.line(stage.span.start),
                        source: slice_of(text, stage.span),
                        dataset: dataset_name(stage.dataset),
                        predicate: stage.predicate.as_ref().map(expr_text),
                        exclusions: stage
                            .predicate
                            .as_ref()
                            .map(|tree| tree.exclusions().into_iter().map(positive_text).collect())
                            .unwrap_or_default(),
                        aggregation_keys: stage.aggregation_keys.clone(),
                        thresholds: stage.thresholds.iter().map(expr_text).collect(),
                    })
                    .collect(),
                output_fields: analysis.output_fields.clone(),
                group_by: analysis.group_by.clone(),
                correlation_window: analysis.time_window.as_ref().map(|window| window.text.clone()),
                diagnostics: analysis
                    .diagnostics
                    .iter()
                    .map(|diagnostic| PlacedDiagnostic::new(diagnostic, text, &index))
                    .collect(),
            }
        })
        .collect();

    RulePage {
        version: JSON_VERSION,
        root,
        generated: generated.to_owned(),
        id: &rule.id,
        title: rule_title(rule),
        family: rule.family.as_str(),
        family_name: rule.family.display_name(),
        languages: rule_languages(rule),
        language_badges: rule_languages(rule)
            .into_iter()
            .filter(|language| *language != rule.family.display_name())
            .collect(),
        format: rule.format.display_name(),
        metadata,
        metadata_rows,
        references: metadata.references.iter().map(|reference| Link::new(reference)).collect(),
        extra: metadata
            .extra
            .iter()
            .filter(|(key, _)| !RENDERED_EXTRA.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), serde_json::to_string(value).unwrap_or_default()))
            .collect(),
        description_html: metadata
            .description
            .as_deref()
            .filter(|description| !description.trim().is_empty())
            .map(|description| render_markdown_with_base(description, rule.provenance.permalink.as_deref())),
        investigation_guide_html: extra_markdown(metadata, "note", rule.provenance.permalink.as_deref()),
        setup_html: extra_markdown(metadata, "setup", rule.provenance.permalink.as_deref()),
        provenance: &rule.provenance,
        permalink: rule.provenance.permalink.as_deref().map(Link::new),
        source_folder,
        body: rule.body(),
        body_html: crate::render::body_lines_html(shown_body(rule.body()), body_first_line(rule, &index)),
        body_collapsed: rule.body().len() > BODY_COLLAPSE_BYTES,
        body_kib: rule.body().len().div_ceil(1024),
        compact: false,
        body_lines: {
            let first = body_first_line(rule, &index);
            (first, first + shown_body(rule.body()).lines().count().saturating_sub(1) as u32)
        },
        queries,
        analyses,
        diagnostics: rule
            .diagnostics
            .iter()
            .map(|diagnostic| PlacedDiagnostic::new(diagnostic, text, &index))
            .collect(),
        catalog: None,
    }
}

/// Keys of `Metadata::extra` the page renders as sections of their own, so they are not repeated
/// as raw text under "Other fields".
const RENDERED_EXTRA: &[&str] = &["note", "setup"];

/// A Markdown text kept in `Metadata::extra` (Elastic `note`, `setup`), rendered and sanitized;
/// `None` when absent, empty or not a string.
fn extra_markdown(metadata: &Metadata, key: &str, permalink: Option<&str>) -> Option<String> {
    let text = metadata.extra.get(key)?.as_str()?;
    (!text.trim().is_empty()).then(|| render_markdown_with_base(text, permalink))
}

// ---------------------------------------------------------------------------------------------
// Browse, sources and home

/// One page of a rule list: all rules (`rules/`) or the rules of one facet value
/// (`browse/language/kusto/`), in one order.
#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "browse.html")]
pub struct BrowsePage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub heading: String,
    /// The facet value the list is restricted to; `None` for all rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facet: Option<crate::browse::FacetValue>,
    pub pagination: crate::lists::Pagination,
    pub rules: Vec<RuleSummary>,
}

/// A source with its counts, for the sources page and the home twin.
#[derive(Debug, Clone, Serialize)]
pub struct SourceView {
    pub name: String,
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    #[serde(skip)]
    pub repository_link: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub files_seen: u64,
    pub rules: u64,
    pub skipped_files: u64,
    pub rules_with_diagnostics: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_rules_at_least: Option<u64>,
}

impl SourceView {
    pub fn new(info: &SourceInfo, counts: Counts) -> SourceView {
        SourceView {
            name: info.name.clone(),
            slug: info.slug.clone(),
            repository_url: info.repository_url.clone(),
            repository_link: info.repository_url.as_deref().map(Link::new),
            commit: info.commit.clone(),
            license: info.license.clone(),
            note: info.note.clone(),
            files_seen: info.files_seen,
            rules: counts.rules,
            skipped_files: counts.skipped_files,
            rules_with_diagnostics: counts.rules_with_diagnostics,
            expect_rules_at_least: info.expect_rules_at_least,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceWithSkipped<'a> {
    #[serde(flatten)]
    pub source: SourceView,
    pub skipped: &'a [detwiki_ir::SkippedFile],
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "sources.html")]
pub struct SourcesPage<'a> {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub sources: Vec<SourceWithSkipped<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyView {
    pub family: &'static str,
    pub name: &'static str,
    pub rules: u64,
    pub skipped_files: u64,
    pub rules_with_diagnostics: u64,
    /// Rules that only forward a vendor's alerts (counted in `rules`, not in `detections`).
    pub vendor_alert_rules: u64,
    /// Rules that detect over telemetry: `rules` less the vendor-alert ones.
    pub detections: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub rules: u64,
    /// Rules less those that only forward a vendor's alerts.
    pub detections: u64,
    pub skipped_files: u64,
    pub rules_with_diagnostics: u64,
    pub engine_panics: u64,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    /// The build time (pinned by `SOURCE_DATE_EPOCH`).
    pub generated: String,
    pub totals: Totals,
    pub sources: Vec<SourceView>,
    pub languages: Vec<FamilyView>,
    /// Skipped files of sources that yielded no rule: no language can claim them.
    pub unattributed_skipped_files: u64,
}

/// The home page; `vendor_alert_rules` are positions in `catalog.rules` of the rules that only
/// forward a vendor's alerts, which the detection counts leave out.
pub fn home_page(catalog: &Catalog, vendor_alert_rules: &[usize], generated: &str) -> HomePage {
    let mut alerts_by_family: std::collections::BTreeMap<Family, u64> = Default::default();
    for entry in vendor_alert_rules.iter().filter_map(|position| catalog.rules.get(*position)) {
        *alerts_by_family.entry(entry.rule.family).or_default() += 1;
    }
    let languages = catalog
        .counts_by_family()
        .into_iter()
        .map(|(family, counts): (Family, Counts)| {
            let vendor_alert_rules = alerts_by_family.get(&family).copied().unwrap_or(0);
            FamilyView {
                family: family.as_str(),
                name: family.display_name(),
                rules: counts.rules,
                skipped_files: counts.skipped_files,
                rules_with_diagnostics: counts.rules_with_diagnostics,
                vendor_alert_rules,
                detections: counts.rules.saturating_sub(vendor_alert_rules),
            }
        })
        .collect();
    HomePage {
        version: JSON_VERSION,
        root: String::new(),
        generated: generated.to_owned(),
        totals: Totals {
            rules: catalog.rules.len() as u64,
            detections: (catalog.rules.len() as u64).saturating_sub(vendor_alert_rules.len() as u64),
            skipped_files: catalog.skipped_files(),
            rules_with_diagnostics: catalog.rules_with_diagnostics(),
            engine_panics: catalog.panics(),
        },
        sources: catalog.counts_by_source().into_iter().map(|(info, counts)| SourceView::new(info, counts)).collect(),
        languages,
        unattributed_skipped_files: catalog.unattributed_skipped(),
    }
}

#[cfg(test)]
mod tests {
    use detwiki_ir::{Parameter, Value};

    use super::*;

    fn call(name: &str, span: Span, expansion: Option<&str>) -> Parameter {
        Parameter {
            name: name.to_owned(),
            kind: ParameterKind::Macro,
            values: expansion.map(Value::string).into_iter().collect(),
            span,
        }
    }

    #[test]
    fn expanded_query_replaces_outermost_calls_and_keeps_unknown_ones() {
        let text = "search: `proc(a)` x=1 | `unknown`\n";
        let query = Span::from_usize(8, text.len() - 1);
        let mut analysis = Analysis { span: query, ..Analysis::default() };
        analysis.parameters = vec![
            // A call's value is its complete expansion, nested calls included.
            call("proc", Span::from_usize(8, 17), Some("index=main name=a")),
            // The nested call shares its outer call's span and must not be spliced twice.
            call("inner", Span::from_usize(8, 17), Some("index=main")),
            call("unknown", Span::from_usize(24, 33), None),
        ];
        assert_eq!(expanded_query(text, &analysis).as_deref(), Some("index=main name=a x=1 | `unknown`"));
        analysis.parameters.truncate(0);
        assert_eq!(expanded_query(text, &analysis), None);
    }
}
