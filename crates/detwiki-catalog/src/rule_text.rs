//! One rule's catalog view as plain text, as `detwiki show` prints it. The catalog database stores
//! this text for every rule at build time, so `show` answers from the database without rebuilding
//! the catalog and prints exactly what an in-memory catalog would.

use std::fmt::Write as _;

use crate::{Catalog, RuleView};

/// The view as plain text for the terminal.
pub fn rule_text(catalog: &Catalog, position: usize, view: &RuleView) -> String {
    let mut out = String::new();
    let Some(entry) = catalog.rules.get(position) else { return out };
    let title = entry.rule.metadata.title.clone().unwrap_or_else(|| entry.rule.provenance.path.clone());
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "id: {}  ({}, {})", view.id, entry.rule.family.display_name(), entry.rule.provenance.path);
    if let Some(reason) = &view.vendor_alerts {
        let _ = writeln!(out, "forwards a vendor's alerts: {reason} (left out of ATT&CK coverage)");
    }
    if let Some(kind) = &view.building_block {
        let _ = writeln!(out, "building block ({kind}): its alerts feed other rules and are hidden by default");
    }
    for window in &view.time_windows.lookbacks {
        let dataset = window.dataset.as_deref().unwrap_or("");
        let _ = writeln!(out, "lookback: {} on {dataset}", window.text);
    }
    for window in &view.time_windows.correlation {
        let _ = writeln!(out, "correlation span: {}", window.text);
    }

    let _ = writeln!(out, "\nATT&CK (v{})", view.attack.release);
    if view.attack.rows.is_empty() {
        let _ = writeln!(out, "  (no tactic or technique)");
    }
    for row in &view.attack.rows {
        if row.techniques.is_empty() {
            let legacy = if row.legacy_label { " (legacy tag)" } else { "" };
            let _ = writeln!(out, "  {} | no specific technique{legacy}", row.tactic);
        }
        for technique in &row.techniques {
            let _ = writeln!(out, "  {} | {}", row.tactic, technique.display());
        }
    }
    for note in &view.attack.notes {
        let _ = writeln!(out, "  note: {}", note.text());
    }

    let _ = writeln!(out, "\nEvent coverage");
    if view.event_coverage.is_empty() {
        let _ = writeln!(out, "  (no dataset analysed)");
    }
    for row in &view.event_coverage {
        let _ = writeln!(out, "  {} {} {} | {}", row.provider, row.event, row.title, row.fit_text());
        let _ = writeln!(out, "      why: {}", row.why);
    }

    if !view.exclusions.is_empty() {
        let _ = writeln!(out, "\nExclusions");
        for exclusion in &view.exclusions {
            let _ = writeln!(out, "  [{}] {}", exclusion.stage, exclusion.condition);
        }
    }

    let _ = writeln!(out, "\nIndicators (rules in the catalog looking for the same)");
    if view.indicators.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for row in &view.indicators {
        let sources: Vec<String> = row.sources.iter().map(|source| source.text()).collect();
        let _ = writeln!(
            out,
            "  {} {} {} | {} | {}",
            row.field,
            row.kind,
            row.value,
            row.corpus.text(),
            sources.join("; ")
        );
    }
    if !view.output_fields.is_empty() {
        let _ = writeln!(out, "\nOutput fields: {}", view.output_fields.join(", "));
    }
    if !view.related.is_empty() {
        let _ = writeln!(out, "\nRelated rules");
        for related in &view.related {
            let other = related.rule.as_deref().or(related.target.as_deref()).unwrap_or_default();
            let title = related.title.as_deref().map(|title| format!(" \"{title}\"")).unwrap_or_default();
            let score = related.score.map(|score| format!(" {}", score.text())).unwrap_or_default();
            let _ = writeln!(out, "  {}{score} | {other}{title}", related.label());
            let _ = writeln!(out, "      why: {}", related.reason);
        }
    }
    let diagnostics = entry.diagnostics().count();
    if diagnostics > 0 {
        let _ = writeln!(out, "\n{diagnostics} diagnostic(s): see `detwiki analyze {}`", entry.rule.provenance.path);
    }
    out
}
