//! Which target of sync.yaml a subcommand works on (`schema`, `bundle`,
//! `space`, `restore`, `hook install`): the one place that decides it.
//!
//! With `--target NAME`, that target, which must be of the command's kind;
//! without, the only target of that kind when there is exactly one; with
//! none, no target (the command keeps its flag, environment and built-in
//! defaults); with several, an error asking for `--target` and listing them.
//! The command then takes each setting from the target unless a flag gives it.

use anyhow::bail;
use driftsync_config::{Config, Target, TargetKind};

use crate::cli::Global;

/// A kind of target a subcommand can work on.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `type: schema` (`schema check|diff|update|report`, `hook install`).
    Schema,
    /// `type: bundle` (`bundle …`).
    Bundle,
    /// `type: sync` (`restore`).
    Sync,
    /// `type: sync` whose remote is a database table (`space …`).
    Space,
}

impl Kind {
    /// How messages name a target of this kind.
    fn what(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Bundle => "bundle",
            Kind::Sync => "sync",
            Kind::Space => "sync (with a sqlite:// or postgres:// remote)",
        }
    }

    fn matches(self, t: &Target) -> bool {
        match (self, &t.kind) {
            (Kind::Schema, TargetKind::Schema(_))
            | (Kind::Bundle, TargetKind::Bundle(_))
            | (Kind::Sync, TargetKind::Sync(_)) => true,
            (Kind::Space, TargetKind::Sync(s)) => is_database_url(&s.remote),
            _ => false,
        }
    }
}

/// True for the database URLs a document space lives in.
pub fn is_database_url(url: &str) -> bool {
    driftsync_core::Location::parse(url).is_ok_and(|l| l.is_database())
}

/// The configuration, when there is one: `None` when no `.driftsync/sync.yaml`
/// is found (and no `-c FILE` or `--target` asks for one). `${VAR}`s need only
/// be set for the target that is used ([`pick`] checks them).
pub fn config(global: &Global, name: Option<&str>) -> anyhow::Result<Option<Config>> {
    if global.config.is_none() && name.is_none() && crate::workspace::locate(global).is_err() {
        return Ok(None);
    }
    match crate::workspace::load_unset_allowed(global) {
        Ok(c) => Ok(Some(c)),
        Err(e) => match name {
            Some(name) => Err(e.context(format!("--target {name} needs the configuration"))),
            None => Err(e),
        },
    }
}

/// The target of `kind` the command works on (see the module comment);
/// `None` without a configuration, or when it has no target of that kind
/// and no `--target` was given.
pub fn pick<'c>(
    config: Option<&'c Config>,
    kind: Kind,
    name: Option<&str>,
) -> anyhow::Result<Option<&'c Target>> {
    let Some(config) = config else {
        return Ok(None);
    };
    let candidates = all_of(config, kind);
    let names = || {
        if candidates.is_empty() {
            format!("it has no {} target", kind.what())
        } else {
            let list: Vec<&str> = candidates.iter().map(|t| t.name.as_str()).collect();
            format!("{} targets: {}", kind.what(), list.join(", "))
        }
    };
    let file = config.file.display();
    let target = match name {
        Some(name) => match config.target(name) {
            None => bail!("no target `{name}` in {file} ({})", names()),
            Some(t) if !kind.matches(t) => bail!(
                "target `{name}` in {file} is of type {}, not {} ({})",
                t.kind.type_name(),
                kind.what(),
                names()
            ),
            Some(t) => t,
        },
        None => match candidates.as_slice() {
            [] => return Ok(None),
            [only] => only,
            _ => {
                return Err(Ambiguous(format!(
                    "{file} has {} {} targets: pass --target NAME to choose one ({})",
                    candidates.len(),
                    kind.what(),
                    names()
                ))
                .into())
            }
        },
    };
    config.require_env([target])?;
    Ok(Some(target))
}

/// Several targets of the kind and no `--target` (a usage error, exit 2; a
/// command with another source of truth may fall back to it instead).
#[derive(Debug)]
pub struct Ambiguous(String);

impl std::fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Ambiguous {}

/// The targets of `kind` in `config`, in file order.
pub fn all_of(config: &Config, kind: Kind) -> Vec<&Target> {
    config.targets.iter().filter(|t| kind.matches(t)).collect()
}

/// A configuration and the target of it a command works on.
pub struct Chosen {
    /// The configuration.
    pub config: Config,
    index: usize,
}

impl Chosen {
    /// The target.
    pub fn target(&self) -> &Target {
        &self.config.targets[self.index]
    }
}

/// [`config`] and [`pick`] in one: the target the command works on, with
/// its configuration (for the repository root), or `None`.
pub fn choose(global: &Global, kind: Kind, name: Option<&str>) -> anyhow::Result<Option<Chosen>> {
    let config = config(global, name)?;
    let Some(index) = pick(config.as_ref(), kind, name)?.and_then(|t| {
        config
            .as_ref()?
            .targets
            .iter()
            .position(|c| std::ptr::eq(c, t))
    }) else {
        return Ok(None);
    };
    Ok(config.map(|config| Chosen { config, index }))
}

/// `schema …`: the command line's settings over those of the schema target
/// (the chosen one), over `$DATABASE_URL` and `schemas`.
pub fn schema_source(
    global: &Global,
    args: super::schema::SourceArgs,
) -> anyhow::Result<super::schema::Source> {
    use driftsync_core::report::Severity;
    let chosen = choose(global, Kind::Schema, args.target.as_deref())?;
    let target = chosen.as_ref().and_then(|c| match &c.target().kind {
        TargetKind::Schema(s) => Some((c, s)),
        _ => None,
    });
    let or_target =
        |flag: Vec<String>, of: fn(&driftsync_config::SchemaTarget) -> &Vec<String>| match target {
            Some((_, t)) if flag.is_empty() => of(t).clone(),
            _ => flag,
        };
    let under =
        |of: fn(&driftsync_config::SchemaTarget) -> &std::collections::BTreeMap<String, String>,
         flag: Vec<(String, String)>| {
            let mut all: Vec<(String, String)> = target
                .map(|(_, t)| of(t).iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            all.extend(flag);
            all
        };
    let (local, shown) = match (&args.local, target) {
        (Some(dir), _) => {
            let s = dir.to_string_lossy().replace('\\', "/");
            (
                dir.clone(),
                s.trim_start_matches("./").trim_end_matches('/').to_string(),
            )
        }
        (None, Some((c, t))) => (c.config.root.join(t.local.as_str()), t.local.to_string()),
        (None, None) => (std::path::PathBuf::from("schemas"), "schemas".to_string()),
    };
    let database = match (args.database, target) {
        (Some(url), _) => Some(url),
        (None, Some((_, t))) => Some(t.database.clone()),
        (None, None) => std::env::var(crate::env::DATABASE_URL).ok(),
    };
    Ok(super::schema::Source {
        target: target.map(|(c, _)| c.target().name.clone()),
        database,
        local,
        shown,
        fail_on: target.map_or(Severity::Low, |(_, t)| t.fail_on),
        schemas: or_target(args.schemas, |t| &t.schemas),
        exclude_schemas: or_target(args.exclude_schemas, |t| &t.exclude_schemas),
        class_names: under(|t| &t.class_names, args.class_names),
        type_overrides: under(|t| &t.type_overrides, args.type_overrides),
        variants: if args.variants.is_empty() {
            target.map_or_else(Default::default, |(_, t)| {
                driftsync_schema::generate::Variants {
                    insert: t.variants.insert,
                    update: t.variants.update,
                }
            })
        } else {
            driftsync_schema::generate::Variants {
                insert: args.variants.iter().any(|v| v == "insert"),
                update: args.variants.iter().any(|v| v == "update"),
            }
        },
        docs: target.and_then(|(c, t)| t.docs.as_ref().map(|d| c.config.root.join(d.as_str()))),
        style: match args.style.as_deref() {
            Some("pydantic") => driftsync_schema::generate::Style::Pydantic,
            Some(_) => driftsync_schema::generate::Style::TypedDict,
            None => target.map_or(driftsync_schema::generate::Style::TypedDict, |(_, t)| {
                crate::targets::schema::style(t.style)
            }),
        },
    })
}
