//! # detwiki-catalog
//!
//! ## Overview
//!
//! The corpus-wide view of the rules: it runs the language engines over every rule (in parallel)
//! and holds the result, a [`Catalog`], that the site and the exports render. Over the catalog,
//! [`CatalogIndex`] computes what knowledge adds to each analysis (ATT&CK rows, event coverage
//! with fit, canonical indicators, vendor-alert detection) and the corpus indices (how many rules
//! look for each indicator, read each field, need each event, cover each technique);
//! [`RuleView`] is one rule's share of it, as pages, JSON twins and `detwiki show` print it.
//! [`related_rules`] relates every rule to others (equivalent, broader, narrower, same events
//! and technique) through inverted indexes.
//!
//! **Invariant:** the catalog never parses a file nor renders a page: it reads rules produced by
//! `detwiki-sources` and analyses produced by the language crates.
//!
//! ## Source code layout
//!
//! - `analysis.rs`: [`analyze_rule`], dispatch from a query's language to its engine, spans mapped
//!   to file offsets.
//! - `kql_schema.rs`: the KQL table schemas from the bundled knowledge, built once.
//! - `indicators.rs`: canonical indicators (field, kind, value) from literal predicates.
//! - `coverage.rs`: event coverage rows with their reason and fit, for every dataset.
//! - `attack.rs`: the ATT&CK section (tactic rows, revoked/unknown/legacy tags).
//! - `vendor_alerts.rs`: rules that only forward a vendor's alerts.
//! - `links.rs`: Sigma correlation, filter and `related:` references and YARA-L `sigma_uuid`
//!   resolved to the rules they name.
//! - `related.rs`: [`related_rules`], computed relations between rules with their scores.
//! - `corpus.rs`: [`CatalogIndex`], every rule's facts and the corpus indices (indicator counts,
//!   fields, events, techniques), page paths.
//! - `text.rs`: predicate trees and values as one line of text ([`expr_text`]).
//! - `view.rs`: [`RuleView`], the catalog view of one rule that pages, JSON twins and `show` print.
//! - `rule_text.rs`: [`rule_text`], the view as plain text for `show` (stored in the database).
//! - `findings.rs`: [`Finding`], engine diagnostics and catalog checks as one model, for `lint`,
//!   the database and the diagnostics page.
//! - `telemetry.rs`: [`TelemetryProfile`], whether rules can fire with the events a user collects,
//!   and [`attack_coverage`], techniques with the rules covering them.
//! - `lib.rs`: [`Catalog`], [`CatalogRule`], [`SourceEntry`], parallel analysis with panic
//!   isolation, and the counts pages and summaries show.

mod analysis;
mod attack;
mod corpus;
mod coverage;
mod findings;
mod indicators;
mod kql_schema;
mod links;
mod related;
mod rule_text;
mod telemetry;
mod text;
mod vendor_alerts;
mod view;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use detwiki_ir::{Diagnostic, Family, Rule, Severity, SourceContext, SourceInfo, Span};
use rayon::prelude::*;

pub use analysis::{QueryAnalysis, analyze_rule};
pub use attack::{AttackSection, TacticEntry, TagNote, TechniqueEntry, attack_section};
pub use corpus::{
    CatalogIndex, EventKeyRef, IndicatorCount, RuleFacts, event_path, field_path, indicator_path, provider_path,
    rule_facts, slug, stable_hash, technique_path,
};
pub use coverage::{CoverageRow, analysis_coverage, fields_read, merge_variant_rows, role_text};
pub use findings::{
    CATALOG_CHECKS, CheckInfo, Finding, FindingOrigin, FindingSeverity, catalog_findings, check_info, equivalent_rules,
    lookback_seconds,
};
pub use indicators::{IndicatorKey, IndicatorOccurrence, KEYWORD_FIELD, analysis_indicators};
pub use links::{LinkKind, RuleLink, link_converted_rules, link_sigma_related, link_sigma_rules};
pub use related::{
    EQUIVALENT_THRESHOLD, EVENT_SELECTOR_FIELDS, MAX_PER_KIND, RelatedRule, Relation, SPECIFIC_RULES, Score,
    related_rules,
};
pub use rule_text::rule_text;
pub use telemetry::{
    CoverageInput, DatasetFiring, EventNeed, FireLevel, NeedFit, ProfileError, ProfileProvider, RuleFiring,
    TechniqueCoverage, TelemetryProfile, attack_coverage, rule_firing,
};
pub use text::{expr_text, positive_text, predicate_text, value_text, visible_text};
pub use vendor_alerts::vendor_alert_reason;
pub use view::{
    ExclusionView, GroupByView, IndicatorRow, IndicatorSource, LinkView, RelatedView, RuleView, TimeWindows, WindowView,
};

/// A rule with its analyses.
#[derive(Debug, Clone)]
pub struct CatalogRule {
    pub rule: Rule,
    pub analyses: Vec<QueryAnalysis>,
    /// The message of the panic when a language engine panicked on this rule. The rule then
    /// also carries an `engine-panic` error diagnostic.
    pub panic: Option<String>,
    /// Rules this one names: a correlation's rules, a filter's targets (Sigma).
    pub links: Vec<RuleLink>,
}

impl CatalogRule {
    /// Every diagnostic of the rule: problems found reading it, then each analysis's.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.rule.diagnostics.iter().chain(self.analyses.iter().flat_map(|entry| entry.analysis.diagnostics.iter()))
    }

    /// True when the rule has at least one error or warning. Informational notes do not count:
    /// they say what an engine does not do yet, not that the rule has a problem.
    pub fn has_diagnostics(&self) -> bool {
        self.diagnostics().any(|diagnostic| diagnostic.severity != Severity::Info)
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics().any(Diagnostic::is_error)
    }
}

/// One source as read, with what its files defined for the engines.
#[derive(Debug, Clone, Default)]
pub struct SourceEntry {
    pub info: SourceInfo,
    pub context: SourceContext,
}

/// Rules, sources and their counts: what the site renders.
///
/// **Invariant:** `rules` are sorted by id and `sources` keep the order of the sources file, so
/// that the same inputs give the same pages.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub sources: Vec<SourceEntry>,
    pub rules: Vec<CatalogRule>,
}

/// Rules, skipped files and rules with diagnostics of one group (a source or a language).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub rules: u64,
    pub skipped_files: u64,
    pub rules_with_diagnostics: u64,
}

impl Catalog {
    /// Analyses every rule of every source in parallel. `on_rule` is called once per analysed rule
    /// (for a progress bar). A panic inside an engine is caught, recorded on that rule and
    /// counted by [`Catalog::panics`]: it never aborts the build.
    pub fn build(sources: Vec<(SourceEntry, Vec<Rule>)>, on_rule: &(dyn Fn(&CatalogRule) + Sync)) -> Catalog {
        let mut entries = Vec::with_capacity(sources.len());
        let mut work = Vec::new();
        for (source_index, (entry, rules)) in sources.into_iter().enumerate() {
            work.extend(rules.into_iter().map(|rule| (source_index, rule)));
            entries.push(entry);
        }
        let mut rules: Vec<CatalogRule> = work
            .into_par_iter()
            .map(|(source_index, rule)| {
                let context = entries.get(source_index).map(|entry| &entry.context);
                let analysed = analyze_isolated(rule, context.unwrap_or(&EMPTY_CONTEXT), analyze_rule);
                on_rule(&analysed);
                analysed
            })
            .collect();
        rules.sort_by(|left, right| left.rule.id.cmp(&right.rule.id));
        links::link_sigma_rules(&mut rules);
        links::link_converted_rules(&mut rules);
        links::link_sigma_related(&mut rules);
        Catalog { sources: entries, rules }
    }

    /// How many rules made an engine panic.
    pub fn panics(&self) -> u64 {
        self.rules.iter().filter(|rule| rule.panic.is_some()).count() as u64
    }

    /// Counts per source, in the order of the sources file. Rules are attributed by their
    /// provenance's source name.
    pub fn counts_by_source(&self) -> Vec<(&SourceInfo, Counts)> {
        self.sources
            .iter()
            .map(|entry| {
                let mut counts = Counts { skipped_files: entry.info.skipped.len() as u64, ..Counts::default() };
                for rule in self.rules.iter().filter(|rule| rule.rule.provenance.source == entry.info.name) {
                    counts.rules += 1;
                    counts.rules_with_diagnostics += u64::from(rule.has_diagnostics());
                }
                (&entry.info, counts)
            })
            .collect()
    }

    /// Counts per family, for all five families (zeros included).
    ///
    /// A skipped file has no language of its own: it is attributed to the family with the most
    /// rules in its source (the first family in [`Family::ALL`] order on a tie), and not
    /// attributed at all when its source yielded no rule (see [`Catalog::unattributed_skipped`]).
    pub fn counts_by_family(&self) -> BTreeMap<Family, Counts> {
        let mut counts: BTreeMap<Family, Counts> =
            Family::ALL.iter().map(|family| (*family, Counts::default())).collect();
        for rule in &self.rules {
            let entry = counts.entry(rule.rule.family).or_default();
            entry.rules += 1;
            entry.rules_with_diagnostics += u64::from(rule.has_diagnostics());
        }
        for entry in &self.sources {
            if let Some(family) = self.main_family(&entry.info.name) {
                counts.entry(family).or_default().skipped_files += entry.info.skipped.len() as u64;
            }
        }
        counts
    }

    /// Skipped files of sources that yielded no rule, which no family can claim.
    pub fn unattributed_skipped(&self) -> u64 {
        self.sources
            .iter()
            .filter(|entry| self.main_family(&entry.info.name).is_none())
            .map(|entry| entry.info.skipped.len() as u64)
            .sum()
    }

    /// The family with the most rules in source `name`.
    pub fn main_family(&self, name: &str) -> Option<Family> {
        let mut per_family: BTreeMap<Family, u64> = BTreeMap::new();
        for rule in self.rules.iter().filter(|rule| rule.rule.provenance.source == name) {
            *per_family.entry(rule.rule.family).or_default() += 1;
        }
        let best = per_family.values().copied().max()?;
        Family::ALL.into_iter().find(|family| per_family.get(family) == Some(&best))
    }

    pub fn skipped_files(&self) -> u64 {
        self.sources.iter().map(|entry| entry.info.skipped.len() as u64).sum()
    }

    pub fn rules_with_diagnostics(&self) -> u64 {
        self.rules.iter().filter(|rule| rule.has_diagnostics()).count() as u64
    }
}

static EMPTY_CONTEXT: SourceContext = SourceContext { macros: BTreeMap::new() };

/// Analyses one rule; a panic in an engine becomes an `engine-panic` diagnostic on the rule.
fn analyze_isolated(
    mut rule: Rule,
    context: &SourceContext,
    analyze: impl Fn(&Rule, &SourceContext) -> Vec<QueryAnalysis>,
) -> CatalogRule {
    match catch_unwind(AssertUnwindSafe(|| analyze(&rule, context))) {
        Ok(analyses) => CatalogRule { rule, analyses, panic: None, links: Vec::new() },
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_owned());
            rule.diagnostics.push(Diagnostic::error(
                "engine-panic",
                format!("a language engine panicked on this rule: {message}"),
                Span::empty(rule.body_span.start),
            ));
            CatalogRule { rule, analyses: Vec::new(), panic: Some(message), links: Vec::new() }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use detwiki_ir::{BodyFormat, Language, Metadata, Provenance, Query, SourceMap};

    use super::*;

    fn rule(id: &str, language: Language, text: &str) -> Rule {
        let file_text: Arc<str> = Arc::from(format!("# title\n\n```kql\n{text}```\n"));
        let start = 13u32;
        Rule {
            id: id.to_owned(),
            family: language.family().unwrap_or(Family::Kusto),
            format: BodyFormat::Markdown,
            provenance: Provenance { source: "demo".to_owned(), path: "a.md".to_owned(), ..Provenance::default() },
            metadata: Metadata::default(),
            body_span: Span::from_usize(0, file_text.len()),
            queries: vec![Query {
                name: None,
                language,
                document: None,
                text: text.to_owned(),
                span: Span::new(start, start + text.len() as u32),
                source_map: SourceMap::verbatim(start, text.len() as u32),
            }],
            diagnostics: Vec::new(),
            file_text,
        }
    }

    #[test]
    fn kql_spans_are_mapped_to_the_file() {
        let rule = rule("demo/a", Language::Kql, "DeviceProcessEvents\n| where FileName =~ \"x\"\n");
        let analyses = analyze_rule(&rule, &SourceContext::default());
        assert!(!analyses.is_empty());
        for entry in &analyses {
            let span = entry.analysis.span;
            assert!(span.start >= 13, "span {span:?} not mapped");
            assert!(span.slice(&rule.file_text).is_some());
        }
    }

    #[test]
    fn queries_without_a_language_give_no_analysis() {
        let rule = rule("demo/b", Language::None, "index=main | stats count\n");
        assert!(analyze_rule(&rule, &SourceContext::default()).is_empty());
    }

    #[test]
    fn spl_spans_are_mapped_to_the_file() {
        let rule = rule("demo/c", Language::Spl, "index=main EventCode=4688 | stats count by host\n");
        let analyses = analyze_rule(&rule, &SourceContext::default());
        assert_eq!(analyses.len(), 1);
        assert!(analyses[0].analysis.span.slice(&rule.file_text).is_some());
    }

    #[test]
    fn catalog_sorts_and_counts() {
        let entry = SourceEntry {
            info: SourceInfo { name: "demo".to_owned(), ..SourceInfo::default() },
            context: SourceContext::default(),
        };
        let rules = vec![rule("demo/z", Language::Spl, "x\n"), rule("demo/a", Language::Kql, "T\n")];
        let catalog = Catalog::build(vec![(entry, rules)], &|_| {});
        let ids: Vec<&str> = catalog.rules.iter().map(|rule| rule.rule.id.as_str()).collect();
        assert_eq!(ids, ["demo/a", "demo/z"]);
        assert_eq!(catalog.panics(), 0);
        let by_source = catalog.counts_by_source();
        assert_eq!(by_source.first().map(|(_, counts)| counts.rules), Some(2));
        assert_eq!(catalog.counts_by_family().get(&Family::Splunk).map(|counts| counts.rules), Some(1));
    }

    #[test]
    fn a_panic_is_recorded_on_the_rule() {
        let rule = rule("demo/p", Language::Spl, "x\n");
        let analysed = analyze_isolated(rule, &SourceContext::default(), |_, _| panic!("boom"));
        assert_eq!(analysed.panic.as_deref(), Some("boom"));
        assert!(analysed.has_errors());
        assert!(analysed.rule.diagnostics.iter().any(|diagnostic| diagnostic.code == "engine-panic"));
    }
}
