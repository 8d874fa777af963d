//! # detwiki-testkit
//!
//! Test support shared by every crate's integration tests, so the rule for inputs a test cannot
//! find is written once: a missing shared corpus or external tool prints a visible `SKIPPED:` line
//! and the test returns, except under `DETWIKI_REQUIRE_SHARED=1` (what `.ci/run` sets), where it
//! fails. A skip is never a pass in CI.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether missing inputs fail the test instead of skipping it.
pub fn inputs_required() -> bool {
    std::env::var("DETWIKI_REQUIRE_SHARED").as_deref() == Ok("1")
}

/// The name of the running test (libtest names each test's thread after it).
fn test_name() -> String {
    std::thread::current().name().unwrap_or("test").to_owned()
}

/// Reports an input the test cannot find: `None` after a `SKIPPED:` line, or a panic when
/// inputs are required. `what` says what is missing and where it was looked for.
pub fn missing<T>(what: &str) -> Option<T> {
    let test = test_name();
    if inputs_required() {
        panic!("{test}: {what}, and DETWIKI_REQUIRE_SHARED=1");
    }
    // Straight to the stderr handle: libtest captures `println!` of passing tests, and a skip
    // must be visible in a plain `cargo test` run.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {what}");
    None
}

/// The shared folder (`DETWIKI_SHARED`, else the `shared` folder beside the workspace root), or
/// `None` after a `SKIPPED:` line when it has no `corpus/MANIFEST.toml`.
pub fn shared_dir() -> Option<PathBuf> {
    let path = match std::env::var_os("DETWIKI_SHARED") {
        Some(path) => PathBuf::from(path),
        // Every crate sits two levels below the workspace root, this one included.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    if path.join("corpus/MANIFEST.toml").is_file() {
        return Some(path);
    }
    missing(&format!("no shared corpus at {} (no corpus/MANIFEST.toml)", path.display()))
}

/// `path` when it exists, or `None` after a `SKIPPED:` line naming `what` it is.
pub fn existing(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    missing(&format!("{what} not found at {}", path.display()))
}

/// Where the external consumers of detwiki's outputs are installed (`DETWIKI_TOOLS`, else
/// `~/.cache/detwiki-tools`): `.ci/run` installs them there.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("DETWIKI_TOOLS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/detwiki-tools"),
    }
}
