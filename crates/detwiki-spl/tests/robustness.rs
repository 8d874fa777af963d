//! The engine never panics, never overflows the stack and keeps every span inside the text:
//! random text, mutated real searches (truncations, deleted and duplicated characters) and
//! pathological nesting, with and without macros.

use std::collections::BTreeMap;

use detwiki_ir::{Analysis, MacroDefinition, Span};
use proptest::prelude::*;

/// Searches shaped like security_content's, covering every dedicated command grammar.
const SEEDS: &[&str] = &[
    r#"| tstats `security_content_summariesonly` count min(_time) as firstTime from datamodel=Endpoint.Processes where Processes.process_name="net.exe" OR Processes.original_file_name=net1.exe by Processes.dest Processes.process | `drop_dm_object_name(Processes)` | where count > 5"#,
    r#"`wineventlog_system` EventCode=7045 ImagePath = "*.exe" NOT (ImagePath IN ("*:\\Windows\\*", "*%systemroot%\\*")) | stats count by ImagePath ServiceName | rename ImagePath as path"#,
    r#"index=main sourcetype="aws:cloudtrail" eventName=CreateUser | eval user=lower(userIdentity.arn), x=if(a>1, "y", "z") | rex field=user "(?<account>\d+)" | lookup ut_shannon_lookup word as user OUTPUT ut_shannon | where ut_shannon > 3 AND like(user, "%admin%")"#,
    r#"search index=a [| inputlookup hosts.csv | fields host] | join type=outer host [search index=b | dedup host] | append [| makeresults | eval x=1] | appendpipe [stats count | where count=0] ```comment | x``` | table host"#,
    r#"`sysmon` EventCode=1 | regex CommandLine="(?i)\s-enc\s" | spath input=data path=a.b | mvexpand x | fillnull value=0 | bin _time span=1h | transaction host maxspan=5m | eventstats dc(x) as dx by host | streamstats count | where match(CommandLine, "^a") AND cidrmatch("10.0.0.0/8", src) AND isnotnull(user) AND mvindex(split(Image, "\\"), -1)="cmd.exe""#,
];

fn macros() -> BTreeMap<String, MacroDefinition> {
    let definition = |name: &str, arguments: &[&str], body: &str| {
        let key = if arguments.is_empty() { name.to_owned() } else { format!("{name}({})", arguments.len()) };
        let value = MacroDefinition {
            name: key.clone(),
            arguments: arguments.iter().map(|argument| argument.to_string()).collect(),
            definition: body.to_owned(),
            path: String::new(),
        };
        (key, value)
    };
    [
        definition("security_content_summariesonly", &[], "summariesonly=true allow_old_summaries=true"),
        definition("drop_dm_object_name", &["object"], "rename $object$.* as *"),
        definition("wineventlog_system", &[], "eventtype=wineventlog_system"),
        definition("sysmon", &[], "sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"),
        definition("recursive", &[], "a `recursive` b"),
    ]
    .into_iter()
    .collect()
}

fn check_spans(text: &str, analysis: &mut Analysis) {
    let length = text.len() as u32;
    analysis.visit_spans(&mut |span: &mut Span| {
        assert!(span.start <= span.end && span.end <= length, "span {span:?} outside a text of {length} bytes");
        assert!(text.is_char_boundary(span.start as usize) && text.is_char_boundary(span.end as usize));
    });
}

fn run_both(text: &str, macros: &BTreeMap<String, MacroDefinition>) {
    let mut expanded = detwiki_spl::analyze(text, macros);
    check_spans(text, &mut expanded);
    let mut unexpanded = detwiki_spl::analyze(text, &BTreeMap::new());
    check_spans(text, &mut unexpanded);
    let _ = detwiki_spl::command_names(text);
}

#[test]
fn seeds_analyse_without_errors() {
    let macros = macros();
    for seed in SEEDS {
        let analysis = detwiki_spl::analyze(seed, &macros);
        assert!(!analysis.has_errors(), "{seed}\n{:#?}", analysis.diagnostics);
        assert!(!analysis.stages.is_empty());
    }
}

#[test]
fn pathological_nesting_is_bounded() {
    let macros = macros();
    for depth in [10_000usize, 100_000] {
        run_both(&format!("{}a=1{}", "(".repeat(depth), ")".repeat(depth)), &macros);
        run_both(&format!("search {}", "NOT ".repeat(depth)), &macros);
        run_both(&format!("| where {}x{}", "(".repeat(depth), ")".repeat(depth)), &macros);
        run_both(&format!("| where {}", "-".repeat(depth)), &macros);
        run_both(&format!("search {}", "[search ".repeat(depth)), &macros);
        run_both(&"`recursive` ".repeat(depth / 100), &macros);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        run_both(&text, &macros());
    }

    #[test]
    fn spl_alphabet_never_panics(text in "[a-zA-Z0-9_=!<>()\\[\\]|,\"'`*\\\\. %$-]{0,120}") {
        run_both(&text, &macros());
    }

    #[test]
    fn mutated_seeds_never_panic(seed in 0..SEEDS.len(), cut in 0usize..400, delete in 0usize..400, insert in "\\PC{0,3}") {
        let text = SEEDS[seed];
        let mut cut_at = cut.min(text.len());
        while !text.is_char_boundary(cut_at) { cut_at -= 1; }
        run_both(&text[..cut_at], &macros());
        let mut delete_at = delete.min(text.len());
        while !text.is_char_boundary(delete_at) { delete_at -= 1; }
        let mut mutated = text.to_owned();
        if delete_at < mutated.len() { mutated.remove(delete_at); }
        let mut insert_at = (delete_at / 2).min(mutated.len());
        while !mutated.is_char_boundary(insert_at) { insert_at -= 1; }
        mutated.insert_str(insert_at, &insert);
        run_both(&mutated, &macros());
    }
}
