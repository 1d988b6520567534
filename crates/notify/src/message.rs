//! What a notification says: the run's summary, and its JSON for each kind.

use driftsync_config::notify::{Notify, NotifyKind, NotifyOn};
use driftsync_core::report::{Report, TargetStatus};
use serde_json::{json, Value};

/// Most failed or drifted targets a chat message lists; the rest are counted.
pub const MAX_LISTED: usize = 10;
/// Longest one-line message per listed target, in characters.
pub const MAX_MESSAGE: usize = 200;
/// Most targets the generic webhook's `targets` holds.
pub const MAX_WEBHOOK_TARGETS: usize = 100;

/// Where the run happened, from the GitHub Actions environment (all absent elsewhere).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// `owner/name`.
    pub repository: Option<String>,
    /// The branch or tag (`GITHUB_REF_NAME`, else `GITHUB_REF`).
    pub git_ref: Option<String>,
    /// The commit the workflow ran on.
    pub sha: Option<String>,
    /// The job's run page, with its attempt.
    pub run_url: Option<String>,
    /// The attempt of the workflow run (`GITHUB_RUN_ATTEMPT`).
    pub attempt: Option<u32>,
}

impl RunInfo {
    /// Read `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`,
    /// `GITHUB_RUN_ATTEMPT`, `GITHUB_REF_NAME`/`GITHUB_REF` and `GITHUB_SHA`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> RunInfo {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let repository = get("GITHUB_REPOSITORY");
        let attempt = get("GITHUB_RUN_ATTEMPT").and_then(|a| a.trim().parse().ok());
        let run_url = match (get("GITHUB_SERVER_URL"), &repository, get("GITHUB_RUN_ID")) {
            (Some(server), Some(repo), Some(id)) => {
                let mut url = format!("{}/{repo}/actions/runs/{id}", server.trim_end_matches('/'));
                if let Some(a) = attempt {
                    url.push_str(&format!("/attempts/{a}"));
                }
                Some(url)
            }
            _ => None,
        };
        RunInfo {
            repository,
            git_ref: get("GITHUB_REF_NAME").or_else(|| get("GITHUB_REF")),
            sha: get("GITHUB_SHA"),
            run_url,
            attempt,
        }
    }
}

/// How the run (as one entry sees it) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A target or a gate failed.
    Failure,
    /// Nothing failed; a target drifted.
    Drift,
    /// All good.
    Ok,
}

impl Status {
    /// The name in messages and the webhook's `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failure => "failure",
            Status::Drift => "drift",
            Status::Ok => "ok",
        }
    }
}

/// A target (or failed gate) as a notification lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Target name, or `gate <name>`.
    pub name: String,
    /// `ok`, `drift`, `failed`, `skipped`.
    pub status: &'static str,
    /// One line, capped at [`MAX_MESSAGE`] characters.
    pub message: String,
}

/// The run as one notification entry sees it (its `targets:` filter applied).
#[derive(Clone, Debug)]
pub struct Summary {
    /// `run` or `check`.
    pub command: String,
    /// How it ended.
    pub status: Status,
    /// Targets ok.
    pub ok: usize,
    /// Targets drifted.
    pub drift: usize,
    /// Targets failed.
    pub failed: usize,
    /// Targets skipped.
    pub skipped: usize,
    /// Gates that failed (none when the entry filters targets).
    pub gates_failed: usize,
    /// Every counted target, then failed gates.
    pub lines: Vec<Line>,
    /// Where it ran.
    pub run: RunInfo,
}

fn status_name(s: TargetStatus) -> &'static str {
    s.as_str()
}

/// The first non-empty line of `s`, at most [`MAX_MESSAGE`] characters.
pub fn one_line(s: &str) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > MAX_MESSAGE {
        let mut out: String = line.chars().take(MAX_MESSAGE - 1).collect();
        out.push('…');
        out
    } else {
        line.to_string()
    }
}

impl Summary {
    /// The summary of `report` for `entry`; every text goes through `mask`.
    pub fn new(
        report: &Report,
        entry: &Notify,
        run: RunInfo,
        mask: &dyn Fn(&str) -> String,
    ) -> Summary {
        let mut s = Summary {
            command: report.command.clone(),
            status: Status::Ok,
            ok: 0,
            drift: 0,
            failed: 0,
            skipped: 0,
            gates_failed: 0,
            lines: Vec::new(),
            run,
        };
        for t in &report.targets {
            if !entry.targets.is_empty() && !entry.targets.is_match(&t.target) {
                continue;
            }
            match t.status {
                TargetStatus::Ok => s.ok += 1,
                TargetStatus::Drift => s.drift += 1,
                TargetStatus::Failed => s.failed += 1,
                TargetStatus::Skipped | TargetStatus::NotRun => s.skipped += 1,
            }
            let mut message = one_line(&mask(&t.message));
            if t.status == TargetStatus::Failed {
                // The last line the target printed usually says why.
                let last = t
                    .output_tail
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty());
                if let Some(last) = last {
                    message = one_line(&mask(&format!("{message} — {last}")));
                }
            }
            s.lines.push(Line {
                name: mask(&t.target),
                status: status_name(t.status),
                message,
            });
        }
        if entry.targets.is_empty() {
            for g in report.gates.iter().filter(|g| !g.passed) {
                s.gates_failed += 1;
                s.lines.push(Line {
                    name: mask(&format!("gate {}", g.name)),
                    status: "failed",
                    message: one_line(&mask(&g.message)),
                });
            }
        }
        s.status = if s.failed + s.gates_failed > 0 {
            Status::Failure
        } else if s.drift > 0 {
            Status::Drift
        } else {
            Status::Ok
        };
        s
    }

    /// Whether `entry` is sent for this summary.
    pub fn wanted_by(&self, entry: &Notify) -> bool {
        entry.on.iter().any(|on| match on {
            NotifyOn::Always => true,
            NotifyOn::Failure => self.status == Status::Failure,
            NotifyOn::Drift => self.drift > 0,
        })
    }

    /// `2 ok, 1 drift, 1 failed` (and skipped and failed gates when any).
    pub fn counts(&self) -> String {
        let mut parts = vec![
            format!("{} ok", self.ok),
            format!("{} drift", self.drift),
            format!("{} failed", self.failed),
        ];
        if self.skipped > 0 {
            parts.push(format!("{} skipped", self.skipped));
        }
        if self.gates_failed > 0 {
            parts.push(format!("{} gate(s) failed", self.gates_failed));
        }
        parts.join(", ")
    }

    /// `driftsync run on owner/repo (main): failure`.
    pub fn title(&self) -> String {
        let mut t = format!("driftsync {}", self.command);
        if let Some(r) = &self.run.repository {
            t.push_str(&format!(" on {r}"));
            if let Some(g) = &self.run.git_ref {
                t.push_str(&format!(" ({g})"));
            }
        }
        t.push_str(&format!(": {}", self.status.as_str()));
        t
    }

    /// The lines a chat message lists (failed and drifted only), capped, and how many were left out.
    pub fn listed(&self) -> (Vec<&Line>, usize) {
        let all: Vec<&Line> = self
            .lines
            .iter()
            .filter(|l| l.status == "failed" || l.status == "drift")
            .collect();
        let more = all.len().saturating_sub(MAX_LISTED);
        (all.into_iter().take(MAX_LISTED).collect(), more)
    }

    /// The plain-text one-liner (Slack's notification text, the webhook's `summary`).
    pub fn plain(&self) -> String {
        format!("{} — {}", self.title(), self.counts())
    }

    /// The JSON body for `entry`'s kind.
    pub fn payload(&self, entry: &Notify) -> Value {
        match entry.kind {
            NotifyKind::Slack => self.slack(),
            NotifyKind::Mattermost => self.mattermost(entry.username.as_deref()),
            NotifyKind::Teams => self.teams(),
            NotifyKind::Webhook => self.webhook(),
        }
    }

    fn attempt_note(&self) -> String {
        match self.run.attempt {
            Some(a) if a > 1 => format!(" (attempt {a})"),
            _ => String::new(),
        }
    }

    /// Slack incoming webhook: `text` (the notification fallback) and
    /// `blocks` of `mrkdwn` sections.
    fn slack(&self) -> Value {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut blocks = vec![json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("*{}*\n{}", esc(&self.title()), esc(&self.counts()))}
        })];
        let (listed, more) = self.listed();
        if !listed.is_empty() {
            let mut text: Vec<String> = listed
                .iter()
                .map(|l| {
                    let m = if l.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", esc(&l.message))
                    };
                    format!("• *{}* ({}){m}", esc(&l.name), l.status)
                })
                .collect();
            if more > 0 {
                text.push(format!("…and {more} more"));
            }
            blocks.push(
                json!({"type": "section", "text": {"type": "mrkdwn", "text": text.join("\n")}}),
            );
        }
        if let Some(url) = &self.run.run_url {
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": format!("<{url}|View the job run>{}", self.attempt_note())}]
            }));
        }
        json!({"text": self.plain(), "blocks": blocks})
    }

    /// Markdown shared by Mattermost.
    fn markdown(&self) -> String {
        let mut md = format!("#### {}\n{}\n", self.title(), self.counts());
        let (listed, more) = self.listed();
        if !listed.is_empty() {
            md.push('\n');
            for l in listed {
                let m = if l.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", l.message)
                };
                md.push_str(&format!("- **{}** ({}){m}\n", l.name, l.status));
            }
            if more > 0 {
                md.push_str(&format!("- …and {more} more\n"));
            }
        }
        if let Some(url) = &self.run.run_url {
            md.push_str(&format!(
                "\n[View the job run]({url}){}\n",
                self.attempt_note()
            ));
        }
        md
    }

    /// Mattermost incoming webhook: Markdown `text`, optional `username`.
    fn mattermost(&self, username: Option<&str>) -> Value {
        let mut v = json!({"text": self.markdown()});
        if let Some(u) = username {
            v["username"] = json!(u);
        }
        v
    }

    /// Microsoft Teams Workflows ("When a Teams webhook request is received"):
    /// a message with one Adaptive Card attachment.
    fn teams(&self) -> Value {
        let mut body = vec![
            json!({"type": "TextBlock", "text": self.title(), "weight": "Bolder", "size": "Medium", "wrap": true}),
            json!({"type": "TextBlock", "text": self.counts(), "wrap": true}),
        ];
        let (listed, more) = self.listed();
        if !listed.is_empty() {
            let facts: Vec<Value> = listed
                .iter()
                .map(|l| {
                    let value = if l.message.is_empty() {
                        l.status.to_string()
                    } else {
                        format!("{}: {}", l.status, l.message)
                    };
                    json!({"title": l.name, "value": value})
                })
                .collect();
            body.push(json!({"type": "FactSet", "facts": facts}));
            if more > 0 {
                body.push(
                    json!({"type": "TextBlock", "text": format!("…and {more} more"), "wrap": true}),
                );
            }
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        });
        if let Some(url) = &self.run.run_url {
            card["actions"] = json!([{"type": "Action.OpenUrl", "title": format!("View the job run{}", self.attempt_note()), "url": url}]);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }]
        })
    }

    /// The generic webhook's JSON object (documented in docs/notifications.md).
    fn webhook(&self) -> Value {
        let targets: Vec<Value> = self
            .lines
            .iter()
            .take(MAX_WEBHOOK_TARGETS)
            .map(|l| json!({"name": l.name, "status": l.status, "message": l.message}))
            .collect();
        json!({
            "event": format!("driftsync.{}", self.command),
            "status": self.status.as_str(),
            "summary": self.plain(),
            "counts": {
                "ok": self.ok,
                "drift": self.drift,
                "failed": self.failed,
                "skipped": self.skipped,
                "gates_failed": self.gates_failed,
            },
            "targets": targets,
            "run_url": self.run.run_url,
            "repository": self.run.repository,
            "ref": self.run.git_ref,
            "sha": self.run.sha,
            "attempt": self.run.attempt,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use driftsync_config::notify::{Notify, NotifyKind, NotifyOn};
    use driftsync_config::GlobList;
    use driftsync_core::redact::Secret;
    use driftsync_core::report::{GateResult, Report, TargetReport, TargetStatus};
    use serde_json::json;

    use super::*;

    fn entry(kind: NotifyKind, on: &[NotifyOn]) -> Notify {
        Notify {
            kind,
            url: Secret::new("https://hooks.example/x"),
            on: on.to_vec(),
            name: kind.as_str().into(),
            timeout: Duration::from_secs(10),
            targets: GlobList::default(),
            username: None,
        }
    }

    fn target(name: &str, status: TargetStatus, message: &str) -> TargetReport {
        let mut t: TargetReport = serde_json::from_value(json!({
            "target": name, "type": "command", "direction": "pull", "success": true,
            "status": "ok", "message": message, "duration": 0.0,
            "outputs_created": [], "verification_passed": null
        }))
        .unwrap();
        t.status = status;
        t
    }

    fn report(targets: Vec<TargetReport>) -> Report {
        let mut r: Report = serde_json::from_value(json!({
            "timestamp": "2026-01-01T00:00:00Z", "command": "run", "total_targets": 0,
            "successful": 0, "failed": 0, "total_duration": 0.0, "dry_run": false,
            "gates": [], "targets": [], "exit_code": 0
        }))
        .unwrap();
        r.targets = targets;
        r
    }

    fn no_mask(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn without_actions_there_is_no_link() {
        let run = RunInfo::from_env(&|_| None);
        assert_eq!(run, RunInfo::default());
        let r = report(vec![target("a", TargetStatus::Failed, "boom")]);
        let e = entry(NotifyKind::Slack, &[NotifyOn::Failure]);
        let s = Summary::new(&r, &e, run, &no_mask);
        let slack = s.payload(&e);
        assert_eq!(slack["blocks"].as_array().unwrap().len(), 2, "{slack}");
        assert_eq!(
            slack["text"],
            json!("driftsync run: failure — 0 ok, 0 drift, 1 failed")
        );
        let teams = s.payload(&entry(NotifyKind::Teams, &[]));
        assert!(teams["attachments"][0]["content"].get("actions").is_none());
        let hook = s.payload(&entry(NotifyKind::Webhook, &[]));
        assert_eq!(hook["run_url"], json!(null));
        assert_eq!(hook["attempt"], json!(null));
    }

    #[test]
    fn the_first_attempt_links_to_attempt_one_without_a_note() {
        let env = |k: &str| {
            Some(
                match k {
                    "GITHUB_SERVER_URL" => "https://ghe.example/",
                    "GITHUB_REPOSITORY" => "o/r",
                    "GITHUB_RUN_ID" => "7",
                    "GITHUB_RUN_ATTEMPT" => "1",
                    "GITHUB_REF" => "refs/pull/3/merge",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let run = RunInfo::from_env(&env);
        assert_eq!(
            run.run_url.as_deref(),
            Some("https://ghe.example/o/r/actions/runs/7/attempts/1")
        );
        assert_eq!(run.git_ref.as_deref(), Some("refs/pull/3/merge"));
        let r = report(vec![target("a", TargetStatus::Drift, "1 file")]);
        let e = entry(NotifyKind::Mattermost, &[NotifyOn::Drift]);
        let text = Summary::new(&r, &e, run, &no_mask).payload(&e)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            text.ends_with(
                "[View the job run](https://ghe.example/o/r/actions/runs/7/attempts/1)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn lists_are_capped_and_messages_are_one_short_line() {
        let mut targets: Vec<TargetReport> = (0..MAX_LISTED + 3)
            .map(|i| target(&format!("t{i}"), TargetStatus::Failed, "x"))
            .collect();
        targets[0].message = format!("\n  first line {}\nsecond line", "y".repeat(300));
        let r = report(targets);
        let e = entry(NotifyKind::Slack, &[NotifyOn::Failure]);
        let s = Summary::new(&r, &e, RunInfo::default(), &no_mask);
        let (listed, more) = s.listed();
        assert_eq!((listed.len(), more), (MAX_LISTED, 3));
        assert_eq!(listed[0].message.chars().count(), MAX_MESSAGE);
        assert!(listed[0].message.starts_with("first line y") && listed[0].message.ends_with('…'));
        let slack = s.payload(&e);
        assert!(slack["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with("\n…and 3 more"));
        let teams = s.payload(&entry(NotifyKind::Teams, &[]));
        let body = &teams["attachments"][0]["content"]["body"];
        assert_eq!(body[2]["facts"].as_array().unwrap().len(), MAX_LISTED);
        assert_eq!(body[3]["text"], json!("…and 3 more"));
    }

    #[test]
    fn slack_markup_in_names_and_messages_is_escaped() {
        let r = report(vec![target(
            "a<b>",
            TargetStatus::Failed,
            "<!channel> & co",
        )]);
        let e = entry(NotifyKind::Slack, &[NotifyOn::Failure]);
        let s = Summary::new(&r, &e, RunInfo::default(), &no_mask);
        assert_eq!(
            s.payload(&e)["blocks"][1]["text"]["text"],
            json!("• *a&lt;b&gt;* (failed): &lt;!channel&gt; &amp; co")
        );
    }

    #[test]
    fn failed_gates_are_failures_and_listed() {
        let mut r = report(vec![target("a", TargetStatus::Ok, "fine")]);
        r.gates.push(
            serde_json::from_value::<GateResult>(json!({
                "name": "clean", "phase": "pre_sync", "passed": false, "message": "dirty tree"
            }))
            .unwrap(),
        );
        let e = entry(NotifyKind::Webhook, &[NotifyOn::Failure]);
        let s = Summary::new(&r, &e, RunInfo::default(), &no_mask);
        assert_eq!(s.status, Status::Failure);
        assert!(s.wanted_by(&e));
        assert!(!s.wanted_by(&entry(NotifyKind::Webhook, &[NotifyOn::Drift])));
        assert_eq!(s.counts(), "1 ok, 0 drift, 0 failed, 1 gate(s) failed");
        assert_eq!(
            s.payload(&e)["targets"][1],
            json!({"name": "gate clean", "status": "failed", "message": "dirty tree"})
        );
    }

    #[test]
    fn every_text_goes_through_the_mask() {
        let mut t = target("a", TargetStatus::Failed, "failed with s3cr3t-value");
        t.output_tail = "line\nlast s3cr3t-value\n".into();
        let r = report(vec![t]);
        let e = entry(NotifyKind::Webhook, &[NotifyOn::Failure]);
        let mask = |s: &str| s.replace("s3cr3t-value", "***");
        let body = Summary::new(&r, &e, RunInfo::default(), &mask).payload(&e);
        assert_eq!(
            body["targets"][0]["message"],
            json!("failed with *** — last ***")
        );
    }
}
