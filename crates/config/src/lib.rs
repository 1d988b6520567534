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
pub mod nesting;
pub mod notify;
pub mod raw;
pub mod resolve;
pub mod sync_spec;
pub mod unknown;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, Diagnostic};
pub use glob::GlobList;
pub use model::*;
pub use sync_spec::SyncSpec;

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
    let bytes = std::fs::read(file).map_err(|source| ConfigError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let text = decode(bytes, file)?;
    parse(&text, file, root, env)
}

/// The bytes of a configuration file as text. A UTF-8 byte order mark is
/// dropped; bytes that are not UTF-8 are an error at the line and column of
/// the first bad byte (`file` names the file in it).
pub fn decode(bytes: Vec<u8>, file: &Path) -> Result<String, ConfigError> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let bom = if bytes.starts_with(b"\xef\xbb\xbf") {
                3
            } else {
                0
            };
            // The prefix is valid UTF-8 by definition of `valid_up_to`.
            let before = std::str::from_utf8(&bytes[bom.min(at)..at]).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            Err(ConfigError::Invalid(vec![Diagnostic {
                file: file.to_path_buf(),
                line,
                column,
                message: format!(
                    "the file is not UTF-8 text: byte 0x{:02X} here is not valid UTF-8",
                    bytes[at]
                ),
                help: Some(
                    "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`), then run again"
                        .into(),
                ),
            }]))
        }
    }
}

/// Validate configuration `text` read from `file`; every `${VAR}` must be set.
pub fn parse(
    text: &str,
    file: &Path,
    root: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let config = parse_unset_allowed(text, file, root, env)?;
    config.require_env(&config.targets)?;
    Ok(config)
}

/// [`parse`], where a `${VAR}` that is not set is recorded in
/// [`Config::unset`] instead of failing (unless a value needing it could not
/// be checked without it).
pub fn parse_unset_allowed(
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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(diag(
            1,
            1,
            "the configuration file is empty".into(),
            Some("start with `version: \"1.0\"` and a `targets:` map".into()),
        ));
    }
    let positions = locate::Positions::parse(text);
    if !positions.duplicates().is_empty() {
        let errors = positions
            .duplicates()
            .iter()
            .map(|d| duplicate_diagnostic(d, file))
            .collect();
        return Err(ConfigError::Invalid(errors));
    }
    // Unknown keys are all reported, with whatever else is wrong in the rest
    // of the file (serde alone would stop at the first).
    let mut unknown = Vec::new();
    let mut raw: raw::RawConfig = match serde_yaml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let (message, help) = explain_serde(&e.to_string());
            let first = Diagnostic {
                file: file.to_path_buf(),
                line,
                column,
                message,
                help,
            };
            let Some(mut doc) = serde_yaml::from_str::<serde_yaml::Value>(text).ok() else {
                return Err(ConfigError::Invalid(vec![first]));
            };
            let keys = unknown::unknown_keys(&doc, &json_schema());
            unknown = keys
                .iter()
                .map(|u| unknown_diagnostic(u, &positions, file))
                .collect();
            unknown::strip(&mut doc, &keys);
            match serde_yaml::from_value::<raw::RawConfig>(doc) {
                Ok(r) if !keys.is_empty() => r,
                _ => {
                    // Something else is wrong too (a value of the wrong type):
                    // its position is known only while unknown keys precede it.
                    if !unknown.iter().any(|d| (d.line, d.column) == (line, column)) {
                        unknown.push(first);
                    }
                    unknown.sort_by_key(|d| (d.line, d.column));
                    return Err(ConfigError::Invalid(unknown));
                }
            }
        }
    };
    let raw_notify = raw.notify.take();
    let mut ctx = resolve::Ctx::new(file, root, &positions, env);
    let resolved = resolve::resolve(raw, &mut ctx);
    let notify = notify::resolve(raw_notify.as_deref().unwrap_or_default(), &mut ctx);
    // A target's key that is no key at all is also one its type does not
    // take: the resolver says so with that type's keys, once.
    for d in unknown {
        if !ctx
            .errors
            .iter()
            .any(|e| (e.line, e.column) == (d.line, d.column))
        {
            ctx.errors.push(d);
        }
    }
    // A value that could not be checked because its variable is unset makes
    // the variable an error now, not a note for later.
    let unchecked = ctx.errors.iter().any(|e| {
        ctx.unset
            .iter()
            .any(|u| (u.diagnostic.line, u.diagnostic.column) == (e.line, e.column))
    });
    if unchecked {
        ctx.errors.extend(ctx.unset.drain(..).map(|u| u.diagnostic));
    }
    match resolved {
        Some((version, defaults, targets, safety)) if ctx.errors.is_empty() => Ok(Config {
            file: file.to_path_buf(),
            root: root.to_path_buf(),
            version,
            defaults,
            targets,
            safety,
            interpolated: resolve::env_reads(std::mem::take(&mut ctx.reads)),
            unset: std::mem::take(&mut ctx.unset),
            notify,
        }),
        _ => {
            let mut errors = std::mem::take(&mut ctx.errors);
            errors.extend(ctx.unset.drain(..).map(|u| u.diagnostic));
            errors.sort_by_key(|d| (d.line, d.column));
            errors.dedup_by_key(|d| (d.line, d.column, d.message.clone()));
            Err(ConfigError::Invalid(errors))
        }
    }
}

/// A key the schema does not know, at its position, with the closest valid
/// key or the list of valid ones.
fn unknown_diagnostic(
    u: &unknown::UnknownKey,
    positions: &locate::Positions,
    file: &Path,
) -> Diagnostic {
    let mut at: Vec<&str> = u.path.iter().map(String::as_str).collect();
    at.push(&u.key);
    let pos = positions.key(&at);
    let place = if u.path.is_empty() {
        String::new()
    } else {
        format!("{}: ", u.path.join("."))
    };
    let help = match error::closest(&u.key, u.valid.iter().map(String::as_str)) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("remove it; valid keys here: {}", u.valid.join(", ")),
    };
    Diagnostic {
        file: file.to_path_buf(),
        line: pos.line,
        column: pos.column,
        message: format!("{place}unknown field `{}`", u.key),
        help: Some(help),
    }
}

/// A key written twice: an error at the second, naming the first (serde
/// would keep the last one and drop the other without a word).
fn duplicate_diagnostic(d: &locate::Duplicate, file: &Path) -> Diagnostic {
    let first = format!("{}:{}:{}", file.display(), d.first.line, d.first.column);
    let (message, help) = if d.path.len() == 1 && d.path[0] == "targets" {
        (
            format!("target `{}` is defined twice (first at {first})", d.key),
            "rename one of them, or merge the two into one target".to_string(),
        )
    } else {
        let place = if d.path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{}`", d.path.join("."))
        };
        (
            format!("`{}` is written twice {place} (first at {first})", d.key),
            "keep one of them".to_string(),
        )
    };
    Diagnostic {
        file: file.to_path_buf(),
        line: d.again.line,
        column: d.again.column,
        message,
        help: Some(help),
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
