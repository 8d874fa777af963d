//! The search index and the hardening of the demo site: what the index holds (read back from the
//! Pagefind chunks the build wrote), the search page's DOM contract, no inline script or event
//! handler in any page, the Content-Security-Policy on every page and from `detwiki serve`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{detwiki, files_under, is_search_chunk, read_json, text, workspace_root};

fn build_demo(temp: &Path, extra: &[&str]) -> (PathBuf, String) {
    let out = temp.join("site");
    let config = workspace_root().join("detwiki.toml");
    let mut args = vec!["build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = detwiki(temp, &args);
    assert!(output.status.success(), "build failed: {}\n{}", text(&output.stdout), text(&output.stderr));
    (out, text(&output.stdout))
}

/// A Pagefind chunk: gzip of `pagefind_dcd` followed by the payload.
fn chunk_payload(path: &Path) -> Vec<u8> {
    let compressed = std::fs::read(path).unwrap();
    let mut payload = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice()).read_to_end(&mut payload).unwrap();
    assert!(payload.starts_with(b"pagefind_dcd"), "{} is not a Pagefind chunk", path.display());
    payload.split_off("pagefind_dcd".len())
}

/// Every indexed page as Pagefind stored it (`url`, `content`, `meta`, `filters`), by URL.
fn indexed_pages(site: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut pages = BTreeMap::new();
    for file in files_under(&site.join("pagefind/fragment")) {
        let fragment: serde_json::Value = serde_json::from_slice(&chunk_payload(&file)).unwrap();
        let url = fragment["url"].as_str().expect("fragment url").to_owned();
        pages.insert(url, fragment);
    }
    pages
}

fn strings(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|item| item.as_str().map(str::to_owned)).collect()
}

#[test]
fn the_demo_index_holds_every_rule_with_its_facets() {
    let temp = tempfile::tempdir().unwrap();
    let (site, summary) = build_demo(temp.path(), &[]);
    assert!(summary.contains("search index: "), "{summary}");
    for file in ["pagefind/pagefind.js", "pagefind/pagefind-worker.js", "pagefind/pagefind-entry.json"] {
        assert!(site.join(file).is_file(), "{file} is missing");
    }
    assert!(!site.join("pagefind/pagefind-ui.js").exists(), "Pagefind's own interface is not shipped");
    let entry = read_json(&site.join("pagefind/pagefind-entry.json"));
    assert!(entry["languages"]["en"]["page_count"].as_u64().is_some_and(|count| count > 0), "{entry}");

    let pages = indexed_pages(&site);
    let browse = read_json(&site.join("rules/index.json"));
    let rules = browse["rules"].as_array().expect("rules");
    // One record per rule, with its language, source and diagnostics facets and its meta.
    for rule in rules {
        let url = format!("{}index.html", rule["path"].as_str().unwrap());
        let page = pages.get(&url).unwrap_or_else(|| panic!("{url} is not indexed"));
        let languages = strings(&rule["languages"]);
        let indexed_languages = strings(&page["filters"]["language"]);
        if !languages.is_empty() {
            assert_eq!(indexed_languages, languages, "{url}");
        }
        assert_eq!(strings(&page["filters"]["source"]), BTreeSet::from([rule["source"].as_str().unwrap().to_owned()]));
        assert_eq!(strings(&page["filters"]["kind"]), BTreeSet::from(["rule".to_owned()]));
        assert_eq!(strings(&page["filters"]["diagnostics"]).len(), 1, "{url}");
        assert_eq!(page["meta"]["title"], rule["title"], "{url}");
        assert_eq!(page["meta"]["source"], rule["source"], "{url}");
    }
    // The msiexec demo rules: five languages, each findable by the word and narrowed by language.
    let msiexec: Vec<&serde_json::Value> = pages
        .values()
        .filter(|page| page["filters"]["kind"][0] == "rule")
        .filter(|page| page["content"].as_str().is_some_and(|content| content.to_lowercase().contains("msiexec")))
        .collect();
    let languages: BTreeSet<String> = msiexec.iter().flat_map(|page| strings(&page["filters"]["language"])).collect();
    assert!(languages.len() >= 5, "msiexec rules in {languages:?}");
    assert!(languages.contains("KQL"), "{languages:?}");
    let kql_rule = msiexec
        .iter()
        .find(|page| page["url"].as_str().is_some_and(|url| url.contains("kql") && url.contains("msiexec")))
        .expect("the msiexec KQL demo rule is indexed");
    assert!(strings(&kql_rule["filters"]["technique"]).iter().any(|id| id.starts_with("T1218")), "{kql_rule}");
    assert!(!strings(&kql_rule["filters"]["event"]).is_empty(), "{kql_rule}");
    let content = kql_rule["content"].as_str().unwrap();
    assert!(content.contains("Indicators: ") && content.contains("Events: "), "{content}");

    // Field, event, provider and technique pages are indexed; indicator pages are not.
    let kinds: BTreeSet<String> = pages.values().flat_map(|page| strings(&page["filters"]["kind"])).collect();
    assert_eq!(kinds, ["event", "field", "provider", "rule", "technique"].map(str::to_owned).into());
    assert!(pages.keys().all(|url| !url.starts_with("indicators/")), "indicator pages are not indexed");
    for url in pages.keys() {
        assert!(site.join(url).is_file(), "{url} is indexed but has no page");
    }

    // The search page: the DOM contract of the browser tests.
    let search = std::fs::read_to_string(site.join("search.html")).unwrap();
    for needle in [
        "<p id=\"search-count\"",
        "<ol id=\"search-results\">",
        "<p id=\"search-offline\" hidden>",
        "<script src=\"assets/search.js\" defer></script>",
        "data-facet=\"language\" value=\"KQL\"",
        "data-facet=\"diagnostics\"",
        "data-facet=\"source\"",
        "data-facet=\"tactic\"",
        "data-facet=\"technique\"",
        "data-facet=\"event\"",
    ] {
        assert!(search.contains(needle), "search.html lacks {needle}");
    }
    assert!(site.join("assets/search.js").is_file() && site.join("assets/sortable.js").is_file());
}

#[test]
fn no_search_skips_the_index() {
    let temp = tempfile::tempdir().unwrap();
    let (site, summary) = build_demo(temp.path(), &["--no-search"]);
    assert!(summary.contains("search index: skipped"), "{summary}");
    assert!(!site.join("pagefind").exists());
    assert!(site.join("search.html").is_file(), "the search box still has a page to go to");
}

/// The attribute names of every tag of `html` (tags only: rule text is escaped, so every `<`
/// that opens a tag is markup the site wrote).
fn tags(html: &str) -> Vec<(String, Vec<String>)> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with('!') || rest.starts_with('/') {
            continue;
        }
        let bytes = rest.as_bytes();
        let mut position = 0;
        while position < bytes.len() && !bytes[position].is_ascii_whitespace() && !b">/".contains(&bytes[position]) {
            position += 1;
        }
        let name = rest[..position].to_ascii_lowercase();
        let mut attributes = Vec::new();
        loop {
            while position < bytes.len() && (bytes[position].is_ascii_whitespace() || bytes[position] == b'/') {
                position += 1;
            }
            if position >= bytes.len() || bytes[position] == b'>' {
                break;
            }
            let name_start = position;
            while position < bytes.len() && !b" \t\n\r=>".contains(&bytes[position]) {
                position += 1;
            }
            attributes.push(rest[name_start..position].to_ascii_lowercase());
            if position < bytes.len() && bytes[position] == b'=' {
                position += 1;
                match bytes.get(position) {
                    Some(quote @ (b'"' | b'\'')) => {
                        let end =
                            rest[position + 1..].find(*quote as char).map_or(bytes.len(), |end| position + 1 + end);
                        position = end + 1;
                    }
                    _ => {
                        while position < bytes.len()
                            && !bytes[position].is_ascii_whitespace()
                            && bytes[position] != b'>'
                        {
                            position += 1;
                        }
                    }
                }
            }
        }
        rest = &rest[position.min(rest.len())..];
        tags.push((name, attributes));
    }
    tags
}

#[test]
fn the_attribute_scanner_sees_handlers_and_inline_scripts() {
    let found = tags("<p title=\"a onclick=b\">x &lt;script&gt;</p><img src=x onerror=alert(1)><script>y</script>");
    assert_eq!(found[0], ("p".to_owned(), vec!["title".to_owned()]));
    assert_eq!(found[1], ("img".to_owned(), vec!["src".to_owned(), "onerror".to_owned()]));
    assert_eq!(found[2], ("script".to_owned(), Vec::<String>::new()));
}

/// Problems of one page: inline scripts, inline event handlers, inline styles, `javascript:`
/// URLs, a missing Content-Security-Policy.
fn page_problems(html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lower = html.to_ascii_lowercase();
    for (start, _) in lower.match_indices("<script") {
        let tag_end = lower[start..].find('>').map_or(lower.len(), |end| start + end + 1);
        if !lower[start..tag_end].contains(" src=") || !lower[tag_end..].starts_with("</script>") {
            problems.push(format!("inline script at byte {start}"));
        }
    }
    for (tag, attributes) in tags(html) {
        for attribute in attributes {
            if attribute.starts_with("on") || attribute == "style" {
                problems.push(format!("<{tag} {attribute}=>"));
            }
        }
    }
    if lower.contains("javascript:") && (lower.contains("href=\"javascript:") || lower.contains("src=\"javascript:")) {
        problems.push("javascript: URL".to_owned());
    }
    let policy = "<meta http-equiv=\"content-security-policy\" content=\"";
    if !lower.contains(policy) {
        problems.push("no Content-Security-Policy".to_owned());
    }
    problems
}

#[test]
fn no_page_has_an_inline_script_or_handler_and_every_page_has_the_policy() {
    let temp = tempfile::tempdir().unwrap();
    let (site, _) = build_demo(temp.path(), &[]);
    let mut pages = 0;
    for file in files_under(&site) {
        if is_search_chunk(&file, &site) || file.extension().is_none_or(|extension| extension != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&file).unwrap();
        pages += 1;
        let problems = page_problems(&html);
        assert!(problems.is_empty(), "{}: {problems:?}", file.display());
        // Every page has the search box of the DOM contract, pointing at the root's search page.
        assert!(html.contains("<form role=\"search\" action=\""), "{}", file.display());
        assert!(html.contains("<input type=\"search\" name=\"q\" id=\"site-search\""), "{}", file.display());
        // The 404 page is served at any depth, so it links from the base URL (`/` by default).
        let root = if file.ends_with("404.html") {
            "/".to_owned()
        } else {
            "../".repeat(file.strip_prefix(&site).unwrap().components().count() - 1)
        };
        assert!(html.contains(&format!("action=\"{root}search.html\"")), "{}", file.display());
    }
    assert!(pages > 50, "only {pages} pages");
    // The scanner is not blind: the problems it looks for are found.
    assert_eq!(page_problems("<script>x</script>").len(), 2);
    assert_eq!(page_problems("<a onclick=\"x\">").len(), 2);
}

#[test]
fn serve_sends_the_content_security_policy() {
    let temp = tempfile::tempdir().unwrap();
    let (site, _) = build_demo(temp.path(), &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_detwiki"))
        .args(["serve", "--dir", site.to_str().unwrap(), "--port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("detwiki serve starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let get = |path: &str| -> String {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        response.split("\r\n\r\n").next().unwrap_or_default().to_ascii_lowercase()
    };
    let search = get("/search.html");
    let script = get("/pagefind/pagefind.js");
    let _ = child.kill();
    let _ = child.wait();
    assert!(search.starts_with("http/1.1 200"), "{search}");
    let policy = search
        .lines()
        .find_map(|header| header.strip_prefix("content-security-policy: "))
        .unwrap_or_else(|| panic!("no policy header: {search}"));
    assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(search.contains("x-content-type-options: nosniff"), "{search}");
    assert!(script.starts_with("http/1.1 200") && script.contains("javascript"), "{script}");
    assert!(script.contains("content-security-policy: "), "{script}");
}
