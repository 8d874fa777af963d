//! The sources file: a TOML list of `[[source]]` tables (`detwiki.toml`, the corpus
//! `MANIFEST.toml`). Unknown keys are rejected so a typo never silently drops a setting.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{SourceSpec, SourcesError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<SourceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    name: Option<String>,
    path: Option<String>,
    url: Option<String>,
    revision: Option<String>,
    commit: Option<String>,
    license: Option<String>,
    layout: Option<String>,
    note: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    expect_rules_at_least: Option<u64>,
}

/// Layout names a source may declare (see `docs/formats.md`).
pub(crate) const LAYOUTS: &[&str] = &["auto", "sigma", "sentinel", "markdown", "kql", "elastic", "splunk", "yaral"];

pub(crate) fn load(path: &Path) -> Result<Vec<SourceSpec>, SourcesError> {
    let error = |message: String| SourcesError::SourcesFile { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|err| error(format!("cannot read: {err}")))?;
    parse(&text, path.parent().unwrap_or(Path::new("."))).map_err(error)
}

/// Parses the text of a sources file; relative `path`s are resolved against `base`.
pub(crate) fn parse(text: &str, base: &Path) -> Result<Vec<SourceSpec>, String> {
    let file: SourcesFile = toml::from_str(text).map_err(|err| err.to_string().trim_end().to_owned())?;
    let mut specs = Vec::with_capacity(file.source.len());
    for (index, entry) in file.source.into_iter().enumerate() {
        let number = index + 1;
        if entry.path.is_none() && entry.url.is_none() {
            return Err(format!("source #{number}: needs a `path` or a `url`"));
        }
        if let Some(layout) = &entry.layout
            && !LAYOUTS.contains(&layout.as_str())
        {
            return Err(format!("source #{number}: unknown layout `{layout}`, expected one of {}", LAYOUTS.join(", ")));
        }
        for language in &entry.languages {
            if detwiki_ir::Language::from_name(language).is_none() {
                return Err(format!("source #{number}: unknown language `{language}`"));
            }
        }
        let path = entry.path.map(|relative| {
            let relative = PathBuf::from(relative);
            if relative.is_absolute() { relative } else { base.join(relative) }
        });
        specs.push(SourceSpec {
            name: entry.name,
            path,
            url: entry.url,
            revision: entry.revision,
            commit: entry.commit,
            license: entry.license,
            layout: entry.layout,
            note: entry.note,
            languages: entry.languages,
            expect_rules_at_least: entry.expect_rules_at_least,
        });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_and_resolves_paths() {
        let specs = parse(
            "[[source]]\nname = \"a\"\npath = \"sub\"\nlanguages = [\"kql\"]\nexpect_rules_at_least = 3\n\n[[source]]\nurl = \"https://x/y\"\nrevision = \"main\"\n",
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].path.as_deref(), Some(Path::new("/base/sub")));
        assert_eq!(specs[0].expect_rules_at_least, Some(3));
        assert_eq!(specs[1].revision.as_deref(), Some("main"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let error = parse("[[source]]\nname = \"a\"\npath = \"x\"\nlicence = \"MIT\"\n", Path::new("/")).unwrap_err();
        assert!(error.contains("licence"), "{error}");
        assert!(error.contains("line 4"), "{error}");
    }

    #[test]
    fn needs_path_or_url() {
        assert!(parse("[[source]]\nname = \"a\"\n", Path::new("/")).unwrap_err().contains("path"));
    }
}
