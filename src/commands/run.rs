//! `driftsync run`: sync the selected targets, with gates, verification, commit, push and report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use driftsync_config::{Config, Direction, Target};
use driftsync_runner::{Masker, RunOptions, Selection};

use crate::cli::Global;
use crate::env;
use crate::exit::Exit;
use crate::render::{human, report_files, stdout};

mod pull_request;

/// Which targets: shared by `run`, `check` and `list`.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Only targets whose name matches GLOB (repeatable; e.g. 'oca_*')
    #[arg(short = 't', long = "target", value_name = "GLOB")]
    pub targets: Vec<String>,
    /// Only targets of this direction: pull, push or bidirectional
    #[arg(long, value_name = "DIRECTION", value_parser = parse_direction)]
    pub direction: Option<Direction>,
    /// Only targets whose `schedule` is CRON (whitespace-insensitive). In GitHub
    /// Actions a `schedule` event's cron is used when this is not given.
    #[arg(long, value_name = "CRON", value_parser = parse_schedule)]
    pub schedule: Option<String>,
}

/// `--schedule` is checked with the parser `schedule:` in sync.yaml goes
/// through: a mistyped cron is a usage error (exit 2), not an empty selection.
fn parse_schedule(s: &str) -> Result<String, String> {
    driftsync_config::cron::Cron::parse(s)
        .map(|c| c.as_str().to_string())
        .map_err(|e| match e.contains("e.g.") {
            true => e,
            false => format!("{e}; e.g. \"0 2 * * *\" is 02:00 every day"),
        })
}

impl SelectArgs {
    /// Select from `config`; in a scheduled Actions run, the cron that fired.
    pub fn select<'c>(&self, config: &'c Config) -> anyhow::Result<Vec<&'c Target>> {
        let sel = Selection {
            targets: self.targets.clone(),
            direction: self.direction,
            schedule: self.schedule()?,
        };
        Ok(driftsync_runner::select(config, &sel)?)
    }

    /// `--schedule`, else in a scheduled Actions run the cron that fired.
    pub fn schedule(&self) -> anyhow::Result<Option<String>> {
        let mut schedule = self.schedule.clone();
        if schedule.is_none()
            && std::env::var(env::GITHUB_EVENT_NAME).is_ok_and(|e| e == "schedule")
        {
            let path = std::env::var(env::GITHUB_EVENT_PATH)
                .context("GITHUB_EVENT_NAME=schedule but GITHUB_EVENT_PATH is not set")?;
            let payload = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the event payload {path}"))?;
            schedule = Some(
                driftsync_runner::select::schedule_from_event(&payload)
                    .with_context(|| format!("the event payload {path} has no `schedule`"))?,
            );
        }
        Ok(schedule)
    }
}

/// Options of `run`.
#[derive(Debug, Args)]
#[command(
    about = "Sync the targets of .driftsync/sync.yaml",
    long_about = "Sync the selected targets: pre-sync gates, each target, verification (--verify), \
post-sync and drift gates, then commit the outputs of pull and bidirectional targets (and changed \
.driftsync/state/ files) with git, push that commit, and write report.json and report.md. A sync target's \
local files are committed with its base whatever its outcome, so the next run (a fresh clone) reads them \
right; its writes to the remote are journalled there until that commit is pushed, and a lease on the remote \
lets one run at a time apply.\n\n\
Pushing: --push, or `defaults.git_push: true`, pushes the commit to the branch's upstream (else `origin`); \
--no-push or `git_push: false` never does. Unset, it pushes in GitHub Actions (GITHUB_ACTIONS=true) when a token \
is present and HEAD is on a branch. The token is DRIFTSYNC_GIT_TOKEN, else GITHUB_TOKEN, sent as `x-access-token`. \
When the push is rejected because someone else pushed first, driftsync fetches the new tip, moves the branch onto \
it, re-runs the pull targets there, commits and pushes once more; rejected again, the run fails (exit 1). \
--dry-run, --no-commit and `driftsync check` never push.\n\n\
Pull-request mode (--pull-request): the commit goes to a branch of its own, `driftsync/<target>` when one target \
is selected, else `driftsync/<cron of the schedule>` or `driftsync/sync` (--pr-branch, `defaults.pull_request.branch`), \
made from HEAD; the checkout's branch is not moved or pushed. That branch is pushed (only when its tree changed; \
replaced under a lease) and one pull request per branch is opened into the checkout's branch (or GITHUB_BASE_REF, \
GITHUB_REF_NAME, `defaults.pull_request.base`) with report.md as its body, rewritten only when the report changed. \
When the run changes nothing any more, the open pull request is closed with a comment and its branch deleted. \
Needs a token (GITHUB_TOKEN or DRIFTSYNC_GIT_TOKEN, with contents and pull-requests write) and GITHUB_REPOSITORY; \
the API is GITHUB_API_URL (default https://api.github.com).\n\n\
Notifying: after the report is written, each `notify:` entry of sync.yaml whose `on:` matches the outcome \
(failure, drift, always) gets the summary (Slack, Mattermost, Teams Workflows or a JSON webhook; see \
docs/notifications.md). A notification that fails is a warning and never changes the exit code; --dry-run, \
--no-notify and DRIFTSYNC_NO_NOTIFY=1 send nothing.\n\n\
A failed pre-sync gate stops the run before any target. A failed target does not stop the others \
unless --fail-fast.\n\n\
--dry-run (or `defaults.dry_run: true`) executes nothing that was not declared safe: a command target \
runs only if it sets `dry_run: true` (then with DRIFTSYNC_DRY_RUN=1); the others, command gates and \
verification are only listed (entrypoint or run line, direction, inputs, outputs). Sync, bundle and \
schema targets plan without writing.\n\n\
Exit codes: 0 all good, 1 a target or gate failed (or drifted with fail_on_diff), \
2 configuration or environment error, or another run holds the lock or the remote's lease.",
    after_help = "Examples:\n  driftsync run\n  driftsync run --target 'oca_*' --direction pull\n  driftsync run --dry-run\n  driftsync run --verify --fail-fast --ci\n  driftsync run --retry 2          # re-run failed idempotent targets\n  driftsync run --schedule '0 2 * * *' --no-commit --report-dir out/\n  GITHUB_TOKEN=… driftsync run --push --direction pull\n  GITHUB_TOKEN=… driftsync run --pull-request --target nightly --pr-label sync --pr-reviewer octocat\n  driftsync run --pull-request --pr-draft --pr-auto-merge squash\n  SLACK_WEBHOOK_URL=… driftsync run --ci\n  driftsync run --no-notify\n\n\
Entrypoints get DRIFTSYNC_TARGET, DRIFTSYNC_DIRECTION, DRIFTSYNC_DRY_RUN (1 in a dry run), \
DRIFTSYNC_CHECK, DRIFTSYNC_FORCE, DRIFTSYNC_CONFIG (the target's config: as JSON), DRIFTSYNC_ROOT and the target's env."
)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Change nothing: run only command targets with `dry_run: true` (with
    /// DRIFTSYNC_DRY_RUN=1), list the others and command gates; no state, no commit
    #[arg(long)]
    pub dry_run: bool,
    /// Run each target's verification command after it
    #[arg(long)]
    pub verify: bool,
    /// Stop at the first failed target
    #[arg(long)]
    pub fail_fast: bool,
    /// Run a failed target again, up to N more times, when it is idempotent
    /// (the default; `idempotent: false` targets are never re-run)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry: u32,
    /// Run push targets even when their inputs are unchanged, and apply sync
    /// targets despite their safety checks (max_delete, an empty side)
    #[arg(long)]
    pub force: bool,
    /// Do not commit (same as `git_commit: false`); nothing is pushed either
    #[arg(long)]
    pub no_commit: bool,
    /// Push the commit to the branch's upstream (same as `git_push: true`)
    #[arg(long, conflicts_with = "no_push")]
    pub push: bool,
    /// Never push (same as `git_push: false`)
    #[arg(long)]
    pub no_push: bool,
    #[command(flatten)]
    pub out: ReportArgs,
    #[command(flatten)]
    pub pr: PullRequestArgs,
}

/// `run --pull-request` and its settings (each overrides `defaults.pull_request`).
#[derive(Debug, Args, Clone, Default)]
pub struct PullRequestArgs {
    /// Propose the commit as a pull request: commit to a branch of its own,
    /// push it, open or update one pull request (needs GITHUB_TOKEN and GITHUB_REPOSITORY)
    #[arg(long, conflicts_with_all = ["no_commit", "no_push", "push"])]
    pub pull_request: bool,
    /// The pull request's branch [default: driftsync/<target>, or driftsync/<schedule or 'sync'>]
    #[arg(long, value_name = "NAME", requires = "pull_request")]
    pub pr_branch: Option<String>,
    /// Label to add to a new pull request (repeatable)
    #[arg(long = "pr-label", value_name = "LABEL", requires = "pull_request")]
    pub pr_labels: Vec<String>,
    /// User to request a review from on a new pull request (repeatable)
    #[arg(long = "pr-reviewer", value_name = "USER", requires = "pull_request")]
    pub pr_reviewers: Vec<String>,
    /// Open the pull request as a draft
    #[arg(long, requires = "pull_request")]
    pub pr_draft: bool,
    /// Enable auto-merge on a new pull request with this method
    #[arg(long, value_name = "METHOD", value_parser = ["merge", "squash", "rebase"], requires = "pull_request")]
    pub pr_auto_merge: Option<String>,
}

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<Exit> {
    let opts = RunOptions {
        command: "run".into(),
        dry_run: args.dry_run,
        check: false,
        verify: args.verify,
        force: args.force,
        fail_fast: args.fail_fast,
        ci: global.in_ci(),
        commit: !args.no_commit,
        github_actions: env::is_true(env::GITHUB_ACTIONS),
        push: match (args.push, args.no_push) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        git_token: env::git_token(),
        retries: args.retry,
        proposal_branch: None,
        same_base: Some(driftsync_engine::state::State::same_result),
    };
    execute_with(
        global,
        &args.select,
        opts,
        &args.out,
        args.pr.pull_request.then_some(&args.pr),
    )
}

/// Where `run` and `check` put their report, and whether they notify.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to write report.json and report.md [default: .driftsync/reports]
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Print report.json to stdout instead of the human summary
    #[arg(long)]
    pub json: bool,
    /// Send no notification (`notify:` in sync.yaml); also DRIFTSYNC_NO_NOTIFY=1
    #[arg(long)]
    pub no_notify: bool,
}

/// Shared by `run` and `check`: load, select, run, report, exit code.
pub fn execute(
    global: &Global,
    select: &SelectArgs,
    opts: RunOptions,
    out: &ReportArgs,
) -> anyhow::Result<Exit> {
    execute_with(global, select, opts, out, None)
}

/// [`execute`], proposing the commit as a pull request when `pr` is given.
fn execute_with(
    global: &Global,
    select: &SelectArgs,
    mut opts: RunOptions,
    out: &ReportArgs,
    pr: Option<&PullRequestArgs>,
) -> anyhow::Result<Exit> {
    let (report_dir, json, no_notify) = (out.report_dir.as_ref(), out.json, out.no_notify);
    let config = crate::workspace::load_unset_allowed(global)?;
    let targets = select.select(&config)?;
    config.require_env(targets.iter().copied())?;
    // Everything pull-request mode needs is checked before any target runs.
    let plan = match pr {
        Some(args) => {
            let plan = pull_request::Plan::resolve(&config, &targets, select, args, &opts)?;
            opts.proposal_branch = Some(plan.branch.clone());
            Some(plan)
        }
        None => None,
    };
    let masker = Masker::from_config(&config, std::env::vars());
    let in_actions = opts.github_actions;
    if in_actions {
        // Before anything else is printed: GitHub hides these from the log.
        crate::github::mask(&masker)?;
    }
    let printer = human::Human::new(opts.ci, &masker);
    let silent = driftsync_runner::Silent;
    let events: &dyn driftsync_runner::Events = if json { &silent } else { &printer };
    if targets.is_empty() && !json {
        stdout::line("no target selected")?;
    }
    let report = driftsync_runner::run(
        &config,
        &targets,
        &crate::targets::all(crate::targets::sync::SyncExecutor {
            verbose: global.verbose,
            bars: !json && !opts.ci && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }),
        &opts,
        &masker,
        events,
    );
    // From here on only the masked report exists: files, stdout, GitHub.
    let report = masker.mask_report(&report).context("masking the report")?;
    let dir = match report_dir {
        Some(d) => crate::workspace::start_dir()?.join(d),
        None => config.root.join(report_files::DEFAULT_DIR),
    };
    let (jp, mp) = report_files::write(&report, &dir, &masker)?;
    if in_actions {
        crate::github::publish_written(&jp, &mp, &dir, &masker);
    }
    if !(no_notify || env::is_true(env::DRIFTSYNC_NO_NOTIFY) || report.dry_run) {
        crate::notify::send(&config, &report, &masker, in_actions);
    }
    if json {
        stdout::line(&masker.mask(&serde_json::to_string_pretty(&report)?))?;
    } else {
        stdout::write(&masker.mask(&format!(
            "{}  report: {}\n",
            human::summary(&report),
            jp.display()
        )))?;
    }
    let mut exit = Exit::of_report(&report);
    if let Some(plan) = &plan {
        let markdown =
            std::fs::read_to_string(&mp).with_context(|| format!("reading {}", mp.display()))?;
        let text = match plan.publish(&report, &markdown, opts.dry_run || config.defaults.dry_run) {
            Ok(lines) => lines,
            Err(e) => {
                exit = Exit::Usage;
                vec![format!("error: pull request: {e:#}")]
            }
        };
        for line in text {
            if json {
                eprintln!("{}", masker.mask(&line));
            } else {
                stdout::line(&masker.mask(&line))?;
            }
        }
    }
    Ok(exit)
}

/// `pull`, `push` or `bidirectional`, or one of their aliases.
fn parse_direction(s: &str) -> Result<Direction, String> {
    s.parse()
}
