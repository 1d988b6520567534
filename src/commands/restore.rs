//! `driftsync restore RUN`: put one run's backups back, on whichever side they are.

use std::path::PathBuf;

use anyhow::{bail, Context};
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
    /// The sync target of sync.yaml the run belonged to (without it: the
    /// locations recorded in the run's local manifest, as for `driftsync sync`).
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// Say what would be restored and overwritten; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// List the runs that have backups (with --target, also those inside its remote).
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

fn target_sides(global: &Global, name: &str) -> anyhow::Result<Sides> {
    let config = crate::workspace::load(global)?;
    let target = config
        .target(name)
        .with_context(|| format!("no target `{name}` in {}", config.file.display()))?;
    let TargetKind::Sync(t) = &target.kind else {
        bail!(
            "target `{name}` is of type {}; only sync targets have backups to restore",
            target.type_name()
        );
    };
    let (left, right) = crate::sync_target::open_sides(t, &config.root, false)?;
    Ok(Sides {
        work: config.root.join(".driftsync"),
        left,
        right,
    })
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
    let (work, sides) = match &args.target {
        Some(name) => {
            let s = target_sides(global, name)?;
            (s.work.clone(), Some(s))
        }
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
    let sides = match &args.target {
        Some(name) => target_sides(global, name)?,
        None => manifest_sides(PathBuf::from(".driftsync"), &run)?,
    };
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
