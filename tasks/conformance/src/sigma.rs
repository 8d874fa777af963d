//! Conformance of detwiki-sigma against its reference parser.

pub fn run(_arguments: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("detwiki-conformance: the sigma comparison is not written yet")
}
