//! # detwiki-db
//!
//! ## Overview
//!
//! The catalog database, `catalog.sqlite`: `detwiki build` writes it into the site from the
//! catalog, its index and its findings; `detwiki show`, `find`, `coverage` and `export` answer from
//! it in milliseconds instead of re-reading and re-analysing every source. The schema is versioned
//! (`PRAGMA user_version`) and documented in `docs/sqlite.md`, so users can query it with any
//! SQLite client.
//!
//! **Invariant:** the database holds what the catalog computed and nothing else: no check, count
//! or fit is decided here. Answers that need a computation (whether a rule can fire with a
//! telemetry profile, ATT&CK coverage) load rows and call the same `detwiki-catalog` functions an
//! in-memory catalog uses, so both give the same answer.
//!
//! **Invariant:** the same catalog gives the same file: rows are inserted in catalog order in one
//! transaction and the file is compacted with `VACUUM` before it is renamed into place.
//!
//! ## Source code layout
//!
//! - `schema.rs`: the tables, [`SCHEMA_VERSION`], [`CATALOG_FILE`].
//! - `write.rs`: [`write_catalog`].
//! - `read.rs`: [`CatalogDb`]: opening, resolving a RULE argument, stored documents.
//! - `find.rs`: [`FindQuery`] and its answers.
//! - `coverage.rs`: [`CoverageQuery`], [`CoverageReport`].

mod coverage;
mod find;
mod read;
mod schema;
mod write;

pub use coverage::{CoverageQuery, CoverageReport, RuleCoverage};
pub use find::{EventMatch, FindMatch, FindQuery, IndicatorMatch};
pub use read::{CatalogDb, Resolved, RuleSummary};
pub use schema::{CATALOG_FILE, SCHEMA_VERSION};
pub use write::{WriteInput, write_catalog};

/// Errors of the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: no catalog database here; run `detwiki build` first or pass --catalog FILE")]
    Missing { path: String },
    #[error(
        "{path}: catalog database of schema version {found}, this detwiki reads version {SCHEMA_VERSION}; rebuild it with `detwiki build`"
    )]
    Version { path: String, found: i64 },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("catalog database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
