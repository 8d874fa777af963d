//! # detwiki-elastic
//!
//! The query languages of Elastic detection rules: EQL, Kibana KQL (kuery), Lucene query strings
//! and ES|QL, each parsed by hand and lowered into the language-neutral [`detwiki_ir::Analysis`].

pub mod eql;
pub mod esql;
