//! Proposing a run's commit as a pull request (`run --pull-request`): one
//! open pull request per branch, found by `head`, opened with labels,
//! reviewers, draft and auto-merge, its body (the report) rewritten only
//! when it changed; closed with a comment, and its branch deleted, when the
//! run no longer changes anything.

use http::Method;
use serde_json::{json, Value};

use crate::client::RestClient;
use crate::files::truncate_markdown;
use crate::{GithubError, Result};

/// GitHub rejects pull-request bodies longer than 65,536 characters.
pub const BODY_LIMIT: usize = 65_536;

/// The pull-request body: the report's Markdown, cut below [`BODY_LIMIT`].
pub fn body(markdown: &str) -> String {
    truncate_markdown(
        markdown.trim_end(),
        BODY_LIMIT,
        "The full report is in the job summary and the report artifact of the run.",
    )
}

/// The GraphQL endpoint beside the REST API at `api_url`:
/// `https://api.github.com` → `https://api.github.com/graphql`,
/// `https://HOST/api/v3` (GitHub Enterprise Server) → `https://HOST/api/graphql`.
pub fn graphql_url(api_url: &str) -> String {
    let base = api_url.trim_end_matches('/');
    match base.strip_suffix("/api/v3") {
        Some(server) => format!("{server}/api/graphql"),
        None => format!("{base}/graphql"),
    }
}

/// The report with what changes on every run even when the result does not
/// — timestamps (`2026-01-02T03:04:05Z`), durations (`1.5s`) and the line
/// saying where the commit was pushed — put aside, for comparing bodies.
pub fn stable_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.replace("\r\n", "\n").trim_end().lines() {
        if line.starts_with("Pushed `") {
            continue;
        }
        out.push_str(&stable_line(line));
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn stable_line(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        if c.is_ascii_digit() && starts_word {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || ".:-+TZ".contains(chars[j])) {
                j += 1;
            }
            let run: String = chars[i..j].iter().collect();
            let ends_word = |k: usize| k >= chars.len() || !chars[k].is_alphanumeric();
            let is_time =
                run.len() >= 20 && run.as_bytes().get(4) == Some(&b'-') && run.contains('T');
            let is_duration = j < chars.len()
                && chars[j] == 's'
                && ends_word(j + 1)
                && run.chars().all(|c| c.is_ascii_digit() || c == '.');
            if is_time {
                out.push_str("<time>");
                i = j;
                continue;
            }
            if is_duration {
                out.push_str("<duration>s");
                i = j + 1;
                continue;
            }
            out.push_str(&run);
            i = j;
            continue;
        }
        if c.is_alphanumeric() {
            // A word (`v1.5s`, `sha256`): copied whole, digits and dots included.
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Percent-encode what a branch name may hold that a URL would misread
/// (`/` and `:` stay: GitHub expects them literally).
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '%' | '#' | '&' | '+' | '=' | '"' | '<' | '>' | '`' | '{' | '}' | '|' => {
                out.push_str(&format!("%{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// What to propose.
#[derive(Clone, Debug, Default)]
pub struct Proposal {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The branch holding the commit (in the same repository).
    pub branch: String,
    /// The branch to merge into.
    pub base: String,
    /// The title of a new pull request.
    pub title: String,
    /// The body (see [`body`]).
    pub body: String,
    /// Labels added when the pull request is opened.
    pub labels: Vec<String>,
    /// Reviewers requested when the pull request is opened.
    pub reviewers: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
    /// Auto-merge method (`merge`, `squash`, `rebase`) enabled when opened.
    pub auto_merge: Option<String>,
}

/// An open pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
}

/// What [`propose`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalOutcome {
    /// A new pull request was opened; `warnings` are the optional parts
    /// (reviewers, auto-merge) GitHub refused.
    Opened {
        /// The pull request.
        pr: PullRequest,
        /// What did not work out, for the log.
        warnings: Vec<String>,
    },
    /// The open pull request's body was rewritten.
    Updated {
        /// The pull request.
        pr: PullRequest,
    },
    /// The open pull request already said this; nothing was written.
    Unchanged {
        /// The pull request.
        pr: PullRequest,
    },
}

fn pr_of(v: &Value) -> Option<(PullRequest, String, String)> {
    Some((
        PullRequest {
            number: v.get("number")?.as_u64()?,
            url: v
                .get("html_url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        v.get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        v.get("node_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    ))
}

/// The open pull request from `owner:branch`, with its body and node id.
async fn find_open(
    client: &RestClient,
    owner: &str,
    repo: &str,
    branch: &str,
) -> Result<Option<(PullRequest, String, String)>> {
    let head = escape(&format!("{owner}:{branch}"));
    let list = format!("/repos/{owner}/{repo}/pulls?head={head}&state=open&per_page=100");
    let pulls = client
        .get_all(&list, "listing the branch's open pull requests")
        .await?;
    Ok(pulls.iter().find_map(pr_of))
}

/// The open pull request from `branch`, if any.
pub async fn open_pull_request(
    client: &RestClient,
    owner: &str,
    repo: &str,
    branch: &str,
) -> Result<Option<PullRequest>> {
    Ok(find_open(client, owner, repo, branch)
        .await?
        .map(|(pr, _, _)| pr))
}

/// Open a pull request from `p.branch` into `p.base`, or rewrite the open
/// one's body when its report changed (ignoring times and durations).
/// `graphql` is the GraphQL endpoint (see [`graphql_url`]) for auto-merge.
pub async fn propose(client: &RestClient, graphql: &str, p: &Proposal) -> Result<ProposalOutcome> {
    let (owner, repo) = (&p.owner, &p.repo);
    if let Some((pr, existing, _)) = find_open(client, owner, repo, &p.branch).await? {
        if stable_text(&existing) == stable_text(&p.body) {
            return Ok(ProposalOutcome::Unchanged { pr });
        }
        client
            .send(
                Method::PATCH,
                &format!("/repos/{owner}/{repo}/pulls/{}", pr.number),
                Some(&json!({ "body": p.body })),
                "updating the pull request's body",
            )
            .await?;
        return Ok(ProposalOutcome::Updated { pr });
    }
    let created = client
        .send(
            Method::POST,
            &format!("/repos/{owner}/{repo}/pulls"),
            Some(&json!({
                "title": p.title,
                "head": p.branch,
                "base": p.base,
                "body": p.body,
                "draft": p.draft,
            })),
            "opening the pull request",
        )
        .await?
        .json("opening the pull request")?;
    let (pr, _, node_id) = pr_of(&created).ok_or_else(|| GithubError::Transport {
        what: "opening the pull request".into(),
        message: "the answer has no `number`".into(),
    })?;
    let mut warnings = Vec::new();
    if !p.labels.is_empty() {
        // Labels are what people filter on: failing to add them fails the step.
        client
            .send(
                Method::POST,
                &format!("/repos/{owner}/{repo}/issues/{}/labels", pr.number),
                Some(&json!({ "labels": p.labels })),
                "labelling the pull request",
            )
            .await?;
    }
    if !p.reviewers.is_empty() {
        if let Err(e) = client
            .send(
                Method::POST,
                &format!(
                    "/repos/{owner}/{repo}/pulls/{}/requested_reviewers",
                    pr.number
                ),
                Some(&json!({ "reviewers": p.reviewers })),
                "requesting reviewers",
            )
            .await
        {
            warnings.push(format!(
                "{e} (a reviewer must be a collaborator, and cannot be the token's own user)"
            ));
        }
    }
    if let Some(method) = &p.auto_merge {
        if let Err(e) = enable_auto_merge(client, graphql, &node_id, method).await {
            warnings.push(e.to_string());
        }
    }
    Ok(ProposalOutcome::Opened { pr, warnings })
}

/// The GraphQL mutation enabling auto-merge.
pub const ENABLE_AUTO_MERGE: &str = "mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod}) { pullRequest { number } } }";

async fn enable_auto_merge(
    client: &RestClient,
    graphql: &str,
    node_id: &str,
    method: &str,
) -> Result<()> {
    let what = "enabling auto-merge";
    let answer = client
        .send(
            Method::POST,
            graphql,
            Some(&json!({
                "query": ENABLE_AUTO_MERGE,
                "variables": {
                    "pullRequestId": node_id,
                    "mergeMethod": method.to_ascii_uppercase(),
                },
            })),
            what,
        )
        .await?
        .json(what)?;
    // GraphQL reports failures with 200 and an `errors` list.
    if let Some(errors) = answer.get("errors").and_then(Value::as_array) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .collect();
        return Err(GithubError::Api {
            what: what.into(),
            status: 200,
            message: format!(
                "{} (the repository must allow auto-merge, and the base branch needs a protection rule)",
                messages.join("; ")
            ),
        });
    }
    Ok(())
}

/// Close the open pull request from `branch` with a comment saying `why`,
/// then delete the branch. Returns the closed pull request, `None` when
/// none was open (then the branch is left alone).
pub async fn withdraw(
    client: &RestClient,
    owner: &str,
    repo: &str,
    branch: &str,
    why: &str,
) -> Result<Option<PullRequest>> {
    let Some((pr, _, _)) = find_open(client, owner, repo, branch).await? else {
        return Ok(None);
    };
    client
        .send(
            Method::POST,
            &format!("/repos/{owner}/{repo}/issues/{}/comments", pr.number),
            Some(&json!({ "body": why })),
            "commenting on the pull request before closing it",
        )
        .await?;
    client
        .send(
            Method::PATCH,
            &format!("/repos/{owner}/{repo}/pulls/{}", pr.number),
            Some(&json!({ "state": "closed" })),
            "closing the pull request",
        )
        .await?;
    match client
        .send(
            Method::DELETE,
            &format!("/repos/{owner}/{repo}/git/refs/heads/{}", escape(branch)),
            None,
            "deleting the pull request's branch",
        )
        .await
    {
        // Already deleted (by "Automatically delete head branches", or a person).
        Err(GithubError::Api { status: 422, .. }) | Err(GithubError::Api { status: 404, .. }) => {}
        other => {
            other?;
        }
    }
    Ok(Some(pr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_sits_beside_the_rest_api() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:4000"),
            "http://127.0.0.1:4000/graphql"
        );
    }

    #[test]
    fn bodies_compare_without_times_durations_and_the_push_line() {
        let a = "## driftsync run — ✅ in sync\n\n1 target(s): 1 successful, 0 failed · 0.4s · 2026-11-30T18:00:00.123Z\n\n| `t` | command | pull | ok | 0.2s | wrote 12 files |\nCommitted `abc`.\n\nPushed `abc` to `b` on `origin` (url).\n";
        let b = "## driftsync run — ✅ in sync\n\n1 target(s): 1 successful, 0 failed · 12.0s · 2026-12-01T02:00:00Z\n\n| `t` | command | pull | ok | 3.1s | wrote 12 files |\nCommitted `abc`.\n";
        assert_eq!(stable_text(a), stable_text(b));
        let c = b.replace("wrote 12 files", "wrote 13 files");
        assert_ne!(stable_text(a), stable_text(&c));
        let d = b.replace("Committed `abc`", "Committed `abd`");
        assert_ne!(stable_text(a), stable_text(&d));
        // Numbers that are not durations stay.
        assert_eq!(
            stable_line("2 files, 3s, v1.5s, 10 s"),
            "2 files, <duration>s, v1.5s, 10 s"
        );
    }

    #[test]
    fn branch_names_are_escaped_for_urls() {
        assert_eq!(escape("o:driftsync/a_b-1.2"), "o:driftsync/a_b-1.2");
        assert_eq!(escape("o:x#1&y+z%"), "o:x%231%26y%2Bz%25");
    }

    #[test]
    fn the_body_fits_githubs_limit() {
        let huge = "| a | b |\n".repeat(20_000);
        let b = body(&huge);
        assert!(b.chars().count() <= BODY_LIMIT);
        assert!(b.contains("Truncated"));
        assert_eq!(body("# r\n\n"), "# r");
    }
}
