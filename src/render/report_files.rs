//! `report.json` and `report.md`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use driftsync_core::report::Report;
use driftsync_runner::Masker;

/// Default report folder under the repository root.
pub const DEFAULT_DIR: &str = ".driftsync/reports";

/// Write both reports into `dir` (give the report [`Masker::mask_report`]
/// made; the texts are masked once more); returns their paths.
pub fn write(report: &Report, dir: &Path, masker: &Masker) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create report folder {}", dir.display()))?;
    if dir.ends_with(DEFAULT_DIR) {
        driftsync_engine::backup::keep_out_of_git(dir);
    }
    let json = masker.mask(&serde_json::to_string_pretty(report)?);
    let md = masker.mask(&driftsync_runner::report_md::render(report));
    let (jp, mp) = (dir.join("report.json"), dir.join("report.md"));
    std::fs::write(&jp, json + "\n").with_context(|| format!("cannot write {}", jp.display()))?;
    std::fs::write(&mp, md).with_context(|| format!("cannot write {}", mp.display()))?;
    Ok((jp, mp))
}
