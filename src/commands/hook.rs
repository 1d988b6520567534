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
    /// Write .git/hooks/pre-commit running `driftsync ARGS` (default: `schema
    /// check --target NAME` for each `type: schema` target of sync.yaml, else
    /// `schema check`).
    ///
    /// The hook only checks: it never syncs, pushes or writes a remote. It
    /// names the targets sync.yaml has at install time: install it again
    /// after adding or renaming a schema target. The commit is refused when that exits non-zero; `git commit --no-verify`
    /// skips the hook, as for any git hook.
    #[command(
        after_help = "Examples:\n  driftsync hook install                  # `schema check --target T` per schema target\n  driftsync hook install -- check --target docs\n  driftsync hook install --force -- schema check --fail-on high"
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

/// The hook script: runs each driftsync command line in turn (all of them,
/// so every drift is named) and refuses the commit when any fails.
pub fn script(exe: &str, commands: &[Vec<String>]) -> String {
    let line = |args: &Vec<String>| {
        let args: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
        format!("\"$DRIFTSYNC\" {}", args.join(" "))
    };
    let body = match commands {
        [one] => format!("exec {}\n", line(one)),
        _ => {
            let runs: Vec<String> = commands
                .iter()
                .map(|c| format!("{} || status=1\n", line(c)))
                .collect();
            format!("status=0\n{}exit $status\n", runs.concat())
        }
    };
    format!(
        "#!/bin/sh\n{MARKER} (installed by `driftsync hook install`).\n\
         # Refuses the commit when driftsync reports drift; `git commit --no-verify` skips it.\n\
         DRIFTSYNC={}\n\
         [ -x \"$DRIFTSYNC\" ] || DRIFTSYNC=driftsync\n\
         {body}",
        shell_quote(exe),
    )
}

/// What the hook runs without `-- ARGS`: `schema check --target NAME` for
/// each `type: schema` target of sync.yaml (read-only and local: no sync,
/// push or command target runs before a commit), else `schema check`. With
/// `-c FILE`, each line names that file.
fn configured(global: &Global) -> anyhow::Result<Vec<Vec<String>>> {
    let config = super::target_of::config(global, None)?;
    let names: Vec<String> = config
        .as_ref()
        .map(|c| super::target_of::all_of(c, super::target_of::Kind::Schema))
        .unwrap_or_default()
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let file: Vec<String> = match (&global.config, &config) {
        (Some(_), Some(c)) => vec!["-c".into(), c.file.display().to_string()],
        _ => Vec::new(),
    };
    let check = |rest: &[&str]| -> Vec<String> {
        let mut line = file.clone();
        line.extend(
            ["schema", "check"]
                .iter()
                .chain(rest)
                .map(|s| s.to_string()),
        );
        line
    };
    if names.is_empty() {
        return Ok(vec![check(&[])]);
    }
    Ok(names.iter().map(|n| check(&["--target", n])).collect())
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
pub fn run(global: &Global, args: HookArgs) -> anyhow::Result<Exit> {
    match args.action {
        HookAction::Install { force, args } => {
            let commands = if args.is_empty() {
                configured(global)?
            } else {
                vec![args]
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
            std::fs::write(&path, script(&exe, &commands))
                .with_context(|| format!("writing {}", path.display()))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
            let runs: Vec<String> = commands
                .iter()
                .map(|c| format!("`driftsync {}`", c.join(" ")))
                .collect();
            println!("installed {} (runs {})", path.display(), runs.join(", "));
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
            &[vec!["schema".into(), "check".into(), "it's".into()]],
        );
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(MARKER));
        assert!(s.contains("DRIFTSYNC='/opt/drift sync'"));
        assert!(s.contains("exec \"$DRIFTSYNC\" 'schema' 'check' 'it'\\''s'"));
    }

    #[test]
    fn script_runs_every_command_and_fails_when_any_does() {
        let line = |t: &str| {
            vec![
                "schema".to_string(),
                "check".into(),
                "--target".into(),
                t.into(),
            ]
        };
        let s = script("driftsync", &[line("a"), line("b")]);
        assert!(!s.contains("exec"), "{s}");
        assert!(
            s.contains("\"$DRIFTSYNC\" 'schema' 'check' '--target' 'a' || status=1\n"),
            "{s}"
        );
        assert!(
            s.contains("'--target' 'b' || status=1\nexit $status\n"),
            "{s}"
        );
    }
}
