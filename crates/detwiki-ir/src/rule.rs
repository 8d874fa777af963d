//! A rule as read from its repository: provenance, metadata, the file text and its queries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Diagnostic, SourceMap, Span};

/// The five rule families the catalog counts by. A family may hold several query languages
/// (Elastic rules are written in EQL, kuery, Lucene or ES|QL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Kusto,
    Sigma,
    Splunk,
    Elastic,
    Yaral,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Kusto, Family::Sigma, Family::Splunk, Family::Elastic, Family::Yaral];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Kusto => "kusto",
            Family::Sigma => "sigma",
            Family::Splunk => "splunk",
            Family::Elastic => "elastic",
            Family::Yaral => "yaral",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Family::Kusto => "Kusto (KQL)",
            Family::Sigma => "Sigma",
            Family::Splunk => "Splunk SPL",
            Family::Elastic => "Elastic",
            Family::Yaral => "YARA-L",
        }
    }
}

/// The query language of one query. `None` is for rules without a query (Elastic
/// machine-learning rules), which are rules all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Kql,
    Sigma,
    Spl,
    Eql,
    Kuery,
    Lucene,
    Esql,
    Yaral,
    None,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Kql => "kql",
            Language::Sigma => "sigma",
            Language::Spl => "spl",
            Language::Eql => "eql",
            Language::Kuery => "kuery",
            Language::Lucene => "lucene",
            Language::Esql => "esql",
            Language::Yaral => "yaral",
            Language::None => "none",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Language::Kql => "KQL",
            Language::Sigma => "Sigma",
            Language::Spl => "SPL",
            Language::Eql => "EQL",
            Language::Kuery => "Kibana KQL",
            Language::Lucene => "Lucene",
            Language::Esql => "ES|QL",
            Language::Yaral => "YARA-L",
            Language::None => "no query",
        }
    }

    pub fn family(self) -> Option<Family> {
        match self {
            Language::Kql => Some(Family::Kusto),
            Language::Sigma => Some(Family::Sigma),
            Language::Spl => Some(Family::Splunk),
            Language::Eql | Language::Kuery | Language::Lucene | Language::Esql => Some(Family::Elastic),
            Language::Yaral => Some(Family::Yaral),
            Language::None => None,
        }
    }

    /// Parses the short name (`kql`, `eql`, ...), as used on the command line.
    pub fn from_name(name: &str) -> Option<Language> {
        Some(match name.to_ascii_lowercase().as_str() {
            "kql" | "kusto" => Language::Kql,
            "sigma" => Language::Sigma,
            "spl" | "splunk" => Language::Spl,
            "eql" => Language::Eql,
            "kuery" => Language::Kuery,
            "lucene" => Language::Lucene,
            "esql" | "es|ql" => Language::Esql,
            "yaral" | "yara-l" => Language::Yaral,
            _ => return None,
        })
    }
}

/// The true format of the file a rule was read from: what the rule body is labelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    SentinelYaml,
    Markdown,
    Kql,
    SigmaYaml,
    ElasticToml,
    /// A bare Elastic query file (`.eql`, `.esql`, `.kuery`, `.lucene`) or a query given with
    /// `--lang`, without the rule's TOML around it.
    ElasticQuery,
    SplunkYaml,
    Yaral,
}

impl BodyFormat {
    pub fn display_name(self) -> &'static str {
        match self {
            BodyFormat::SentinelYaml => "Sentinel YAML",
            BodyFormat::Markdown => "Markdown",
            BodyFormat::Kql => "KQL",
            BodyFormat::SigmaYaml => "Sigma YAML",
            BodyFormat::ElasticToml => "Elastic TOML",
            BodyFormat::ElasticQuery => "Elastic query",
            BodyFormat::SplunkYaml => "Splunk YAML",
            BodyFormat::Yaral => "YARA-L",
        }
    }
}

/// Where a rule comes from: enough to cite it and to link to the exact file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Name of the source, e.g. `SigmaHQ/sigma`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Path of the file inside the repository, with `/` separators.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Link to the file at `commit`, when both the URL and the commit are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permalink: Option<String>,
}

/// A row of an author-declared data-source table (FalconFriday's "Utilized Data Sources").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredDataSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Every cell of the row as written, keyed by the column header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cells: BTreeMap<String, String>,
}

/// Metadata as the rule's authors wrote it. Nothing here is resolved (tags stay as written;
/// ATT&CK resolution belongs to the catalog).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The rule's own identifier (Sigma `id`, Sentinel `id`, Elastic `rule_id`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Markdown, untrusted: render and sanitize before showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// ATT&CK and other tags exactly as written (`attack.t1218.007`, `DefenseEvasion`, `T1059`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// How far back the rule looks when it runs (Sentinel `queryPeriod`, Elastic `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<String>,
    /// How often the rule runs (Sentinel `queryFrequency`, Elastic `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<DeclaredDataSource>,
    /// Other fields of the format worth keeping (Sigma `logsource`, Elastic `type`, Sentinel
    /// `entityMappings`, ...), as JSON.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One query of a rule, decoded, with the map back to the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Variant name when a rule has several queries ("Defender XDR", "Sentinel", a hunting query's
    /// name); `None` for the only query of a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub language: Language,
    /// For YAML streams with several documents (Sigma collections): the index of this rule's
    /// document. The query text is then the whole file and the engine merges `action: global`
    /// documents itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<u32>,
    /// The decoded text the parser reads.
    pub text: String,
    /// Where the query sits in the file (the whole encoded value or fence content).
    pub span: Span,
    #[serde(skip)]
    pub source_map: SourceMap,
}

/// A rule read from a repository, before any language analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable, URL-safe identifier unique in a catalog: `<source-slug>/<path-slug>[/<document>]`.
    pub id: String,
    pub family: Family,
    pub format: BodyFormat,
    pub provenance: Provenance,
    pub metadata: Metadata,
    /// The part of the file this rule was read from (a whole file, or one YAML document of a
    /// collection), in file offsets.
    pub body_span: Span,
    pub queries: Vec<Query>,
    /// Problems found while reading the file (not while parsing the query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
    /// Text of the whole file. Shared by the rules of one file.
    #[serde(skip)]
    pub file_text: std::sync::Arc<str>,
}

impl Rule {
    /// The rule's text as shown in its body section.
    pub fn body(&self) -> &str {
        self.body_span.slice(&self.file_text).unwrap_or(&self.file_text)
    }
}

/// Context a source gives to the analyzers of its rules: things defined once per repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceContext {
    /// Splunk macros by name (`name` or `name(2)` for macros with arguments).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macros: BTreeMap<String, MacroDefinition>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroDefinition {
    pub name: String,
    pub arguments: Vec<String>,
    pub definition: String,
    /// Path of the file that defines it, inside the repository.
    pub path: String,
}

/// A file under a source that did not become a rule, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// Path inside the repository, with `/` separators.
    pub path: String,
    pub reason: String,
}

/// A source as read: where it comes from and what became of its files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    /// URL-safe name used in rule ids and page paths.
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Files looked at (rules, skipped files and files read as context such as macros).
    pub files_seen: u64,
    pub rules: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedFile>,
    /// Minimum number of rules this source should yield (from the sources file), if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_rules_at_least: Option<u64>,
}
