//! `notify:` — where the summary of a run is posted, and when.

use std::fmt;
use std::time::Duration;

use driftsync_core::redact::Secret;

use crate::error::closest;
use crate::glob::GlobList;
use crate::raw::{RawNotify, RawOneOrMany};
use crate::resolve::Ctx;

/// Timeout of one attempt when `timeout:` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The message format an endpoint takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyKind {
    /// Slack incoming webhook: `text` and `blocks`.
    Slack,
    /// Mattermost incoming webhook: Markdown `text`.
    Mattermost,
    /// Microsoft Teams Workflows webhook: an Adaptive Card in a message.
    Teams,
    /// driftsync's own JSON object, for any HTTP endpoint.
    Webhook,
}

impl NotifyKind {
    /// Every kind.
    pub const ALL: [NotifyKind; 4] = [
        NotifyKind::Slack,
        NotifyKind::Mattermost,
        NotifyKind::Teams,
        NotifyKind::Webhook,
    ];

    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Slack => "slack",
            NotifyKind::Mattermost => "mattermost",
            NotifyKind::Teams => "teams",
            NotifyKind::Webhook => "webhook",
        }
    }

    /// Parse a config name.
    pub fn parse(s: &str) -> Option<NotifyKind> {
        NotifyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for NotifyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When an endpoint is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyOn {
    /// A target or a gate failed.
    Failure,
    /// A target drifted.
    Drift,
    /// After every run.
    Always,
}

impl NotifyOn {
    /// Every value.
    pub const ALL: [NotifyOn; 3] = [NotifyOn::Failure, NotifyOn::Drift, NotifyOn::Always];

    /// The config name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOn::Failure => "failure",
            NotifyOn::Drift => "drift",
            NotifyOn::Always => "always",
        }
    }

    /// Parse a config name.
    pub fn parse(s: &str) -> Option<NotifyOn> {
        NotifyOn::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One validated `notify:` entry.
#[derive(Clone, Debug)]
pub struct Notify {
    /// Message format.
    pub kind: NotifyKind,
    /// The webhook URL (interpolated): a secret, print [`Notify::origin`] instead.
    pub url: Secret,
    /// When to send.
    pub on: Vec<NotifyOn>,
    /// Name in driftsync's messages.
    pub name: String,
    /// Longest one attempt may take.
    pub timeout: Duration,
    /// Only targets matching these globs count (empty: all).
    pub targets: GlobList,
    /// (mattermost) User name of the post.
    pub username: Option<String>,
}

impl Notify {
    /// The URL's scheme and host, the only part of it ever printed.
    pub fn origin(&self) -> String {
        origin(self.url.expose())
    }
}

/// `scheme://host[:port]` of `url` — never its user, path or query (which
/// hold a webhook's secret); `(not a URL)` when it has no scheme.
pub fn origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}://{host}")
}

/// Validate `notify:`.
pub(crate) fn resolve(raw: &[RawNotify], ctx: &mut Ctx<'_>) -> Vec<Notify> {
    let mut out = Vec::new();
    for (i, n) in raw.iter().enumerate() {
        let i = i.to_string();
        let at = |k: &'static str| -> [&str; 3] { ["notify", &i, k] };
        let kind = match NotifyKind::parse(&n.kind) {
            Some(k) => Some(k),
            None => {
                let names = NotifyKind::ALL.map(NotifyKind::as_str);
                let hint = match closest(&n.kind, names.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`? write one of: {}", names.join(", ")),
                    None => format!("write one of: {}", names.join(", ")),
                };
                ctx.error_value(
                    &at("kind"),
                    format!("unknown notification kind `{}`", n.kind),
                    Some(hint),
                );
                None
            }
        };
        let url = ctx.interpolate(&at("url"), &n.url).and_then(|u| {
            let u = u.trim().to_string();
            let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
            let host = origin(&u);
            let host_ok = host.split_once("://").is_some_and(|(_, h)| !h.is_empty());
            if scheme_ok && host_ok {
                Some(u)
            } else {
                // The value may be a secret: name its origin only.
                ctx.error_value(
                    &at("url"),
                    match u.contains("://") {
                        true => format!(
                            "the notification URL ({host}…) is not an http(s) URL with a host"
                        ),
                        false => "the notification URL does not start with `https://`".to_string(),
                    },
                    Some(
                        "write the incoming-webhook URL, e.g. `url: ${SLACK_WEBHOOK_URL}` with \
                         SLACK_WEBHOOK_URL=https://hooks.slack.com/services/…"
                            .into(),
                    ),
                );
                None
            }
        });
        let on_list: Vec<&str> = match &n.on {
            None => vec!["failure", "drift"],
            Some(RawOneOrMany::One(s)) => vec![s.as_str()],
            Some(RawOneOrMany::Many(v)) => v.iter().map(String::as_str).collect(),
        };
        let mut on = Vec::new();
        for s in on_list {
            match NotifyOn::parse(s) {
                Some(o) if !on.contains(&o) => on.push(o),
                Some(_) => {}
                None => ctx.error_value(
                    &at("on"),
                    format!("unknown notification event `{s}`"),
                    Some("write one or a list of: failure, drift, always".into()),
                ),
            }
        }
        if on.is_empty() && ctx.errors.is_empty() {
            ctx.error_value(
                &at("on"),
                "`on` is empty: this notification would never be sent",
                Some("write `on: [failure, drift]`, or remove the entry".into()),
            );
        }
        let timeout = ctx
            .duration(&at("timeout"), n.timeout.as_deref())
            .unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            ctx.error_value(
                &at("timeout"),
                "a notification timeout of 0 would never send",
                Some("write e.g. `timeout: 10s`".into()),
            );
        }
        let targets = ctx.globs(&at("targets"), n.targets.as_ref());
        if n.username.is_some() && kind.is_some_and(|k| k != NotifyKind::Mattermost) {
            ctx.error_key(
                &at("username"),
                format!(
                    "`username` applies to `kind: mattermost` only, not `{}`",
                    n.kind
                ),
                Some("remove it".into()),
            );
        }
        let (Some(kind), Some(url)) = (kind, url) else {
            continue;
        };
        out.push(Notify {
            kind,
            url: Secret::new(url),
            on,
            name: n.name.clone().unwrap_or_else(|| kind.as_str().to_string()),
            timeout,
            targets,
            username: n.username.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(notify: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Notify>, String> {
        let text = format!("version: \"1.0\"\ntargets: {{}}\nnotify:\n{notify}");
        crate::parse(
            &text,
            Path::new("/r/.driftsync/sync.yaml"),
            Path::new("/r"),
            env,
        )
        .map(|c| c.notify)
        .map_err(|e| e.to_string())
    }

    const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    fn env(n: &str) -> Option<String> {
        match n {
            "SLACK_WEBHOOK_URL" => Some(HOOK.into()),
            "BAD_URL" => Some("hooks.slack.com/services/T000/B000/XXXXSECRET".into()),
            _ => None,
        }
    }

    #[test]
    fn defaults_and_interpolation() {
        let n = parse("  - kind: slack\n    url: ${SLACK_WEBHOOK_URL}\n", &env).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].kind, NotifyKind::Slack);
        assert_eq!(n[0].url.expose(), HOOK);
        assert_eq!(n[0].on, [NotifyOn::Failure, NotifyOn::Drift]);
        assert_eq!(n[0].name, "slack");
        assert_eq!(n[0].timeout, DEFAULT_TIMEOUT);
        assert_eq!(n[0].origin(), "https://hooks.slack.com");
        assert!(!format!("{:?}", n[0]).contains("XXXXSECRET"));
    }

    #[test]
    fn on_takes_one_or_a_list() {
        let n = parse(
            "  - kind: webhook\n    url: http://127.0.0.1:9/x\n    on: always\n    timeout: 3s\n    name: ops\n    targets: ['a*']\n  - kind: teams\n    url: https://x.example/y\n    on: [drift]\n",
            &env,
        )
        .unwrap();
        assert_eq!(n[0].on, [NotifyOn::Always]);
        assert_eq!(n[0].timeout, Duration::from_secs(3));
        assert_eq!(n[0].name, "ops");
        assert!(n[0].targets.is_match("abc") && !n[0].targets.is_match("b"));
        assert_eq!(n[1].on, [NotifyOn::Drift]);
    }

    #[test]
    fn bad_values_are_placed_errors_that_never_show_the_url() {
        let e = parse("  - kind: slak\n    url: ${SLACK_WEBHOOK_URL}\n", &env).unwrap_err();
        assert!(e.contains("unknown notification kind `slak`"), "{e}");
        assert!(e.contains("did you mean `slack`"), "{e}");
        let e = parse("  - kind: slack\n    url: ${BAD_URL}\n", &env).unwrap_err();
        assert!(e.contains("does not start with `https://`"), "{e}");
        assert!(!e.contains("XXXXSECRET") && !e.contains("T000"), "{e}");
        let e = parse(
            "  - kind: slack\n    url: ftp://files.example/T000/XXXXSECRET\n",
            &env,
        )
        .unwrap_err();
        assert!(
            e.contains("(ftp://files.example…) is not an http(s) URL"),
            "{e}"
        );
        assert!(!e.contains("XXXXSECRET") && !e.contains("T000"), "{e}");
        let e = parse("  - kind: slack\n    url: ${NOPE}\n", &env).unwrap_err();
        assert!(e.contains("`NOPE` is not set"), "{e}");
        let e = parse(
            "  - kind: slack\n    url: ${SLACK_WEBHOOK_URL}\n    on: [sometimes]\n",
            &env,
        )
        .unwrap_err();
        assert!(e.contains("unknown notification event `sometimes`"), "{e}");
        let e = parse(
            "  - kind: slack\n    url: ${SLACK_WEBHOOK_URL}\n    username: bot\n",
            &env,
        )
        .unwrap_err();
        assert!(
            e.contains("`username` applies to `kind: mattermost` only"),
            "{e}"
        );
        let e = parse(
            "  - kind: slack\n    url: ${SLACK_WEBHOOK_URL}\n    colour: red\n",
            &env,
        )
        .unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn origin_is_scheme_and_host_only() {
        assert_eq!(
            origin("https://user:pw@hooks.example:8443/a/b?token=x#f"),
            "https://hooks.example:8443"
        );
        assert_eq!(origin("http://127.0.0.1:5/p"), "http://127.0.0.1:5");
        assert_eq!(origin("nothing"), "(not a URL)");
    }
}
