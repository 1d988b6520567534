//! `action.yml` and every workflow (ours and the examples users copy) pass
//! GitHub's JSON schemas and zizmor's security audit, offline.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name).arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        panic!(
            "{name} is not installed. Install it with `bash .ci/install/40-actions-lint.sh` \
             (pip install zizmor check-jsonschema)"
        );
    }
    let mut c = Command::new(name);
    c.current_dir(root());
    c
}

fn workflows() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/workflows", "examples/workflows"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 4,
        "expected ci, release and two examples: {files:?}"
    );
    files
}

fn run(mut c: Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn github_action_matches_the_actions_schema() {
    let mut c = tool("check-jsonschema");
    c.args(["--builtin-schema", "vendor.github-actions", "action.yml"]);
    run(c);
}

#[test]
fn github_workflows_match_the_workflows_schema() {
    let mut c = tool("check-jsonschema");
    c.args(["--builtin-schema", "vendor.github-workflows"]);
    c.args(workflows());
    run(c);
}

#[test]
fn github_zizmor_finds_nothing() {
    let mut c = tool("zizmor");
    c.args(["--offline", "--config", ".github/zizmor.yml", "action.yml"]);
    c.args(workflows());
    run(c);
}

#[test]
fn github_action_never_expands_expressions_in_shell_lines() {
    // `${{ }}` in a `run:` line is script injection; inputs go through env:.
    for file in std::iter::once(root().join("action.yml")).chain(workflows()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_run = false;
        let mut run_indent = 0;
        for (i, line) in text.lines().enumerate() {
            let indent = line.len() - line.trim_start().len();
            let t = line.trim_start().trim_start_matches("- ");
            if in_run && !line.trim().is_empty() && indent <= run_indent {
                in_run = false;
            }
            if let Some(rest) = t.strip_prefix("run:") {
                in_run = true;
                run_indent = indent;
                assert!(
                    !rest.contains("${{"),
                    "{}:{}: expression in run",
                    file.display(),
                    i + 1
                );
            } else if in_run {
                assert!(
                    !line.contains("${{"),
                    "{}:{}: expression in run",
                    file.display(),
                    i + 1
                );
            }
        }
    }
    let scripts = Path::new(".github/scripts");
    for e in std::fs::read_dir(root().join(scripts)).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("${{"),
            "{}: workflow expression in a script",
            p.display()
        );
    }
}
