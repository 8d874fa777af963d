//! Locating `../shared` and the installed oracles.

use std::path::PathBuf;

/// The shared folder: `--shared DIR`, else `DETWIKI_SHARED`, else `shared` beside the workspace root.
pub fn shared_dir(arguments: &[String]) -> PathBuf {
    if let Some(position) = arguments.iter().position(|argument| argument == "--shared")
        && let Some(dir) = arguments.get(position + 1)
    {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("DETWIKI_SHARED") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Where `../shared/oracles/setup.sh` installed the oracles: `ORACLES_HOME`, else its default.
pub fn oracles_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORACLES_HOME") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
    cache.join("detwiki-oracles")
}

/// The commit `corpus/MANIFEST.toml` records for the corpus folder `corpus` (empty when unknown).
pub fn corpus_commit(shared: &std::path::Path, corpus: &str) -> String {
    let Ok(text) = std::fs::read_to_string(shared.join("corpus/MANIFEST.toml")) else { return String::new() };
    let mut in_corpus = false;
    for line in text.lines() {
        let value = || line.split_once('=').map(|(_, value)| value.trim().trim_matches('"').to_owned());
        if line.starts_with("path") {
            in_corpus = value().as_deref() == Some(corpus);
        } else if in_corpus && line.starts_with("commit") {
            return value().unwrap_or_default();
        }
    }
    String::new()
}
