//! Regressions from the held-out KQL check (`detwiki-conformance kql --rules DIR`, public hunting
//! queries the team had not seen): each test pins one disagreement class with Kusto.Language.

fn operators(text: &str) -> Vec<String> {
    let parsed = detwiki_kql::parse(text);
    assert!(!parsed.has_errors(), "{text:?}: {:?}", parsed.diagnostics);
    detwiki_kql::operators(&parsed.script)
        .iter()
        .map(|operator| format!("{}@{}", operator.keyword, operator.nesting))
        .collect()
}

/// `fork` branches are sub-queries: Kusto.Language lists their operators one level down, and
/// named branches (`Name = (...)`) are branches too. They were skipped as text.
#[test]
fn fork_branches_are_parsed_as_sub_queries() {
    assert_eq!(
        operators("T | fork (summarize n = dcount(User)) (where x > 1 | take 10)"),
        ["fork@0", "summarize@1", "where@1", "take@1"]
    );
    assert_eq!(operators("T | fork First = (take 1) Second = (top 2 by x)"), ["fork@0", "take@1", "top@1"]);
}

/// A broken branch is an error now, as it is for Kusto.Language; so is a fork without a branch.
#[test]
fn fork_branch_errors_are_reported() {
    for text in ["T | fork (where x ==)", "T | fork", "T | fork Named = ", "T | fork (take 1"] {
        assert!(detwiki_kql::parse(text).has_errors(), "{text:?} should be rejected");
    }
    // And the predicates inside a branch are comparisons of the query.
    let text = "T | fork (where Name == 'a') (where Size > 10)";
    let parsed = detwiki_kql::parse(text);
    let predicates: Vec<String> = detwiki_kql::predicates(&parsed.script, text)
        .iter()
        .map(|predicate| format!("{} {}", predicate.left, predicate.op))
        .collect();
    assert_eq!(predicates, ["Name ==", "Size >"]);
}

/// `top` takes one sort key; a second one is an error for Kusto.Language ("the incomplete
/// fragment is unexpected" at the comma) and now for detwiki, at the second key.
#[test]
fn top_takes_one_sort_key() {
    let text = "T | top 5 by a nulls last, b asc";
    let parsed = detwiki_kql::parse(text);
    let error = parsed.diagnostics.iter().find(|diagnostic| diagnostic.is_error()).expect("an error");
    assert_eq!(&text[error.span.range()], "b asc");
    assert_eq!(operators("T | top 5 by a desc nulls last | take 1"), ["top@0", "take@0"]);
}

/// A table read inside `toscalar(...)` in an `extend` or a `where` is read by the query
/// (Kusto.Language lists it among the tables); it was a dataset only when the `toscalar` was a
/// `let` value.
#[test]
fn toscalar_in_an_operator_reads_its_table() {
    for text in [
        "T | extend Total = toscalar(T2 | count) | where Total > 1",
        "T | where a == 1 and t == toscalar(T2 | summarize max(t))",
    ] {
        let analyses = detwiki_kql::analyze(text);
        let names: Vec<&str> = analyses
            .iter()
            .flat_map(|analysis| analysis.datasets.iter().map(|dataset| dataset.name.as_str()))
            .collect();
        assert!(names.contains(&"T") && names.contains(&"T2"), "{text}: {names:?}");
    }
}
