//! Side-by-side timing of detwiki-sigma and its reference parser.

pub fn run(_arguments: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("detwiki-benchmark: the sigma benchmark is not written yet")
}
