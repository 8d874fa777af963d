//! Table schemas from FalconForce KQLAnalyzer's environments (facts only: table and column names
//! and types; the files carry no license, so nothing else is taken), completed with the Defender
//! XDR columns pySigma-backend-kusto lists (LGPL-3.0 data, used as a build input only, names and
//! types only).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use detwiki_knowledge::{Attribution, TableSchemaData};
use serde_json::Value;

pub fn generate(knowledge: &Path) -> Result<TableSchemaData> {
    let environments_path = knowledge.join("schemas/kqlanalyzer-environments.json");
    let environments: Value = read_json(&environments_path)?;
    let additional: Value = read_json(&knowledge.join("schemas/kqlanalyzer-additional_columns.json"))?;
    let pysigma: Value = read_json(&knowledge.join("schemas/pysigma-backend-kusto-microsoft_xdr_tables.json"))?;

    let mut result: BTreeMap<String, BTreeMap<String, Vec<(String, String)>>> = BTreeMap::new();
    for environment in ["m365", "sentinel"] {
        let tables = result.entry(environment.to_owned()).or_default();
        if let Some(map) = environments.pointer(&format!("/{environment}/tables")).and_then(Value::as_object) {
            for (table, columns) in map {
                add_columns(tables.entry(table.clone()).or_default(), columns, |value| value.as_str());
            }
        }
        if let Some(map) = additional.get(environment).and_then(Value::as_object) {
            for (table, columns) in map {
                add_columns(tables.entry(table.clone()).or_default(), columns, |value| value.as_str());
            }
        }
    }
    let mut pysigma_added = 0;
    if let Some(map) = pysigma.get("microsoft_xdr").and_then(Value::as_object) {
        let tables = result.entry("m365".to_owned()).or_default();
        for (table, columns) in map {
            let entry = tables.entry(table.clone()).or_default();
            let before = entry.len();
            add_columns(entry, columns, |value| value.get("data_type").and_then(Value::as_str));
            pysigma_added += entry.len() - before;
        }
    }
    println!("tables: {pysigma_added} Defender XDR columns added from pySigma-backend-kusto");
    Ok(TableSchemaData {
        attribution: vec![
            Attribution {
                source: "FalconForce KQLAnalyzer environments (kqlanalyzer-environments.json, \
                         kqlanalyzer-additional_columns.json), generated from Microsoft's documentation"
                    .to_owned(),
                license: "no license file: facts only (table and column names and types)".to_owned(),
                used_for: "Defender XDR (m365) and Sentinel table schemas".to_owned(),
            },
            Attribution {
                source: "pySigma-backend-kusto microsoft_xdr tables (SigmaHQ)".to_owned(),
                license: "LGPL-3.0: used as a build-time input only, facts only (column names and types)".to_owned(),
                used_for: "Defender XDR columns missing from KQLAnalyzer".to_owned(),
            },
        ],
        environments: result,
    })
}

/// Appends the columns of `columns` (an object column -> type) that `table` does not have yet,
/// in the source's order.
fn add_columns(table: &mut Vec<(String, String)>, columns: &Value, type_of: impl Fn(&Value) -> Option<&str>) {
    let Some(columns) = columns.as_object() else { return };
    for (name, value) in columns {
        // A few source entries carry stray spaces or markdown marks (`Name`*): keep clean names.
        let name = name.trim();
        if name.is_empty() || name.contains(['`', '*', ' ']) {
            continue;
        }
        if table.iter().any(|(known, _)| known == name) {
            continue;
        }
        table.push((name.to_owned(), type_of(value).unwrap_or("dynamic").to_owned()));
    }
}

pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
