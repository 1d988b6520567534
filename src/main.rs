//! driftsync: keep a repository in step with the other places its truth lives.

mod after;
mod cli;
mod commands;
mod content_check;
mod env;
mod executors;
mod exit;
mod github;
mod render;
mod replicas;
mod sync_target;
mod workspace;

use clap::Parser;

/// A sync of 100,000 files allocates and frees listings of several megabytes.
/// glibc raises its mmap threshold to the largest block freed so far (up to
/// 32 MB), after which such blocks come from the heap and are not given back
/// when freed; a fixed threshold keeps every large block in its own mapping,
/// returned to the system the moment it is freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> std::process::ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code.into(),
        Err(err) => exit::report_error(&err).into(),
    }
}
