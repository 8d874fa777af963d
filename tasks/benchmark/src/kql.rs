//! Side-by-side timing of detwiki-kql and its reference parser.

pub fn run(_arguments: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("detwiki-benchmark: the kql benchmark is not written yet")
}
