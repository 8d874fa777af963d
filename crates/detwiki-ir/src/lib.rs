//! # detwiki-ir
//!
//! ## Overview
//!
//! The shared vocabulary of detwiki: byte spans, diagnostics, rules as read from their
//! repositories, and the language-neutral analysis every query engine lowers into. Language crates
//! produce [`Analysis`] values; the catalog, the site and the exports only ever read these types,
//! so a new language plugs in without touching them.
//!
//! **Invariant:** this crate depends on no other detwiki crate and knows nothing of any language.
//!
//! ## Source code layout
//!
//! - `span.rs`: [`Span`] (u32 byte ranges), [`LineIndex`] (line:column when rendering) and
//!   [`CharOffsets`] (character indexes to byte offsets).
//! - `source_map.rs`: [`SourceMap`], from decoded query offsets back to file offsets.
//! - `diagnostic.rs`: [`Diagnostic`] with its builder and plain renderer.
//! - `rule.rs`: [`Rule`], [`Provenance`], [`Metadata`], [`Query`], [`Family`], [`Language`].
//! - `analysis.rs`: [`Analysis`], [`Stage`], [`Expr`], [`Predicate`], [`Op`], [`Value`], [`Dataset`].
//!
//! The JSON shape of these types is documented in `docs/json.md` and versioned by
//! [`JSON_VERSION`].

mod analysis;
mod diagnostic;
mod rule;
mod source_map;
mod span;

pub use analysis::{
    Analysis, Dataset, DatasetRole, Expr, FieldFunction, FieldFunctionKind, FieldOrigin, KeyField, Op, Parameter,
    ParameterKind, Predicate, Stage, TimeWindow, Transform, Value, duration_seconds,
};
pub use diagnostic::{Diagnostic, Label, Severity};
pub use rule::{
    BodyFormat, DeclaredDataSource, Family, Language, MacroDefinition, Metadata, Provenance, Query, Rule, SkippedFile,
    SourceContext, SourceInfo,
};
pub use source_map::{Segment, SourceMap};
pub use span::{CharOffsets, LineColumn, LineIndex, Span};

/// Version of the JSON documents detwiki prints and publishes (`docs/json.md`). Bumped whenever a
/// field is renamed or removed; adding a field does not bump it.
pub const JSON_VERSION: u32 = 1;
