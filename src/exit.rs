//! The exit status, decided here for every command: 0 in sync, 1 drift or
//! failure, 2 usage, configuration or environment.
//!
//! Commands return what happened — [`Exit`] for an outcome, or a typed
//! error — and this module alone turns a failure into a code, so the same
//! failure gives the same code under `run`, `check`, `sync`, `bundle` and
//! the rest. The contract (README, "Exit codes"): 1 when the work ran and
//! found or left something wrong in the data (drift, conflicts, a failed
//! action, target, gate or verification, an edit it refused to overwrite);
//! 2 when driftsync could not do the work as asked (command line,
//! sync.yaml, an unset variable, an input file it cannot read, a side it
//! cannot reach or scan, another run holding the lock or lease).

use std::process::ExitCode;

use driftsync_bundle::BundleError;
use driftsync_core::report::Report;
use driftsync_engine::EngineError;

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

    /// The status a finished report stands for (`run`, `check`, `report
    /// merge`, `publish`): its `exit_code`, and drift even when that says 0.
    pub fn of_report(report: &Report) -> Exit {
        match report.exit_code {
            0 if !report.has_drift() => Exit::Ok,
            0 | 1 => Exit::Drift,
            _ => Exit::Usage,
        }
    }

    /// The status of a failed sync: the engine returns an error only when
    /// the sync could not run — a side that cannot be scanned, the lock or
    /// the lease held, an unreadable base or journal — so always 2; actions
    /// that fail are outcomes (exit 1), not errors.
    pub fn of_engine(_: &EngineError) -> Exit {
        Exit::Usage
    }

    /// The status of a bundle error: an edit or a version the store refuses
    /// to overwrite is 1; anything else (an unreachable database, a
    /// bundle.yaml that does not parse, no such bundle or version) is 2.
    pub fn of_bundle(e: &BundleError) -> Exit {
        match e {
            BundleError::VersionExists { .. }
            | BundleError::LocalChanges { .. }
            | BundleError::Unsafe(_) => Exit::Drift,
            _ => Exit::Usage,
        }
    }

    /// The status of an error that ends a command: the first typed cause
    /// that decides; anything else is a usage, configuration or environment
    /// problem.
    pub fn of_error(err: &anyhow::Error) -> Exit {
        err.chain()
            .find_map(|cause| {
                if cause.is::<Failed>() {
                    Some(Exit::Drift)
                } else if let Some(e) = cause.downcast_ref::<EngineError>() {
                    Some(Exit::of_engine(e))
                } else {
                    cause.downcast_ref::<BundleError>().map(Exit::of_bundle)
                }
            })
            .unwrap_or(Exit::Usage)
    }
}

/// An error that should end the process with exit 1 rather than 2 (a failure
/// of the work itself, not of its setup).
#[derive(Debug)]
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
    let masker = crate::env::masker();
    let _ = std::io::Write::write_all(&mut std::io::stderr(), masker.mask(&text).as_bytes());
    Exit::of_error(err)
}
