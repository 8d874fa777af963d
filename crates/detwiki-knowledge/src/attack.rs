//! MITRE ATT&CK: tactics in matrix order, techniques with their revocations, data components, and
//! the resolution of tags as rule authors write them.
//!
//! The same [`AttackData`] comes from the bundled table (generated from the v19 bundle) or from
//! any STIX 2.x bundle loaded at run time ([`Attack::from_stix_bundle`]), so a newer release is a
//! flag, not a code change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::KnowledgeError;

/// How deep revoked-by chains are followed. Real chains are one or two links long; the limit only
/// protects against a cycle in a hand-edited bundle.
const MAX_REVOCATION_CHAIN: usize = 16;

/// The serialized form of one ATT&CK release (`data/attack.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackData {
    /// MITRE's copyright designation and license, reproduced as its license asks.
    pub attribution: String,
    /// The file the data was read from.
    pub source: String,
    /// The release as far as the bundle says (`19`, `18.1`); empty when unknown.
    pub release: String,
    /// Tactics in the order of the matrix.
    pub tactics: Vec<Tactic>,
    /// Techniques and sub-techniques, sorted by ID; revoked and deprecated ones included.
    pub techniques: Vec<Technique>,
    pub data_components: Vec<DataComponent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// `TA0005`.
    pub id: String,
    /// `Stealth`.
    pub name: String,
    /// `stealth`: the phase name techniques use in their kill chain phases.
    pub short_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1218.007`.
    pub id: String,
    /// The technique's own name (`Msiexec`); see [`Attack::technique_display`] for the full text.
    pub name: String,
    /// The parent technique of a sub-technique (`T1218`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Tactic IDs, in matrix order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// The technique that replaced a revoked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// Data component IDs (`DC0032`) whose telemetry detects the technique, through the release's
    /// detection strategies and analytics. A technique that replaced revoked ones inherits theirs,
    /// because v19's detection strategies still point at the v18 objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_components: Vec<String>,
}

impl Technique {
    pub fn is_subtechnique(&self) -> bool {
        self.parent.is_some()
    }

    /// Neither revoked nor deprecated.
    pub fn is_active(&self) -> bool {
        !self.revoked && !self.deprecated
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataComponent {
    /// `DC0032`.
    pub id: String,
    /// `Process Creation`.
    pub name: String,
    /// The data source the component belongs to, when the release still links one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<String>,
    /// Log sources the release names for the component, as `name` or `name: channel`
    /// (`WinEventLog:Security: EventCode=4688`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_sources: Vec<String>,
}

/// What a tag as written means in the loaded release. Nothing is dropped: a tag that is not ATT&CK
/// says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagResolution<'a> {
    /// A technique ID. `chain` lists every ID followed, starting with the ID as written
    /// (normalized, `T1562.001`), then each revoked-by target (`T1685`). `technique` is the last
    /// link; it is still revoked only when the release gives no replacement.
    Technique { technique: &'a Technique, chain: Vec<String> },
    /// A tactic by ID, name or short name. `legacy` is true when the label names a tactic by a name
    /// the release no longer uses (`attack.defense_evasion` for TA0005 Stealth in v19).
    Tactic { tactic: &'a Tactic, legacy: bool },
    /// Looks like an ATT&CK technique or tactic ID but the release has no such object.
    Unknown { id: String },
    /// A tag that is not a technique or tactic: an ATT&CK group, software, campaign or
    /// mitigation, or another namespace (`car.*`, `cve.*`, `tlp.*`).
    NotAttack { kind: OtherTag },
}

/// The kind of a tag that does not name a technique or tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherTag {
    /// `G0016`.
    Group,
    /// `S0002`.
    Software,
    /// `C0024`.
    Campaign,
    /// `M1042`.
    Mitigation,
    /// `DS0009`, `DC0032`.
    DataSource,
    /// `attack.` followed by something that is no ATT&CK object.
    UnknownAttackLabel,
    /// Another namespace entirely (`car.2013-05-004`, `cve.2021-44228`, `detection.threat_hunting`).
    OtherNamespace,
}

impl OtherTag {
    pub fn as_str(self) -> &'static str {
        match self {
            OtherTag::Group => "group",
            OtherTag::Software => "software",
            OtherTag::Campaign => "campaign",
            OtherTag::Mitigation => "mitigation",
            OtherTag::DataSource => "data source",
            OtherTag::UnknownAttackLabel => "unknown attack label",
            OtherTag::OtherNamespace => "other namespace",
        }
    }
}

/// One row of a rule's ATT&CK section: a tactic and the rule's techniques under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TacticRow<'a> {
    pub tactic: &'a Tactic,
    /// Sorted by ID. Empty when only a tactic tag put the row here ("no specific technique").
    pub techniques: Vec<&'a Technique>,
    /// The row exists because of a tag with a legacy label (and no technique of the rule maps to
    /// this tactic).
    pub legacy_label: bool,
}

/// Tactic labels of earlier releases that no current tactic name matches, normalized (lower case,
/// letters and digits only), with the tactic ID that carries on. TA0005 kept its ID when it became
/// Stealth, so the legacy label maps to it.
const LEGACY_TACTIC_LABELS: &[(&str, &str)] = &[("defenseevasion", "TA0005")];

/// One ATT&CK release with lookup indices.
#[derive(Debug, Clone)]
pub struct Attack {
    data: AttackData,
    technique_index: HashMap<String, usize>,
    tactic_index: HashMap<String, usize>,
    /// Normalized tactic ID, name and short name -> tactic index.
    tactic_labels: HashMap<String, usize>,
}

impl Attack {
    /// Builds the indices over `data`.
    pub fn from_data(data: AttackData) -> Attack {
        let technique_index = data
            .techniques
            .iter()
            .enumerate()
            .map(|(index, technique)| (technique.id.to_ascii_uppercase(), index))
            .collect();
        let tactic_index =
            data.tactics.iter().enumerate().map(|(index, tactic)| (tactic.id.to_ascii_uppercase(), index)).collect();
        let mut tactic_labels = HashMap::new();
        for (index, tactic) in data.tactics.iter().enumerate() {
            for label in [&tactic.id, &tactic.name, &tactic.short_name] {
                tactic_labels.insert(normalize_label(label), index);
            }
        }
        Attack { data, technique_index, tactic_index, tactic_labels }
    }

    /// Loads a STIX 2.x bundle (`.json`, or `.json.gz` when the file starts with the gzip magic
    /// bytes).
    pub fn from_stix_bundle(path: &Path) -> Result<Attack, KnowledgeError> {
        let bytes =
            std::fs::read(path).map_err(|source| KnowledgeError::Io { path: path.display().to_string(), source })?;
        let source = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Attack::from_data(attack_data_from_stix(&bytes, &source)?))
    }

    /// The serializable data behind this release.
    pub fn data(&self) -> &AttackData {
        &self.data
    }

    pub fn release(&self) -> &str {
        &self.data.release
    }

    /// Tactics in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.data.tactics
    }

    /// Every technique and sub-technique, revoked and deprecated ones included, sorted by ID.
    pub fn techniques(&self) -> &[Technique] {
        &self.data.techniques
    }

    pub fn data_components(&self) -> &[DataComponent] {
        &self.data.data_components
    }

    pub fn data_component(&self, id: &str) -> Option<&DataComponent> {
        self.data.data_components.iter().find(|component| component.id.eq_ignore_ascii_case(id))
    }

    /// A technique by ID (`T1218.007`, case-insensitive), without following revocations.
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        let index = *self.technique_index.get(&id.trim().to_ascii_uppercase())?;
        self.data.techniques.get(index)
    }

    /// A tactic by ID (`TA0005`), name (`Stealth`) or short name (`stealth`). Legacy labels are
    /// not accepted here; [`Attack::resolve_tag`] handles them.
    pub fn tactic(&self, label: &str) -> Option<&Tactic> {
        if let Some(index) = self.tactic_index.get(&label.trim().to_ascii_uppercase()) {
            return self.data.tactics.get(*index);
        }
        let index = *self.tactic_labels.get(&normalize_label(label))?;
        self.data.tactics.get(index)
    }

    /// Position of a tactic in the matrix, for sorting.
    pub fn tactic_order(&self, id: &str) -> Option<usize> {
        self.tactic_index.get(&id.to_ascii_uppercase()).copied()
    }

    /// `System Binary Proxy Execution: Msiexec` for a sub-technique, the name for a technique.
    pub fn technique_full_name(&self, technique: &Technique) -> String {
        match technique.parent.as_deref().and_then(|parent| self.technique(parent)) {
            Some(parent) => format!("{}: {}", parent.name, technique.name),
            None => technique.name.clone(),
        }
    }

    /// `T1218.007 System Binary Proxy Execution: Msiexec`, or `None` for an unknown ID.
    pub fn technique_display(&self, id: &str) -> Option<String> {
        let technique = self.technique(id)?;
        Some(format!("{} {}", technique.id, self.technique_full_name(technique)))
    }

    /// Resolves a tag as written in any rule format: `attack.t1218.007`, `T1218.007`,
    /// `attack.defense_evasion`, `DefenseEvasion`, `Defense Evasion`, `TA0005`, `attack.stealth`,
    /// `attack.g0016`, `car.2013-05-004`. Revoked techniques are followed to their replacement.
    pub fn resolve_tag(&self, tag: &str) -> TagResolution<'_> {
        let trimmed = tag.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (body, attack_prefixed) = match lower.strip_prefix("attack.").or_else(|| lower.strip_prefix("mitre.")) {
            Some(rest) => (rest, true),
            None => (lower.as_str(), false),
        };
        if let Some(id) = technique_id(body) {
            return self.resolve_technique_id(&id);
        }
        if let Some(id) = tactic_id(body) {
            return match self.tactic(&id) {
                Some(tactic) => TagResolution::Tactic { tactic, legacy: false },
                None => TagResolution::Unknown { id },
            };
        }
        if let Some(kind) = other_attack_object(body) {
            return TagResolution::NotAttack { kind };
        }
        // A dotted tag outside the `attack.` namespace is another taxonomy (car., cve., tlp.).
        if !attack_prefixed && body.contains('.') {
            return TagResolution::NotAttack { kind: OtherTag::OtherNamespace };
        }
        let normalized = normalize_label(body);
        if let Some(index) = self.tactic_labels.get(&normalized)
            && let Some(tactic) = self.data.tactics.get(*index)
        {
            return TagResolution::Tactic { tactic, legacy: false };
        }
        for (label, id) in LEGACY_TACTIC_LABELS {
            if normalized == *label
                && let Some(tactic) = self.tactic(id)
            {
                return TagResolution::Tactic { tactic, legacy: true };
            }
        }
        if attack_prefixed {
            TagResolution::NotAttack { kind: OtherTag::UnknownAttackLabel }
        } else {
            TagResolution::NotAttack { kind: OtherTag::OtherNamespace }
        }
    }

    /// Follows revoked-by links from a normalized technique ID.
    fn resolve_technique_id(&self, id: &str) -> TagResolution<'_> {
        let Some(mut technique) = self.technique(id) else {
            return TagResolution::Unknown { id: id.to_owned() };
        };
        let mut chain = vec![technique.id.clone()];
        while technique.revoked && chain.len() < MAX_REVOCATION_CHAIN {
            let Some(next) = technique.revoked_by.as_deref().and_then(|next| self.technique(next)) else {
                break;
            };
            if chain.iter().any(|seen| seen == &next.id) {
                break;
            }
            chain.push(next.id.clone());
            technique = next;
        }
        TagResolution::Technique { technique, chain }
    }

    /// [`Attack::tactic_rows`] for tags as written (`attack.t1218.007`, `T1562.001`, `DefenseEvasion`).
    pub fn tactic_rows_for_tags(&self, tags: &[&str]) -> Vec<TacticRow<'_>> {
        let resolved: Vec<TagResolution<'_>> = tags.iter().map(|tag| self.resolve_tag(tag)).collect();
        self.tactic_rows(&resolved)
    }

    /// The ATT&CK section of a rule: one row per tactic in matrix order, from its resolved tags.
    /// Techniques decide the tactics; a tactic tag adds a row only when no technique of the rule
    /// falls under that tactic, and then the row has no technique ("no specific technique"). A
    /// legacy tactic label (`attack.defense_evasion`) adds a row only when the rule has no
    /// technique at all: it named the release the techniques were tagged in, and the techniques
    /// now say where they belong (a v18 `T1562.001` + `defense_evasion` rule is Defense
    /// Impairment only).
    pub fn tactic_rows<'a>(&'a self, tags: &[TagResolution<'a>]) -> Vec<TacticRow<'a>> {
        let mut by_tactic: BTreeMap<usize, (BTreeMap<&'a str, &'a Technique>, bool, bool)> = BTreeMap::new();
        for tag in tags {
            if let TagResolution::Technique { technique, .. } = tag {
                for tactic_id in &technique.tactics {
                    if let Some(order) = self.tactic_order(tactic_id) {
                        by_tactic.entry(order).or_default().0.insert(technique.id.as_str(), *technique);
                    }
                }
            }
        }
        let has_technique = tags.iter().any(|tag| matches!(tag, TagResolution::Technique { .. }));
        for tag in tags {
            if let TagResolution::Tactic { tactic, legacy } = tag
                && !(*legacy && has_technique)
                && let Some(order) = self.tactic_order(&tactic.id)
            {
                let entry = by_tactic.entry(order).or_default();
                if entry.0.is_empty() {
                    entry.1 = true;
                    entry.2 |= *legacy;
                }
            }
        }
        by_tactic
            .into_iter()
            .filter_map(|(order, (techniques, _tactic_tag, legacy))| {
                Some(TacticRow {
                    tactic: self.data.tactics.get(order)?,
                    legacy_label: legacy && techniques.is_empty(),
                    techniques: techniques.into_values().collect(),
                })
            })
            .collect()
    }
}

/// Lower case, letters and digits only: `Defense Evasion`, `defense-evasion`, `defense_evasion`
/// and `DefenseEvasion` all become `defenseevasion`.
fn normalize_label(label: &str) -> String {
    label.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// `t1218.007` / `T1218` -> `T1218.007` / `T1218`. Also accepts `t1218/007` and `t1218_007`.
fn technique_id(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[0].eq_ignore_ascii_case(&b't') {
        return None;
    }
    let digits = text.get(1..5)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.get(5..)? {
        "" => Some(format!("T{digits}")),
        rest => {
            let sub = rest.strip_prefix(['.', '/', '_'])?;
            (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())).then(|| format!("T{digits}.{sub}"))
        }
    }
}

/// `ta0005` -> `TA0005`.
fn tactic_id(text: &str) -> Option<String> {
    let digits = text.strip_prefix("ta").or_else(|| text.strip_prefix("TA"))?;
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("TA{digits}"))
}

/// ATT&CK objects that are not techniques or tactics: `g0016`, `s0002`, `c0024`, `m1042`, `ds0009`.
fn other_attack_object(text: &str) -> Option<OtherTag> {
    let split = text.find(|c: char| c.is_ascii_digit())?;
    let (prefix, digits) = text.split_at(split);
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match prefix {
        "g" => Some(OtherTag::Group),
        "s" => Some(OtherTag::Software),
        "c" => Some(OtherTag::Campaign),
        "m" => Some(OtherTag::Mitigation),
        "ds" | "dc" => Some(OtherTag::DataSource),
        _ => None,
    }
}

// ---- STIX loading -------------------------------------------------------------------------------

#[derive(Deserialize)]
struct StixBundle {
    #[serde(default)]
    objects: Vec<StixObject>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: Option<String>,
    revoked: Option<bool>,
    x_mitre_deprecated: Option<bool>,
    x_mitre_domains: Option<Vec<String>>,
    external_references: Vec<ExternalReference>,
    kill_chain_phases: Vec<KillChainPhase>,
    x_mitre_shortname: Option<String>,
    tactic_refs: Vec<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    x_mitre_data_source_ref: Option<String>,
    x_mitre_log_sources: Vec<LogSource>,
    x_mitre_analytic_refs: Vec<String>,
    x_mitre_log_source_references: Vec<LogSourceReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalReference {
    source_name: String,
    external_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillChainPhase {
    kill_chain_name: String,
    phase_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogSource {
    name: String,
    channel: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogSourceReference {
    x_mitre_data_component_ref: String,
}

impl StixObject {
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|reference| reference.source_name == "mitre-attack")
            .and_then(|reference| reference.external_id.as_deref())
    }
}

/// MITRE's copyright designation and license statement, reproduced with every copy of ATT&CK data
/// (see `../shared/knowledge/attack/LICENSE.txt`).
pub const ATTACK_ATTRIBUTION: &str = "MITRE ATT&CK(R). (c) 2025 The MITRE Corporation. This work is reproduced and \
distributed with the permission of The MITRE Corporation. License: The MITRE Corporation (MITRE) hereby grants you a \
non-exclusive, royalty-free license to use ATT&CK(R) for research, development, and commercial purposes. Any copy you \
make for such purposes is authorized provided that you reproduce MITRE's copyright designation and this license in \
any such copy.";

/// Reads a STIX bundle (plain or gzip-compressed JSON) into [`AttackData`]. `source` names the
/// file in the result.
pub fn attack_data_from_stix(bytes: &[u8], source: &str) -> Result<AttackData, KnowledgeError> {
    let bundle: StixBundle = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut text)
            .map_err(|source_error| KnowledgeError::Io { path: source.to_owned(), source: source_error })?;
        serde_json::from_slice(&text)
    } else {
        serde_json::from_slice(bytes)
    }
    .map_err(|error| KnowledgeError::Json { what: source.to_owned(), source: error })?;
    Ok(attack_data_from_bundle(bundle, source))
}

fn attack_data_from_bundle(bundle: StixBundle, source: &str) -> AttackData {
    let objects = bundle.objects;
    let by_stix_id: HashMap<&str, &StixObject> = objects.iter().map(|object| (object.id.as_str(), object)).collect();

    // Tactics in matrix order: the first matrix that is neither revoked nor deprecated, preferring
    // the enterprise domain.
    let matrix = objects
        .iter()
        .filter(|object| object.kind == "x-mitre-matrix" && !object.revoked.unwrap_or(false))
        .filter(|object| !object.x_mitre_deprecated.unwrap_or(false))
        .max_by_key(|object| {
            object.x_mitre_domains.as_ref().is_some_and(|domains| domains.iter().any(|d| d == "enterprise-attack"))
        });
    let mut tactics = Vec::new();
    if let Some(matrix) = matrix {
        for reference in &matrix.tactic_refs {
            if let Some(object) = by_stix_id.get(reference.as_str())
                && let Some(tactic) = tactic_from(object)
            {
                tactics.push(tactic);
            }
        }
    }
    if tactics.is_empty() {
        // No matrix: keep every active tactic, in ID order.
        let mut all: Vec<Tactic> = objects
            .iter()
            .filter(|object| object.kind == "x-mitre-tactic" && !object.revoked.unwrap_or(false))
            .filter_map(tactic_from)
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        tactics = all;
    }
    let tactic_by_short_name: HashMap<&str, &str> =
        tactics.iter().map(|tactic| (tactic.short_name.as_str(), tactic.id.as_str())).collect();
    let tactic_order: HashMap<&str, usize> =
        tactics.iter().enumerate().map(|(index, tactic)| (tactic.id.as_str(), index)).collect();

    // Revoked-by links and data component links, by STIX id.
    let mut revoked_by: HashMap<&str, &str> = HashMap::new();
    let mut detects: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for object in objects.iter().filter(|object| object.kind == "relationship") {
        let (Some(source_ref), Some(target_ref)) = (object.source_ref.as_deref(), object.target_ref.as_deref()) else {
            continue;
        };
        match object.relationship_type.as_deref() {
            Some("revoked-by") => {
                revoked_by.insert(source_ref, target_ref);
            }
            Some("detects") if !object.revoked.unwrap_or(false) => {
                detects.entry(target_ref).or_default().push(source_ref);
            }
            Some("subtechnique-of") => {
                parent_of.insert(source_ref, target_ref);
            }
            _ => {}
        }
    }
    let external_id = |stix_id: &str| by_stix_id.get(stix_id).and_then(|object| object.attack_id()).map(str::to_owned);

    // Data components a detection source (a detection strategy, or a data component in releases
    // before v18) stands for.
    let components_of_detector = |detector: &str| -> Vec<String> {
        let Some(object) = by_stix_id.get(detector) else { return Vec::new() };
        match object.kind.as_str() {
            "x-mitre-data-component" => object.attack_id().map(str::to_owned).into_iter().collect(),
            "x-mitre-detection-strategy" => object
                .x_mitre_analytic_refs
                .iter()
                .filter_map(|analytic| by_stix_id.get(analytic.as_str()))
                .flat_map(|analytic| analytic.x_mitre_log_source_references.iter())
                .filter_map(|reference| external_id(&reference.x_mitre_data_component_ref))
                .collect(),
            _ => Vec::new(),
        }
    };

    let mut techniques: Vec<Technique> = Vec::new();
    let mut components_by_technique: HashMap<String, BTreeSet<String>> = HashMap::new();
    for object in objects.iter().filter(|object| object.kind == "attack-pattern") {
        let Some(id) = object.attack_id() else { continue };
        if !id.starts_with('T') {
            continue;
        }
        let mut technique_tactics: Vec<&str> = object
            .kill_chain_phases
            .iter()
            .filter(|phase| phase.kill_chain_name == "mitre-attack")
            .filter_map(|phase| tactic_by_short_name.get(phase.phase_name.as_str()).copied())
            .collect();
        technique_tactics.sort_by_key(|tactic| tactic_order.get(tactic).copied().unwrap_or(usize::MAX));
        technique_tactics.dedup();
        let parent = match id.split_once('.') {
            Some((parent, _)) => Some(parent.to_owned()),
            None => parent_of.get(object.id.as_str()).and_then(|parent| external_id(parent)),
        };
        let components: BTreeSet<String> = detects
            .get(object.id.as_str())
            .into_iter()
            .flatten()
            .flat_map(|detector| components_of_detector(detector))
            .collect();
        if !components.is_empty() {
            components_by_technique.entry(id.to_owned()).or_default().extend(components);
        }
        techniques.push(Technique {
            id: id.to_owned(),
            name: object.name.clone().unwrap_or_default(),
            parent,
            tactics: technique_tactics.into_iter().map(str::to_owned).collect(),
            revoked: object.revoked.unwrap_or(false),
            deprecated: object.x_mitre_deprecated.unwrap_or(false),
            revoked_by: revoked_by.get(object.id.as_str()).and_then(|target| external_id(target)),
            data_components: Vec::new(),
        });
    }
    // When two objects carry one ID (an old revoked object and the current one), keep the active one.
    techniques.sort_by(|a, b| a.id.cmp(&b.id).then(a.revoked.cmp(&b.revoked)).then(a.deprecated.cmp(&b.deprecated)));
    techniques.dedup_by(|later, earlier| later.id == earlier.id);

    // A replacement inherits the data components of what it replaced.
    let inherited: Vec<(String, BTreeSet<String>)> = techniques
        .iter()
        .filter_map(|technique| {
            let target = technique.revoked_by.as_ref()?;
            Some((target.clone(), components_by_technique.get(&technique.id)?.clone()))
        })
        .collect();
    for (target, components) in inherited {
        components_by_technique.entry(target).or_default().extend(components);
    }
    for technique in &mut techniques {
        if let Some(components) = components_by_technique.get(&technique.id) {
            technique.data_components = components.iter().cloned().collect();
        }
    }

    let mut data_components: Vec<DataComponent> = objects
        .iter()
        .filter(|object| object.kind == "x-mitre-data-component" && !object.revoked.unwrap_or(false))
        .filter_map(|object| {
            let id = object.attack_id()?;
            let mut log_sources: Vec<String> = object
                .x_mitre_log_sources
                .iter()
                .map(|log_source| match log_source.channel.as_deref() {
                    Some(channel) if !channel.is_empty() => format!("{}: {}", log_source.name, channel),
                    _ => log_source.name.clone(),
                })
                .collect();
            log_sources.sort();
            log_sources.dedup();
            Some(DataComponent {
                id: id.to_owned(),
                name: object.name.clone().unwrap_or_default(),
                data_source: object
                    .x_mitre_data_source_ref
                    .as_deref()
                    .and_then(|reference| by_stix_id.get(reference))
                    .and_then(|source_object| source_object.name.clone()),
                log_sources,
            })
        })
        .collect();
    data_components.sort_by(|a, b| a.id.cmp(&b.id));
    data_components.dedup_by(|later, earlier| later.id == earlier.id);

    AttackData {
        attribution: ATTACK_ATTRIBUTION.to_owned(),
        source: source.to_owned(),
        release: release_of(source),
        tactics,
        techniques,
        data_components,
    }
}

fn tactic_from(object: &StixObject) -> Option<Tactic> {
    Some(Tactic {
        id: object.attack_id()?.to_owned(),
        name: object.name.clone()?,
        short_name: object.x_mitre_shortname.clone()?,
    })
}

/// The release number, read from the file name (`enterprise-attack-19.partial.json.gz` -> `19`,
/// `enterprise-attack-18.1.json` -> `18.1`) since STIX bundles do not carry it.
fn release_of(source: &str) -> String {
    let Some(rest) = source.strip_prefix("enterprise-attack-") else { return String::new() };
    let mut end = 0;
    for (index, c) in rest.char_indices() {
        let next_is_digit = rest[index + c.len_utf8()..].starts_with(|c: char| c.is_ascii_digit());
        if c.is_ascii_digit() || (c == '.' && next_is_digit) {
            end = index + c.len_utf8();
        } else {
            break;
        }
    }
    rest[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_normalize() {
        assert_eq!(technique_id("t1218.007").as_deref(), Some("T1218.007"));
        assert_eq!(technique_id("T1218").as_deref(), Some("T1218"));
        assert_eq!(technique_id("t1218.07"), None);
        assert_eq!(technique_id("ta0005"), None);
        assert_eq!(tactic_id("ta0005").as_deref(), Some("TA0005"));
    }

    #[test]
    fn releases_from_file_names() {
        assert_eq!(release_of("enterprise-attack-19.partial.json.gz"), "19");
        assert_eq!(release_of("enterprise-attack-18.1.assembled.json.gz"), "18.1");
        assert_eq!(release_of("bundle.json"), "");
    }
}
