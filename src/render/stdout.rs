//! Standard output that survives its reader going away.
//!
//! `driftsync check | head -1` closes the pipe after one line. Rust ignores
//! SIGPIPE (so a closed socket or pipe is an error, not death, for libgit2's
//! push as much as for us) and `println!` panics on the broken pipe. Here a
//! broken pipe ends the printing instead: nothing more is written, the run
//! carries on and the process ends with its own exit code, quietly.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `text` to stdout (whole, in one go, flushed). A broken pipe is not an
/// error: from then on nothing is written. Other errors are returned.
pub fn write(text: &str) -> std::io::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r,
    }
}

/// [`write`] `line` and a newline.
pub fn line(line: &str) -> std::io::Result<()> {
    write(&format!("{line}\n"))
}
