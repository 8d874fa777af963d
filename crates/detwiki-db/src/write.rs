//! Writing `catalog.sqlite`: every table filled in catalog order inside one transaction, then
//! `VACUUM`, so that the same catalog gives the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use detwiki_catalog::{
    Catalog, CatalogIndex, CatalogRule, Finding, RuleFacts, RuleView, TagNote, equivalent_rules, expr_text, rule_text,
};
use detwiki_ir::{Analysis, Expr, FieldOrigin, Predicate};
use detwiki_knowledge::Fit;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use rusqlite::{Connection, Transaction, params};

use crate::DbError;
use crate::schema::{self, SCHEMA_VERSION, Table};

/// Upper bound on predicate-tree nesting stored (engines bound their trees; a second guard).
const MAX_DEPTH: usize = 256;

/// What the database is written from.
#[derive(Debug, Clone, Copy)]
pub struct WriteInput<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a CatalogIndex,
    /// Every finding of the catalog ([`detwiki_catalog::catalog_findings`]).
    pub findings: &'a [Finding],
    /// Local folder of each source by name (git sources: their checkout), for absolute paths.
    pub roots: &'a BTreeMap<String, PathBuf>,
    /// The build time, as pages show it.
    pub generated: &'a str,
}

/// Writes the database to `path`, replacing any file there only once the new one is complete.
pub fn write_catalog(input: &WriteInput<'_>, path: &Path) -> Result<(), DbError> {
    let staging = path.with_extension("sqlite.partial");
    let _ = std::fs::remove_file(&staging);
    {
        let mut connection = Connection::open(&staging)?;
        // A build writes a fresh file it renames at the end: no journal is needed.
        connection.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
        connection.execute_batch(&schema::create_sql())?;
        connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        let transaction = connection.transaction()?;
        fill(&transaction, input)?;
        transaction.commit()?;
        connection.execute_batch("VACUUM;")?;
    }
    std::fs::rename(&staging, path).map_err(|source| DbError::Io { path: path.display().to_string(), source })
}

fn fill(transaction: &Transaction<'_>, input: &WriteInput<'_>) -> Result<(), DbError> {
    let catalog = input.catalog;
    let attack_release = input.index.facts.first().map(|facts| facts.attack.release.clone()).unwrap_or_default();
    {
        let mut meta = transaction.prepare(&schema::META.insert())?;
        meta.execute(params!["schema_version", SCHEMA_VERSION.to_string()])?;
        meta.execute(params!["detwiki_version", env!("CARGO_PKG_VERSION")])?;
        meta.execute(params!["generated", input.generated])?;
        meta.execute(params!["attack_release", attack_release])?;
        meta.execute(params!["rules", catalog.rules.len().to_string()])?;
    }
    {
        let mut statement = transaction.prepare(&schema::SOURCES.insert())?;
        for (info, counts) in catalog.counts_by_source() {
            let root = input.roots.get(&info.name).map(|root| root.display().to_string());
            statement.execute(params![
                info.name,
                info.slug,
                root,
                info.repository_url,
                info.commit,
                info.license,
                info.files_seen as i64,
                counts.rules as i64,
                info.skipped.len() as i64,
            ])?;
        }
    }
    // A rule's key is its catalog position; findings name rules by id.
    let keys: HashMap<&str, i64> =
        catalog.rules.iter().enumerate().map(|(position, entry)| (entry.rule.id.as_str(), position as i64)).collect();
    let (folders, _) = detwiki_site::assign_folders(catalog.rules.iter().map(|entry| entry.rule.id.as_str()));
    let mut writer = RuleWriter::new(transaction)?;
    let mut relations = Vec::new();
    for (position, entry) in catalog.rules.iter().enumerate() {
        let Some(facts) = input.index.facts.get(position) else { continue };
        let key = position as i64;
        let page = folders.get(position).map(|folder| format!("rules/{folder}/")).unwrap_or_default();
        writer.rule(key, entry, facts, &page)?;
        writer.analyses(key, entry)?;
        writer.facts(key, facts)?;
        let view = RuleView::new(catalog, input.index, position);
        let text = view.as_ref().map(|view| rule_text(catalog, position, view)).unwrap_or_default();
        let twin = detwiki_site::rule_twin_json(catalog, input.index, position, &folders)
            .and_then(|pretty| serde_json::from_str::<serde_json::Value>(&pretty).ok())
            .map(|value| value.to_string())
            .unwrap_or_default();
        writer.document.execute(params![key, compress(&text)?, compress(&twin)?])?;
        // The computed relations, as the rule's page lists them (declared ones are in `links`).
        for related in view.map(|view| view.related).unwrap_or_default() {
            let (Some(score), Some(other)) = (related.score, related.position) else { continue };
            relations.push((key, other as i64, related.kind, score.value(), related.reason));
        }
    }
    // Relations after every rule, like links: the other rule may be a later one.
    for (key, other, kind, score, reason) in relations {
        writer.related.execute(params![key, other, kind, score, reason])?;
    }
    // Links and findings after every rule: a link's target may be a later rule.
    for (position, entry) in catalog.rules.iter().enumerate() {
        for link in &entry.links {
            let target = link.position.map(|target| target as i64);
            writer.link.execute(params![position as i64, link.kind.as_str(), link.target, target])?;
        }
    }
    for finding in input.findings {
        let Some(key) = keys.get(finding.rule.as_str()) else { continue };
        writer.finding.execute(params![
            key,
            finding.code,
            finding.severity.as_str(),
            finding.origin.as_str(),
            finding.line,
            finding.column,
            finding.end_line,
            finding.end_column,
            finding.span.start,
            finding.span.end,
            finding.message,
            finding.help,
            finding.fingerprint,
        ])?;
    }
    for (position, others) in equivalent_rules(catalog, input.index) {
        for other in others.iter() {
            writer.related.execute(params![position as i64, *other as i64, "same_indicators", 1.0, None::<String>])?;
        }
    }
    Ok(())
}

/// A document as stored: zlib (RFC 1950) at the default level, deterministic for the same text.
fn compress(text: &str) -> Result<Vec<u8>, DbError> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(text.len() / 4), Compression::default());
    encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|source| DbError::Io { path: "(compressing a rule document)".to_owned(), source })
}

/// The prepared insert of every per-rule table.
struct RuleWriter<'t> {
    rule: rusqlite::Statement<'t>,
    query: rusqlite::Statement<'t>,
    dataset: rusqlite::Statement<'t>,
    stage: rusqlite::Statement<'t>,
    predicate: rusqlite::Statement<'t>,
    indicator: rusqlite::Statement<'t>,
    coverage: rusqlite::Statement<'t>,
    attack: rusqlite::Statement<'t>,
    technique: rusqlite::Statement<'t>,
    note: rusqlite::Statement<'t>,
    link: rusqlite::Statement<'t>,
    related: rusqlite::Statement<'t>,
    finding: rusqlite::Statement<'t>,
    document: rusqlite::Statement<'t>,
}

impl<'t> RuleWriter<'t> {
    fn new(transaction: &'t Transaction<'_>) -> Result<Self, DbError> {
        let prepare = |table: &Table| transaction.prepare(&table.insert());
        Ok(RuleWriter {
            rule: prepare(&schema::RULES)?,
            query: prepare(&schema::QUERIES)?,
            dataset: prepare(&schema::DATASETS)?,
            stage: prepare(&schema::STAGES)?,
            predicate: prepare(&schema::PREDICATES)?,
            indicator: prepare(&schema::INDICATORS)?,
            coverage: prepare(&schema::EVENT_COVERAGE)?,
            attack: prepare(&schema::ATTACK)?,
            technique: prepare(&schema::RULE_TECHNIQUES)?,
            note: prepare(&schema::ATTACK_NOTES)?,
            link: prepare(&schema::LINKS)?,
            related: prepare(&schema::RELATED_RULES)?,
            finding: prepare(&schema::FINDINGS)?,
            document: prepare(&schema::RULE_DOCUMENTS)?,
        })
    }

    fn rule(&mut self, key: i64, entry: &CatalogRule, facts: &RuleFacts, page: &str) -> Result<(), DbError> {
        let rule = &entry.rule;
        let metadata = &rule.metadata;
        let format = serde_json::to_value(rule.format).ok().and_then(|value| value.as_str().map(str::to_owned));
        self.rule.execute(params![
            key,
            rule.id,
            rule.provenance.source,
            rule.provenance.path,
            metadata.title,
            rule.family.as_str(),
            format.unwrap_or_default(),
            metadata.rule_id,
            metadata.status,
            metadata.severity,
            metadata.lookback,
            metadata.frequency,
            rule.provenance.permalink,
            page,
            facts.vendor_alerts,
            entry.has_errors(),
        ])?;
        for (index, query) in rule.queries.iter().enumerate() {
            self.query.execute(params![
                key,
                index as i64,
                query.name,
                query.language.as_str(),
                query.span.start,
                query.span.end,
                query.text,
            ])?;
        }
        Ok(())
    }

    fn analyses(&mut self, key: i64, entry: &CatalogRule) -> Result<(), DbError> {
        for (analysis_index, query) in entry.analyses.iter().enumerate() {
            let analysis: &Analysis = &query.analysis;
            for (index, dataset) in analysis.datasets.iter().enumerate() {
                let attributes =
                    (!dataset.attributes.is_empty()).then(|| serde_json::to_string(&dataset.attributes).ok()).flatten();
                self.dataset.execute(params![
                    key,
                    analysis_index as i64,
                    index as i64,
                    dataset.name,
                    dataset.role.as_str(),
                    attributes,
                    dataset.time_window.as_ref().map(|window| window.text.clone()),
                    dataset.time_window.as_ref().and_then(|window| window.seconds).map(|seconds| seconds as i64),
                    dataset.span.start,
                    dataset.span.end,
                ])?;
            }
            for (stage_index, stage) in analysis.stages.iter().enumerate() {
                let keys = (!stage.aggregation_keys.is_empty()).then(|| stage.aggregation_keys.join(", "));
                self.stage.execute(params![
                    key,
                    analysis_index as i64,
                    stage_index as i64,
                    stage.kind,
                    stage.label,
                    stage.dataset.map(|dataset| dataset as i64),
                    stage.negated,
                    stage.predicate.as_ref().map(expr_text),
                    keys,
                    stage.span.start,
                    stage.span.end,
                ])?;
                let Some(tree) = &stage.predicate else { continue };
                let mut predicates = Vec::new();
                collect_predicates(tree, stage.negated, 0, &mut predicates);
                for (predicate_index, (predicate, excluded)) in predicates.into_iter().enumerate() {
                    self.predicate(key, analysis_index, stage_index, predicate_index, predicate, excluded)?;
                }
            }
        }
        Ok(())
    }

    fn predicate(
        &mut self,
        key: i64,
        analysis: usize,
        stage: usize,
        index: usize,
        predicate: &Predicate,
        excluded: bool,
    ) -> Result<(), DbError> {
        let origin = match predicate.origin {
            FieldOrigin::Event => "event",
            FieldOrigin::Computed { .. } => "computed",
            FieldOrigin::Aggregate { .. } => "aggregate",
            FieldOrigin::Keyword => "keyword",
        };
        let functions =
            (!predicate.functions.is_empty()).then(|| serde_json::to_string(&predicate.functions).ok()).flatten();
        self.predicate.execute(params![
            key,
            analysis as i64,
            stage as i64,
            index as i64,
            predicate.field,
            predicate.resolved_field,
            predicate.dataset.map(|dataset| dataset as i64),
            origin,
            functions,
            predicate.op.as_str(),
            predicate.written_op,
            serde_json::to_string(&predicate.values).unwrap_or_default(),
            predicate.case_sensitive,
            excluded ^ predicate.negated,
            predicate.time_filter,
            predicate.span.start,
            predicate.span.end,
        ])?;
        Ok(())
    }

    fn facts(&mut self, key: i64, facts: &RuleFacts) -> Result<(), DbError> {
        for occurrence in &facts.indicators {
            self.indicator.execute(params![
                key,
                occurrence.analysis as i64,
                occurrence.key.field,
                occurrence.key.kind,
                occurrence.key.value,
                occurrence.key.canonical,
                occurrence.exclusion,
                occurrence.raw_field,
                occurrence.resolved_field,
                occurrence.dataset,
                occurrence.written_op,
                occurrence.raw_value,
                occurrence.note,
            ])?;
        }
        for row in &facts.coverage {
            let (missing, correlate) = match &row.fit {
                Fit::Partial { missing, correlate_with } => (
                    Some(missing.join(", ")),
                    correlate_with.as_ref().map(|hint| format!("{} {}", hint.provider, hint.event)),
                ),
                Fit::Full | Fit::Unknown => (None, None),
            };
            self.coverage.execute(params![
                key,
                row.analysis as i64,
                row.dataset,
                row.role.as_str(),
                row.provider,
                row.product,
                row.event,
                row.title,
                row.why,
                (!row.narrowed_by.is_empty()).then(|| row.narrowed_by.join("; ")),
                (!row.fields_read.is_empty()).then(|| row.fields_read.join(", ")),
                row.fit_name(),
                missing,
                correlate,
                row.known,
            ])?;
        }
        for row in &facts.attack.rows {
            if row.techniques.is_empty() {
                self.attack.execute(params![
                    key,
                    row.tactic_id,
                    row.tactic,
                    None::<String>,
                    None::<String>,
                    row.legacy_label
                ])?;
            }
            for technique in &row.techniques {
                self.attack.execute(params![
                    key,
                    row.tactic_id,
                    row.tactic,
                    technique.id,
                    technique.name,
                    row.legacy_label
                ])?;
            }
        }
        for technique in &facts.attack.technique_ids {
            self.technique.execute(params![key, technique])?;
        }
        for note in &facts.attack.notes {
            let (tag, resolution) = match note {
                TagNote::Revoked { tag, .. } => (tag, "revoked"),
                TagNote::Deprecated { tag, .. } => (tag, "deprecated"),
                TagNote::Unknown { tag, .. } => (tag, "unknown"),
                TagNote::LegacyTactic { tag, .. } => (tag, "legacy_tactic"),
            };
            self.note.execute(params![key, tag, resolution, note.text()])?;
        }
        Ok(())
    }
}

/// Every predicate of a tree in order, with whether it sits under an odd number of negations.
fn collect_predicates<'a>(expr: &'a Expr, negated: bool, depth: usize, out: &mut Vec<(&'a Predicate, bool)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match expr {
        Expr::And { items } | Expr::Or { items } => {
            for item in items {
                collect_predicates(item, negated, depth + 1, out);
            }
        }
        Expr::Not { item } => collect_predicates(item, !negated, depth + 1, out),
        Expr::Predicate(predicate) => out.push((predicate, negated)),
        Expr::Opaque { .. } => {}
    }
}
