//! The schema of `catalog.sqlite`, documented table by table in `docs/sqlite.md`.
//!
//! Each table is declared once, as a [`Table`]: the `CREATE TABLE` statement and the writer's
//! `INSERT` statement are both generated from its column list, so a column added to one cannot be
//! forgotten in the other.
//!
//! **Invariant:** any change to a table or column bumps [`SCHEMA_VERSION`] and `docs/sqlite.md`;
//! readers refuse a database of another version instead of misreading it.

/// Stored in `PRAGMA user_version` and in `meta.schema_version`.
pub const SCHEMA_VERSION: i64 = 2;

/// The name of the database file inside a built site.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// One table: its name, its column definitions (`name TYPE constraints`), table constraints, and
/// whether its rows are stored in the primary-key tree (`WITHOUT ROWID`: tables with a composite
/// key would otherwise keep the key twice, in the table and in its automatic index).
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub constraints: &'static str,
    pub without_rowid: bool,
}

impl Table {
    const fn new(name: &'static str, columns: &'static [&'static str]) -> Table {
        Table { name, columns, constraints: "", without_rowid: false }
    }

    /// A table keyed by `key` and stored in its key tree.
    const fn keyed(name: &'static str, columns: &'static [&'static str], key: &'static str) -> Table {
        Table { name, columns, constraints: key, without_rowid: true }
    }

    fn create(&self) -> String {
        let mut parts: Vec<&str> = self.columns.to_vec();
        if !self.constraints.is_empty() {
            parts.push(self.constraints);
        }
        format!(
            "CREATE TABLE {} (\n    {}\n){};\n",
            self.name,
            parts.join(",\n    "),
            if self.without_rowid { " WITHOUT ROWID" } else { "" }
        )
    }

    /// `INSERT INTO name (columns) VALUES (?1, ...)`, columns in declaration order.
    pub fn insert(&self) -> String {
        let names: Vec<&str> =
            self.columns.iter().map(|column| column.split_whitespace().next().unwrap_or(column)).collect();
        let slots: Vec<String> = (1..=names.len()).map(|slot| format!("?{slot}")).collect();
        format!("INSERT INTO {} ({}) VALUES ({})", self.name, names.join(", "), slots.join(", "))
    }
}

/// Child tables refer to a rule by its integer key (`rules.rule`, the catalog position): a text id
/// repeated in every row made the key columns and their indexes most of the file.
const RULE: &str = "rule INTEGER NOT NULL REFERENCES rules(rule)";

pub(crate) const META: Table = Table::new("meta", &["key TEXT PRIMARY KEY", "value TEXT NOT NULL"]);
pub(crate) const SOURCES: Table = Table::new(
    "sources",
    &[
        "name TEXT PRIMARY KEY",
        "slug TEXT NOT NULL",
        "root TEXT",
        "repository_url TEXT",
        "commit_id TEXT",
        "license TEXT",
        "files_seen INTEGER NOT NULL",
        "rules INTEGER NOT NULL",
        "skipped_files INTEGER NOT NULL",
    ],
);
pub(crate) const RULES: Table = Table::new(
    "rules",
    &[
        "rule INTEGER PRIMARY KEY",
        "id TEXT NOT NULL UNIQUE",
        "source TEXT NOT NULL REFERENCES sources(name)",
        "path TEXT NOT NULL",
        "title TEXT",
        "family TEXT NOT NULL",
        "format TEXT NOT NULL",
        "rule_id TEXT",
        "status TEXT",
        "severity TEXT",
        "lookback TEXT",
        "frequency TEXT",
        "permalink TEXT",
        "page TEXT NOT NULL",
        "vendor_alerts TEXT",
        "has_errors INTEGER NOT NULL",
    ],
);
pub(crate) const QUERIES: Table = Table::keyed(
    "queries",
    &[
        RULE,
        "query INTEGER NOT NULL",
        "name TEXT",
        "language TEXT NOT NULL",
        "span_start INTEGER NOT NULL",
        "span_end INTEGER NOT NULL",
        "text TEXT NOT NULL",
    ],
    "PRIMARY KEY (rule, query)",
);
pub(crate) const DATASETS: Table = Table::keyed(
    "datasets",
    &[
        RULE,
        "analysis INTEGER NOT NULL",
        "dataset INTEGER NOT NULL",
        "name TEXT NOT NULL",
        "role TEXT NOT NULL",
        "attributes TEXT",
        "time_window TEXT",
        "time_window_seconds INTEGER",
        "span_start INTEGER NOT NULL",
        "span_end INTEGER NOT NULL",
    ],
    "PRIMARY KEY (rule, analysis, dataset)",
);
pub(crate) const STAGES: Table = Table::keyed(
    "stages",
    &[
        RULE,
        "analysis INTEGER NOT NULL",
        "stage INTEGER NOT NULL",
        "kind TEXT NOT NULL",
        "label TEXT",
        "dataset INTEGER",
        "negated INTEGER NOT NULL",
        "condition TEXT",
        "aggregation_keys TEXT",
        "span_start INTEGER NOT NULL",
        "span_end INTEGER NOT NULL",
    ],
    "PRIMARY KEY (rule, analysis, stage)",
);
pub(crate) const PREDICATES: Table = Table::keyed(
    "predicates",
    &[
        RULE,
        "analysis INTEGER NOT NULL",
        "stage INTEGER NOT NULL",
        "predicate INTEGER NOT NULL",
        "field TEXT NOT NULL",
        "resolved_field TEXT",
        "dataset INTEGER",
        "origin TEXT NOT NULL",
        "functions TEXT",
        "op TEXT NOT NULL",
        "written_op TEXT NOT NULL",
        "\"values\" TEXT NOT NULL",
        "case_sensitive INTEGER NOT NULL",
        "excluded INTEGER NOT NULL",
        "time_filter INTEGER NOT NULL",
        "span_start INTEGER NOT NULL",
        "span_end INTEGER NOT NULL",
    ],
    "PRIMARY KEY (rule, analysis, stage, predicate)",
);
pub(crate) const INDICATORS: Table = Table::new(
    "indicators",
    &[
        RULE,
        "analysis INTEGER NOT NULL",
        "field TEXT NOT NULL",
        "kind TEXT NOT NULL",
        "value TEXT NOT NULL",
        "canonical INTEGER NOT NULL",
        "exclusion INTEGER NOT NULL",
        "raw_field TEXT NOT NULL",
        "resolved_field TEXT",
        "dataset TEXT",
        "written_op TEXT NOT NULL",
        "raw_value TEXT NOT NULL",
        "note TEXT",
    ],
);
pub(crate) const EVENT_COVERAGE: Table = Table::new(
    "event_coverage",
    &[
        RULE,
        "analysis INTEGER NOT NULL",
        "dataset TEXT NOT NULL",
        "role TEXT NOT NULL",
        "provider TEXT NOT NULL",
        "product TEXT NOT NULL",
        "event TEXT NOT NULL",
        "title TEXT NOT NULL",
        "why TEXT NOT NULL",
        "narrowed_by TEXT",
        "fields_read TEXT",
        "fit TEXT NOT NULL",
        "missing TEXT",
        "correlate_with TEXT",
        "known INTEGER NOT NULL",
    ],
);
pub(crate) const ATTACK: Table = Table::new(
    "attack",
    &[
        RULE,
        "tactic_id TEXT NOT NULL",
        "tactic TEXT NOT NULL",
        "technique_id TEXT",
        "technique TEXT",
        "legacy_label INTEGER NOT NULL",
    ],
);
pub(crate) const RULE_TECHNIQUES: Table =
    Table::keyed("rule_techniques", &[RULE, "technique_id TEXT NOT NULL"], "PRIMARY KEY (rule, technique_id)");
pub(crate) const ATTACK_NOTES: Table =
    Table::new("attack_notes", &[RULE, "tag TEXT NOT NULL", "resolution TEXT NOT NULL", "text TEXT NOT NULL"]);
pub(crate) const LINKS: Table = Table::new(
    "links",
    &[RULE, "kind TEXT NOT NULL", "target TEXT NOT NULL", "target_rule INTEGER REFERENCES rules(rule)"],
);
pub(crate) const RELATED_RULES: Table = Table::keyed(
    "related_rules",
    &[RULE, "related INTEGER NOT NULL REFERENCES rules(rule)", "relation TEXT NOT NULL", "score REAL", "reason TEXT"],
    "PRIMARY KEY (rule, related, relation)",
);
pub(crate) const FINDINGS: Table = Table::new(
    "findings",
    &[
        RULE,
        "code TEXT NOT NULL",
        "severity TEXT NOT NULL",
        "origin TEXT NOT NULL",
        "line INTEGER NOT NULL",
        "column INTEGER NOT NULL",
        "end_line INTEGER NOT NULL",
        "end_column INTEGER NOT NULL",
        "span_start INTEGER NOT NULL",
        "span_end INTEGER NOT NULL",
        "message TEXT NOT NULL",
        "help TEXT",
        "fingerprint TEXT NOT NULL",
    ],
);
/// The two documents `show` prints, zlib-compressed (they are most of a rule's bytes, and the
/// site keeps the readable twin as `index.json` beside each page).
pub(crate) const RULE_DOCUMENTS: Table = Table::new(
    "rule_documents",
    &["rule INTEGER PRIMARY KEY REFERENCES rules(rule)", "text BLOB NOT NULL", "twin BLOB NOT NULL"],
);

/// Every table, in creation order.
const TABLES: [&Table; 16] = [
    &META,
    &SOURCES,
    &RULES,
    &QUERIES,
    &DATASETS,
    &STAGES,
    &PREDICATES,
    &INDICATORS,
    &EVENT_COVERAGE,
    &ATTACK,
    &RULE_TECHNIQUES,
    &ATTACK_NOTES,
    &LINKS,
    &RELATED_RULES,
    &FINDINGS,
    &RULE_DOCUMENTS,
];

/// Indexes for the lookups of `show`, `find` and `coverage`.
const INDEXES: &str = "
CREATE INDEX rules_path ON rules(path);
CREATE INDEX indicators_value ON indicators(value);
CREATE INDEX indicators_rule ON indicators(rule);
CREATE INDEX event_coverage_event ON event_coverage(provider, event);
CREATE INDEX event_coverage_rule ON event_coverage(rule);
CREATE INDEX attack_technique ON attack(technique_id);
CREATE INDEX findings_rule ON findings(rule);
";

/// Every table and index, as one batch.
pub(crate) fn create_sql() -> String {
    let mut sql: String = TABLES.iter().map(|table| table.create()).collect();
    sql.push_str(INDEXES);
    sql
}
