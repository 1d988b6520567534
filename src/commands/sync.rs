//! `driftsync sync LEFT RIGHT`: an ad hoc two-way (or one-way) sync, no config needed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use driftsync_config::SyncSpec;
use driftsync_core::guard::MaxDelete;
use driftsync_core::report::ActionOutcome;
use driftsync_core::{Direction, Policy};
use driftsync_engine::{adhoc_state_file, sync, Outcome};

use crate::cli::Global;
use crate::exit::Exit;
use crate::render::sync as render;
use crate::replicas::{open_replica, refuse_nested};
use crate::targets::sync::{engine_options, open_options, Keeping};

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
    #[arg(long, value_name = "P", default_value_t = SyncSpec::default().on_conflict, value_parser = parse_policy)]
    pub on_conflict: Policy,
    /// bidirectional, push (left → right) or pull (right → left); `-` or `_` spellings alike.
    #[arg(long, value_name = "D", default_value_t = SyncSpec::default().direction, value_parser = parse_direction)]
    pub direction: Direction,
    /// One-way: also delete destination files the source does not have.
    #[arg(long)]
    pub delete_orphans: bool,
    /// Print the plan and change nothing (files and state stay byte-identical).
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse plans deleting more than this on one side: a percentage (50%) or a count.
    #[arg(long, value_name = "N%", default_value_t = SyncSpec::default().max_delete, value_parser = parse_max_delete)]
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
    #[arg(long, value_name = "N", default_value_t = SyncSpec::default().concurrency)]
    pub concurrency: usize,
    /// Retries of a transient failure.
    #[arg(long, value_name = "N", default_value_t = SyncSpec::default().retries)]
    pub retries: u32,
    /// First retry's delay, doubled for each further one (with jitter), e.g. 1s.
    #[arg(long, value_name = "DURATION", default_value = SyncSpec::DEFAULT_RETRY_DELAY, value_parser = parse_delay)]
    pub retry_delay: std::time::Duration,
    /// Object storage: folder (relative to the URL's prefix) keeping a copy of
    /// every object this run overwrites or deletes, under <DIR><run>/
    /// [default: .driftsync-backup/]
    #[arg(long, value_name = "DIR")]
    pub backup_prefix: Option<String>,
    /// Keep no copy of what this run overwrites or deletes: nothing for
    /// `driftsync restore` to put back, and one request per edited object
    /// instead of two (a write still never replaces a version the scan did
    /// not see).
    #[arg(long, conflicts_with = "backup_prefix")]
    pub no_backup: bool,
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

impl SyncArgs {
    /// The settings these flags give: the same [`SyncSpec`] a `type: sync`
    /// target of sync.yaml makes, with the same defaults.
    pub fn spec(&self) -> SyncSpec {
        SyncSpec {
            direction: self.direction,
            on_conflict: self.on_conflict,
            delete_orphans: self.delete_orphans,
            max_delete: self.max_delete,
            concurrency: self.concurrency,
            retries: self.retries,
            retry_delay: self.retry_delay,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            gitignore: self.gitignore,
            backup_prefix: self.backup_prefix.clone(),
            backup: !self.no_backup,
            validate: self.validate.clone(),
            request_timeout: self.timeout,
            force: self.force,
            dry_run: self.dry_run,
        }
    }
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
        eprintln!("forced: applied despite: {}", out.violations_line());
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
    let spec = args.spec();
    let open = open_options(&spec, None);
    refuse_nested(&args.left, &args.right)?;
    let left = open_replica(&args.left, &open)?;
    let right = open_replica(&args.right, &open)?;
    let state = args.state.clone().unwrap_or_else(|| {
        adhoc_state_file(
            std::path::Path::new(crate::targets::sync::WORK_DIR),
            &left.location(),
            &right.location(),
        )
    });
    let opts = engine_options(
        &spec,
        Keeping::AdHoc {
            state_file: state.clone(),
            lease_name: driftsync_engine::adhoc_name(&left.location(), &right.location()),
        },
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SyncArgs,
    }

    fn from_cli(extra: &[&str]) -> SyncSpec {
        let mut argv = vec!["driftsync", "docs", "s3://bucket/docs/"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv)
            .expect("the flags parse")
            .args
            .spec()
    }

    /// The spec a `type: sync` target with `keys` makes, under a run with
    /// `force`/`dry_run`.
    fn from_config(keys: &str, force: bool, dry_run: bool) -> SyncSpec {
        let root = tempfile::tempdir().unwrap();
        let text = format!(
            "targets:\n  docs:\n    type: sync\n    local: docs\n    remote: s3://bucket/docs/\n{keys}"
        );
        let config = driftsync_config::parse(
            &text,
            std::path::Path::new(".driftsync/sync.yaml"),
            root.path(),
            &|_| None,
        )
        .expect("the config loads");
        let target = &config.targets[0];
        let driftsync_config::TargetKind::Sync(t) = &target.kind else {
            panic!("not a sync target");
        };
        SyncSpec::of_target(target, t, &config.defaults, force, dry_run)
    }

    #[test]
    fn nothing_given_on_the_command_line_or_in_sync_yaml_is_the_same_spec() {
        let cli = from_cli(&[]);
        assert_eq!(cli, from_config("", false, false));
        assert_eq!(cli, SyncSpec::default());
    }

    #[test]
    fn the_same_settings_from_the_command_line_and_sync_yaml_are_the_same_spec() {
        let cli = from_cli(&[
            "--direction",
            "push",
            "--on-conflict",
            "keep-both",
            "--delete-orphans",
            "--max-delete",
            "10",
            "--concurrency",
            "4",
            "--retries",
            "5",
            "--retry-delay",
            "1s",
            "--include",
            "**/*.md",
            "--exclude",
            "drafts/**",
            "--gitignore",
            "--backup-prefix",
            "_backups/",
            "--validate",
            "yaml,json",
            "--timeout",
            "20s",
            "--force",
            "--dry-run",
        ]);
        let yaml = from_config(
            "    direction: push\n    on_conflict: keep-both\n    delete_orphans: true\n    max_delete: 10\n    concurrency: 4\n    retries: 5\n    retry_delay: 1s\n    include: [\"**/*.md\"]\n    exclude: [\"drafts/**\"]\n    gitignore: true\n    backup_prefix: _backups/\n    validate: [yaml, json]\n    request_timeout: 20s\n",
            true,
            true,
        );
        assert_eq!(cli, yaml);
        assert_ne!(
            cli,
            SyncSpec::default(),
            "every setting differs from its default"
        );
        // And the engine is told the same for both (the base aside).
        let engine = |spec: &SyncSpec| {
            let o = engine_options(
                spec,
                Keeping::AdHoc {
                    state_file: "s.json".into(),
                    lease_name: "l".into(),
                },
            );
            format!(
                "{:?} {:?} {} {:?} {} {} {} {} {} {:?} {:?} {}",
                o.plan.direction,
                o.plan.policy,
                o.plan.delete_orphans,
                o.limits.max_delete,
                o.force,
                o.dry_run,
                o.concurrency,
                o.retries,
                o.retry_delay_ms,
                o.include,
                o.exclude,
                o.check.is_some(),
            )
        };
        assert_eq!(engine(&cli), engine(&yaml));
        assert_eq!(
            engine(&cli),
            "Push KeepBoth true Count(10) true true 4 5 1000 [\"**/*.md\"] [\"drafts/**\"] true"
        );
    }

    #[test]
    fn no_backup_and_backup_false_are_the_same_spec_and_reach_the_engine() {
        let cli = from_cli(&["--no-backup"]);
        assert_eq!(cli, from_config("    backup: false\n", false, false));
        assert!(!cli.backup && SyncSpec::default().backup);
        let keeping = || Keeping::AdHoc {
            state_file: "s.json".into(),
            lease_name: "l".into(),
        };
        assert!(!engine_options(&cli, keeping()).backup);
        assert!(engine_options(&SyncSpec::default(), keeping()).backup);
    }

    #[test]
    fn a_target_keeps_its_journal_and_an_ad_hoc_pair_names_its_lease() {
        let spec = SyncSpec::default();
        let root = std::path::Path::new("/repo");
        let t = engine_options(
            &spec,
            Keeping::Target {
                repo_root: root,
                name: "docs",
                lease_ttl: Some(std::time::Duration::from_secs(30)),
            },
        );
        assert!(t.keep_journal && !t.refresh_quick_check);
        assert_eq!(t.state_file, root.join(".driftsync/state/docs.json"));
        assert_eq!(t.lease_ttl, std::time::Duration::from_secs(30));
        assert_eq!(t.lease_name, None);
        let a = engine_options(
            &spec,
            Keeping::AdHoc {
                state_file: "s.json".into(),
                lease_name: "adhoc-1".into(),
            },
        );
        assert!(!a.keep_journal && a.refresh_quick_check);
        assert_eq!(a.work_dir, std::path::Path::new(".driftsync"));
        assert_eq!(a.lease_name.as_deref(), Some("adhoc-1"));
    }
}
