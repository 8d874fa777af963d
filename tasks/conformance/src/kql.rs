//! Conformance of detwiki-kql against its reference parser.

pub fn run(_arguments: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("detwiki-conformance: the kql comparison is not written yet")
}
