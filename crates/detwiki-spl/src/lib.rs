//! # detwiki-spl
//!
//! Splunk SPL as detection content writes it: searches, commands, macros and data models, parsed by
//! hand and lowered into the language-neutral [`detwiki_ir::Analysis`].
