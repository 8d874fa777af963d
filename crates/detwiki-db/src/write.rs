//! Writing `catalog.sqlite`: every table filled in catalog order inside one transaction, then
//! `VACUUM`, so that the same catalog gives the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use detwiki_catalog::{
    Catalog, CatalogIndex, CatalogRule, Finding, RuleFacts, RuleView, TagNote, equivalent_rules, expr_text, rule_text,
};
use detwiki_ir::{Analysis, Expr, FieldOrigin, Predicate};
use detwiki_knowledge::Fit;
use rusqlite::{Connection, Transaction, params};

use crate::DbError;
use crate::schema::{CREATE, SCHEMA_VERSION};

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
        connection.execute_batch(CREATE)?;
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
        let mut meta = transaction.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
        meta.execute(params!["schema_version", SCHEMA_VERSION.to_string()])?;
        meta.execute(params!["detwiki_version", env!("CARGO_PKG_VERSION")])?;
        meta.execute(params!["generated", input.generated])?;
        meta.execute(params!["attack_release", attack_release])?;
        meta.execute(params!["rules", catalog.rules.len().to_string()])?;
    }
    {
        let mut statement = transaction.prepare(
            "INSERT INTO sources (name, slug, root, repository_url, commit_id, license, files_seen, rules, skipped_files)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
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
    let (folders, _) = detwiki_site::assign_folders(catalog.rules.iter().map(|entry| entry.rule.id.as_str()));
    let mut writer = RuleWriter::new(transaction)?;
    for (position, entry) in catalog.rules.iter().enumerate() {
        let Some(facts) = input.index.facts.get(position) else { continue };
        let page = folders.get(position).map(|folder| format!("rules/{folder}/")).unwrap_or_default();
        writer.rule(position, entry, facts, &page)?;
        writer.analyses(entry)?;
        writer.facts(&entry.rule.id, facts)?;
        for link in &entry.links {
            writer.link.execute(params![entry.rule.id, link.kind.as_str(), link.target, link.rule])?;
        }
        let view = RuleView::new(catalog, input.index, position);
        let text = view.as_ref().map(|view| rule_text(catalog, position, view)).unwrap_or_default();
        let twin = detwiki_site::rule_twin_json(catalog, input.index, position)
            .and_then(|pretty| serde_json::from_str::<serde_json::Value>(&pretty).ok())
            .map(|value| value.to_string())
            .unwrap_or_default();
        writer.document.execute(params![entry.rule.id, text, twin])?;
        // The computed relations, as the rule's page lists them (declared ones are in `links`).
        for related in view.map(|view| view.related).unwrap_or_default() {
            let (Some(score), Some(other)) = (related.score, related.rule) else { continue };
            writer.related.execute(params![entry.rule.id, other, related.kind, score.value(), related.reason])?;
        }
    }
    for finding in input.findings {
        writer.finding.execute(params![
            finding.rule,
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
        let Some(entry) = catalog.rules.get(position) else { continue };
        for other in others.iter().filter_map(|other| catalog.rules.get(*other)) {
            writer.related.execute(params![entry.rule.id, other.rule.id, "same_indicators", 1.0, None::<String>])?;
        }
    }
    Ok(())
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
        Ok(RuleWriter {
            rule: transaction.prepare(
                "INSERT INTO rules (id, position, source, path, title, family, format, rule_id, status, severity,
                 lookback, frequency, permalink, page, vendor_alerts, has_errors)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?,
            query: transaction.prepare(
                "INSERT INTO queries (rule, query, name, language, span_start, span_end, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            dataset: transaction.prepare(
                "INSERT INTO datasets (rule, analysis, dataset, name, role, attributes, time_window,
                 time_window_seconds, span_start, span_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?,
            stage: transaction.prepare(
                "INSERT INTO stages (rule, analysis, stage, kind, label, dataset, negated, condition,
                 aggregation_keys, span_start, span_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            predicate: transaction.prepare(
                "INSERT INTO predicates (rule, analysis, stage, predicate, field, resolved_field, dataset, origin,
                 functions, op, written_op, \"values\", case_sensitive, excluded, time_filter, span_start, span_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?,
            indicator: transaction.prepare(
                "INSERT INTO indicators (rule, analysis, field, kind, value, canonical, exclusion, raw_field,
                 resolved_field, dataset, written_op, raw_value, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?,
            coverage: transaction.prepare(
                "INSERT INTO event_coverage (rule, analysis, dataset, role, provider, product, event, title, why,
                 narrowed_by, fields_read, fit, missing, correlate_with, known)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?,
            attack: transaction.prepare(
                "INSERT INTO attack (rule, tactic_id, tactic, technique_id, technique, legacy_label)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            technique: transaction.prepare("INSERT INTO rule_techniques (rule, technique_id) VALUES (?1, ?2)")?,
            note: transaction
                .prepare("INSERT INTO attack_notes (rule, tag, resolution, text) VALUES (?1, ?2, ?3, ?4)")?,
            link: transaction.prepare("INSERT INTO links (rule, kind, target, target_rule) VALUES (?1, ?2, ?3, ?4)")?,
            related: transaction.prepare(
                "INSERT INTO related_rules (rule, related, relation, score, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            finding: transaction.prepare(
                "INSERT INTO findings (rule, code, severity, origin, line, column, end_line, end_column, span_start,
                 span_end, message, help, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?,
            document: transaction.prepare("INSERT INTO rule_documents (rule, text, twin) VALUES (?1, ?2, ?3)")?,
        })
    }

    fn rule(&mut self, position: usize, entry: &CatalogRule, facts: &RuleFacts, page: &str) -> Result<(), DbError> {
        let rule = &entry.rule;
        let metadata = &rule.metadata;
        let format = serde_json::to_value(rule.format).ok().and_then(|value| value.as_str().map(str::to_owned));
        self.rule.execute(params![
            rule.id,
            position as i64,
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
                rule.id,
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

    fn analyses(&mut self, entry: &CatalogRule) -> Result<(), DbError> {
        let id = &entry.rule.id;
        for (analysis_index, query) in entry.analyses.iter().enumerate() {
            let analysis: &Analysis = &query.analysis;
            for (index, dataset) in analysis.datasets.iter().enumerate() {
                let attributes =
                    (!dataset.attributes.is_empty()).then(|| serde_json::to_string(&dataset.attributes).ok()).flatten();
                self.dataset.execute(params![
                    id,
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
                    id,
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
                    self.predicate(id, analysis_index, stage_index, predicate_index, predicate, excluded)?;
                }
            }
        }
        Ok(())
    }

    fn predicate(
        &mut self,
        id: &str,
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
            id,
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

    fn facts(&mut self, id: &str, facts: &RuleFacts) -> Result<(), DbError> {
        for occurrence in &facts.indicators {
            self.indicator.execute(params![
                id,
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
                id,
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
                    id,
                    row.tactic_id,
                    row.tactic,
                    None::<String>,
                    None::<String>,
                    row.legacy_label
                ])?;
            }
            for technique in &row.techniques {
                self.attack.execute(params![
                    id,
                    row.tactic_id,
                    row.tactic,
                    technique.id,
                    technique.name,
                    row.legacy_label
                ])?;
            }
        }
        for technique in &facts.attack.technique_ids {
            self.technique.execute(params![id, technique])?;
        }
        for note in &facts.attack.notes {
            let (tag, resolution) = match note {
                TagNote::Revoked { tag, .. } => (tag, "revoked"),
                TagNote::Deprecated { tag, .. } => (tag, "deprecated"),
                TagNote::Unknown { tag, .. } => (tag, "unknown"),
                TagNote::LegacyTactic { tag, .. } => (tag, "legacy_tactic"),
            };
            self.note.execute(params![id, tag, resolution, note.text()])?;
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
