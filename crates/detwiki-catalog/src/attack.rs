//! The ATT&CK section of a rule: tactic rows from the rule's tags resolved against the pinned
//! release, and every tag that did not become a row, with why (PRODUCT.md §2 item 5).
//!
//! Nothing is dropped: a revoked technique shows its replacement, an unknown ID is listed as
//! unknown, a legacy tactic label is marked.

use detwiki_knowledge::{Attack, TagResolution};
use serde::{Deserialize, Serialize};

/// A technique under a tactic row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechniqueEntry {
    /// `T1218.007`.
    pub id: String,
    /// `System Binary Proxy Execution: Msiexec`.
    pub name: String,
}

impl TechniqueEntry {
    /// `T1218.007 System Binary Proxy Execution: Msiexec`.
    pub fn display(&self) -> String {
        format!("{} {}", self.id, self.name)
    }
}

/// One tactic and the rule's techniques under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TacticEntry {
    /// `TA0005`.
    pub tactic_id: String,
    /// `Stealth`.
    pub tactic: String,
    /// Empty when only a tactic tag put the row here: "no specific technique".
    pub techniques: Vec<TechniqueEntry>,
    /// The row comes from a legacy tactic label (`attack.defense_evasion`) and no technique.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_label: bool,
}

/// A tag and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum TagNote {
    /// A technique ID that the release revoked: followed to its replacement (`T1562.001 ->
    /// T1685`), or listed without one when the release gives none.
    Revoked {
        tag: String,
        chain: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replacement: Option<String>,
    },
    /// A deprecated technique: kept in its rows, flagged.
    Deprecated { tag: String, id: String },
    /// Looks like an ATT&CK ID but the release has no such object.
    Unknown { tag: String, id: String },
    /// A legacy tactic label mapped to the tactic that carries on.
    LegacyTactic { tag: String, tactic_id: String, tactic: String },
}

/// The ATT&CK section of one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackSection {
    /// The ATT&CK release the tags were resolved against (`19`).
    pub release: String,
    /// One row per tactic, in matrix order.
    pub rows: Vec<TacticEntry>,
    /// Tags worth a note: revoked, deprecated, unknown, legacy labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<TagNote>,
    /// Every technique ID the rule covers after revocations, sorted (for technique pages and the
    /// matrix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technique_ids: Vec<String>,
}

impl AttackSection {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.notes.is_empty()
    }
}

/// Resolves a rule's tags as written.
pub fn attack_section(attack: &Attack, tags: &[String]) -> AttackSection {
    let resolved: Vec<TagResolution<'_>> = tags.iter().map(|tag| attack.resolve_tag(tag)).collect();
    let mut notes = Vec::new();
    let mut technique_ids = Vec::new();
    for (tag, resolution) in tags.iter().zip(&resolved) {
        match resolution {
            TagResolution::Technique { technique, chain } => {
                technique_ids.push(technique.id.clone());
                if chain.len() > 1 || technique.revoked {
                    notes.push(TagNote::Revoked {
                        tag: tag.clone(),
                        chain: chain.clone(),
                        replacement: (!technique.revoked).then(|| technique.id.clone()),
                    });
                } else if technique.deprecated {
                    notes.push(TagNote::Deprecated { tag: tag.clone(), id: technique.id.clone() });
                }
            }
            TagResolution::Unknown { id } => notes.push(TagNote::Unknown { tag: tag.clone(), id: id.clone() }),
            TagResolution::Tactic { tactic, legacy: true } => notes.push(TagNote::LegacyTactic {
                tag: tag.clone(),
                tactic_id: tactic.id.clone(),
                tactic: tactic.name.clone(),
            }),
            TagResolution::Tactic { legacy: false, .. } | TagResolution::NotAttack { .. } => {}
        }
    }
    technique_ids.sort();
    technique_ids.dedup();
    let rows = attack
        .tactic_rows(&resolved)
        .into_iter()
        .map(|row| TacticEntry {
            tactic_id: row.tactic.id.clone(),
            tactic: row.tactic.name.clone(),
            techniques: row
                .techniques
                .iter()
                .map(|technique| TechniqueEntry {
                    id: technique.id.clone(),
                    name: attack.technique_full_name(technique),
                })
                .collect(),
            legacy_label: row.legacy_label,
        })
        .collect();
    AttackSection { release: attack.release().to_owned(), rows, notes, technique_ids }
}

impl TagNote {
    /// The note as a sentence.
    pub fn text(&self) -> String {
        match self {
            TagNote::Revoked { tag, chain, replacement: Some(replacement) } => {
                format!("{tag}: revoked, replaced by {replacement} (via {})", chain.join(" -> "))
            }
            TagNote::Revoked { tag, .. } => format!("{tag}: revoked, no replacement in this release"),
            TagNote::Deprecated { tag, id } => format!("{tag}: {id} is deprecated in this release"),
            TagNote::Unknown { tag, id } => format!("{tag}: unknown ATT&CK ID {id} in this release"),
            TagNote::LegacyTactic { tag, tactic_id, tactic } => {
                format!("{tag}: legacy tactic label, now {tactic_id} {tactic}")
            }
        }
    }
}
