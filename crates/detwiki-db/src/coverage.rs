//! `detwiki coverage` from the database: the ATT&CK coverage of the catalog or a subset, and with a
//! telemetry profile, which rules can fire. The computation itself is the catalog's
//! ([`detwiki_catalog::rule_firing`], [`detwiki_catalog::attack_coverage`]); this module only loads
//! its inputs.

use std::collections::BTreeMap;

use detwiki_catalog::{
    CoverageInput, CoverageRow, FireLevel, RuleFiring, TechniqueCoverage, TelemetryProfile, attack_coverage,
    rule_firing,
};
use detwiki_ir::DatasetRole;
use detwiki_knowledge::{Fit, Knowledge};
use serde::Serialize;

use crate::DbError;
use crate::read::{CatalogDb, RuleSummary, SUMMARY_COLUMNS, summary};

/// Which rules coverage counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageQuery {
    /// A source's name, its part before `/`, or its slug.
    pub source: Option<String>,
    /// A family or query language, as `find` takes it.
    pub language: Option<String>,
}

/// One rule with whether it can fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCoverage {
    pub rule: RuleSummary,
    /// Set when the rule only forwards a vendor's alerts (left out of ATT&CK coverage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_alerts: Option<String>,
    pub techniques: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firing: Option<RuleFiring>,
}

/// The answer of `coverage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    pub attack_release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub rules: Vec<RuleCoverage>,
    /// Every active technique of the release, zero-rule ones included.
    pub techniques: Vec<TechniqueCoverage>,
}

impl CoverageReport {
    /// Rules that can fire at `level` (with a profile).
    pub fn rules_firing(&self, level: FireLevel) -> usize {
        self.rules.iter().filter(|rule| rule.firing.as_ref().map(|firing| firing.level) == Some(level)).count()
    }
}

impl CatalogDb {
    /// Coverage of the rules selected by `query`, with `profile` when given.
    pub fn coverage(
        &self,
        knowledge: &Knowledge,
        query: &CoverageQuery,
        profile: Option<&TelemetryProfile>,
    ) -> Result<CoverageReport, DbError> {
        let everything = query.language.is_none() && query.source.is_none();
        let mut summaries: Vec<RuleSummary> = if everything {
            let mut statement =
                self.connection.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM rules r ORDER BY r.position"))?;
            statement.query_map([], summary)?.collect::<Result<Vec<_>, _>>()?
        } else {
            let subset = crate::FindQuery {
                language: query.language.clone(),
                source: query.source.clone(),
                ..crate::FindQuery::default()
            };
            self.find(&subset)?.into_iter().map(|found| found.rule).collect()
        };
        let mut vendor: BTreeMap<String, String> = BTreeMap::new();
        {
            let mut statement =
                self.connection.prepare("SELECT id, vendor_alerts FROM rules WHERE vendor_alerts IS NOT NULL")?;
            for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))? {
                let (id, reason) = row?;
                vendor.insert(id, reason);
            }
        }
        let mut techniques: BTreeMap<String, Vec<String>> = BTreeMap::new();
        {
            let mut statement = self
                .connection
                .prepare("SELECT rule, technique_id FROM rule_techniques ORDER BY rule, technique_id")?;
            for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))? {
                let (rule, technique) = row?;
                techniques.entry(rule).or_default().push(technique);
            }
        }
        let mut coverage: BTreeMap<String, Vec<CoverageRow>> = BTreeMap::new();
        if profile.is_some() {
            let mut statement = self.connection.prepare(
                "SELECT rule, analysis, dataset, role, provider, event, fit, missing, known FROM event_coverage
                 ORDER BY rule, rowid",
            )?;
            let rows = statement.query_map([], |row| {
                let role: String = row.get(3)?;
                let fit: String = row.get(6)?;
                let missing: Option<String> = row.get(7)?;
                Ok((
                    row.get::<_, String>(0)?,
                    CoverageRow {
                        analysis: row.get::<_, i64>(1)? as usize,
                        dataset: row.get(2)?,
                        role: role_from(&role),
                        provider: row.get(4)?,
                        product: String::new(),
                        event: row.get(5)?,
                        title: String::new(),
                        why: String::new(),
                        narrowed_by: Vec::new(),
                        fields_read: Vec::new(),
                        // Firing needs the dataset, the event and the fit only.
                        unknown_dataset: false,
                        variants: Vec::new(),
                        fit: match fit.as_str() {
                            "full" => Fit::Full,
                            "partial" => Fit::Partial {
                                missing: missing
                                    .unwrap_or_default()
                                    .split(", ")
                                    .filter(|field| !field.is_empty())
                                    .map(str::to_owned)
                                    .collect(),
                                correlate_with: None,
                            },
                            _ => Fit::Unknown,
                        },
                        known: row.get(8)?,
                    },
                ))
            })?;
            for row in rows {
                let (rule, found) = row?;
                coverage.entry(rule).or_default().push(found);
            }
        }
        let mut rules = Vec::with_capacity(summaries.len());
        for rule in summaries.drain(..) {
            let vendor_alerts = vendor.get(&rule.id).cloned();
            let firing = profile
                .map(|profile| rule_firing(profile, coverage.get(&rule.id).map(Vec::as_slice).unwrap_or_default()));
            rules.push(RuleCoverage {
                techniques: techniques.get(&rule.id).cloned().unwrap_or_default(),
                vendor_alerts,
                firing,
                rule,
            });
        }
        let inputs: Vec<CoverageInput<'_>> = rules
            .iter()
            .filter(|rule| rule.vendor_alerts.is_none())
            .map(|rule| CoverageInput {
                rule: &rule.rule.id,
                techniques: &rule.techniques,
                firing: rule.firing.as_ref().map(|firing| firing.level),
            })
            .collect();
        let techniques = attack_coverage(knowledge.attack(), &inputs, profile.is_some());
        Ok(CoverageReport {
            attack_release: knowledge.attack().release().to_owned(),
            profile: profile.map(|profile| profile.name.clone()),
            rules,
            techniques,
        })
    }
}

/// The role as stored (`DatasetRole::as_str`); unknown text reads as a source, which is needed.
fn role_from(text: &str) -> DatasetRole {
    [
        DatasetRole::Source,
        DatasetRole::Join,
        DatasetRole::UnionMember,
        DatasetRole::Lookup,
        DatasetRole::LetBound,
        DatasetRole::Function,
        DatasetRole::SequenceStep,
        DatasetRole::DataModel,
    ]
    .into_iter()
    .find(|role| role.as_str() == text)
    .unwrap_or(DatasetRole::Source)
}
