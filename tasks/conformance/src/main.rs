//! Runs the shared corpora through detwiki's parsers and through the reference parsers in
//! `../shared/oracles`, and writes one snapshot per language under `tasks/conformance/snapshots/`.
//!
//! Usage: `cargo run -p detwiki-conformance -- <kql|sigma|spl> [--shared DIR]`.

mod kql;
mod shared;
mod sigma;
mod spl;

fn main() -> anyhow::Result<()> {
    let mut arguments = std::env::args().skip(1);
    let language = arguments.next().unwrap_or_default();
    let rest: Vec<String> = arguments.collect();
    match language.as_str() {
        "kql" => kql::run(&rest),
        "sigma" => sigma::run(&rest),
        "spl" => spl::run(&rest),
        other => anyhow::bail!("detwiki-conformance: unknown language `{other}` (expected kql, sigma or spl)"),
    }
}
