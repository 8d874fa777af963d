//! `detwiki show RULE`: one rule's catalog view (ATT&CK, event coverage, indicators with corpus
//! counts) from the catalog database; `--json` prints the rule page's JSON twin.
//!
//! RULE is a rule id, a file path as the page shows it (source-relative, or absolute inside a
//! source), or a unique title fragment; an ambiguous RULE lists the candidates. With `--config`, a
//! file outside the sources is read and added to the catalog, so its indicators are counted
//! against the whole catalog too.

use std::path::Path;

use detwiki_db::Resolved;

use crate::catalog_input::open_catalog;
use crate::flags::ShowArgs;
use crate::messages::{Outcome, message};

pub fn run(args: &ShowArgs) -> Outcome {
    let wanted = Path::new(&args.rule);
    let file = wanted.is_file().then_some(wanted);
    let opened = match open_catalog(&args.catalog, file) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    // An existing file is looked up by its canonical path, so `./x/../y.md` finds `y.md`.
    let lookup = file
        .and_then(|file| file.canonicalize().ok())
        .map_or_else(|| args.rule.clone(), |path| path.display().to_string());
    let resolved = match opened.db.resolve(&lookup) {
        Ok(Resolved::None) if lookup != args.rule => opened.db.resolve(&args.rule),
        other => other,
    };
    let rule = match resolved {
        Ok(Resolved::One(rule)) => rule,
        Ok(Resolved::Ambiguous(candidates)) => {
            message!("{}: {} rules match; pass one of these ids:", args.rule, candidates.len());
            let mut list = String::new();
            for candidate in &candidates {
                list.push_str(&format!("  {}\n", candidate.text()));
            }
            let _ = crate::output::write_stdout(&list);
            return Outcome::Failures;
        }
        Ok(Resolved::None) => {
            message!(
                "{}: no rule with this id, file path or title in the catalog; `detwiki find` searches by indicator",
                args.rule
            );
            return Outcome::Failures;
        }
        Err(error) => {
            message!("{error}");
            return Outcome::Failures;
        }
    };
    let documents = match opened.db.documents(&rule) {
        Ok(Some(documents)) => documents,
        Ok(None) => {
            message!("{}: the catalog has no view of this rule", rule.id);
            return Outcome::Failures;
        }
        Err(error) => {
            message!("{error}");
            return Outcome::Failures;
        }
    };
    let (text, twin) = documents;
    let printed = if args.json {
        // Stored compact; printed exactly as the page's `index.json`.
        match serde_json::from_str::<serde_json::Value>(&twin).and_then(|value| serde_json::to_string_pretty(&value)) {
            Ok(mut pretty) => {
                pretty.push('\n');
                pretty
            }
            Err(error) => {
                message!("{}: the stored JSON twin is unreadable: {error}", rule.id);
                return Outcome::Failures;
            }
        }
    } else {
        text
    };
    let _ = crate::output::write_stdout(&printed);
    Outcome::Success
}
