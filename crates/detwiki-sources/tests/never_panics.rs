//! Property test: any text, under any rule file name, is read without a panic, and every query's
//! source map stays inside its query and its file.

use detwiki_ir::Language;
use detwiki_sources::read_text;
use proptest::prelude::*;

/// Pieces real rule files are made of, so random mixes reach deep into each reader.
const PIECES: &[&str] = &[
    "title: x\n",
    "detection:\n",
    "  sel:\n",
    "    a: 'b''c'\n",
    "  condition: sel\n",
    "logsource: {product: w}\n",
    "---\n",
    "action: global\n",
    "query: |\n",
    "query: >-\n",
    "search: '| tstats\n",
    "  where x\n",
    "'\n",
    "  T\n",
    "  | where a == \"b\"\n",
    "\r\n",
    "\n",
    "\t",
    "  ",
    "\"a\\u00e9\\\n  b\"\n",
    "&a [1, *a]\n",
    "key: *a\n",
    "# Title\n",
    "## Defender XDR\n",
    "```KQL\n",
    "```\n",
    "~~~\n",
    "| T | Technique ID |\n",
    "|---|---|\n",
    "| x | T1059 |\n",
    "**Author:** me\n",
    "[rule]\n",
    "query = '''\n",
    "'''\n",
    "\"\"\"\n",
    "[[rule.threat]]\n",
    "[hunt]\n",
    "query = [\"a\", \"b\\\\\"]\n",
    "rule r {\n",
    " meta:\n",
    "  author = \"a\\\"\"\n",
    " condition:\n",
    "}\n",
    "é",
    "\u{200B}",
    "\u{FEFF}",
    "//",
    "let x = 1;\n",
    "[",
    "]",
    "{",
    "}",
    ":",
    "|",
    ">",
    "\\",
];

fn texts() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![prop::sample::select(PIECES).prop_map(str::to_owned), ".{0,8}"], 0..40)
        .prop_map(|pieces| pieces.concat())
}

fn names() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &["r.yml", "r.yaml", "r.md", "r.kql", "r.txt", "r.toml", "r.yaral", "noext", "-", "r.csl", "r.json"][..],
    )
}

fn languages() -> impl Strategy<Value = Option<Language>> {
    prop::option::of(prop::sample::select(
        &[Language::Kql, Language::Sigma, Language::Spl, Language::Eql, Language::Yaral][..],
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_reads_without_panic(text in texts(), name in names(), language in languages()) {
        let read = read_text(name, &text, language);
        prop_assert_eq!(read.info.files_seen, 1);
        prop_assert_eq!(read.rules.len() as u64 + read.info.skipped.len() as u64 > 0, true);
        for rule in &read.rules {
            prop_assert!(rule.body_span.end as usize <= text.len());
            for query in &rule.queries {
                let unfaithful = query.source_map.first_unfaithful_segment(&query.text, &text);
                prop_assert!(unfaithful.is_none(), "segment {:?} of {:?}", unfaithful, query.text);
            }
        }
    }
}
