//! Related rules, computed for the whole catalog (PRODUCT.md §2.13, `docs/semantics.md`, "Related
//! rules").
//!
//! Relations are decided on each rule's positive canonical indicators (exclusions never count,
//! nor tests on the fields that choose the event: [`EVENT_SELECTOR_FIELDS`]), the telemetry
//! events of its coverage rows, its ATT&CK techniques and its group-by keys:
//!
//! - *broader* / *narrower*: one rule's indicators are a strict subset of the other's, on a shared
//!   event: the smaller set asks for less and is the broader rule, unless every extra indicator of
//!   the larger set is an equality on a field the smaller set tests (then they are alternatives,
//!   and the larger set is the broader rule);
//! - *equivalent*: sets not strictly nested whose rarity-weighted Jaccard overlap is at least
//!   [`EQUIVALENT_THRESHOLD`], on a shared event, where no field tested by both rules is tested
//!   with disjoint values, the fields they test overlap as much, what they share weighs at least
//!   two indicators held by [`SPECIFIC_RULES`] rules, both rules have an indicator at most
//!   [`SPECIFIC_RULES`] rules share, and two rules of one family read the same fields and
//!   group by the same keys;
//! - *same events and technique*: none of the above, but a shared event and a shared technique.
//!
//! A pair holds at most one relation, rules of one file are never related to each other (they are
//! variants of one rule, shown on the same page), and each rule keeps the [`MAX_PER_KIND`] best of
//! each kind.
//!
//! **Invariant:** no step compares all pairs. Candidates come from inverted indexes: equivalence
//! probes the postings of a rule's rarest keys only, as many as a rule needs for the threshold to
//! be reachable (prefix filtering); subsets are found through the rarest key of the smaller set;
//! the last kind through the technique index. Each rule is computed independently, in parallel,
//! and the result depends only on the catalog.

use std::collections::HashMap;
use std::hash::Hash;

use rayon::prelude::*;
use serde::{Serialize, Serializer};

use crate::Catalog;
use crate::corpus::RuleFacts;

/// Smallest rarity-weighted Jaccard overlap of two rules' positive indicators for them to be
/// called equivalent. Each indicator weighs `ln(1 + rules / rules with it)`, so that indicators
/// many rules share (a macro's list of PowerShell names, `host.os.type eq linux`) count less than
/// the ones that describe the rule. Why this value: `docs/semantics.md`.
pub const EQUIVALENT_THRESHOLD: f64 = 0.6;

/// A rule takes part in equivalence only when one of its indicators is held by at most this many
/// rules: indicators all rules of a kind share say nothing about the rule's own logic (which
/// then lies in what is not an indicator).
pub const SPECIFIC_RULES: u32 = 25;

/// Fields whose values choose the kind of event or the log a rule reads (a UDM event type, a
/// dataset, a channel, an operating system) rather than describe what the rule looks for in it.
/// Their indicators are left out of every relation, which compares events through the coverage
/// rows instead: a Chronicle rule's `event_type eq PROCESS_LAUNCH` must not make it narrower than
/// the Sigma `process_creation` rule it was converted from. Event IDs and action types stay: in
/// cloud and SaaS logs (`CreateRole`, `ASSIGN_ROLE`) they are what the rule looks for.
pub const EVENT_SELECTOR_FIELDS: &[&str] = &[
    "data_stream.dataset",
    "event.dataset",
    "event_category",
    "event_channel",
    "event_provider",
    "event_type",
    "host.os.type",
    "metadata.log_type",
    "metadata.product_name",
    "metadata.vendor_name",
];

/// Rules looking for exactly the same indicators as more than this many others take no part in
/// equivalence: when so many rules share one set, the set does not tell them apart (their
/// difference lies in thresholds, computed columns or what no indicator captures).
pub const CROWDED_SET: usize = 3;

/// Related rules kept per kind and rule: the best by score.
pub const MAX_PER_KIND: usize = 10;

/// How two rules relate, from the first one's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Equivalent,
    /// The other rule asks for a strict subset of this rule's indicators.
    Broader,
    /// The other rule asks for a strict superset of this rule's indicators.
    Narrower,
    SameEventsAndTechnique,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Equivalent => "equivalent",
            Relation::Broader => "broader",
            Relation::Narrower => "narrower",
            Relation::SameEventsAndTechnique => "same_events_and_technique",
        }
    }

    /// The label pages show.
    pub fn label(self) -> &'static str {
        match self {
            Relation::Equivalent => "equivalent",
            Relation::Broader => "broader",
            Relation::Narrower => "narrower",
            Relation::SameEventsAndTechnique => "same events and technique",
        }
    }
}

/// A score in `[0, 1]`, kept in thousandths so that views stay comparable with `Eq`; serialized as
/// a number (`0.667`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(pub u32);

impl Score {
    /// `numerator / denominator`, rounded to thousandths; zero when the denominator is.
    pub fn ratio(numerator: usize, denominator: usize) -> Score {
        if denominator == 0 {
            return Score(0);
        }
        Score(((numerator as u64 * 1000 + denominator as u64 / 2) / denominator as u64) as u32)
    }

    pub fn value(self) -> f64 {
        f64::from(self.0) / 1000.0
    }

    /// `0.667`.
    pub fn text(self) -> String {
        format!("{:.3}", self.value())
    }
}

impl Serialize for Score {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.value())
    }
}

/// One related rule, from the point of view of the rule it is listed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedRule {
    /// Position of the other rule in [`Catalog::rules`].
    pub other: usize,
    pub relation: Relation,
    /// Equivalent: the weighted Jaccard overlap of the indicators; broader and narrower: the
    /// smaller set's size over the larger's; same events and technique: the Jaccard overlap of the techniques
    /// times that of the events.
    pub score: Score,
    /// Indicators both rules look for.
    pub shared_indicators: u32,
    /// Events both rules read.
    pub shared_events: u32,
    /// Techniques both rules cover.
    pub shared_techniques: u32,
}

/// One rule's inputs, interned: sorted ids, so that overlaps are merges of sorted lists.
#[derive(Debug, Default)]
struct Profile {
    /// Positive indicator ids, ascending.
    keys: Vec<u32>,
    /// The same ids rarest first (ties by id): the global order of prefix filtering.
    keys_by_rarity: Vec<u32>,
    events: Vec<u32>,
    techniques: Vec<u32>,
    file: u32,
    family: u32,
    /// The rule's group-by keys, lower case, when it has any.
    group_by: Option<u32>,
    /// The canonical fields the rule reads anywhere, as one id.
    fields_read: u32,
    /// The shape of the rule's queries, as one id: each stage's kind, aggregation keys and
    /// thresholds, in order (see [`shape`]).
    shape: u32,
    /// Some indicator of the rule is held by at most [`SPECIFIC_RULES`] rules, and its set is not
    /// shared by more than [`CROWDED_SET`] other rules.
    specific: bool,
}

/// What the indexes know of every indicator.
#[derive(Debug, Default)]
struct KeyTable {
    /// Key -> its weight (see [`EQUIVALENT_THRESHOLD`]).
    weights: Vec<f64>,
    /// Key -> its field.
    fields: Vec<u32>,
    /// Key -> its value, case-folded, whatever the operator.
    values: Vec<u32>,
    /// Key -> its operator is `eq`.
    equality: Vec<bool>,
    /// The weight of an indicator held by [`SPECIFIC_RULES`] rules.
    specific_weight: f64,
}

/// What a rule does beyond its indicators, for comparing rules of one language: every stage's
/// kind, aggregation keys (lower case) and thresholds, in order.
fn shape(entry: &crate::CatalogRule) -> String {
    let mut text = String::new();
    for query in &entry.analyses {
        for stage in &query.analysis.stages {
            text.push_str(&stage.kind);
            text.push('|');
            text.push_str(&stage.aggregation_keys.join(",").to_lowercase());
            for threshold in &stage.thresholds {
                text.push('|');
                text.push_str(&crate::expr_text(threshold));
            }
            text.push('\n');
        }
        text.push('\u{1}');
    }
    text
}

/// Gives each distinct value a dense id, in order of first appearance.
struct Interner<K> {
    ids: HashMap<K, u32>,
}

impl<K: Eq + Hash> Interner<K> {
    fn new() -> Self {
        Interner { ids: HashMap::new() }
    }

    fn id(&mut self, value: K) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(value).or_insert(next)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The related rules of every rule of the catalog, parallel to [`Catalog::rules`]: for each
/// rule, equivalent rules first, then broader, narrower, and same events and technique, each kind
/// best score first (ties in catalog order) and at most [`MAX_PER_KIND`] long.
///
/// `facts` is parallel to `catalog.rules` ([`crate::CatalogIndex::facts`]).
pub fn related_rules(catalog: &Catalog, facts: &[RuleFacts]) -> Vec<Vec<RelatedRule>> {
    let (profiles, table, technique_count) = profiles(catalog, facts);
    let key_count = table.weights.len();
    // Every rule under each of its keys, under its rarest key, and under each of its techniques.
    let mut postings: Vec<Vec<u32>> = vec![Vec::new(); key_count];
    let mut rarest_postings: Vec<Vec<u32>> = vec![Vec::new(); key_count];
    let mut technique_postings: Vec<Vec<u32>> = vec![Vec::new(); technique_count];
    for (position, profile) in profiles.iter().enumerate() {
        let position = position as u32;
        for key in &profile.keys {
            postings[*key as usize].push(position);
        }
        if let Some(rarest) = profile.keys_by_rarity.first() {
            rarest_postings[*rarest as usize].push(position);
        }
        for technique in &profile.techniques {
            technique_postings[*technique as usize].push(position);
        }
    }
    let indexes = Indexes { profiles: &profiles, table: &table, postings, rarest_postings, technique_postings };
    let rules = profiles.len();
    (0..rules)
        .into_par_iter()
        .map_init(|| Scratch::new(rules), |scratch, position| indexes.related_of(position, scratch))
        .collect()
}

/// Every rule's profile, the key table and the number of distinct techniques.
fn profiles(catalog: &Catalog, facts: &[RuleFacts]) -> (Vec<Profile>, KeyTable, usize) {
    let mut keys = Interner::new();
    let mut fields = Interner::new();
    let mut values = Interner::new();
    let mut events = Interner::new();
    let mut techniques = Interner::new();
    let mut files = Interner::new();
    let mut families = Interner::new();
    let mut group_bys = Interner::new();
    let mut fields_read = Interner::new();
    let mut shapes = Interner::new();
    let mut table = KeyTable::default();
    let mut out = Vec::with_capacity(facts.len());
    for (entry, rule) in catalog.rules.iter().zip(facts) {
        let provenance = &entry.rule.provenance;
        let mut group_by: Vec<String> = entry
            .analyses
            .iter()
            .flat_map(|query| query.analysis.group_by.iter())
            .map(|key| key.to_lowercase())
            .collect();
        group_by.sort();
        group_by.dedup();
        let mut profile = Profile {
            keys: Vec::new(),
            events: rule
                .coverage
                .iter()
                .filter(|row| !row.unknown_dataset)
                .map(|row| events.id((row.provider.clone(), row.event.clone())))
                .collect(),
            techniques: rule.attack.technique_ids.iter().map(|id| techniques.id(id.clone())).collect(),
            file: files.id((provenance.source.clone(), provenance.path.clone())),
            family: families.id(entry.rule.family.as_str()),
            group_by: (!group_by.is_empty()).then(|| group_bys.id(group_by.join("\u{0}"))),
            fields_read: fields_read.id(rule.fields_read.clone()),
            shape: shapes.id(shape(entry)),
            keys_by_rarity: Vec::new(),
            specific: false,
        };
        for key in rule.indicator_keys().into_iter().filter(|key| !EVENT_SELECTOR_FIELDS.contains(&key.field.as_str()))
        {
            let id = keys.id(key.clone());
            if id as usize == table.fields.len() {
                table.fields.push(fields.id(key.field.clone()));
                table.values.push(values.id(key.value.to_lowercase()));
                table.equality.push(key.kind == "eq");
            }
            profile.keys.push(id);
        }
        for list in [&mut profile.keys, &mut profile.events, &mut profile.techniques] {
            list.sort_unstable();
            list.dedup();
        }
        out.push(profile);
    }
    let mut frequency = vec![0u32; keys.len()];
    for profile in &out {
        for key in &profile.keys {
            frequency[*key as usize] += 1;
        }
    }
    let rules = out.len().max(1) as f64;
    table.weights = frequency.iter().map(|count| (1.0 + rules / f64::from((*count).max(1))).ln()).collect();
    table.specific_weight = (1.0 + rules / f64::from(SPECIFIC_RULES)).ln();
    let mut sets: HashMap<&[u32], usize> = HashMap::new();
    for profile in &out {
        *sets.entry(profile.keys.as_slice()).or_default() += 1;
    }
    let crowded: Vec<bool> = out.iter().map(|profile| sets[profile.keys.as_slice()] > CROWDED_SET + 1).collect();
    for (profile, crowded) in out.iter_mut().zip(crowded) {
        profile.keys_by_rarity = profile.keys.clone();
        profile.keys_by_rarity.sort_by_key(|key| (frequency[*key as usize], *key));
        profile.specific =
            !crowded && profile.keys_by_rarity.first().is_some_and(|key| frequency[*key as usize] <= SPECIFIC_RULES);
    }
    (out, table, techniques.len())
}

/// The inverted indexes over every rule's profile.
struct Indexes<'a> {
    profiles: &'a [Profile],
    table: &'a KeyTable,
    /// Key -> rules that look for it.
    postings: Vec<Vec<u32>>,
    /// Key -> rules whose rarest key it is.
    rarest_postings: Vec<Vec<u32>>,
    /// Technique -> rules that cover it.
    technique_postings: Vec<Vec<u32>>,
}

/// Per-thread working memory, reused from rule to rule so that no step allocates per candidate.
struct Scratch {
    /// Rule -> a count for the current step (shared techniques), valid for rules in `touched`.
    counts: Vec<u32>,
    /// Rules whose `counts` entry is non-zero.
    touched: Vec<u32>,
    /// Rule -> the (1-based) rule position for which it already got a relation.
    taken: Vec<u32>,
}

impl Scratch {
    fn new(rules: usize) -> Scratch {
        Scratch { counts: vec![0; rules], touched: Vec::new(), taken: vec![0; rules] }
    }

    /// Adds one to each rule of `lists`, remembering which rules were touched.
    fn count<'l>(&mut self, lists: impl Iterator<Item = &'l Vec<u32>>) {
        for other in lists.flatten() {
            let count = &mut self.counts[*other as usize];
            if *count == 0 {
                self.touched.push(*other);
            }
            *count += 1;
        }
    }

    /// The touched rules with their counts, in catalog order; resets the counts.
    fn drain(&mut self) -> Vec<(u32, u32)> {
        self.touched.sort_unstable();
        let out =
            self.touched.iter().map(|other| (*other, std::mem::take(&mut self.counts[*other as usize]))).collect();
        self.touched.clear();
        out
    }
}

impl Indexes<'_> {
    /// The related rules of one rule, every kind, each sorted and cut to [`MAX_PER_KIND`].
    fn related_of(&self, position: usize, scratch: &mut Scratch) -> Vec<RelatedRule> {
        let Some(this) = self.profiles.get(position) else { return Vec::new() };
        let stamp = position as u32 + 1;
        let size = this.keys.len();
        let mut out = Vec::new();
        let mut broader = Vec::new();
        let mut narrower = Vec::new();

        // Nested sets: a strict subset of this rule's keys holds its own rarest key, which is one
        // of this rule's; a strict superset holds this rule's rarest key.
        let smaller = this.keys.iter().flat_map(|key| &self.rarest_postings[*key as usize]);
        let larger = this.keys_by_rarity.first().map(|key| &self.postings[*key as usize]).into_iter().flatten();
        for other in smaller.chain(larger) {
            let Some(that) = self.candidate(this, position, *other) else { continue };
            let shared = overlap(&this.keys, &that.keys);
            let that_is_broader = if that.keys.len() < size && shared == that.keys.len() {
                Some(self.nested(that, this))
            } else if that.keys.len() > size && shared == size {
                Some(!self.nested(this, that))
            } else {
                None
            };
            let score = Score::ratio(size.min(that.keys.len()), size.max(that.keys.len()));
            match that_is_broader {
                Some(true) => broader.push(related(this, that, *other, Relation::Broader, score, shared)),
                Some(false) => narrower.push(related(this, that, *other, Relation::Narrower, score, shared)),
                None => {}
            }
        }
        keep_best(&mut broader, &mut scratch.taken, stamp, &mut out);
        keep_best(&mut narrower, &mut scratch.taken, stamp, &mut out);

        let mut equivalent = Vec::new();
        if this.specific {
            scratch.count(self.prefix(this).iter().map(|key| &self.postings[*key as usize]));
            for (other, _) in scratch.drain() {
                if scratch.taken[other as usize] == stamp {
                    continue;
                }
                let Some(that) = self.candidate(this, position, other) else { continue };
                if let Some(score) = self.equivalence(this, that) {
                    let shared = overlap(&this.keys, &that.keys);
                    equivalent.push(related(this, that, other, Relation::Equivalent, score, shared));
                }
            }
        }
        let mut kept = Vec::new();
        keep_best(&mut equivalent, &mut scratch.taken, stamp, &mut kept);
        // Equivalent rules come first on the page.
        kept.append(&mut out);
        let mut out = kept;

        let mut same = Vec::new();
        scratch.count(this.techniques.iter().map(|technique| &self.technique_postings[*technique as usize]));
        for (other, techniques) in scratch.drain() {
            if scratch.taken[other as usize] == stamp {
                continue;
            }
            let Some(that) = self.candidate(this, position, other) else { continue };
            let techniques = techniques as usize;
            let events = overlap(&this.events, &that.events);
            let technique_union = this.techniques.len() + that.techniques.len() - techniques;
            let event_union = this.events.len() + that.events.len() - events;
            let score = Score::ratio(techniques * events, technique_union * event_union);
            let shared = overlap(&this.keys, &that.keys);
            let mut entry = related(this, that, other, Relation::SameEventsAndTechnique, score, shared);
            entry.shared_techniques = techniques as u32;
            same.push(entry);
        }
        keep_best(&mut same, &mut scratch.taken, stamp, &mut out);
        out
    }

    /// Rule `other` when it can be related to `this` at all: another rule, of another file, with
    /// a shared event.
    fn candidate(&self, this: &Profile, position: usize, other: u32) -> Option<&Profile> {
        let that = self.profiles.get(other as usize)?;
        let related = other as usize != position && that.file != this.file && shares_any(&this.events, &that.events);
        related.then_some(that)
    }

    fn weight(&self, keys: &[u32]) -> f64 {
        keys.iter().map(|key| self.table.weights[*key as usize]).sum()
    }

    /// The rarest keys of a rule that any rule at the threshold must share one of: the shortest
    /// prefix, rarest first, after which the remaining weight is below the threshold's share of
    /// the rule's weight (a rule sharing none of them shares too little weight).
    fn prefix<'p>(&self, profile: &'p Profile) -> &'p [u32] {
        let total = self.weight(&profile.keys);
        let mut remaining = total;
        for (index, key) in profile.keys_by_rarity.iter().enumerate() {
            remaining -= self.table.weights[*key as usize];
            if remaining < EQUIVALENT_THRESHOLD * total {
                return &profile.keys_by_rarity[..=index];
            }
        }
        &profile.keys_by_rarity
    }

    /// The weighted Jaccard overlap of two rules when they are equivalent: the threshold met by
    /// the indicators and by the fields, both specific, no field tested with disjoint values, and
    /// within one family the same fields read and the same group-by keys. Strictly nested sets never get here: they are broader or narrower.
    fn equivalence(&self, this: &Profile, that: &Profile) -> Option<Score> {
        if !that.specific {
            return None;
        }
        let shared_keys = intersection(&this.keys, &that.keys);
        let shared_weight = self.weight(&shared_keys);
        let union_weight = self.weight(&this.keys) + self.weight(&that.keys) - shared_weight;
        if union_weight <= 0.0 || shared_weight < EQUIVALENT_THRESHOLD * union_weight {
            return None;
        }
        // What they share must say something: at least the weight of two indicators that
        // [`SPECIFIC_RULES`] rules hold each. One shared executable name or event ID is where
        // many different detections start, not a detection.
        if shared_weight < 2.0 * self.table.specific_weight {
            return None;
        }
        if self.field_overlap(this, that) < EQUIVALENT_THRESHOLD {
            return None;
        }
        // Within one language, rules that read different fields or aggregate differently differ in
        // what no indicator shows (a "new country" and a "new region" rule, a count of requests
        // and a sum of bytes, a threshold by user or by source).
        let grouped_apart = this.group_by.is_some() && that.group_by.is_some() && this.group_by != that.group_by;
        let read_apart = grouped_apart || this.fields_read != that.fields_read || this.shape != that.shape;
        if (this.family == that.family && read_apart) || self.disjoint_field(this, that) {
            return None;
        }
        Some(Score((shared_weight / union_weight * 1000.0).round() as u32))
    }

    /// The weighted Jaccard overlap of the fields the two rules test, a field counting as shared
    /// when both rules test it for a common value and weighing as its rarest indicator in either
    /// rule. Ten shell names shared by two rules then count once, next to the parent process one
    /// rule adds and the command line the other adds.
    fn field_overlap(&self, this: &Profile, that: &Profile) -> f64 {
        let mut weights: Vec<(u32, f64, bool)> = Vec::new();
        for (profile, other) in [(this, that), (that, this)] {
            for key in &profile.keys {
                let field = self.table.fields[*key as usize];
                let weight = self.table.weights[*key as usize];
                let shared = other.keys.binary_search(key).is_ok();
                weights.push((field, weight, shared));
            }
        }
        weights.sort_by_key(|(field, _, _)| *field);
        let (mut shared_weight, mut total_weight) = (0.0, 0.0);
        for group in weights.chunk_by(|left, right| left.0 == right.0) {
            let weight = group.iter().map(|(_, weight, _)| *weight).fold(0.0, f64::max);
            total_weight += weight;
            if group.iter().any(|(_, _, shared)| *shared) {
                shared_weight += weight;
            }
        }
        if total_weight > 0.0 { shared_weight / total_weight } else { 0.0 }
    }

    /// True when some field both rules test is tested for mostly different values: fewer than
    /// half of the values either rule tests on it are shared (whatever the operators). The rules
    /// then look for different things there (`add user` and `/delete user` on a command line).
    fn disjoint_field(&self, this: &Profile, that: &Profile) -> bool {
        let pairs = |profile: &Profile| -> Vec<(u32, u32)> {
            let mut pairs: Vec<(u32, u32)> = profile
                .keys
                .iter()
                .map(|key| (self.table.fields[*key as usize], self.table.values[*key as usize]))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            pairs
        };
        let (left, right) = (pairs(this), pairs(that));
        let mut all: Vec<(u32, u32, bool, bool)> = Vec::new();
        for pair in &left {
            all.push((pair.0, pair.1, true, right.binary_search(pair).is_ok()));
        }
        for pair in right.iter().filter(|pair| left.binary_search(pair).is_err()) {
            all.push((pair.0, pair.1, false, true));
        }
        all.sort_unstable();
        let mostly_apart = all.chunk_by(|a, b| a.0 == b.0).any(|field| {
            let in_left = field.iter().any(|value| value.2);
            let in_right = field.iter().any(|value| value.3);
            let shared = field.iter().filter(|value| value.2 && value.3).count();
            in_left && in_right && shared * 2 < field.len()
        });
        mostly_apart || self.rarest_value_apart(this, that, &right) || self.rarest_value_apart(that, this, &left)
    }

    /// True when, on a field both rules test, the most distinctive value `this` tests (its rarest
    /// indicator there) is not tested by `that`: `get-adcomputer` and `get-aduser` next to the
    /// same `-filter *` and `select` are two detections. `that_pairs` are `that`'s (field,
    /// value) pairs, sorted.
    fn rarest_value_apart(&self, this: &Profile, that: &Profile, that_pairs: &[(u32, u32)]) -> bool {
        let mut rarest: Vec<(u32, f64, u32)> = this
            .keys
            .iter()
            .map(|key| {
                let key = *key as usize;
                (self.table.fields[key], self.table.weights[key], self.table.values[key])
            })
            .collect();
        rarest.sort_by(|left, right| left.0.cmp(&right.0).then(right.1.total_cmp(&left.1)));
        let tested_by_that = |field: u32| that.keys.iter().any(|key| self.table.fields[*key as usize] == field);
        rarest.chunk_by(|a, b| a.0 == b.0).any(|field| {
            let (name, _, value) = field[0];
            tested_by_that(name) && that_pairs.binary_search(&(name, value)).is_err()
        })
    }

    /// For `smaller` whose keys are a strict subset of `larger`'s: true when the smaller rule is
    /// the broader one, as a subset of conditions is; false when every extra key of the larger
    /// rule is an equality on a field the smaller rule tests (a field equals one value at a time,
    /// so these are alternatives: the larger rule is the broader one).
    fn nested(&self, smaller: &Profile, larger: &Profile) -> bool {
        let mut small_fields: Vec<u32> = smaller.keys.iter().map(|key| self.table.fields[*key as usize]).collect();
        small_fields.sort_unstable();
        small_fields.dedup();
        let mut extra = larger.keys.iter().filter(|key| smaller.keys.binary_search(key).is_err());
        !extra.all(|key| {
            self.table.equality[*key as usize] && small_fields.binary_search(&self.table.fields[*key as usize]).is_ok()
        })
    }
}

fn related(
    this: &Profile,
    that: &Profile,
    other: u32,
    relation: Relation,
    score: Score,
    shared_indicators: usize,
) -> RelatedRule {
    RelatedRule {
        other: other as usize,
        relation,
        score,
        shared_indicators: shared_indicators as u32,
        shared_events: overlap(&this.events, &that.events) as u32,
        shared_techniques: 0,
    }
}

/// Moves the best [`MAX_PER_KIND`] of `found` (one kind) to `out`, and marks every rule of
/// `found` as taken for this rule (`stamp`) so that it gets no weaker relation.
fn keep_best(found: &mut Vec<RelatedRule>, taken: &mut [u32], stamp: u32, out: &mut Vec<RelatedRule>) {
    for related in found.iter() {
        taken[related.other] = stamp;
    }
    // A candidate reached through several postings lists is found once per list, with the same
    // score: keep one entry per rule.
    found.sort_by_key(|related| related.other);
    found.dedup_by_key(|related| related.other);
    found.sort_by(|left, right| {
        right
            .score
            .cmp(&left.score)
            .then_with(|| right.shared_indicators.cmp(&left.shared_indicators))
            .then_with(|| right.shared_events.cmp(&left.shared_events))
            .then_with(|| left.other.cmp(&right.other))
    });
    found.truncate(MAX_PER_KIND);
    out.append(found);
}

/// True when two ascending lists share a value.
fn shares_any(left: &[u32], right: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(a), Some(b)) = (left.get(i), right.get(j)) {
        match a.cmp(b) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The values two ascending lists share, ascending.
fn intersection(left: &[u32], right: &[u32]) -> Vec<u32> {
    left.iter().copied().filter(|value| right.binary_search(value).is_ok()).collect()
}

/// The number of values two ascending lists share.
fn overlap(left: &[u32], right: &[u32]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while let (Some(a), Some(b)) = (left.get(i), right.get(j)) {
        match a.cmp(b) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}
