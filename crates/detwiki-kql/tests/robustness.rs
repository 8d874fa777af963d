//! The engine never panics and never overflows the stack: random and mutated queries
//! (truncations, deleted tokens, swapped operators) and pathological nesting.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;

/// Seed queries: the fixtures, plus the KQL blocks of two corpora when `../shared` is present.
fn seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        let resources = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("resources");
        for folder in ["valid", "invalid"] {
            for entry in std::fs::read_dir(resources.join(folder)).into_iter().flatten().flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    seeds.push(text);
                }
            }
        }
        let shared = std::env::var_os("DETWIKI_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        for corpus in ["HybridBrothers__Hunting-Queries-Detection-Rules", "FalconForceTeam__FalconFriday"] {
            collect_blocks(&shared.join("corpus").join(corpus), &mut seeds);
        }
        seeds
    })
}

fn collect_blocks(dir: &std::path::Path, seeds: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_blocks(&path, seeds);
        } else if path.extension().is_some_and(|extension| extension == "md")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            for (index, part) in text.split("```").enumerate() {
                if index % 2 == 1 {
                    let body = part.split_once('\n').map_or(part, |(_, rest)| rest);
                    seeds.push(body.to_owned());
                }
            }
        }
    }
}

fn check(text: &str) {
    let length = text.len() as u32;
    let parsed = detwiki_kql::parse(text);
    for diagnostic in &parsed.diagnostics {
        assert!(diagnostic.span.end <= length, "{diagnostic:?} outside {length}");
        for label in &diagnostic.labels {
            assert!(label.span.end <= length);
        }
    }
    for mut analysis in detwiki_kql::analyze(text) {
        analysis.visit_spans(&mut |span| assert!(span.start <= span.end && span.end <= length, "{span:?}"));
    }
}

/// Applies one mutation, chosen by `kind`, at the token chosen by `position`.
fn mutate(text: &str, kind: u8, position: usize, other: usize) -> String {
    let tokens = detwiki_kql::tokenize(text);
    if tokens.len() < 2 {
        return text.to_owned();
    }
    let token = tokens[position % (tokens.len() - 1)];
    let range = token.span.range();
    match kind % 4 {
        // Truncation at a token boundary.
        0 => text[..range.start].to_owned(),
        // A deleted token.
        1 => format!("{}{}", &text[..range.start], &text[range.end..]),
        // A swapped operator.
        2 => {
            let replacement = ["==", "!has", "in~", "|", "(", ")", "between", "=~", "..", "$left."][other % 10];
            format!("{}{replacement}{}", &text[..range.start], &text[range.end..])
        }
        // Two tokens exchanged.
        _ => {
            let second = tokens[other % (tokens.len() - 1)].span.range();
            if second.start <= range.end {
                return text.to_owned();
            }
            format!(
                "{}{}{}{}{}",
                &text[..range.start],
                &text[second.clone()],
                &text[range.end..second.start],
                &text[range.clone()],
                &text[second.end..]
            )
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_queries_never_panic(seed in any::<usize>(), kind in any::<u8>(), position in any::<usize>(), other in any::<usize>()) {
        let seeds = seeds();
        let text = &seeds[seed % seeds.len()];
        check(&mutate(text, kind, position, other));
    }

    #[test]
    fn random_text_never_panics(text in "[a-z|()\\[\\]{}\"'@=!~<>.,;:*/+ \\-\n0-9$`#\\\\]{0,200}") {
        check(&text);
    }

    #[test]
    fn random_unicode_never_panics(text in "\\PC{0,100}") {
        check(&text);
    }
}

fn assert_too_deep(text: &str) {
    let parsed = detwiki_kql::parse(text);
    assert!(
        parsed.diagnostics.iter().any(|diagnostic| diagnostic.code == "kql-too-deep"),
        "{:?}",
        parsed.diagnostics.first()
    );
    check(text);
}

#[test]
fn ten_thousand_parentheses_give_an_error() {
    let depth = 10_000;
    assert_too_deep(&format!("T | where {}x{}", "(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&format!("print {}1", "- ".repeat(depth)));
    assert_too_deep(&format!("T | where {}x{}", "not(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&format!("T | where x in {}T{}", "(T | where x in (".repeat(depth), "))".repeat(depth)));
    assert_too_deep(&format!("print {}", "1 + ".repeat(depth) + "1"));
    assert_too_deep(&format!("print x{}", ".a".repeat(depth)));
    // Unclosed: 10,000 opening parentheses and nothing else.
    assert_too_deep(&"(".repeat(depth));
}

#[test]
fn long_logical_chains_are_flat() {
    let text = format!("T | where {}", vec!["a == 1"; 20_000].join(" or "));
    let parsed = detwiki_kql::parse(&text);
    assert!(!parsed.has_errors());
    assert_eq!(detwiki_kql::predicates(&parsed.script, &text).len(), 20_000);
}
