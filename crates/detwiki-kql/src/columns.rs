//! The column model of the lowering: which columns each stage's output has and where each one
//! comes from (a field of a dataset's event, or a column the query computed or aggregated).
//!
//! Kusto decides a column's name by rules this module mirrors: `summarize count(), make_set(x)`
//! gives `count_` and `set_x`, `extend tostring(d.x)` gives `d_x`, and a join renames the right
//! side's columns that clash with the left side's by appending the first free number (`FileName1`,
//! then `FileName2`). With a [`Schema`] the columns of a table are known and a name that is in
//! none of them is an unresolved reference; without one a table's columns are *open*: any name
//! is taken to be a field of its event, the syntactic rule detwiki used before schemas.

use std::collections::{HashMap, HashSet};

use detwiki_ir::{FieldOrigin, Span};

use crate::ast::{Expr, ExprKind};

/// Tables and functions a query may name, with their columns: given by the caller (the catalog
/// builds it from the knowledge tables, the conformance task from the same file), so the
/// language crate never depends on the knowledge crate.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: HashMap<String, Vec<String>>,
    /// Column types where the caller gives them: a `union` of tables whose same-named columns
    /// differ in type has one column per type (`DeviceDetail_string`, `DeviceDetail_dynamic`).
    types: HashMap<String, HashMap<String, String>>,
    functions: HashSet<String>,
}

impl Schema {
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Adds a table with its column names in schema order (a second call for one table merges
    /// the columns, so Defender tables can take the union of two environments).
    pub fn add_table(&mut self, name: &str, columns: impl IntoIterator<Item = String>) {
        let known = self.tables.entry(name.to_owned()).or_default();
        for column in columns {
            if !known.contains(&column) {
                known.push(column);
            }
        }
    }

    /// Adds a table with typed columns (`string`, `dynamic`, ...), merged like [`Schema::add_table`].
    pub fn add_typed_table(&mut self, name: &str, columns: impl IntoIterator<Item = (String, String)>) {
        let columns: Vec<(String, String)> = columns.into_iter().collect();
        self.add_table(name, columns.iter().map(|(column, _)| column.clone()));
        let types = self.types.entry(name.to_owned()).or_default();
        for (column, column_type) in columns {
            types.entry(column).or_insert(column_type);
        }
    }

    /// Adds a function the environment defines (`FileProfile`): its output columns are unknown.
    pub fn add_function(&mut self, name: &str) {
        self.functions.insert(name.to_owned());
    }

    /// The columns of a table, by exact name (Kusto table names are case-sensitive).
    pub fn table(&self, name: &str) -> Option<&[String]> {
        self.tables.get(name).map(Vec::as_slice)
    }

    /// The column types of a table, when they were given.
    pub(crate) fn types(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.types.get(name)
    }

    pub fn has_function(&self, name: &str) -> bool {
        self.functions.contains(name)
    }

    /// Every table name, sorted (so `union *` reads its tables in one order).
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self.tables.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.into_iter()
    }

    pub fn table_count(&self) -> usize {
        self.tables.len()
    }
}

/// Where one output column comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColumnSource {
    /// A field of a dataset's event, under its name there (a join suffix or a rename makes the
    /// column's name differ from the field's).
    Event { dataset: Option<usize>, field: String },
    /// A column the query made.
    Derived(FieldOrigin),
}

/// How a name that is not among the known columns resolves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rest {
    /// Every column is known: another name is an unresolved reference.
    Closed,
    /// The table's schema is unknown: another name is a field of this dataset's event.
    Event(Option<usize>),
    /// An operator made columns no one can list (`evaluate bag_unpack`, `top-nested`): another
    /// name is one of them.
    Derived(FieldOrigin),
}

/// The columns of one stage's output.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    /// Known columns in output order.
    known: Vec<(String, ColumnSource)>,
    pub rest: Rest,
    /// Types of the known columns that come straight from a typed schema.
    types: HashMap<String, String>,
}

impl Default for Columns {
    fn default() -> Columns {
        Columns { known: Vec::new(), rest: Rest::Event(None), types: HashMap::new() }
    }
}

impl Columns {
    /// The open columns of a table whose schema is unknown.
    pub fn open(dataset: Option<usize>) -> Columns {
        Columns { known: Vec::new(), rest: Rest::Event(dataset), types: HashMap::new() }
    }

    /// Columns that an operator makes and no one can list (`range`, `top-nested`).
    pub fn made_by(origin: FieldOrigin) -> Columns {
        Columns { known: Vec::new(), rest: Rest::Derived(origin), types: HashMap::new() }
    }

    /// The closed columns of a table whose schema is known.
    pub fn of_table(dataset: Option<usize>, names: &[String], types: Option<&HashMap<String, String>>) -> Columns {
        let known =
            names.iter().map(|name| (name.clone(), ColumnSource::Event { dataset, field: name.clone() })).collect();
        Columns { known, rest: Rest::Closed, types: types.cloned().unwrap_or_default() }
    }

    /// Columns that the query declares (`datatable`, `externaldata`, `range`): all derived.
    pub fn declared(names: impl IntoIterator<Item = String>, definition: Span) -> Columns {
        let origin = FieldOrigin::Computed { definition };
        Columns {
            known: names.into_iter().map(|name| (name, ColumnSource::Derived(origin))).collect(),
            rest: Rest::Closed,
            types: HashMap::new(),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.rest == Rest::Closed
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.known.iter().map(|(name, _)| name.as_str())
    }

    pub fn get(&self, name: &str) -> Option<&ColumnSource> {
        self.known.iter().find(|(known, _)| known == name).map(|(_, source)| source)
    }

    /// Resolves a name: `None` when the columns are closed and the name is not one of them.
    pub fn resolve(&self, name: &str) -> Option<ColumnSource> {
        if let Some(source) = self.get(name) {
            return Some(source.clone());
        }
        match self.rest {
            Rest::Closed => None,
            Rest::Event(dataset) => Some(ColumnSource::Event { dataset, field: name.to_owned() }),
            Rest::Derived(origin) => Some(ColumnSource::Derived(origin)),
        }
    }

    /// Adds or replaces a column (`extend X = ...` on an existing `X` replaces it in place).
    pub fn set(&mut self, name: &str, source: ColumnSource) {
        match self.known.iter_mut().find(|(known, _)| known == name) {
            Some(entry) => entry.1 = source,
            None => self.known.push((name.to_owned(), source)),
        }
    }

    /// Adds a column under a name no other column has, appending the first free number as
    /// Kusto does (`set_x`, `set_x1`). Returns the name given.
    pub fn push_unique(&mut self, name: &str, source: ColumnSource) -> String {
        let unique = self.unique_name(name);
        self.known.push((unique.clone(), source));
        unique
    }

    /// `name` if it is free, else `name` with the first free number.
    fn unique_name(&self, name: &str) -> String {
        if self.get(name).is_none() {
            return name.to_owned();
        }
        (1..)
            .map(|number| format!("{name}{number}"))
            .find(|candidate| self.get(candidate).is_none())
            .unwrap_or_default()
    }

    pub fn remove(&mut self, name: &str) {
        self.known.retain(|(known, _)| known != name);
    }

    /// Keeps only the known columns `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.known.retain(|(name, _)| keep(name));
    }

    /// The output of `left | join right`: the left columns, then the right ones, each right
    /// column whose name is taken renamed with the first free number. `lookup` keys appear once.
    pub fn joined(left: &Columns, right: &Columns, skip_right: &[String]) -> Columns {
        let mut out = left.clone();
        let kept: Vec<&(String, ColumnSource)> =
            right.known.iter().filter(|(name, _)| !skip_right.contains(name)).collect();
        // The right columns whose names are free keep them first; the clashing ones are then
        // numbered past every name taken (a right `DeviceId` becomes `DeviceId2` when the right
        // side already has a `DeviceId1`).
        let (clashing, free): (Vec<_>, Vec<_>) = kept.into_iter().partition(|(name, _)| left.get(name).is_some());
        for (name, source) in free {
            out.known.push((name.clone(), source.clone()));
        }
        for (name, source) in clashing {
            out.push_unique(name, source.clone());
        }
        out.rest = match (left.rest, right.rest) {
            (Rest::Closed, Rest::Closed) => Rest::Closed,
            (Rest::Closed, other) | (other, _) => other,
        };
        out
    }

    /// The output of `union`: every member's columns once, the first member that has a name
    /// giving its source.
    pub fn union(members: &[Columns], split_types: bool) -> Columns {
        let mut out = Columns { known: Vec::new(), rest: Rest::Closed, types: HashMap::new() };
        // With `split_types`, same-named columns of different types become one column per type,
        // named `X_type` (what Kusto does for a union of listed tables).
        let mut first_type: HashMap<&str, &str> = HashMap::new();
        let mut clashing: HashSet<&str> = HashSet::new();
        if split_types {
            for member in members {
                for (name, column_type) in &member.types {
                    match first_type.get(name.as_str()) {
                        Some(first) if first != column_type => {
                            clashing.insert(name);
                        }
                        Some(_) => {}
                        None => {
                            first_type.insert(name, column_type);
                        }
                    }
                }
            }
        }
        let mut seen: HashSet<String> = HashSet::new();
        for member in members {
            for (name, source) in &member.known {
                let name = match member.types.get(name) {
                    Some(column_type) if clashing.contains(name.as_str()) => format!("{name}_{column_type}"),
                    _ => name.clone(),
                };
                if seen.insert(name.clone()) {
                    out.known.push((name, source.clone()));
                }
            }
            if out.rest == Rest::Closed {
                out.rest = member.rest;
            }
        }
        out
    }
}

/// Functions whose default output name is their argument's: conversions and `bin`.
const NAME_PRESERVING: &[&str] = &[
    "tostring",
    "todynamic",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "tobool",
    "todatetime",
    "totimespan",
    "toguid",
    "todecimal",
    "bin",
    "floor",
    "bin_at",
    "parse_json",
    "format_datetime",
];

/// The name Kusto gives an unnamed `extend`, `project` or `by` item: a column keeps its name,
/// `d.x` and `d["x"]` become `d_x`, a conversion or `bin` keeps its argument's; anything else has
/// no name of its own (`Column1`).
pub(crate) fn expression_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(name) => Some(name.clone()),
        ExprKind::Paren(inner) => expression_name(inner),
        // `bin(Window = Timestamp, 5m)`: the argument's own name.
        ExprKind::Assign { target, .. } => target.as_name().map(str::to_owned),
        ExprKind::Member { target, name } => match target.as_name() {
            Some("$left" | "$right") => Some(name.text.clone()),
            _ => expression_name(target).map(|base| format!("{base}_{}", name.text)),
        },
        ExprKind::Index { target, index } => match &index.kind {
            ExprKind::Literal(literal) if literal.kind == crate::ast::LiteralKind::String => {
                expression_name(target).map(|base| format!("{base}_{}", literal.value))
            }
            _ => None,
        },
        ExprKind::Call { callee, args } if callee.as_name().is_some_and(|name| NAME_PRESERVING.contains(&name)) => {
            args.first().and_then(expression_name)
        }
        _ => None,
    }
}

/// Default names of aggregates whose name is not `function_argument`.
fn aggregate_prefix(function: &str) -> &str {
    match function {
        "make_set" | "makeset" | "make_set_if" => "set",
        "make_list" | "makelist" | "make_list_if" | "make_list_with_nulls" => "list",
        "make_bag" | "make_bag_if" => "bag",
        other => other,
    }
}

/// The names of an unnamed aggregate as Kusto gives them: `count_`, `dcount_x`, `set_x`,
/// `percentile_x_50`; `take_any(x)` and `arg_max(t, x, y)` name their columns after the
/// arguments (`arg_max(t, *)` gives every column, marked by `*`).
pub(crate) fn aggregate_names(item: &Expr) -> Vec<String> {
    let ExprKind::Call { callee, args } = &item.kind else {
        return expression_name(item).into_iter().collect();
    };
    let function = callee.as_name().unwrap_or("");
    // `tostring(make_set(x))` keeps the aggregate's name.
    if NAME_PRESERVING.contains(&function)
        && let [inner] = args.as_slice()
        && matches!(inner.kind, ExprKind::Call { .. })
    {
        return aggregate_names(inner);
    }
    match function {
        "arg_max" | "arg_min" | "take_any" => args
            .iter()
            .map(|arg| {
                if matches!(arg.kind, ExprKind::Star) {
                    "*".to_owned()
                } else {
                    expression_name(arg).unwrap_or_default()
                }
            })
            .filter(|name| !name.is_empty())
            .collect(),
        "count" | "countif" if args.is_empty() || function == "countif" => vec![format!("{function}_")],
        "percentile" | "percentiles" => {
            let column = args.first().and_then(expression_name).unwrap_or_default();
            args.iter()
                .skip(1)
                .map(|level| match &level.kind {
                    ExprKind::Literal(literal) => format!("percentile_{column}_{}", literal.value.replace('.', "_")),
                    _ => format!("percentile_{column}_"),
                })
                .collect()
        }
        _ => {
            let prefix = aggregate_prefix(function);
            match args.first().and_then(expression_name) {
                Some(column) => vec![format!("{prefix}_{column}")],
                None => vec![format!("{prefix}_")],
            }
        }
    }
}
