//! `driftsync run` end to end: each direction, idempotence, dry run, timeouts, commits.

mod cli_support;

use cli_support::Repo;

/// A pull target copying from a folder "remote" into docs/, and a push target
/// copying docs/ to a folder, with inputs for idempotence.
fn pull_push_repo() -> (Repo, tempfile::TempDir) {
    let remote = tempfile::tempdir().unwrap();
    std::fs::write(remote.path().join("facts.json"), "{\"hosts\": 3}\n").unwrap();
    let r = Repo::new();
    r.script(
        "scripts/pull.sh",
        "[ \"$DRIFTSYNC_DRY_RUN\" = 1 ] && { echo would pull; exit 0; }\nmkdir -p docs/runtime\ncp \"$REMOTE\"/facts.json docs/runtime/facts.json\necho \"pulled for $DRIFTSYNC_TARGET ($DRIFTSYNC_DIRECTION) config=$DRIFTSYNC_CONFIG\"",
    );
    r.script(
        "scripts/push.sh",
        "[ \"$DRIFTSYNC_DRY_RUN\" = 1 ] && exit 0\nmkdir -p \"$REMOTE/published\"\ncp -R docs/. \"$REMOTE/published/\"\necho pushed >> \"$REMOTE/push.log\"",
    );
    let rp = remote.path().display().to_string();
    r.config(&format!(
        r#"version: "1.0"
targets:
  facts:
    type: command
    direction: pull
    entrypoint: scripts/pull.sh
    dry_run: true
    env: {{ REMOTE: "{rp}" }}
    config: {{ depth: 1 }}
    outputs: ["docs/runtime/**"]
  publish:
    type: command
    direction: push
    entrypoint: scripts/push.sh
    dry_run: true
    env: {{ REMOTE: "{rp}" }}
    inputs: ["docs/**"]
"#
    ));
    r.write("docs/index.md", "# docs\n");
    r.commit_all("setup");
    (r, remote)
}

#[test]
fn pull_commits_its_outputs_and_a_second_identical_pull_commits_nothing() {
    let (r, _remote) = pull_push_repo();
    let before = r.commits();
    let out = r.run(&["run", "--target", "facts"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("pulled for facts (pull) config={\"depth\":1}"),
        "{}",
        out.stdout
    );
    assert_eq!(r.commits(), before + 1);
    let files = r.git(&["show", "--name-only", "--format=%an <%ae>%n%s", "HEAD"]);
    assert!(
        files.starts_with("Test <test@example.com>\ndriftsync: sync facts"),
        "{files}"
    );
    assert!(files.contains("docs/runtime/facts.json"), "{files}");
    let rep = r.report();
    // docs/runtime/ is new as a whole: the directory stands for its file.
    assert_eq!(
        rep["results"][0]["outputs_created"],
        serde_json::json!(["docs/runtime/"])
    );
    assert_eq!(rep["successful"], 1);

    let again = r.run(&["run", "--target", "facts"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        r.commits(),
        before + 1,
        "a second identical pull must not commit"
    );
    assert!(
        again.stdout.contains("nothing to commit"),
        "{}",
        again.stdout
    );
}

#[test]
fn push_runs_once_then_skips_until_its_inputs_change() {
    let (r, remote) = pull_push_repo();
    let log = remote.path().join("push.log");
    let out = r.run(&["run", "--direction", "push"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    assert!(remote.path().join("published/index.md").exists());
    // The inputs hash is recorded and committed.
    assert!(r.exists(".driftsync/state/publish.push.json"));
    assert_eq!(r.git(&["status", "--porcelain"]).trim(), "");

    let out = r.run(&["run", "--direction", "push"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        1,
        "unchanged inputs: no push"
    );
    assert_eq!(r.report()["results"][0]["status"], "skipped");

    let out = r.run(&["run", "--direction", "push", "--force"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        2,
        "--force pushes anyway"
    );

    r.write("docs/index.md", "# docs v2\n");
    r.commit_all("edit docs");
    assert_eq!(
        r.run(&["check", "--direction", "push"]).code,
        1,
        "changed inputs are drift"
    );
    let out = r.run(&["run", "--direction", "push"]);
    assert_eq!(out.code, 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 3);
    assert_eq!(r.run(&["check", "--direction", "push"]).code, 0);
}

#[test]
fn bidirectional_target_runs_and_commits_its_outputs() {
    let r = Repo::new();
    r.script(
        "scripts/both.sh",
        "mkdir -p conf\n[ -f conf/app.json ] || echo '{\"v\": 1}' > conf/app.json\necho \"$DRIFTSYNC_DIRECTION\"",
    );
    r.config("targets:\n  app:\n    type: command\n    direction: bidirectional\n    entrypoint: scripts/both.sh\n    outputs: [conf/]\n");
    r.commit_all("setup");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("bidirectional"));
    assert!(r
        .git(&["show", "--name-only", "--format=", "HEAD"])
        .contains("conf/app.json"));
}

#[test]
fn dry_run_leaves_files_index_and_head_identical() {
    let (r, remote) = pull_push_repo();
    r.write("untracked.txt", "keep me\n");
    let snapshot = |r: &Repo| {
        (
            r.head(),
            r.git(&["ls-files", "--stage"]),
            r.git(&["status", "--porcelain", "--ignored=no"]),
            r.git(&["ls-files", "--others", "--exclude-standard"]),
        )
    };
    let before = snapshot(&r);
    let out = r.run(&["run", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("would pull"), "{}", out.stdout);
    assert_eq!(snapshot(&r), before);
    assert!(!r.exists("docs/runtime"));
    assert!(!r.exists(".driftsync/state"));
    assert!(!remote.path().join("push.log").exists());
    assert_eq!(r.report()["dry_run"], true);
}

#[test]
fn unrelated_changes_are_never_committed() {
    let (r, _remote) = pull_push_repo();
    r.write("notes.txt", "work in progress\n");
    r.write("docs/index.md", "# edited, staged\n");
    r.git(&["add", "docs/index.md"]);
    let out = r.run(&["run", "--target", "facts"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let committed = r.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(committed.trim(), "docs/runtime/facts.json");
    let status = r.git(&["status", "--porcelain"]);
    assert!(
        status.contains("M  docs/index.md") && status.contains("?? notes.txt"),
        "{status}"
    );
}

#[test]
fn no_commit_and_git_commit_false_commit_nothing() {
    let (r, _remote) = pull_push_repo();
    let before = r.commits();
    assert_eq!(r.run(&["run", "--target", "facts", "--no-commit"]).code, 0);
    assert_eq!(r.commits(), before);
    assert!(r.exists("docs/runtime/facts.json"));
}

#[test]
fn timeout_kills_the_whole_process_group_including_grandchildren() {
    let r = Repo::new();
    // The grandchild would write a marker 8 s after it starts; the target
    // times out after 3 s, time enough for a loaded machine to start both
    // (no assumption about how fast a shell forks).
    r.script(
        "scripts/slow.sh",
        "(sleep 8; echo late > marker.txt) &\necho $! > grandchild.pid\nsleep 120",
    );
    r.config("targets:\n  slow:\n    type: command\n    direction: pull\n    entrypoint: scripts/slow.sh\n    timeout: 3s\n");
    r.commit_all("setup");
    let started = std::time::Instant::now();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the run waited for its child's `sleep 120`"
    );
    assert!(out.stdout.contains("timed out"), "{}", out.stdout);
    let pid: i32 = r.read("grandchild.pid").trim().parse().unwrap();
    // Wait past the moment the grandchild would have written.
    let after = std::time::Duration::from_secs(10);
    if let Some(rest) = after.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    assert!(
        !r.exists("marker.txt"),
        "the grandchild survived the timeout"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || proc_is_zombie(pid)
            || !proc_is_a_shell(pid),
        "pid {pid} is still running"
    );
    assert_eq!(r.report()["results"][0]["status"], "failed");
}

/// Whether `pid` is (still) a shell, as the grandchild subshell is: a
/// recycled pid runs something else.
fn proc_is_a_shell(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|c| matches!(c.trim(), "bash" | "sh" | "dash"))
}

fn proc_is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn a_failing_target_does_not_stop_the_others_unless_fail_fast() {
    let r = Repo::new();
    r.config(
        "defaults: { direction: pull }\ntargets:\n  a:\n    type: command\n    run: exit 3\n  b:\n    type: command\n    run: touch b.ran\n",
    );
    r.commit_all("setup");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(r.exists("b.ran"));
    let rep = r.report();
    assert_eq!(
        (rep["successful"].as_u64(), rep["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(rep["results"][0]["message"]
        .as_str()
        .unwrap()
        .contains("exited with code 3"));
    std::fs::remove_file(r.p("b.ran")).unwrap();
    let out = r.run(&["run", "--fail-fast"]);
    assert_eq!(out.code, 1);
    assert!(!r.exists("b.ran"), "--fail-fast must stop before b");
    assert_eq!(r.report()["results"][1]["status"], "skipped");
}

#[test]
fn verification_passes_and_fails_by_its_number() {
    let r = Repo::new();
    r.config(
        "defaults: { direction: pull }\ntargets:\n  ok:\n    type: command\n    run: 'mkdir -p m; touch m/a m/b'\n    verification: { command: 'ls m | wc -l', expected_min: 2 }\n  short:\n    type: command\n    run: 'true'\n    verification: { command: 'echo 1', expected_min: 5 }\n",
    );
    r.commit_all("setup");
    // Without --verify verification does not run.
    assert_eq!(r.run(&["run", "--no-commit"]).code, 0);
    assert!(r.report()["results"][0]["verification_passed"].is_null());
    let out = r.run(&["run", "--verify", "--no-commit"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let rep = r.report();
    assert_eq!(rep["results"][0]["verification_passed"], true);
    assert_eq!(rep["results"][0]["verification"]["value"], 2.0);
    assert_eq!(rep["results"][1]["verification_passed"], false);
    assert!(rep["results"][1]["message"]
        .as_str()
        .unwrap()
        .contains("below expected_min 5"));
}

#[test]
fn check_reports_drifted_outputs_and_commits_nothing() {
    let (r, remote) = pull_push_repo();
    assert_eq!(r.run(&["run", "--target", "facts"]).code, 0);
    let head = r.head();
    assert_eq!(r.run(&["check", "--target", "facts"]).code, 0, "in sync");
    std::fs::write(remote.path().join("facts.json"), "{\"hosts\": 4}\n").unwrap();
    let out = r.run(&["check", "--target", "facts"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("drifted: docs/runtime/facts.json"),
        "{}",
        out.stdout
    );
    assert_eq!(r.head(), head);
    assert_eq!(
        r.report()["results"][0]["drifted"][0],
        "docs/runtime/facts.json"
    );
}

#[test]
fn fail_on_diff_turns_changed_outputs_into_exit_1() {
    let r = Repo::new();
    r.config("targets:\n  gen:\n    type: command\n    direction: pull\n    run: date +%s%N > gen.txt\n    outputs: [gen.txt]\n    fail_on_diff: true\n");
    r.commit_all("setup");
    let before = r.commits();
    let out = r.run(&["run"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(r.commits(), before);
}

#[test]
fn schedule_selects_targets_also_from_the_actions_event() {
    let mut r = Repo::new();
    r.config("defaults: { direction: pull }\ntargets:\n  nightly:\n    type: command\n    run: touch nightly.ran\n    schedule: '0 2 * * *'\n  hourly:\n    type: command\n    run: touch hourly.ran\n    schedule: '0 * * * *'\n");
    r.commit_all("setup");
    assert_eq!(
        r.run(&["run", "--schedule", "0  2 * * *", "--no-commit"])
            .code,
        0
    );
    assert!(r.exists("nightly.ran") && !r.exists("hourly.ran"));
    std::fs::remove_file(r.p("nightly.ran")).unwrap();
    r.write("event.json", "{\"schedule\": \"0 * * * *\"}");
    let ev = r.p("event.json").display().to_string();
    r.env("GITHUB_EVENT_NAME", "schedule")
        .env("GITHUB_EVENT_PATH", &ev);
    assert_eq!(r.run(&["run", "--no-commit"]).code, 0);
    assert!(r.exists("hourly.ran") && !r.exists("nightly.ran"));
}

#[test]
fn github_actions_commits_as_the_bot() {
    let mut r = Repo::new();
    r.config("targets:\n  t:\n    type: command\n    direction: pull\n    run: echo x > out.txt\n    outputs: [out.txt]\n");
    r.commit_all("setup");
    r.env("GITHUB_ACTIONS", "true");
    assert_eq!(r.run(&["run"]).code, 0);
    let author = r.git(&["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(
        author.trim(),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
}

#[test]
fn a_bad_schedule_on_the_command_line_is_exit_2_and_runs_nothing() {
    let r = Repo::new();
    r.script("scripts/mark.sh", "touch ran");
    r.config(
        "version: \"1.0\"\ntargets:\n  nightly:\n    type: command\n    entrypoint: scripts/mark.sh\n    schedule: \"0 2 * * *\"\n",
    );
    r.commit_all("config");
    for (cron, want) in [
        ("0 2 * *", "has 5 fields"),
        ("61 2 * * *", "minute"),
        ("@daily", "shortcuts are not supported"),
    ] {
        for cmd in ["run", "check", "list", "matrix"] {
            let out = r.run(&[cmd, "--schedule", cron]);
            assert_eq!(out.code, 2, "{cmd} --schedule {cron:?}: {}", out.all());
            assert!(
                out.stderr.contains("--schedule") && out.stderr.contains(want),
                "{cmd} --schedule {cron:?}: {}",
                out.stderr
            );
        }
    }
    assert!(!r.exists("ran"), "nothing ran");
    // A good expression still selects, whitespace-insensitively.
    let out = r.run(&["run", "--schedule", "0  2 * * *", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(r.exists("ran"), "{}", out.all());
}

/// The sync runner's own sync.yaml leaves `type` out (a target with an
/// `entrypoint` or `run` is a command target) and says `idempotent`.
#[test]
fn a_target_with_an_entrypoint_needs_no_type_and_idempotent_is_accepted() {
    let r = Repo::new();
    r.script(
        "scripts/facts.sh",
        "mkdir -p docs\necho facts > docs/facts.txt",
    );
    r.config(
        r#"version: "1.0"
defaults:
  direction: bidirectional
  dry_run: false
  fail_on_diff: false
  idempotent: true
  git_commit: true
targets:
  facts:
    direction: pull
    entrypoint: "scripts/facts.sh"
    outputs: ["docs/**"]
  inline:
    direction: pull
    run: "echo inline"
    idempotent: false
"#,
    );
    r.commit_all("config without types");
    let out = r.run(&["list", "--json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let types: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["command", "command"], "{listed}");
    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r.read("docs/facts.txt"), "facts\n");
    // Without a script to run, the type is still needed.
    r.config("version: \"1.0\"\ntargets:\n  bare:\n    direction: pull\n");
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("target `bare` has no `type`"),
        "{}",
        out.all()
    );
}

/// `run --retry N` re-runs a failed idempotent target; a target marked
/// `idempotent: false` is never re-run and the run says why.
#[test]
fn retry_reruns_failed_idempotent_targets_only() {
    let state = tempfile::tempdir().unwrap();
    let r = Repo::new();
    // Fails on its first two runs, succeeds on the third.
    r.script(
        "scripts/flaky.sh",
        "n=$(cat \"$STATE/$DRIFTSYNC_TARGET\" 2>/dev/null || echo 0)\necho $((n + 1)) > \"$STATE/$DRIFTSYNC_TARGET\"\n[ \"$n\" -ge 2 ] || { echo \"flaky failure $n\" >&2; exit 3; }\necho ok",
    );
    let sp = state.path().display();
    r.config(&format!(
        r#"version: "1.0"
targets:
  flaky:
    type: command
    direction: pull
    entrypoint: scripts/flaky.sh
    env: {{ STATE: "{sp}" }}
  once:
    type: command
    direction: pull
    entrypoint: scripts/flaky.sh
    idempotent: false
    env: {{ STATE: "{sp}" }}
"#
    ));
    r.commit_all("flaky targets");
    let runs = |t: &str| std::fs::read_to_string(state.path().join(t)).unwrap_or_default();
    let out = r.run(&["run", "--retry", "1", "--target", "flaky"]);
    assert_eq!(out.code, 1, "one retry is not enough: {}", out.all());
    assert_eq!(runs("flaky").trim(), "2");
    assert!(
        out.all().contains("retrying flaky (attempt 2 of 2)"),
        "{}",
        out.all()
    );
    std::fs::remove_file(state.path().join("flaky")).unwrap();
    let out = r.run(&["run", "--retry", "3"]);
    assert_eq!(out.code, 1, "`once` still fails: {}", out.all());
    assert_eq!(runs("flaky").trim(), "3", "succeeded on its third attempt");
    assert_eq!(
        runs("once").trim(),
        "1",
        "a non-idempotent target runs once"
    );
    assert!(
        out.all()
            .contains("once failed and is not idempotent (`idempotent: false`): not retried"),
        "{}",
        out.all()
    );
    let rep = r.report();
    let by_name = |n: &str| {
        rep["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("flaky")["status"], "ok", "{rep}");
    assert!(
        by_name("flaky")["message"]
            .as_str()
            .unwrap()
            .contains("(attempt 3)"),
        "{rep}"
    );
    assert_eq!(by_name("once")["status"], "failed", "{rep}");
    assert!(
        by_name("once")["message"]
            .as_str()
            .unwrap()
            .contains("not retried"),
        "{rep}"
    );
}
