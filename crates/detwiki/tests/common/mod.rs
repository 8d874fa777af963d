//! Helpers shared by the end-to-end tests: run the binary, walk a built site.

#![allow(dead_code)]

pub mod hostile_corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (`crates/detwiki` is two levels below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `detwiki` with `args` in `dir`, with a pinned build time.
pub fn detwiki(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_detwiki"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("the detwiki binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: invalid JSON: {error}", path.display()))
}

/// Every relative `href` of every page of `site` that names no file (folders mean their
/// `index.html`), as `(page, href)`, with the number of relative links checked.
pub fn broken_links(site: &std::path::Path) -> (usize, Vec<(String, String)>) {
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in files_under(site) {
        if page.extension().is_none_or(|extension| extension != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&page).unwrap();
        let folder = page.parent().unwrap();
        for piece in html.split("href=\"").skip(1) {
            let Some(end) = piece.find('"') else { continue };
            let href = piece[..end].split('#').next().unwrap_or_default();
            // URLs and host-absolute paths (the 404 page's, from --base-url) are not files here.
            if href.is_empty() || href.contains(':') || href.starts_with('/') {
                continue;
            }
            checked += 1;
            let target = folder.join(href.replace("%20", " "));
            let exists = if href.ends_with('/') { target.join("index.html").is_file() } else { target.exists() };
            if !exists {
                broken.push((page.display().to_string(), href.to_owned()));
            }
        }
    }
    (checked, broken)
}

/// Every row of a paginated list whose first page's twin is `first` (under `site`), following
/// `pagination.next` to the last page.
pub fn all_rows(site: &Path, first: &str, key: &str) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(folder) = next {
        let page = read_json(&site.join(&folder).join("index.json"));
        rows.extend(page[key].as_array().cloned().unwrap_or_default());
        next = page["pagination"]["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 100_000, "{first}: the pages link in a loop");
    }
    rows
}

/// A compressed chunk of the search index under `site/pagefind/` (binary, not text).
pub fn is_search_chunk(file: &Path, site: &Path) -> bool {
    file.strip_prefix(site).is_ok_and(|relative| relative.starts_with("pagefind"))
        && file.extension().is_some_and(|extension| {
            extension.to_str().is_some_and(|extension| extension.starts_with("pf_") || extension == "pagefind")
        })
}
