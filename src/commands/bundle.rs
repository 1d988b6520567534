//! `driftsync bundle status|export|import|validate|migrate`: framework
//! bundles, with the database as the source of truth and `frameworks/<name>/`
//! as the workspace.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use driftsync_bundle::migrate::{load_migrations, migrate};
use driftsync_bundle::ops::validate;
use driftsync_bundle::{Bump, BundleError, BundleStore, ImportOutcome, SyncState, Workspace};
use driftsync_replica_db::DbUrl;

use crate::cli::Global;
use crate::exit::{Exit, Failed};

/// The database used when neither `--database` nor the config names one.
pub const DEFAULT_DATABASE: &str = "sqlite://.driftsync/frameworks.db";

/// Framework bundles: versioned directories stored in a database.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync bundle status\n  driftsync bundle import odoo --bump minor\n  driftsync bundle export odoo --version 1.2.0\n  driftsync bundle --target frameworks status\n  driftsync bundle --database postgres://app@db/frameworks validate"
)]
pub struct BundleArgs {
    /// The `type: bundle` target of sync.yaml to use: its database and folder
    /// (default: the only bundle target, when there is exactly one). --database
    /// and --dir override one setting each.
    #[arg(long, global = true, value_name = "NAME")]
    pub target: Option<String>,
    /// Database holding the bundle versions (sqlite://FILE or postgres://…);
    /// relative SQLite paths are under the repository root. Default: the
    /// target's, else $DRIFTSYNC_BUNDLE_DATABASE, else
    /// sqlite://.driftsync/frameworks.db.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Folder holding one directory per bundle, under the repository root
    /// (default: the target's `local`, else frameworks).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: BundleCommand,
}

/// What to do with bundles.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Compare every bundle directory with its latest stored version (exit 1 unless all in sync).
    #[command(
        after_help = "Examples:\n  driftsync bundle status\n  driftsync bundle status --json\n  driftsync bundle --dir bundles/ status"
    )]
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write bundle.yaml for a new bundle in frameworks/NAME/ (the files
    /// there are the bundle unless you list them under `files:`).
    #[command(
        after_help = "Examples:\n  driftsync bundle init iso27001\n  driftsync bundle init iso27001 --spec-version 2 --description \"ISO 27001 controls\""
    )]
    Init {
        /// Bundle name (lowercase letters, digits, `-`, `_`, `.`).
        name: String,
        /// The framework specification version its files follow.
        #[arg(long, value_name = "SPEC", default_value = "1")]
        spec_version: String,
        /// One paragraph for the generated README.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// Write a stored version (default: the latest) into frameworks/NAME/, with
    /// a README.md; without NAME, the latest version of every stored bundle.
    // `--version X.Y.Z` here is the bundle version, not the program's.
    #[command(
        disable_version_flag = true,
        after_help = "Examples:\n  driftsync bundle export odoo\n  driftsync bundle export odoo --version 1.2.0\n  driftsync bundle export odoo --force   # replace local edits"
    )]
    Export {
        /// Bundle name (default: every stored bundle).
        name: Option<String>,
        /// Version to export (needs NAME).
        #[arg(long, value_name = "X.Y.Z", requires = "name")]
        version: Option<String>,
        /// Overwrite local edits that are in no stored version.
        #[arg(long)]
        force: bool,
    },
    /// Store frameworks/NAME/ as a new version (a no-op when unchanged);
    /// without NAME, every bundle folder.
    #[command(
        after_help = "Examples:\n  driftsync bundle import odoo\n  driftsync bundle import odoo --bump minor"
    )]
    Import {
        /// Bundle name (default: every bundle in the folder).
        name: Option<String>,
        /// Store as the next major/minor/patch version and write it into bundle.yaml.
        #[arg(long, value_enum)]
        bump: Option<BumpArg>,
    },
    /// Check bundle.yaml and the files of NAME (default: every bundle, and every
    /// folder that lacks a bundle.yaml); JSON, YAML and TOML files must parse.
    #[command(
        after_help = "Examples:\n  driftsync bundle validate\n  driftsync bundle validate odoo crm"
    )]
    Validate {
        /// Bundle names.
        names: Vec<String>,
    },
    /// Move every stored bundle to spec version SPEC through the declared
    /// migrations in .driftsync/bundle-migrations/ (dry run unless --apply).
    #[command(
        after_help = "Examples:\n  driftsync bundle migrate --to 2\n  driftsync bundle migrate --to 2 --apply\n  driftsync bundle migrate --to 2 --json"
    )]
    Migrate {
        /// Target spec version.
        #[arg(long, value_name = "SPEC")]
        to: String,
        /// Store the migrated versions.
        #[arg(long)]
        apply: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Which part of the version `--bump` increments.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BumpArg {
    /// X+1.0.0
    Major,
    /// X.Y+1.0
    Minor,
    /// X.Y.Z+1
    Patch,
}

pub(crate) fn created_by() -> String {
    crate::env::first_set(&crate::env::BUNDLE_AUTHOR).unwrap_or_else(|| "unknown".into())
}

/// Run `driftsync bundle …`.
pub fn run(global: &Global, args: BundleArgs) -> anyhow::Result<Exit> {
    let (root, dir, database) = settle(global, &args)?;
    let frameworks = root.join(&dir);
    if let BundleCommand::Validate { names } = &args.command {
        return validate_cmd(&frameworks, &dir, names);
    }
    if let BundleCommand::Init {
        name,
        spec_version,
        description,
    } = &args.command
    {
        return init(&frameworks, name, spec_version, description.as_deref());
    }
    let url = DbUrl::parse(&database, &root)?;
    let store = BundleStore::open(&url)?;
    let mut ws = Workspace {
        root: frameworks,
        state_path: root.join(".driftsync/state/bundles.json"),
        store,
    };
    match args.command {
        BundleCommand::Validate { .. } | BundleCommand::Init { .. } => {
            unreachable!("handled above")
        }
        BundleCommand::Status { json } => {
            let lines = ws.status()?;
            if json {
                let doc = serde_json::json!({
                    "database": url.url.redacted(),
                    "bundles": lines,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!(
                    "{:<24} {:<14} {:<14} {:<10} STATE",
                    "NAME", "LOCAL", "DATABASE", "VERSION"
                );
                for l in &lines {
                    let short =
                        |h: Option<driftsync_core::Hash>| h.map_or("-".into(), |h| h.short());
                    println!(
                        "{:<24} {:<14} {:<14} {:<10} {}",
                        l.name,
                        short(l.local_hash),
                        short(l.database_hash),
                        l.database_version.as_deref().unwrap_or("-"),
                        l.state.as_str()
                    );
                }
            }
            Ok(if lines.iter().all(|l| l.state == SyncState::InSync) {
                Exit::Ok
            } else {
                Exit::Drift
            })
        }
        BundleCommand::Export {
            name,
            version,
            force,
        } => {
            let version: Option<driftsync_bundle::Semver> = version
                .map(|v| v.parse())
                .transpose()
                .map_err(|e: String| anyhow::anyhow!("--version: {e}"))?;
            let names = match name {
                Some(n) => vec![n],
                None => ws.store.names()?,
            };
            if names.is_empty() {
                println!("no bundle is stored in {}", url.url.redacted());
            }
            for name in names {
                let out = ws.export(&name, version, force)?;
                println!(
                    "exported {name} {}: {} written, {} unchanged, {} removed",
                    out.version,
                    out.written.len(),
                    out.unchanged,
                    out.removed.len()
                );
            }
            Ok(Exit::Ok)
        }
        BundleCommand::Import { name, bump } => {
            let bump = bump.map(|b| match b {
                BumpArg::Major => Bump::Major,
                BumpArg::Minor => Bump::Minor,
                BumpArg::Patch => Bump::Patch,
            });
            let names = match name {
                Some(n) => vec![n],
                None => driftsync_bundle::local::local_names(&ws.root)?,
            };
            if names.is_empty() {
                println!(
                    "no bundle in {}/ (a folder with a bundle.yaml; `driftsync bundle init NAME` writes one)",
                    dir.display()
                );
            }
            for name in names {
                match ws.import(&name, bump, &created_by())? {
                    ImportOutcome::Stored(info) => println!(
                        "stored {name} {} ({} files, tree {})",
                        info.version,
                        info.file_count,
                        info.tree_hash.short()
                    ),
                    ImportOutcome::Unchanged(v) => {
                        println!("{name} is unchanged since {v}; nothing stored")
                    }
                }
            }
            Ok(Exit::Ok)
        }
        BundleCommand::Migrate { to, apply, json } => {
            let migrations = load_migrations(&root.join(".driftsync/bundle-migrations"))?;
            let plans = migrate(&mut ws.store, &migrations, &to, apply, &created_by())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&plans)?);
            } else {
                for p in &plans {
                    println!(
                        "{} {} -> {} (spec {}){}",
                        p.name,
                        p.from_version,
                        p.to_version,
                        p.specs.join(" -> "),
                        if p.applied { "" } else { " [dry run]" }
                    );
                    for c in &p.changes {
                        println!("  {c}");
                    }
                }
                if plans.is_empty() {
                    println!("every stored bundle is already at spec {to}");
                } else if !apply {
                    println!("dry run: nothing stored; pass --apply to store these versions");
                }
            }
            Ok(Exit::Ok)
        }
    }
}

/// `bundle validate`: each bundle's manifest and files (JSON, YAML and TOML
/// files must parse), and, without names, every folder that lacks a
/// bundle.yaml.
/// The repository root, the bundle folder and the database: each flag over
/// the bundle target's setting (the chosen one) over the built-in default
/// (`$DRIFTSYNC_BUNDLE_DATABASE` for the database).
fn settle(global: &Global, args: &BundleArgs) -> anyhow::Result<(PathBuf, PathBuf, String)> {
    use super::target_of::{choose, Kind};
    let chosen = choose(global, Kind::Bundle, args.target.as_deref())?;
    let target = chosen.as_ref().and_then(|c| match &c.target().kind {
        driftsync_config::TargetKind::Bundle(b) => Some(b),
        _ => None,
    });
    let root = match &chosen {
        Some(c) => c.config.root.clone(),
        None => crate::workspace::root(global)?,
    };
    let dir = match (&args.dir, target) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => PathBuf::from(t.local.as_str()),
        (None, None) => PathBuf::from("frameworks"),
    };
    let database = match (&args.database, target) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.database.expose().to_string(),
        (None, None) => std::env::var(crate::env::DRIFTSYNC_BUNDLE_DATABASE)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string()),
    };
    Ok((root, dir, database))
}

fn validate_cmd(frameworks: &Path, dir: &Path, names: &[String]) -> anyhow::Result<Exit> {
    let bad = validate(frameworks, names)?;
    let mut checked = if names.is_empty() {
        driftsync_bundle::local::local_names(frameworks)?
    } else {
        names.to_vec()
    };
    checked.retain(|n| !bad.iter().any(|(b, _)| b == n));
    let mut broken = Vec::new();
    for name in &checked {
        let bundle = driftsync_bundle::local::load(frameworks, name)?;
        for (path, bytes) in &bundle.files {
            let Some(kind) = driftsync_config::FileKind::of_path(path.as_str()) else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            if let Some(p) = driftsync_runner::validate::problem(kind, &text) {
                let at = match (p.line, p.column) {
                    (Some(l), Some(c)) => format!(":{l}:{c}"),
                    (Some(l), None) => format!(":{l}"),
                    _ => String::new(),
                };
                broken.push(format!(
                    "{}/{name}/{path}{at}: {}",
                    dir.display(),
                    p.message
                ));
            }
        }
    }
    let mut without = Vec::new();
    if names.is_empty() {
        if let Ok(rd) = std::fs::read_dir(frameworks) {
            for e in rd.filter_map(Result::ok) {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                let name = e.file_name().to_string_lossy().into_owned();
                if is_dir
                    && !name.starts_with('.')
                    && !e
                        .path()
                        .join(driftsync_bundle::manifest::MANIFEST_FILE)
                        .exists()
                {
                    without.push(name);
                }
            }
        }
        without.sort();
    }
    for (name, err) in &bad {
        eprintln!("{name}: invalid\n{err}");
    }
    for b in &broken {
        eprintln!("{b}");
    }
    for name in &without {
        eprintln!(
            "{}/{name}: no bundle.yaml, so it is not a bundle (`driftsync bundle init {name}` writes one)",
            dir.display()
        );
    }
    let invalid = bad.len() + usize::from(!broken.is_empty()) + without.len();
    if invalid == 0 {
        if checked.is_empty() {
            println!("no bundle in {}/", dir.display());
        } else {
            println!("every bundle is valid ({})", checked.join(", "));
        }
        return Ok(Exit::Ok);
    }
    Err(Failed(format!(
        "{} problem(s): invalid bundles, files that do not parse, or folders without bundle.yaml",
        invalid
    ))
    .into())
}

/// `bundle init NAME`: a bundle.yaml without `files:` (the folder's files are
/// the bundle), version 0.1.0; never overwrites one.
fn init(
    frameworks: &Path,
    name: &str,
    spec: &str,
    description: Option<&str>,
) -> anyhow::Result<Exit> {
    if !driftsync_bundle::manifest::is_bundle_name(name) {
        return Err(BundleError::BadName(name.to_string()).into());
    }
    let dir = frameworks.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut text = format!(
        "name: {}\nversion: \"0.1.0\"\nspec_version: {}\n",
        q(name),
        q(spec)
    );
    if let Some(d) = description {
        text.push_str(&format!("description: {}\n", q(d)));
    }
    text.push_str(
        "# Without `files:` the bundle is every file in this folder (except the\n\
         # generated README.md and editor or OS junk). To list them instead:\n\
         # files:\n#   - controls.yaml\n",
    );
    let path = dir.join(driftsync_bundle::manifest::MANIFEST_FILE);
    let mut f = match std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failed(format!(
                "{} exists already; nothing written",
                path.display()
            ))
            .into())
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("writing {}", path.display()))),
    };
    std::io::Write::write_all(&mut f, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {}: put the bundle's files beside it, then `driftsync bundle validate {name}` and `driftsync bundle import {name}`",
        path.display()
    );
    Ok(Exit::Ok)
}
