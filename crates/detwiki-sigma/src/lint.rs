//! Lint: what pySigma's validators find, with positions, and what they miss (duplicate YAML keys,
//! `all` on a single value, regular expressions the engines will not compile, possessive
//! quantifiers).
//!
//! Each finding's code maps to the pySigma issue class it mirrors ([`pysigma_class`]) so the
//! conformance task can compare them one to one.

use std::collections::{HashMap, HashSet};

use detwiki_ir::{Diagnostic, Span};

use crate::condition::{ConditionExpr, matching_identifiers};
use crate::detection::{Detection, DetectionEntry, DetectionGroup, DetectionItem, Spanned};
use crate::document::{DocumentKind, SigmaDocument, SigmaFile};
use crate::modifiers::{Modifier, SigmaString, SigmaValue, StringPart};

/// What lint may know beyond the file: ATT&CK v19 technique IDs (`T1059`, `T1059.001`) and tactic
/// short names (`execution`). When a set is `None`, tags of that kind are not checked.
#[derive(Debug, Clone, Default)]
pub struct LintContext {
    pub attack_techniques: Option<HashSet<String>>,
    pub attack_tactics: Option<HashSet<String>>,
    /// IDs of the other ATT&CK objects a tag may name: groups (`G0016`), software (`S0002`),
    /// mitigations (`M1042`), data sources (`DS0009`). `None`: such tags are not checked.
    pub attack_other_ids: Option<HashSet<String>>,
}

/// The pySigma validator issue class (without the `Issue` suffix) a lint code stands for, so the
/// conformance task can compare findings; `None` for findings pySigma has no validator for.
pub fn pysigma_class(code: &str) -> Option<&'static str> {
    Some(match code {
        "sigma-dangling-detection" => "DanglingDetection",
        "sigma-dangling-condition" => "DanglingCondition",
        "sigma-them-single-detection" => "ThemConditionWithSingleDetection",
        "sigma-all-of-them" => "AllOfThemCondition",
        "sigma-all-without-contains" => "AllWithoutContainsModifier",
        "sigma-base64offset-without-contains" => "Base64OffsetWithoutContainsModifier",
        "sigma-windash-with-all" => "WindowsDashCombinedWithAllModifier",
        "sigma-modifier-repeated" => "ModifierAppliedMultiple",
        "sigma-tag-format" => "InvalidTagFormat",
        "sigma-attack-tag" => "InvalidATTACKTag",
        "sigma-tlp-tag" => "InvalidTLPTag",
        "sigma-duplicate-tag" => "DuplicateTag",
        "sigma-tag-namespace" => "InvalidNamespaceTag",
        "sigma-tag-pattern" => "InvalidPatternTag",
        "sigma-double-wildcard" => "DoubleWildcard",
        "sigma-number-as-string" => "NumberAsString",
        "sigma-control-character" => "ControlCharacter",
        "sigma-wildcards-instead-of-contains" => "WildcardsInsteadOfContainsModifier",
        "sigma-wildcard-instead-of-startswith" => "WildcardInsteadOfStartswith",
        "sigma-wildcard-instead-of-endswith" => "WildcardInsteadOfEndswith",
        "sigma-escaped-wildcard" => "EscapedWildcard",
        "sigma-missing-id" => "IdentifierExistence",
        "sigma-duplicate-reference" => "DuplicateReferences",
        "sigma-custom-attribute" => "CustomAttributes",
        "sigma-specific-logsource" => "SpecificInsteadOfGenericLogsource",
        "sigma-logsource-field" => "FieldnameLogsource",
        "sigma-duplicate-title" => "DuplicateTitle",
        "sigma-duplicate-id" => "IdentifierCollision",
        "sigma-duplicate-filename" => "DuplicateFilename",
        "sigma-filename-length" => "FilenameLength",
        _ => return None,
    })
}

/// Findings for every document of `file` (loaded from `file_text`), sorted by position.
pub fn lint(file_text: &str, file: &SigmaFile, context: &LintContext) -> Vec<Diagnostic> {
    let _ = file_text;
    let mut out = Vec::new();
    for document in &file.documents {
        out.extend(document.diagnostics.iter().filter(|diagnostic| diagnostic.code == "sigma-duplicate-key").cloned());
        out.extend(lint_document(document, context));
    }
    out.extend(file.diagnostics.iter().filter(|diagnostic| diagnostic.code == "sigma-duplicate-key").cloned());
    out.sort_by_key(|diagnostic| (diagnostic.span.start, diagnostic.span.end));
    out.dedup();
    out
}

/// Validator findings of one document, also when it has errors (what could be read is checked).
/// Spans of merged documents may point into the `action: global` document they inherited from.
pub fn lint_document(document: &SigmaDocument, context: &LintContext) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    lint_loaded_document(document, context, &mut out);
    out
}

fn lint_loaded_document(document: &SigmaDocument, context: &LintContext, out: &mut Vec<Diagnostic>) {
    if !matches!(document.kind, DocumentKind::Rule | DocumentKind::Correlation) {
        return;
    }
    let start = Span::empty(document.content.span.start);
    if document.id.is_none() {
        out.push(Diagnostic::info("sigma-missing-id", "rule has no `id`", start));
    }
    lint_tags(&document.tags, context, out);
    for (reference, span) in duplicates(&document.references) {
        out.push(Diagnostic::warning(
            "sigma-duplicate-reference",
            format!("reference `{reference}` is listed twice"),
            span,
        ));
    }
    for misspelling in ["realted", "relatde", "relted", "rlated", "reference"] {
        if let Some(entry) = document.content.entry(misspelling) {
            out.push(
                Diagnostic::warning(
                    "sigma-custom-attribute",
                    format!("`{misspelling}` looks like a misspelt field"),
                    entry.key.span,
                )
                .with_help("did you mean `related` or `references`?"),
            );
            break;
        }
    }
    if document.kind != DocumentKind::Rule {
        return;
    }
    if let Some(logsource) = document.content.get("logsource").and_then(|node| node.as_mapping()) {
        for entry in logsource {
            let key = entry.key.scalar_text().unwrap_or_default();
            if !matches!(key.as_str(), "category" | "product" | "service" | "definition") {
                out.push(Diagnostic::warning(
                    "sigma-logsource-field",
                    format!("unknown logsource field `{key}`"),
                    entry.key.span,
                ));
            }
        }
    }
    let Some(detection) = &document.detection else { return };
    lint_conditions(detection, out);
    let sysmon_or_security = document.logsource.as_ref().and_then(|logsource| {
        let product = logsource.product.as_ref().map(|product| product.value.as_str());
        let service = logsource.service.as_ref().map(|service| service.value.as_str());
        match (product, service) {
            (Some("windows"), Some("sysmon")) => Some("sysmon"),
            (Some("windows"), Some("security")) => Some("security"),
            _ => None,
        }
    });
    for identifier in &detection.identifiers {
        for_each_item(&identifier.group, &mut |item| lint_item(item, sysmon_or_security, out));
    }
}

fn duplicates(values: &[Spanned<String>]) -> Vec<(String, Span)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for value in values {
        let count = seen.entry(value.value.as_str()).or_default();
        *count += 1;
        if *count == 2 {
            out.push((value.value.clone(), value.span));
        }
    }
    out
}

fn lint_tags(tags: &[Spanned<String>], context: &LintContext, out: &mut Vec<Diagnostic>) {
    for (tag, span) in duplicates(tags) {
        out.push(Diagnostic::warning("sigma-duplicate-tag", format!("tag `{tag}` is listed twice"), span));
    }
    for tag in tags {
        let text = tag.value.as_str();
        let span = tag.span;
        let (namespace, name) = text.split_once('.').unwrap_or((text, ""));
        let format_ok = !namespace.is_empty()
            && !name.is_empty()
            && namespace.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
        if !format_ok {
            out.push(Diagnostic::warning(
                "sigma-tag-format",
                format!("tag `{text}` is not `namespace.name` in lower case"),
                span,
            ));
        }
        let pattern_ok = match namespace {
            "attack" => {
                lint_attack_tag(name, span, context, out);
                true
            }
            "car" => is_car(name),
            "cve" => is_cve(name),
            "detection" => ["dfir", "emerging-threats", "threat-hunting"].iter().any(|prefix| name.starts_with(prefix)),
            "stp" => is_stp(name),
            "tlp" => {
                if !matches!(name, "white" | "green" | "amber" | "red" | "clear" | "amber-strict") {
                    out.push(Diagnostic::warning("sigma-tlp-tag", format!("`{text}` is not a TLP level"), span));
                }
                true
            }
            "d3fend" => true,
            _ => {
                out.push(
                    Diagnostic::warning("sigma-tag-namespace", format!("unknown tag namespace `{namespace}`"), span)
                        .with_help("expected attack, car, cve, d3fend, detection, stp or tlp"),
                );
                true
            }
        };
        if !pattern_ok {
            out.push(Diagnostic::warning(
                "sigma-tag-pattern",
                format!("tag `{text}` does not fit its namespace"),
                span,
            ));
        }
    }
}

fn lint_attack_tag(name: &str, span: Span, context: &LintContext, out: &mut Vec<Diagnostic>) {
    let upper = name.to_ascii_uppercase();
    let is_technique_like = upper.starts_with('T') && upper[1..].chars().next().is_some_and(|c| c.is_ascii_digit());
    let known = if is_technique_like {
        match &context.attack_techniques {
            Some(techniques) => techniques.contains(&upper),
            None => return,
        }
    } else if ["G", "S", "M", "DS", "C"].iter().any(|prefix| {
        upper.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
    }) {
        match &context.attack_other_ids {
            Some(ids) => ids.contains(&upper),
            None => return,
        }
    } else {
        // Tactics are matched by their short name exactly, as pySigma does: `defense_evasion`
        // (underscore) is not `defense-evasion`.
        match &context.attack_tactics {
            Some(tactics) => tactics.contains(name),
            None => return,
        }
    };
    if !known {
        out.push(Diagnostic::warning("sigma-attack-tag", format!("`attack.{name}` is not in ATT&CK v19"), span));
    }
}

fn is_car(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() == 11
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| if index == 4 || index == 7 { *byte == b'-' } else { byte.is_ascii_digit() })
}

fn is_cve(name: &str) -> bool {
    let Some((year, number)) = name.split_once('-') else { return false };
    !year.is_empty()
        && !number.is_empty()
        && year.chars().all(|c| c.is_ascii_digit())
        && number.chars().all(|c| c.is_ascii_digit())
}

fn is_stp(name: &str) -> bool {
    let mut characters = name.chars();
    matches!(characters.next(), Some('1'..='5'))
        && matches!(characters.next(), None | Some('a' | 'u' | 'k'))
        && characters.next().is_none()
}

fn referenced(
    expression: &ConditionExpr,
    detection: &Detection,
    ids: &mut HashSet<String>,
    dangling: &mut Vec<(String, Span)>,
) {
    match expression {
        ConditionExpr::And { items, .. } | ConditionExpr::Or { items, .. } => {
            items.iter().for_each(|item| referenced(item, detection, ids, dangling));
        }
        ConditionExpr::Not { item, .. } => referenced(item, detection, ids, dangling),
        ConditionExpr::Identifier { name, .. } => {
            ids.insert(name.clone());
        }
        ConditionExpr::Selector { pattern, span, .. } => {
            let names = matching_identifiers(pattern, detection.identifiers.iter().map(|id| id.name.as_str()));
            if names.is_empty() {
                dangling.push((pattern.clone(), *span));
            }
            ids.extend(names.into_iter().map(str::to_owned));
        }
    }
}

fn lint_conditions(detection: &Detection, out: &mut Vec<Diagnostic>) {
    let mut ids = HashSet::new();
    let mut dangling = Vec::new();
    let mut all_parsed = true;
    for condition in &detection.conditions {
        match &condition.expression {
            Some(expression) => referenced(expression, detection, &mut ids, &mut dangling),
            None => all_parsed = false,
        }
        if condition.text.contains("them") && detection.identifiers.len() == 1 {
            out.push(Diagnostic::info(
                "sigma-them-single-detection",
                "`them` with a single search identifier: name the identifier",
                condition.span,
            ));
        }
        let words: Vec<&str> = condition.text.split_whitespace().collect();
        if words.windows(3).any(|window| window == ["all", "of", "them"]) {
            out.push(
                Diagnostic::info("sigma-all-of-them", "`all of them` is discouraged", condition.span)
                    .with_help("use `all of selection*`"),
            );
        }
    }
    let mut seen = HashSet::new();
    for (pattern, span) in dangling {
        if seen.insert(pattern.clone()) {
            out.push(Diagnostic::error(
                "sigma-dangling-condition",
                format!("`{pattern}` matches no search identifier"),
                span,
            ));
        }
    }
    if !all_parsed {
        return;
    }
    for identifier in &detection.identifiers {
        if !ids.contains(&identifier.name) {
            out.push(Diagnostic::warning(
                "sigma-dangling-detection",
                format!("search identifier `{}` is not used by the condition", identifier.name),
                identifier.name_span,
            ));
        }
    }
}

fn for_each_item<'a>(group: &'a DetectionGroup, visit: &mut impl FnMut(&'a DetectionItem)) {
    for entry in &group.entries {
        match entry {
            DetectionEntry::Item(item) => visit(item),
            DetectionEntry::Group(group) => for_each_item(group, visit),
        }
    }
}

/// Characters of a Sigma string, a special character counting as one (pySigma's `len`).
fn sigma_len(value: &SigmaString) -> usize {
    value.parts.iter().map(|part| if let StringPart::Text(text) = part { text.chars().count() } else { 1 }).sum()
}

/// Whether the parts between a dropped first and/or last part hold a special character.
fn inner_has_special(value: &SigmaString, drop_first: bool, drop_last: bool) -> bool {
    let start = usize::from(drop_first);
    let end = value.parts.len().saturating_sub(usize::from(drop_last)).max(start);
    value.parts.get(start..end).unwrap_or_default().iter().any(|part| !matches!(part, StringPart::Text(_)))
}

fn lint_item(item: &DetectionItem, logsource: Option<&str>, out: &mut Vec<Diagnostic>) {
    let span = item.span;
    let has = |modifier| item.has_modifier(modifier);
    if item.field.is_some() && has(Modifier::All) && !has(Modifier::Contains) {
        out.push(Diagnostic::warning(
            "sigma-all-without-contains",
            "`all` without `contains` on a field matches nothing",
            span,
        ));
    }
    if has(Modifier::Base64Offset) && !has(Modifier::Contains) {
        out.push(Diagnostic::warning(
            "sigma-base64offset-without-contains",
            "`base64offset` needs `contains`: the encodings sit inside longer text",
            span,
        ));
    }
    if has(Modifier::Windash) && has(Modifier::All) {
        out.push(Diagnostic::warning(
            "sigma-windash-with-all",
            "`windash` with `all` requires every dash variant at once",
            span,
        ));
    }
    let mut counts: HashMap<Modifier, usize> = HashMap::new();
    for modifier in &item.modifiers {
        *counts.entry(modifier.value).or_default() += 1;
    }
    if counts.iter().any(|(modifier, count)| *count > 1 && *modifier != Modifier::Base64) {
        out.push(Diagnostic::warning("sigma-modifier-repeated", "a modifier is applied twice", span));
    }
    if item.all && item.original_values.len() == 1 {
        out.push(Diagnostic::info("sigma-all-single-value", "`all` on a single value has no effect", span));
    }
    let strings: Option<Vec<&SigmaString>> = item
        .original_values
        .iter()
        .map(|value| match value {
            SigmaValue::String { value, .. } => Some(value),
            _ => None,
        })
        .collect();
    if let Some(strings) = strings.filter(|strings| !strings.is_empty()) {
        let long = |value: &&SigmaString| sigma_len(value) > 1;
        if strings.iter().all(|value| {
            long(value) && value.starts_with_any() && value.ends_with_any() && !inner_has_special(value, true, true)
        }) && !has(Modifier::Contains)
        {
            out.push(Diagnostic::info("sigma-wildcards-instead-of-contains", "`*x*` values: use `|contains`", span));
        } else if strings
            .iter()
            .all(|value| long(value) && value.starts_with_any() && !inner_has_special(value, true, false))
            && !has(Modifier::EndsWith)
        {
            out.push(Diagnostic::info("sigma-wildcard-instead-of-endswith", "`*x` values: use `|endswith`", span));
        } else if strings
            .iter()
            .all(|value| long(value) && value.ends_with_any() && !inner_has_special(value, false, true))
            && !has(Modifier::StartsWith)
        {
            out.push(Diagnostic::info("sigma-wildcard-instead-of-startswith", "`x*` values: use `|startswith`", span));
        }
    }
    for (index, value) in item.values.iter().enumerate() {
        let value_span = item.value_spans.get(index).copied().unwrap_or(span);
        if let SigmaValue::String { value, .. } = value {
            lint_string(value, value_span, out);
        }
    }
    for (index, value) in item.original_values.iter().enumerate() {
        let value_span = item.value_spans.get(index).copied().unwrap_or(span);
        if let (true, SigmaValue::String { value, .. }) = (has(Modifier::Re), value) {
            lint_regex(&value.plain(), value_span, out);
        }
    }
    if item.field.as_deref() == Some("EventID")
        && let Some(service) = logsource
    {
        for (index, value) in item.values.iter().enumerate() {
            let SigmaValue::Number(number) = value else { continue };
            let Some(event) = number.as_i64() else { continue };
            let generic = generic_category(service, event);
            if let Some(category) = generic {
                let value_span = item.value_spans.get(index).copied().unwrap_or(span);
                out.push(
                    Diagnostic::info(
                        "sigma-specific-logsource",
                        format!("{service} event {event} has a generic log source: category `{category}`"),
                        value_span,
                    )
                    .with_help(format!("use `logsource: {{category: {category}, product: windows}}`")),
                );
            }
        }
    }
}

fn generic_category(service: &str, event: i64) -> Option<&'static str> {
    if service == "security" {
        return (event == 4688).then_some("process_creation");
    }
    Some(match event {
        1 => "process_creation",
        2 => "file_change",
        3 => "network_connection",
        4 | 16 => "sysmon_status",
        5 => "process_termination",
        6 => "driver_load",
        7 => "image_load",
        8 => "create_remote_thread",
        9 => "raw_access_thread",
        10 => "process_access",
        11 => "file_event",
        12..=14 => "registry_event",
        15 => "create_stream_hash",
        17 | 18 => "pipe_created",
        19..=21 => "wmi_event",
        22 => "dns_query",
        23 => "file_delete",
        24 => "clipboard_change",
        25 => "process_tampering",
        26 => "file_delete_detected",
        27 => "file_block_executable",
        28 => "file_block_shredding",
        29 => "file_executable_detected",
        255 => "sysmon_error",
        _ => return None,
    })
}

fn is_python_int(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.ends_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !digits.contains("__")
}

fn lint_string(value: &SigmaString, span: Span, out: &mut Vec<Diagnostic>) {
    let mut previous_any = false;
    for part in &value.parts {
        let any = matches!(part, StringPart::AnyChars);
        if any && previous_any {
            out.push(Diagnostic::info("sigma-double-wildcard", "`**`: one `*` is enough", span));
            break;
        }
        previous_any = any;
    }
    if let [StringPart::Text(text)] = value.parts.as_slice()
        && !text.contains(' ')
        && is_python_int(text)
    {
        out.push(Diagnostic::info("sigma-number-as-string", format!("`{text}` is a number written as text"), span));
    }
    let texts =
        || value.parts.iter().filter_map(|part| if let StringPart::Text(text) = part { Some(text) } else { None });
    if texts().any(|text| text.chars().any(|c| (c as u32) < 32)) {
        out.push(
            Diagnostic::warning("sigma-control-character", "value holds a control character", span)
                .with_help("a single backslash before `t`, `n` or `r` in a double-quoted string makes one"),
        );
    }
    if texts().any(|text| text.contains(['*', '?'])) {
        out.push(Diagnostic::info(
            "sigma-escaped-wildcard",
            "value holds an escaped wildcard: make sure it is meant",
            span,
        ));
    }
}

/// A quantifier followed by `+` outside a character class and not escaped (`a++`, `\d*+`).
fn has_possessive_quantifier(pattern: &str) -> bool {
    let characters: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    let mut index = 0;
    while let Some(&character) = characters.get(index) {
        match character {
            '\\' => index += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '*' | '+' | '?' | '}' if !in_class => {
                let previous_is_quantifier =
                    index > 0 && !(character == '?' && characters.get(index.wrapping_sub(1)) == Some(&'('));
                if previous_is_quantifier && characters.get(index + 1) == Some(&'+') {
                    return true;
                }
            }
            _ => {}
        }
        index += 1;
    }
    false
}

fn lint_regex(pattern: &str, span: Span, out: &mut Vec<Diagnostic>) {
    if has_possessive_quantifier(pattern) {
        out.push(
            Diagnostic::warning("sigma-regex-possessive", "possessive quantifier: most engines reject it", span)
                .with_help("drop the trailing `+` or use an atomic group"),
        );
        return;
    }
    match regex::Regex::new(pattern) {
        Ok(_) => {}
        Err(regex_error) => match fancy_regex::Regex::new(pattern) {
            Ok(_) => out.push(Diagnostic::info(
                "sigma-regex-backtracking",
                "regex needs look-around or backreferences: engines without backtracking reject it",
                span,
            )),
            Err(_) => {
                let message = regex_error.to_string();
                let last = message.lines().last().unwrap_or_default().trim().to_owned();
                out.push(Diagnostic::error("sigma-regex-invalid", format!("regex does not compile: {last}"), span));
            }
        },
    }
}

/// A finding that involves several documents (the same title, id or file name), attached to one of
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusFinding {
    /// Index into the slice given to [`lint_corpus`].
    pub file: usize,
    pub document: usize,
    pub diagnostic: Diagnostic,
}

/// Documents sharing a title, id or file name: (index of the file, document).
type Members<'a> = Vec<(usize, &'a SigmaDocument)>;

/// Collection-wide findings over many files (`(path, file)` pairs): titles and ids used by more than
/// one rule, file names used in more than one folder, file names shorter than 10 or longer than 90
/// characters. Each document involved gets its own finding, labelled with the others' positions
/// when they are in the same file.
pub fn lint_corpus(files: &[(&str, &SigmaFile)]) -> Vec<CorpusFinding> {
    let mut titles: HashMap<&str, Members> = HashMap::new();
    let mut ids: HashMap<&str, Members> = HashMap::new();
    let mut names: HashMap<&str, (HashSet<&str>, Members)> = HashMap::new();
    let mut out = Vec::new();
    for (file_index, (path, file)) in files.iter().enumerate() {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        for document in &file.documents {
            if !matches!(document.kind, DocumentKind::Rule | DocumentKind::Correlation | DocumentKind::Filter) {
                continue;
            }
            if let Some(title) = &document.title {
                titles.entry(title.value.as_str()).or_default().push((file_index, document));
            }
            if let Some(id) = &document.id {
                ids.entry(id.value.as_str()).or_default().push((file_index, document));
            }
            let entry = names.entry(name).or_default();
            entry.0.insert(path);
            entry.1.push((file_index, document));
            let length = name.chars().count();
            if !(10..=90).contains(&length) {
                out.push(CorpusFinding {
                    file: file_index,
                    document: document.index,
                    diagnostic: Diagnostic::info(
                        "sigma-filename-length",
                        format!("file name `{name}` has {length} characters (expected 10 to 90)"),
                        Span::empty(document.span.start),
                    ),
                });
            }
        }
    }
    let mut report = |groups: Vec<(&str, Members)>, code: &str, what: &str| {
        for (key, members) in groups {
            if members.len() < 2 {
                continue;
            }
            for (file_index, document) in &members {
                let span = match code {
                    "sigma-duplicate-title" => document.title.as_ref().map(|title| title.span),
                    "sigma-duplicate-id" => document.id.as_ref().map(|id| id.span),
                    _ => None,
                }
                .unwrap_or(Span::empty(document.span.start));
                let mut diagnostic =
                    Diagnostic::warning(code, format!("{what} `{key}` is used by {} documents", members.len()), span);
                for (other_file, other) in &members {
                    if other_file == file_index && other.index != document.index {
                        diagnostic = diagnostic.with_label(Span::empty(other.span.start), "also used here");
                    }
                }
                out.push(CorpusFinding { file: *file_index, document: document.index, diagnostic });
            }
        }
    };
    report(titles.into_iter().collect(), "sigma-duplicate-title", "title");
    report(ids.into_iter().collect(), "sigma-duplicate-id", "id");
    let names: Vec<(&str, Members)> = names
        .into_iter()
        .filter(|(_, (paths, _))| paths.len() > 1)
        .map(|(name, (_, members))| (name, members))
        .collect();
    report(names, "sigma-duplicate-filename", "file name");
    out.sort_by(|a, b| (a.file, a.document, &a.diagnostic.code).cmp(&(b.file, b.document, &b.diagnostic.code)));
    out
}
