//! `driftsync restore RUN`: put one run's backups back, on whichever side they are.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use driftsync_config::TargetKind;
use driftsync_core::RelPath;
use driftsync_engine::backup::Manifest;
use driftsync_engine::restore::{self, Current, Item};
use driftsync_replica::Replica;

use crate::cli::Global;
use crate::exit::Exit;
use crate::replicas::{open_replica, OpenOptions};

/// Arguments of `driftsync restore`.
#[derive(Debug, Args)]
#[command(
    about = "Put back what one sync run overwrote or deleted (its backups, on either side)",
    long_about = "Put back what one sync run overwrote or deleted. A run's backups are local \
(.driftsync/backup/RUN/{left,right}/...) or inside an object-store remote \
(<backup_prefix>RUN/..., default .driftsync-backup/). Each file is written back to the side it \
came from; the list says what each one overwrites. The base is not touched: the next sync sees \
restored files as ordinary changes. The run id is printed by `driftsync sync` and in the \
report of `driftsync run`.",
    after_help = "Examples:\n  driftsync restore --list\n  driftsync restore --list --target assets\n  driftsync restore 20261123T150000Z-4242 --target assets --dry-run\n  driftsync restore 20261123T150000Z-4242 --target assets\n  driftsync restore 20261123T150000Z-4242        # an ad hoc `driftsync sync` run"
)]
pub struct RestoreArgs {
    /// The run whose backups go back (see --list).
    #[arg(required_unless_present = "list")]
    pub run: Option<String>,
    /// The sync target of sync.yaml the run belonged to (default: the only
    /// sync target, when there is exactly one and the run's local manifest,
    /// if any, records its locations; otherwise the locations recorded in
    /// the run's local manifest, as for an ad hoc `driftsync sync`).
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// Say what would be restored and overwritten; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// List the runs that have backups (with a target, also those inside its remote).
    #[arg(long, conflicts_with = "run")]
    pub list: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The work directory and both sides.
struct Sides {
    work: PathBuf,
    left: Box<dyn Replica>,
    right: Box<dyn Replica>,
}

/// The sides of the sync target `--target` names, or of the only one.
fn target_sides(global: &Global, name: Option<&str>) -> anyhow::Result<Option<Sides>> {
    let Some(chosen) = super::target_of::choose(global, super::target_of::Kind::Sync, name)? else {
        return Ok(None);
    };
    let TargetKind::Sync(t) = &chosen.target().kind else {
        unreachable!("target_of chose a sync target");
    };
    let root = &chosen.config.root;
    let spec = driftsync_config::SyncSpec::of_target(
        chosen.target(),
        t,
        &chosen.config.defaults,
        false,
        false,
    );
    let (left, right) = crate::targets::sync::open_sides(t, &spec, root)?;
    Ok(Some(Sides {
        work: root.join(".driftsync"),
        left,
        right,
    }))
}

/// The sides of the only sync target, `None` when there are several (the
/// ad hoc manifest decides then) or none.
fn default_sides(global: &Global) -> anyhow::Result<Option<Sides>> {
    match target_sides(global, None) {
        Err(e) if e.is::<super::target_of::Ambiguous>() => Ok(None),
        other => other,
    }
}

/// The sides run `run` is restored to: `--target`'s; else those its local
/// manifest records (an ad hoc `driftsync sync`, or a target run whose
/// locations are known), preferring the only sync target when they are its
/// own (its options, such as backup_prefix, apply); else the only sync target.
fn run_sides(global: &Global, name: Option<&str>, run: &str) -> anyhow::Result<Sides> {
    let local = PathBuf::from(".driftsync");
    if name.is_some() {
        if let Some(s) = target_sides(global, name)? {
            return Ok(s);
        }
    }
    let ad_hoc = Manifest::load(&local, run)?.is_some();
    let several = || target_sides(global, None).err();
    match default_sides(global)? {
        Some(s) => match Manifest::load(&s.work, run)? {
            Some(m) if m.left != s.left.location() || m.right != s.right.location() => {
                manifest_sides(s.work, run)
            }
            None if ad_hoc => manifest_sides(local, run),
            _ => Ok(s),
        },
        None if ad_hoc => manifest_sides(local, run),
        None => match several() {
            Some(e) => Err(e.context(format!("no local backups of run `{run}`"))),
            None => manifest_sides(local, run),
        },
    }
}

fn manifest_sides(work: PathBuf, run: &str) -> anyhow::Result<Sides> {
    let Some(m) = Manifest::load(&work, run)? else {
        bail!(
            "no backups of run `{run}` under {}; for a sync target give --target T (its remote may hold them), or see `driftsync restore --list`",
            work.join("backup").join(run).display()
        );
    };
    let open = |loc: &str| {
        if loc.contains("***") {
            bail!("the run's location {loc} had a secret; give --target T to restore it");
        }
        open_replica(loc, &OpenOptions::default())
    };
    Ok(Sides {
        left: open(&m.left)?,
        right: open(&m.right)?,
        work,
    })
}

/// `location/path` for messages.
fn at(replica: &dyn Replica, path: &RelPath) -> String {
    let loc = replica.location();
    if loc.ends_with('/') || loc.ends_with(':') {
        format!("{loc}{path}")
    } else {
        format!("{loc}/{path}")
    }
}

fn what(item: &Item, dry_run: bool) -> &'static str {
    match (item.current, dry_run) {
        (Current::Same, _) => "identical",
        (Current::Absent, true) => "would recreate",
        (Current::Absent, false) => "recreated",
        (Current::Differs, true) => "would overwrite",
        (Current::Differs, false) => "overwrote",
    }
}

fn list(global: &Global, args: &RestoreArgs) -> anyhow::Result<Exit> {
    let sides = match &args.target {
        Some(_) => target_sides(global, args.target.as_deref())?,
        None => default_sides(global)?,
    };
    let (work, sides) = match sides {
        Some(s) => (s.work.clone(), Some(s)),
        None => (PathBuf::from(".driftsync"), None),
    };
    let runs = restore::list_runs(&work, sides.as_ref().map(|s| [&*s.left, &*s.right]))?;
    if args.json {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({"run": r.run, "local": r.local, "in_left": r.in_left, "in_right": r.in_right})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if runs.is_empty() {
        eprintln!(
            "no runs with backups under {}",
            work.join("backup").display()
        );
    } else {
        println!(
            "{:<28} {:>6} {:>8} {:>9}",
            "RUN", "LOCAL", "IN-LEFT", "IN-RIGHT"
        );
        for r in &runs {
            println!(
                "{:<28} {:>6} {:>8} {:>9}",
                r.run, r.local, r.in_left, r.in_right
            );
        }
    }
    Ok(Exit::Ok)
}

/// Run `driftsync restore`.
pub fn run(global: &Global, args: RestoreArgs) -> anyhow::Result<Exit> {
    if args.list {
        return list(global, &args);
    }
    let run = args.run.clone().expect("clap requires RUN without --list");
    let sides = run_sides(global, args.target.as_deref(), &run)?;
    let reps: [&dyn Replica; 2] = [&*sides.left, &*sides.right];
    let items = restore::plan(&sides.work, &run, reps)?;
    let results = if args.dry_run {
        items.iter().map(|_| Ok(false)).collect()
    } else {
        restore::apply(&sides.work, &items, reps)?
    };
    let failed = results.iter().filter(|r| r.is_err()).count();
    let restored = results.iter().filter(|r| matches!(r, Ok(true))).count();
    if args.json {
        let rows: Vec<serde_json::Value> = items
            .iter()
            .zip(&results)
            .map(|(i, r)| {
                let rep = reps[usize::from(i.side == driftsync_core::Side::Right)];
                serde_json::json!({
                    "side": i.side,
                    "path": i.path.as_str(),
                    "to": at(rep, &i.path),
                    "from": i.source.describe(rep),
                    "current": format!("{:?}", i.current).to_lowercase(),
                    "restored": matches!(r, Ok(true)),
                    "error": r.as_ref().err(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "run": run,
            "dry_run": args.dry_run,
            "files": rows,
            "restored": restored,
            "failed": failed,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for (i, r) in items.iter().zip(&results) {
            let rep = reps[usize::from(i.side == driftsync_core::Side::Right)];
            match r {
                Ok(_) => println!(
                    "  {:<16} {}  (from {})",
                    what(i, args.dry_run),
                    at(rep, &i.path),
                    i.source.describe(rep)
                ),
                Err(e) => println!("  {:<16} {}  [{e}]", "FAILED", at(rep, &i.path)),
            }
        }
        let overwrites = items
            .iter()
            .filter(|i| i.current == Current::Differs)
            .count();
        if args.dry_run {
            eprintln!(
                "dry run: {} file(s) of run {run} would be restored ({overwrites} overwriting current content), nothing changed",
                items.iter().filter(|i| i.current != Current::Same).count()
            );
        } else {
            eprintln!(
                "{restored} file(s) of run {run} restored, {failed} failed; the next sync sees them as changes"
            );
        }
    }
    Ok(if failed > 0 { Exit::Drift } else { Exit::Ok })
}
