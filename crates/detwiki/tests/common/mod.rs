//! Helpers shared by the end-to-end tests: run the binary, walk a built site.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (`crates/detwiki` is two levels below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `detwiki` with `args` in `dir`, with a pinned build time.
pub fn detwiki(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_detwiki"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("the detwiki binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: invalid JSON: {error}", path.display()))
}

/// The shared corpus folder, or `None` (after printing `SKIPPED:`) when it is missing and
/// `DETWIKI_REQUIRE_SHARED` is not `1`.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir =
        std::env::var_os("DETWIKI_SHARED").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("../shared"));
    if dir.join("corpus/MANIFEST.toml").is_file() {
        return Some(dir);
    }
    if std::env::var("DETWIKI_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{test}: DETWIKI_REQUIRE_SHARED=1 but {} has no corpus/MANIFEST.toml", dir.display());
    }
    println!("SKIPPED: {test}: no shared corpus at {}", dir.display());
    None
}

/// A compressed chunk of the search index under `site/pagefind/` (binary, not text).
pub fn is_search_chunk(file: &Path, site: &Path) -> bool {
    file.strip_prefix(site).is_ok_and(|relative| relative.starts_with("pagefind"))
        && file.extension().is_some_and(|extension| {
            extension.to_str().is_some_and(|extension| extension.starts_with("pf_") || extension == "pagefind")
        })
}
