//! Property: the kuery and Lucene engines never panic and keep every span inside the text, on
//! random text and on text made of their own special characters and keywords.

use detwiki_elastic::{ElasticQuery, QueryRole, RuleContext, kuery, lucene};
use detwiki_ir::Language;
use proptest::prelude::*;

fn spans_inside(text: &str, analysis: &detwiki_ir::Analysis) -> bool {
    let mut inside = true;
    let mut copy = analysis.clone();
    copy.visit_spans(&mut |span| inside &= span.start <= span.end && span.end as usize <= text.len());
    inside
}

fn query_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" and ".to_owned()),
        Just(" or ".to_owned()),
        Just("not ".to_owned()),
        Just(" AND ".to_owned()),
        Just(" OR ".to_owned()),
        Just("NOT ".to_owned()),
        Just("&&".to_owned()),
        Just("||".to_owned()),
        Just("!".to_owned()),
        Just(" TO ".to_owned()),
        "[():<>\"{}\\[\\]*?~^/\\\\+\\-=]".prop_map(|s| s),
        "[a-z.]{1,6}".prop_map(|s| s),
        "[ \t\n]".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn kuery_never_panics(text in query_like()) {
        let analysis = kuery::analyze(&text);
        prop_assert!(spans_inside(&text, &analysis));
    }

    #[test]
    fn lucene_never_panics(text in query_like()) {
        let analysis = lucene::analyze(&text);
        prop_assert!(spans_inside(&text, &analysis));
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let context = RuleContext { index: vec!["logs-*".to_owned()], ..RuleContext::default() };
        for language in [Language::Kuery, Language::Lucene] {
            let query = ElasticQuery { language, text: &text, role: QueryRole::Main, context: &context };
            let analysis = detwiki_elastic::analyze(&query);
            prop_assert!(analysis.is_some_and(|analysis| spans_inside(&text, &analysis)));
        }
    }
}
