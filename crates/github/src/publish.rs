//! Publishing a finished run to GitHub: outputs, job summary, annotations,
//! sticky PR comment, check run, artifact. Returns what happened and what to
//! print; the caller prints.

use std::path::{Path, PathBuf};

use driftsync_core::report::Report;

use crate::annotations::{annotations_for, AnnotationSet};
use crate::artifact::{ArtifactClient, Retry, Uploaded};
use crate::checks::{self, CheckOutcome};
use crate::client::{HttpPolicy, RestClient};
use crate::comment::{self, CommentOutcome};
use crate::env::ActionsEnv;
use crate::files;
use crate::workflow_commands::{message, Level};
use crate::{GithubError, Result};

/// What to publish besides outputs, summary and annotations.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// The folder holding `report.json` / `report.md`.
    pub report_dir: PathBuf,
    /// Write the sticky PR comment (pull-request events with a token).
    pub comment: bool,
    /// When to create a check run with every annotation (needs a token).
    pub check_run: CheckRunMode,
    /// Upload `report_dir` as this artifact when the runtime variables exist.
    pub artifact_name: Option<String>,
    /// Retry policy for the results service.
    pub retry: Retry,
    /// A merged report (`report merge`): its comment's marker names no
    /// matrix leg, so the merge job keeps one summary comment.
    pub merged: bool,
}

/// When a check run is created (there must be annotations and a token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckRunMode {
    /// Never (`DRIFTSYNC_CHECK_RUN=false`).
    Off,
    /// On pull-request events (`DRIFTSYNC_CHECK_RUN` unset); a token that may
    /// not write checks (a fork, no `checks: write`) is only a notice.
    #[default]
    PullRequests,
    /// On every event, attached to the PR head or `GITHUB_SHA`
    /// (`DRIFTSYNC_CHECK_RUN=true`); a refusal is a warning.
    Always,
}

impl CheckRunMode {
    /// From the value of `DRIFTSYNC_CHECK_RUN`.
    pub fn from_env_value(v: Option<&str>) -> CheckRunMode {
        match v.map(str::trim) {
            Some("true" | "1") => CheckRunMode::Always,
            Some("false" | "0") => CheckRunMode::Off,
            _ => CheckRunMode::PullRequests,
        }
    }
}

/// What publishing did, and the lines for the log (workflow commands).
#[derive(Clone, Debug, Default)]
pub struct Publication {
    /// Lines to print on stdout, in order (annotations, warnings, notices).
    pub lines: Vec<String>,
    /// True when the summary had to be truncated.
    pub summary_truncated: bool,
    /// The PR comment's fate, if one was attempted.
    pub comment: Option<CommentOutcome>,
    /// The check run's fate, if one was attempted.
    pub check: Option<CheckOutcome>,
    /// The uploaded artifact, if the binary uploaded it.
    pub artifact: Option<Uploaded>,
    /// The `artifact-name` step output written, if any.
    pub artifact_name: Option<String>,
}

const FORK_HINT: &str =
    "; a pull request from a fork gets a read-only token, so this is expected there";

/// The warning for a failed PR comment: a rate limit has its own words, a
/// refusal on a fork's pull request gets the fork hint.
fn comment_warning(env: &ActionsEnv, e: &GithubError) -> String {
    match e {
        GithubError::RateLimited { .. } => format!(
            "PR comment not written: {e}; the token hit GitHub's rate limit (not a permission problem), the next run writes it"
        ),
        GithubError::Forbidden { .. } if env.from_fork() => {
            format!("PR comment not written: {e}{FORK_HINT}")
        }
        _ => format!("PR comment not written: {e}"),
    }
}

/// The step outputs: `report-path`, `drift`, `failed`, `changed`.
pub fn outputs(report: &Report, report_dir: &Path) -> Vec<(&'static str, String)> {
    let mut changed: Vec<&str> = report
        .targets
        .iter()
        .flat_map(|t| t.outputs_created.iter().map(String::as_str))
        .collect();
    changed.sort_unstable();
    changed.dedup();
    vec![
        ("report-path", report_dir.display().to_string()),
        ("drift", report.has_drift().to_string()),
        ("failed", report.failed.to_string()),
        ("changed", changed.join("\n")),
    ]
}

/// Conclusion of a check run for this report.
pub fn conclusion(report: &Report) -> &'static str {
    if report.exit_code == 0 && report.failed == 0 && !report.has_drift() {
        "success"
    } else {
        "failure"
    }
}

/// Publish `report` (with its Markdown rendering) to the Actions environment.
/// Permission problems and network failures of the optional parts become
/// warnings in [`Publication::lines`]; only local file errors are errors.
pub async fn publish(
    env: &ActionsEnv,
    report: &Report,
    markdown: &str,
    options: &PublishOptions,
) -> Result<Publication> {
    let mut p = Publication::default();
    if let Some(out) = &env.output_file {
        files::write_outputs(out, &outputs(report, &options.report_dir))?;
    }
    if let Some(summary) = &env.summary_file {
        let note = format!(
            "The full report is `report.md` in the run's artifact: {}",
            env.run_url()
        );
        p.summary_truncated = files::write_summary(summary, markdown, &note)?;
    }
    let all = annotations_for(report);
    let set = AnnotationSet::limit(all.clone());
    p.lines.extend(set.lines());

    if let Some(token) = &env.token {
        let (owner, repo) = env.owner_repo()?;
        let client = RestClient::new(&env.api_url, token).map(|c| {
            c.with_policy(HttpPolicy {
                timeout: env.timeout,
                ..HttpPolicy::default()
            })
        });
        match client {
            Err(e) => p.lines.push(message(Level::Warning, &e.to_string())),
            Ok(client) => {
                if options.comment {
                    if let Some(number) = env.pull_request() {
                        let leg = if options.merged {
                            None
                        } else {
                            env.matrix.as_ref().map(|l| l.label())
                        };
                        let m = comment::marker_for(&env.workflow, &env.job, leg.as_deref());
                        let digest = comment::report_digest(report);
                        let artifact = options
                            .artifact_name
                            .clone()
                            .unwrap_or_else(|| env.artifact_name());
                        let body = comment::body_stamped(
                            &m,
                            Some(&digest),
                            markdown,
                            &env.run_url(),
                            &artifact,
                        );
                        let outcome = match comment::token_login(
                            &client,
                            env.comment_author.as_deref(),
                        )
                        .await
                        {
                            Ok(author) => {
                                comment::upsert(
                                    &client,
                                    owner,
                                    repo,
                                    number,
                                    &m,
                                    &body,
                                    Some(&author),
                                )
                                .await
                            }
                            Err(e) => Err(e),
                        };
                        match outcome {
                            Ok(o) => {
                                if let CommentOutcome::Forbidden { warning } = &o {
                                    let hint = if env.from_fork() { FORK_HINT } else { "" };
                                    p.lines
                                        .push(message(Level::Warning, &format!("{warning}{hint}")));
                                }
                                p.comment = Some(o);
                            }
                            Err(e) => p
                                .lines
                                .push(message(Level::Warning, &comment_warning(env, &e))),
                        }
                    }
                }
                let check_run = match options.check_run {
                    CheckRunMode::Off => false,
                    CheckRunMode::PullRequests => env.pull_request().is_some(),
                    CheckRunMode::Always => true,
                };
                if check_run && !all.is_empty() && !env.head_sha().is_empty() {
                    let title = format!(
                        "{} of {} target(s) failed or drifted",
                        report.failed, report.total_targets
                    );
                    match checks::create(
                        &client,
                        owner,
                        repo,
                        &format!("driftsync / {}", env.job),
                        env.head_sha(),
                        conclusion(report),
                        &title,
                        markdown,
                        &all,
                    )
                    .await
                    {
                        Ok(o) => {
                            if let CheckOutcome::Forbidden { warning } = &o {
                                let hint = if env.from_fork() { FORK_HINT } else { "" };
                                let warning = &format!("{warning}{hint}");
                                if options.check_run == CheckRunMode::Always {
                                    p.lines.push(message(Level::Warning, warning));
                                } else {
                                    p.lines.push(message(
                                        Level::Notice,
                                        &format!(
                                            "{warning} (give the job `checks: write`, or set DRIFTSYNC_CHECK_RUN=false)"
                                        ),
                                    ));
                                }
                            }
                            p.check = Some(o);
                        }
                        Err(e) => p.lines.push(message(
                            Level::Warning,
                            &format!("check run not created: {e}"),
                        )),
                    }
                }
            }
        }
    }

    if let Some(name) = &options.artifact_name {
        match (&env.runtime_token, &env.results_url) {
            (Some(token), Some(url)) => {
                let uploaded = match ArtifactClient::new(url, token.clone(), options.retry) {
                    Ok(c) => {
                        c.with_timeout(env.timeout)
                            .upload_dir(name, &options.report_dir)
                            .await
                    }
                    Err(e) => Err(e),
                };
                match uploaded {
                    Ok(u) => {
                        if let Some(taken) = &u.taken {
                            p.lines.push(message(
                                Level::Warning,
                                &format!(
                                    "artifact name {taken} is already taken in this run; uploaded as {} instead (set DRIFTSYNC_ARTIFACT_NAME to choose one)",
                                    u.name
                                ),
                            ));
                        }
                        p.lines.push(format!(
                            "artifact {}: uploaded ({} bytes, {}, id {})",
                            u.name, u.size, u.hash, u.id
                        ));
                        p.artifact_name = Some(u.name.clone());
                        p.artifact = Some(u);
                    }
                    Err(e) => p.lines.push(message(
                        Level::Warning,
                        &format!("artifact {name} not uploaded: {e}"),
                    )),
                }
            }
            _ => {
                p.lines.push(format!(
                    "artifact {name}: ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL not set; the action's upload step uploads {}",
                    options.report_dir.display()
                ));
                p.artifact_name = Some(name.clone());
            }
        }
        if let (Some(out), Some(n)) = (&env.output_file, &p.artifact_name) {
            files::write_outputs(out, &[("artifact-name", n.clone())])?;
        }
    }
    Ok(p)
}
