//! Random and mutated YAML never panics the engine, and spans stay inside the input.

use proptest::prelude::*;

const SEED_RULE: &str = "title: t\nid: 5f1a-x\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection_1:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains|all: [' /c ', 'x*y']\n  selection_2:\n    - CommandLine|re|i: 'a.+b'\n    - CommandLine|base64offset|contains: 'IEX'\n  filter:\n    User|windash: -p\n  keywords:\n    - 'evil'\n    - 42\n  condition: 1 of selection_* and not filter or keywords | count() by x > 5\n---\ntitle: c\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [x]\n  timespan: 5m\n";

fn check(text: &str) {
    let file = detwiki_sigma::load(text);
    for index in 0..file.documents.len() + 1 {
        let mut analysis = detwiki_sigma::analyze_loaded(&file, index, text);
        analysis.visit_spans(&mut |span| {
            assert!(span.start <= span.end && span.end as usize <= text.len(), "span {span:?} outside input");
            assert!(text.is_char_boundary(span.start as usize) && text.is_char_boundary(span.end as usize));
        });
    }
    let _ = detwiki_sigma::lint(text, &file, &detwiki_sigma::LintContext::default());
}

proptest! {
    // 256 cases by default; `PROPTEST_CASES=20000` for a longer run.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_text_never_panics(text in "[ -~\\n\\t:|*?\\-\\[\\]{}'\"#é]{0,300}") {
        check(&text);
    }

    #[test]
    fn mutated_rules_never_panic(cut in 0usize..600, insert in "[ -~\\né]{0,12}", remove in 0usize..20) {
        let mut text = SEED_RULE.to_owned();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + remove).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.replace_range(at..end, &insert);
        check(&text);
    }
}

#[test]
fn deep_nesting_is_cut_not_overflowed() {
    let text = "[".repeat(100_000);
    check(&text);
    let condition = format!("title: t\ndetection:\n  a: 1\n  condition: {}a{}\n", "(".repeat(5000), ")".repeat(5000));
    check(&condition);
    let nots = format!("title: t\ndetection:\n  a: 1\n  condition: {}a\n", "not ".repeat(5000));
    check(&nots);
}
