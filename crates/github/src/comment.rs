//! The sticky pull-request comment: one per workflow and job, found by a
//! hidden marker on any page of comments, updated in place, untouched when
//! nothing changed.

use http::Method;
use serde_json::{json, Value};

use crate::client::RestClient;
use crate::files::truncate_markdown;
use crate::{GithubError, Result};

/// GitHub rejects issue comments longer than 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// The hidden marker `<!-- driftsync:<workflow>/<job> -->`. Characters that
/// would end the HTML comment early are replaced.
pub fn marker(workflow: &str, job: &str) -> String {
    let clean = |s: &str| s.replace("--", "-").replace('>', ")").replace('\n', " ");
    format!("<!-- driftsync:{}/{} -->", clean(workflow), clean(job))
}

/// The comment body: marker, then the Markdown, cut below [`COMMENT_LIMIT`]
/// with a pointer to the full report at `full_report_url`.
pub fn body(marker: &str, markdown: &str, full_report_url: &str) -> String {
    let head = format!("{marker}\n");
    let note = format!(
        "The full report is in the job summary and the `driftsync-report` artifact of [this run]({full_report_url})."
    );
    let room = COMMENT_LIMIT - head.len();
    format!(
        "{head}{}",
        truncate_markdown(markdown.trim_end(), room, &note)
    )
}

/// Bodies compare equal when they differ only in line endings or trailing space
/// (GitHub may normalise both).
pub fn same_body(a: &str, b: &str) -> bool {
    a.replace("\r\n", "\n").trim_end() == b.replace("\r\n", "\n").trim_end()
}

/// The first comment (in list order) whose body contains `marker`: `(id, body)`.
pub fn find_marked<'a>(comments: &'a [Value], marker: &str) -> Option<(u64, &'a str)> {
    comments.iter().find_map(|c| {
        let body = c.get("body")?.as_str()?;
        body.contains(marker)
            .then(|| Some((c.get("id")?.as_u64()?, body)))
            .flatten()
    })
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

/// Create or update the sticky comment on pull request `number` of `owner/repo`.
pub async fn upsert(
    client: &RestClient,
    owner: &str,
    repo: &str,
    number: u64,
    marker: &str,
    body: &str,
) -> Result<CommentOutcome> {
    match upsert_inner(client, owner, repo, number, marker, body).await {
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
) -> Result<CommentOutcome> {
    let list = format!("/repos/{owner}/{repo}/issues/{number}/comments?per_page=100");
    let comments = client.get_all(&list, "listing PR comments").await?;
    if let Some((id, existing)) = find_marked(&comments, marker) {
        if same_body(existing, body) {
            return Ok(CommentOutcome::Unchanged { id });
        }
        client
            .send(
                Method::PATCH,
                &format!("/repos/{owner}/{repo}/issues/comments/{id}"),
                Some(&json!({ "body": body })),
                "updating the PR comment",
            )
            .await?;
        return Ok(CommentOutcome::Updated { id });
    }
    let created = client
        .send(
            Method::POST,
            &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
            Some(&json!({ "body": body })),
            "creating the PR comment",
        )
        .await?
        .json("creating the PR comment")?;
    let id = created.get("id").and_then(Value::as_u64).unwrap_or(0);
    Ok(CommentOutcome::Created { id })
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
            find_marked(list, "<!-- driftsync:w/j -->"),
            Some((3, "<!-- driftsync:w/j -->\nold"))
        );
        assert_eq!(find_marked(list, "<!-- driftsync:x/j -->"), None);
    }

    #[test]
    fn bodies_equal_modulo_crlf_and_trailing_space() {
        assert!(same_body("a\r\nb\n", "a\nb"));
        assert!(!same_body("a\nb", "a\nc"));
    }
}
