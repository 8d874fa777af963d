//! Running a reference parser's batch driver: one interpreter, the queries as JSON lines on
//! standard input (written from a thread so a large input cannot deadlock against the output).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// Runs `interpreter script arguments...` with `input` on standard input; its standard output.
pub fn run_with_input(interpreter: &Path, script: &Path, arguments: &[&str], input: String) -> anyhow::Result<Vec<u8>> {
    if !interpreter.exists() {
        bail!("detwiki-benchmark: {} not found (run ../shared/oracles/setup.sh)", interpreter.display());
    }
    let mut child = Command::new(interpreter)
        .arg(script)
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", interpreter.display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        let name = script.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        bail!("detwiki-benchmark: {name} failed: {}", output.status);
    }
    Ok(output.stdout)
}
