//! Classifying tree-sitter-yaral's rejections by rewriting and asking again.
//!
//! The grammar's documented gaps (`../shared/oracles/README.md`) each get a rewrite that removes the construct
//! without touching the rest of the rule and keeps every line where it was (`nocase` blanked, `#e` read as
//! `$e`, upper-case keywords lower-cased, ...). A rejected file is sent again with every combination of the
//! rewrites that change it; the smallest combination under which the oracle accepts the file names the gaps
//! behind the rejection. A file no combination rescues is not a known gap: either a real error (detwiki
//! rejects it too) or a disagreement to explain. Guessing from the oracle's error lines alone misses rejections
//! where tree-sitter wraps the whole rule in one ERROR node.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use anyhow::Context as _;
use regex::{Captures, Regex};
use serde_json::{Value as Json, json};

/// A documented gap of the grammar and the rewrite that takes it out of a rule.
struct Gap {
    name: &'static str,
    rewrite: fn(&str) -> String,
}

fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("the gap patterns are valid")
}

static NOCASE: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)\bnocase\b"));
static COUNT: LazyLock<Regex> = LazyLock::new(|| pattern(r"#([A-Za-z_])"));
static UPPER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(OR|AND|NOT|IN)\b"));
static BACKSLASH_REGEX: LazyLock<Regex> = LazyLock::new(|| pattern(r"([=(,]\s*)/\\"));
static INDEX_THEN_FIELD: LazyLock<Regex> = LazyLock::new(|| pattern(r"\[\d+\]\."));
static LIST_AFTER_CALL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"([)\]])\s+(?i:in)\s+(?:(?i:regex|cidr)\s+)?%[\w.]+"));
static PLACEHOLDER_LINE: LazyLock<Regex> = LazyLock::new(|| pattern(r#"^\s*\$[\w.\["\]]+\s*=\s*\$[\w.\["\]]+\s*$"#));
static NOT_LINE: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)^\s*not\b"));
static BOOLEAN: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(true|false)\b"));
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| pattern(r"([^\w.\s]\s*)-(\d)"));
static ABSENCE: LazyLock<Regex> = LazyLock::new(|| pattern(r"!\s*\$"));
static NAMED_ARGUMENT: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"([(,][ \t]*(?://[^\n]*)?\s*)[A-Za-z_][\w.]*[ \t]*:[ \t]*(?:(\*)|(\d+)[smhd]\b|[A-Za-z_]\w*([ \t]*[,)\n]))?",
    )
});
static TUMBLING: LazyLock<Regex> = LazyLock::new(|| pattern(r"(\$\w+\s+)by(\s+\d+[smhd]\b)"));
static TABLE_COLUMN: LazyLock<Regex> = LazyLock::new(|| pattern(r"(%\w+)\.\w+"));
static DURATION_OPTION: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?m)^(\s*\w+\s*=\s*)\d+[smhd]\s*$"));

const GAPS: &[Gap] = &[
    Gap { name: "nocase", rewrite: |text| NOCASE.replace_all(text, "      ").into_owned() },
    Gap { name: "event count `#e`", rewrite: |text| COUNT.replace_all(text, "$$$1").into_owned() },
    Gap {
        name: "upper-case keyword",
        rewrite: |text| UPPER_KEYWORD.replace_all(text, |c: &Captures| c[1].to_ascii_lowercase()).into_owned(),
    },
    Gap {
        name: "regex literal starting with a backslash",
        rewrite: |text| BACKSLASH_REGEX.replace_all(text, "$1/x\\").into_owned(),
    },
    Gap { name: "path after an index `[0].x`", rewrite: |text| INDEX_THEN_FIELD.replace_all(text, ".").into_owned() },
    Gap {
        name: "`in %list` after a call or map key",
        rewrite: |text| LIST_AFTER_CALL.replace_all(text, "$1 = \"\"").into_owned(),
    },
    Gap { name: "line starting with `not` after `$x = $y`", rewrite: parenthesise_placeholder_before_not },
    Gap { name: "boolean outside meta", rewrite: |text| after_meta(text, |events| BOOLEAN.replace_all(events, "1")) },
    Gap { name: "negative number", rewrite: |text| NEGATIVE.replace_all(text, "$1$2").into_owned() },
    Gap { name: "`!$e`", rewrite: |text| ABSENCE.replace_all(text, "$$").into_owned() },
    // Gaps observed here beyond the oracle README's list, both documented YARA-L: data table columns
    // (`in %table.column`) and options whose value is a duration (`suppression_window = 1d`).
    Gap { name: "tumbling window `by`", rewrite: |text| TUMBLING.replace_all(text, "${1}over$2").into_owned() },
    // And the named arguments of the `metrics.*` functions (`period:1d, metric:event_count_sum, x: *`), whose
    // bare-name values the grammar does not take either.
    Gap {
        name: "named arguments of `metrics.*`",
        rewrite: |text| {
            // A value's trailing comma is part of its match, so the next name is only reached on another pass.
            let mut text = text.to_owned();
            loop {
                let next = NAMED_ARGUMENT.replace_all(&text, |c: &Captures| {
                    // A wildcard or a bare name (`metric:event_count_sum`) becomes a string, a duration a number.
                    match (c.get(2), c.get(3), c.get(4)) {
                        (Some(_), _, _) => format!("{}\"\"", &c[1]),
                        (_, Some(digits), _) => format!("{}{}", &c[1], digits.as_str()),
                        (_, _, Some(end)) => format!("{}\"\"{}", &c[1], end.as_str()),
                        _ => c[1].to_owned(),
                    }
                });
                if next == text {
                    return text;
                }
                text = next.into_owned();
            }
        },
    },
    Gap {
        name: "data table column `%table.column`",
        rewrite: |text| TABLE_COLUMN.replace_all(text, "$1").into_owned(),
    },
    Gap {
        name: "option with a duration value",
        rewrite: |text| {
            let start = text.rfind("options:").unwrap_or(text.len());
            format!("{}{}", &text[..start], DURATION_OPTION.replace_all(&text[start..], "${1}true"))
        },
    },
];

/// Applies `change` to the text from the `events:` section on (meta values may be booleans).
fn after_meta<'a>(text: &'a str, change: impl Fn(&'a str) -> std::borrow::Cow<'a, str>) -> String {
    let start = text.find("events:").unwrap_or(0);
    format!("{}{}", &text[..start], change(&text[start..]))
}

/// Wraps a `$x = $y` line in parentheses when the next code line starts with `not` (the grammar reads the two
/// lines as one expression otherwise).
fn parenthesise_placeholder_before_not(text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    for index in 0..lines.len() {
        if !PLACEHOLDER_LINE.is_match(&lines[index]) {
            continue;
        }
        let next = lines[index + 1..].iter().find(|line| {
            let code = line.trim();
            !code.is_empty() && !code.starts_with("//")
        });
        if next.is_some_and(|line| NOT_LINE.is_match(line)) {
            let code = lines[index].trim().to_owned();
            lines[index] = lines[index].replacen(&code, &format!("({code})"), 1);
        }
    }
    lines.join("\n")
}

/// More gaps than this and only single rewrites and all of them together are tried (2^n combinations).
const MAX_COMBINED: usize = 6;

/// For each file (relative path, text) the smallest set of gaps whose rewrites make tree-sitter accept it;
/// absent when no combination does.
pub fn classify(
    python: &Path,
    driver: &Path,
    files: &[(String, String)],
) -> anyhow::Result<BTreeMap<String, Vec<&'static str>>> {
    let mut requests = Vec::new();
    for (file_index, (_, text)) in files.iter().enumerate() {
        let applicable: Vec<usize> = (0..GAPS.len()).filter(|&gap| (GAPS[gap].rewrite)(text) != *text).collect();
        for combination in combinations(applicable.len()) {
            let gaps: Vec<usize> = combination.iter().map(|&position| applicable[position]).collect();
            let rewritten = gaps.iter().fold(text.clone(), |text, &gap| (GAPS[gap].rewrite)(&text));
            requests.push((file_index, gaps, rewritten));
        }
    }
    let verdicts = ask(python, driver, requests.iter().map(|(_, _, text)| text.as_str()))?;
    let mut found: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for ((file_index, gaps, _), accepted) in requests.iter().zip(verdicts) {
        let file = &files[*file_index].0;
        let smaller = found.get(file).is_none_or(|best| gaps.len() < best.len());
        if accepted && smaller {
            found.insert(file.clone(), gaps.iter().map(|&gap| GAPS[gap].name).collect());
        }
    }
    Ok(found)
}

/// Every non-empty subset of `0..count` (as position lists, smallest first), or the singles and the whole set
/// when `count` is above [`MAX_COMBINED`].
fn combinations(count: usize) -> Vec<Vec<usize>> {
    if count > MAX_COMBINED {
        let mut subsets: Vec<Vec<usize>> = (0..count).map(|position| vec![position]).collect();
        subsets.push((0..count).collect());
        return subsets;
    }
    let mut subsets: Vec<Vec<usize>> =
        (1..1usize << count).map(|mask| (0..count).filter(|position| mask & (1 << position) != 0).collect()).collect();
    subsets.sort_by_key(Vec::len);
    subsets
}

/// The oracle's verdict on each text, from one interpreter (`yaral_parse_batch.py`).
fn ask<'a>(python: &Path, driver: &Path, texts: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<bool>> {
    let mut input = String::new();
    let mut count = 0;
    for (id, text) in texts.enumerate() {
        input.push_str(&json!({ "id": id, "text": text }).to_string());
        input.push('\n');
        count += 1;
    }
    let mut child = Command::new(python)
        .arg(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let mut stdin = child.stdin.take().context("no stdin for the YARA-L batch driver")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    anyhow::ensure!(
        output.status.success(),
        "yaral_parse_batch.py failed: {}",
        String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("")
    );
    let mut verdicts = vec![false; count];
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(answer) = serde_json::from_str::<Json>(line) else { continue };
        if let (Some(id), Some(ok)) = (answer["id"].as_u64(), answer["ok"].as_bool())
            && let Some(slot) = verdicts.get_mut(id as usize)
        {
            *slot = ok;
        }
    }
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "rule r {\n  meta:\n    a = true\n  events:\n    $e.x = /\\\\a\\.exe$/ nocase\n    \
                          $e.y[0].z = -1\n    $e.w = $w\n    // note\n    NOT $e.v in %list.column\n    \
                          strings.to_lower($e.u) in regex %l\n    $e.flag = false\n  match:\n    $w by 10m\n  outcome:\n    \
                          $m = max(metrics.f(period:1d, metric:sum, target.x: $w, y: *))\n  condition:\n    \
                          #e > 2 and !$f\n  options:\n    suppression_window = 1d\n}\n";

    #[test]
    fn every_rewrite_changes_the_sample_and_keeps_its_lines() {
        for gap in GAPS {
            let rewritten = (gap.rewrite)(SAMPLE);
            assert_ne!(rewritten, SAMPLE, "{} leaves the sample alone", gap.name);
            assert_eq!(rewritten.matches('\n').count(), SAMPLE.matches('\n').count(), "{} moves lines", gap.name);
        }
    }

    #[test]
    fn rewrites_remove_the_construct() {
        let rewrite = |name: &str| (GAPS.iter().find(|gap| gap.name == name).unwrap().rewrite)(SAMPLE);
        assert!(!rewrite("nocase").contains("nocase"));
        assert!(rewrite("event count `#e`").contains("$e > 2"));
        assert!(rewrite("upper-case keyword").contains("not $e.v in %list.column"));
        assert!(rewrite("path after an index `[0].x`").contains("$e.y.z"));
        assert!(rewrite("`in %list` after a call or map key").contains("strings.to_lower($e.u) = \"\""));
        assert!(rewrite("line starting with `not` after `$x = $y`").contains("($e.w = $w)"));
        let booleans = rewrite("boolean outside meta");
        assert!(booleans.contains("a = true") && booleans.contains("$e.flag = 1"), "meta keeps its booleans");
        assert!(rewrite("negative number").contains("$e.y[0].z = 1"));
        assert!(rewrite("`!$e`").contains("and $f"));
        assert!(rewrite("tumbling window `by`").contains("$w over 10m"));
        assert!(rewrite("data table column `%table.column`").contains("in %list\n"));
        assert!(rewrite("option with a duration value").contains("suppression_window = true"));
        assert!(rewrite("named arguments of `metrics.*`").contains("metrics.f(1, \"\", $w, \"\")"));
        assert!(rewrite("regex literal starting with a backslash").contains("= /x\\"));
    }

    #[test]
    fn a_line_after_a_placeholder_that_does_not_start_with_not_is_left_alone() {
        let text = "  $e.a = $a\n  $e.b = \"x\"\n";
        assert_eq!(parenthesise_placeholder_before_not(text), text);
    }

    #[test]
    fn combinations_are_every_subset_smallest_first_up_to_the_limit() {
        let three = combinations(3);
        assert_eq!(three.len(), 7);
        assert!(three.windows(2).all(|pair| pair[0].len() <= pair[1].len()));
        let many = combinations(MAX_COMBINED + 1);
        assert_eq!(many.len(), MAX_COMBINED + 2, "singles and the whole set");
    }
}
