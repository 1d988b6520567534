//! Exit codes, the same for every command: 0 in sync, 1 drift/failure, 2 usage/config/environment.

use std::process::ExitCode;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// In sync, success.
    Ok,
    /// Drift, conflicts left, a failed gate or target.
    Drift,
    /// Usage, configuration or environment error.
    Usage,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code() as u8)
    }
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Drift => 1,
            Exit::Usage => 2,
        }
    }
}

/// An error that should end the process with exit 1 rather than 2 (a failure
/// of the work itself, not of its setup). Anything else that reaches `main`
/// as an error is a usage, configuration or environment problem: exit 2.
#[derive(Debug)]
#[allow(dead_code)] // constructed by commands as they need it
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Print an error chain to stderr (masked: secret-looking environment values
/// and credentials of well-known formats) and choose the exit code.
pub fn report_error(err: &anyhow::Error) -> Exit {
    let mut text = format!("error: {err}\n");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("  caused by: {cause}\n"));
    }
    let masker = driftsync_runner::Masker::from_env(std::env::vars());
    let _ = std::io::Write::write_all(&mut std::io::stderr(), masker.mask(&text).as_bytes());
    if err.downcast_ref::<Failed>().is_some() {
        Exit::Drift
    } else {
        Exit::Usage
    }
}
