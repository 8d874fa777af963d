//! Writing to standard output: a closed pipe (`detwiki analyze --json . | head`) ends the run
//! quietly instead of panicking.

use std::io::{ErrorKind, Write};

/// Writes `text` to standard output. Returns `false` when the reader has gone away (broken
/// pipe), so callers stop producing output; other errors are reported once.
pub fn write_stdout(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        Err(error) if error.kind() == ErrorKind::BrokenPipe => false,
        Err(error) => {
            crate::messages::message!("writing to standard output failed: {error}");
            false
        }
    }
}
