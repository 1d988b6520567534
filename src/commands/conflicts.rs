//! `driftsync conflicts list|show|resolve`: the conflicts `on_conflict:
//! manual` left for a person, kept with both versions in
//! `.driftsync/conflicts/<target>/`, and the person's decisions on them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use driftsync_config::TargetKind;
use driftsync_core::{Keep, RelPath, Side};
use driftsync_engine::conflicts::{Open, Store, Version};

use crate::cli::Global;
use crate::exit::Exit;

/// Arguments of `driftsync conflicts`.
#[derive(Debug, Args)]
#[command(
    about = "Conflicts left for a person by on_conflict: manual: list, show, resolve",
    long_about = "Conflicts left for a person by `on_conflict: manual` (or `driftsync sync --on-conflict \
manual`). A conflicted file is left as it is on both sides; both versions are kept in \
.driftsync/conflicts/<target>/{local,remote}/<path>, with a record of which versions conflicted \
(conflicts.json), committed by `driftsync run` like the base. `resolve` records a decision; the \
next `driftsync run` (or `driftsync sync`) applies it and removes the copies. A decision applies \
only to the versions it was made about: a side that changed since is a new conflict.",
    after_help = "Examples:\n  driftsync conflicts list\n  driftsync conflicts show intro.md\n  driftsync conflicts resolve intro.md --keep remote\n  driftsync conflicts resolve docs/intro.md --keep both --target docs  # repository path too\n  driftsync run --target docs      # applies the decision"
)]
pub struct ConflictsArgs {
    #[command(subcommand)]
    pub command: ConflictsCommand,
}

/// The subcommands of `driftsync conflicts`.
#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    /// Every open conflict: target, path, each side's size, mtime and hash, when found.
    #[command(
        after_help = "Examples:\n  driftsync conflicts list\n  driftsync conflicts list --target docs --json"
    )]
    List {
        /// Only this target's conflicts (an ad hoc `driftsync sync` pair is `adhoc-<hash>`).
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Both versions of one conflicted file: a unified diff for text, sizes and hashes for binary files.
    #[command(
        after_help = "Examples:\n  driftsync conflicts show intro.md\n  driftsync conflicts show img/logo.png --target assets"
    )]
    Show {
        /// The path, relative to the target's folders (as `conflicts list` prints
        /// it), or the repository's path of the local file.
        path: String,
        /// The target (default: the only one with this conflict open).
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
    },
    /// Decide a conflict; the next run applies the decision.
    #[command(
        long_about = "Decide a conflict; the next `driftsync run` (or `driftsync sync`) applies it: \
local: the local version goes to the remote; remote: the remote version comes to the local folder; \
both: the remote version is kept beside the local one as name.conflict-right-<stamp>.ext (on both \
sides) and the local one keeps the name. To merge by hand, edit the local file, then keep local: \
the decision is about the file as you saved it.",
        after_help = "Examples:\n  driftsync conflicts resolve intro.md --keep local\n  driftsync conflicts resolve intro.md --keep remote --target docs\n  driftsync conflicts resolve data.csv --keep both && driftsync run --target docs"
    )]
    Resolve {
        /// The path, relative to the target's folders (as `conflicts list` prints
        /// it), or the repository's path of the local file.
        path: String,
        /// Which version to keep: local, remote or both.
        #[arg(long, value_name = "SIDE", value_parser = parse_keep)]
        keep: Keep,
        /// The target (default: the only one with this conflict open).
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
    },
}

fn parse_keep(s: &str) -> Result<Keep, String> {
    s.parse()
}

/// Run `driftsync conflicts`.
pub fn run(global: &Global, args: ConflictsArgs) -> anyhow::Result<Exit> {
    let work = work_dir(global)?;
    match args.command {
        ConflictsCommand::List { target, json } => list(&work, target.as_deref(), json),
        ConflictsCommand::Show { path, target } => {
            let (store, path) = find(global, &work, target.as_deref(), &path)?;
            show(&store, &path)
        }
        ConflictsCommand::Resolve { path, keep, target } => {
            let (store, path) = find(global, &work, target.as_deref(), &path)?;
            resolve(global, store, &path, keep)
        }
    }
}

/// `.driftsync` of the repository (where sync.yaml is), else of the start directory.
fn work_dir(global: &Global) -> anyhow::Result<PathBuf> {
    Ok(match crate::workspace::locate(global) {
        Ok((_, root)) => root.join(".driftsync"),
        Err(_) => crate::workspace::start_dir(global)?.join(".driftsync"),
    })
}

fn stores(work: &Path, target: Option<&str>) -> anyhow::Result<Vec<Store>> {
    Ok(match target {
        Some(name) => {
            let s = Store::load(work, name)?;
            if s.is_empty() {
                Vec::new()
            } else {
                vec![s]
            }
        }
        None => Store::all(work)?,
    })
}

/// The store holding the open conflict at `path`, or an error listing the
/// open ones. The path is relative to the target's folders, or the
/// repository's path of the local file (the target's `local`, then the path).
fn find(
    global: &Global,
    work: &Path,
    target: Option<&str>,
    path: &str,
) -> anyhow::Result<(Store, RelPath)> {
    let all = stores(work, target)?;
    let given = path.trim_start_matches("./");
    let config = crate::workspace::load_unset_allowed(global).ok();
    let in_local = |store: &str| -> Option<RelPath> {
        let TargetKind::Sync(t) = &config.as_ref()?.target(store)?.kind else {
            return None;
        };
        let local = t.local.as_str().trim_end_matches('/');
        RelPath::new(given.strip_prefix(local)?.strip_prefix('/')?).ok()
    };
    let mut with: Vec<(Store, RelPath)> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for s in all {
        open.extend(
            s.open()
                .map(|o| format!("{} (--target {})", o.path, s.name())),
        );
        let hit = [RelPath::new(given).ok(), in_local(s.name())]
            .into_iter()
            .flatten()
            .find(|p| s.get(p).is_some());
        if let Some(p) = hit {
            with.push((s, p));
        }
    }
    match with.len() {
        1 => Ok(with.pop().expect("one")),
        0 if open.is_empty() => bail!(
            "no conflict is open{} (under {}); nothing to resolve",
            target
                .map(|t| format!(" for target `{t}`"))
                .unwrap_or_default(),
            work.join(driftsync_engine::conflicts::DIR).display()
        ),
        0 => bail!(
            "no open conflict at `{path}`{}; open: {}",
            target
                .map(|t| format!(" in target `{t}`"))
                .unwrap_or_default(),
            open.join(", ")
        ),
        _ => bail!(
            "`{path}` is open in several targets ({}): give --target NAME",
            with.iter()
                .map(|(s, _)| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn time(ns: i64) -> String {
    driftsync_core::time::rfc3339(ns.div_euclid(1_000_000_000))
}

fn version_json(store: &Store, side: Side, path: &RelPath, v: &Version) -> serde_json::Value {
    serde_json::json!({
        "size": v.size,
        "mtime": v.mtime_ns.map(time),
        "sha256": v.hash.to_hex(),
        "copy": shown(&store.copy(side, path)),
    })
}

/// A path under the start directory as it is given relative to it.
fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    p.strip_prefix(&cwd).unwrap_or(p).display().to_string()
}

fn decision(o: &Open) -> String {
    match &o.decision {
        Some(d) => format!(
            "keep {} (decided {}; the next run applies it)",
            d.keep,
            time(d.decided_ns)
        ),
        None => "none yet".into(),
    }
}

fn list(work: &Path, target: Option<&str>, json: bool) -> anyhow::Result<Exit> {
    let all = stores(work, target)?;
    if json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .flat_map(|s| {
                s.open().map(move |o| {
                    serde_json::json!({
                        "target": s.name(),
                        "path": o.path.as_str(),
                        "reason": o.reason,
                        "local": version_json(s, Side::Left, &o.path, &o.local),
                        "remote": version_json(s, Side::Right, &o.path, &o.remote),
                        "decision": o.decision.as_ref().map(|d| serde_json::json!({
                            "keep": d.keep,
                            "decided": time(d.decided_ns),
                        })),
                    })
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(Exit::Ok);
    }
    if all.is_empty() {
        eprintln!("no open conflicts");
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    for s in &all {
        for o in s.open() {
            out.push_str(&describe(s, o));
        }
    }
    out.push_str(
        "decide with: driftsync conflicts resolve PATH --keep local|remote|both [--target NAME]\n",
    );
    print!("{out}");
    Ok(Exit::Ok)
}

/// A conflict as a few lines of text.
fn describe(s: &Store, o: &Open) -> String {
    let side = |side: Side, v: &Version| {
        format!(
            "  {:<6}  {} byte(s){}  sha256 {}  {}\n",
            driftsync_engine::conflicts::side_dir(side),
            v.size,
            v.mtime_ns
                .map(|ns| format!("  modified {}", time(ns)))
                .unwrap_or_default(),
            v.hash.short(),
            shown(&s.copy(side, &o.path))
        )
    };
    format!(
        "{}: {}  ({})\n{}{}  decision: {}\n",
        s.name(),
        crate::render::plan::path(o.path.as_str()),
        o.reason,
        side(Side::Left, &o.local),
        side(Side::Right, &o.remote),
        decision(o)
    )
}

fn show(store: &Store, path: &RelPath) -> anyhow::Result<Exit> {
    let o = store.get(path).expect("found by `find`");
    let mut out = describe(store, o);
    let read = |side| {
        let p = store.copy(side, path);
        std::fs::read(&p).with_context(|| {
            format!(
                "{}: the kept copy is missing; the next run keeps it again",
                p.display()
            )
        })
    };
    let (local, remote) = (read(Side::Left)?, read(Side::Right)?);
    let text = |b: &[u8]| !b.contains(&0) && std::str::from_utf8(b).is_ok();
    if text(&local) && text(&remote) {
        out.push('\n');
        out.push_str(&driftsync_git::unified_diff(
            &local,
            &format!("local/{path}"),
            &remote,
            &format!("remote/{path}"),
        )?);
    } else {
        out.push_str(&format!(
            "binary: local {} byte(s), sha256 {}; remote {} byte(s), sha256 {}\n",
            local.len(),
            o.local.hash.to_hex(),
            remote.len(),
            o.remote.hash.to_hex()
        ));
    }
    print!("{out}");
    Ok(Exit::Ok)
}

/// The local file of `path` for a sync target of sync.yaml, when there is one.
fn local_file(global: &Global, target: &str, path: &RelPath) -> Option<PathBuf> {
    let config = crate::workspace::load_unset_allowed(global).ok()?;
    let TargetKind::Sync(t) = &config.target(target)?.kind else {
        return None;
    };
    Some(config.root.join(t.local.as_str()).join(path.as_str()))
}

fn resolve(global: &Global, mut store: Store, path: &RelPath, keep: Keep) -> anyhow::Result<Exit> {
    let recorded = store.get(path).expect("found by `find`").local.clone();
    // The local file edited since the conflict was found (a merge by hand).
    let now_local = local_file(global, store.name(), path)
        .and_then(|f| {
            let bytes = std::fs::read(&f).ok()?;
            Some((f, bytes))
        })
        .filter(|(_, bytes)| driftsync_core::Hash::of(bytes) != recorded.hash);
    let mut local_now = None;
    if let Some((file, bytes)) = &now_local {
        if keep == Keep::Remote {
            bail!(
                "{}: changed since the conflict was found; keeping the remote version would replace that edit. \
Keep local (or both) to decide about the file as it is now, or put the found version back first ({})",
                file.display(),
                shown(&store.copy(Side::Left, path))
            );
        }
        local_now = Some(bytes.as_slice());
        eprintln!(
            "{}: edited since the conflict was found; the decision is about its current content",
            file.display()
        );
    }
    let now = driftsync_engine::clock::now_ns();
    store
        .decide(path, keep, now, local_now)
        .with_context(|| format!("recording the decision in {}", store.dir().display()))?;
    store.save()?;
    let what = match keep {
        Keep::Local => "the local version goes to the remote",
        Keep::Remote => "the remote version comes to the local folder",
        Keep::Both => {
            "the local version keeps the name, the remote one is kept beside it as name.conflict-right-<stamp>.ext"
        }
    };
    let next = if store.name().starts_with("adhoc-") {
        "The next `driftsync sync` of the pair applies it.".to_string()
    } else {
        format!(
            "The next `driftsync run --target {}` applies it; in CI, commit and push {} first.",
            store.name(),
            shown(store.dir())
        )
    };
    println!("{}: {path}: keep {keep}: {what}. {next}", store.name());
    Ok(Exit::Ok)
}
