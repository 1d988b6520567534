//! The workspace every command works in: entered once, before any command
//! runs; then its configuration file, repository root and configuration.
//!
//! `-C DIR` is honoured in one place, [`enter`], the way `git -C` does it: the
//! process moves to `DIR`, so every relative path — a command's arguments,
//! `-c FILE`, the search for `.driftsync/sync.yaml` — starts there, and a new
//! command cannot forget it. Paths inside sync.yaml are relative to the
//! repository root ([`root`]), whatever directory the command started in.

use std::path::{Path, PathBuf};

use anyhow::Context;
use driftsync_config::Config;

use crate::cli::Global;

/// Enter the workspace: with `-C DIR`, move the process to `DIR` (relative
/// to the current directory). Called by `main` before any command runs;
/// commands never read `-C` themselves.
pub fn enter(global: &Global) -> anyhow::Result<()> {
    if let Some(dir) = &global.directory {
        let cwd = start_dir()?;
        let d = cwd.join(dir);
        anyhow::ensure!(d.is_dir(), "-C {}: no such directory", d.display());
        std::env::set_current_dir(&d).with_context(|| format!("-C {}", d.display()))?;
    }
    Ok(())
}

/// The directory the command runs in (after [`enter`], `-C DIR`), absolute.
pub fn start_dir() -> anyhow::Result<PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

/// The configuration file and the repository root it belongs to.
pub fn locate(global: &Global) -> anyhow::Result<(PathBuf, PathBuf)> {
    let start = start_dir()?;
    let file = match &global.config {
        Some(f) => {
            let f = start.join(f);
            anyhow::ensure!(f.is_file(), "-c {}: no such file", f.display());
            f
        }
        None => driftsync_config::find_config(&start)?,
    };
    Ok((file.clone(), root_for(Some(&file), &start)))
}

/// The repository root, for commands that work without a configuration file
/// (`bundle`): the root of the configuration file when there is one (`-c
/// FILE`, or `.driftsync/sync.yaml` found upwards), else the git work tree
/// around the current directory, else the current directory.
pub fn root(global: &Global) -> anyhow::Result<PathBuf> {
    match locate(global) {
        Ok((_, root)) => Ok(root),
        Err(e) if global.config.is_some() => Err(e),
        Err(_) => Ok(root_for(None, &start_dir()?)),
    }
}

fn root_for(file: Option<&Path>, start: &Path) -> PathBuf {
    file.and_then(driftsync_config::root_of)
        .or_else(|| driftsync_git::discover_root(start))
        .unwrap_or_else(|| start.to_path_buf())
}

/// Load and validate the configuration (`${VAR}` from the process
/// environment); every `${VAR}` must be set.
pub fn load(global: &Global) -> anyhow::Result<Config> {
    let cfg = load_unset_allowed(global)?;
    cfg.require_env(&cfg.targets)?;
    Ok(cfg)
}

/// [`load`], where `${VAR}`s that are not set are only recorded
/// (`Config::unset`): for commands that read the file without running what
/// needs them (`list`, `config validate`), and for `run`/`check`, which
/// require the variables of the targets they select.
pub fn load_unset_allowed(global: &Global) -> anyhow::Result<Config> {
    let (file, root) = locate(global)?;
    let bytes = std::fs::read(&file).map_err(|source| driftsync_config::ConfigError::Read {
        path: file.clone(),
        source,
    })?;
    let text = driftsync_config::decode(bytes, &display_path(&file))?;
    let env = |name: &str| std::env::var(name).ok();
    let mut cfg = driftsync_config::parse_unset_allowed(&text, &display_path(&file), &root, &env)?;
    cfg.file = file;
    Ok(cfg)
}

/// `file` relative to the current directory when it is under it, else absolute (for messages).
fn display_path(file: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| file.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| file.to_path_buf())
}
