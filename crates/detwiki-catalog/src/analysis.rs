//! Dispatch from a rule's queries to the language engines.
//!
//! Each engine receives decoded query text and answers with spans into that text; this module maps
//! them back to file offsets so that every slice shown later comes from the file itself.

use detwiki_ir::{Analysis, Diagnostic, Family, Language, Query, Rule, SourceContext, Span};
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
/// Elastic queries go through `detwiki_elastic` with the rule's context (index patterns, rule
/// type, filters); YARA-L through `detwiki_yaral`; SPL through `detwiki_spl` with the source's
/// macros. `context` carries what the source defines once
/// (Splunk macros) for the engines that need it.
pub fn analyze_rule(rule: &Rule, context: &SourceContext) -> Vec<QueryAnalysis> {
    let mut analyses = Vec::new();
    let mut elastic_context = None;
    for (index, query) in rule.queries.iter().enumerate() {
        match query.language {
            Language::Kql => {
                for mut analysis in detwiki_kql::analyze_with_schema(&query.text, crate::kql_schema::bundled()) {
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
            Language::Yaral => {
                for mut analysis in detwiki_yaral::analyze(&query.text) {
                    analysis.map_spans(&query.source_map);
                    analyses.push(QueryAnalysis { query: index, name: query.name.clone(), analysis });
                }
            }
            Language::Eql | Language::Kuery | Language::Lucene | Language::Esql | Language::None
                if rule.family == Family::Elastic =>
            {
                if let Some(analysis) = analyze_elastic(rule, query, &mut elastic_context) {
                    analyses.push(QueryAnalysis { query: index, name: query.name.clone(), analysis });
                }
            }
            Language::Eql | Language::Kuery | Language::Lucene | Language::Esql | Language::None => {}
        }
    }
    // Machine-learning rules have no query: their job ids are the rule's one stage.
    if rule.family == Family::Elastic
        && rule.queries.is_empty()
        && let Some(analysis) = detwiki_elastic::analyze_without_query(&elastic_rule_context(rule))
    {
        analyses.push(QueryAnalysis { query: 0, name: None, analysis });
    }
    analyses
}

/// The rule-level context of an Elastic rule, read once per rule.
fn elastic_rule_context(rule: &Rule) -> detwiki_elastic::RuleContext {
    detwiki_elastic::RuleContext::from_metadata(&rule.metadata.extra)
}

/// One query of an Elastic rule. Hunting osquery SQL (`Language::None`) is not analysed: an info
/// note says so, which is not a failure.
fn analyze_elastic(rule: &Rule, query: &Query, context: &mut Option<detwiki_elastic::RuleContext>) -> Option<Analysis> {
    if query.language == Language::None {
        let span = query.source_map.span_to_file(Span::from_usize(0, query.text.trim_end().len()));
        let note = Diagnostic::info("elastic-osquery-not-analysed", "not analysed (osquery SQL)", span);
        return Some(Analysis { language: Some(Language::None), span, diagnostics: vec![note], ..Analysis::default() });
    }
    let context = context.get_or_insert_with(|| elastic_rule_context(rule));
    let role = if query.name.as_deref() == Some(detwiki_elastic::THREAT_QUERY_NAME) {
        detwiki_elastic::QueryRole::ThreatIndicators
    } else {
        detwiki_elastic::QueryRole::Main
    };
    let elastic = detwiki_elastic::ElasticQuery { language: query.language, text: &query.text, role, context };
    let mut analysis = detwiki_elastic::analyze(&elastic)?;
    analysis.map_spans(&query.source_map);
    Some(analysis)
}
