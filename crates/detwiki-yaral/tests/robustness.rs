//! The engine never panics and never overflows the stack: random text, mutated rules
//! (truncations, deleted ranges, inserted fragments) and pathological nesting. Every span it
//! returns stays inside the text.

use std::path::PathBuf;
use std::sync::OnceLock;

use detwiki_ir::Span;
use proptest::prelude::*;

const SAMPLE: &str = r#"rule sample {
  meta:
    author = "x"
    severity = "High"
  events:
    $e.metadata.event_type = "PROCESS_LAUNCH"
    re.regex($e.target.process.file.full_path, `\\msiexec\.exe$`) nocase
    $e.principal.hostname = $host
    $e.target.ip in cidr %ranges
    not $e.about[0].labels["k"] = /a\/b/ NOCASE
    $f.principal.hostname = $host
    #f > -1 or $f.target.port = 445
  match:
    $host over 10m
  outcome:
    $risk = max(if($e.x = "a", 10, 0)) + 5 * 2
  condition:
    $e and !$f and #e > 2
}
"#;

/// Seeds: the sample above plus the first 60 Chronicle rules when `../shared` is present.
fn seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = vec![SAMPLE.to_owned()];
        let shared = std::env::var_os("DETWIKI_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let mut stack = vec![shared.join("corpus/chronicle__detection-rules/rules/community")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
            paths.sort();
            for path in paths {
                if path.is_dir() {
                    stack.push(path);
                } else if seeds.len() < 60
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    seeds.push(text);
                }
            }
        }
        seeds
    })
}

fn check(text: &str) {
    let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
    for mut analysis in detwiki_yaral::analyze(text) {
        analysis.visit_spans(&mut |span: &mut Span| {
            assert!(span.end <= end, "span {span:?} past the end ({end})");
        });
    }
}

fn floor_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[test]
fn deep_nesting_is_bounded() {
    for opener in ["(", "not ", "!", "-", "strings.to_lower(", "$e.x = (", "any $e.x = ("] {
        let text = format!("rule r {{ events: {} $e.x = 1 condition: $e }}", opener.repeat(5000));
        check(&text);
    }
    check(&format!("rule r {{ events: $e.x = 1 {} condition: $e }}", "or $e.x = 1 ".repeat(20_000)));
}

#[test]
fn invalid_inputs_give_located_errors() {
    for text in [
        "",
        "rule",
        "rule r {",
        "rule r { events: $e.x = \"a }",
        "rule r { foo: 1 }",
        "@@@",
        "rule r { events: $e.x = /a }",
    ] {
        let analyses = detwiki_yaral::analyze(text);
        let errors = analyses.iter().flat_map(|analysis| &analysis.diagnostics).filter(|d| d.is_error()).count();
        assert!(errors > 0, "no error for {text:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_text(text in "[ -~\n\t$#%/`\"\\\\{}()\\[\\]é]{0,300}") {
        check(&text);
    }

    #[test]
    fn truncated_rules(seed in 0usize..64, cut in 0usize..4000) {
        let seeds = seeds();
        let text = &seeds[seed % seeds.len()];
        check(&text[..floor_boundary(text, cut)]);
    }

    #[test]
    fn mutated_rules(seed in 0usize..64, at in 0usize..4000, length in 0usize..40, insert in "[ -~\n]{0,12}") {
        let seeds = seeds();
        let text = &seeds[seed % seeds.len()];
        let start = floor_boundary(text, at);
        let stop = floor_boundary(text, start + length);
        let mutated = format!("{}{}{}", &text[..start], insert, &text[stop..]);
        check(&mutated);
    }
}
