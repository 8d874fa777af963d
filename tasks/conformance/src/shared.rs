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
