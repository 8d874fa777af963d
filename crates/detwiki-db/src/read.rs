//! Reading `catalog.sqlite`: opening it (read-only, version checked), finding a rule by what a
//! user types, and the stored documents `show` prints.

use std::io::Read as _;
use std::path::Path;

use flate2::read::ZlibDecoder;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::DbError;
use crate::schema::SCHEMA_VERSION;

/// An open catalog database.
#[derive(Debug)]
pub struct CatalogDb {
    pub(crate) connection: Connection,
}

/// A rule as listed in answers and candidate lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSummary {
    /// The rule's key in the database (`rules.rule`, its catalog position).
    #[serde(skip)]
    pub key: i64,
    pub id: String,
    pub title: Option<String>,
    pub family: String,
    pub source: String,
    pub path: String,
    /// The rule's page, relative to the site root.
    pub page: String,
}

impl RuleSummary {
    /// `title (id, source: path)`.
    pub fn text(&self) -> String {
        format!("{} ({}, {}: {})", self.title.as_deref().unwrap_or("(no title)"), self.id, self.source, self.path)
    }
}

/// What a RULE argument resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    One(RuleSummary),
    /// Several rules fit; the user must pick (listed by id).
    Ambiguous(Vec<RuleSummary>),
    None,
}

pub(crate) const SUMMARY_COLUMNS: &str = "r.rule, r.id, r.title, r.family, r.source, r.path, r.page";

pub(crate) fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<RuleSummary> {
    Ok(RuleSummary {
        key: row.get(0)?,
        id: row.get(1)?,
        title: row.get(2)?,
        family: row.get(3)?,
        source: row.get(4)?,
        path: row.get(5)?,
        page: row.get(6)?,
    })
}

impl CatalogDb {
    /// Opens a database read-only and checks its schema version.
    pub fn open(path: &Path) -> Result<CatalogDb, DbError> {
        if !path.is_file() {
            return Err(DbError::Missing { path: path.display().to_string() });
        }
        let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version != SCHEMA_VERSION {
            return Err(DbError::Version { path: path.display().to_string(), found: version });
        }
        Ok(CatalogDb { connection })
    }

    /// A value of the `meta` table (`generated`, `attack_release`, ...).
    pub fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        Ok(self.connection.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional()?)
    }

    /// Finds the rule a user means: an exact id; else a file path as the page shows it
    /// (source-relative), with or without the source name in front, or an absolute path inside a
    /// source's folder; else a title fragment (case-insensitive). Several candidates of the first
    /// kind that matches are ambiguous.
    pub fn resolve(&self, input: &str) -> Result<Resolved, DbError> {
        let by_id = self.summaries(&format!("SELECT {SUMMARY_COLUMNS} FROM rules r WHERE r.id = ?1"), &[input])?;
        if let Some(found) = by_id.into_iter().next() {
            return Ok(Resolved::One(found));
        }
        let normalized = input.replace('\\', "/");
        let mut candidates = self.summaries(
            &format!("SELECT {SUMMARY_COLUMNS} FROM rules r WHERE r.path = ?1 ORDER BY r.rule"),
            &[&normalized],
        )?;
        if candidates.is_empty() {
            // `SOURCE/path`, or an absolute path under a source's root.
            candidates = self.summaries(
                &format!(
                    "SELECT {SUMMARY_COLUMNS} FROM rules r JOIN sources s ON s.name = r.source
                     WHERE ?1 = s.name || '/' || r.path
                        OR (s.root IS NOT NULL AND ?1 = rtrim(s.root, '/') || '/' || r.path)
                     ORDER BY r.rule"
                ),
                &[&normalized],
            )?;
        }
        if candidates.is_empty() && normalized.contains('/') {
            // A path given relative to somewhere else: a unique rule whose path ends with it.
            candidates = self.summaries(
                &format!(
                    "SELECT {SUMMARY_COLUMNS} FROM rules r
                     WHERE substr('/' || r.path, -length(?1) - 1) = '/' || ?1 ORDER BY r.rule"
                ),
                &[normalized.trim_start_matches("./")],
            )?;
        }
        if candidates.is_empty() && !input.trim().is_empty() {
            candidates = self.summaries(
                &format!(
                    "SELECT {SUMMARY_COLUMNS} FROM rules r WHERE instr(lower(r.title), lower(?1)) > 0
                     ORDER BY r.rule"
                ),
                &[input.trim()],
            )?;
        }
        Ok(match candidates.len() {
            0 => Resolved::None,
            1 => candidates.pop().map_or(Resolved::None, Resolved::One),
            _ => Resolved::Ambiguous(candidates),
        })
    }

    /// The stored text view and JSON twin (compact) of a rule.
    pub fn documents(&self, rule: &RuleSummary) -> Result<Option<(String, String)>, DbError> {
        let stored: Option<(Vec<u8>, Vec<u8>)> = self
            .connection
            .query_row("SELECT text, twin FROM rule_documents WHERE rule = ?1", [rule.key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((text, twin)) = stored else { return Ok(None) };
        Ok(Some((decompress(&text)?, decompress(&twin)?)))
    }

    /// Every rule's JSON twin in catalog order, for NDJSON exports; `visit` returns false to stop.
    pub fn for_each_twin(&self, mut visit: impl FnMut(&str) -> bool) -> Result<(), DbError> {
        let mut statement = self.connection.prepare("SELECT twin FROM rule_documents ORDER BY rule")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let twin = decompress(&row.get::<_, Vec<u8>>(0)?)?;
            if !visit(&twin) {
                break;
            }
        }
        Ok(())
    }

    pub(crate) fn summaries(&self, sql: &str, values: &[&str]) -> Result<Vec<RuleSummary>, DbError> {
        let mut statement = self.connection.prepare(sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(values.iter()), summary)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Writes a copy of the database to `path` (`VACUUM INTO`: a consistent, compact file).
    pub fn copy_to(&self, path: &Path) -> Result<(), DbError> {
        let _ = std::fs::remove_file(path);
        self.connection.execute("VACUUM INTO ?1", params![path.display().to_string()])?;
        Ok(())
    }
}

/// A stored document back to text (see `write::compress`).
fn decompress(stored: &[u8]) -> Result<String, DbError> {
    let mut text = String::with_capacity(stored.len() * 4);
    ZlibDecoder::new(stored)
        .read_to_string(&mut text)
        .map_err(|source| DbError::Io { path: "(a stored rule document)".to_owned(), source })?;
    Ok(text)
}
