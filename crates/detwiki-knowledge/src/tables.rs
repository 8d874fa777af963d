//! Table schemas: Defender XDR advanced-hunting tables and Log Analytics / Sentinel tables with
//! typed columns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::Attribution;

/// The serialized schemas (`data/tables.json`). Columns are `[name, type]` pairs in schema order
/// to keep the file small.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableSchemaData {
    #[serde(default)]
    pub attribution: Vec<Attribution>,
    /// Environment (`m365` for Defender XDR, `sentinel`) -> table -> columns.
    pub environments: BTreeMap<String, BTreeMap<String, Vec<(String, String)>>>,
}

/// One typed column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub name: String,
    /// Kusto scalar type: `string`, `long`, `int`, `real`, `bool`, `datetime`, `dynamic`, `guid`,
    /// `timespan`.
    pub r#type: String,
}

/// Which product a table belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableEnvironment {
    /// Defender XDR advanced hunting (`m365`).
    DefenderXdr,
    /// Log Analytics / Microsoft Sentinel.
    Sentinel,
}

impl TableEnvironment {
    pub fn as_str(self) -> &'static str {
        match self {
            TableEnvironment::DefenderXdr => "m365",
            TableEnvironment::Sentinel => "sentinel",
        }
    }
}

/// A table with its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub environment: TableEnvironment,
    pub columns: Vec<Column>,
}

impl Table {
    /// A column by exact name (Kusto column names are case-sensitive).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// Indexed schemas. Defender XDR wins when a table exists in both environments (Device* tables
/// are also exported to Sentinel with the same columns).
#[derive(Debug, Clone, Default)]
pub struct Tables {
    attribution: Vec<Attribution>,
    tables: BTreeMap<String, Table>,
    lower_case: BTreeMap<String, String>,
    /// The Sentinel columns of tables that Defender XDR also has (`TenantId`, `SourceSystem`,
    /// `Type` on exported `Device*` tables): a query may be written for either environment.
    shadowed: BTreeMap<String, Vec<Column>>,
}

impl Tables {
    pub fn from_data(data: TableSchemaData) -> Tables {
        let mut tables = BTreeMap::new();
        let mut shadowed = BTreeMap::new();
        for (environment_name, environment) in
            [("sentinel", TableEnvironment::Sentinel), ("m365", TableEnvironment::DefenderXdr)]
        {
            let Some(entries) = data.environments.get(environment_name) else { continue };
            for (name, columns) in entries {
                let columns = columns
                    .iter()
                    .map(|(name, r#type)| Column { name: name.clone(), r#type: r#type.clone() })
                    .collect();
                if let Some(replaced) = tables.insert(name.clone(), Table { name: name.clone(), environment, columns })
                {
                    shadowed.insert(name.clone(), replaced.columns);
                }
            }
        }
        let lower_case = tables.keys().map(|name| (name.to_ascii_lowercase(), name.clone())).collect();
        Tables { attribution: data.attribution, tables, lower_case, shadowed }
    }

    /// Sources of the schemas and their licenses.
    pub fn attribution(&self) -> &[Attribution] {
        &self.attribution
    }

    /// A table by name; exact first, then case-insensitively (Kusto resolves table names
    /// case-sensitively, but rule authors sometimes miswrite them; callers can compare `name`).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name).or_else(|| self.tables.get(self.lower_case.get(&name.to_ascii_lowercase())?))
    }

    /// A table's columns in every environment that has it: its own (Defender XDR first), then
    /// the columns only the other environment lists, each name once. This is what a query may
    /// read without Kusto reporting an unknown name in one environment or the other.
    pub fn columns_in_any_environment<'a>(&'a self, table: &'a Table) -> impl Iterator<Item = &'a Column> {
        let others = self.shadowed.get(&table.name).map(Vec::as_slice).unwrap_or_default();
        table.columns.iter().chain(others.iter().filter(|column| table.column(&column.name).is_none()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}
