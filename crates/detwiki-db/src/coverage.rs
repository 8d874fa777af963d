//! `detwiki coverage` from the database: the ATT&CK coverage of the catalog or a subset, and with a
//! telemetry profile, which rules can fire. The computation itself is the catalog's
//! ([`detwiki_catalog::rule_firing`] over the stored rows as [`detwiki_catalog::EventNeed`]s,
//! [`detwiki_catalog::attack_coverage`]); this module only loads their inputs.

use std::collections::HashMap;

use detwiki_catalog::{
    CoverageInput, EventNeed, FireLevel, NeedFit, RuleFiring, TechniqueCoverage, TelemetryProfile, attack_coverage,
    rule_firing,
};
use detwiki_ir::DatasetRole;
use detwiki_knowledge::Knowledge;
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
        let selected: Vec<RuleSummary> = if everything {
            let mut statement =
                self.connection.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM rules r ORDER BY r.rule"))?;
            statement.query_map([], summary)?.collect::<Result<Vec<_>, _>>()?
        } else {
            let subset = crate::FindQuery {
                language: query.language.clone(),
                source: query.source.clone(),
                ..crate::FindQuery::default()
            };
            self.find(&subset)?.into_iter().map(|found| found.rule).collect()
        };
        let vendor: HashMap<i64, String> =
            self.keyed_rows("SELECT rule, vendor_alerts FROM rules WHERE vendor_alerts IS NOT NULL", |row| row.get(1))?;
        let techniques: HashMap<i64, Vec<String>> = self
            .grouped_rows("SELECT rule, technique_id FROM rule_techniques ORDER BY rule, technique_id", |row| {
                row.get(1)
            })?;
        let needs: HashMap<i64, Vec<EventNeed>> = match profile {
            Some(_) => self.grouped_rows(
                "SELECT rule, analysis, dataset, role, provider, event, fit, missing FROM event_coverage
                 ORDER BY rule, rowid",
                need,
            )?,
            None => HashMap::new(),
        };
        let mut rules = Vec::with_capacity(selected.len());
        for rule in selected {
            let firing = profile
                .map(|profile| rule_firing(profile, needs.get(&rule.key).map(Vec::as_slice).unwrap_or_default()));
            rules.push(RuleCoverage {
                techniques: techniques.get(&rule.key).cloned().unwrap_or_default(),
                vendor_alerts: vendor.get(&rule.key).cloned(),
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

    /// One value per rule: `sql` selects the rule's key first.
    fn keyed_rows<T>(
        &self,
        sql: &str,
        value: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<HashMap<i64, T>, DbError> {
        let mut statement = self.connection.prepare(sql)?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, value(row)?)))?;
        Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
    }

    /// Values grouped by rule, in the order `sql` gives them: `sql` selects the rule's key first.
    fn grouped_rows<T>(
        &self,
        sql: &str,
        value: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<HashMap<i64, Vec<T>>, DbError> {
        let mut statement = self.connection.prepare(sql)?;
        let mut rows = statement.query([])?;
        let mut out: HashMap<i64, Vec<T>> = HashMap::new();
        while let Some(row) = rows.next()? {
            out.entry(row.get(0)?).or_default().push(value(row)?);
        }
        Ok(out)
    }
}

/// An event-coverage row as firing reads it (`rule, analysis, dataset, role, provider, event,
/// fit, missing`), from the columns the writer stored it in.
fn need(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventNeed> {
    let role: String = row.get(3)?;
    let fit: String = row.get(6)?;
    Ok(EventNeed {
        analysis: row.get::<_, i64>(1)? as usize,
        dataset: row.get(2)?,
        role: role_from(&role),
        provider: row.get(4)?,
        event: row.get(5)?,
        fit: match fit.as_str() {
            "full" => NeedFit::Full,
            "partial" => NeedFit::Partial(
                row.get::<_, Option<String>>(7)?
                    .unwrap_or_default()
                    .split(", ")
                    .filter(|field| !field.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => NeedFit::Unknown,
        },
    })
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
