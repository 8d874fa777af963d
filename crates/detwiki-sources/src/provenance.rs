//! Provenance: slugs, rule ids, permalinks, and per-file commits of sampled sources.

use std::collections::BTreeMap;

/// URL-safe name of a source: lower-case, runs of other characters than `[a-z0-9]` become `-`.
pub fn source_slug(name: &str) -> String {
    let slug = slugify(name, false);
    if slug.is_empty() { "source".to_owned() } else { slug }
}

/// Rule id part for a path inside a repository: the path without its extension, lower-cased,
/// runs of characters outside `[a-z0-9/]` replaced by `-`, each segment trimmed of `-`.
pub fn path_slug(path: &str) -> String {
    let without_extension = match path.rsplit_once('/') {
        Some((folder, file)) => match file.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => format!("{folder}/{stem}"),
            _ => path.to_owned(),
        },
        None => match path.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
            _ => path.to_owned(),
        },
    };
    let slug = slugify(&without_extension, true);
    let segments: Vec<String> = slug
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let trimmed = segment.trim_matches('-');
            if trimmed.is_empty() { "file".to_owned() } else { trimmed.to_owned() }
        })
        .collect();
    if segments.is_empty() { "file".to_owned() } else { segments.join("/") }
}

fn slugify(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for character in text.chars().flat_map(char::to_lowercase) {
        if character.is_ascii_lowercase() || character.is_ascii_digit() || (keep_slash && character == '/') {
            out.push(character);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    if keep_slash { out } else { out.trim_matches('-').to_owned() }
}

/// Percent-encodes a repository path for a URL, keeping `/` between segments.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Link to `path` at `commit` for GitHub and GitLab style URLs; `None` for other hosts, where
/// the layout of file links is unknown.
pub fn permalink(url: &str, commit: &str, path: &str) -> Option<String> {
    let base = url.trim_end_matches('/').trim_end_matches(".git");
    let lower = base.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let encoded = percent_encode_path(path);
    if lower.contains("github.com/") {
        Some(format!("{base}/blob/{commit}/{encoded}"))
    } else if lower.contains("gitlab.") {
        Some(format!("{base}/-/blob/{commit}/{encoded}"))
    } else {
        None
    }
}

/// Per-file commits of a sampled source: rows `| `path` | commit |` of its `SAMPLE.md`.
pub fn sample_commits(markdown: &str) -> BTreeMap<String, String> {
    let mut commits = BTreeMap::new();
    for line in markdown.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 2 {
            continue;
        }
        let (Some(path), Some(commit)) = (cells.first(), cells.get(1)) else { continue };
        let path = path.trim_matches('`');
        let commit = commit.trim_matches('`');
        if !path.is_empty() && commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
            commits.insert(path.to_owned(), commit.to_owned());
        }
    }
    commits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(source_slug("SigmaHQ/sigma"), "sigmahq-sigma");
        assert_eq!(
            path_slug("Defender For Endpoint/DetectMsiexecExecutingDllNetworkConnections.md"),
            "defender-for-endpoint/detectmsiexecexecutingdllnetworkconnections"
        );
        assert_eq!(path_slug("rules/_deprecated/a b.c.yaral"), "rules/deprecated/a-b-c");
        assert_eq!(path_slug("noext"), "noext");
        assert_eq!(path_slug("x/.hidden"), "x/hidden");
    }

    #[test]
    fn permalinks() {
        assert_eq!(
            permalink("https://github.com/o/r.git", "abc", "A B/c&d.md").as_deref(),
            Some("https://github.com/o/r/blob/abc/A%20B/c%26d.md")
        );
        assert_eq!(permalink("file:///tmp/x", "abc", "a"), None);
    }

    #[test]
    fn sample_table() {
        let commits = sample_commits(
            "| path | commit |\n|---|---|\n| `a/b c.yaml` | 13c4accbca8b1680f42c99d17b6082bc6881ad60 |\n",
        );
        assert_eq!(commits.get("a/b c.yaml").map(String::as_str), Some("13c4accbca8b1680f42c99d17b6082bc6881ad60"));
    }
}
