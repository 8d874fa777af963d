//! Messages to people: every line starts with `detwiki: `.

/// Prints `detwiki: <message>` on standard error.
macro_rules! message {
    ($($arg:tt)*) => {
        eprintln!("detwiki: {}", format_args!($($arg)*))
    };
}

pub(crate) use message;

/// How the run ended, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Something was read or built incompletely (exit 1).
    Failures,
    /// Usage or configuration error (exit 2).
    Usage,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failures => 1,
            Outcome::Usage => 2,
        }
    }
}
