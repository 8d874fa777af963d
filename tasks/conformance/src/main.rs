//! Runs the shared corpora through detwiki's parsers and through the reference parsers in
//! `../shared/oracles`, and writes one snapshot per language under `tasks/conformance/snapshots/`.
//!
//! Usage: `cargo run -p detwiki-conformance -- <kql|sigma|kuery|lucene> [--shared DIR]`.

mod elastic_query;
mod kql;
mod shared;
mod sigma;

fn main() -> anyhow::Result<()> {
    let mut arguments = std::env::args().skip(1);
    let language = arguments.next().unwrap_or_default();
    let rest: Vec<String> = arguments.collect();
    match language.as_str() {
        "kql" => kql::run(&rest),
        "sigma" => sigma::run(&rest),
        "kuery" => elastic_query::run(detwiki_ir::Language::Kuery, &rest),
        "lucene" => elastic_query::run(detwiki_ir::Language::Lucene, &rest),
        other => {
            anyhow::bail!("detwiki-conformance: unknown language `{other}` (expected kql, sigma, kuery or lucene)")
        }
    }
}
