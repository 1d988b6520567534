//! `driftsync hook install`: a git pre-commit hook that refuses a commit on drift.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use crate::cli::Global;
use crate::exit::Exit;

/// Marks a hook as ours, so reinstalling may replace it.
const MARKER: &str = "# driftsync pre-commit hook";

/// Git hooks.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync hook install\n  driftsync hook install -- check --target docs"
)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Write .git/hooks/pre-commit running `driftsync ARGS` (default: `schema check`).
    ///
    /// The commit is refused when that exits non-zero; `git commit --no-verify`
    /// skips the hook, as for any git hook.
    #[command(
        after_help = "Examples:\n  driftsync hook install                  # runs `driftsync schema check`\n  driftsync hook install -- check --target docs\n  driftsync hook install --force -- schema check --fail-on high"
    )]
    Install {
        /// Replace an existing pre-commit hook that driftsync did not write.
        #[arg(long)]
        force: bool,
        /// The driftsync arguments the hook runs, after `--`.
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The hook script.
pub fn script(exe: &str, args: &[String]) -> String {
    let args: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    format!(
        "#!/bin/sh\n{MARKER} (installed by `driftsync hook install`).\n\
         # Refuses the commit when driftsync reports drift; `git commit --no-verify` skips it.\n\
         DRIFTSYNC={}\n\
         [ -x \"$DRIFTSYNC\" ] || DRIFTSYNC=driftsync\n\
         exec \"$DRIFTSYNC\" {}\n",
        shell_quote(exe),
        args.join(" ")
    )
}

fn hooks_dir() -> anyhow::Result<PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .context("running git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "not inside a git repository: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Run a `hook` command.
pub fn run(_global: &Global, args: HookArgs) -> anyhow::Result<Exit> {
    match args.action {
        HookAction::Install { force, args } => {
            let args = if args.is_empty() {
                vec!["schema".to_string(), "check".to_string()]
            } else {
                args
            };
            let dir = hooks_dir()?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join("pre-commit");
            if let Ok(existing) = std::fs::read_to_string(&path) {
                if !existing.contains(MARKER) && !force {
                    bail!(
                        "{} exists and was not written by driftsync: pass --force to replace it",
                        path.display()
                    );
                }
            }
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| p.canonicalize().ok())
                .map_or_else(|| "driftsync".to_string(), |p| p.display().to_string());
            std::fs::write(&path, script(&exe, &args))
                .with_context(|| format!("writing {}", path.display()))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
            println!(
                "installed {} (runs `driftsync {}`)",
                path.display(),
                args.join(" ")
            );
            Ok(Exit::Ok)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_its_arguments() {
        let s = script(
            "/opt/drift sync",
            &["schema".into(), "check".into(), "it's".into()],
        );
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(MARKER));
        assert!(s.contains("DRIFTSYNC='/opt/drift sync'"));
        assert!(s.contains("exec \"$DRIFTSYNC\" 'schema' 'check' 'it'\\''s'"));
    }
}
