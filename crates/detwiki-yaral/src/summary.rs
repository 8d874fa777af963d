//! The leaves of a parsed file in plain text forms: event variables, UDM paths, reference lists,
//! regex literals and function names. The conformance check compares these sets with the
//! reference grammar's; tests use them to state what a rule reads without spelling out trees.

use std::collections::BTreeSet;

use crate::ast::{Expr, ExprKind, File, SectionBody, path_text};

/// What one file mentions, each set sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Variables used with a UDM path (`e` for `$e.principal.ip`).
    pub event_variables: BTreeSet<String>,
    /// UDM paths without their variable (`principal.ip`, `about.labels["k"]`).
    pub udm_paths: BTreeSet<String>,
    /// Reference list names without `%`.
    pub reference_lists: BTreeSet<String>,
    /// Regex literals as written, slashes included (`/a.b/`).
    pub regex_literals: BTreeSet<String>,
    /// Function names as written (`re.regex`, `max`, `if`).
    pub functions: BTreeSet<String>,
}

/// Collects the leaves of every rule of `file`; `text` is the text it was parsed from.
pub fn summarize(text: &str, file: &File) -> Summary {
    let mut summary = Summary::default();
    let mut visit = |expr: &Expr| match &expr.kind {
        ExprKind::Path { variable, steps } if !steps.is_empty() => {
            summary.event_variables.insert(variable.clone());
            summary.udm_paths.insert(path_text(steps));
        }
        ExprKind::ReferenceList { name, .. } => {
            summary.reference_lists.insert(name.clone());
        }
        ExprKind::Regex(_) => {
            if let Some(written) = expr.span.slice(text) {
                summary.regex_literals.insert(written.to_owned());
            }
        }
        ExprKind::Call { name, .. } => {
            summary.functions.insert(name.clone());
        }
        _ => {}
    };
    for rule in &file.rules {
        for section in &rule.sections {
            match &section.body {
                SectionBody::Entries(entries) => entries.iter().for_each(|entry| entry.value.walk(&mut visit)),
                SectionBody::Statements(statements) => {
                    statements.iter().for_each(|statement| statement.walk(&mut visit))
                }
                SectionBody::Assignments(assignments) => {
                    assignments.iter().for_each(|assignment| assignment.value.walk(&mut visit))
                }
                SectionBody::Condition(condition) => condition.walk(&mut visit),
                SectionBody::Match(_) => {}
            }
        }
    }
    summary
}
