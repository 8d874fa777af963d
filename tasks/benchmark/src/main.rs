//! Parses a whole corpus with detwiki and with the reference parser in the same run and prints
//! queries (or rules) per second for both and the ratio.
//!
//! Usage: `cargo run --release -p detwiki-benchmark -- <eql|esql|kql|sigma|spl|yaral> [--shared DIR]`.

mod eql;
mod esql;
mod kql;
/// The same locating of `../shared` and the oracles as the conformance task.
#[path = "../../conformance/src/shared.rs"]
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
        "sigma" => sigma::run(&rest),
        "spl" => spl::run(&rest),
        "yaral" => yaral::run(&rest),
        other => anyhow::bail!(
            "detwiki-benchmark: unknown language `{other}` (expected eql, esql, kql, sigma, spl or yaral)"
        ),
    }
}
