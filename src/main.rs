//! driftsync: keep a repository in step with the other places its truth lives.

mod after;
mod cli;
mod commands;
mod content_check;
mod env;
mod exit;
mod github;
mod notify;
mod render;
mod replicas;
mod targets;
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

/// A reader that goes away (`driftsync sync … | head -1`) ends the process
/// quietly with the shell's code for it (128 + SIGPIPE), wherever a
/// command still prints with `println!` (the run's own output goes through
/// `render::stdout`, which stops writing and carries on instead). Every
/// other panic is reported as usual.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    quiet_on_closed_stdout();
    let cli = cli::Cli::parse();
    match workspace::enter(&cli.global).and_then(|()| commands::dispatch(cli)) {
        Ok(code) => code.into(),
        Err(err) => exit::report_error(&err).into(),
    }
}
