//! Filter rules (Sigma 2.1): `filter: {rules: [...], <identifiers>, condition}` next to a
//! `logsource`, excluding events from the rules they name.

use detwiki_ir::{Diagnostic, Span};

use crate::correlation::string_list;
use crate::detection::{Detection, Spanned, parse_detection};
use crate::diagnostics;
use crate::yaml::YamlNode;

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub span: Span,
    /// Rules the filter applies to, by id or name.
    pub rules: Vec<Spanned<String>>,
    pub detection: Detection,
}

pub fn parse_filter(node: &YamlNode, text: &str, out: &mut Vec<Diagnostic>) -> Filter {
    let rules = match node.get("rules") {
        Some(rules) => string_list(rules),
        None => {
            out.push(diagnostics::missing_field("filter rules", Span::empty(node.span.start)));
            Vec::new()
        }
    };
    let detection = parse_detection(node, text, &["rules"], out);
    Filter { span: node.span, rules, detection }
}
