//! Shared test harness: real services on loopback, started and removed by the test.
//!
//! Nothing here skips: a missing prerequisite panics with a message that says
//! how to get it (`bash .ci/run` installs everything).
#![deny(missing_docs)]

pub mod github;
mod pg;
pub mod python;
pub mod s3;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

pub use pg::{PgCluster, Session};

/// What a finished program printed: its stdout, then its stderr.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server a test
/// starts (PostgreSQL, moto) or for an address where nothing listens.
///
/// Chosen below the kernel's ephemeral range (`ip_local_port_range`), so
/// the port cannot be handed to another socket's `bind(0)` or to an
/// outgoing connection between now and the moment the server binds it;
/// ports are taken in turn from a start that differs per process, and one
/// that does not bind now is passed over.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u32, ephemeral_low.clamp(10_001, 65_535));
    let span = high - low;
    let start = (std::process::id().wrapping_mul(7919)) % span;
    for _ in 0..span.min(5_000) {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (low + (start + n) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// A pid no process can have: one above the kernel's `pid_max` (never
/// handed out, so never recycled while a test runs).
pub fn dead_pid() -> u32 {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .expect("/proc/sys/kernel/pid_max (Linux)")
        .trim()
        .parse()
        .expect("pid_max is a number");
    max + 1
}

/// `cmd` with a fixed git identity, no user or system git configuration and
/// outside CI (no `CI`, `GITHUB_ACTIONS`): for `git` and for programs that run it.
pub fn isolated(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
}

/// Run `git` in `dir` with a fixed identity and no user/system config; panic
/// with its stderr on failure. Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = isolated(Command::new("git").args(args).current_dir(dir))
        .output()
        .unwrap_or_else(|e| panic!("git is required for this test (apt-get install git): {e}"));
    assert!(
        out.status.success(),
        "git {args:?} failed in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new temporary git repository with one initial commit on `main`.
pub fn temp_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create temp dir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Test"]);
    git(dir.path(), &["config", "user.email", "test@example.com"]);
    std::fs::write(dir.path().join("README.md"), "test repository\n").unwrap();
    git(dir.path(), &["add", "README.md"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

/// A bare repository `origin.git` under `dir` whose default branch is
/// `main`, and its `file://` URL: a remote to push to and fetch from.
pub fn bare_repo(dir: &Path) -> (std::path::PathBuf, String) {
    let origin = dir.join("origin.git");
    git(
        dir,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            origin.to_str().expect("UTF-8 path"),
        ],
    );
    let url = format!("file://{}", origin.display());
    (origin, url)
}
