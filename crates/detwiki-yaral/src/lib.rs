//! # detwiki-yaral
//!
//! YARA-L 2.0, the rule language of Google SecOps: sections, event variables, UDM paths, parsed by
//! hand and lowered into the language-neutral [`detwiki_ir::Analysis`].
