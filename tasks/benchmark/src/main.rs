//! Parses a whole corpus with detwiki and with the reference parser in the same run and prints
//! queries (or rules) per second for both and the ratio.
//!
//! Usage: `cargo run --release -p detwiki-benchmark -- <eql|esql|kql|kuery|sigma|spl|yaral> [--shared DIR]`
//! (`kuery` times the Lucene parser too).

mod elastic_query;
mod eql;
mod esql;
mod kql;
mod oracle;
/// The same locating of `../shared` and the oracles as the conformance task.
#[path = "../../conformance/src/shared.rs"]
mod shared;
mod sigma;
mod spl;
mod timing;
mod yaral;

fn main() -> anyhow::Result<()> {
    let mut arguments = std::env::args().skip(1);
    let language = arguments.next().unwrap_or_default();
    let rest: Vec<String> = arguments.collect();
    match language.as_str() {
        "eql" => eql::run(&rest),
        "esql" => esql::run(&rest),
        "kql" => kql::run(&rest),
        "kuery" | "lucene" => elastic_query::run(&rest),
        "sigma" => sigma::run(&rest),
        "spl" => spl::run(&rest),
        "yaral" => yaral::run(&rest),
        other => anyhow::bail!(
            "detwiki-benchmark: unknown language `{other}` (expected eql, esql, kql, kuery, lucene, sigma, spl or yaral)"
        ),
    }
}
