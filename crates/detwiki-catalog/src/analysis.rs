//! Dispatch from a rule's queries to the language engines.
//!
//! Each engine receives decoded query text and answers with spans into that text; this module maps
//! them back to file offsets so that every slice shown later comes from the file itself.

use detwiki_ir::{Analysis, Language, Rule, SourceContext};
use serde::{Deserialize, Serialize};

/// The analysis of one query of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryAnalysis {
    /// Index of the query in [`Rule::queries`].
    pub query: usize,
    /// The query's variant name ("Defender XDR", a hunting query's name), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the engine understood, with every span a byte range into the rule's file.
    pub analysis: Analysis,
}

/// Runs the language engine of every query of `rule`.
///
/// Languages without an engine yet (EQL, kuery, Lucene, ES|QL, YARA-L, no query) give no
/// analysis: their pages still show the rule. `context` carries what the source defines once
/// (Splunk macros) for the engines that need it.
pub fn analyze_rule(rule: &Rule, context: &SourceContext) -> Vec<QueryAnalysis> {
    let mut analyses = Vec::new();
    for (index, query) in rule.queries.iter().enumerate() {
        match query.language {
            Language::Kql => {
                for mut analysis in detwiki_kql::analyze(&query.text) {
                    analysis.map_spans(&query.source_map);
                    analyses.push(QueryAnalysis { query: index, name: query.name.clone(), analysis });
                }
            }
            Language::Sigma => {
                // A Sigma query is the whole file and the engine picks its document: the spans it
                // returns are already file offsets.
                let document = query.document.unwrap_or(0) as usize;
                let analysis = detwiki_sigma::analyze(&query.text, document);
                analyses.push(QueryAnalysis { query: index, name: query.name.clone(), analysis });
            }
            Language::Spl => {
                // Macros come from the source's `macros/*.yml`; the engine's spans point into
                // the decoded query (a macro body's nodes carry the call's span).
                let mut analysis = detwiki_spl::analyze(&query.text, &context.macros);
                analysis.map_spans(&query.source_map);
                analyses.push(QueryAnalysis { query: index, name: query.name.clone(), analysis });
            }
            Language::Eql | Language::Kuery | Language::Lucene | Language::Esql | Language::Yaral | Language::None => {}
        }
    }
    analyses
}
