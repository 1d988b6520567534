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
    for want in [
        "ci.yml",
        "release.yml",
        "commit.yml",
        "pull-request.yml",
        "check-only.yml",
        "scale-out.yml",
    ] {
        assert!(
            files
                .iter()
                .any(|f| f.file_name().is_some_and(|n| n == want)),
            "{want} missing from {files:?}"
        );
    }
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

/// What users copy must be clean under zizmor's own defaults, not only
/// under this repository's configuration.
#[test]
fn github_zizmor_without_our_config_finds_nothing() {
    let mut c = tool("zizmor");
    c.args(["--offline", "--no-config", "action.yml"]);
    c.args(workflows());
    run(c);
}

/// The release builds what the installer downloads, on runner images that
/// exist, and attests the archives with an action pinned by commit SHA.
#[test]
fn github_release_builds_the_installers_platforms_with_provenance() {
    let release = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let install =
        std::fs::read_to_string(root().join(".github/scripts/install-driftsync.sh")).unwrap();
    for triple in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(
            release.contains(&format!("target: {triple},")),
            "{triple} not built"
        );
        assert!(
            install.contains(&format!("triple={triple}")),
            "{triple} not installed"
        );
    }
    assert!(
        !release.contains("x86_64-apple-darwin"),
        "Intel macOS is unsupported"
    );
    assert!(
        !release.contains("macos-13"),
        "macos-13 runners are retired"
    );
    assert!(release.contains(
        "uses: actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32 # v4.1.0"
    ));
    // The OIDC and attestation permissions only on the publishing job.
    assert_eq!(release.matches("id-token: write").count(), 1);
    assert_eq!(release.matches("attestations: write").count(), 1);
    let publish = &release[release.find("\n  publish:").unwrap()..];
    assert!(publish.contains("id-token: write") && publish.contains("attestations: write"));
    assert!(publish.contains("SHA256SUMS"));
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

/// The install story, the three ways to run and the scale-out recipe in
/// docs/github.md show the tested example files: every yaml block under
/// those headings is a verbatim excerpt of one of them.
#[test]
fn github_docs_yaml_is_copied_from_the_tested_examples() {
    let docs = std::fs::read_to_string(root().join("docs/github.md")).unwrap();
    let examples: Vec<(PathBuf, String)> = workflows()
        .into_iter()
        .filter(|p| p.starts_with(root().join("examples")))
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    let sections = [
        "## Installing and verifying",
        "## Three ways to run",
        "## Scale-out",
    ];
    let mut heading = "";
    let mut block: Option<String> = None;
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    for line in docs.lines() {
        if let Some(b) = block.as_mut() {
            if line == "```" {
                if sections.contains(&heading) {
                    let b = block.take().unwrap();
                    assert!(
                        examples.iter().any(|(_, t)| t.contains(&b)),
                        "a yaml block under {heading} is in no example file:\n{b}"
                    );
                    *checked.entry(heading).or_default() += 1;
                }
                block = None;
            } else {
                b.push_str(line);
                b.push('\n');
            }
        } else if line == "```yaml" {
            block = Some(String::new());
        } else if line.starts_with("## ") {
            heading = line;
        }
    }
    for s in sections {
        assert!(
            checked.get(s).copied().unwrap_or(0) > 0,
            "no yaml under {s}"
        );
    }
    assert_eq!(checked.values().sum::<usize>(), 7, "{checked:?}");
}

/// release.yml refuses a tag other than v<.github/driftsync-version>: the
/// action would never download that release. Its step runs here as is.
#[test]
fn github_release_tag_must_match_the_version_file() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let wf: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let step = wf["jobs"]["build"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some("Tag matches the version file"))
        .expect("release.yml checks the tag against the version file");
    let script = step["run"].as_str().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    for (tag, ok) in [
        (format!("v{version}"), true),
        ("v99.0.0".to_string(), false),
        (version.to_string(), false),
    ] {
        let out = Command::new("bash")
            .args(["-e", "-c", script])
            .env("TAG", &tag)
            .current_dir(root())
            .output()
            .unwrap();
        assert_eq!(out.status.success(), ok, "{tag}: {out:?}");
        if !ok {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains(&format!(
                    "::error::tag {tag} does not match .github/driftsync-version (v{version})"
                )),
                "{stdout}"
            );
        }
    }
}
