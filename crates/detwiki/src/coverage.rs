//! `detwiki coverage`: ATT&CK coverage of the catalog or a subset, every technique of the release
//! listed (zero-rule ones too); with `--telemetry PROFILE`, which rules can fire fully, partly or
//! not at all, and an ATT&CK Navigator layer scored by the rules that can fire.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use detwiki_catalog::{FireLevel, TelemetryProfile};
use detwiki_db::{CoverageQuery, CoverageReport};
use detwiki_knowledge::Knowledge;

use crate::catalog_input::open_catalog;
use crate::flags::CoverageArgs;
use crate::messages::{Outcome, message};

pub fn run(args: &CoverageArgs) -> Outcome {
    let knowledge = Knowledge::bundled();
    let profile = match &args.telemetry {
        Some(path) => match load_profile(path) {
            Ok(profile) => {
                for problem in profile.problems(knowledge) {
                    message!("{problem}");
                }
                Some(profile)
            }
            Err(outcome) => return outcome,
        },
        None => None,
    };
    let opened = match open_catalog(&args.catalog, None) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let query = CoverageQuery { source: args.source.clone(), language: args.language.clone() };
    let report = match opened.db.coverage(knowledge, &query, profile.as_ref()) {
        Ok(report) => report,
        Err(error) => {
            message!("{error}");
            return Outcome::Failures;
        }
    };
    let layer_path: Option<PathBuf> = args
        .layer
        .clone()
        .or_else(|| profile.as_ref().map(|profile| PathBuf::from(format!("{}-layer.json", profile.name))));
    if let Some(path) = &layer_path {
        let name = match &profile {
            Some(profile) => format!("detwiki: rules that can fire with {}", profile.name),
            None => "detwiki: rules per technique".to_owned(),
        };
        let description = subset_text(args);
        let layer = detwiki_site::navigator_layer(&name, &description, &report.attack_release, &report.techniques);
        let mut text = serde_json::to_string_pretty(&layer).unwrap_or_default();
        text.push('\n');
        if let Err(error) = std::fs::write(path, text) {
            message!("{}: {error}", path.display());
            return Outcome::Failures;
        }
    }
    let printed = if args.json {
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        text
    } else {
        render_text(&report, layer_path.as_deref())
    };
    let _ = crate::output::write_stdout(&printed);
    Outcome::Success
}

fn load_profile(path: &Path) -> Result<TelemetryProfile, Outcome> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        message!("{}: {error}", path.display());
        Outcome::Usage
    })?;
    TelemetryProfile::from_toml(&path.display().to_string(), &text).map_err(|error| {
        message!("{error}");
        Outcome::Usage
    })
}

/// Which rules were counted, for the layer's description.
fn subset_text(args: &CoverageArgs) -> String {
    let mut parts = Vec::new();
    if let Some(source) = &args.source {
        parts.push(format!("source {source}"));
    }
    if let Some(language) = &args.language {
        parts.push(format!("language {language}"));
    }
    let subset = if parts.is_empty() { "every rule of the catalog".to_owned() } else { parts.join(", ") };
    format!("Technique coverage of {subset}, written by detwiki")
}

fn render_text(report: &CoverageReport, layer: Option<&Path>) -> String {
    let mut out = String::new();
    let counted = report.rules.iter().filter(|rule| rule.vendor_alerts.is_none()).count();
    let covered = report.techniques.iter().filter(|technique| !technique.rules.is_empty()).count();
    let _ = writeln!(
        out,
        "ATT&CK v{}: {covered} of {} techniques covered; {counted} rule(s) counted ({} forwarding vendor alerts left out)",
        report.attack_release,
        report.techniques.len(),
        report.rules.len() - counted
    );
    if let Some(profile) = &report.profile {
        let _ = writeln!(
            out,
            "telemetry {profile}: {} rule(s) can fire fully, {} partly, {} not at all",
            report.rules_firing(FireLevel::Full),
            report.rules_firing(FireLevel::Partial),
            report.rules_firing(FireLevel::None)
        );
        let _ = writeln!(out, "\nRules that can fire partly (missing fields):");
        for rule in &report.rules {
            let Some(firing) = &rule.firing else { continue };
            if firing.level != FireLevel::Partial {
                continue;
            }
            let _ = writeln!(out, "  {}", rule.rule.id);
            for missing in firing.missing_text() {
                let _ = writeln!(out, "      {missing}");
            }
        }
    }
    let _ =
        writeln!(out, "\nTechniques (rules{}):", if report.profile.is_some() { ", fire fully, partly" } else { "" });
    for technique in &report.techniques {
        let firing = match (technique.fire_full, technique.fire_partial) {
            (Some(full), Some(partial)) => format!(", {full}, {partial}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<10} {:>5}{firing}  {} [{}]",
            technique.id,
            technique.rules.len(),
            technique.name,
            technique.tactics.join(", ")
        );
    }
    if let Some(layer) = layer {
        let _ = writeln!(out, "\nATT&CK Navigator layer written to {}", layer.display());
    }
    out
}
