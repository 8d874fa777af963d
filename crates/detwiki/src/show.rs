//! `detwiki show RULE`: builds the catalog of a sources file and prints one rule's catalog view
//! (ATT&CK, event coverage, indicators with corpus counts); `--json` prints the rule page's JSON
//! twin.
//!
//! RULE is a rule id, or a path to a file: a file inside a source of the sources file is found
//! there; any other file is read and added to the catalog, so its indicators are counted against
//! the whole catalog too.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, RuleView, SourceEntry};
use detwiki_ir::Rule;
use detwiki_knowledge::Knowledge;
use detwiki_sources::{ReadOptions, load_sources_file, read_paths, read_source, source_name};

use crate::flags::ShowArgs;
use crate::messages::{Outcome, message};

pub fn run(args: &ShowArgs) -> Outcome {
    if !args.config.is_file() {
        message!("{}: sources file not found; pass --config FILE", args.config.display());
        return Outcome::Usage;
    }
    let specs = match load_sources_file(&args.config) {
        Ok(specs) => specs,
        Err(error) => {
            message!("{error}");
            return Outcome::Usage;
        }
    };
    let cache_dir = args.cache.clone().unwrap_or_else(|| PathBuf::from(".detwiki-cache"));
    let options = ReadOptions { cache_dir };
    let mut inputs: Vec<(SourceEntry, Vec<Rule>)> = Vec::new();
    let mut roots: Vec<(String, PathBuf)> = Vec::new();
    let mut outcome = Outcome::Success;
    for spec in &specs {
        match read_source(spec, &options, &|_| {}) {
            Ok(read) => {
                if let Some(path) = &spec.path {
                    roots.push((source_name(spec), path.clone()));
                }
                inputs.push((SourceEntry { info: read.info, context: read.context }, read.rules));
            }
            Err(error) => {
                message!("{error}");
                outcome = Outcome::Failures;
            }
        }
    }

    let wanted = Path::new(&args.rule);
    let in_sources = wanted.is_file() && find_in_sources(&inputs, &roots, wanted).is_some();
    if wanted.is_file() && !in_sources {
        let read = read_paths(&[wanted.to_path_buf()]);
        inputs.push((SourceEntry { info: read.info, context: read.context }, read.rules));
    }
    let target_id = if wanted.is_file() {
        find_in_sources(&inputs, &roots, wanted)
            .or_else(|| inputs.last().and_then(|(_, rules)| rules.first()).map(|rule| rule.id.clone()))
    } else {
        Some(args.rule.clone())
    };

    let catalog = Catalog::build(inputs, &|_| {});
    let index = CatalogIndex::build(&catalog, Knowledge::bundled());
    let Some(position) = target_id.and_then(|id| catalog.rules.iter().position(|entry| entry.rule.id == id)) else {
        message!(
            "{}: no such rule id in {} and no such rule file; ids are shown by `detwiki analyze --json`",
            args.rule,
            args.config.display()
        );
        return Outcome::Failures;
    };
    let printed = if args.json {
        detwiki_site::rule_twin_json(&catalog, &index, position)
    } else {
        RuleView::new(&catalog, &index, position).map(|view| render_text(&catalog, position, &view))
    };
    match printed {
        Some(text) => {
            let _ = crate::output::write_stdout(&text);
        }
        None => {
            message!("{}: cannot render the rule", args.rule);
            return Outcome::Failures;
        }
    }
    outcome
}

/// The id of the rule read from `file` when the file lies inside one of the sources.
fn find_in_sources(inputs: &[(SourceEntry, Vec<Rule>)], roots: &[(String, PathBuf)], file: &Path) -> Option<String> {
    let file = file.canonicalize().ok()?;
    for (entry, rules) in inputs {
        let Some((_, root)) = roots.iter().find(|(name, _)| *name == entry.info.name) else { continue };
        let Ok(root) = root.canonicalize() else { continue };
        let Ok(relative) = file.strip_prefix(&root) else { continue };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if let Some(rule) = rules.iter().find(|rule| rule.provenance.path == relative) {
            return Some(rule.id.clone());
        }
    }
    None
}

/// The view as plain text for the terminal.
fn render_text(catalog: &Catalog, position: usize, view: &RuleView) -> String {
    let mut out = String::new();
    let Some(entry) = catalog.rules.get(position) else { return out };
    let title = entry.rule.metadata.title.clone().unwrap_or_else(|| entry.rule.provenance.path.clone());
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "id: {}  ({}, {})", view.id, entry.rule.family.display_name(), entry.rule.provenance.path);
    if let Some(reason) = &view.vendor_alerts {
        let _ = writeln!(out, "forwards a vendor's alerts: {reason} (left out of ATT&CK coverage)");
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
    let diagnostics = entry.diagnostics().count();
    if diagnostics > 0 {
        let _ = writeln!(out, "\n{diagnostics} diagnostic(s): see `detwiki analyze {}`", entry.rule.provenance.path);
    }
    out
}
