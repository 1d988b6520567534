//! The sticky pull-request comment: one per workflow, job and matrix leg (or
//! one for a merged report), found by a hidden marker **and** its author on
//! any page of comments, updated in place, untouched when the report did not
//! change (time stamps and durations aside).

use driftsync_core::report::Report;
use http::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::client::RestClient;
use crate::files::truncate_markdown;
use crate::{GithubError, Result};

/// GitHub rejects issue comments longer than 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// The login of comments written with the Actions `GITHUB_TOKEN`.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

fn clean(s: &str) -> String {
    s.replace("--", "-")
        .replace('>', ")")
        .replace(['\n', '\r'], " ")
}

/// The hidden marker `<!-- driftsync:<workflow>/<job> -->`. Characters that
/// would end the HTML comment early are replaced.
pub fn marker(workflow: &str, job: &str) -> String {
    marker_for(workflow, job, None)
}

/// The marker of one matrix leg, `<!-- driftsync:<workflow>/<job> [<leg>] -->`;
/// without a leg it is [`marker`]'s, so comments written outside a matrix are
/// still found.
pub fn marker_for(workflow: &str, job: &str, leg: Option<&str>) -> String {
    match leg {
        Some(leg) if !leg.is_empty() => format!(
            "<!-- driftsync:{}/{} [{}] -->",
            clean(workflow),
            clean(job),
            clean(leg).replace(['[', ']'], "")
        ),
        _ => format!("<!-- driftsync:{}/{} -->", clean(workflow), clean(job)),
    }
}

/// SHA-256 (hex) of the report without its time stamp and durations: two runs
/// that found the same things have the same digest.
pub fn report_digest(report: &Report) -> String {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("timestamp");
        o.remove("total_duration");
        if let Some(Value::Array(targets)) = o.get_mut("results") {
            for t in targets {
                if let Some(t) = t.as_object_mut() {
                    t.remove("duration");
                }
            }
        }
    }
    let hex: String = Sha256::digest(v.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex
}

/// The hidden line carrying a report's digest in the comment body.
pub fn digest_line(digest: &str) -> String {
    format!("<!-- driftsync-digest:{digest} -->")
}

fn digest_in(body: &str) -> Option<&str> {
    let start = body.find("<!-- driftsync-digest:")? + "<!-- driftsync-digest:".len();
    let rest = &body[start..];
    Some(&rest[..rest.find(" -->")?])
}

/// The comment body: marker, then the Markdown, cut below [`COMMENT_LIMIT`]
/// with a pointer to the full report at `full_report_url`.
pub fn body(marker: &str, markdown: &str, full_report_url: &str) -> String {
    body_stamped(marker, None, markdown, full_report_url, "driftsync-report")
}

/// [`body`] with the report's digest on a hidden second line (so an unchanged
/// report is recognised whatever its time stamps) and the artifact's name in
/// the truncation note.
pub fn body_stamped(
    marker: &str,
    digest: Option<&str>,
    markdown: &str,
    full_report_url: &str,
    artifact: &str,
) -> String {
    let head = match digest {
        Some(d) => format!("{marker}\n{}\n", digest_line(d)),
        None => format!("{marker}\n"),
    };
    let note = format!(
        "The full report is in the job summary and the `{artifact}` artifact of [this run]({full_report_url})."
    );
    let room = COMMENT_LIMIT - head.len();
    format!(
        "{head}{}",
        truncate_markdown(markdown.trim_end(), room, &note)
    )
}

/// Bodies compare equal when they carry the same report digest, or differ
/// only in line endings or trailing space (GitHub may normalise both).
pub fn same_body(a: &str, b: &str) -> bool {
    if let (Some(x), Some(y)) = (digest_in(a), digest_in(b)) {
        return x == y;
    }
    a.replace("\r\n", "\n").trim_end() == b.replace("\r\n", "\n").trim_end()
}

/// The first comment (in list order) whose first line is `marker` and, when
/// `author` is given, whose `user.login` is `author`: `(id, body)`. A
/// person's comment quoting the marker is never picked.
pub fn find_marked<'a>(
    comments: &'a [Value],
    marker: &str,
    author: Option<&str>,
) -> Option<(u64, &'a str)> {
    comments.iter().find_map(|c| {
        let body = c.get("body")?.as_str()?;
        let first = body.lines().next().unwrap_or("").trim_end();
        let by = c.pointer("/user/login").and_then(Value::as_str);
        let author_ok = author.is_none_or(|a| by.is_some_and(|b| b.eq_ignore_ascii_case(a)));
        (first == marker && author_ok)
            .then(|| Some((c.get("id")?.as_u64()?, body)))
            .flatten()
    })
}

/// The login comments written with this token carry: `override_login` when
/// given (`DRIFTSYNC_COMMENT_AUTHOR`), else `GET /user`'s `login` for a user
/// token; an installation token (the Actions `GITHUB_TOKEN`) may not call
/// `/user` (403), its comments are by [`ACTIONS_BOT`].
pub async fn token_login(client: &RestClient, override_login: Option<&str>) -> Result<String> {
    if let Some(l) = override_login.map(str::trim).filter(|l| !l.is_empty()) {
        return Ok(l.to_string());
    }
    match client
        .send_retrying(Method::GET, "/user", None, "reading the token's user")
        .await
    {
        Ok(r) => r
            .json("reading the token's user")?
            .get("login")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| GithubError::Transport {
                what: "reading the token's user".into(),
                message: "the answer has no login".into(),
            }),
        Err(GithubError::Forbidden { .. }) => Ok(ACTIONS_BOT.to_string()),
        Err(e) => Err(e),
    }
}

/// What [`upsert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentOutcome {
    /// A new comment was posted.
    Created {
        /// Its id.
        id: u64,
    },
    /// The existing comment was changed.
    Updated {
        /// Its id.
        id: u64,
    },
    /// The existing comment already said this; nothing was written.
    Unchanged {
        /// Its id.
        id: u64,
    },
    /// The token may not comment (a fork): a warning to show, not a failure.
    Forbidden {
        /// What to tell the user.
        warning: String,
    },
}

/// Create or update the sticky comment on pull request `number` of
/// `owner/repo`: the comment whose first line is `marker` and whose author is
/// `author` (any author when `None`). Writes go through
/// [`RestClient::send_retrying`] (5xx retried with backoff).
pub async fn upsert(
    client: &RestClient,
    owner: &str,
    repo: &str,
    number: u64,
    marker: &str,
    body: &str,
    author: Option<&str>,
) -> Result<CommentOutcome> {
    match upsert_inner(client, owner, repo, number, marker, body, author).await {
        Err(e @ GithubError::Forbidden { .. }) => Ok(CommentOutcome::Forbidden {
            warning: format!("PR comment not written: {e}"),
        }),
        other => other,
    }
}

async fn upsert_inner(
    client: &RestClient,
    owner: &str,
    repo: &str,
    number: u64,
    marker: &str,
    body: &str,
    author: Option<&str>,
) -> Result<CommentOutcome> {
    let list = format!("/repos/{owner}/{repo}/issues/{number}/comments?per_page=100");
    let comments = client.get_all(&list, "listing PR comments").await?;
    if let Some((id, existing)) = find_marked(&comments, marker, author) {
        let unchanged = CommentOutcome::Unchanged { id };
        return settle(client, owner, repo, id, existing, body, unchanged).await;
    }
    create(client, &list, owner, repo, number, marker, body, author).await
}

/// The marked comment `id` found holding `existing`: left alone (`unchanged`)
/// when it already says `body`, else PATCHed to it.
async fn settle(
    client: &RestClient,
    owner: &str,
    repo: &str,
    id: u64,
    existing: &str,
    body: &str,
    unchanged: CommentOutcome,
) -> Result<CommentOutcome> {
    if same_body(existing, body) {
        return Ok(unchanged);
    }
    client
        .send_retrying(
            Method::PATCH,
            &format!("/repos/{owner}/{repo}/issues/comments/{id}"),
            Some(&json!({ "body": body })),
            "updating the PR comment",
        )
        .await?;
    Ok(CommentOutcome::Updated { id })
}

/// POST the comment. A 5xx (or a rate limit with a short `retry-after`) is
/// retried with backoff, but first the comments are listed again: GitHub may
/// have stored the comment before the error, and a second POST would leave two.
#[allow(clippy::too_many_arguments)]
async fn create(
    client: &RestClient,
    list: &str,
    owner: &str,
    repo: &str,
    number: u64,
    marker: &str,
    body: &str,
    author: Option<&str>,
) -> Result<CommentOutcome> {
    let what = "creating the PR comment";
    let policy = client.policy();
    let mut wait = policy.backoff;
    let mut attempt = 1;
    loop {
        let outcome = client
            .send(
                Method::POST,
                &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                Some(&json!({ "body": body })),
                what,
            )
            .await;
        let pause = match &outcome {
            Err(GithubError::Api { status, .. }) if *status >= 500 => Some(wait),
            Err(GithubError::RateLimited {
                retry_after: Some(after),
                ..
            }) if *after <= policy.max_retry_after => Some(*after),
            _ => None,
        };
        match (outcome, pause) {
            (Ok(response), _) => {
                let created = response.json(what)?;
                let id = created.get("id").and_then(Value::as_u64).unwrap_or(0);
                return Ok(CommentOutcome::Created { id });
            }
            (Err(e), None) => return Err(e),
            (Err(e), Some(_)) if attempt >= policy.attempts.max(1) => return Err(e),
            (Err(_), Some(p)) => {
                tokio::time::sleep(p).await;
                let comments = client.get_all(list, "listing PR comments").await?;
                if let Some((id, existing)) = find_marked(&comments, marker, author) {
                    // GitHub stored the first POST after all.
                    let created = CommentOutcome::Created { id };
                    return settle(client, owner, repo, id, existing, body, created).await;
                }
                wait = wait.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names_workflow_and_job_and_stays_a_comment() {
        assert_eq!(marker("sync", "check"), "<!-- driftsync:sync/check -->");
        let m = marker("a-->b", "j>");
        assert_eq!(m.matches("-->").count(), 1, "{m}");
        assert!(m.ends_with(" -->"));
    }

    #[test]
    fn body_starts_with_the_marker_and_fits() {
        let m = marker("w", "j");
        let b = body(&m, "# Report\n", "https://github.com/o/r/actions/runs/1");
        assert_eq!(b, format!("{m}\n# Report"));
        let huge = "| a | b |\n".repeat(20_000);
        let b = body(&m, &huge, "https://github.com/o/r/actions/runs/1");
        assert!(b.chars().count() <= COMMENT_LIMIT);
        assert!(b.starts_with(&m));
        assert!(b.contains("[this run](https://github.com/o/r/actions/runs/1)"));
    }

    #[test]
    fn finds_the_first_marked_comment() {
        let comments = serde_json::json!([
            {"id": 1, "body": "hello"},
            {"id": 2, "body": "<!-- driftsync:w/other -->\nx"},
            {"id": 3, "body": "<!-- driftsync:w/j -->\nold"},
            {"id": 4, "body": "<!-- driftsync:w/j -->\ndup"},
        ]);
        let list = comments.as_array().unwrap();
        assert_eq!(
            find_marked(list, "<!-- driftsync:w/j -->", None),
            Some((3, "<!-- driftsync:w/j -->\nold"))
        );
        assert_eq!(find_marked(list, "<!-- driftsync:x/j -->", None), None);
    }

    #[test]
    fn a_leg_has_its_own_marker_and_none_keeps_the_old_one() {
        assert_eq!(marker_for("sync", "check", None), marker("sync", "check"));
        let a = marker_for("sync", "check", Some("linux, 1"));
        let b = marker_for("sync", "check", Some("macos, 1"));
        assert_eq!(a, "<!-- driftsync:sync/check [linux, 1] -->");
        assert_ne!(a, b);
        assert!(!a.contains(&marker("sync", "check")));
        let odd = marker_for("w", "j", Some("a-->]b"));
        assert_eq!(odd.matches("-->").count(), 1, "{odd}");
    }

    #[test]
    fn only_the_authors_comment_counts() {
        let m = "<!-- driftsync:w/j -->";
        let comments = serde_json::json!([
            {"id": 1, "user": {"login": "mallory"}, "body": format!("{m}\nquoted")},
            {"id": 2, "user": {"login": "alice"}, "body": format!("> {m}\nsee above")},
            {"id": 3, "user": {"login": "github-actions[bot]"}, "body": format!("{m}\nreport")},
        ]);
        let list = comments.as_array().unwrap();
        assert_eq!(
            find_marked(list, m, Some(ACTIONS_BOT)).map(|c| c.0),
            Some(3)
        );
        assert_eq!(find_marked(list, m, Some("nobody")), None);
    }

    #[test]
    fn the_digest_ignores_time_and_durations() {
        let mut r: Report = serde_json::from_str(include_str!(
            "../../../fixtures/github/report-drift/report.json"
        ))
        .unwrap();
        let d = report_digest(&r);
        r.timestamp = "2026-02-02T00:00:00Z".into();
        r.total_duration = 9.0;
        r.targets[0].duration = 9.0;
        assert_eq!(report_digest(&r), d);
        r.targets[0].message = "other".into();
        assert_ne!(report_digest(&r), d);
        let a = body_stamped("<!-- m -->", Some(&d), "took 1.5 s", "u", "x");
        let b = body_stamped("<!-- m -->", Some(&d), "took 9.0 s", "u2", "x");
        assert!(same_body(&a, &b));
        assert!(!same_body(
            &a,
            &body_stamped("<!-- m -->", Some("0"), "took 1.5 s", "u", "x")
        ));
    }

    #[test]
    fn bodies_equal_modulo_crlf_and_trailing_space() {
        assert!(same_body("a\r\nb\n", "a\nb"));
        assert!(!same_body("a\nb", "a\nc"));
    }
}
