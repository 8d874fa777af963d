//! # detwiki-sources
//!
//! ## Overview
//!
//! Reads rule repositories (local folders or git URLs) into raw [`Rule`]s with provenance. Every
//! file under a source is accounted for: it becomes one or more rules, context for the source's
//! rules (Splunk macros and data sources), or a [`SkippedFile`] with the reason. Queries are kept
//! as decoded text plus a [`detwiki_ir::SourceMap`] back to the file, so every range a language
//! engine reports can be shown exactly in the file. Reading never panics on file content: a bad
//! file becomes a skipped entry or a rule with diagnostics.
//!
//! **Invariant:** this crate knows file layouts, not query languages: it never parses a query.
//!
//! ## Source code layout
//!
//! - `lib.rs`: public API ([`load_sources_file`], [`read_source`], [`read_paths`], [`read_text`])
//!   and the per-file pipeline (parallel with rayon, results in path order).
//! - `sources_file.rs`: the `[[source]]` TOML file.
//! - `walk.rs`: files of a folder, symlink loops, size limit, UTF-8 decoding.
//! - `detect.rs`: which reader a file goes to (extension, name, content), and skip reasons.
//! - `yaml.rs`: YAML streams with byte spans; scalars decoded with source maps.
//! - `sigma.rs`, `sentinel.rs`, `splunk.rs`: YAML layouts.
//! - `markdown.rs`: Markdown with fenced KQL, and its metadata (title, ATT&CK table, author...).
//! - `kql_files.rs`: raw KQL files, "looks like KQL", fence tags.
//! - `elastic.rs`: Elastic rule and hunting TOML (TOML strings decoded with source maps).
//! - `yaral.rs`: Chronicle YARA-L files and their `meta:` section.
//! - `provenance.rs`: slugs, rule ids, permalinks, per-file commits of sampled sources.
//! - `git.rs`: HEAD of a checkout, and cloning git sources into the cache (gix).
//!
//! Tests: `tests/corpus.rs` (the ten corpus sources: counts, every file accounted for, every
//! query's source map), `tests/hostile.rs`, `tests/git.rs` (clone over `file://`),
//! `tests/never_panics.rs` (property test). `examples/read_sources.rs` times a sources file.
//!
//! The formats and how each is recognised are documented in `docs/formats.md`.

mod detect;
mod elastic;
mod git;
mod kql_files;
mod markdown;
pub mod provenance;
mod sentinel;
mod sigma;
mod sources_file;
mod splunk;
mod walk;
mod yaml;
mod yaral;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use detwiki_ir::{
    BodyFormat, Diagnostic, Family, Language, MacroDefinition, Metadata, Provenance, Query, Rule, SkippedFile,
    SourceContext, SourceInfo, Span,
};
use rayon::prelude::*;

/// One `[[source]]` entry of a sources file (`detwiki.toml`, `../shared/corpus/MANIFEST.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSpec {
    pub name: Option<String>,
    /// Local folder, made absolute against the sources file's folder.
    pub path: Option<PathBuf>,
    /// Git URL to clone when there is no local path (or to cite when there is).
    pub url: Option<String>,
    /// Branch, tag or commit to check out for a git URL.
    pub revision: Option<String>,
    pub commit: Option<String>,
    pub license: Option<String>,
    /// Layout name when it cannot be recognised from the files (`sigma`, `sentinel`,
    /// `markdown`, `kql`, `elastic`, `splunk`, `yaral`, or `auto`).
    pub layout: Option<String>,
    pub note: Option<String>,
    pub languages: Vec<String>,
    pub expect_rules_at_least: Option<u64>,
}

/// Options for reading sources.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Where git sources are cloned.
    pub cache_dir: PathBuf,
}

/// What one source yielded.
#[derive(Debug, Clone, Default)]
pub struct SourceRead {
    pub info: SourceInfo,
    pub rules: Vec<Rule>,
    pub context: SourceContext,
    /// Data sources a source defines (Splunk `data_sources/`), by name. Kept here rather than in
    /// [`SourceContext`] so that type stays as the analyzers know it.
    pub data_sources: BTreeMap<String, DataSourceDefinition>,
}

/// A problem that stops a whole source from being read (per-file problems are skipped files).
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("{path}: {message}")]
    SourcesFile { path: String, message: String },
    #[error("source {name}: {message}")]
    Source { name: String, message: String },
}

/// Reads a sources file (TOML, `[[source]]` entries). Relative paths are resolved against the
/// file's folder; unknown keys are an error naming the key and its line.
pub fn load_sources_file(path: &Path) -> Result<Vec<SourceSpec>, SourcesError> {
    sources_file::load(path)
}

/// The display name of a source: its `name`, else the URL's last two path segments, else the
/// folder name.
pub fn source_name(spec: &SourceSpec) -> String {
    if let Some(name) = &spec.name {
        return name.clone();
    }
    if let Some(url) = &spec.url {
        let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
        let parts: Vec<&str> = trimmed.rsplit('/').take(2).collect();
        if parts.len() == 2 {
            return format!("{}/{}", parts[1], parts[0]);
        }
        return trimmed.to_owned();
    }
    spec.path
        .as_ref()
        .and_then(|path| path.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "source".to_owned())
}

/// Reads one source. `progress` is called with each file's repository path as it is read.
pub fn read_source(
    spec: &SourceSpec,
    options: &ReadOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<SourceRead, SourcesError> {
    let name = source_name(spec);
    let source_error = |message: String| SourcesError::Source { name: name.clone(), message };
    let slug = provenance::source_slug(&name);

    let mut url = spec.url.clone();
    let mut commit = spec.commit.clone();
    let root = match &spec.path {
        Some(path) => {
            if !path.is_dir() {
                return Err(source_error(format!("`{}` is not a folder", path.display())));
            }
            if let Err(error) = std::fs::read_dir(path) {
                return Err(source_error(format!("cannot read `{}`: {error}", path.display())));
            }
            if let Some(checkout) = git::checkout_info(path) {
                if commit.is_none() {
                    commit = Some(checkout.commit);
                }
                if url.is_none() {
                    url = checkout.remote_url;
                }
            }
            path.clone()
        }
        None => {
            let Some(git_url) = &spec.url else {
                return Err(source_error("needs a `path` or a `url`".to_owned()));
            };
            let revision = spec.revision.as_deref().or(spec.commit.as_deref());
            let cloned = git::clone_or_update(git_url, revision, &options.cache_dir.join(&slug))
                .map_err(|message| source_error(format!("cannot clone {git_url}: {message}")))?;
            commit = Some(cloned.commit);
            cloned.worktree
        }
    };

    let settings = SourceSettings {
        name: name.clone(),
        slug: slug.clone(),
        url: url.clone(),
        commit: commit.clone(),
        license: spec.license.clone(),
        layout: spec.layout.clone(),
        languages: spec.languages.iter().filter_map(|name| Language::from_name(name)).collect(),
        per_file_commits: read_sample_commits(&root),
    };
    let walked = walk::walk(&root);
    let mut read = read_walked(&settings, walked, progress);
    read.info.note = spec.note.clone();
    read.info.expect_rules_at_least = spec.expect_rules_at_least;
    Ok(read)
}

/// Reads files and folders given on the command line, detecting each file's format. Folders are
/// walked like a source; paths in rule ids and provenance are the paths as given.
pub fn read_paths(paths: &[PathBuf]) -> SourceRead {
    read_paths_as(paths, &[])
}

/// [`read_paths`] for a source of the given languages (`--lang spl` reads Markdown fences as SPL,
/// as `languages = ["spl"]` does in a sources file).
pub fn read_paths_as(paths: &[PathBuf], languages: &[Language]) -> SourceRead {
    let settings = SourceSettings {
        name: "command line".to_owned(),
        slug: "local".to_owned(),
        url: None,
        commit: None,
        license: None,
        layout: None,
        languages: languages.to_vec(),
        per_file_commits: BTreeMap::new(),
    };
    let mut walked = Vec::new();
    for path in paths {
        let shown = shown_path(path);
        if path.is_dir() {
            for entry in walk::walk(path) {
                walked.push(match entry {
                    walk::Walked::File { repo_path, full_path } => {
                        walk::Walked::File { repo_path: join_shown(&shown, &repo_path), full_path }
                    }
                    walk::Walked::Problem { repo_path, reason } => {
                        walk::Walked::Problem { repo_path: join_shown(&shown, &repo_path), reason }
                    }
                });
            }
        } else if path.exists() {
            walked.push(walk::Walked::File { repo_path: shown, full_path: path.clone() });
        } else {
            walked.push(walk::Walked::Problem { repo_path: shown, reason: "no such file or folder".to_owned() });
        }
    }
    read_walked(&settings, walked, &|_| {})
}

/// A command-line path as it appears in provenance and ids: `/` separators, without `.`
/// components or a leading `/`.
fn shown_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|component| match component {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect();
    if parts.is_empty() { ".".to_owned() } else { parts.join("/") }
}

fn join_shown(folder: &str, relative: &str) -> String {
    if folder.is_empty() || folder == "." {
        relative.to_owned()
    } else {
        format!("{}/{relative}", folder.trim_end_matches('/'))
    }
}

/// Reads one text (standard input), as `language` when given, else detected from its content
/// (and from the extension of `name`, when it has one).
pub fn read_text(name: &str, text: &str, language: Option<Language>) -> SourceRead {
    let settings = SourceSettings {
        name: "standard input".to_owned(),
        slug: "stdin".to_owned(),
        url: None,
        commit: None,
        license: None,
        layout: None,
        languages: language.into_iter().collect(),
        per_file_commits: BTreeMap::new(),
    };
    // `-` (or nothing) names standard input itself.
    let name = if name.is_empty() || name == "-" { "stdin" } else { name };
    let input = settings.input(name, text.to_owned(), false);
    let outcome = detect::read_with_language(&input, language);
    let mut builder = ReadBuilder::new(&settings);
    builder.add(name, outcome);
    builder.finish()
}

/// What a source's files are read with.
#[derive(Debug, Clone)]
pub(crate) struct SourceSettings {
    name: String,
    slug: String,
    url: Option<String>,
    commit: Option<String>,
    license: Option<String>,
    layout: Option<String>,
    /// The source's declared `languages`: Markdown fences are read as these languages.
    languages: Vec<Language>,
    /// Commits of single files in a sampled source (`SAMPLE.md`), overriding `commit`.
    per_file_commits: BTreeMap<String, String>,
}

impl SourceSettings {
    fn input(&self, repo_path: &str, text: String, lossy: bool) -> FileInput {
        let commit = self.per_file_commits.get(repo_path).cloned().or_else(|| self.commit.clone());
        let permalink = match (&self.url, &commit) {
            (Some(url), Some(commit)) => provenance::permalink(url, commit, repo_path),
            _ => None,
        };
        let mut diagnostics = Vec::new();
        if lossy {
            diagnostics.push(Diagnostic::warning(
                "invalid-utf8",
                "file is not valid UTF-8: invalid bytes were replaced with U+FFFD",
                Span::empty(0),
            ));
        }
        FileInput {
            repo_path: repo_path.to_owned(),
            text: Arc::from(text),
            provenance: Provenance {
                source: self.name.clone(),
                repository_url: self.url.clone(),
                commit,
                path: repo_path.to_owned(),
                license: self.license.clone(),
                permalink,
            },
            id_prefix: self.slug.clone(),
            layout: self.layout.clone(),
            languages: self.languages.clone(),
            diagnostics,
        }
    }
}

fn read_sample_commits(root: &Path) -> BTreeMap<String, String> {
    match std::fs::read_to_string(root.join("SAMPLE.md")) {
        Ok(text) => provenance::sample_commits(&text),
        Err(_) => BTreeMap::new(),
    }
}

/// One file, ready for a reader.
#[derive(Debug, Clone)]
pub(crate) struct FileInput {
    pub repo_path: String,
    pub text: Arc<str>,
    pub provenance: Provenance,
    /// Source slug, the first part of rule ids.
    pub id_prefix: String,
    pub layout: Option<String>,
    /// The source's declared languages (`languages = ["spl"]` reads Markdown fences as SPL).
    pub languages: Vec<Language>,
    /// Problems with the file itself (invalid UTF-8), added to each of its rules.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileInput {
    /// A rule of this file. Its id is `<source slug>/<path slug>`; readers append
    /// `/<document>` for collection documents, and duplicates are renamed once all are read.
    pub(crate) fn rule(
        &self,
        format: BodyFormat,
        metadata: Metadata,
        body_span: Span,
        queries: Vec<Query>,
        diagnostics: Vec<Diagnostic>,
    ) -> Rule {
        let family = match format {
            BodyFormat::SentinelYaml | BodyFormat::Markdown | BodyFormat::Kql => Family::Kusto,
            BodyFormat::SigmaYaml => Family::Sigma,
            BodyFormat::ElasticToml | BodyFormat::ElasticQuery => Family::Elastic,
            BodyFormat::SplunkYaml => Family::Splunk,
            BodyFormat::Yaral => Family::Yaral,
        };
        let mut all_diagnostics = self.diagnostics.clone();
        all_diagnostics.extend(diagnostics);
        Rule {
            id: format!("{}/{}", self.id_prefix, provenance::path_slug(&self.repo_path)),
            family,
            format,
            provenance: self.provenance.clone(),
            metadata,
            body_span,
            queries,
            diagnostics: all_diagnostics,
            file_text: self.text.clone(),
        }
    }
}

/// A Splunk data source definition (`data_sources/*.yml`): which `source`/`sourcetype` a
/// detection's `data_source` name stands for, and the fields it carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataSourceDefinition {
    pub name: String,
    /// Path of the defining file inside the repository.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourcetype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// What became of one file.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Rules(Vec<Rule>),
    Skipped(String),
    Macro(MacroDefinition),
    DataSource(DataSourceDefinition),
}

impl Outcome {
    pub(crate) fn skipped(reason: impl Into<String>) -> Self {
        Outcome::Skipped(reason.into())
    }
}

/// A title made from a file name, for formats without one ("detect-bluekeep.txt" ->
/// "detect-bluekeep").
pub(crate) fn title_from_file_name(repo_path: &str) -> String {
    let file = repo_path.rsplit('/').next().unwrap_or(repo_path);
    match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => file.to_owned(),
    }
}

fn read_walked(settings: &SourceSettings, walked: Vec<walk::Walked>, progress: &(dyn Fn(&str) + Sync)) -> SourceRead {
    let outcomes: Vec<(String, Outcome)> = walked
        .into_par_iter()
        .map(|entry| {
            progress(entry.repo_path());
            match entry {
                walk::Walked::Problem { repo_path, reason } => (repo_path, Outcome::Skipped(reason)),
                walk::Walked::File { repo_path, full_path } => {
                    let outcome = match walk::read_text_file(&full_path) {
                        Err(reason) => Outcome::Skipped(reason),
                        Ok((text, lossy)) => {
                            let input = settings.input(&repo_path, text, lossy);
                            let mut outcome = detect::read_file(&input);
                            if lossy && let Outcome::Skipped(reason) = &mut outcome {
                                reason.push_str(" (file is not valid UTF-8)");
                            }
                            outcome
                        }
                    };
                    (repo_path, outcome)
                }
            }
        })
        .collect();
    let mut builder = ReadBuilder::new(settings);
    for (repo_path, outcome) in outcomes {
        builder.add(&repo_path, outcome);
    }
    builder.finish()
}

struct ReadBuilder {
    read: SourceRead,
}

impl ReadBuilder {
    fn new(settings: &SourceSettings) -> Self {
        let info = SourceInfo {
            name: settings.name.clone(),
            slug: settings.slug.clone(),
            repository_url: settings.url.clone(),
            commit: settings.commit.clone(),
            license: settings.license.clone(),
            ..SourceInfo::default()
        };
        Self { read: SourceRead { info, ..SourceRead::default() } }
    }

    fn add(&mut self, repo_path: &str, outcome: Outcome) {
        self.read.info.files_seen += 1;
        match outcome {
            Outcome::Rules(rules) => self.read.rules.extend(rules),
            Outcome::Skipped(reason) => {
                self.read.info.skipped.push(SkippedFile { path: repo_path.to_owned(), reason });
            }
            Outcome::Macro(definition) => {
                let key = if definition.arguments.is_empty() || definition.name.contains('(') {
                    definition.name.clone()
                } else {
                    format!("{}({})", definition.name, definition.arguments.len())
                };
                self.read.context.macros.insert(key, definition);
            }
            Outcome::DataSource(definition) => {
                self.read.data_sources.insert(definition.name.clone(), definition);
            }
        }
    }

    fn finish(mut self) -> SourceRead {
        let rules = &mut self.read.rules;
        rules.sort_by(|a, b| a.provenance.path.cmp(&b.provenance.path).then(a.body_span.start.cmp(&b.body_span.start)));
        // Deterministic de-duplication of ids: later rules in path order get `-2`, `-3`, ...
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let taken: std::collections::BTreeSet<String> = rules.iter().map(|rule| rule.id.clone()).collect();
        for rule in rules.iter_mut() {
            let count = seen.entry(rule.id.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                let mut suffix = *count;
                let mut candidate = format!("{}-{suffix}", rule.id);
                while taken.contains(&candidate) {
                    suffix += 1;
                    candidate = format!("{}-{suffix}", rule.id);
                }
                *count = suffix;
                rule.id = candidate;
            }
        }
        self.read.info.rules = rules.len() as u64;
        self.read.info.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_paths_are_normalised() {
        assert_eq!(shown_path(Path::new("./rules/x.yml")), "rules/x.yml");
        assert_eq!(shown_path(Path::new("/tmp/a b/x.kql")), "tmp/a b/x.kql");
        assert_eq!(shown_path(Path::new(".")), ".");
    }

    #[test]
    fn standard_input_by_language_and_content() {
        let read = read_text("-", "DeviceEvents\n| take 1\n", None);
        assert_eq!(read.rules.len(), 1);
        assert_eq!(read.rules[0].queries[0].language, Language::Kql);
        assert_eq!(read.rules[0].id, "stdin/stdin");
        let read = read_text("-", "| tstats count from datamodel=Endpoint.Processes\n", Some(Language::Spl));
        assert_eq!(read.rules[0].queries[0].language, Language::Spl);
        let read =
            read_text("-", "title: t\nlogsource: {product: windows}\ndetection:\n  a: {x: 1}\n  condition: a\n", None);
        assert_eq!(read.rules[0].format, BodyFormat::SigmaYaml);
        let read = read_text("rule.yaral", "rule r {\n meta:\n  author = \"a\"\n condition:\n  $e\n}\n", None);
        assert_eq!(read.rules[0].metadata.authors, vec!["a"]);
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub(crate) fn input(repo_path: &str, text: &str) -> FileInput {
        let settings = SourceSettings {
            name: "test".to_owned(),
            slug: "test".to_owned(),
            url: Some("https://github.com/o/r".to_owned()),
            commit: Some("abc".to_owned()),
            license: Some("MIT".to_owned()),
            layout: None,
            languages: Vec::new(),
            per_file_commits: BTreeMap::new(),
        };
        settings.input(repo_path, text.to_owned(), false)
    }
}
