//! `run --pull-request`: what to propose, resolved (and every missing piece
//! reported) before any target runs; then the pull request opened, updated
//! or closed from the written report.

use anyhow::{bail, Context};
use driftsync_config::{valid_branch_name, Config, Target};
use driftsync_core::redact::Secret;
use driftsync_core::report::{GatePhase, Report};
use driftsync_github::client::{block_on, RestClient};
use driftsync_github::env as genv;
use driftsync_github::pulls::{self, ProposalOutcome, PullRequest};
use driftsync_github::workflow_commands;
use driftsync_runner::RunOptions;

use super::{PullRequestArgs, SelectArgs};

/// The REST API used when `GITHUB_API_URL` is unset.
const DEFAULT_API_URL: &str = "https://api.github.com";

/// Everything needed to propose the run's commit.
pub struct Plan {
    /// The branch the commit goes to.
    pub branch: String,
    base: String,
    owner: String,
    repo: String,
    api_url: String,
    token: Secret,
    title: String,
    labels: Vec<String>,
    reviewers: Vec<String>,
    draft: bool,
    auto_merge: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `0 2 * * *` → `0-2-x-x-x`: a cron as a branch-name part.
fn cron_slug(cron: &str) -> String {
    let mut out = String::new();
    for c in cron.chars() {
        let c = match c {
            '*' => 'x',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

impl Plan {
    /// Resolve branch, base, repository, API and token; a missing one is an
    /// error naming it (exit 2, nothing run or pushed).
    pub fn resolve(
        config: &Config,
        targets: &[&Target],
        select: &SelectArgs,
        args: &PullRequestArgs,
        opts: &RunOptions,
    ) -> anyhow::Result<Plan> {
        let settings = &config.defaults.pull_request;
        let token = opts.git_token.clone().context(
            "--pull-request needs a token to push the branch and open the pull request: set GITHUB_TOKEN \
             (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}` with `permissions: contents: write, \
             pull-requests: write`) or DRIFTSYNC_GIT_TOKEN",
        )?;
        let repository = var(genv::GITHUB_REPOSITORY).context(
            "--pull-request needs GITHUB_REPOSITORY (owner/name of the GitHub repository the pull request \
             is opened in); GitHub Actions sets it, elsewhere export it",
        )?;
        let Some((owner, repo)) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        else {
            bail!("GITHUB_REPOSITORY is `{repository}`, not owner/name");
        };
        let api_url = var(genv::GITHUB_API_URL).unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let checkout = driftsync_git::Repo::open(&config.root)?;
        let base = match settings.base.clone() {
            Some(b) => b,
            None => checkout
                .current_branch()
                .or_else(|| var(crate::env::GITHUB_BASE_REF))
                .or_else(|| var(crate::env::GITHUB_REF_NAME))
                .context(
                    "--pull-request cannot tell which branch the pull request merges into: HEAD is not \
                     on a branch and GITHUB_BASE_REF / GITHUB_REF_NAME are unset; set \
                     `defaults.pull_request.base` in sync.yaml, or check out the base branch",
                )?,
        };
        let (default_branch, title) = match (targets, select.schedule()?) {
            ([one], _) => (
                format!("driftsync/{}", one.name),
                format!("driftsync: sync {}", one.name),
            ),
            (_, Some(cron)) => (
                format!("driftsync/{}", cron_slug(&cron)),
                format!("driftsync: sync the targets scheduled at `{cron}`"),
            ),
            _ => ("driftsync/sync".to_string(), "driftsync: sync".to_string()),
        };
        let branch = args
            .pr_branch
            .clone()
            .or_else(|| settings.branch.clone())
            .unwrap_or(default_branch);
        if !valid_branch_name(&branch) {
            bail!(
                "`{branch}` is not a valid branch name for --pr-branch (letters, digits, `-`, `_`, `.`, `/`)"
            );
        }
        if branch == base {
            bail!(
                "the pull request's branch `{branch}` is its base branch; choose another with --pr-branch"
            );
        }
        let or = |flag: &[String], cfg: &[String]| {
            if flag.is_empty() {
                cfg.to_vec()
            } else {
                flag.to_vec()
            }
        };
        Ok(Plan {
            branch,
            base,
            owner: owner.to_string(),
            repo: repo.to_string(),
            api_url,
            token,
            title,
            labels: or(&args.pr_labels, &settings.labels),
            reviewers: or(&args.pr_reviewers, &settings.reviewers),
            draft: args.pr_draft || settings.draft,
            auto_merge: args
                .pr_auto_merge
                .clone()
                .or_else(|| settings.auto_merge.clone()),
        })
    }

    /// The address of this workflow run, when in GitHub Actions.
    fn run_link() -> Option<String> {
        Some(format!(
            "{}/{}/actions/runs/{}",
            var(genv::GITHUB_SERVER_URL)?,
            var(genv::GITHUB_REPOSITORY)?,
            var(genv::GITHUB_RUN_ID)?
        ))
    }

    /// Open, update or close the pull request after the run wrote `report`
    /// and its `markdown`. Returns the lines to print. In GitHub Actions the
    /// step outputs `pull-request-operation` (`created`, `updated`,
    /// `unchanged`, `closed` or `none`), `pull-request-number` and
    /// `pull-request-url` say what happened.
    pub fn publish(
        &self,
        report: &Report,
        markdown: &str,
        dry_run: bool,
    ) -> anyhow::Result<Vec<String>> {
        let (mut lines, operation, pr) = self.publish_inner(report, markdown, dry_run)?;
        if let Some(file) = var(genv::GITHUB_OUTPUT) {
            let (number, url) = pr
                .map(|p| (p.number.to_string(), p.url))
                .unwrap_or_default();
            driftsync_github::files::write_outputs(
                std::path::Path::new(&file),
                &[
                    ("pull-request-operation", operation.to_string()),
                    ("pull-request-number", number),
                    ("pull-request-url", url),
                ],
            )
            .context("writing the pull request's step outputs")?;
        }
        if var(genv::GITHUB_ACTIONS).is_some_and(|v| v == "true") {
            for line in &mut lines {
                if let Some(w) = line.strip_prefix("warning: ") {
                    *line = workflow_commands::message(workflow_commands::Level::Warning, w);
                }
            }
        }
        Ok(lines)
    }

    #[allow(clippy::type_complexity)]
    fn publish_inner(
        &self,
        report: &Report,
        markdown: &str,
        dry_run: bool,
    ) -> anyhow::Result<(Vec<String>, &'static str, Option<PullRequest>)> {
        let at = format!("{}/{} {}", self.owner, self.repo, self.branch);
        if dry_run {
            return Ok((
                vec![format!(
                    "pull request: dry run, nothing proposed ({} into {})",
                    self.branch, self.base
                )],
                "none",
                None,
            ));
        }
        let failed_step = report
            .gates
            .iter()
            .any(|g| !g.passed && matches!(g.phase, GatePhase::Commit | GatePhase::Push));
        let (owner, repo) = (self.owner.as_str(), self.repo.as_str());
        if report.commit.is_some() && !failed_step {
            let proposal = pulls::Proposal {
                owner: owner.to_string(),
                repo: repo.to_string(),
                branch: self.branch.clone(),
                base: self.base.clone(),
                title: self.title.clone(),
                body: pulls::body(markdown),
                labels: self.labels.clone(),
                reviewers: self.reviewers.clone(),
                draft: self.draft,
                auto_merge: self.auto_merge.clone(),
            };
            let graphql = pulls::graphql_url(&self.api_url);
            let outcome = block_on(async {
                let client = RestClient::new(&self.api_url, &self.token)?;
                pulls::propose(&client, &graphql, &proposal).await
            })
            .with_context(|| format!("proposing {at} into {}", self.base))?;
            return Ok(match outcome {
                ProposalOutcome::Opened { pr, warnings } => {
                    let mut lines = vec![format!(
                        "pull request #{} opened: {} ({} into {})",
                        pr.number, pr.url, self.branch, self.base
                    )];
                    lines.extend(warnings.into_iter().map(|w| format!("warning: {w}")));
                    (lines, "created", Some(pr))
                }
                ProposalOutcome::Updated { pr } => (
                    vec![format!(
                        "pull request #{} updated (new report): {}",
                        pr.number, pr.url
                    )],
                    "updated",
                    Some(pr),
                ),
                ProposalOutcome::Unchanged { pr } => (
                    vec![format!("pull request #{} unchanged: {}", pr.number, pr.url)],
                    "unchanged",
                    Some(pr),
                ),
            });
        }
        if report.commit.is_none() && report.exit_code == 0 {
            let run = Self::run_link()
                .map(|l| format!(" ([this run]({l}))"))
                .unwrap_or_default();
            let why = format!(
                "driftsync{run} finds nothing to change relative to `{}` any more: the changes were merged, \
                 or are no longer needed. Closing this pull request and deleting `{}`.",
                self.base, self.branch
            );
            let closed = block_on(async {
                let client = RestClient::new(&self.api_url, &self.token)?;
                pulls::withdraw(&client, owner, repo, &self.branch, &why).await
            })
            .with_context(|| format!("closing the pull request of {at}"))?;
            return Ok(match closed {
                Some(pr) => (
                    vec![format!(
                        "pull request #{} closed (nothing left to propose), branch {} deleted",
                        pr.number, self.branch
                    )],
                    "closed",
                    Some(pr),
                ),
                None => (
                    vec![format!(
                        "pull request: nothing to propose ({} into {})",
                        self.branch, self.base
                    )],
                    "none",
                    None,
                ),
            });
        }
        Ok((
            vec![format!(
                "pull request: not touched (the run {}): {at}",
                if failed_step {
                    "could not commit or push"
                } else {
                    "failed before committing"
                }
            )],
            "none",
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_becomes_a_branch_name_part() {
        assert_eq!(cron_slug("0 2 * * *"), "0-2-x-x-x");
        assert_eq!(cron_slug("*/15 1,2 * * MON"), "x-15-1-2-x-x-MON");
        assert!(valid_branch_name(&format!(
            "driftsync/{}",
            cron_slug("*/5 * * * *")
        )));
    }
}
