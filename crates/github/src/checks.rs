//! A check run carrying every annotation (the REST API takes 50 per request).

use http::Method;
use serde_json::{json, Value};

use crate::annotations::Annotation;
use crate::client::RestClient;
use crate::files::truncate_markdown;
use crate::{GithubError, Result};

/// The check-runs API accepts at most 50 annotations per request.
pub const ANNOTATION_BATCH: usize = 50;
/// The check run's `output.summary` limit (characters).
pub const SUMMARY_LIMIT: usize = 65_535;

/// One annotation in the check-runs API's shape.
pub fn annotation_json(a: &Annotation) -> Value {
    let mut v = json!({
        "path": a.file,
        "start_line": a.line,
        "end_line": a.line,
        "annotation_level": a.level.check_level(),
        "message": a.message,
        "title": a.title,
    });
    if let Some(col) = a.column {
        // Columns are only allowed when start_line == end_line, as here.
        v["start_column"] = json!(col);
        v["end_column"] = json!(col);
    }
    v
}

/// The request bodies: the create body with the first batch, then one
/// update body per further batch of 50.
pub fn bodies(
    name: &str,
    head_sha: &str,
    conclusion: &str,
    title: &str,
    summary: &str,
    annotations: &[Annotation],
) -> (Value, Vec<Value>) {
    let summary = truncate_markdown(summary, SUMMARY_LIMIT, "See the job summary for the rest.");
    let mut batches = annotations.chunks(ANNOTATION_BATCH);
    let first: Vec<Value> = batches
        .next()
        .unwrap_or_default()
        .iter()
        .map(annotation_json)
        .collect();
    let create = json!({
        "name": name,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion,
        "output": {"title": title, "summary": summary, "annotations": first},
    });
    let updates = batches
        .map(|b| {
            json!({"output": {
                "title": title,
                "summary": summary,
                "annotations": b.iter().map(annotation_json).collect::<Vec<_>>(),
            }})
        })
        .collect();
    (create, updates)
}

/// What [`create`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Created with this id, after this many requests.
    Created {
        /// The check run's id.
        id: u64,
        /// Requests sent (1 + further batches).
        requests: usize,
    },
    /// The token may not create check runs: a warning, not a failure.
    Forbidden {
        /// What to tell the user.
        warning: String,
    },
}

/// Create a completed check run named `name` on `head_sha` with every annotation.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    client: &RestClient,
    owner: &str,
    repo: &str,
    name: &str,
    head_sha: &str,
    conclusion: &str,
    title: &str,
    summary: &str,
    annotations: &[Annotation],
) -> Result<CheckOutcome> {
    let (create, updates) = bodies(name, head_sha, conclusion, title, summary, annotations);
    let run =
        async {
            let created = client
                .send(
                    Method::POST,
                    &format!("/repos/{owner}/{repo}/check-runs"),
                    Some(&create),
                    "creating the check run",
                )
                .await?
                .json("creating the check run")?;
            let id = created.get("id").and_then(Value::as_u64).ok_or_else(|| {
                GithubError::Transport {
                    what: "creating the check run".into(),
                    message: "the response has no id".into(),
                }
            })?;
            for body in &updates {
                client
                    .send_retrying(
                        Method::PATCH,
                        &format!("/repos/{owner}/{repo}/check-runs/{id}"),
                        Some(body),
                        "adding check-run annotations",
                    )
                    .await?;
            }
            Ok::<_, GithubError>(CheckOutcome::Created {
                id,
                requests: 1 + updates.len(),
            })
        };
    match run.await {
        Err(e @ GithubError::Forbidden { .. }) => Ok(CheckOutcome::Forbidden {
            warning: format!("check run not created: {e}"),
        }),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow_commands::Level;

    fn ann(i: u32) -> Annotation {
        Annotation {
            level: if i % 2 == 0 {
                Level::Error
            } else {
                Level::Warning
            },
            file: "schemas/enums.py".into(),
            line: i + 1,
            column: (i == 0).then_some(4),
            title: "enum-changed (high)".into(),
            message: format!("finding {i}"),
        }
    }

    #[test]
    fn annotations_go_in_batches_of_fifty() {
        let anns: Vec<Annotation> = (0..120).map(ann).collect();
        let (create, updates) = bodies("driftsync", "abc", "failure", "Drift", "# s", &anns);
        assert_eq!(
            create["output"]["annotations"].as_array().unwrap().len(),
            50
        );
        assert_eq!(updates.len(), 2);
        assert_eq!(
            updates[0]["output"]["annotations"]
                .as_array()
                .unwrap()
                .len(),
            50
        );
        assert_eq!(
            updates[1]["output"]["annotations"]
                .as_array()
                .unwrap()
                .len(),
            20
        );
        assert_eq!(
            updates[1]["output"]["annotations"][19]["message"],
            "finding 119"
        );
        assert_eq!(create["status"], "completed");
        assert_eq!(create["head_sha"], "abc");
        let a0 = &create["output"]["annotations"][0];
        assert_eq!(a0["annotation_level"], "failure");
        assert_eq!(a0["start_column"], 4);
        assert_eq!(
            create["output"]["annotations"][1]["annotation_level"],
            "warning"
        );
        assert!(create["output"]["annotations"][1]
            .get("start_column")
            .is_none());
    }

    #[test]
    fn no_annotations_one_request() {
        let (create, updates) = bodies("d", "s", "success", "t", "ok", &[]);
        assert!(updates.is_empty());
        assert_eq!(create["output"]["annotations"], json!([]));
    }
}
