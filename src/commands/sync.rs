//! `driftsync sync LEFT RIGHT`: an ad hoc two-way (or one-way) sync, no config needed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use driftsync_core::guard::MaxDelete;
use driftsync_core::report::ActionOutcome;
use driftsync_core::{Direction, Policy};
use driftsync_engine::{adhoc_state_file, sync, Outcome, SyncOptions};

use crate::cli::Global;
use crate::exit::Exit;
use crate::render::sync as render;
use crate::replicas::{open_replica, refuse_nested, OpenOptions};

/// Arguments of `driftsync sync`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  driftsync sync docs/ /mnt/share/docs --dry-run\n  driftsync sync templates/ s3://assets/t/ --direction push --validate yaml,json\n  driftsync sync docs/ s3://assets/docs/ --timeout 20s\n  driftsync sync templates/ s3://site-assets/templates/ --backup-prefix _backups/\n  driftsync restore --list      # runs whose backups can be put back"
)]
pub struct SyncArgs {
    /// The first location (a directory, or a URL such as memory:NAME).
    pub left: String,
    /// The second location.
    pub right: String,
    /// The base file [default: .driftsync/state/adhoc-<hash of both locations>.json]
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Conflict policy: newer, local (left wins), remote (right wins), keep-both, skip, fail,
    /// manual (both versions kept for review: `driftsync conflicts`)
    /// (also: newer_wins, newest_wins, local_wins, remote_wins, backup_both, left, right).
    #[arg(long, value_name = "P", default_value = "newer", value_parser = parse_policy)]
    pub on_conflict: Policy,
    /// bidirectional, push (left → right) or pull (right → left); `-` or `_` spellings alike.
    #[arg(long, value_name = "D", default_value = "bidirectional", value_parser = parse_direction)]
    pub direction: Direction,
    /// One-way: also delete destination files the source does not have.
    #[arg(long)]
    pub delete_orphans: bool,
    /// Print the plan and change nothing (files and state stay byte-identical).
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse plans deleting more than this on one side: a percentage (50%) or a count.
    #[arg(long, value_name = "N%", default_value = "50%", value_parser = parse_max_delete)]
    pub max_delete: MaxDelete,
    /// Apply even when a safety check objects (the output says so).
    #[arg(long)]
    pub force: bool,
    /// Print the plan and outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Only paths matching these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out paths matching these globs (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also apply .gitignore files in local directories.
    #[arg(long)]
    pub gitignore: bool,
    /// Actions applied in parallel.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Retries of a transient failure.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// First retry's delay, doubled for each further one (with jitter), e.g. 1s.
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_delay)]
    pub retry_delay: std::time::Duration,
    /// Object storage: folder (relative to the URL's prefix) keeping a copy of
    /// every object this run overwrites or deletes, under <DIR><run>/.
    #[arg(long, value_name = "DIR", default_value = ".driftsync-backup/")]
    pub backup_prefix: String,
    /// Parse files of these kinds (yaml, json, toml; comma-separated or
    /// repeated) before they are propagated; one that does not parse is held back.
    #[arg(long, value_name = "KIND", value_delimiter = ',', value_parser = crate::content_check::parse_kind)]
    pub validate: Vec<driftsync_config::FileKind>,
    /// Deadline of one operation, e.g. 30s, 2m: a bucket request (default
    /// 30s); a database connection, statement or lock wait; a directory's
    /// file operation, for a mount that may hang (no deadline by default).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match driftsync_config::duration::parse_duration(s)? {
        d if d.is_zero() => Err("the timeout must be more than zero".into()),
        d => Ok(d),
    }
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
}

fn parse_direction(s: &str) -> Result<Direction, String> {
    s.parse()
}

fn parse_delay(s: &str) -> Result<std::time::Duration, String> {
    driftsync_config::duration::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_max_delete(s: &str) -> Result<MaxDelete, String> {
    s.parse()
}

fn print_human(out: &Outcome, state: &std::path::Path, verbose: bool, took: std::time::Duration) {
    use crate::render::plan;
    for (side, note) in &out.notes {
        eprintln!(
            "note: {side}: {}: {}",
            plan::path(&note.path),
            plan::text(&note.reason)
        );
    }
    for h in &out.held_back {
        let at = match (h.invalid.line, h.invalid.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", plan::path(h.path.as_str())),
            (Some(l), None) => format!("{}:{l}", plan::path(h.path.as_str())),
            _ => plan::path(h.path.as_str()).into_owned(),
        };
        eprintln!(
            "held back: {} {at}: does not parse: {}",
            h.side,
            plan::text(&h.invalid.message)
        );
    }
    // One buffered writer: with `-v` a sync of 100,000 files prints
    // 100,000 lines, and a line-buffered stdout makes each one a write.
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    for line in render::lines(out, verbose) {
        let _ = writeln!(w, "{line}");
    }
    let _ = w.flush();
    drop(w);
    if out.forced {
        eprintln!(
            "forced: applied despite: {}",
            out.violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if let Some(why) = &out.blocked {
        eprintln!("driftsync: {}", plan::text(why));
    }
    for p in &out.stale_decisions {
        eprintln!(
            "driftsync: {}: changed after the conflict was decided; the decision was not applied and the conflict is open again",
            plan::path(p.as_str())
        );
    }
    if let Some(dir) = &out.conflicts_dir {
        eprintln!(
            "driftsync: {} conflict(s) left for a person; both versions kept in {}: driftsync conflicts list, then driftsync conflicts resolve PATH --keep local|remote|both (the next sync applies it)",
            out.conflicts_left(),
            dir.display()
        );
    }
    let applied = out
        .results
        .iter()
        .filter(|r| r.outcome == ActionOutcome::Applied)
        .count();
    let counts = render::counts_line(out, took);
    let summary = if out.dry_run {
        format!(
            "dry run: {} action(s) planned, nothing changed: {counts}",
            out.results.len()
        )
    } else {
        format!(
            "{applied} applied, {} not done, {} conflict(s) left: {counts}; state: {}{}{}",
            out.not_done(),
            out.conflicts_left(),
            state.display(),
            if out.run_id.is_empty() {
                String::new()
            } else {
                format!("; run {}", out.run_id)
            },
            if out.backed_up > 0 {
                format!(
                    "; {} file(s) backed up (undo: driftsync restore {})",
                    out.backed_up, out.run_id
                )
            } else {
                String::new()
            }
        )
    };
    eprintln!("{summary}");
}

/// Run `driftsync sync`.
pub fn run(global: &Global, args: SyncArgs) -> anyhow::Result<Exit> {
    let open = OpenOptions {
        gitignore: args.gitignore,
        retries: Some(args.retries as usize),
        root: None,
        backup_prefix: Some(args.backup_prefix.clone()),
        request_timeout: args.timeout,
        dry_run: args.dry_run,
    };
    refuse_nested(&args.left, &args.right)?;
    let left = open_replica(&args.left, &open)?;
    let right = open_replica(&args.right, &open)?;
    let work = PathBuf::from(".driftsync");
    let state = args
        .state
        .clone()
        .unwrap_or_else(|| adhoc_state_file(&work, &left.location(), &right.location()));
    let mut opts = SyncOptions::new(state.clone(), work);
    opts.lease_name = Some(driftsync_engine::adhoc_name(
        &left.location(),
        &right.location(),
    ));
    opts.plan.direction = args.direction;
    opts.plan.policy = args.on_conflict;
    opts.plan.delete_orphans = args.delete_orphans;
    opts.limits.max_delete = args.max_delete;
    opts.force = args.force;
    opts.dry_run = args.dry_run;
    opts.concurrency = args.concurrency.max(1);
    opts.retries = args.retries;
    opts.retry_delay_ms = u64::try_from(args.retry_delay.as_millis()).unwrap_or(u64::MAX);
    opts.include = args.include;
    opts.exclude = args.exclude;
    opts.check = crate::content_check::FormatCheck::for_kinds(&args.validate);
    let progress = render::Progress::new(
        !args.json && !global.in_ci() && std::io::stderr().is_terminal(),
        render::Notes::Print,
    );
    let started = std::time::Instant::now();
    let out = sync(&*left, &*right, &opts, &progress);
    progress.finish();
    let out = out?;
    if args.json {
        let notes: Vec<serde_json::Value> = out
            .notes
            .iter()
            .map(|(s, n)| serde_json::json!({"side": s, "path": n.path, "reason": n.reason}))
            .collect();
        let doc = serde_json::json!({
            "left": left.location(),
            "right": right.location(),
            "state": state.display().to_string(),
            "dry_run": out.dry_run,
            "forced": out.forced,
            "blocked": out.blocked,
            "violations": out.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "plan": out.plan,
            "actions": out.records(),
            "notes": notes,
            "run": out.run_id,
            "summary": summary(&out, started.elapsed()),
            "backed_up": out.backed_up,
            "conflicts_dir": out.conflicts_dir.as_ref().map(|d| d.display().to_string()),
            "stale_decisions": out.stale_decisions,
            "held_back": out.held_back.iter().map(|h| serde_json::json!({
                "side": h.side,
                "path": h.path.as_str(),
                "line": h.invalid.line,
                "column": h.invalid.column,
                "message": h.invalid.message,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_human(&out, &state, global.verbose, started.elapsed());
    }
    Ok(if out.clean() { Exit::Ok } else { Exit::Drift })
}

/// The counts people (and the cloud sync's result objects) look at first:
/// files created, updated and deleted, actions skipped or failed, conflicts
/// with both sides' modification times, backups, and the time taken. A
/// keep-both conflict counts as one file updated and one created (the kept
/// copy). Planned actions count in a dry run.
fn summary(out: &Outcome, took: std::time::Duration) -> serde_json::Value {
    let c = render::Counts::of(out);
    let time = |ns: i64| driftsync_core::time::rfc3339(ns.div_euclid(1_000_000_000));
    let conflicts: Vec<serde_json::Value> = out
        .plan
        .conflicts
        .iter()
        .map(|c| {
            serde_json::json!({
                "path": c.path.as_str(),
                "resolution": c.resolution,
                "left_mtime": time(c.left_mtime_ns),
                "right_mtime": time(c.right_mtime_ns),
            })
        })
        .collect();
    serde_json::json!({
        "created": c.created,
        "updated": c.updated,
        "deleted": c.deleted,
        "skipped": c.skipped,
        "failed": c.failed,
        "conflicts": c.conflicts,
        "unresolved": c.unresolved,
        "conflict_files": conflicts,
        "backed_up": c.backed_up,
        "bytes": c.bytes,
        "duration_ms": u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
    })
}
