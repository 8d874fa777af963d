//! # detwiki-site
//!
//! ## Overview
//!
//! Renders a [`Catalog`] into a static site: a home page with counts, rule lists (all rules and
//! one per language, source, tactic and technique, each sorted five ways and split into pages), a
//! sources page, one page per rule, catalog pages (indicators, fields, events, providers,
//! techniques, ATT&CK matrices), the diagnostics and coverage pages, each with a JSON twin
//! (`index.json`) beside it that holds the same content; and a 404 page and a sitemap. No HTML
//! page is over 300 KB except a rule page whose body alone is over 100 KB: where a rule page
//! would be, it shows less (clipped texts, the first indicator rows) and says where the rest is.
//! Pages are readable without JavaScript; everything taken from rules is escaped by the
//! templates, and Markdown descriptions are rendered and then sanitized. Every page carries the
//! [`CONTENT_SECURITY_POLICY`] and a search box; `search.html` searches an offline index of the
//! catalog (`pagefind/`).
//!
//! The build is atomic: pages are written into a temporary folder beside the output folder,
//! which then replaces it. An interrupted build leaves the previous site as it was.
//!
//! **Invariant:** the site never parses a rule and never reads a file of a source: it renders the
//! catalog it is given, so the same catalog always gives byte-identical pages.
//!
//! ## Source code layout
//!
//! - `lib.rs`: [`build_site`], the atomic swap, the output folder guard, [`format_timestamp`].
//! - `pages.rs`: the page models, rendered by askama templates (`templates/`) and by serde.
//! - `render.rs`: diagnostics placed at line:column, the rule body as anchored lines.
//! - `lists.rs`: pagination and the five orders of a rule list.
//! - `browse.rs`: the rule lists, the facet lists and the browse hub.
//! - `reports.rs`: the diagnostics pages (the lint findings) and the coverage page.
//! - `site_files.rs`: the 404 page and the sitemap, which link with the base URL.
//! - `catalog_pages.rs`: indicator, field, provider, event and technique pages, the ATT&CK
//!   matrix, and the rule page's JSON twin for `detwiki show --json`.
//! - `markdown.rs`: Markdown to sanitized HTML, link checks.
//! - `paths.rs`: rule ids to safe page folders.
//! - `navigator.rs`: ATT&CK Navigator layers of technique coverage.
//! - `sarif.rs`: findings as a SARIF 2.1.0 log.
//! - `search.rs`: search records of the catalog, the Pagefind index, the search page.
//! - `style.css`: the only stylesheet.
//! - `favicon.svg`: the site icon, written to `assets/favicon.svg`.
//! - `assets/*.js`: the only scripts, written to `assets/` (never inline: see
//!   [`CONTENT_SECURITY_POLICY`]).

mod browse;
mod catalog_pages;
mod lists;
mod markdown;
mod navigator;
mod pages;
mod paths;
mod render;
mod reports;
mod sarif;
mod search;
mod site_files;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use askama::Template;
use detwiki_catalog::Catalog;
use detwiki_ir::JSON_VERSION;
use rayon::prelude::*;
use serde::Serialize;

pub use catalog_pages::rule_twin_json;
pub use lists::DEFAULT_PAGE_SIZE;
pub use markdown::{is_safe_link, render_markdown, render_markdown_with_base};
pub use navigator::{LAYER_VERSION, NAVIGATOR_VERSION, navigator_layer};
pub use paths::{assign_folders, rule_folder};
pub use sarif::{SarifSource, encode_path, file_root_uri, sarif_log};
pub use search::{FACETS, SEARCH_INDEX_FOLDER, SearchIndexReport, SearchRecord, search_records};

/// Name of the file that marks a folder as a detwiki site, so a build never replaces a folder it
/// did not create.
pub const SITE_MARKER: &str = ".detwiki-site";

const STYLE: &str = include_str!("style.css");

/// The site's icon, `assets/favicon.svg`. Browsers ask every site for one; without it each page
/// load logs a failed `/favicon.ico` request in the console.
const FAVICON: &str = include_str!("favicon.svg");
/// The scripts of the site, written under `assets/`: (file name, content).
const SCRIPTS: [(&str, &str); 2] =
    [("search.js", include_str!("assets/search.js")), ("sortable.js", include_str!("assets/sortable.js"))];

/// The Content-Security-Policy of every page (a `<meta>` tag) and of `detwiki serve` (a header,
/// with [`CONTENT_SECURITY_POLICY_HEADER_EXTRA`]).
///
/// Only files of the site itself load: no inline script, no inline event handler, no inline
/// style, no plugin, no other origin, so text from a rule that slipped through escaping still
/// could not run. `'wasm-unsafe-eval'` is there because the search index is read by Pagefind's
/// WebAssembly module (it allows compiling WebAssembly, not `eval` of JavaScript). `base-uri`
/// stops an injected `<base>` from redirecting relative links.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// Directives a `<meta>` policy cannot carry (browsers ignore them there, with a console
/// warning), added to the header `detwiki serve` sends: no other site may frame the pages.
pub const CONTENT_SECURITY_POLICY_HEADER_EXTRA: &str = "frame-ancestors 'none'";

/// What a build needs besides the catalog.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// The build time shown on pages, already formatted (see [`format_timestamp`]).
    pub generated: String,
    /// Rows per page of every long list (at least 1).
    pub page_size: usize,
    /// Where the site is hosted, ending with `/` (`/`, `/detwiki/`, `https://example.org/wiki/`):
    /// the sitemap and the 404 page need absolute links. Pages link each other relatively.
    pub base_url: String,
    /// Build the search index (`pagefind/`). Without it the search page says the index is
    /// missing; a preview build is faster.
    pub search: bool,
}

impl SiteOptions {
    /// Options with the default page size and the search index, for a site hosted at the root
    /// of its host.
    pub fn new(generated: String) -> SiteOptions {
        SiteOptions { generated, page_size: lists::DEFAULT_PAGE_SIZE, base_url: "/".to_owned(), search: true }
    }
}

/// What a build wrote.
#[derive(Debug, Clone, Default)]
pub struct SiteReport {
    /// HTML pages written (each has a JSON twin).
    pub pages: u64,
    /// Problems that did not stop the build (page folders shared by several rule ids).
    pub problems: Vec<String>,
    /// The search index, when built.
    pub search: Option<SearchIndexReport>,
    /// How long building the search index took (records, indexing, writing).
    pub search_time: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("refusing to replace {path}: it is not empty and has no {SITE_MARKER} marker (not a detwiki site)")]
    NotASite { path: String },
    #[error("rendering {page}: {message}")]
    Render { page: String, message: String },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SiteError + '_ {
    move |source| SiteError::Io { path: path.display().to_string(), source }
}

/// Writes more files into the staging folder once the pages are written (the catalog database),
/// given the folder and the index the pages were rendered from, so they are swapped in with the
/// site. An error message aborts the build.
pub type SiteExtra<'a> = &'a dyn Fn(&Path, &detwiki_catalog::CatalogIndex) -> Result<(), String>;

/// Builds the site of `catalog` into `out`, replacing the previous site there atomically.
pub fn build_site(catalog: &Catalog, out: &Path, options: &SiteOptions) -> Result<SiteReport, SiteError> {
    build_site_with(catalog, out, options, &|_, _| Ok(()))
}

/// [`build_site`], with `extra` writing more files into the site before it is swapped in.
pub fn build_site_with(
    catalog: &Catalog,
    out: &Path,
    options: &SiteOptions,
    extra: SiteExtra<'_>,
) -> Result<SiteReport, SiteError> {
    check_replaceable(out)?;
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let name = out.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "site".to_owned());
    remove_stale_staging(&parent, &name);
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.building-"))
        .tempdir_in(&parent)
        .map_err(io_error(&parent))?;
    let report = write_site(catalog, staging.path(), options, extra)?;
    let staged = staging.keep();
    make_readable(&staged);
    if let Err(error) = swap_into_place(&staged, out, &parent, &name) {
        let _ = fs::remove_dir_all(&staged);
        return Err(error);
    }
    Ok(report)
}

/// How old a staging folder left by an interrupted build must be before a later build removes
/// it. Builds take seconds; the margin keeps a concurrent build's folder safe.
const STALE_STAGING_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes `.{name}.building-*` and `.{name}.old-*` folders that an interrupted build (Ctrl-C,
/// a killed process) left beside the site. Failures are ignored: they only cost disk space.
fn remove_stale_staging(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    let prefixes = [format!(".{name}.building-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !prefixes.iter().any(|prefix| file_name.starts_with(prefix.as_str())) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_STAGING_AGE);
        if stale {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Refuses to replace a folder that is neither empty nor a detwiki site.
fn check_replaceable(out: &Path) -> Result<(), SiteError> {
    if out.exists() && !out.is_dir() {
        return Err(SiteError::NotASite { path: out.display().to_string() });
    }
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_none() || out.join(SITE_MARKER).is_file() {
                Ok(())
            } else {
                Err(SiteError::NotASite { path: out.display().to_string() })
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(SiteError::Io { path: out.display().to_string(), source: error }),
    }
}

fn swap_into_place(staged: &Path, out: &Path, parent: &Path, name: &str) -> Result<(), SiteError> {
    if out.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        let _ = fs::remove_dir_all(&old);
        fs::rename(out, &old).map_err(io_error(out))?;
        if let Err(source) = fs::rename(staged, out) {
            // Put the previous site back so the reader never finds nothing.
            let _ = fs::rename(&old, out);
            return Err(SiteError::Io { path: out.display().to_string(), source });
        }
        fs::remove_dir_all(&old).map_err(io_error(&old))?;
    } else {
        fs::rename(staged, out).map_err(io_error(out))?;
    }
    Ok(())
}

/// Temporary folders are created private; a site is meant to be served.
#[cfg(unix)]
fn make_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
}

#[cfg(not(unix))]
fn make_readable(_path: &Path) {}

/// Writes `index.html` and `index.json` of one page into `folder`.
fn write_page(folder: &Path, page: &(impl Template + Serialize), name: &str) -> Result<(), SiteError> {
    let html = render_page(page, name)?;
    write_rendered(folder, &html, page, name)
}

fn render_page(page: &impl Template, name: &str) -> Result<String, SiteError> {
    page.render().map_err(|error| SiteError::Render { page: name.to_owned(), message: error.to_string() })
}

/// Writes `html` as the page's `index.html` and `page` as its `index.json` into `folder`.
fn write_rendered(folder: &Path, html: &str, page: &impl Serialize, name: &str) -> Result<(), SiteError> {
    fs::create_dir_all(folder).map_err(io_error(folder))?;
    let html_path = folder.join("index.html");
    fs::write(&html_path, html).map_err(io_error(&html_path))?;
    let mut json = serde_json::to_string_pretty(page)
        .map_err(|error| SiteError::Render { page: name.to_owned(), message: error.to_string() })?;
    json.push('\n');
    let json_path = folder.join("index.json");
    fs::write(&json_path, json).map_err(io_error(&json_path))?;
    Ok(())
}

fn write_site(
    catalog: &Catalog,
    root: &Path,
    options: &SiteOptions,
    extra: SiteExtra<'_>,
) -> Result<SiteReport, SiteError> {
    let generated = options.generated.as_str();
    let (folders, problems) = paths::assign_folders(catalog.rules.iter().map(|entry| entry.rule.id.as_str()));
    let slugs: HashMap<&str, &str> =
        catalog.sources.iter().map(|entry| (entry.info.name.as_str(), entry.info.slug.as_str())).collect();

    let knowledge = detwiki_knowledge::Knowledge::bundled();
    let index = detwiki_catalog::CatalogIndex::build(catalog, knowledge);
    catalog.rules.par_iter().zip(folders.par_iter()).enumerate().try_for_each(|(position, (entry, folder))| {
        let depth = 1 + folder.split('/').count();
        let source_anchor = slugs.get(entry.rule.provenance.source.as_str()).copied().unwrap_or_default().to_owned();
        let mut page = pages::rule_page(entry, paths::root_from_depth(depth), generated, source_anchor);
        page.catalog = catalog_pages::placed_rule_view(catalog, &index, position, &folders);
        let folder = root.join("rules").join(folder);
        let mut html = render_page(&page, &entry.rule.id)?;
        if html.len() > pages::PAGE_BUDGET_BYTES {
            // Over budget with every query and stage text: the body already holds them.
            page.compact = true;
            html = render_page(&page, &entry.rule.id)?;
        }
        write_rendered(&folder, &html, &page, &entry.rule.id)?;
        if page.body_collapsed {
            let raw = folder.join("raw.txt");
            fs::write(&raw, page.body).map_err(io_error(&raw))?;
        }
        Ok(())
    })?;

    let summaries: Vec<pages::RuleSummary> = catalog
        .rules
        .iter()
        .zip(&folders)
        .enumerate()
        .map(|(position, (entry, folder))| pages::summary(entry, folder, index.vendor_alert_rules.contains(&position)))
        .collect();
    let list_pages = browse::RuleLists {
        catalog,
        index: &index,
        knowledge,
        summaries: &summaries,
        page_size: options.page_size,
        generated,
    }
    .write(root)?;

    let by_source = catalog.counts_by_source();
    let sources = pages::SourcesPage {
        version: JSON_VERSION,
        root: "../".to_owned(),
        generated: generated.to_owned(),
        sources: by_source
            .iter()
            .map(|(info, counts)| pages::SourceWithSkipped {
                source: pages::SourceView::new(info, *counts),
                skipped: &info.skipped,
            })
            .collect(),
    };
    write_page(&root.join("sources"), &sources, "sources")?;

    write_page(root, &pages::home_page(catalog, &index.vendor_alert_rules, generated), "home")?;

    let catalog_pages = catalog_pages::CatalogPages {
        catalog,
        index: &index,
        knowledge,
        folders: &folders,
        generated,
        page_size: options.page_size,
    }
    .write(root)?;

    let report_pages = reports::Reports {
        catalog,
        index: &index,
        knowledge,
        folders: &folders,
        page_size: options.page_size,
        generated,
    }
    .write(root)?;
    site_files::write_not_found(root, &options.base_url, generated)?;

    let style_path = root.join("style.css");
    fs::write(&style_path, STYLE).map_err(io_error(&style_path))?;
    let assets = root.join("assets");
    fs::create_dir_all(&assets).map_err(io_error(&assets))?;
    let favicon_path = assets.join("favicon.svg");
    fs::write(&favicon_path, FAVICON).map_err(io_error(&favicon_path))?;
    for (name, script) in SCRIPTS {
        let path = assets.join(name);
        fs::write(&path, script).map_err(io_error(&path))?;
    }

    let search_started = std::time::Instant::now();
    let records = search::search_records(catalog, &index, knowledge, &folders);
    let search_page = search::SearchPage {
        root: String::new(),
        generated: generated.to_owned(),
        records: records.len(),
        facets: search::facets(&records),
    };
    let search_html = search_page
        .render()
        .map_err(|error| SiteError::Render { page: "search".to_owned(), message: error.to_string() })?;
    let search_path = root.join("search.html");
    fs::write(&search_path, search_html).map_err(io_error(&search_path))?;
    let search = if options.search { Some(search::write_search_index(root, &records)?) } else { None };
    drop(records);
    let search_time = search_started.elapsed();
    extra(root, &index).map_err(|message| SiteError::Render { page: "extra files".to_owned(), message })?;
    // Last, so that it lists every page, those `extra` wrote included.
    site_files::write_sitemap(root, &options.base_url)?;
    let marker_path = root.join(SITE_MARKER);
    fs::write(&marker_path, "This folder is generated by `detwiki build` and replaced by the next build.\n")
        .map_err(io_error(&marker_path))?;

    Ok(SiteReport {
        pages: catalog.rules.len() as u64 + 3 + list_pages + catalog_pages + report_pages,
        problems,
        search,
        search_time,
    })
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_timestamp(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn a_foreign_folder_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mine");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("notes.txt"), "keep me").unwrap();
        let catalog = Catalog::default();
        let options = SiteOptions::new(format_timestamp(0));
        assert!(matches!(build_site(&catalog, &out, &options), Err(SiteError::NotASite { .. })));
        assert!(out.join("notes.txt").is_file());
    }

    #[test]
    fn a_second_build_replaces_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        let catalog = Catalog::default();
        let options = SiteOptions::new(format_timestamp(0));
        build_site(&catalog, &out, &options).unwrap();
        fs::write(out.join("stale.txt"), "old").unwrap();
        build_site(&catalog, &out, &options).unwrap();
        assert!(out.join("index.html").is_file());
        assert!(!out.join("stale.txt").exists());
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
        assert_eq!(json["version"], JSON_VERSION);
        // Nothing is left behind beside the output folder.
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
        assert_eq!(leftovers.len(), 1);
    }
}
