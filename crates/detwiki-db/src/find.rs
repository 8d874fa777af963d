//! `detwiki find`: rules by indicator, technique, event, language and source, each answer with why
//! it matched.
//!
//! Values match the way the catalog matches indicators (`docs/semantics.md`): the user's value is
//! normalized like a rule's would be (a `*x*` wildcard is `contains x`, a path suffix such as
//! `\msiexec.exe` under `ends_with` is the file name `msiexec.exe` on the name field) and compared
//! with the stored key both as typed and case-folded, since keys of case-insensitive tests are
//! stored folded.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::DbError;
use crate::read::{CatalogDb, RuleSummary, SUMMARY_COLUMNS, summary};

/// The filters of one `find`; every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindQuery {
    /// Canonical (`process_name`) or raw (`FileName`, `Image`) field.
    pub field: Option<String>,
    pub value: Option<String>,
    /// Indicator kind (`eq`, `contains`, `ends_with`, ...); transforms (`contains|base64offset`)
    /// match their base kind.
    pub kind: Option<String>,
    /// Technique ID; a technique matches its sub-techniques too.
    pub technique: Option<String>,
    /// `PROVIDER` or `PROVIDER:EVENT` (`Sysmon:1`, `DeviceProcessEvents`).
    pub event: Option<String>,
    /// A family (`kusto`, `sigma`) or query language (`kql`, `eql`, `esql`).
    pub language: Option<String>,
    /// A source's name, its part before `/`, or its slug.
    pub source: Option<String>,
}

impl FindQuery {
    pub fn is_empty(&self) -> bool {
        self == &FindQuery::default()
    }
}

/// An indicator of a rule that matched, with where the rule states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorMatch {
    pub field: String,
    pub kind: String,
    pub value: String,
    pub raw_field: String,
    pub written_op: String,
    pub raw_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An event-coverage row of a rule that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventMatch {
    pub provider: String,
    pub event: String,
    pub dataset: String,
    pub fit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// One rule of the answer and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindMatch {
    pub rule: RuleSummary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<IndicatorMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventMatch>,
}

/// The user's (field, kind, value) normalized like a rule's.
fn normalize(field: &str, kind: Option<&str>, value: &str) -> (String, Option<String>, String) {
    let mut kind = kind.map(str::to_owned);
    let mut value = value.to_owned();
    let mut field = field.to_owned();
    if kind.is_none() && value.len() > 1 && !value.trim_matches('*').contains('*') {
        let inner = value.trim_matches('*').to_owned();
        let (leading, trailing) = (value.starts_with('*'), value.ends_with('*'));
        kind = match (leading, trailing) {
            (true, true) => Some("contains".to_owned()),
            (true, false) => Some("ends_with".to_owned()),
            (false, true) => Some("starts_with".to_owned()),
            (false, false) => None,
        };
        value = inner;
    }
    if kind.as_deref() == Some("ends_with")
        && let Some((name_field, file_name)) = detwiki_knowledge::path_suffix_equivalence(&field, &value)
    {
        let (name_field, file_name) = (name_field.to_owned(), file_name.to_owned());
        field = name_field;
        value = file_name;
        kind = Some("eq".to_owned());
    }
    (field, kind, value)
}

impl CatalogDb {
    /// Rules matching every filter of `query`, in catalog order.
    pub fn find(&self, query: &FindQuery) -> Result<Vec<FindMatch>, DbError> {
        let mut allowed: Option<BTreeSet<i64>> = None;
        let mut narrow = |ids: BTreeSet<i64>| {
            allowed = Some(match allowed.take() {
                Some(current) => current.intersection(&ids).copied().collect(),
                None => ids,
            });
        };
        let mut indicators: BTreeMap<i64, Vec<IndicatorMatch>> = BTreeMap::new();
        if query.field.is_some() || query.value.is_some() {
            indicators = self.indicator_matches(query)?;
            narrow(indicators.keys().copied().collect());
        }
        let mut techniques: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        if let Some(technique) = &query.technique {
            let wanted = technique.trim().to_ascii_uppercase();
            let mut statement = self.connection.prepare(
                "SELECT rule, technique_id FROM rule_techniques
                 WHERE technique_id = ?1 OR technique_id LIKE ?1 || '.%' ORDER BY rule, technique_id",
            )?;
            let rows = statement.query_map([&wanted], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
            for row in rows {
                let (rule, technique) = row?;
                techniques.entry(rule).or_default().push(technique);
            }
            narrow(techniques.keys().copied().collect());
        }
        let mut events: BTreeMap<i64, Vec<EventMatch>> = BTreeMap::new();
        if let Some(event) = &query.event {
            let (provider, id) = match event.rsplit_once(':') {
                Some((provider, id)) if !id.is_empty() => (provider.trim(), Some(id.trim())),
                _ => (event.trim(), None),
            };
            let mut statement = self.connection.prepare(
                "SELECT rule, provider, event, dataset, fit, missing FROM event_coverage
                 WHERE lower(provider) = lower(?1) AND (?2 IS NULL OR lower(event) = lower(?2))
                 ORDER BY rule, analysis, rowid",
            )?;
            let rows = statement.query_map(rusqlite::params![provider, id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    EventMatch {
                        provider: row.get(1)?,
                        event: row.get(2)?,
                        dataset: row.get(3)?,
                        fit: row.get(4)?,
                        missing: row.get(5)?,
                    },
                ))
            })?;
            for row in rows {
                let (rule, found) = row?;
                let list = events.entry(rule).or_default();
                if !list.contains(&found) {
                    list.push(found);
                }
            }
            narrow(events.keys().copied().collect());
        }
        if let Some(language) = &query.language {
            let wanted = language.trim().to_ascii_lowercase();
            narrow(self.ids(
                "SELECT r.rule FROM rules r WHERE r.family = ?1
                 OR EXISTS (SELECT 1 FROM queries q WHERE q.rule = r.rule AND q.language = ?1)",
                &wanted,
            )?);
        }
        if let Some(source) = &query.source {
            narrow(self.ids(
                "SELECT r.rule FROM rules r JOIN sources s ON s.name = r.source
                 WHERE lower(s.name) = lower(?1) OR lower(s.name) LIKE lower(?1) || '/%' OR lower(s.slug) = lower(?1)",
                source.trim(),
            )?);
        }
        let Some(allowed) = allowed else { return Ok(Vec::new()) };
        let mut statement =
            self.connection.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM rules r ORDER BY r.rule"))?;
        let mut out = Vec::new();
        for rule in statement.query_map([], summary)? {
            let rule = rule?;
            if !allowed.contains(&rule.key) {
                continue;
            }
            out.push(FindMatch {
                indicators: indicators.remove(&rule.key).unwrap_or_default(),
                techniques: techniques.remove(&rule.key).unwrap_or_default(),
                events: events.remove(&rule.key).unwrap_or_default(),
                rule,
            });
        }
        Ok(out)
    }

    fn ids(&self, sql: &str, value: &str) -> Result<BTreeSet<i64>, DbError> {
        let mut statement = self.connection.prepare(sql)?;
        let rows = statement.query_map([value], |row| row.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<BTreeSet<_>, _>>()?)
    }

    /// Positive indicators matching the field, value and kind of `query`, by rule.
    fn indicator_matches(&self, query: &FindQuery) -> Result<BTreeMap<i64, Vec<IndicatorMatch>>, DbError> {
        let (field, kind, value) = match (&query.field, &query.value) {
            (Some(field), Some(value)) => {
                let (field, kind, value) = normalize(field, query.kind.as_deref(), value);
                (Some(field), kind, Some(value))
            }
            (field, value) => (field.clone(), query.kind.clone(), value.clone()),
        };
        let folded = value.as_ref().map(|value| value.to_lowercase());
        let mut statement = self.connection.prepare(
            "SELECT rule, field, kind, value, raw_field, written_op, raw_value, dataset, note FROM indicators
             WHERE exclusion = 0
               AND (?1 IS NULL OR value = ?1 OR value = ?2)
               AND (?3 IS NULL OR lower(field) = lower(?3) OR lower(raw_field) = lower(?3)
                    OR lower(resolved_field) = lower(?3))
               AND (?4 IS NULL OR kind = ?4 OR kind LIKE ?4 || '|%')
             ORDER BY rule, rowid",
        )?;
        let rows = statement.query_map(rusqlite::params![value, folded, field, kind], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                IndicatorMatch {
                    field: row.get(1)?,
                    kind: row.get(2)?,
                    value: row.get(3)?,
                    raw_field: row.get(4)?,
                    written_op: row.get(5)?,
                    raw_value: row.get(6)?,
                    dataset: row.get(7)?,
                    note: row.get(8)?,
                },
            ))
        })?;
        let mut out: BTreeMap<i64, Vec<IndicatorMatch>> = BTreeMap::new();
        for row in rows {
            let (rule, found) = row?;
            let list = out.entry(rule).or_default();
            if !list.contains(&found) {
                list.push(found);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalized_like_rules() {
        assert_eq!(
            normalize("process_name", None, "*msiexec*"),
            ("process_name".into(), Some("contains".into()), "msiexec".into())
        );
        assert_eq!(normalize("process_name", None, "msiexec.exe"), ("process_name".into(), None, "msiexec.exe".into()));
        let (field, kind, value) = normalize("process_path", Some("ends_with"), "\\msiexec.exe");
        assert_eq!((field.as_str(), kind.as_deref(), value.as_str()), ("process_name", Some("eq"), "msiexec.exe"));
        assert_eq!(normalize("x", None, "*"), ("x".into(), None, "*".into()));
    }
}
