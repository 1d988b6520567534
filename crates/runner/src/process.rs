//! Running a child process: its own process group, a timeout that kills the
//! whole group, output streamed line by line (masked: known secrets and
//! credentials of well-known formats) and a tail kept.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::events::{Event, Events};
use crate::mask::Masker;

/// Lines kept for the report.
pub const TAIL_LINES: usize = 40;
/// Most stdout kept in memory for parsing (verification numbers).
const STDOUT_LIMIT: usize = 1 << 20;
/// Time between SIGTERM and SIGKILL on timeout.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// What to run.
pub enum Program<'a> {
    /// An executable file.
    File(&'a Path),
    /// A line for `sh -c`.
    Shell(&'a str),
}

/// How a process ended.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code; `None` when killed by a signal.
    pub exit_code: Option<i32>,
    /// Killed because it ran past its timeout.
    pub timed_out: bool,
    /// Its standard output (masked, first MiB).
    pub stdout: String,
    /// Its last lines of stdout and stderr interleaved (masked).
    pub tail: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Outcome {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// One line describing how it ended.
    pub fn describe(&self, timeout: Option<Duration>) -> String {
        match (self.timed_out, self.exit_code) {
            (true, _) => format!(
                "timed out after {}s; its process group was killed",
                timeout.map_or(0, |t| t.as_secs())
            ),
            (false, Some(c)) => format!("exited with code {c}"),
            (false, None) => "killed by a signal".into(),
        }
    }
}

/// Run `program` in `cwd` with extra `env`, streaming masked output lines
/// to `events` under `source`. Spawn failures (missing file, not executable) are errors.
pub fn run(
    program: Program<'_>,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Option<Duration>,
    source: &str,
    masker: &Masker,
    events: &dyn Events,
) -> std::io::Result<Outcome> {
    let mut cmd = match program {
        Program::File(p) => Command::new(p),
        Program::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
    };
    cmd.current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pgid = child.id() as libc::pid_t;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let tail = Mutex::new(VecDeque::with_capacity(TAIL_LINES));
    let mut captured = String::new();

    let (status, timed_out) = std::thread::scope(|s| {
        let tail = &tail;
        let pump = move |r: Box<dyn Read + Send>, keep: bool| {
            let mut kept = String::new();
            let mut reader = BufReader::new(r);
            let mut buf = Vec::new();
            // Per stream: a private key printed line by line is masked whole.
            let mut lines = masker.lines();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let raw = String::from_utf8_lossy(&buf);
                let line = lines.mask(raw.trim_end_matches(['\n', '\r']));
                events.event(Event::Output {
                    source,
                    line: &line,
                });
                if keep && kept.len() < STDOUT_LIMIT {
                    kept.push_str(&line);
                    kept.push('\n');
                }
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
            kept
        };
        let out = s.spawn(move || pump(Box::new(stdout), true));
        let err = s.spawn(move || pump(Box::new(stderr), false));
        let deadline = timeout.map(|t| start + t);
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) => {}
                Err(_) => break None,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                kill_group(pgid, libc::SIGTERM);
                let grace = Instant::now() + KILL_GRACE;
                while Instant::now() < grace {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                kill_group(pgid, libc::SIGKILL);
                break child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Whatever the entrypoint left running in its group (a backgrounded
        // grandchild holding our pipes) ends with it.
        kill_group(pgid, libc::SIGKILL);
        captured = out.join().unwrap_or_default();
        let _ = err.join();
        (status, timed_out)
    });
    let tail = tail.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(Outcome {
        exit_code: status.and_then(|s| s.code()).filter(|_| !timed_out),
        timed_out,
        stdout: captured,
        tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
        elapsed: start.elapsed(),
    })
}

fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: killpg only sends a signal; an absent group returns ESRCH.
    unsafe {
        libc::killpg(pgid, signal);
    }
}

/// The last number in `text` (`42`, `-3.5`), for gates and verification.
pub fn last_number(text: &str) -> Option<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<f64>().ok())
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Silent;

    #[test]
    fn streams_masks_and_keeps_a_tail() {
        let mut m = Masker::new();
        m.add("hunter22");
        let o = run(
            Program::Shell("echo one; echo pw=hunter22 >&2; echo 7"),
            Path::new("."),
            &[],
            None,
            "t",
            &m,
            &Silent,
        )
        .unwrap();
        assert!(o.success());
        assert_eq!(o.stdout, "one\n7\n");
        assert!(o.tail.contains("pw=***"));
        assert!(!o.tail.contains("hunter22"));
        assert_eq!(last_number(&o.stdout), Some(7.0));
    }

    #[test]
    fn output_is_scrubbed_of_credentials_nobody_declared() {
        let token = format!("ghp_{}", "Ab1".repeat(12));
        let script = format!(
            "echo token={token}; printf -- '-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIBkgw3CpHqm8Pxz0\\n-----END EC PRIVATE KEY-----\\n'; echo AKIAIOSFODNN7EXAMPLE >&2"
        );
        let o = run(
            Program::Shell(&script),
            Path::new("."),
            &[],
            None,
            "t",
            &Masker::new(),
            &Silent,
        )
        .unwrap();
        assert!(o.success());
        assert_eq!(
            o.stdout,
            "token=***\n-----BEGIN EC PRIVATE KEY-----\n***\n-----END EC PRIVATE KEY-----\n"
        );
        assert!(o.tail.contains("***"), "{}", o.tail);
        assert!(!o.tail.contains("AKIA") && !o.tail.contains("ghp_") && !o.tail.contains("MHcC"));
    }

    #[test]
    fn timeout_kills_the_group() {
        let o = run(
            Program::Shell("sleep 300 & sleep 300"),
            Path::new("."),
            &[],
            Some(Duration::from_millis(200)),
            "t",
            &Masker::new(),
            &Silent,
        )
        .unwrap();
        assert!(o.timed_out);
        assert!(o.elapsed < Duration::from_secs(120));
    }
}
