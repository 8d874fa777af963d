//! Files a host needs besides the pages: the 404 page and the sitemap. Both are served from any
//! path of the site, so they link with the base URL (`--base-url`) rather than relatively.

use std::fs;
use std::path::Path;

use askama::Template;

use crate::render::escape_into;
use crate::{SiteError, io_error};

/// Most URLs one sitemap file may list (sitemaps.org); larger sites get a sitemap index.
const SITEMAP_URLS: usize = 50_000;

/// The page a host shows for a missing path (`404.html` at the site root). It has no JSON twin.
#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    /// The base URL: the page may be served at any depth, so links start from it.
    pub root: &'a str,
    pub generated: &'a str,
}

/// Writes `404.html` into `root`.
pub fn write_not_found(root: &Path, base_url: &str, generated: &str) -> Result<(), SiteError> {
    let html = NotFoundPage { root: base_url, generated }
        .render()
        .map_err(|error| SiteError::Render { page: "404".to_owned(), message: error.to_string() })?;
    let path = root.join("404.html");
    fs::write(&path, html).map_err(io_error(&path))
}

/// Writes `sitemap.xml` listing every page folder under `root` (the folders holding an
/// `index.html`) as `<base_url><folder>/`, sorted; above [`SITEMAP_URLS`] pages it is a sitemap
/// index of `sitemaps/<n>.xml`. Returns how many pages it lists.
pub fn write_sitemap(root: &Path, base_url: &str) -> Result<usize, SiteError> {
    let mut folders = Vec::new();
    collect_page_folders(root, "", &mut folders)?;
    folders.sort();
    let urls: Vec<String> = folders.iter().map(|folder| format!("{base_url}{folder}")).collect();
    let chunks: Vec<&[String]> = urls.chunks(SITEMAP_URLS).collect();
    let sitemap = root.join("sitemap.xml");
    if chunks.len() <= 1 {
        fs::write(&sitemap, urlset(&urls)).map_err(io_error(&sitemap))?;
        return Ok(urls.len());
    }
    let folder = root.join("sitemaps");
    fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let mut index = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (number, chunk) in chunks.iter().enumerate() {
        let name = format!("{}.xml", number + 1);
        let path = folder.join(&name);
        fs::write(&path, urlset(chunk)).map_err(io_error(&path))?;
        index.push_str("<sitemap><loc>");
        escape_into(&mut index, &format!("{base_url}sitemaps/{name}"));
        index.push_str("</loc></sitemap>\n");
    }
    index.push_str("</sitemapindex>\n");
    fs::write(&sitemap, index).map_err(io_error(&sitemap))?;
    Ok(urls.len())
}

fn urlset(urls: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for url in urls {
        xml.push_str("<url><loc>");
        escape_into(&mut xml, url);
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// Every folder under `dir` (as `a/b/`, relative to the site root; the root itself as ``) that
/// holds an `index.html`.
fn collect_page_folders(dir: &Path, relative: &str, folders: &mut Vec<String>) -> Result<(), SiteError> {
    let entries = fs::read_dir(dir).map_err(io_error(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type().map_err(io_error(&entry.path()))?;
        if file_type.is_dir() {
            collect_page_folders(&entry.path(), &format!("{relative}{name}/"), folders)?;
        } else if name == "index.html" {
            folders.push(relative.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemap_lists_page_folders_under_the_base_url() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["", "rules/a&b", "attack/T1", "assets"] {
            fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        for page in ["index.html", "rules/a&b/index.html", "attack/T1/index.html", "assets/search.js"] {
            fs::write(dir.path().join(page), "x").unwrap();
        }
        assert_eq!(write_sitemap(dir.path(), "https://example.org/wiki/").unwrap(), 3);
        let xml = fs::read_to_string(dir.path().join("sitemap.xml")).unwrap();
        assert!(xml.contains("<loc>https://example.org/wiki/</loc>"), "{xml}");
        assert!(xml.contains("<loc>https://example.org/wiki/attack/T1/</loc>"), "{xml}");
        assert!(xml.contains("<loc>https://example.org/wiki/rules/a&amp;b/</loc>"), "{xml}");
        assert!(!xml.contains("assets"));
    }
}
