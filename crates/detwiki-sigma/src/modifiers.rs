//! Sigma values (strings with wildcards, numbers, regexes, ...) and the value modifiers of the
//! specification, applied in the order they are written, as pySigma applies them.
//!
//! Escaping (specification, "Escaping"): a backslash escapes `*`, `?` and another backslash; a
//! backslash before any other character is a plain backslash. Values are never trimmed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// A piece of a Sigma string: literal text or a special character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringPart {
    Text(String),
    /// `*`: any number of characters.
    AnyChars,
    /// `?`: exactly one character.
    OneChar,
    /// `%name%` after the `expand` modifier.
    Placeholder(String),
    /// A position where `windash` puts one of its dash variants.
    Dash,
}

/// A string value with its wildcards parsed out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigmaString {
    pub parts: Vec<StringPart>,
}

const ESCAPE: char = '\\';

impl SigmaString {
    /// Parses a value as written in a rule: `*` and `?` are wildcards, `\` escapes them.
    pub fn parse(text: &str) -> Self {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut escaped = false;
        for character in text.chars() {
            if escaped {
                if !matches!(character, '*' | '?' | ESCAPE) {
                    literal.push(ESCAPE);
                }
                literal.push(character);
                escaped = false;
            } else if character == ESCAPE {
                escaped = true;
            } else if character == '*' || character == '?' {
                if !literal.is_empty() {
                    parts.push(StringPart::Text(std::mem::take(&mut literal)));
                }
                parts.push(if character == '*' { StringPart::AnyChars } else { StringPart::OneChar });
            } else {
                literal.push(character);
            }
        }
        if escaped {
            literal.push(ESCAPE);
        }
        if !literal.is_empty() {
            parts.push(StringPart::Text(literal));
        }
        Self { parts }
    }

    /// A string without special characters (regex sources, encoded values).
    pub fn literal(text: &str) -> Self {
        if text.is_empty() {
            return Self::default();
        }
        Self { parts: vec![StringPart::Text(text.to_owned())] }
    }

    pub fn has_wildcards(&self) -> bool {
        self.parts.iter().any(|part| matches!(part, StringPart::AnyChars | StringPart::OneChar))
    }

    pub fn contains_special(&self) -> bool {
        self.parts.iter().any(|part| !matches!(part, StringPart::Text(_)))
    }

    pub fn starts_with_any(&self) -> bool {
        matches!(self.parts.first(), Some(StringPart::AnyChars))
    }

    pub fn ends_with_any(&self) -> bool {
        matches!(self.parts.last(), Some(StringPart::AnyChars))
    }

    fn push(&mut self, part: StringPart) {
        if let (StringPart::Text(new), Some(StringPart::Text(last))) = (&part, self.parts.last_mut()) {
            last.push_str(new);
            return;
        }
        if matches!(&part, StringPart::Text(text) if text.is_empty()) {
            return;
        }
        self.parts.push(part);
    }

    /// The text with wildcards as `*`/`?` and no escaping (what base64 encodes).
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StringPart::Text(text) => out.push_str(text),
                StringPart::AnyChars => out.push('*'),
                StringPart::OneChar => out.push('?'),
                StringPart::Placeholder(name) => {
                    out.push('%');
                    out.push_str(name);
                    out.push('%');
                }
                StringPart::Dash => out.push('-'),
            }
        }
        out
    }

    /// The literal text between leading and trailing `*` when there is no other special
    /// character: what `contains`/`startswith`/`endswith` compare against.
    pub fn inner_literal(&self) -> Option<String> {
        let start = usize::from(self.starts_with_any());
        let end = self.parts.len() - usize::from(self.ends_with_any() && self.parts.len() > start);
        let inner = self.parts.get(start..end)?;
        let mut out = String::new();
        for part in inner {
            match part {
                StringPart::Text(text) => out.push_str(text),
                StringPart::Placeholder(name) => {
                    out.push('%');
                    out.push_str(name);
                    out.push('%');
                }
                _ => return None,
            }
        }
        Some(out)
    }

    /// Sigma notation: wildcards as `*`/`?`, literal `*`/`?` as `\*`/`\?`, and a backslash doubled
    /// when it would otherwise escape what follows (the form pySigma's `to_plain` writes).
    pub fn notation(&self) -> String {
        let mut out = String::new();
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                StringPart::Text(text) => {
                    let next = self.parts.get(index + 1);
                    let characters: Vec<char> = text.chars().collect();
                    for (position, character) in characters.iter().enumerate() {
                        if *character == ESCAPE {
                            let followed = match characters.get(position + 1) {
                                Some(following) => matches!(*following, '*' | '?' | ESCAPE),
                                None => matches!(next, Some(StringPart::AnyChars | StringPart::OneChar)),
                            };
                            if followed {
                                out.push(ESCAPE);
                            }
                        }
                        match character {
                            '*' => out.push_str("\\*"),
                            '?' => out.push_str("\\?"),
                            other => out.push(*other),
                        }
                    }
                }
                StringPart::AnyChars => out.push('*'),
                StringPart::OneChar => out.push('?'),
                StringPart::Placeholder(name) => {
                    out.push('%');
                    out.push_str(name);
                    out.push('%');
                }
                StringPart::Dash => out.push('-'),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Lt => "lt",
            CompareOp::Lte => "lte",
            CompareOp::Gt => "gt",
            CompareOp::Gte => "gte",
        }
    }
}

/// A detection value, before or after modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum SigmaValue {
    String {
        value: SigmaString,
        cased: bool,
    },
    Number(serde_json::Number),
    Bool(bool),
    Null,
    Regex {
        pattern: String,
        flags: Vec<char>,
    },
    Cidr(String),
    Exists(bool),
    Compare {
        op: CompareOp,
        number: serde_json::Number,
    },
    FieldRef {
        field: String,
        starts_with: bool,
        ends_with: bool,
    },
    TimestampPart {
        part: &'static str,
        number: serde_json::Number,
    },
    /// OR-linked alternatives (windash, base64offset).
    Expansion(Vec<SigmaValue>),
}

impl SigmaValue {
    fn kind(&self) -> &'static str {
        match self {
            SigmaValue::String { .. } => "string",
            SigmaValue::Number(_) => "number",
            SigmaValue::Bool(_) => "bool",
            SigmaValue::Null => "null",
            SigmaValue::Regex { .. } => "regex",
            SigmaValue::Cidr(_) => "cidr",
            SigmaValue::Exists(_) => "exists",
            SigmaValue::Compare { .. } => "comparison",
            SigmaValue::FieldRef { .. } => "field reference",
            SigmaValue::TimestampPart { .. } => "timestamp part",
            SigmaValue::Expansion(_) => "expansion",
        }
    }
}

/// Every modifier of the specification (and pySigma's timestamp parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    All,
    Neq,
    Base64,
    Base64Offset,
    Cased,
    Cidr,
    Contains,
    EndsWith,
    StartsWith,
    Exists,
    Expand,
    FieldRef,
    Gt,
    Gte,
    Lt,
    Lte,
    Re,
    IgnoreCase,
    Multiline,
    DotAll,
    Utf16,
    Utf16Be,
    Utf16Le,
    Wide,
    Windash,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "all" => Modifier::All,
            "neq" => Modifier::Neq,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "cased" => Modifier::Cased,
            "cidr" => Modifier::Cidr,
            "contains" => Modifier::Contains,
            "endswith" => Modifier::EndsWith,
            "startswith" => Modifier::StartsWith,
            "exists" => Modifier::Exists,
            "expand" => Modifier::Expand,
            "fieldref" => Modifier::FieldRef,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::IgnoreCase,
            "m" | "multiline" => Modifier::Multiline,
            "s" | "dotall" => Modifier::DotAll,
            "utf16" => Modifier::Utf16,
            "utf16be" => Modifier::Utf16Be,
            "utf16le" => Modifier::Utf16Le,
            "wide" => Modifier::Wide,
            "windash" => Modifier::Windash,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            _ => return None,
        })
    }

    /// The name pySigma reports for the modifier (its reverse mapping keeps the last alias).
    pub fn canonical_name(self) -> &'static str {
        match self {
            Modifier::All => "all",
            Modifier::Neq => "neq",
            Modifier::Base64 => "base64",
            Modifier::Base64Offset => "base64offset",
            Modifier::Cased => "cased",
            Modifier::Cidr => "cidr",
            Modifier::Contains => "contains",
            Modifier::EndsWith => "endswith",
            Modifier::StartsWith => "startswith",
            Modifier::Exists => "exists",
            Modifier::Expand => "expand",
            Modifier::FieldRef => "fieldref",
            Modifier::Gt => "gt",
            Modifier::Gte => "gte",
            Modifier::Lt => "lt",
            Modifier::Lte => "lte",
            Modifier::Re => "re",
            Modifier::IgnoreCase => "ignorecase",
            Modifier::Multiline => "multiline",
            Modifier::DotAll => "s",
            Modifier::Utf16 => "utf16",
            Modifier::Utf16Be => "utf16be",
            Modifier::Utf16Le => "utf16le",
            Modifier::Wide => "wide",
            Modifier::Windash => "windash",
            Modifier::Minute => "minute",
            Modifier::Hour => "hour",
            Modifier::Day => "day",
            Modifier::Week => "week",
            Modifier::Month => "month",
            Modifier::Year => "year",
        }
    }

    /// Modifiers that rewrite the value itself and are kept on the predicate as transforms.
    pub fn is_transform(self) -> bool {
        matches!(
            self,
            Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Utf16
                | Modifier::Utf16Be
                | Modifier::Utf16Le
                | Modifier::Wide
                | Modifier::Windash
                | Modifier::Expand
                | Modifier::FieldRef
                | Modifier::Cased
        )
    }
}

/// What applying the modifiers of one detection item gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Applied {
    pub values: Vec<SigmaValue>,
    /// `|all`: values are AND-linked.
    pub all: bool,
    /// `|neq`: the item is negated.
    pub negated: bool,
    /// Problems, as messages; the caller attaches spans.
    pub errors: Vec<String>,
}

/// Applies `modifiers` in order to `values`, the way pySigma does: value modifiers run on each value
/// (on each alternative of an expansion), list modifiers on the whole list. A modifier that does not
/// fit a value leaves it unchanged and records an error.
pub fn apply(modifiers: &[Modifier], values: &[SigmaValue], has_field: bool) -> Applied {
    let mut applied = Applied { values: values.to_vec(), ..Applied::default() };
    let mut before: Vec<Modifier> = Vec::new();
    for &modifier in modifiers {
        match modifier {
            Modifier::All => applied.all = true,
            Modifier::Neq => applied.negated = true,
            _ => {
                let mut errors = Vec::new();
                let current = std::mem::take(&mut applied.values);
                applied.values = current
                    .into_iter()
                    .map(|value| apply_one(modifier, value, &before, has_field, &mut errors))
                    .collect();
                applied.errors.extend(errors);
            }
        }
        before.push(modifier);
    }
    applied
}

fn apply_one(
    modifier: Modifier,
    value: SigmaValue,
    before: &[Modifier],
    has_field: bool,
    errors: &mut Vec<String>,
) -> SigmaValue {
    if let SigmaValue::Expansion(alternatives) = value {
        return SigmaValue::Expansion(
            alternatives.into_iter().map(|value| apply_one(modifier, value, before, has_field, errors)).collect(),
        );
    }
    let mismatch = |value: SigmaValue, errors: &mut Vec<String>| {
        errors.push(format!("modifier `{}` cannot apply to a {} value", modifier.canonical_name(), value.kind()));
        value
    };
    match modifier {
        Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => {
            let front = modifier != Modifier::StartsWith;
            let back = modifier != Modifier::EndsWith;
            match value {
                SigmaValue::String { mut value, cased } => {
                    if front && !value.starts_with_any() {
                        value.parts.insert(0, StringPart::AnyChars);
                    }
                    if back && !value.ends_with_any() {
                        value.parts.push(StringPart::AnyChars);
                    }
                    SigmaValue::String { value, cased }
                }
                SigmaValue::Regex { pattern, flags } => {
                    SigmaValue::Regex { pattern: wrap_regex(&pattern, front, back), flags }
                }
                SigmaValue::FieldRef { field, starts_with, ends_with } => {
                    SigmaValue::FieldRef { field, starts_with: starts_with || back, ends_with: ends_with || front }
                }
                other => mismatch(other, errors),
            }
        }
        Modifier::Base64 | Modifier::Base64Offset => match value {
            SigmaValue::String { value, .. } => {
                if value.contains_special() {
                    errors.push("base64 encoding of strings with wildcards is not allowed".to_owned());
                    return SigmaValue::String { value, cased: false };
                }
                let data = base64_input(&value, before);
                if modifier == Modifier::Base64 {
                    string_value(&BASE64.encode(&data))
                } else {
                    SigmaValue::Expansion(base64_offsets(&data).iter().map(|text| string_value(text)).collect())
                }
            }
            other => mismatch(other, errors),
        },
        Modifier::Wide | Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 => match value {
            SigmaValue::String { value, cased } => {
                let big_endian = modifier == Modifier::Utf16Be;
                let mut out = SigmaString::default();
                if modifier == Modifier::Utf16 {
                    out.push(StringPart::Text("\u{feff}".to_owned()));
                }
                for part in value.parts {
                    match part {
                        StringPart::Text(text) => match widen(&text, big_endian) {
                            Some(wide) => out.push(StringPart::Text(wide)),
                            None => {
                                errors.push(format!(
                                    "modifier `{}` only applies to characters that stay valid when widened",
                                    modifier.canonical_name()
                                ));
                                out.push(StringPart::Text(text));
                            }
                        },
                        other => out.push(other),
                    }
                }
                SigmaValue::String { value: out, cased }
            }
            other => mismatch(other, errors),
        },
        Modifier::Windash => match value {
            SigmaValue::String { value, cased } => match windash(&value) {
                Ok(alternatives) => SigmaValue::Expansion(
                    alternatives.into_iter().map(|value| SigmaValue::String { value, cased }).collect(),
                ),
                Err(message) => {
                    errors.push(message);
                    SigmaValue::String { value, cased }
                }
            },
            other => mismatch(other, errors),
        },
        Modifier::Re => match value {
            SigmaValue::String { value, .. } => {
                if !before.is_empty() {
                    errors.push("regular expression modifier only applicable to unmodified values".to_owned());
                }
                SigmaValue::Regex { pattern: value.plain(), flags: Vec::new() }
            }
            other => mismatch(other, errors),
        },
        Modifier::IgnoreCase | Modifier::Multiline | Modifier::DotAll => match value {
            SigmaValue::Regex { pattern, mut flags } => {
                let flag = match modifier {
                    Modifier::IgnoreCase => 'i',
                    Modifier::Multiline => 'm',
                    _ => 's',
                };
                if !flags.contains(&flag) {
                    flags.push(flag);
                }
                SigmaValue::Regex { pattern, flags }
            }
            other => mismatch(other, errors),
        },
        Modifier::Cased => match value {
            SigmaValue::String { value, .. } => SigmaValue::String { value, cased: true },
            other => mismatch(other, errors),
        },
        Modifier::Cidr => match value {
            SigmaValue::String { value, .. } => {
                if !before.is_empty() {
                    errors.push("cidr modifier only applicable to unmodified values".to_owned());
                }
                let text = value.notation();
                match cidr_host_bits(&text) {
                    None => errors.push(format!("`{text}` is not a cidr network")),
                    Some(true) => errors.push(format!("cidr network `{text}` has host bits set")),
                    Some(false) => {}
                }
                SigmaValue::Cidr(text)
            }
            other => mismatch(other, errors),
        },
        Modifier::Exists => match value {
            SigmaValue::Bool(exists) => {
                if !has_field {
                    errors.push("exists modifier must be applied to a field".to_owned());
                }
                if !before.is_empty() {
                    errors.push("exists modifier only applicable to unmodified boolean values".to_owned());
                }
                SigmaValue::Exists(exists)
            }
            other => mismatch(other, errors),
        },
        Modifier::Gt | Modifier::Gte | Modifier::Lt | Modifier::Lte => match value {
            SigmaValue::Number(number) => {
                let op = match modifier {
                    Modifier::Gt => CompareOp::Gt,
                    Modifier::Gte => CompareOp::Gte,
                    Modifier::Lt => CompareOp::Lt,
                    _ => CompareOp::Lte,
                };
                SigmaValue::Compare { op, number }
            }
            other => mismatch(other, errors),
        },
        Modifier::FieldRef => match value {
            SigmaValue::String { value, .. } => {
                if value.contains_special() {
                    errors.push("field references must not contain wildcards".to_owned());
                }
                SigmaValue::FieldRef { field: value.notation(), starts_with: false, ends_with: false }
            }
            other => mismatch(other, errors),
        },
        Modifier::Expand => match value {
            SigmaValue::String { value, cased } => SigmaValue::String { value: insert_placeholders(value), cased },
            SigmaValue::Regex { .. } => value,
            other => mismatch(other, errors),
        },
        Modifier::Minute | Modifier::Hour | Modifier::Day | Modifier::Week | Modifier::Month | Modifier::Year => {
            match value {
                SigmaValue::Number(number) => {
                    let part = modifier.canonical_name();
                    let number = number.as_f64().map(|n| serde_json::Number::from(n as i64)).unwrap_or(number);
                    SigmaValue::TimestampPart { part, number }
                }
                other => mismatch(other, errors),
            }
        }
        Modifier::All | Modifier::Neq => value,
    }
}

fn string_value(text: &str) -> SigmaValue {
    SigmaValue::String { value: SigmaString::literal(text), cased: false }
}

/// The bytes base64 encodes: the UTF-8 text, with the UTF-16 byte order mark as `FF FE`.
fn base64_input(value: &SigmaString, before: &[Modifier]) -> Vec<u8> {
    let mut data = value.plain().into_bytes();
    let utf8_bom = [0xEF, 0xBB, 0xBF];
    if before.contains(&Modifier::Utf16) && data.starts_with(&utf8_bom) {
        let mut replaced = vec![0xFF, 0xFE];
        replaced.extend_from_slice(&data[3..]);
        data = replaced;
    }
    data
}

/// The three encodings of `data` at offsets 0, 1 and 2 of a base64 block, with the characters
/// that depend on the unknown neighbours cut off.
pub fn base64_offsets(data: &[u8]) -> [String; 3] {
    let starts = [0usize, 2, 3];
    let mut out: [String; 3] = Default::default();
    for (shift, slot) in out.iter_mut().enumerate() {
        let mut padded = vec![b' '; shift];
        padded.extend_from_slice(data);
        let encoded = BASE64.encode(&padded);
        let cut_end = match (data.len() + shift) % 3 {
            1 => 3,
            2 => 2,
            _ => 0,
        };
        let start = starts[shift].min(encoded.len());
        let end = encoded.len().saturating_sub(cut_end).max(start);
        *slot = encoded.get(start..end).unwrap_or_default().to_owned();
    }
    out
}

/// Encodes each character as UTF-16 and reads the bytes back as UTF-8 (ASCII `a` becomes `a\0`),
/// as pySigma does; `None` when the bytes are not valid UTF-8.
fn widen(text: &str, big_endian: bool) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len() * 2);
    for unit in text.encode_utf16() {
        let pair = if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() };
        bytes.extend_from_slice(&pair);
    }
    String::from_utf8(bytes).ok()
}

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
const MAX_WINDASH: usize = 3;

fn is_word(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// `windash`: every `-` or `/` that starts a word (a non-word character or the start before it, a
/// word character after it) is tried as each of the five dashes.
fn windash(value: &SigmaString) -> Result<Vec<SigmaString>, String> {
    let mut marked = SigmaString::default();
    let mut dashes = 0usize;
    for part in &value.parts {
        let StringPart::Text(text) = part else {
            marked.push(part.clone());
            continue;
        };
        let characters: Vec<char> = text.chars().collect();
        let mut literal = String::new();
        for (index, character) in characters.iter().enumerate() {
            let previous_is_word = index.checked_sub(1).and_then(|at| characters.get(at)).is_some_and(|c| is_word(*c));
            let next_is_word = characters.get(index + 1).is_some_and(|c| is_word(*c));
            if matches!(character, '-' | '/') && !previous_is_word && next_is_word {
                marked.push(StringPart::Text(std::mem::take(&mut literal)));
                marked.parts.push(StringPart::Dash);
                dashes += 1;
            } else {
                literal.push(*character);
            }
        }
        marked.push(StringPart::Text(literal));
    }
    if dashes > MAX_WINDASH {
        return Err("windash expands at most three dashes in one value".to_owned());
    }
    let mut results = vec![SigmaString::default()];
    for part in marked.parts {
        if part == StringPart::Dash {
            let mut next = Vec::with_capacity(results.len() * DASHES.len());
            for prefix in &results {
                for dash in DASHES {
                    let mut extended = prefix.clone();
                    extended.push(StringPart::Text(dash.to_string()));
                    next.push(extended);
                }
            }
            results = next;
        } else {
            for result in &mut results {
                result.push(part.clone());
            }
        }
    }
    Ok(results)
}

/// `expand`: `%name%` in literal text becomes a placeholder.
fn insert_placeholders(value: SigmaString) -> SigmaString {
    let mut out = SigmaString::default();
    for part in value.parts {
        let StringPart::Text(text) = part else {
            out.push(part);
            continue;
        };
        let mut rest = text.as_str();
        while let Some(open) = rest.find('%') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('%') else { break };
            let name = &after[..close];
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                out.push(StringPart::Text(rest[..open + 1].to_owned()));
                rest = after;
                continue;
            }
            out.push(StringPart::Text(rest[..open].to_owned()));
            out.parts.push(StringPart::Placeholder(name.to_owned()));
            rest = &after[close + 1..];
        }
        out.push(StringPart::Text(rest.to_owned()));
    }
    out
}

/// A `|` outside groups and character classes: the regex must be grouped before `.*` is added.
fn has_top_level_alternation(pattern: &str) -> bool {
    let characters: Vec<char> = pattern.chars().collect();
    let mut depth = 0i32;
    let mut in_class = false;
    let mut index = 0usize;
    while let Some(&character) = characters.get(index) {
        if character == '\\' {
            index += 2;
            continue;
        }
        if in_class {
            if character == ']' {
                in_class = false;
            }
        } else if character == '[' {
            in_class = true;
            if characters.get(index + 1) == Some(&'^') {
                index += 1;
            }
            if characters.get(index + 1) == Some(&']') {
                index += 1;
            }
        } else if character == '(' {
            depth += 1;
        } else if character == ')' {
            depth -= 1;
        } else if character == '|' && depth == 0 {
            return true;
        }
        index += 1;
    }
    false
}

fn ends_with_unescaped(pattern: &str, suffix: &str) -> bool {
    let Some(head) = pattern.strip_suffix(suffix) else { return false };
    (head.len() - head.trim_end_matches('\\').len()) % 2 == 0
}

fn wrap_regex(pattern: &str, front: bool, back: bool) -> String {
    let mut pattern = if has_top_level_alternation(pattern) { format!("(?:{pattern})") } else { pattern.to_owned() };
    let open_ended = !ends_with_unescaped(&pattern, ".*") && !ends_with_unescaped(&pattern, "$");
    if front && !(pattern.starts_with(".*") || pattern.starts_with('^')) {
        pattern.insert_str(0, ".*");
    }
    if back && open_ended {
        pattern.push_str(".*");
    }
    pattern
}

/// Whether an IPv4 or IPv6 network (`10.0.0.0/8`, a bare address) has bits set past its prefix,
/// which pySigma rejects; `None` when the text is not a network at all.
pub fn cidr_host_bits(text: &str) -> Option<bool> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let (bits, maximum): (u128, u32) = if let Ok(v4) = address.parse::<std::net::Ipv4Addr>() {
        (u128::from(u32::from(v4)), 32)
    } else if let Ok(v6) = address.parse::<std::net::Ipv6Addr>() {
        (u128::from(v6), 128)
    } else {
        return None;
    };
    let length = match prefix {
        None => maximum,
        Some(prefix) => prefix.parse::<u32>().ok().filter(|length| *length <= maximum)?,
    };
    let host_bits = maximum - length;
    let mask = if host_bits == 0 { 0 } else { u128::MAX >> (128 - host_bits) };
    Some(bits & mask != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> SigmaValue {
        SigmaValue::String { value: SigmaString::parse(text), cased: false }
    }

    #[test]
    fn escaping_follows_the_specification() {
        let value = SigmaString::parse(r"a\*b\\c\d*");
        assert_eq!(value.parts[0], StringPart::Text(r"a*b\c\d".to_owned()));
        assert_eq!(value.parts[1], StringPart::AnyChars);
        assert_eq!(value.notation(), r"a\*b\c\d*");
    }

    #[test]
    fn base64offset_gives_three_encodings() {
        let applied = apply(&[Modifier::Base64Offset, Modifier::Contains], &[string("/bin/bash")], true);
        let SigmaValue::Expansion(alternatives) = &applied.values[0] else { panic!("expected an expansion") };
        let texts: Vec<String> = alternatives
            .iter()
            .map(|value| match value {
                SigmaValue::String { value, .. } => value.notation(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(texts, ["*L2Jpbi9iYXNo*", "*9iaW4vYmFza*", "*vYmluL2Jhc2*"]);
    }

    #[test]
    fn windash_expands_word_starting_dashes() {
        let applied = apply(&[Modifier::Windash], &[string("-param-name")], true);
        let SigmaValue::Expansion(alternatives) = &applied.values[0] else { panic!("expected an expansion") };
        assert_eq!(alternatives.len(), 5);
        assert_eq!(alternatives[1], string("/param-name"));
    }
}
