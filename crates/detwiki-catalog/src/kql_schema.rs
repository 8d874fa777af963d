//! The KQL table schemas the catalog analyses queries against, built once from the bundled
//! knowledge.
//!
//! With a schema the KQL engine knows each table's columns, so a column that comes from a joined
//! or looked-up table is attributed to that table, a join suffix (`FileName1`) exists only when
//! both sides have the column, and a name that no input column answers is reported. Defender XDR
//! tables take the union of their Defender and Sentinel columns: rules are written for either
//! environment and both accept the other's envelope columns.

use std::sync::OnceLock;

use detwiki_knowledge::Knowledge;
use detwiki_kql::Schema;

/// The schema of every table the bundled knowledge lists, built on first use and shared by every
/// rule (building it per rule would cost more than analysing the rule).
pub(crate) fn bundled() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| from_knowledge(Knowledge::bundled()))
}

fn from_knowledge(knowledge: &Knowledge) -> Schema {
    let tables = knowledge.tables();
    let mut schema = Schema::new();
    for table in tables.iter() {
        let columns = tables
            .columns_in_any_environment(table)
            .map(|column| (column.name.clone(), kusto_type(&column.r#type).to_owned()))
            .collect::<Vec<_>>();
        schema.add_typed_table(&table.name, columns);
    }
    schema
}

/// A type as Kusto spells it: a `union` of tables names a column per type when same-named
/// columns differ (`X_string`, `X_dynamic`), so the schema's `boolean` and `bool` must not
/// count as two types.
fn kusto_type(written: &str) -> &str {
    match written {
        "boolean" => "bool",
        "double" => "real",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defender_tables_have_the_columns_of_both_environments() {
        let schema = bundled();
        assert!(schema.table_count() > 900, "{} tables", schema.table_count());
        let columns = schema.table("DeviceProcessEvents").expect("DeviceProcessEvents");
        // A Defender column and a Sentinel envelope column.
        assert!(columns.iter().any(|column| column == "InitiatingProcessCommandLine"));
        assert!(columns.iter().any(|column| column == "TenantId"));
        assert!(!columns.iter().any(|column| column == "Department"));
        assert!(
            schema.table("IdentityInfo").is_some_and(|columns| columns.iter().any(|column| column == "Department"))
        );
    }
}
