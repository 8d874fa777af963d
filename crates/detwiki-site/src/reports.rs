//! Catalog-wide report pages: the diagnostics page (every finding `detwiki lint` reports, by
//! code, with counts, each linking to its line of the rule body) and the coverage page (ATT&CK
//! tactics against languages and against sources).
//!
//! Both read the same models as the command line: findings come from
//! [`detwiki_catalog::catalog_findings`], so the page and `detwiki lint` never disagree.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use askama::Template;
use detwiki_catalog::{
    Catalog, CatalogIndex, CoverageInput, Finding, FindingSeverity, TechniqueCoverage, attack_coverage,
    catalog_findings, check_info, slug,
};
use detwiki_ir::{Family, JSON_VERSION, LineIndex};
use detwiki_knowledge::Knowledge;
use serde::Serialize;

use crate::catalog_pages::root_of;
use crate::lists::{Pagination, SortKey, list_page_path, page_count, page_slice};
use crate::pages::{body_first_line, rule_title, shown_body};
use crate::{SiteError, write_page};

/// One code in the diagnostics summary.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSummary {
    pub code: String,
    /// The most serious severity the code was reported with.
    pub severity: &'static str,
    /// `engine` or `catalog`.
    pub origin: &'static str,
    /// What a catalog check means; engine codes explain themselves in each message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'static str>,
    pub findings: u64,
    pub rules: u64,
    /// The code's page, relative to the site root.
    pub path: String,
}

/// Counts over all findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingTotals {
    pub findings: u64,
    pub errors: u64,
    pub warnings: u64,
    pub notes: u64,
    /// Rules with at least one finding, and with at least one error or warning.
    pub rules: u64,
    pub rules_with_errors_or_warnings: u64,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "diagnostics.html")]
pub struct DiagnosticsPage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub totals: FindingTotals,
    /// Most serious first, then most rules.
    pub codes: Vec<CodeSummary>,
}

/// A finding on a code's page.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub rule: String,
    pub title: String,
    /// The rule page relative to the site root; the line's anchor is `#L<line>`.
    pub path: String,
    /// The anchor to link to: `L<line>` when the line is in the body shown, else `body`.
    #[serde(skip)]
    pub anchor: String,
    pub source: String,
    pub file: String,
    pub severity: &'static str,
    pub line: u32,
    pub column: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "diagnostic_code.html")]
pub struct DiagnosticCodePage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub code: CodeSummary,
    pub pagination: Pagination,
    pub findings: Vec<FindingRow>,
}

/// One cell of the coverage table: rules with the tactic, and techniques of it they cover.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageCell {
    pub rules: u64,
    pub techniques: u64,
}

/// A tactic's row: one cell per column.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub tactic_id: String,
    pub tactic: String,
    /// Active techniques of the tactic in the release (the denominator of `techniques`).
    pub release_techniques: u64,
    /// Detections with the tactic in the whole catalog (its browse list exists when not 0).
    pub rules: u64,
    pub cells: Vec<CoverageCell>,
}

/// A column of a coverage table: a language or a source, with its ATT&CK matrix page.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageColumn {
    pub value: String,
    pub name: String,
    pub matrix: String,
    /// Detections (vendor-alert rules left out) in the column, tagged or not.
    pub rules: u64,
    /// Of those, rules with at least one tactic.
    pub tagged: u64,
    /// Active techniques and sub-techniques with at least one of its detections (what `detwiki coverage`
    /// reports as covered for the same subset).
    pub techniques_covered: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageTable {
    pub facet: &'static str,
    pub columns: Vec<CoverageColumn>,
    pub rows: Vec<CoverageRow>,
    /// Active techniques and sub-techniques of the release (the denominator of `techniques_covered`).
    pub release_techniques: u64,
}

#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "coverage.html")]
pub struct CoveragePage {
    pub version: u32,
    #[serde(skip)]
    pub root: String,
    #[serde(skip)]
    pub generated: String,
    pub release: String,
    /// By language, then by source.
    pub tables: Vec<CoverageTable>,
}

/// What the report pages need from the build.
pub struct Reports<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a CatalogIndex,
    pub knowledge: &'a Knowledge,
    /// Rule page folders under `rules/`, parallel to the catalog's rules.
    pub folders: &'a [String],
    pub page_size: usize,
    pub generated: &'a str,
}

impl Reports<'_> {
    /// Writes the diagnostics pages and the coverage page; returns how many pages.
    pub fn write(&self, root: &Path) -> Result<u64, SiteError> {
        Ok(self.write_diagnostics(root)? + self.write_coverage(root)?)
    }

    fn write_diagnostics(&self, root: &Path) -> Result<u64, SiteError> {
        let findings = catalog_findings(self.catalog, self.index, self.knowledge);
        let positions: HashMap<&str, usize> = self
            .catalog
            .rules
            .iter()
            .enumerate()
            .rev()
            .map(|(position, entry)| (entry.rule.id.as_str(), position))
            .collect();
        let mut by_code: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        let mut totals = FindingTotals::default();
        let mut rules = BTreeSet::new();
        let mut serious_rules = BTreeSet::new();
        for finding in &findings {
            by_code.entry(finding.code.as_str()).or_default().push(finding);
            totals.findings += 1;
            match finding.severity {
                FindingSeverity::Error => totals.errors += 1,
                FindingSeverity::Warning => totals.warnings += 1,
                FindingSeverity::Note => totals.notes += 1,
            }
            rules.insert(finding.rule.as_str());
            if finding.severity.at_least(FindingSeverity::Warning) {
                serious_rules.insert(finding.rule.as_str());
            }
        }
        totals.rules = rules.len() as u64;
        totals.rules_with_errors_or_warnings = serious_rules.len() as u64;

        // Which lines each rule's page shows, to link a finding to its line or to the body.
        let mut shown_lines: HashMap<usize, (u32, u32)> = HashMap::new();
        let mut pages = 0;
        let mut codes = Vec::new();
        for (code, found) in by_code {
            let severity = found.iter().map(|finding| finding.severity).min().unwrap_or(FindingSeverity::Note);
            let origin = found.first().map(|finding| finding.origin.as_str()).unwrap_or("engine");
            let base = format!("diagnostics/{}/", slug(code, 80));
            let summary = CodeSummary {
                code: code.to_owned(),
                severity: severity.as_str(),
                origin,
                summary: check_info(code).map(|check| check.summary),
                findings: found.len() as u64,
                rules: found.iter().map(|finding| finding.rule.as_str()).collect::<BTreeSet<_>>().len() as u64,
                path: base.clone(),
            };
            let mut rows: Vec<FindingRow> = found
                .iter()
                .map(|finding| {
                    let position = positions.get(finding.rule.as_str()).copied();
                    let entry = position.and_then(|position| self.catalog.rules.get(position));
                    let lines = position.map(|position| {
                        *shown_lines.entry(position).or_insert_with(|| {
                            // The same lines the rule page anchors (`pages::rule_page`).
                            entry.map_or((1, 0), |entry| {
                                let index = LineIndex::new(&entry.rule.file_text);
                                let first = body_first_line(&entry.rule, &index);
                                let shown = shown_body(entry.rule.body()).lines().count().saturating_sub(1);
                                (first, first + shown as u32)
                            })
                        })
                    });
                    let in_body = lines.is_some_and(|(first, last)| (first..=last).contains(&finding.line));
                    FindingRow {
                        rule: finding.rule.clone(),
                        title: entry.map(|entry| rule_title(&entry.rule)).unwrap_or_else(|| finding.rule.clone()),
                        path: position
                            .and_then(|position| self.folders.get(position))
                            .map(|folder| format!("rules/{folder}/"))
                            .unwrap_or_default(),
                        anchor: if in_body { format!("L{}", finding.line) } else { "body".to_owned() },
                        source: finding.source.clone(),
                        file: finding.path.clone(),
                        severity: finding.severity.as_str(),
                        line: finding.line,
                        column: finding.column,
                        message: finding.message.clone(),
                        help: finding.help.clone(),
                    }
                })
                .collect();
            rows.sort_by(|left, right| {
                (left.title.to_lowercase(), &left.rule, left.line, left.column).cmp(&(
                    right.title.to_lowercase(),
                    &right.rule,
                    right.line,
                    right.column,
                ))
            });
            let page_total = page_count(rows.len(), self.page_size);
            for page in 1..=page_total {
                let path = list_page_path(&base, SortKey::Title, page);
                let model = DiagnosticCodePage {
                    version: JSON_VERSION,
                    root: root_of(&path),
                    generated: self.generated.to_owned(),
                    code: summary.clone(),
                    pagination: Pagination::new(&base, None, page, self.page_size, rows.len()),
                    findings: page_slice(&rows, page, self.page_size).to_vec(),
                };
                write_page(&root.join(&path), &model, &path)?;
                pages += 1;
            }
            codes.push(summary);
        }
        codes.sort_by(|left, right| {
            let rank = |code: &CodeSummary| FindingSeverity::from_name(code.severity);
            rank(left).cmp(&rank(right)).then(right.rules.cmp(&left.rules)).then_with(|| left.code.cmp(&right.code))
        });
        let page = DiagnosticsPage {
            version: JSON_VERSION,
            root: "../".to_owned(),
            generated: self.generated.to_owned(),
            totals,
            codes,
        };
        write_page(&root.join("diagnostics"), &page, "diagnostics")?;
        Ok(pages + 1)
    }

    fn write_coverage(&self, root: &Path) -> Result<u64, SiteError> {
        let attack = self.knowledge.attack();
        let mut languages = Vec::new();
        for family in Family::ALL {
            let positions: BTreeSet<usize> = self
                .catalog
                .rules
                .iter()
                .enumerate()
                .filter(|(_, entry)| entry.rule.family == family)
                .map(|(position, _)| position)
                .collect();
            languages.push((
                family.as_str().to_owned(),
                family.display_name().to_owned(),
                format!("attack/language/{}/", family.as_str()),
                positions,
            ));
        }
        let sources = self
            .catalog
            .sources
            .iter()
            .map(|source| {
                let positions: BTreeSet<usize> = self
                    .catalog
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, entry)| entry.rule.provenance.source == source.info.name)
                    .map(|(position, _)| position)
                    .collect();
                (
                    source.info.name.clone(),
                    source.info.name.clone(),
                    format!("attack/source/{}/", slug(&source.info.slug, 80)),
                    positions,
                )
            })
            .collect();
        let page = CoveragePage {
            version: JSON_VERSION,
            root: "../".to_owned(),
            generated: self.generated.to_owned(),
            release: attack.release().to_owned(),
            tables: vec![self.coverage_table("language", languages), self.coverage_table("source", sources)],
        };
        write_page(&root.join("coverage"), &page, "coverage")?;
        Ok(1)
    }

    /// Tactics against the given columns (value, name, matrix page, rules). The technique counts come from
    /// [`attack_coverage`], the computation `detwiki coverage` and its Navigator layer use, so the page and the
    /// command agree; rule counts per tactic follow the rules' tactic rows (the tactic browse lists).
    fn coverage_table(
        &self,
        facet: &'static str,
        columns: Vec<(String, String, String, BTreeSet<usize>)>,
    ) -> CoverageTable {
        let attack = self.knowledge.attack();
        let detection = |position: &usize| self.index.facts.get(*position).is_some_and(|f| f.vendor_alerts.is_none());
        // Per column: the techniques its detections cover, as `coverage` computes them.
        let covered: Vec<Vec<TechniqueCoverage>> = columns
            .iter()
            .map(|(_, _, _, positions)| {
                let inputs: Vec<CoverageInput<'_>> = positions
                    .iter()
                    .filter(|position| detection(position))
                    .map(|position| CoverageInput {
                        rule: &self.catalog.rules[*position].rule.id,
                        techniques: &self.index.facts[*position].attack.technique_ids,
                        firing: None,
                    })
                    .collect();
                attack_coverage(attack, &inputs, false)
                    .into_iter()
                    .filter(|technique| !technique.rules.is_empty())
                    .collect()
            })
            .collect();
        let rows = attack
            .tactics()
            .iter()
            .map(|tactic| {
                let release_techniques = attack
                    .techniques()
                    .iter()
                    .filter(|technique| {
                        technique.is_active() && technique.parent.is_none() && technique.tactics.contains(&tactic.id)
                    })
                    .count() as u64;
                let cells = columns
                    .iter()
                    .zip(&covered)
                    .map(|((_, _, _, positions), covered)| {
                        let rules = positions
                            .iter()
                            .filter(|position| detection(position))
                            .filter(|position| {
                                self.index.facts[**position].attack.rows.iter().any(|row| row.tactic_id == tactic.id)
                            })
                            .count() as u64;
                        // Sub-techniques count for their parent, as in the matrix.
                        let techniques: BTreeSet<&str> = covered
                            .iter()
                            .filter(|technique| technique.tactics.contains(&tactic.short_name))
                            .map(|technique| technique.id.split('.').next().unwrap_or(&technique.id))
                            .collect();
                        CoverageCell { rules, techniques: techniques.len() as u64 }
                    })
                    .collect();
                let rules = self
                    .index
                    .facts
                    .iter()
                    .filter(|facts| {
                        facts.vendor_alerts.is_none() && facts.attack.rows.iter().any(|row| row.tactic_id == tactic.id)
                    })
                    .count() as u64;
                CoverageRow {
                    tactic_id: tactic.id.clone(),
                    tactic: tactic.name.clone(),
                    release_techniques,
                    rules,
                    cells,
                }
            })
            .collect();
        let columns = columns
            .into_iter()
            .zip(&covered)
            .map(|((value, name, matrix, positions), covered)| {
                let detections: Vec<usize> = positions.into_iter().filter(detection).collect();
                let tagged =
                    detections.iter().filter(|position| !self.index.facts[**position].attack.rows.is_empty()).count()
                        as u64;
                CoverageColumn {
                    value,
                    name,
                    matrix,
                    rules: detections.len() as u64,
                    tagged,
                    techniques_covered: covered.len() as u64,
                }
            })
            .collect();
        let release_techniques = attack.techniques().iter().filter(|technique| technique.is_active()).count() as u64;
        CoverageTable { facet, columns, rows, release_techniques }
    }
}
