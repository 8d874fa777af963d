//! Findings: every problem known about a rule, as one model shared by `detwiki lint` (text, JSON,
//! SARIF), the catalog database and the site's diagnostics page.
//!
//! A finding is either an engine diagnostic (a parse error, an unsupported construct) or a
//! catalog check that needs the whole catalog or the knowledge: fields a table does not have,
//! filters that can never match, time filters that disagree with the rule's schedule or with each
//! other, rules that duplicate another one, revoked, deprecated or unknown ATT&CK IDs, and rules
//! whose datasets map to no known event. Each catalog check has a stable code listed in
//! [`CATALOG_CHECKS`], so that tools can suppress or count them.
//!
//! **Invariant:** findings are computed from the catalog and its index only; their locations are
//! byte ranges into the rule's file, turned into 1-based line and column (Unicode code points) once,
//! here.

use std::collections::{BTreeMap, BTreeSet};

use detwiki_ir::{Analysis, Expr, Family, FieldOrigin, LineIndex, Op, Predicate, Severity, Span};
use detwiki_knowledge::Knowledge;
use serde::{Deserialize, Serialize};

use crate::attack::TagNote;
use crate::corpus::{CatalogIndex, stable_hash};
use crate::indicators::{predicate_dataset, walk};
use crate::{Catalog, CatalogRule};

/// How serious a finding is, most serious first so that sorting puts errors on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    Error,
    Warning,
    Note,
}

impl FindingSeverity {
    pub const ALL: [FindingSeverity; 3] = [FindingSeverity::Error, FindingSeverity::Warning, FindingSeverity::Note];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingSeverity::Error => "error",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Note => "note",
        }
    }

    /// Parses `error`, `warning`, `note` (`info` is accepted for `note`).
    pub fn from_name(name: &str) -> Option<FindingSeverity> {
        match name.to_ascii_lowercase().as_str() {
            "error" => Some(FindingSeverity::Error),
            "warning" => Some(FindingSeverity::Warning),
            "note" | "info" => Some(FindingSeverity::Note),
            _ => None,
        }
    }

    /// True when `self` is as serious as `threshold` or more.
    pub fn at_least(self, threshold: FindingSeverity) -> bool {
        self <= threshold
    }
}

impl From<Severity> for FindingSeverity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Error => FindingSeverity::Error,
            Severity::Warning => FindingSeverity::Warning,
            Severity::Info => FindingSeverity::Note,
        }
    }
}

/// Who found it: a language engine reading the rule, or the catalog comparing it with knowledge
/// and the other rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingOrigin {
    Engine,
    Catalog,
}

impl FindingOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingOrigin::Engine => "engine",
            FindingOrigin::Catalog => "catalog",
        }
    }
}

/// One problem in one rule, located in the rule's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case code (`unknown-field`, `kql-expected-token`).
    pub code: String,
    pub severity: FindingSeverity,
    pub origin: FindingOrigin,
    /// The rule's id in the catalog.
    pub rule: String,
    /// The source's name and the file's path inside it (`/` separators).
    pub source: String,
    pub path: String,
    /// Byte range in the file.
    pub span: Span,
    /// 1-based line and column of the start and the end; columns count Unicode code points.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Stays the same across runs while the rule's id, the code, the message and the located text
    /// stay the same, wherever the text moves in the file (baselines and SARIF
    /// `partialFingerprints` use it).
    pub fingerprint: String,
}

/// A catalog check: its code, default severity and what it means (SARIF rule metadata, docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    pub code: &'static str,
    pub severity: FindingSeverity,
    pub summary: &'static str,
}

/// Every check the catalog runs.
pub const CATALOG_CHECKS: &[CheckInfo] = &[
    CheckInfo {
        code: "unknown-field",
        severity: FindingSeverity::Warning,
        summary: "the query reads a column its table does not have",
    },
    CheckInfo {
        code: "never-matches",
        severity: FindingSeverity::Warning,
        summary: "a filter requires one field to equal two different values at once, so it can never match",
    },
    CheckInfo {
        code: "lookback-beyond-period",
        severity: FindingSeverity::Warning,
        summary: "a time filter reaches further back than the rule's scheduled lookback, which cuts it short",
    },
    CheckInfo {
        code: "mixed-time-columns",
        severity: FindingSeverity::Note,
        summary: "the query filters time on different columns, so its windows may not line up",
    },
    CheckInfo {
        code: "duplicate-rule",
        severity: FindingSeverity::Note,
        summary: "another rule looks for exactly the same indicators on the same events",
    },
    CheckInfo {
        code: "attack-revoked",
        severity: FindingSeverity::Warning,
        summary: "an ATT&CK tag names a revoked technique",
    },
    CheckInfo {
        code: "attack-deprecated",
        severity: FindingSeverity::Warning,
        summary: "an ATT&CK tag names a deprecated technique",
    },
    CheckInfo {
        code: "attack-unknown",
        severity: FindingSeverity::Warning,
        summary: "an ATT&CK tag names an ID the pinned release does not have",
    },
    CheckInfo {
        code: "no-event-coverage",
        severity: FindingSeverity::Warning,
        summary: "none of the datasets the rule reads maps to a known telemetry event",
    },
];

/// The metadata of a catalog check by code.
pub fn check_info(code: &str) -> Option<&'static CheckInfo> {
    CATALOG_CHECKS.iter().find(|check| check.code == code)
}

/// Upper bound on predicate-tree nesting walked by the checks (engines bound their trees; this is
/// a second guard).
const MAX_DEPTH: usize = 256;

/// Every finding of the catalog: each rule's engine diagnostics, then the catalog checks, sorted
/// by rule (catalog order), then location, then code.
pub fn catalog_findings(catalog: &Catalog, index: &CatalogIndex, knowledge: &Knowledge) -> Vec<Finding> {
    let duplicates = equivalent_rules(catalog, index);
    let mut all = Vec::new();
    for (position, entry) in catalog.rules.iter().enumerate() {
        let mut located = Locator::new(entry);
        for diagnostic in entry.diagnostics() {
            located.push(
                &diagnostic.code,
                diagnostic.severity.into(),
                FindingOrigin::Engine,
                diagnostic.span,
                diagnostic.message.clone(),
                diagnostic.help.clone(),
            );
        }
        if let Some(facts) = index.facts.get(position) {
            attack_findings(&mut located, &facts.attack.notes);
            if facts.vendor_alerts.is_none()
                && !entry.analyses.is_empty()
                && facts.coverage.iter().all(|row| !row.known)
            {
                let datasets: BTreeSet<&str> = facts.coverage.iter().map(|row| row.dataset.as_str()).collect();
                let message = if datasets.is_empty() {
                    "the query names no dataset, so no telemetry event can be tied to it".to_owned()
                } else {
                    format!("no known telemetry event for {}", datasets.into_iter().collect::<Vec<_>>().join(", "))
                };
                located.push_check("no-event-coverage", entry.rule.body_span, message, None);
            }
        }
        for query in &entry.analyses {
            analysis_findings(&mut located, knowledge, entry, &query.analysis);
        }
        if let Some(others) = duplicates.get(&position) {
            let names: Vec<&str> = others
                .iter()
                .filter_map(|other| catalog.rules.get(*other))
                .map(|other| other.rule.id.as_str())
                .take(3)
                .collect();
            let more = others.len().saturating_sub(names.len());
            let mut message = format!("looks for the same indicators on the same events as {}", names.join(", "));
            if more > 0 {
                message.push_str(&format!(" and {more} more"));
            }
            located.push_check("duplicate-rule", entry.rule.body_span, message, None);
        }
        all.extend(located.finish());
    }
    all
}

/// Builds findings of one rule with their line and column.
struct Locator<'a> {
    entry: &'a CatalogRule,
    lines: LineIndex,
    findings: Vec<Finding>,
}

impl<'a> Locator<'a> {
    fn new(entry: &'a CatalogRule) -> Self {
        Locator { entry, lines: LineIndex::new(&entry.rule.file_text), findings: Vec::new() }
    }

    fn push_check(&mut self, code: &str, span: Span, message: String, help: Option<String>) {
        let severity = check_info(code).map_or(FindingSeverity::Warning, |check| check.severity);
        self.push(code, severity, FindingOrigin::Catalog, span, message, help);
    }

    fn push(
        &mut self,
        code: &str,
        severity: FindingSeverity,
        origin: FindingOrigin,
        span: Span,
        message: String,
        help: Option<String>,
    ) {
        let text = &self.entry.rule.file_text;
        let start = self.lines.line_column(text, span.start);
        let end = self.lines.line_column(text, span.end.max(span.start));
        let located_text = span.slice(text).unwrap_or("");
        let rule = &self.entry.rule;
        let fingerprint =
            format!("{:016x}", stable_hash(&format!("{}\u{0}{code}\u{0}{message}\u{0}{located_text}", rule.id)));
        self.findings.push(Finding {
            code: code.to_owned(),
            severity,
            origin,
            rule: rule.id.clone(),
            source: rule.provenance.source.clone(),
            path: rule.provenance.path.clone(),
            span,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            message,
            help,
            fingerprint,
        });
    }

    fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by(|left, right| {
            (left.span.start, left.span.end, &left.code, &left.message).cmp(&(
                right.span.start,
                right.span.end,
                &right.code,
                &right.message,
            ))
        });
        self.findings.dedup();
        self.findings
    }

    /// Where a tag is written in the rule's body, for a location; the body's start otherwise.
    fn tag_span(&self, tag: &str) -> Span {
        let rule = &self.entry.rule;
        let body = rule.body_span;
        let found = body
            .slice(&rule.file_text)
            .and_then(|text| text.find(tag))
            .map(|offset| Span::from_usize(body.start as usize + offset, body.start as usize + offset + tag.len()));
        found.unwrap_or(Span::empty(body.start))
    }
}

fn attack_findings(located: &mut Locator<'_>, notes: &[TagNote]) {
    for note in notes {
        let (code, tag) = match note {
            TagNote::Revoked { tag, .. } => ("attack-revoked", tag),
            TagNote::Deprecated { tag, .. } => ("attack-deprecated", tag),
            TagNote::Unknown { tag, .. } => ("attack-unknown", tag),
            TagNote::LegacyTactic { .. } => continue,
        };
        let span = located.tag_span(tag);
        located.push_check(code, span, note.text(), None);
    }
}

/// The checks that read one analysis: unknown fields, filters that never match, time windows.
fn analysis_findings(located: &mut Locator<'_>, knowledge: &Knowledge, entry: &CatalogRule, analysis: &Analysis) {
    let mut unknown_seen = BTreeSet::new();
    let mut time_columns: BTreeMap<String, Span> = BTreeMap::new();
    for stage in &analysis.stages {
        let Some(tree) = &stage.predicate else { continue };
        walk(tree, stage.negated, 0, &mut |predicate, _| {
            let dataset = predicate_dataset(analysis, stage, predicate).and_then(|index| analysis.datasets.get(index));
            if predicate.time_filter {
                time_columns.entry(column_name(predicate).to_owned()).or_insert(predicate.span);
                return;
            }
            if entry.rule.family != Family::Kusto || predicate.origin != FieldOrigin::Event {
                return;
            }
            let Some(dataset) = dataset else { return };
            let Some(columns) = knowledge.table_columns(&dataset.name) else { return };
            // A path into a dynamic column (`AdditionalFields.Command`, `Entities[0].Id`) reads
            // that column.
            let column = column_name(predicate);
            let column = column.split(['.', '[']).next().unwrap_or(column);
            let known = columns.iter().any(|known| known.name.eq_ignore_ascii_case(column));
            if !known && unknown_seen.insert((dataset.name.clone(), column.to_owned())) {
                located.push_check(
                    "unknown-field",
                    predicate.span,
                    format!("{} has no column {column}", dataset.name),
                    Some("a column computed earlier in the query or a typo; check the table's schema".to_owned()),
                );
            }
        });
        never_matching(located, tree, 0);
    }
    if time_columns.len() > 1 {
        let names: Vec<&str> = time_columns.keys().map(String::as_str).collect();
        let span = time_columns.values().copied().min_by_key(|span| span.start).unwrap_or_default();
        located.push_check(
            "mixed-time-columns",
            span,
            format!("time is filtered on {}", names.join(" and ")),
            Some("filter every dataset on the same time column, or check that the windows line up".to_owned()),
        );
    }
    let declared = entry.rule.metadata.lookback.as_deref().and_then(lookback_seconds);
    if let Some(declared) = declared {
        for dataset in &analysis.datasets {
            let Some(window) = &dataset.time_window else { continue };
            let Some(seconds) = window.seconds else { continue };
            if seconds > declared {
                located.push_check(
                    "lookback-beyond-period",
                    window.span,
                    format!(
                        "{} is filtered to the last {} but the rule only looks back {}",
                        dataset.name,
                        window.text,
                        entry.rule.metadata.lookback.as_deref().unwrap_or("")
                    ),
                    Some("raise the rule's lookback (queryPeriod, from) or shorten the time filter".to_owned()),
                );
            }
        }
    }
}

/// The column a predicate reads on its dataset (the join-resolved name when there is one).
fn column_name(predicate: &Predicate) -> &str {
    predicate.resolved_field.as_deref().unwrap_or(&predicate.field)
}

/// Finds `and` groups that require one field to equal two different literals.
fn never_matching(located: &mut Locator<'_>, expr: &Expr, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match expr {
        Expr::And { items } => {
            let mut equal_to: BTreeMap<(Option<usize>, String), (String, &Predicate)> = BTreeMap::new();
            for item in items {
                let Expr::Predicate(predicate) = item else { continue };
                let Some(value) = single_equality(predicate) else { continue };
                let key = (predicate.dataset, column_name(predicate).to_ascii_lowercase());
                match equal_to.get(&key) {
                    Some((other, first)) if *other != value => {
                        located.push_check(
                            "never-matches",
                            first.span.cover(predicate.span),
                            format!(
                                "{} must equal both {other:?} and {value:?}, so this filter never matches",
                                column_name(predicate)
                            ),
                            Some("one of the two was probably meant to be joined with `or`".to_owned()),
                        );
                    }
                    Some(_) => {}
                    None => {
                        equal_to.insert(key, (value, predicate));
                    }
                }
            }
            for item in items {
                never_matching(located, item, depth + 1);
            }
        }
        Expr::Or { items } => {
            for item in items {
                never_matching(located, item, depth + 1);
            }
        }
        Expr::Not { item } => never_matching(located, item, depth + 1),
        Expr::Predicate(_) | Expr::Opaque { .. } => {}
    }
}

/// The value of a plain `field == literal` test over an event field (folded when the comparison
/// ignores case), or `None`.
fn single_equality(predicate: &Predicate) -> Option<String> {
    let plain = predicate.op == Op::Eq
        && !predicate.negated
        && predicate.functions.is_empty()
        && predicate.transforms.is_empty()
        && predicate.is_literal()
        && predicate.origin == FieldOrigin::Event
        && predicate.values.len() == 1;
    if !plain {
        return None;
    }
    let text = predicate.values.first()?.literal_text()?;
    Some(if predicate.case_sensitive { text } else { text.to_lowercase() })
}

/// A declared lookback in seconds: `1d`, `14d`, `PT1H`, `P1D`, `now-9m` (Elastic `from`).
pub fn lookback_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("now-") {
        return detwiki_ir::duration_seconds(rest);
    }
    if let Some(rest) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        return iso_duration_seconds(rest);
    }
    detwiki_ir::duration_seconds(text)
}

/// The part of an ISO 8601 duration after `P` (`1D`, `T1H`, `T30M`, `1DT12H`), in seconds.
fn iso_duration_seconds(text: &str) -> Option<u64> {
    let mut seconds = 0u64;
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in text.chars() {
        match c.to_ascii_uppercase() {
            'T' => in_time = true,
            digit if digit.is_ascii_digit() => number.push(digit),
            unit => {
                let value: u64 = number.parse().ok()?;
                number.clear();
                let factor = match (unit, in_time) {
                    ('W', false) => 604_800,
                    ('D', false) => 86_400,
                    ('H', true) => 3600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(value.checked_mul(factor)?)?;
                any = true;
            }
        }
    }
    (any && number.is_empty()).then_some(seconds)
}

/// What two equivalent rules share: their positive indicator keys and their (provider, event) pairs.
type EquivalenceKey = (Vec<String>, Vec<(String, String)>);

/// Rules that look for the same non-empty set of positive indicators on the same events (files apart),
/// grouped: rule position -> the other rules of its group. The `duplicate-rule` check and the
/// database's `related_rules` table read it.
pub fn equivalent_rules(catalog: &Catalog, index: &CatalogIndex) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<EquivalenceKey, Vec<usize>> = BTreeMap::new();
    for (position, facts) in index.facts.iter().enumerate() {
        let keys: Vec<String> = facts.indicator_keys().into_iter().map(ToString::to_string).collect();
        if keys.is_empty() {
            continue;
        }
        let events: BTreeSet<(String, String)> =
            facts.coverage.iter().map(|row| (row.provider.clone(), row.event.clone())).collect();
        groups.entry((keys, events.into_iter().collect())).or_default().push(position);
    }
    let mut out = BTreeMap::new();
    for members in groups.into_values().filter(|members| members.len() > 1) {
        for member in &members {
            // Rules of one file (a Sigma collection, variants) are not duplicates of each other.
            let path = catalog.rules.get(*member).map(|entry| &entry.rule.provenance);
            let others: Vec<usize> = members
                .iter()
                .copied()
                .filter(|other| {
                    let other_path = catalog.rules.get(*other).map(|entry| &entry.rule.provenance);
                    other != member && other_path.map(|p| (&p.source, &p.path)) != path.map(|p| (&p.source, &p.path))
                })
                .collect();
            if !others.is_empty() {
                out.insert(*member, others);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookbacks_in_every_notation() {
        assert_eq!(lookback_seconds("1d"), Some(86_400));
        assert_eq!(lookback_seconds("PT1H"), Some(3600));
        assert_eq!(lookback_seconds("P1DT12H"), Some(129_600));
        assert_eq!(lookback_seconds("now-9m"), Some(540));
        assert_eq!(lookback_seconds("P1X"), None);
        assert_eq!(lookback_seconds("soon"), None);
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(FindingSeverity::Error.at_least(FindingSeverity::Warning));
        assert!(!FindingSeverity::Note.at_least(FindingSeverity::Warning));
        assert_eq!(FindingSeverity::from_name("info"), Some(FindingSeverity::Note));
        assert_eq!(FindingSeverity::from_name("fatal"), None);
    }

    #[test]
    fn every_check_code_is_unique() {
        let codes: BTreeSet<&str> = CATALOG_CHECKS.iter().map(|check| check.code).collect();
        assert_eq!(codes.len(), CATALOG_CHECKS.len());
    }
}
