//! The schema of `catalog.sqlite`, documented table by table in `docs/sqlite.md`.
//!
//! **Invariant:** any change to a table or column bumps [`SCHEMA_VERSION`] and `docs/sqlite.md`;
//! readers refuse a database of another version instead of misreading it.

/// Stored in `PRAGMA user_version` and in `meta.schema_version`.
pub const SCHEMA_VERSION: i64 = 2;

/// The name of the database file inside a built site.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// Every table and index, created in this order.
pub(crate) const CREATE: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    root TEXT,
    repository_url TEXT,
    commit_id TEXT,
    license TEXT,
    files_seen INTEGER NOT NULL,
    rules INTEGER NOT NULL,
    skipped_files INTEGER NOT NULL
);
CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES sources(name),
    path TEXT NOT NULL,
    title TEXT,
    family TEXT NOT NULL,
    format TEXT NOT NULL,
    rule_id TEXT,
    status TEXT,
    severity TEXT,
    lookback TEXT,
    frequency TEXT,
    permalink TEXT,
    page TEXT NOT NULL,
    vendor_alerts TEXT,
    has_errors INTEGER NOT NULL
);
CREATE INDEX rules_path ON rules(path);
CREATE TABLE queries (
    rule TEXT NOT NULL REFERENCES rules(id),
    query INTEGER NOT NULL,
    name TEXT,
    language TEXT NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (rule, query)
);
CREATE TABLE datasets (
    rule TEXT NOT NULL REFERENCES rules(id),
    analysis INTEGER NOT NULL,
    dataset INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    attributes TEXT,
    time_window TEXT,
    time_window_seconds INTEGER,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    PRIMARY KEY (rule, analysis, dataset)
);
CREATE TABLE stages (
    rule TEXT NOT NULL REFERENCES rules(id),
    analysis INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    kind TEXT NOT NULL,
    label TEXT,
    dataset INTEGER,
    negated INTEGER NOT NULL,
    condition TEXT,
    aggregation_keys TEXT,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    PRIMARY KEY (rule, analysis, stage)
);
CREATE TABLE predicates (
    rule TEXT NOT NULL REFERENCES rules(id),
    analysis INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    predicate INTEGER NOT NULL,
    field TEXT NOT NULL,
    resolved_field TEXT,
    dataset INTEGER,
    origin TEXT NOT NULL,
    functions TEXT,
    op TEXT NOT NULL,
    written_op TEXT NOT NULL,
    \"values\" TEXT NOT NULL,
    case_sensitive INTEGER NOT NULL,
    excluded INTEGER NOT NULL,
    time_filter INTEGER NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    PRIMARY KEY (rule, analysis, stage, predicate)
);
CREATE TABLE indicators (
    rule TEXT NOT NULL REFERENCES rules(id),
    analysis INTEGER NOT NULL,
    field TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    canonical INTEGER NOT NULL,
    exclusion INTEGER NOT NULL,
    raw_field TEXT NOT NULL,
    resolved_field TEXT,
    dataset TEXT,
    written_op TEXT NOT NULL,
    raw_value TEXT NOT NULL,
    note TEXT
);
CREATE INDEX indicators_value ON indicators(value);
CREATE INDEX indicators_rule ON indicators(rule);
CREATE TABLE event_coverage (
    rule TEXT NOT NULL REFERENCES rules(id),
    analysis INTEGER NOT NULL,
    dataset TEXT NOT NULL,
    role TEXT NOT NULL,
    provider TEXT NOT NULL,
    product TEXT NOT NULL,
    event TEXT NOT NULL,
    title TEXT NOT NULL,
    why TEXT NOT NULL,
    narrowed_by TEXT,
    fields_read TEXT,
    fit TEXT NOT NULL,
    missing TEXT,
    correlate_with TEXT,
    known INTEGER NOT NULL
);
CREATE INDEX event_coverage_event ON event_coverage(provider, event);
CREATE INDEX event_coverage_rule ON event_coverage(rule);
CREATE TABLE attack (
    rule TEXT NOT NULL REFERENCES rules(id),
    tactic_id TEXT NOT NULL,
    tactic TEXT NOT NULL,
    technique_id TEXT,
    technique TEXT,
    legacy_label INTEGER NOT NULL
);
CREATE INDEX attack_technique ON attack(technique_id);
CREATE TABLE rule_techniques (
    rule TEXT NOT NULL REFERENCES rules(id),
    technique_id TEXT NOT NULL,
    PRIMARY KEY (rule, technique_id)
);
CREATE TABLE attack_notes (
    rule TEXT NOT NULL REFERENCES rules(id),
    tag TEXT NOT NULL,
    resolution TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE links (
    rule TEXT NOT NULL REFERENCES rules(id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    target_rule TEXT
);
CREATE TABLE related_rules (
    rule TEXT NOT NULL REFERENCES rules(id),
    related TEXT NOT NULL REFERENCES rules(id),
    relation TEXT NOT NULL,
    score REAL,
    reason TEXT,
    PRIMARY KEY (rule, related, relation)
);
CREATE TABLE findings (
    rule TEXT NOT NULL REFERENCES rules(id),
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    origin TEXT NOT NULL,
    line INTEGER NOT NULL,
    column INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_column INTEGER NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    message TEXT NOT NULL,
    help TEXT,
    fingerprint TEXT NOT NULL
);
CREATE INDEX findings_rule ON findings(rule);
CREATE TABLE rule_documents (
    rule TEXT PRIMARY KEY REFERENCES rules(id),
    text TEXT NOT NULL,
    twin TEXT NOT NULL
);
";
