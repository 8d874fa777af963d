//! The EQL engine never panics and never overflows the stack: random text, mutated fixtures
//! (truncations, deleted and duplicated characters) and pathological nesting.

use std::path::PathBuf;
use std::sync::OnceLock;

use detwiki_elastic::eql;
use proptest::prelude::*;

fn seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let resources = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("resources/eql");
        let mut seeds = Vec::new();
        for folder in ["valid", "invalid"] {
            let mut paths: Vec<PathBuf> =
                std::fs::read_dir(resources.join(folder)).into_iter().flatten().flatten().map(|e| e.path()).collect();
            paths.sort();
            seeds.extend(paths.iter().filter_map(|path| std::fs::read_to_string(path).ok()));
        }
        seeds
    })
}

fn check(text: &str) {
    let length = text.len() as u32;
    let mut analysis = eql::analyze(text);
    analysis.visit_spans(&mut |span| {
        assert!(span.start <= span.end && span.end <= length, "{span:?} outside {length}");
        assert!(span.slice(text).is_some(), "{span:?} not on character boundaries");
    });
}

/// Cuts `text` at the character boundary at or before `at`.
fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_text(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn random_eql_alphabet(text in "[a-z .:=!<>()\\[\\]\"`?~,|*$-]{0,120}") {
        check(&text);
    }

    #[test]
    fn mutated_fixtures(seed in 0usize..64, at in 0usize..400, length in 0usize..8, insert in "[\\[\\](),\"=:!~ ]{0,3}") {
        let seeds = seeds();
        let text = &seeds[seed % seeds.len()];
        let start = floor(text, at);
        let end = floor(text, start + length);
        let mutated = format!("{}{}{}", &text[..start], insert, &text[end..]);
        check(&mutated);
        check(&text[..start]);
    }
}

#[test]
fn deep_nesting_is_diagnosed() {
    for opener in ["(", "not ", "-", "a + ", "a * "] {
        let text = format!("process where {}x == 1", opener.repeat(5000));
        let analysis = eql::analyze(&text);
        check(&text);
        if opener != "not " {
            assert!(analysis.diagnostics.iter().any(|d| d.code == "eql-too-deep"));
        }
    }
    let steps = "sequence ".to_owned() + &"[any where true] ".repeat(5000);
    check(&steps);
}
