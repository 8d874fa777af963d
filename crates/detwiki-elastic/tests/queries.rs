//! Data-driven checks of the kuery and Lucene engines: each input's predicate tree and
//! diagnostics (with line:column) in one snapshot per language, plus the invariants every
//! analysis must hold (spans inside the text, invalid inputs produce an error).

use detwiki_elastic::{kuery, lucene};
use detwiki_ir::{Analysis, Expr, LineIndex, Value};

fn render_expr(expr: &Expr, out: &mut String, depth: usize) {
    let indent = "  ".repeat(depth);
    match expr {
        Expr::And { items } | Expr::Or { items } => {
            out.push_str(&format!("{indent}{}\n", if matches!(expr, Expr::And { .. }) { "and" } else { "or" }));
            items.iter().for_each(|item| render_expr(item, out, depth + 1));
        }
        Expr::Not { item } => {
            out.push_str(&format!("{indent}not\n"));
            render_expr(item, out, depth + 1);
        }
        Expr::Predicate(predicate) => {
            let values: Vec<String> = predicate
                .values
                .iter()
                .map(|value| match value {
                    Value::Number { value } => value.to_string(),
                    Value::Regex { pattern, .. } => format!("/{pattern}/"),
                    other => format!("{:?}", other.literal_text().unwrap_or_default()),
                })
                .collect();
            out.push_str(&format!(
                "{indent}{} {} {}{}\n",
                if predicate.field.is_empty() { "<keyword>" } else { &predicate.field },
                predicate.op.as_str(),
                values.join(", "),
                if predicate.case_sensitive { "" } else { " (case-insensitive)" }
            ));
        }
        Expr::Opaque { span, .. } => out.push_str(&format!("{indent}<missing at {}>\n", span.start)),
    }
}

fn render(text: &str, analysis: &Analysis) -> String {
    let mut out = format!("## {text}\n");
    for stage in &analysis.stages {
        if let Some(tree) = &stage.predicate {
            render_expr(tree, &mut out, 1);
        }
    }
    let index = LineIndex::new(text);
    for diagnostic in &analysis.diagnostics {
        out.push_str(&format!("  {}\n", diagnostic.render_plain("q", text, &index)));
    }
    out
}

fn check_invariants(text: &str, analysis: &Analysis) {
    let mut copy = analysis.clone();
    copy.visit_spans(&mut |span| {
        assert!(span.start <= span.end && span.end as usize <= text.len(), "span {span:?} outside {text:?}");
    });
}

const KUERY_VALID: &[&str] = &[
    r#"process.name : "msiexec.exe""#,
    r#"event.category:process and process.name:(cmd.exe or powershell.exe) and not user.name:SYSTEM"#,
    r#"process.args : *enc* and process.executable : C\:\\Windows\\* and file.name : *.dll"#,
    r#"event.code >= 4688 and destination.port < 1024 and host : { name : "dc01" and os.type : windows }"#,
    r#"user_agent.original : * and not (a : "x" or b : y z)"#,
    r#"field : (a and not b) or "bare phrase" or term*"#,
    r#"a : \(escaped\) and b : "quote \" and backslash \\""#,
    r#"a : "wildcard * kept literal" and b : x\*y"#,
];

const KUERY_INVALID: &[&str] =
    &["a : (b or c", "a : \"unterminated", "not not a : b", "a : C:\\x", "(a : b) )", "a :", "a : b c : d"];

#[test]
fn kuery_snapshot() {
    let mut out = String::new();
    for text in KUERY_VALID {
        let analysis = kuery::analyze(text);
        check_invariants(text, &analysis);
        assert!(!analysis.has_errors(), "{text}: {:?}", analysis.diagnostics);
        out.push_str(&render(text, &analysis));
    }
    for text in KUERY_INVALID {
        let analysis = kuery::analyze(text);
        check_invariants(text, &analysis);
        assert!(analysis.has_errors(), "{text} should be rejected");
        out.push_str(&render(text, &analysis));
    }
    insta::assert_snapshot!(out);
}

const LUCENE_VALID: &[&str] = &[
    r#"event.category:process AND process.name:(cmd.exe OR powershell.exe) AND process.command_line:*\-enc* AND NOT user.name:"NT AUTHORITY\\SYSTEM" AND event.code:[4688 TO 4690] AND process.parent.name:/w3wp\.exe|httpd/ AND _exists_:process.hash.sha256 AND host.name:dc0?"#,
    "event.category:process AND event.type:(start or process_started) AND process.name:chmod AND process.args:(g+s OR /2[0-9]{3}/) AND NOT user.name:root",
    "+a:b -c:d e",
    "a:{1 TO *] && b:>=5 || !c:x^2 AND d:fuzzy~1",
    "bare \"phrase words\"",
];

const LUCENE_INVALID: &[&str] = &["a:(b OR c", "a:\"x", "a:[1 TO]", "AND a:b", "a:b)"];

#[test]
fn lucene_snapshot() {
    let mut out = String::new();
    for text in LUCENE_VALID {
        let analysis = lucene::analyze(text);
        check_invariants(text, &analysis);
        assert!(!analysis.has_errors(), "{text}: {:?}", analysis.diagnostics);
        out.push_str(&render(text, &analysis));
    }
    for text in LUCENE_INVALID {
        let analysis = lucene::analyze(text);
        check_invariants(text, &analysis);
        assert!(analysis.has_errors(), "{text} should be rejected");
        out.push_str(&render(text, &analysis));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn deep_nesting_is_diagnosed_not_overflowed() {
    let deep = format!("{}a : b{}", "(".repeat(5000), ")".repeat(5000));
    assert!(kuery::analyze(&deep).diagnostics.iter().any(|diagnostic| diagnostic.code == "kuery-too-deep"));
    let deep = format!("{}a:b{}", "(".repeat(5000), ")".repeat(5000));
    assert!(lucene::analyze(&deep).diagnostics.iter().any(|diagnostic| diagnostic.code == "lucene-too-deep"));
    let chain = format!("{}x", "a:".repeat(5000));
    assert!(lucene::analyze(&chain).has_errors());
    let nots = "NOT ".repeat(5000) + "a";
    assert!(lucene::analyze(&nots).has_errors());
}
