//! Runs the shared corpora through detwiki's parsers and through the reference parsers in
//! `../shared/oracles`, and writes one snapshot per language under `tasks/conformance/snapshots/`.
//!
//! Usage: `cargo run -p detwiki-conformance -- <eql|esql|kql|kuery|lucene|sigma|spl|yaral> [--shared DIR]`.

mod elastic_query;
mod eql;
mod esql;
mod kql;
mod kql_semantic;
mod shared;
mod sigma;
mod spl;
mod yaral;

fn main() -> anyhow::Result<()> {
    let mut arguments = std::env::args().skip(1);
    let language = arguments.next().unwrap_or_default();
    let rest: Vec<String> = arguments.collect();
    match language.as_str() {
        "eql" => eql::run(&rest),
        "esql" => esql::run(&rest),
        "kql" => kql::run(&rest),
        "kuery" => elastic_query::run(detwiki_ir::Language::Kuery, &rest),
        "lucene" => elastic_query::run(detwiki_ir::Language::Lucene, &rest),
        "sigma" => sigma::run(&rest),
        "spl" => spl::run(&rest),
        "yaral" => yaral::run(&rest),
        other => anyhow::bail!(
            "detwiki-conformance: unknown language `{other}` (expected eql, esql, kql, kuery, lucene, sigma, spl or yaral)"
        ),
    }
}
