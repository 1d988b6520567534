//! The GitHub Actions environment: `GITHUB_*` variables and the event payload.
//!
//! Every variable name read here is a documented constant, read in one place.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use driftsync_core::redact::Secret;
use serde_json::Value;

use crate::{GithubError, Result};

/// `true` inside GitHub Actions.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// `owner/name` of the repository.
pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
/// The event that triggered the workflow (`pull_request`, `schedule`…).
pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
/// Path of the JSON event payload.
pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
/// The commit the workflow runs on.
pub const GITHUB_SHA: &str = "GITHUB_SHA";
/// The ref the workflow runs on.
pub const GITHUB_REF: &str = "GITHUB_REF";
/// The workflow's name.
pub const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
/// The job's id.
pub const GITHUB_JOB: &str = "GITHUB_JOB";
/// The run's numeric id.
pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
/// `https://github.com` or the GHE server.
pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
/// `https://api.github.com` or `https://HOST/api/v3` on GitHub Enterprise.
pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
/// The step's outputs file.
pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
/// The step's Markdown summary file.
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// The token for the REST API (the action passes its `token` input here).
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// The Actions runtime token (a JWT) for the results service.
pub const ACTIONS_RUNTIME_TOKEN: &str = "ACTIONS_RUNTIME_TOKEN";
/// The results service's base URL.
pub const ACTIONS_RESULTS_URL: &str = "ACTIONS_RESULTS_URL";

/// Set (to anything) to skip the PR comment (the action's `comment: false`).
pub const DRIFTSYNC_NO_COMMENT: &str = "DRIFTSYNC_NO_COMMENT";
/// Check run with every annotation: unset on pull-request events, `true` on
/// every event, `false` never.
pub const DRIFTSYNC_CHECK_RUN: &str = "DRIFTSYNC_CHECK_RUN";

/// `${{ toJSON(matrix) }}` of the job (the action passes it); `null` or empty
/// outside a matrix. Names the sticky comment's marker and the artifact per leg.
pub const DRIFTSYNC_MATRIX: &str = "DRIFTSYNC_MATRIX";
/// The artifact's name, instead of `driftsync-report[-<leg>]`.
pub const DRIFTSYNC_ARTIFACT_NAME: &str = "DRIFTSYNC_ARTIFACT_NAME";
/// The login whose comments count as driftsync's (instead of asking `GET /user`).
pub const DRIFTSYNC_COMMENT_AUTHOR: &str = "DRIFTSYNC_COMMENT_AUTHOR";
/// Seconds every GitHub call may take in all (default 30).
pub const DRIFTSYNC_GITHUB_TIMEOUT: &str = "DRIFTSYNC_GITHUB_TIMEOUT";

/// The base name of the report artifact.
pub const ARTIFACT_BASE: &str = "driftsync-report";

/// One leg of a job's matrix, from `DRIFTSYNC_MATRIX`: the values in the order
/// of their sorted keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixLeg {
    /// Each value as text (strings as they are, anything else as compact JSON).
    pub values: Vec<String>,
}

impl MatrixLeg {
    /// Parse `DRIFTSYNC_MATRIX`: `None` for unset, empty, `null` or `{}`.
    pub fn parse(raw: Option<&str>) -> Result<Option<MatrixLeg>> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let v: Value = serde_json::from_str(raw).map_err(|e| {
            GithubError::Environment(format!(
                "{DRIFTSYNC_MATRIX} is not JSON (pass ${{{{ toJSON(matrix) }}}}): {e}"
            ))
        })?;
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let values: Vec<String> = match &v {
            Value::Null => vec![],
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                keys.into_iter().map(|k| text(&map[k])).collect()
            }
            other => vec![text(other)],
        };
        Ok((!values.is_empty()).then_some(MatrixLeg { values }))
    }

    /// The leg as people read it: the values joined by `, `.
    pub fn label(&self) -> String {
        self.values.join(", ")
    }

    /// The leg as a name part: lower-case letters, digits and `-` (other
    /// characters become `-`), at most 80 characters.
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.values.join("-").chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let out: String = out.trim_matches('-').chars().take(80).collect();
        let out = out.trim_end_matches('-').to_string();
        if out.is_empty() {
            "leg".into()
        } else {
            out
        }
    }
}

/// The artifact name: `override_name` when set, else `driftsync-report` or
/// `driftsync-report-<slug>` in a matrix leg.
pub fn artifact_name(leg: Option<&MatrixLeg>, override_name: Option<&str>) -> String {
    if let Some(n) = override_name.map(str::trim).filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    match leg {
        Some(l) => format!("{ARTIFACT_BASE}-{}", l.slug()),
        None => ARTIFACT_BASE.to_string(),
    }
}

/// `DRIFTSYNC_GITHUB_TIMEOUT` as a duration: whole positive seconds, 30 when unset.
pub fn timeout_from(raw: Option<&str>) -> Result<Duration> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(Duration::from_secs(crate::client::DEFAULT_TIMEOUT_SECS)),
        Some(r) => match r.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
            _ => Err(GithubError::Environment(format!(
                "{DRIFTSYNC_GITHUB_TIMEOUT}={r:?} is not a whole number of seconds above 0"
            ))),
        },
    }
}

/// What triggered the workflow, with the parts driftsync uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `pull_request` or `pull_request_target`.
    PullRequest {
        /// The PR number.
        number: u64,
        /// The PR head commit.
        head_sha: String,
        /// True when the head repository is a fork (its token is read-only).
        fork: bool,
    },
    /// `workflow_dispatch` with its inputs as strings.
    WorkflowDispatch {
        /// Inputs by name.
        inputs: BTreeMap<String, String>,
    },
    /// `schedule` with the cron that fired.
    Schedule {
        /// The cron expression.
        cron: String,
    },
    /// `push`.
    Push,
    /// Anything else, by name.
    Other(String),
}

impl Event {
    /// Parse the payload of event `name`.
    pub fn parse(name: &str, payload: &Value) -> Result<Event> {
        let bad = |what: &str| {
            GithubError::Environment(format!("the {name} event payload has no {what}"))
        };
        Ok(match name {
            "pull_request" | "pull_request_target" => {
                let pr = payload
                    .get("pull_request")
                    .ok_or_else(|| bad("pull_request"))?;
                Event::PullRequest {
                    number: pr
                        .get("number")
                        .and_then(Value::as_u64)
                        .or_else(|| payload.get("number").and_then(Value::as_u64))
                        .ok_or_else(|| bad("pull_request.number"))?,
                    head_sha: pr
                        .pointer("/head/sha")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("pull_request.head.sha"))?
                        .to_string(),
                    fork: pr
                        .pointer("/head/repo/fork")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                }
            }
            "workflow_dispatch" => {
                let mut inputs = BTreeMap::new();
                if let Some(obj) = payload.get("inputs").and_then(Value::as_object) {
                    for (k, v) in obj {
                        let s = match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        inputs.insert(k.clone(), s);
                    }
                }
                Event::WorkflowDispatch { inputs }
            }
            "schedule" => Event::Schedule {
                cron: payload
                    .get("schedule")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("schedule"))?
                    .to_string(),
            },
            "push" => Event::Push,
            other => Event::Other(other.to_string()),
        })
    }
}

/// Everything driftsync reads from the Actions environment.
#[derive(Clone, Debug)]
pub struct ActionsEnv {
    /// `owner/name`.
    pub repository: String,
    /// The triggering event.
    pub event: Event,
    /// The commit.
    pub sha: String,
    /// The workflow's name.
    pub workflow: String,
    /// The job's id.
    pub job: String,
    /// The run id.
    pub run_id: String,
    /// Web server base URL.
    pub server_url: String,
    /// REST API base URL.
    pub api_url: String,
    /// `$GITHUB_OUTPUT`, if set.
    pub output_file: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`, if set.
    pub summary_file: Option<PathBuf>,
    /// REST API token, if given.
    pub token: Option<Secret>,
    /// Results-service runtime token, if present.
    pub runtime_token: Option<Secret>,
    /// Results-service URL, if present.
    pub results_url: Option<String>,
    /// The matrix leg, inside a matrix.
    pub matrix: Option<MatrixLeg>,
    /// `DRIFTSYNC_ARTIFACT_NAME`, if set.
    pub artifact_name_override: Option<String>,
    /// `DRIFTSYNC_COMMENT_AUTHOR`, if set.
    pub comment_author: Option<String>,
    /// Whole-request timeout of every GitHub call.
    pub timeout: Duration,
}

/// True when running inside GitHub Actions.
pub fn in_actions(get: impl Fn(&str) -> Option<String>) -> bool {
    get(GITHUB_ACTIONS).is_some_and(|v| v == "true")
}

impl ActionsEnv {
    /// Read the environment through `get` (usually `std::env::var(k).ok()`),
    /// including the event payload file.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ActionsEnv> {
        let get_nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let need = |k: &str| {
            get_nonempty(k).ok_or_else(|| {
                GithubError::Environment(format!(
                    "{k} is not set; driftsync reads it inside GitHub Actions"
                ))
            })
        };
        let event_name = need(GITHUB_EVENT_NAME)?;
        let payload = match get_nonempty(GITHUB_EVENT_PATH) {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| GithubError::Io {
                    path: p.clone(),
                    source,
                })?;
                serde_json::from_str(&text).map_err(|e| {
                    GithubError::Environment(format!(
                        "{p}:{}:{}: the event payload is not JSON: {e}",
                        e.line(),
                        e.column()
                    ))
                })?
            }
            None => Value::Object(Default::default()),
        };
        let event = Event::parse(&event_name, &payload)?;
        let server_url =
            get_nonempty(GITHUB_SERVER_URL).unwrap_or_else(|| "https://github.com".into());
        Ok(ActionsEnv {
            repository: need(GITHUB_REPOSITORY)?,
            event,
            sha: get_nonempty(GITHUB_SHA).unwrap_or_default(),
            workflow: get_nonempty(GITHUB_WORKFLOW).unwrap_or_else(|| "workflow".into()),
            job: get_nonempty(GITHUB_JOB).unwrap_or_else(|| "job".into()),
            run_id: get_nonempty(GITHUB_RUN_ID).unwrap_or_default(),
            api_url: get_nonempty(GITHUB_API_URL)
                .unwrap_or_else(|| "https://api.github.com".into()),
            server_url,
            output_file: get_nonempty(GITHUB_OUTPUT).map(PathBuf::from),
            summary_file: get_nonempty(GITHUB_STEP_SUMMARY).map(PathBuf::from),
            token: get_nonempty(GITHUB_TOKEN).map(Secret::new),
            runtime_token: get_nonempty(ACTIONS_RUNTIME_TOKEN).map(Secret::new),
            results_url: get_nonempty(ACTIONS_RESULTS_URL),
            matrix: MatrixLeg::parse(get(DRIFTSYNC_MATRIX).as_deref())?,
            artifact_name_override: get_nonempty(DRIFTSYNC_ARTIFACT_NAME),
            comment_author: get_nonempty(DRIFTSYNC_COMMENT_AUTHOR),
            timeout: timeout_from(get(DRIFTSYNC_GITHUB_TIMEOUT).as_deref())?,
        })
    }

    /// Read the process environment.
    pub fn from_process() -> Result<ActionsEnv> {
        ActionsEnv::from_lookup(|k| std::env::var(k).ok())
    }

    /// `(owner, name)` of the repository.
    pub fn owner_repo(&self) -> Result<(&str, &str)> {
        self.repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                GithubError::Environment(format!(
                    "{GITHUB_REPOSITORY}={:?} is not owner/name",
                    self.repository
                ))
            })
    }

    /// The web page of this run (where the full report and artifact are).
    pub fn run_url(&self) -> String {
        format!(
            "{}/{}/actions/runs/{}",
            self.server_url.trim_end_matches('/'),
            self.repository,
            self.run_id
        )
    }

    /// The artifact name of this job (leg).
    pub fn artifact_name(&self) -> String {
        artifact_name(self.matrix.as_ref(), self.artifact_name_override.as_deref())
    }

    /// True on a pull request from a fork (its token is read-only).
    pub fn from_fork(&self) -> bool {
        matches!(self.event, Event::PullRequest { fork: true, .. })
    }

    /// The PR number, for a pull-request event.
    pub fn pull_request(&self) -> Option<u64> {
        match self.event {
            Event::PullRequest { number, .. } => Some(number),
            _ => None,
        }
    }

    /// The commit checks should be attached to: the PR head, else `GITHUB_SHA`.
    pub fn head_sha(&self) -> &str {
        match &self.event {
            Event::PullRequest { head_sha, .. } => head_sha,
            _ => &self.sha,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env_with(event: &str, payload: Value) -> (tempfile::TempDir, BTreeMap<String, String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(&p, payload.to_string()).unwrap();
        let mut m = BTreeMap::new();
        m.insert(GITHUB_EVENT_NAME.to_string(), event.to_string());
        m.insert(GITHUB_EVENT_PATH.to_string(), p.display().to_string());
        m.insert(GITHUB_REPOSITORY.to_string(), "acme/site".to_string());
        m.insert(GITHUB_RUN_ID.to_string(), "42".to_string());
        m.insert(GITHUB_SHA.to_string(), "abc".to_string());
        (dir, m)
    }

    #[test]
    fn pull_request_gives_number_head_and_fork() {
        let (_d, m) = env_with(
            "pull_request",
            json!({"number": 7, "pull_request": {"number": 7, "head": {"sha": "def", "repo": {"fork": true}}}}),
        );
        let e = ActionsEnv::from_lookup(|k| m.get(k).cloned()).unwrap();
        assert_eq!(
            e.event,
            Event::PullRequest {
                number: 7,
                head_sha: "def".into(),
                fork: true
            }
        );
        assert_eq!(e.pull_request(), Some(7));
        assert_eq!(e.head_sha(), "def");
        assert_eq!(e.owner_repo().unwrap(), ("acme", "site"));
        assert_eq!(e.run_url(), "https://github.com/acme/site/actions/runs/42");
        assert_eq!(e.api_url, "https://api.github.com");
    }

    #[test]
    fn dispatch_inputs_become_strings() {
        let (_d, m) = env_with(
            "workflow_dispatch",
            json!({"inputs": {"direction": "pull", "dry-run": true, "target": null}}),
        );
        let e = ActionsEnv::from_lookup(|k| m.get(k).cloned()).unwrap();
        let Event::WorkflowDispatch { inputs } = e.event.clone() else {
            panic!()
        };
        assert_eq!(inputs["direction"], "pull");
        assert_eq!(inputs["dry-run"], "true");
        assert_eq!(inputs["target"], "");
        assert_eq!(e.head_sha(), "abc");
    }

    #[test]
    fn schedule_gives_the_cron() {
        let (_d, m) = env_with("schedule", json!({"schedule": "0 2 * * *"}));
        let e = ActionsEnv::from_lookup(|k| m.get(k).cloned()).unwrap();
        assert_eq!(
            e.event,
            Event::Schedule {
                cron: "0 2 * * *".into()
            }
        );
    }

    #[test]
    fn a_broken_payload_names_file_line_and_column() {
        let (d, mut m) = env_with("push", json!({}));
        let p = d.path().join("bad.json");
        std::fs::write(&p, "{\n  \"a\": ,\n}").unwrap();
        m.insert(GITHUB_EVENT_PATH.into(), p.display().to_string());
        let err = ActionsEnv::from_lookup(|k| m.get(k).cloned())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.json:2:"), "{err}");
    }

    #[test]
    fn missing_variables_and_fields_are_named() {
        let err = ActionsEnv::from_lookup(|_| None).unwrap_err().to_string();
        assert!(err.contains(GITHUB_EVENT_NAME), "{err}");
        let (_d, m) = env_with("pull_request", json!({"pull_request": {"number": 1}}));
        let err = ActionsEnv::from_lookup(|k| m.get(k).cloned())
            .unwrap_err()
            .to_string();
        assert!(err.contains("pull_request.head.sha"), "{err}");
    }

    #[test]
    fn matrix_legs_are_canonical_and_name_the_artifact() {
        for empty in [None, Some(""), Some("null"), Some(" {} ")] {
            assert_eq!(MatrixLeg::parse(empty).unwrap(), None, "{empty:?}");
        }
        let a = MatrixLeg::parse(Some(r#"{"target":"docs","os":"ubuntu-latest"}"#))
            .unwrap()
            .unwrap();
        let b = MatrixLeg::parse(Some(r#"{"os":"ubuntu-latest","target":"docs"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(a, b, "key order does not matter");
        assert_eq!(a.label(), "ubuntu-latest, docs");
        assert_eq!(a.slug(), "ubuntu-latest-docs");
        let odd = MatrixLeg::parse(Some(r#"{"n":3,"p":"A/B: c*"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(odd.slug(), "3-a-b-c");
        assert_eq!(
            artifact_name(Some(&a), None),
            "driftsync-report-ubuntu-latest-docs"
        );
        assert_eq!(artifact_name(None, None), "driftsync-report");
        assert_eq!(artifact_name(Some(&a), Some("mine")), "mine");
        let e = MatrixLeg::parse(Some("{os")).unwrap_err().to_string();
        assert!(e.contains("DRIFTSYNC_MATRIX"), "{e}");
    }

    #[test]
    fn the_timeout_is_whole_seconds() {
        assert_eq!(timeout_from(None).unwrap(), Duration::from_secs(30));
        assert_eq!(timeout_from(Some("5")).unwrap(), Duration::from_secs(5));
        for bad in ["0", "-1", "1.5", "soon"] {
            let e = timeout_from(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("DRIFTSYNC_GITHUB_TIMEOUT"), "{e}");
        }
    }

    #[test]
    fn tokens_are_secrets() {
        let (_d, mut m) = env_with("push", json!({}));
        m.insert(GITHUB_TOKEN.into(), "ghs_abc".into());
        let e = ActionsEnv::from_lookup(|k| m.get(k).cloned()).unwrap();
        assert!(!format!("{e:?}").contains("ghs_abc"));
        assert_eq!(e.token.unwrap().expose(), "ghs_abc");
    }
}
