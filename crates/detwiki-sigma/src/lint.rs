//! Lint: what pySigma's validators find, with positions, and what they miss.

use std::collections::HashSet;

use detwiki_ir::Diagnostic;

use crate::document::SigmaFile;

/// What lint may know beyond the file: ATT&CK v19 technique IDs (`T1059`, `T1059.001`) and tactic
/// short names (`execution`). When a set is `None`, tags of that kind are not checked.
#[derive(Debug, Clone, Default)]
pub struct LintContext {
    pub attack_techniques: Option<HashSet<String>>,
    pub attack_tactics: Option<HashSet<String>>,
}

/// Findings for every document of `file` (loaded from `file_text`).
pub fn lint(file_text: &str, file: &SigmaFile, context: &LintContext) -> Vec<Diagnostic> {
    let _ = (file_text, file, context);
    Vec::new()
}
