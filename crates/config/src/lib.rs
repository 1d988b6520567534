//! driftsync's configuration, `.driftsync/sync.yaml`.
//!
//! Parsed in two steps ("raw then resolved"): serde reads the file into the
//! plain structs of [`raw`], rejecting unknown keys and wrong types with
//! serde_yaml's positions; then [`resolve`] validates every value (cron, globs,
//! durations, entrypoints, `${VAR}`) into the types of [`model`], placing each
//! error with the positions kept by [`locate`].
#![deny(missing_docs)]

pub mod cron;
pub mod duration;
pub mod error;
pub mod glob;
pub mod interp;
pub mod kinds;
pub mod locate;
pub mod model;
pub mod raw;
pub mod resolve;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, Diagnostic};
pub use glob::GlobList;
pub use model::*;

/// The configuration file's place inside a repository.
pub const CONFIG_PATH: &str = ".driftsync/sync.yaml";

/// Walk up from `start` to the first directory holding `.driftsync/sync.yaml`;
/// returns that file.
pub fn find_config(start: &Path) -> Result<PathBuf, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_PATH);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(ConfigError::NotFound {
        start: start.to_path_buf(),
    })
}

/// The repository root for a configuration file: the directory holding
/// `.driftsync/` when the file is inside one, else `None` (the caller decides,
/// e.g. the git root or the current directory).
pub fn root_of(file: &Path) -> Option<PathBuf> {
    let parent = file.parent()?;
    (parent.file_name()? == ".driftsync").then(|| parent.parent().map(Path::to_path_buf))?
}

/// Read and validate `file`; paths in it are relative to `root`; `env` resolves `${VAR}`.
pub fn load(
    file: &Path,
    root: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    parse(&text, file, root, env)
}

/// Validate configuration `text` read from `file`.
pub fn parse(
    text: &str,
    file: &Path,
    root: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let diag = |line: usize, column: usize, message: String, help: Option<String>| {
        ConfigError::Invalid(vec![Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message,
            help,
        }])
    };
    if text.trim().is_empty() {
        return Err(diag(
            1,
            1,
            "the configuration file is empty".into(),
            Some("start with `version: \"1.0\"` and a `targets:` map".into()),
        ));
    }
    let raw: raw::RawConfig = match serde_yaml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let (message, help) = explain_serde(&e.to_string());
            return Err(diag(line, column, message, help));
        }
    };
    let positions = locate::Positions::parse(text);
    let mut ctx = resolve::Ctx::new(file, root, &positions, env);
    let resolved = resolve::resolve(raw, &mut ctx);
    match resolved {
        Some((version, defaults, targets, safety)) if ctx.errors.is_empty() => Ok(Config {
            file: file.to_path_buf(),
            root: root.to_path_buf(),
            version,
            defaults,
            targets,
            safety,
            interpolated: resolve::env_reads(std::mem::take(&mut ctx.reads)),
        }),
        _ => {
            let mut errors = std::mem::take(&mut ctx.errors);
            errors.sort_by_key(|d| (d.line, d.column));
            Err(ConfigError::Invalid(errors))
        }
    }
}

/// Turn a serde_yaml message into (message without its position, what to write instead).
fn explain_serde(msg: &str) -> (String, Option<String>) {
    // serde_yaml appends (or embeds) ` at line N column M`; we print the position ourselves.
    let msg = match msg.find(" at line ") {
        Some(i) => {
            let rest = &msg[i + " at line ".len()..];
            let after = rest
                .find(" column ")
                .map(|j| &rest[j + " column ".len()..])
                .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
                .unwrap_or("");
            format!("{}{}", &msg[..i], after)
        }
        None => msg.to_string(),
    };
    // serde_yaml prefixes the key path: `targets.a: unknown field …`.
    let body = match msg.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => rest,
        _ => msg.as_str(),
    };
    if let Some(rest) = body.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let help = match error::closest(field, expected.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None if !expected.is_empty() => {
                format!("remove it; valid keys here: {}", expected.join(", "))
            }
            None => "remove it".into(),
        };
        return (msg, Some(help));
    }
    if body.contains("invalid type") {
        let help = if body.contains("expected a string") {
            "quote the value: `key: \"…\"`"
        } else if body.contains("expected a sequence") {
            "write a list: `[a, b]` or one `- item` per line"
        } else if body.contains("expected a boolean") {
            "write `true` or `false`"
        } else if body.contains("map") || body.contains("struct") {
            "write a mapping of `key: value` lines, indented under this key"
        } else {
            "see `driftsync config schema` for the expected type"
        };
        return (msg, Some(help.into()));
    }
    if body.starts_with("missing field") {
        return (msg, Some("add the field".into()));
    }
    (
        msg,
        Some("fix the YAML syntax (indentation, quotes, `key: value`)".into()),
    )
}

/// The JSON Schema of the configuration file, generated from [`raw`].
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(raw::RawConfig);
    serde_json::to_value(&schema).unwrap_or_default()
}
