//! Conformance of detwiki-sigma against pySigma (`../shared/oracles/sigma_batch.py`).
//!
//! For every YAML document of SigmaHQ/sigma and of the specification's example files, compares
//! what detwiki loads with what pySigma loads: the document kind, whether it loads, every detection
//! item (field, modifiers, values before and after modifiers, value linking, negation), every
//! condition tree after expanding `1 of`/`all of` selectors, correlation fields, and validator
//! findings. Writes `tasks/conformance/snapshots/sigma_<corpus>.snap`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use detwiki_sigma::condition::{ConditionExpr, Quantifier, matching_identifiers};
use detwiki_sigma::correlation::CorrelationCondition;
use detwiki_sigma::detection::{Detection, DetectionEntry, DetectionGroup, DetectionItem, Linking};
use detwiki_sigma::modifiers::SigmaValue;
use detwiki_sigma::{DocumentKind, LintContext, SigmaFile};
use serde_json::{Value as Json, json};

use crate::shared::{oracles_home, shared_dir};

/// The ATT&CK v19 STIX bundle both sides check `attack.*` tags against.
const ATTACK_BUNDLE: &str = "knowledge/attack/enterprise-attack-19.partial.json.gz";

struct Corpus {
    /// Snapshot name (`sigma_<name>.snap`).
    name: &'static str,
    /// Folder under `../shared/corpus`.
    folder: &'static str,
    /// Sub-folders to walk (all of `folder` when empty).
    paths: &'static [&'static str],
    /// Read the ```yaml blocks of Markdown files (`sigma_batch.py --md`).
    markdown: bool,
}

const CORPORA: [Corpus; 3] = [
    Corpus { name: "corpus", folder: "SigmaHQ__sigma", paths: &[], markdown: false },
    Corpus { name: "specification", folder: "SigmaHQ__sigma-specification", paths: &[], markdown: false },
    Corpus {
        name: "specification_markdown",
        folder: "SigmaHQ__sigma-specification",
        paths: &["specification", "sigmahq"],
        markdown: true,
    },
];

pub fn run(arguments: &[String]) -> anyhow::Result<()> {
    let shared = shared_dir(arguments);
    let shared = shared.canonicalize().with_context(|| format!("no shared folder at {}", shared.display()))?;
    let snapshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    std::fs::create_dir_all(&snapshots)?;
    let context = attack_context(&shared);
    for corpus in CORPORA {
        let root = shared.join("corpus").join(corpus.folder);
        let walked: Vec<PathBuf> = if corpus.paths.is_empty() {
            vec![root.clone()]
        } else {
            corpus.paths.iter().map(|path| root.join(path)).collect()
        };
        let oracle = run_oracle(&shared, &walked, corpus.markdown)?;
        let report = compare(&root, &oracle, &context);
        let commit = corpus_commit(&shared, corpus.folder).unwrap_or_else(|| "unknown".to_owned());
        let text = report.render(corpus.folder, &commit);
        let path = snapshots.join(format!("sigma_{}.snap", corpus.name));
        std::fs::write(&path, &text)?;
        let header: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        println!("{header}\n(written to {})\n", path.display());
    }
    Ok(())
}

/// ATT&CK technique IDs and tactic short names from the shared STIX bundle, for the tag lint.
pub fn attack_context(shared: &Path) -> LintContext {
    let path = shared.join(ATTACK_BUNDLE);
    let Ok(file) = std::fs::File::open(&path) else { return LintContext::default() };
    let mut text = String::new();
    if std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text).is_err() {
        return LintContext::default();
    }
    let Ok(bundle) = serde_json::from_str::<Json>(&text) else { return LintContext::default() };
    let mut techniques = std::collections::HashSet::new();
    let mut tactics = std::collections::HashSet::new();
    let mut other_ids = std::collections::HashSet::new();
    for object in bundle["objects"].as_array().into_iter().flatten() {
        // Revoked and deprecated objects are not valid tags (pySigma leaves them out too).
        if object["revoked"] == true || object["x_mitre_deprecated"] == true {
            continue;
        }
        match object["type"].as_str() {
            Some("attack-pattern") => {
                for reference in object["external_references"].as_array().into_iter().flatten() {
                    if reference["source_name"] == "mitre-attack"
                        && let Some(id) = reference["external_id"].as_str()
                    {
                        techniques.insert(id.to_owned());
                    }
                }
            }
            Some("intrusion-set" | "malware" | "tool" | "course-of-action" | "x-mitre-data-source" | "campaign") => {
                for reference in object["external_references"].as_array().into_iter().flatten() {
                    if reference["source_name"] == "mitre-attack"
                        && let Some(id) = reference["external_id"].as_str()
                    {
                        other_ids.insert(id.to_owned());
                    }
                }
            }
            Some("x-mitre-tactic") => {
                if let Some(name) = object["x_mitre_shortname"].as_str() {
                    tactics.insert(name.to_owned());
                }
            }
            _ => {}
        }
    }
    LintContext {
        attack_techniques: Some(techniques),
        attack_tactics: Some(tactics),
        attack_other_ids: Some(other_ids),
    }
}

fn corpus_commit(shared: &Path, folder: &str) -> Option<String> {
    let manifest = std::fs::read_to_string(shared.join("corpus/MANIFEST.toml")).ok()?;
    let mut in_source = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with("path") {
            in_source = line.contains(&format!("\"{folder}\""));
        }
        if in_source && line.starts_with("commit") {
            return line.split('"').nth(1).map(str::to_owned);
        }
    }
    None
}

fn run_oracle(shared: &Path, paths: &[PathBuf], markdown: bool) -> anyhow::Result<Vec<Json>> {
    let python = oracles_home().join("venv2/bin/python");
    let script = shared.join("oracles/sigma_batch.py");
    let mut command = Command::new(&python);
    command.arg(&script).args(paths);
    if markdown {
        command.arg("--md");
    }
    let bundle = shared.join(ATTACK_BUNDLE);
    if bundle.is_file() {
        command.arg("--attack-bundle").arg(bundle);
    }
    let output = command.output().with_context(|| format!("running {} {}", python.display(), script.display()))?;
    anyhow::ensure!(output.status.success(), "sigma_batch.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout)?;
    text.lines().map(|line| serde_json::from_str(line).context("oracle line is not JSON")).collect()
}

#[derive(Default)]
struct Report {
    documents: usize,
    loaded_by_us: usize,
    panics: Vec<String>,
    oracle_loaded: usize,
    /// Documents pySigma rejects that we load (legacy aggregations and pseudo-conditions).
    only_we_load: Vec<String>,
    /// Documents we reject that pySigma loads.
    only_oracle_loads: Vec<String>,
    compared_rules: usize,
    identical_rules: usize,
    correlations: usize,
    identical_correlations: usize,
    kind_differences: Vec<String>,
    differences: Vec<String>,
    validator_oracle: BTreeMap<String, usize>,
    validator_ours: BTreeMap<String, usize>,
    validator_agree: usize,
    validator_compared: usize,
    validator_differences: Vec<String>,
    cross_agree: usize,
    cross_compared: usize,
    cross_differences: Vec<String>,
}

fn section(out: &mut String, title: &str, lines: &[String]) {
    let _ = writeln!(out, "## {title} ({})", lines.len());
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
}

/// The fenced block whose first content line is `first` (1-based), up to its closing fence.
fn markdown_block(text: &str, first: usize) -> String {
    let mut block = String::new();
    for line in text.lines().skip(first.saturating_sub(1)) {
        if line.trim_start().starts_with("```") {
            break;
        }
        block.push_str(line);
        block.push('\n');
    }
    block
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 100.0 } else { part as f64 * 100.0 / whole as f64 }
}

impl Report {
    fn render(&self, folder: &str, commit: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "corpus: {folder} @ {commit}");
        let _ = writeln!(out, "oracle: pySigma via sigma_batch.py --attack-bundle {ATTACK_BUNDLE}");
        let _ = writeln!(
            out,
            "loaded without panic: {}/{} ({:.2}%)",
            self.documents - self.panics.len(),
            self.documents,
            percent(self.documents - self.panics.len(), self.documents)
        );
        let _ = writeln!(out, "loaded without error by detwiki: {}/{}", self.loaded_by_us, self.documents);
        let _ = writeln!(out, "loaded without error by pySigma: {}/{}", self.oracle_loaded, self.documents);
        let _ = writeln!(
            out,
            "rules and filters with identical detection items and conditions: {}/{} ({:.2}%)",
            self.identical_rules,
            self.compared_rules,
            percent(self.identical_rules, self.compared_rules)
        );
        let _ = writeln!(
            out,
            "correlations identical (type, rules, group-by, timespan, condition): {}/{} ({:.2}%)",
            self.identical_correlations,
            self.correlations,
            percent(self.identical_correlations, self.correlations)
        );
        let _ = writeln!(
            out,
            "validator findings identical per document: {}/{} ({:.2}%)",
            self.validator_agree,
            self.validator_compared,
            percent(self.validator_agree, self.validator_compared)
        );
        let _ = writeln!(
            out,
            "collection-wide findings (duplicate title, id, file name; file name length) identical per document: {}/{} ({:.2}%)",
            self.cross_agree,
            self.cross_compared,
            percent(self.cross_agree, self.cross_compared)
        );
        let _ = writeln!(out, "only detwiki loads: {}", self.only_we_load.len());
        let _ = writeln!(out, "only pySigma loads: {}", self.only_oracle_loads.len());
        let _ = writeln!(out);
        section(&mut out, "Panics", &self.panics);
        section(&mut out, "Kind differences", &self.kind_differences);
        section(&mut out, "Detection and condition differences", &self.differences);
        section(&mut out, "Loaded by detwiki, rejected by pySigma (not counted against detwiki)", &self.only_we_load);
        section(&mut out, "Loaded by pySigma, rejected by detwiki", &self.only_oracle_loads);
        let mut classes = String::new();
        let names: BTreeSet<&String> = self.validator_oracle.keys().chain(self.validator_ours.keys()).collect();
        for name in names {
            let _ = writeln!(
                classes,
                "{name}: pySigma {} detwiki {}",
                self.validator_oracle.get(name).copied().unwrap_or(0),
                self.validator_ours.get(name).copied().unwrap_or(0)
            );
        }
        let _ = writeln!(out, "## Validator findings per class (per-document classes only)\n{classes}");
        section(&mut out, "Validator differences", &self.validator_differences);
        section(&mut out, "Collection-wide finding differences", &self.cross_differences);
        out
    }
}

fn compare(root: &Path, oracle: &[Json], context: &LintContext) -> Report {
    let mut report = Report::default();
    let mut files: HashMap<String, Option<(String, SigmaFile)>> = HashMap::new();
    let root_text = root.display().to_string();
    for line in oracle {
        if line["summary"] == true {
            continue;
        }
        let Some(path) = line["file"].as_str() else { continue };
        let block_line = line["block_line"].as_u64();
        let mut relative = path.strip_prefix(&root_text).unwrap_or(path).trim_start_matches('/').to_owned();
        if let Some(block_line) = block_line {
            relative = format!("{relative}:{block_line}");
        }
        let entry = files.entry(relative.clone()).or_insert_with(|| {
            let text = std::fs::read_to_string(path).ok()?;
            let text = match block_line {
                Some(first) => markdown_block(&text, first as usize),
                None => text,
            };
            let loaded = std::panic::catch_unwind(|| detwiki_sigma::load(&text)).ok()?;
            Some((text, loaded))
        });
        report.documents += 1;
        let Some((_, file)) = entry else {
            report.panics.push(relative);
            continue;
        };
        let Some(index) = line["doc"].as_u64().map(|doc| doc as usize) else {
            report.differences.push(format!("{relative}: pySigma could not read the YAML"));
            continue;
        };
        let Some(document) = file.documents.get(index) else {
            report.differences.push(format!("{relative}#{index}: detwiki has no such document"));
            continue;
        };
        let at = format!("{relative}#{index}");
        let our_ok = !document.has_errors();
        let oracle_ok = line["error"].is_null();
        report.loaded_by_us += usize::from(our_ok);
        report.oracle_loaded += usize::from(oracle_ok);
        let oracle_kind = line["kind"].as_str().unwrap_or_default();
        let our_kind = match document.kind {
            DocumentKind::Global => "global",
            DocumentKind::Reset => "reset",
            other => other.as_str(),
        };
        if oracle_kind != our_kind {
            report.kind_differences.push(format!("{at}: pySigma {oracle_kind}, detwiki {our_kind}"));
        }
        match (our_ok, oracle_ok) {
            (true, false) => report.only_we_load.push(format!(
                "{at}: pySigma: {}",
                line["error"].as_str().unwrap_or_default().chars().take(160).collect::<String>()
            )),
            (false, true) => {
                let first = document.diagnostics.iter().find(|diagnostic| diagnostic.is_error());
                report.only_oracle_loads.push(format!(
                    "{at}: detwiki: {}",
                    first.map(|diagnostic| diagnostic.message.clone()).unwrap_or_default()
                ));
            }
            _ => {}
        }
        if !oracle_ok {
            continue;
        }
        let lint = detwiki_sigma::lint::lint_document(document, context);
        compare_validators(&at, line, &lint, &mut report);
        if let Some(correlation) = line.get("correlation").filter(|value| value.is_object()) {
            report.correlations += 1;
            let ours = correlation_json(document);
            let theirs = json!({
                "type": correlation["type"],
                "rules": correlation["rules"],
                "group_by": correlation["group_by"],
                "timespan": correlation["timespan"]["seconds"],
                "condition": correlation["condition"],
            });
            if ours == theirs {
                report.identical_correlations += 1;
            } else {
                report.differences.push(format!("{at}: correlation: pySigma {theirs} detwiki {ours}"));
            }
            continue;
        }
        let Some(detection) = document.detection() else { continue };
        let Some(oracle_detections) = line.get("detections").and_then(Json::as_object) else { continue };
        report.compared_rules += 1;
        let mut identical = true;
        let ours: BTreeMap<&str, Json> = detection
            .identifiers
            .iter()
            .map(|identifier| (identifier.name.as_str(), group_json(&identifier.group)))
            .collect();
        let names: BTreeSet<&str> = ours.keys().copied().chain(oracle_detections.keys().map(String::as_str)).collect();
        for name in names {
            let (mine, theirs) = (ours.get(name), oracle_detections.get(name));
            if mine != theirs {
                identical = false;
                report.differences.push(format!(
                    "{at}: detection `{name}`: pySigma {} detwiki {}",
                    theirs.map(Json::to_string).unwrap_or_else(|| "missing".into()),
                    mine.map(Json::to_string).unwrap_or_else(|| "missing".into())
                ));
            }
        }
        let oracle_conditions: Vec<&Json> =
            line["conditions"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        if oracle_conditions.len() != detection.conditions.len() {
            identical = false;
            report.differences.push(format!(
                "{at}: {} conditions in pySigma, {} in detwiki",
                oracle_conditions.len(),
                detection.conditions.len()
            ));
        }
        for (condition, theirs) in detection.conditions.iter().zip(oracle_conditions) {
            let mine = condition.expression.as_ref().map(|expression| expanded_json(expression, detection));
            if mine.as_ref() != Some(&theirs["tree"]) {
                identical = false;
                report.differences.push(format!(
                    "{at}: condition `{}`: pySigma {} detwiki {}",
                    condition.text,
                    theirs["tree"],
                    mine.map(|json| json.to_string()).unwrap_or_else(|| "no tree".into())
                ));
            }
        }
        report.identical_rules += usize::from(identical);
    }
    compare_cross_rule(oracle, &root_text, &files, &mut report);
    report
}

/// The oracle line's key in `files` (the path relative to the corpus, plus `:line` for Markdown).
fn line_key(line: &Json, root_text: &str) -> Option<String> {
    let path = line["file"].as_str()?;
    let mut relative = path.strip_prefix(root_text).unwrap_or(path).trim_start_matches('/').to_owned();
    if let Some(block_line) = line["block_line"].as_u64() {
        relative = format!("{relative}:{block_line}");
    }
    Some(relative)
}

/// Duplicate titles, ids and file names: pySigma's collection-wide validators against
/// `detwiki_sigma::lint::lint_corpus`, per document, by issue class.
fn compare_cross_rule(
    oracle: &[Json],
    root_text: &str,
    files: &HashMap<String, Option<(String, SigmaFile)>>,
    report: &mut Report,
) {
    let mut keys: Vec<&String> = files.keys().collect();
    keys.sort();
    let loaded: Vec<(&str, &SigmaFile)> = keys
        .iter()
        .filter_map(|key| files.get(*key).and_then(Option::as_ref).map(|(_, file)| (key.as_str(), file)))
        .collect();
    let mut ours: HashMap<(String, usize), BTreeMap<String, usize>> = HashMap::new();
    for finding in detwiki_sigma::lint::lint_corpus(&loaded) {
        let Some(class) = detwiki_sigma::lint::pysigma_class(&finding.diagnostic.code) else { continue };
        let key = (loaded[finding.file].0.to_owned(), finding.document);
        *ours.entry(key).or_default().entry(class.to_owned()).or_default() += 1;
    }
    for line in oracle {
        let (Some(key), Some(document)) = (line_key(line, root_text), line["doc"].as_u64()) else { continue };
        let mut theirs: BTreeMap<String, usize> = BTreeMap::new();
        for issue in line["validator_issues"].as_array().into_iter().flatten() {
            if issue["cross_rule"] == true || issue["issue"] == "FilenameLengthIssue" {
                let name = issue["issue"].as_str().unwrap_or_default().trim_end_matches("Issue").to_owned();
                *theirs.entry(name).or_default() += 1;
            }
        }
        let mine = ours.remove(&(key.clone(), document as usize)).unwrap_or_default();
        report.cross_compared += 1;
        if mine == theirs {
            report.cross_agree += 1;
        } else {
            report.cross_differences.push(format!("{key}#{document}: pySigma {theirs:?} detwiki {mine:?}"));
        }
    }
}

/// Per-document validator classes: pySigma's issue classes vs the classes our lint codes map to.
fn compare_validators(at: &str, line: &Json, lint: &[detwiki_ir::Diagnostic], report: &mut Report) {
    let mut theirs: BTreeMap<String, usize> = BTreeMap::new();
    for issue in line["validator_issues"].as_array().into_iter().flatten() {
        if issue["cross_rule"] == true {
            continue;
        }
        let name = issue["issue"].as_str().unwrap_or_default().trim_end_matches("Issue").to_owned();
        *theirs.entry(name).or_default() += 1;
    }
    let mut ours: BTreeMap<String, usize> = BTreeMap::new();
    for diagnostic in lint {
        if let Some(name) = detwiki_sigma::lint::pysigma_class(&diagnostic.code) {
            *ours.entry(name.to_owned()).or_default() += 1;
        }
    }
    for (name, count) in &theirs {
        *report.validator_oracle.entry(name.clone()).or_default() += count;
    }
    for (name, count) in &ours {
        *report.validator_ours.entry(name.clone()).or_default() += count;
    }
    report.validator_compared += 1;
    if theirs == ours {
        report.validator_agree += 1;
    } else {
        report.validator_differences.push(format!("{at}: pySigma {theirs:?} detwiki {ours:?}"));
    }
}

fn correlation_json(document: &detwiki_sigma::SigmaDocument) -> Json {
    let Some(correlation) = &document.correlation else { return Json::Null };
    let condition = match &correlation.condition {
        Some(CorrelationCondition::Threshold { op, count, field, .. }) => {
            let mut object = json!({"op": op.as_str(), "count": count});
            if let Some(field) = field {
                object["field"] = json!(field.value);
            }
            object
        }
        Some(CorrelationCondition::Expression { text, .. }) => json!({"expression": text}),
        None => Json::Null,
    };
    json!({
        "type": correlation.correlation_type.as_ref().map(|kind| kind.value.as_str()),
        "rules": correlation.rules.iter().map(|rule| rule.value.clone()).collect::<Vec<_>>(),
        "group_by": correlation.group_by.iter().map(|field| field.value.clone()).collect::<Vec<_>>(),
        "timespan": correlation.timespan.as_ref().and_then(|timespan| detwiki_ir::duration_seconds(&timespan.value)),
        "condition": condition,
    })
}

fn linking(linking: Linking) -> &'static str {
    match linking {
        Linking::And => "and",
        Linking::Or => "or",
    }
}

fn group_json(group: &DetectionGroup) -> Json {
    let items: Vec<Json> = group
        .entries
        .iter()
        .map(|entry| match entry {
            DetectionEntry::Item(item) => item_json(item),
            DetectionEntry::Group(group) => json!({"group": group_json(group)}),
        })
        .collect();
    json!({"linking": linking(group.linking), "items": items})
}

fn item_json(item: &DetectionItem) -> Json {
    json!({
        "field": item.field,
        "modifiers": item.modifiers.iter().map(|modifier| modifier.value.canonical_name()).collect::<Vec<_>>(),
        "original_values": item.original_values.iter().map(value_json).collect::<Vec<_>>(),
        "values": item.values.iter().map(value_json).collect::<Vec<_>>(),
        "value_linking": if item.all { "and" } else { "or" },
        "negated": item.negated,
    })
}

fn value_json(value: &SigmaValue) -> Json {
    match value {
        SigmaValue::String { value, cased } => {
            let mut object = json!({"string": value.notation()});
            if *cased {
                object["cased"] = json!(true);
            }
            object
        }
        SigmaValue::Number(number) => json!({"number": number}),
        SigmaValue::Bool(boolean) => json!({"bool": boolean}),
        SigmaValue::Null => json!({"null": true}),
        SigmaValue::Regex { pattern, flags } => {
            let mut names: Vec<&str> = flags
                .iter()
                .map(|flag| match flag {
                    'i' => "ignorecase",
                    'm' => "multiline",
                    _ => "dotall",
                })
                .collect();
            names.sort_unstable();
            json!({"regex": pattern, "flags": names})
        }
        SigmaValue::Cidr(network) => json!({"cidr": normalize_cidr(network)}),
        SigmaValue::Exists(exists) => json!({"exists": exists}),
        SigmaValue::Compare { op, number } => json!({"compare": op.as_str(), "number": number}),
        SigmaValue::FieldRef { field, starts_with, ends_with } => {
            let mut object = json!({"fieldref": field});
            if *starts_with {
                object["startswith"] = json!(true);
            }
            if *ends_with {
                object["endswith"] = json!(true);
            }
            object
        }
        SigmaValue::TimestampPart { part, number } => json!({"timestamp_part": part, "number": number}),
        SigmaValue::Expansion(values) => json!({"expansion": values.iter().map(value_json).collect::<Vec<_>>()}),
    }
}

/// Python's `str(ip_network(text, strict=False))`: host bits cleared, a bare address gets /32 or /128.
fn normalize_cidr(text: &str) -> String {
    let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
    if let Ok(v4) = address.parse::<std::net::Ipv4Addr>() {
        let length: u32 = prefix.parse().unwrap_or(32).min(32);
        let mask = if length == 0 { 0 } else { u32::MAX << (32 - length) };
        return format!("{}/{length}", std::net::Ipv4Addr::from(u32::from(v4) & mask));
    }
    if let Ok(v6) = address.parse::<std::net::Ipv6Addr>() {
        let length: u32 = prefix.parse().unwrap_or(128).min(128);
        let mask = if length == 0 { 0 } else { u128::MAX << (128 - length) };
        return format!("{}/{length}", std::net::Ipv6Addr::from(u128::from(v6) & mask));
    }
    text.to_owned()
}

fn expanded_json(expression: &ConditionExpr, detection: &Detection) -> Json {
    match expression {
        ConditionExpr::And { items, .. } => {
            json!({"and": items.iter().map(|item| expanded_json(item, detection)).collect::<Vec<_>>()})
        }
        ConditionExpr::Or { items, .. } => {
            json!({"or": items.iter().map(|item| expanded_json(item, detection)).collect::<Vec<_>>()})
        }
        ConditionExpr::Not { item, .. } => json!({"not": [expanded_json(item, detection)]}),
        ConditionExpr::Identifier { name, .. } => json!({"id": name}),
        ConditionExpr::Selector { quantifier, pattern, .. } => {
            let names = matching_identifiers(pattern, detection.identifiers.iter().map(|id| id.name.as_str()));
            let ids: Vec<Json> = names.into_iter().map(|name| json!({"id": name})).collect();
            if *quantifier == Quantifier::All { json!({"and": ids}) } else { json!({"or": ids}) }
        }
    }
}
