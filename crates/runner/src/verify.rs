//! Verification: a command run after a target, checked by exit code and/or a minimum number.

use driftsync_config::Verification;
use driftsync_core::report::VerificationResult;

use crate::executor::RunContext;
use crate::process::{self, last_number, Program};

/// Run `v` in the repository root under the name `source`.
pub fn verify(v: &Verification, source: &str, ctx: &RunContext<'_>) -> VerificationResult {
    let command = ctx.masker.mask(&v.command);
    let o = match process::run(
        Program::Shell(&v.command),
        ctx.repo_root,
        &[],
        Some(v.timeout),
        source,
        ctx.masker,
        ctx.events,
    ) {
        Ok(o) => o,
        Err(e) => {
            return VerificationResult {
                command,
                passed: false,
                exit_code: None,
                value: None,
                message: format!("cannot run: {e}"),
            }
        }
    };
    let value = last_number(&o.stdout);
    let mut problems = Vec::new();
    if o.timed_out {
        problems.push(o.describe(Some(v.timeout)));
    }
    if let Some(code) = v.expected_exit_code {
        if o.exit_code != Some(code) {
            problems.push(format!(
                "{} (expected exit code {code})",
                o.describe(Some(v.timeout))
            ));
        }
    }
    if let Some(min) = v.expected_min {
        match value {
            None => problems.push(format!("printed no number (expected at least {min})")),
            Some(x) if x < min => problems.push(format!("{x} is below expected_min {min}")),
            Some(_) => {}
        }
    }
    let passed = problems.is_empty();
    VerificationResult {
        command,
        passed,
        exit_code: o.exit_code,
        value,
        message: if passed {
            match value {
                Some(x) if v.expected_min.is_some() => {
                    format!("{x} ≥ {}", v.expected_min.unwrap_or_default())
                }
                _ => "passed".into(),
            }
        } else {
            problems.join("; ")
        },
    }
}
