//! The ES|QL engine never panics and never overflows the stack: random text, mutated queries
//! (truncations, deleted characters, inserted operators, swapped pieces) and pathological
//! nesting. Every span it returns stays inside the text.

use std::path::PathBuf;
use std::sync::OnceLock;

use detwiki_elastic::esql;
use proptest::prelude::*;

/// Seed queries: the fixtures, plus the ES|QL queries of the Elastic corpus when `../shared`
/// is present.
fn seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        let resources = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("resources/esql");
        for folder in ["valid", "invalid"] {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(resources.join(folder))
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .collect();
            paths.sort();
            seeds.extend(paths.iter().filter_map(|path| std::fs::read_to_string(path).ok()));
        }
        let shared = std::env::var_os("DETWIKI_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let corpus = shared.join("corpus/elastic__detection-rules/rules/cross-platform");
        if corpus.exists() {
            let read = detwiki_sources::read_paths(&[corpus]);
            for rule in read.rules {
                for query in rule.queries {
                    if query.language == detwiki_ir::Language::Esql {
                        seeds.push(query.text);
                    }
                }
            }
        }
        seeds
    })
}

fn check(text: &str) {
    let length = text.len() as u32;
    let mut analysis = esql::analyze(text);
    analysis
        .visit_spans(&mut |span| assert!(span.start <= span.end && span.end <= length, "{span:?} outside {length}"));
    for diagnostic in &analysis.diagnostics {
        assert!(
            text.is_char_boundary(diagnostic.span.start as usize)
                && text.is_char_boundary(diagnostic.span.end as usize)
        );
    }
}

/// Applies one mutation, chosen by `kind`, at the character boundary nearest `position`.
fn mutate(text: &str, kind: u8, position: usize, other: usize) -> String {
    if text.is_empty() {
        return String::new();
    }
    let boundary = |offset: usize| {
        let mut offset = offset % (text.len() + 1);
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let at = boundary(position);
    let second = boundary(other);
    match kind % 4 {
        // Truncation.
        0 => text[..at].to_owned(),
        // A deleted run of up to 3 characters.
        1 => {
            let end = boundary(at + 1 + other % 3).max(at);
            format!("{}{}", &text[..at], &text[end..])
        }
        // An inserted operator or delimiter.
        2 => {
            let insert =
                ["|", "(", ")", "\"", "\"\"\"", "==", " not ", " BY ", "::", "`", "/*", "[", "{", ":", " and "]
                    [other % 15];
            format!("{}{insert}{}", &text[..at], &text[at..])
        }
        // Two pieces exchanged.
        _ => {
            let (first, last) = if at <= second { (at, second) } else { (second, at) };
            let middle = boundary(first + (last - first) / 2).max(first);
            format!("{}{}{}{}", &text[..first], &text[middle..last], &text[first..middle], &text[last..])
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
    fn random_text_never_panics(text in "[a-zA-Z_@|()\\[\\]{}\"`=!~<>.,:*/+%? \\-\n0-9\\\\]{0,200}") {
        check(&text);
    }

    #[test]
    fn random_commands_never_panic(words in proptest::collection::vec("(FROM|ROW|WHERE|EVAL|STATS|BY|KEEP|DROP|RENAME|AS|SORT|LIMIT|DISSECT|GROK|ENRICH|ON|WITH|LOOKUP|JOIN|FORK|INLINE|MV_EXPAND|CHANGE_POINT|COMPLETION|NOT|IN|LIKE|IS|NULL|x|\"s\"|1|\\||\\(|\\)|,|=|==|::|:)", 0..40)) {
        check(&words.join(" "));
    }

    #[test]
    fn random_unicode_never_panics(text in "\\PC{0,100}") {
        check(&text);
    }
}

fn assert_too_deep(text: &str) {
    let analysis = esql::analyze(text);
    assert!(
        analysis.diagnostics.iter().any(|diagnostic| diagnostic.code == "esql-too-deep"),
        "{:?}",
        analysis.diagnostics.first()
    );
    check(text);
}

#[test]
fn deep_nesting_gives_an_error_not_an_overflow() {
    let depth = 10_000;
    assert_too_deep(&format!("FROM a | WHERE {}x{}", "(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&format!("ROW a = {}1", "- ".repeat(depth)));
    assert_too_deep(&format!("FROM a | WHERE {}x", "NOT ".repeat(depth)));
    assert_too_deep(&format!("ROW a = {}1{}", "f(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&format!("ROW a = {}1{}", "[".repeat(depth), "]".repeat(depth)));
    assert_too_deep(&format!("FROM a | {}", "FORK (".repeat(depth)));
    // An arithmetic chain nests the tree: past the limit it is an error, like nesting.
    assert_too_deep(&format!("ROW a = {}1", "1 + ".repeat(depth)));
    assert_too_deep(&format!("ROW a = 1{}", "::long".repeat(depth)));
    // A chain of AND/OR is one n-ary node: no error at all.
    let conjunction = format!("FROM a | WHERE {}x == 1", "x == 1 AND ".repeat(depth));
    assert!(!esql::analyze(&conjunction).has_errors());
}

#[test]
fn every_corpus_seed_survives_every_truncation_of_its_first_line_breaks() {
    // Cutting a query at each line end exercises recovery at every command boundary.
    for text in seeds() {
        for (index, _) in text.match_indices('\n') {
            check(&text[..index]);
        }
    }
}
