//! # detwiki-sources
//!
//! ## Overview
//!
//! Reads rule repositories (local folders or git URLs) into raw [`Rule`]s with provenance. Being
//! written; the public API below is the contract the command line calls.

use std::path::{Path, PathBuf};

use detwiki_ir::{Language, Rule, SourceContext, SourceInfo};

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
    /// Layout name when it cannot be recognised from the files.
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
}

/// A problem that stops a whole source from being read (per-file problems are skipped files).
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("{path}: {message}")]
    SourcesFile { path: String, message: String },
    #[error("source {name}: {message}")]
    Source { name: String, message: String },
}

/// Reads a sources file (TOML, `[[source]]` entries).
pub fn load_sources_file(path: &Path) -> Result<Vec<SourceSpec>, SourcesError> {
    Err(SourcesError::SourcesFile { path: path.display().to_string(), message: "not written yet".to_owned() })
}

/// Reads one source. `progress` is called with each file's repository path as it is read.
pub fn read_source(
    spec: &SourceSpec,
    options: &ReadOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<SourceRead, SourcesError> {
    let _ = (options, progress);
    Err(SourcesError::Source { name: spec.name.clone().unwrap_or_default(), message: "not written yet".to_owned() })
}

/// Reads files and folders given on the command line, detecting each file's format.
pub fn read_paths(paths: &[PathBuf]) -> SourceRead {
    let _ = paths;
    SourceRead::default()
}

/// Reads one text (standard input), as `language` when given, else detected from its content.
pub fn read_text(name: &str, text: &str, language: Option<Language>) -> SourceRead {
    let _ = (name, text, language);
    SourceRead::default()
}
