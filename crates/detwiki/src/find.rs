//! `detwiki find`: rules by indicator, technique, event, language and source, with why each one
//! matched; `--json` prints one document.

use std::fmt::Write as _;

use detwiki_db::{FindMatch, FindQuery};

use crate::catalog_input::open_catalog;
use crate::flags::FindArgs;
use crate::messages::{Outcome, message};

pub fn run(args: &FindArgs) -> Outcome {
    let query = FindQuery {
        field: args.field.clone(),
        value: args.value.clone(),
        kind: args.kind.clone(),
        technique: args.technique.clone(),
        event: args.event.clone(),
        language: args.language.clone(),
        source: args.source.clone(),
    };
    if query.is_empty() {
        message!("nothing to find: give --field/--value, --technique, --event, --language or --source");
        return Outcome::Usage;
    }
    let opened = match open_catalog(&args.catalog, None) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let matches = match opened.db.find(&query) {
        Ok(matches) => matches,
        Err(error) => {
            message!("{error}");
            return Outcome::Failures;
        }
    };
    let printed = if args.json {
        let document = serde_json::json!({ "count": matches.len(), "rules": matches });
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    } else {
        render_text(&matches)
    };
    if matches.is_empty() && !args.json {
        message!(
            "no rule matches; values match as the catalog stores them (see `detwiki show RULE` for a rule's indicators)"
        );
    }
    let _ = crate::output::write_stdout(&printed);
    Outcome::Success
}

fn render_text(matches: &[FindMatch]) -> String {
    let mut out = String::new();
    for found in matches {
        let _ = writeln!(out, "{}", found.rule.id);
        let _ = writeln!(
            out,
            "  {} | {} | {}: {}",
            found.rule.title.as_deref().unwrap_or("(no title)"),
            found.rule.family,
            found.rule.source,
            found.rule.path
        );
        for indicator in &found.indicators {
            let dataset = indicator.dataset.as_deref().map(|dataset| format!(" on {dataset}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  indicator: {} {} {} (written {} {} {:?}{dataset})",
                indicator.field,
                indicator.kind,
                indicator.value,
                indicator.raw_field,
                indicator.written_op,
                indicator.raw_value
            );
        }
        if !found.techniques.is_empty() {
            let _ = writeln!(out, "  technique: {}", found.techniques.join(", "));
        }
        for event in &found.events {
            let missing = event.missing.as_deref().map(|missing| format!(": no {missing}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  event: {} {} for {} (fit {}{missing})",
                event.provider, event.event, event.dataset, event.fit
            );
        }
    }
    let _ = writeln!(out, "{} rule(s)", matches.len());
    out
}
