//! Choosing targets: name globs, direction, the schedule that fired.

use driftsync_config::{Config, Direction, Target};

/// Which targets to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Name globs (`oca_*`); empty selects all.
    pub targets: Vec<String>,
    /// Only this direction.
    pub direction: Option<Direction>,
    /// Only targets whose `schedule` is this cron expression (whitespace-insensitive).
    pub schedule: Option<String>,
}

/// Why a selection is invalid.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// A `--target` glob does not parse.
    #[error("--target `{0}` is not a valid glob: {1}")]
    BadGlob(String, String),
    /// A `--target` glob names no target.
    #[error("--target `{0}` matches no target (targets: {1})")]
    NoMatch(String, String),
}

/// The selected targets, in file order.
pub fn select<'c>(config: &'c Config, sel: &Selection) -> Result<Vec<&'c Target>, SelectError> {
    let mut globs = Vec::new();
    for g in &sel.targets {
        let m = globset::Glob::new(g)
            .map_err(|e| SelectError::BadGlob(g.clone(), e.kind().to_string()))?
            .compile_matcher();
        if !config.targets.iter().any(|t| selects(&m, t)) {
            let names: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
            return Err(SelectError::NoMatch(g.clone(), names.join(", ")));
        }
        globs.push(m);
    }
    Ok(config
        .targets
        .iter()
        .filter(|t| globs.is_empty() || globs.iter().any(|g| selects(g, t)))
        .filter(|t| sel.direction.is_none_or(|d| t.direction == d))
        .filter(|t| match &sel.schedule {
            None => true,
            Some(s) => t.schedule.as_ref().is_some_and(|c| c.matches_text(s)),
        })
        .collect())
}

/// Does a `--target` glob pick `t`, by its name or by the target it was
/// split from (`site` picks `site.templates` and `site.custom_templates`)?
fn selects(glob: &globset::GlobMatcher, t: &Target) -> bool {
    glob.is_match(&t.name) || t.group.as_deref().is_some_and(|g| glob.is_match(g))
}

/// The cron that fired a scheduled GitHub Actions run: `.schedule` of the event payload.
pub fn schedule_from_event(payload: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    v.get("schedule")?.as_str().map(str::to_string)
}
