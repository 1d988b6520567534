//! `defaults.pull_request`: the settings of `run --pull-request`, and where
//! their mistakes point.

use std::path::Path;

use driftsync_config::{parse, Config, ConfigError, PullRequestSettings};

fn load(text: &str) -> Result<Config, ConfigError> {
    parse(
        text,
        Path::new(".driftsync/sync.yaml"),
        Path::new("/r"),
        &|_| None,
    )
}

#[test]
fn pull_request_settings_load_and_default_to_nothing() {
    let c = load(
        r#"version: "1.0"
defaults:
  pull_request:
    branch: driftsync/nightly
    base: release
    labels: [data-sync, " automated "]
    reviewers: [octocat]
    draft: true
    auto_merge: squash
targets: {}
"#,
    )
    .unwrap();
    assert_eq!(
        c.defaults.pull_request,
        PullRequestSettings {
            branch: Some("driftsync/nightly".into()),
            base: Some("release".into()),
            labels: vec!["data-sync".into(), "automated".into()],
            reviewers: vec!["octocat".into()],
            draft: true,
            auto_merge: Some("squash".into()),
        }
    );
    let c = load("version: \"1.0\"\ntargets: {}\n").unwrap();
    assert_eq!(c.defaults.pull_request, PullRequestSettings::default());
}

#[test]
fn a_bad_branch_merge_method_or_key_points_at_it() {
    let cases = [
        ("branch: \"has space\"", 4, "not a valid branch name"),
        ("branch: driftsync/..x", 4, "not a valid branch name"),
        ("base: \"-x\"", 4, "not a valid branch name"),
        (
            "auto_merge: fast-forward",
            4,
            "unknown merge method `fast-forward`",
        ),
        ("reviewer: [octocat]", 4, "reviewer"),
    ];
    for (line, at, want) in cases {
        let text =
            format!("version: \"1.0\"\ndefaults:\n  pull_request:\n    {line}\ntargets: {{}}\n");
        let e = load(&text).expect_err(line);
        let d = &e.diagnostics()[0];
        let msg = format!("{} / {}", d.message, d.help.clone().unwrap_or_default());
        assert_eq!(d.line, at, "{line}: {msg}");
        assert!(msg.contains(want), "{line}: {msg}");
    }
}
