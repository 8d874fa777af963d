//! Links from correlation rules and filters to the rules they name (by `id` or `name`), within a
//! file and across a corpus.

use std::collections::HashMap;

use detwiki_ir::{Diagnostic, Span};

use crate::diagnostics;
use crate::document::{DocumentKind, SigmaFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    Correlation,
    Filter,
}

/// One rule named by a correlation's `rules` or a filter's `rules`, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReference {
    /// The document holding the reference.
    pub document: usize,
    pub kind: ReferenceKind,
    /// The id or name as written.
    pub target: String,
    pub span: Span,
}

/// Every reference of every correlation and filter of a file.
pub fn references(file: &SigmaFile) -> Vec<RuleReference> {
    let mut out = Vec::new();
    for document in &file.documents {
        let (kind, rules) = match (&document.correlation, &document.filter) {
            (Some(correlation), _) => (ReferenceKind::Correlation, &correlation.rules),
            (None, Some(filter)) => (ReferenceKind::Filter, &filter.rules),
            _ => continue,
        };
        for rule in rules {
            out.push(RuleReference { document: document.index, kind, target: rule.value.clone(), span: rule.span });
        }
    }
    out
}

/// A reference and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedReference<K> {
    pub reference: RuleReference,
    pub target: Option<K>,
}

/// Rules and correlations of a corpus by id and by name. `K` is whatever the caller uses to find a
/// document again (a path and an index, a catalog id).
#[derive(Debug, Clone)]
pub struct RuleIndex<K> {
    by_key: HashMap<String, K>,
}

impl<K: Clone> Default for RuleIndex<K> {
    fn default() -> Self {
        Self { by_key: HashMap::new() }
    }
}

impl<K: Clone> RuleIndex<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the rules and correlations of `file`; `key` names document `n` of it. The first
    /// document inserted under an id or name keeps it.
    pub fn insert(&mut self, file: &SigmaFile, key: impl Fn(usize) -> K) {
        for (id, name, index) in targets(file) {
            for text in [id, name].into_iter().flatten() {
                self.by_key.entry(text).or_insert_with(|| key(index));
            }
        }
    }

    pub fn resolve(&self, target: &str) -> Option<&K> {
        self.by_key.get(target)
    }

    /// Resolves every reference of `file`: a document of the same file first (as pySigma does
    /// within a collection), then the index. Unresolved references come back with `None` and a
    /// warning each.
    pub fn link(&self, file: &SigmaFile, key: impl Fn(usize) -> K) -> (Vec<ResolvedReference<K>>, Vec<Diagnostic>) {
        let local = targets(file);
        let mut resolved = Vec::new();
        let mut warnings = Vec::new();
        for reference in references(file) {
            let in_file = local
                .iter()
                .find(|(id, name, _)| {
                    id.as_deref() == Some(reference.target.as_str())
                        || name.as_deref() == Some(reference.target.as_str())
                })
                .map(|(_, _, index)| key(*index));
            let target = in_file.or_else(|| self.resolve(&reference.target).cloned());
            if target.is_none() {
                warnings.push(diagnostics::unresolved_reference(&reference.target, reference.span));
            }
            resolved.push(ResolvedReference { reference, target });
        }
        (resolved, warnings)
    }
}

fn targets(file: &SigmaFile) -> Vec<(Option<String>, Option<String>, usize)> {
    file.documents
        .iter()
        .filter(|document| matches!(document.kind, DocumentKind::Rule | DocumentKind::Correlation))
        .map(|document| {
            (
                document.id.as_ref().map(|id| id.value.clone()),
                document.name.as_ref().map(|name| name.value.clone()),
                document.index,
            )
        })
        .collect()
}
