//! `type: command`: an entrypoint script that pulls or pushes by itself.

use std::collections::BTreeMap;

use super::KindSpec;
use crate::model::{CommandTarget, Entrypoint, TargetKind};
use crate::raw::RawTarget;
use crate::resolve::Ctx;

/// The `command` type.
pub const SPEC: KindSpec = KindSpec {
    name: "command",
    fields: &["entrypoint", "run", "env", "config", "dry_run"],
    resolve,
};

fn valid_env_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with(|c: char| c.is_ascii_digit())
}

fn resolve(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind> {
    let errors_before = ctx.errors.len();
    let base = ["targets", name];
    let entrypoint = match (&raw.entrypoint, &raw.run) {
        (Some(_), Some(_)) => {
            ctx.error_key(
                &["targets", name, "run"],
                "a command target has `entrypoint` or `run`, not both",
                Some("keep `entrypoint: scripts/x.sh` for a script, or `run: <shell line>`".into()),
            );
            None
        }
        (None, None) => {
            ctx.error_key(&base, format!("command target `{name}` has no `entrypoint`"), Some("add `entrypoint: scripts/<name>.sh` (an executable relative to the repository root) or `run: <shell line>`".into()));
            None
        }
        (None, Some(run)) => Some(Entrypoint::Shell(run.clone())),
        (Some(ep), None) => {
            let at = ["targets", name, "entrypoint"];
            let ep = ctx.interpolate(&at, ep)?;
            let rel = ctx.rel_path(&at, &ep)?;
            let file = ctx.root.join(rel.as_str());
            match std::fs::metadata(&file) {
                Err(_) => {
                    ctx.error_value(&at, format!("entrypoint `{rel}` does not exist (looked in {})", ctx.root.display()), Some("create the script, fix the path (relative to the repository root), or use `run: <shell line>`".into()));
                }
                Ok(m) if !m.is_file() => {
                    ctx.error_value(
                        &at,
                        format!("entrypoint `{rel}` is not a file"),
                        Some("point `entrypoint` at an executable file".into()),
                    );
                }
                Ok(m) => {
                    use std::os::unix::fs::PermissionsExt;
                    if m.permissions().mode() & 0o111 == 0 {
                        ctx.error_value(&at, format!("entrypoint `{rel}` is not executable"), Some(format!("run `chmod +x {rel}` (and commit the mode), or use `run: sh {rel}`")));
                    }
                }
            }
            Some(Entrypoint::Script(rel))
        }
    };
    let mut env = BTreeMap::new();
    for (k, v) in raw.env.iter().flatten() {
        let at = ["targets", name, "env", k.as_str()];
        if !valid_env_name(k) {
            ctx.error_key(
                &at,
                format!("`{k}` is not an environment variable name"),
                Some("use letters, digits and `_`, not starting with a digit".into()),
            );
        } else if k.starts_with("DRIFTSYNC_") {
            ctx.error_key(
                &at,
                format!("`{k}` is set by driftsync itself"),
                Some("choose a name that does not start with DRIFTSYNC_".into()),
            );
        }
        if let Some(v) = ctx.interpolate(&at, v) {
            env.insert(k.clone(), v);
        }
    }
    let config = match &raw.config {
        Some(c) => ctx.interpolate_json(&["targets", name, "config"], c),
        None => serde_json::Value::Null,
    };
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(TargetKind::Command(CommandTarget {
        entrypoint: entrypoint?,
        env,
        config,
        dry_run: raw.dry_run.unwrap_or(false),
    }))
}
