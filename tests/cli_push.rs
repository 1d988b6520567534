//! `driftsync run` pushing its commit to a bare repository (file remote):
//! the plain push, a concurrent push recovered by fetching and re-running the
//! pull target, a second rejection failing clearly, and the runs that never push.

mod cli_support;

use cli_support::{git, Repo};

const TOKEN: &str = "ghs_pushTokenValue0123456789";

/// A repository cloned from a bare `origin`, a second clone (`other`) that
/// plays the colleague pushing at the same time, and a pull target whose
/// script writes `data/out.txt` recording the HEAD it ran on. While
/// `race/left` holds a positive count, each run of the target first pushes a
/// commit from `other` (and decrements the count).
struct Setup {
    root: tempfile::TempDir,
    repo: Repo,
}

impl Setup {
    fn new(races: u32) -> Setup {
        let root = tempfile::tempdir().unwrap();
        let (_, url) = driftsync_testkit::bare_repo(root.path());
        let repo = Repo::new();
        repo.script(
            "scripts/pull.sh",
            r#"[ "$DRIFTSYNC_DRY_RUN" = 1 ] && exit 0
left=$(cat "$RACE/left")
if [ "$left" -gt 0 ]; then
  echo $((left - 1)) > "$RACE/left"
  (
    cd "$RACE/other"
    git pull -q --ff-only origin main
    echo "colleague $left" >> notes.txt
    git add notes.txt
    git commit -q -m "colleague $left"
    git push -q origin main
  )
fi
mkdir -p data
echo "pulled on $(git rev-parse HEAD)" > data/out.txt
echo "run" >> "$RACE/runs"
"#,
        );
        let race = root.path().join("race");
        std::fs::create_dir_all(&race).unwrap();
        std::fs::write(race.join("left"), format!("{races}\n")).unwrap();
        repo.config(&format!(
            r#"version: "1.0"
targets:
  facts:
    type: command
    direction: pull
    entrypoint: scripts/pull.sh
    env: {{ RACE: "{}" }}
    outputs: ["data/**"]
"#,
            race.display()
        ));
        repo.commit_all("setup");
        repo.git(&["remote", "add", "origin", &url]);
        repo.git(&["push", "-q", "-u", "origin", "main"]);
        let other = race.join("other");
        git(root.path(), &["clone", "-q", &url, other.to_str().unwrap()]);
        git(&other, &["config", "user.name", "Colleague"]);
        git(&other, &["config", "user.email", "colleague@example.com"]);
        Setup { root, repo }
    }

    fn origin(&self) -> std::path::PathBuf {
        self.root.path().join("origin.git")
    }

    /// `git log --format=%s main` of the bare repository.
    fn origin_log(&self) -> Vec<String> {
        git(&self.origin(), &["log", "--format=%s", "main"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn origin_show(&self, spec: &str) -> String {
        git(&self.origin(), &["show", spec])
    }

    fn origin_tip(&self) -> String {
        git(&self.origin(), &["rev-parse", "main"])
            .trim()
            .to_string()
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.root.path().join("race/runs"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

fn assert_no_token(s: &Setup, out: &cli_support::Out) {
    let md = s.repo.read(".driftsync/reports/report.md");
    let json = s.repo.read(".driftsync/reports/report.json");
    // `::add-mask::` is how GitHub learns to hide it; nothing else may show it.
    let stdout: String = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for text in [stdout.as_str(), out.stderr.as_str(), &md, &json] {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

#[test]
fn push_sends_the_commit_to_the_upstream_and_the_report_says_where() {
    let mut s = Setup::new(0);
    s.repo.env("GITHUB_TOKEN", TOKEN);
    let out = s.repo.run(&["run", "--push"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), s.repo.head(), "{}", out.all());
    assert_eq!(s.origin_log()[0], "driftsync: sync facts");
    assert!(
        out.stdout.contains("pushed to origin/main"),
        "{}",
        out.stdout
    );
    let report = s.repo.report();
    let push = &report["push"];
    assert_eq!(push["remote"], "origin");
    assert_eq!(push["branch"], "main");
    assert_eq!(push["commit"], report["commit"]);
    assert!(push["url"].as_str().unwrap().ends_with("origin.git"));
    assert!(push.get("rerun").is_none(), "{push}");
    let md = s.repo.read(".driftsync/reports/report.md");
    assert!(md.contains("Pushed `"), "{md}");
    assert!(md.contains("to `main` on `origin`"), "{md}");
    assert_no_token(&s, &out);
}

#[test]
fn a_concurrent_push_is_fetched_the_pull_target_rerun_on_it_and_both_commits_land() {
    let mut s = Setup::new(1);
    s.repo.env("GITHUB_TOKEN", TOKEN);
    let before = s.origin_tip();
    let out = s.repo.run(&["run", "--push"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("origin/main moved on (someone else pushed first)"),
        "{}",
        out.stdout
    );
    assert_eq!(s.runs(), 2, "the pull target ran again on the new tip");
    // The colleague's commit landed first, ours on top of it.
    assert_eq!(
        s.origin_log(),
        [
            "driftsync: sync facts",
            "colleague 1",
            "setup",
            "ignore reports",
            "initial"
        ]
    );
    let colleague = git(&s.origin(), &["rev-parse", "main~1"])
        .trim()
        .to_string();
    assert_ne!(colleague, before);
    // The pulled output was produced on the new HEAD (the colleague's commit).
    assert_eq!(
        s.origin_show("main:data/out.txt").trim(),
        format!("pulled on {colleague}")
    );
    assert_eq!(s.origin_show("main:notes.txt").trim(), "colleague 1");
    // Our commit touches only our outputs; the local branch is the remote's.
    let files = git(&s.origin(), &["show", "--name-only", "--format=", "main"]);
    assert_eq!(files.trim(), "data/out.txt");
    assert_eq!(s.repo.head(), s.origin_tip());
    assert_eq!(s.repo.read("notes.txt").trim(), "colleague 1");
    let report = s.repo.report();
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["push"]["rerun"], serde_json::json!(["facts"]));
    assert_eq!(report["push"]["commit"].as_str().unwrap(), s.origin_tip());
    assert_eq!(report["commit"].as_str().unwrap(), s.origin_tip());
    let md = s.repo.read(".driftsync/reports/report.md");
    assert!(
        md.contains("Someone else pushed first: driftsync fetched their commit and re-ran `facts`"),
        "{md}"
    );
    assert_no_token(&s, &out);
}

#[test]
fn a_rejected_push_never_reruns_a_target_that_is_not_idempotent() {
    let mut s = Setup::new(1);
    let yaml = s.repo.read(".driftsync/sync.yaml");
    s.repo.config(&format!("{yaml}    idempotent: false\n"));
    s.repo.commit_all("facts may not run twice");
    s.repo.git(&["push", "-q", "origin", "main"]);
    s.repo.env("GITHUB_TOKEN", TOKEN);
    let out = s.repo.run(&["run", "--push"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(s.runs(), 1, "a non-idempotent target runs once");
    let all = out.all();
    assert!(
        all.contains(
            "facts is not idempotent (`idempotent: false`), so driftsync does not re-run it"
        ),
        "{all}"
    );
    assert_eq!(
        s.origin_log()[0],
        "colleague 1",
        "nothing of ours was pushed"
    );
    // The commit stays on the local branch for a person (or the next run).
    assert_eq!(
        s.repo.git(&["log", "-1", "--format=%s"]).trim(),
        "driftsync: sync facts"
    );
    assert_no_token(&s, &out);
}

#[test]
fn a_second_rejection_fails_with_a_clear_message_and_exit_1() {
    let mut s = Setup::new(5);
    s.repo.env("GITHUB_TOKEN", TOKEN);
    let out = s.repo.run(&["run", "--push"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(s.runs(), 2, "re-run once, not more");
    assert_eq!(
        &s.origin_log()[..2],
        ["colleague 4", "colleague 5"],
        "nothing of ours reached the remote"
    );
    let all = out.all();
    assert!(all.contains("was rejected twice"), "{all}");
    assert!(all.contains("someone else pushed again"), "{all}");
    assert!(all.contains("Run driftsync again"), "{all}");
    let report = s.repo.report();
    assert_eq!(report["exit_code"], 1);
    assert!(report.get("push").is_none(), "{report}");
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "git push")
        .expect("a git push gate");
    assert_eq!(gate["passed"], false);
    assert!(gate["message"]
        .as_str()
        .unwrap()
        .contains("was rejected twice"));
    // Our commit is still on the local branch, on top of the first colleague's.
    assert_eq!(
        s.repo.git(&["log", "-2", "--format=%s"]).trim(),
        "driftsync: sync facts\ncolleague 5"
    );
    assert_no_token(&s, &out);
}

#[test]
fn no_push_dry_run_and_check_never_push() {
    let mut s = Setup::new(0);
    s.repo.write(
        ".driftsync/sync.yaml",
        &s.repo
            .read(".driftsync/sync.yaml")
            .replace("targets:", "defaults:\n  git_push: true\ntargets:"),
    );
    s.repo.commit_all("push by default");
    s.repo.git(&["push", "-q", "origin", "main"]);
    s.repo
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", TOKEN);
    let tip = s.origin_tip();

    let out = s.repo.run(&["run", "--no-push"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(s.repo.report()["commit"].is_string(), "committed locally");
    assert!(s.repo.report().get("push").is_none());
    assert_eq!(s.origin_tip(), tip, "--no-push pushed");

    std::fs::write(s.repo.p("data/out.txt"), "stale\n").unwrap();
    s.repo.commit_all("stale output");
    let out = s.repo.run(&["run", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), tip, "--dry-run pushed");

    let out = s.repo.run(&["check"]);
    assert_eq!(out.code, 1, "{}", out.all()); // data/out.txt drifted
    assert_eq!(s.origin_tip(), tip, "check pushed");

    let out = s.repo.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), tip, "--no-commit pushed");

    // `git_push: true` alone does push (everything committed so far goes).
    let out = s.repo.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), s.repo.head(), "{}", out.all());
}

#[test]
fn in_github_actions_a_token_turns_pushing_on_and_a_detached_head_is_only_a_note() {
    let mut s = Setup::new(0);
    s.repo
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", "")
        .env("DRIFTSYNC_GIT_TOKEN", "");
    let tip = s.origin_tip();
    // No token: not pushed.
    let out = s.repo.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), tip, "pushed without a token");

    s.repo.env("DRIFTSYNC_GIT_TOKEN", TOKEN);
    std::fs::write(s.repo.p("data/out.txt"), "stale\n").unwrap();
    s.repo.commit_all("stale output");
    let out = s.repo.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(s.origin_tip(), s.repo.head(), "{}", out.all());
    let author = git(&s.origin(), &["log", "-1", "--format=%an", "main"]);
    assert_eq!(author.trim(), "github-actions[bot]");
    assert_no_token(&s, &out);

    // A pull-request checkout is a detached HEAD: committed, not pushed, exit 0.
    s.repo.git(&["checkout", "-q", "--detach"]);
    std::fs::write(s.repo.p("data/out.txt"), "stale again\n").unwrap();
    s.repo.commit_all("stale output again");
    let tip = s.origin_tip();
    let out = s.repo.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("not pushed: nowhere to push: HEAD is detached"),
        "{}",
        out.stdout
    );
    assert_eq!(s.origin_tip(), tip);
}

#[test]
fn push_asked_for_with_nowhere_to_push_is_an_environment_error() {
    let s = Setup::new(0);
    s.repo.git(&["remote", "remove", "origin"]);
    let out = s.repo.run(&["run", "--push"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains(
            "nowhere to push: branch `main` has no upstream and there is no remote `origin`"
        ),
        "{}",
        out.all()
    );
}
