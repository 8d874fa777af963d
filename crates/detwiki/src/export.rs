//! `detwiki export`: the catalog as a SQLite database, as NDJSON (one rule page twin per line, in
//! catalog order), or as ATT&CK Navigator layers (one per family with rules, and one for all).

use std::io::Write as _;
use std::path::Path;

use detwiki_db::{CatalogDb, CoverageQuery};
use detwiki_ir::Family;
use detwiki_knowledge::Knowledge;

use crate::catalog_input::open_catalog;
use crate::flags::{ExportArgs, ExportFormat};
use crate::messages::{Outcome, message};

pub fn run(args: &ExportArgs) -> Outcome {
    let opened = match open_catalog(&args.catalog, None) {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let result = match args.format {
        ExportFormat::Sqlite => opened.db.copy_to(&args.out).map_err(|error| error.to_string()),
        ExportFormat::Ndjson => write_ndjson(&opened.db, &args.out),
        ExportFormat::Navigator => write_layers(&opened.db, &args.out),
    };
    match result {
        Ok(()) => {
            message!("wrote {}", args.out.display());
            Outcome::Success
        }
        Err(error) => {
            message!("{}: {error}", args.out.display());
            Outcome::Failures
        }
    }
}

fn write_ndjson(db: &CatalogDb, out: &Path) -> Result<(), String> {
    let file = std::fs::File::create(out).map_err(|error| error.to_string())?;
    let mut writer = std::io::BufWriter::new(file);
    let mut failure = None;
    db.for_each_twin(|twin| match writeln!(writer, "{twin}") {
        Ok(()) => true,
        Err(error) => {
            failure = Some(error.to_string());
            false
        }
    })
    .map_err(|error| error.to_string())?;
    if let Some(error) = failure {
        return Err(error);
    }
    writer.flush().map_err(|error| error.to_string())
}

/// `all.json` and `<family>.json` for every family with at least one rule.
fn write_layers(db: &CatalogDb, out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|error| error.to_string())?;
    let knowledge = Knowledge::bundled();
    let mut layers: Vec<(String, String, CoverageQuery)> =
        vec![("all".to_owned(), "every rule of the catalog".to_owned(), CoverageQuery::default())];
    for family in Family::ALL {
        layers.push((
            family.as_str().to_owned(),
            format!("{} rules", family.display_name()),
            CoverageQuery { language: Some(family.as_str().to_owned()), source: None },
        ));
    }
    for (name, subset, query) in layers {
        let report = db.coverage(knowledge, &query, None).map_err(|error| error.to_string())?;
        if report.rules.is_empty() {
            continue;
        }
        let layer = detwiki_site::navigator_layer(
            &format!("detwiki: {subset}"),
            &format!("Techniques covered by {subset}, scored by the number of rules; written by detwiki"),
            &report.attack_release,
            &report.techniques,
        );
        let mut text = serde_json::to_string_pretty(&layer).map_err(|error| error.to_string())?;
        text.push('\n');
        let path = out.join(format!("{name}.json"));
        std::fs::write(&path, text).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    Ok(())
}
