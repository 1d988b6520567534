//! Finding the repository root and loading its configuration.

use std::path::{Path, PathBuf};

use anyhow::Context;
use driftsync_config::Config;

use crate::cli::Global;

/// The directory commands start from: `-C DIR` or the current directory.
pub fn start_dir(global: &Global) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(match &global.directory {
        Some(d) => {
            let d = cwd.join(d);
            anyhow::ensure!(d.is_dir(), "-C {}: no such directory", d.display());
            d
        }
        None => cwd,
    })
}

/// The configuration file and the repository root it belongs to.
pub fn locate(global: &Global) -> anyhow::Result<(PathBuf, PathBuf)> {
    let start = start_dir(global)?;
    let file = match &global.config {
        Some(f) => {
            let f = start.join(f);
            anyhow::ensure!(f.is_file(), "-c {}: no such file", f.display());
            f
        }
        None => driftsync_config::find_config(&start)?,
    };
    let root = driftsync_config::root_of(&file)
        .or_else(|| driftsync_git::discover_root(&start))
        .unwrap_or(start);
    Ok((file, root))
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
