//! One workspace for every command: `driftsync -C REPO …` from an unrelated
//! directory does exactly what `driftsync …` does inside REPO (same exit
//! code, same output once the repository's path is written `<repo>`), and
//! paths in sync.yaml — SQLite URLs included — are relative to the
//! repository root whatever directory the command starts in.
//!
//! The test walks the command tree of the real binary: a new command fails it
//! until it is given a command line below or listed as reading no workspace.

mod cli_support;

use std::path::Path;
use std::process::Command;

use driftsync_testkit::{git, temp_repo};

const CONFIG: &str = r#"version: "1.0"
targets:
  notes:
    type: sync
    local: notes/
    remote: sqlite://data/notes.db?table=notes
    outputs: ["notes/**"]
  frameworks:
    type: bundle
    direction: push
    local: frameworks/
    database: sqlite://data/frameworks.db
  db:
    type: schema
    direction: pull
    database: sqlite://data/notes.db
    local: schemas/
    outputs: ["schemas/**"]
  hello:
    type: command
    direction: pull
    entrypoint: scripts/hello.sh
    outputs: ["out/**"]
"#;

/// Each leaf command with the arguments it is run with (after `-C REPO`).
const COMMANDS: &[(&str, &[&str])] = &[
    ("run", &["run"]),
    ("check", &["check"]),
    ("list", &["list"]),
    ("config validate", &["config", "validate"]),
    ("config schema", &["config", "schema"]),
    (
        "sync",
        &[
            "sync",
            "notes",
            "sqlite://data/copy.db?table=notes",
            "--json",
        ],
    ),
    ("bundle status", &["bundle", "status"]),
    ("bundle init", &["bundle", "init", "iso"]),
    ("bundle export", &["bundle", "export"]),
    ("bundle import", &["bundle", "import"]),
    ("bundle validate", &["bundle", "validate"]),
    ("bundle migrate", &["bundle", "migrate", "--to", "2"]),
    (
        "space export",
        &["space", "export", "--database", NOTES, "exported/"],
    ),
    (
        "space import",
        &[
            "space",
            "import",
            "--database",
            NOTES,
            "notes/",
            "--dry-run",
        ],
    ),
    ("schema check", &["schema", "check", "--database", DB]),
    ("schema diff", &["schema", "diff", "--database", DB]),
    ("schema update", &["schema", "update", "--database", DB]),
    ("schema report", &["schema", "report", "--database", DB]),
    (
        "schema list",
        &["schema", "list", "tables", "--database", DB],
    ),
    ("schema analyze", &["schema", "analyze", "--database", DB]),
    ("schema docs", &["schema", "docs", "--database", DB]),
    (
        "schema lint-migrations",
        &["schema", "lint-migrations", "migrations", "--since", "HEAD"],
    ),
    ("hook install", &["hook", "install"]),
    ("matrix", &["matrix"]),
    (
        "report merge",
        &["report", "merge", ".driftsync/reports", "--out", "merged"],
    ),
    ("report schema", &["report", "schema"]),
    ("publish", &["publish"]),
    ("workflow check", &["workflow", "check"]),
    ("workflow generate", &["workflow", "generate"]),
    ("restore", &["restore", "--list"]),
    ("conflicts list", &["conflicts", "list", "--json"]),
    ("conflicts show", &["conflicts", "show", "notes/a.md"]),
    (
        "conflicts resolve",
        &["conflicts", "resolve", "notes/a.md", "--keep", "local"],
    ),
];

/// Commands that read no workspace (none today: even the JSON schemas are
/// run above, to show they do not depend on where they start).
const NO_WORKSPACE: &[&str] = &[];

const NOTES: &str = "sqlite://data/notes.db?table=notes";
const DB: &str = "sqlite://data/notes.db";

struct Out {
    code: i32,
    text: String,
}

fn driftsync(cwd: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("DATABASE_URL")
        .env_remove("DRIFTSYNC_BUNDLE_DATABASE")
        .env_remove("DRIFTSYNC_SPACE_DATABASE")
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run the driftsync binary");
    Out {
        code: out.status.code().unwrap_or(-1),
        text: format!(
            "{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A repository with a target of every kind, each path in sync.yaml
/// relative, after one `run` (committed) and one `check` (its report on disk).
fn fixture() -> tempfile::TempDir {
    let dir = temp_repo();
    let r = dir.path();
    let write = |rel: &str, text: &str| {
        let f = r.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    write(".gitignore", ".driftsync/reports/\n");
    write(".driftsync/sync.yaml", CONFIG);
    write("notes/a.md", "# a note\n");
    write(
        "frameworks/nist/bundle.yaml",
        "name: nist\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml]\n",
    );
    write("frameworks/nist/rules.yaml", "rules: [x]\n");
    write("schemas/.keep", "");
    write(
        "migrations/20240101000000_init.sql",
        "create table accounts (id bigint primary key);\n",
    );
    write(
        "scripts/hello.sh",
        "#!/bin/sh\nmkdir -p out\necho hello > out/hello.txt\n",
    );
    write("sub/readme.txt", "a subdirectory\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        r.join("scripts/hello.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "targets"]);
    let first = driftsync(r, &["run"]);
    assert_eq!(first.code, 0, "the fixture's first run: {}", first.text);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "--allow-empty", "-m", "first run"]);
    let check = driftsync(r, &["check"]);
    assert_eq!(check.code, 0, "the fixture's check: {}", check.text);
    dir
}

/// `text` with the repository's path written `<repo>`, and what changes from
/// run to run (hashes of absolute locations, times) blanked.
fn normalize(text: &str, repo: &Path) -> String {
    let mut t = text.to_string();
    let canonical = repo.canonicalize().unwrap();
    for p in [canonical.as_path(), repo] {
        t = t.replace(&p.display().to_string(), "<repo>");
    }
    blank_after(&blank_numbers(&t), "adhoc-")
}

/// Each number blanked to one `0`: durations, timestamps and run ids differ
/// between two runs, in value and in length (9 ms, 12 ms).
fn blank_numbers(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('0') {
            // (every digit is pushed as `0`: a `0` before is the same number)
            out.push('0');
        }
    }
    out
}

/// The hex word after each `marker` blanked.
fn blank_after(t: &str, marker: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = rest[i + marker.len()..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        out.push('#');
    }
    out.push_str(rest);
    out
}

/// Every leaf command of the binary's tree (`config validate`, `list`, …).
fn leaf_commands() -> Vec<String> {
    let mut todo = vec![Vec::<String>::new()];
    let mut leaves = Vec::new();
    while let Some(path) = todo.pop() {
        let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
            .args(&path)
            .arg("--help")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let subs = cli_support::subcommands(&text);
        if subs.is_empty() {
            leaves.push(path.join(" "));
        }
        for s in subs {
            let mut p = path.clone();
            p.push(s);
            todo.push(p);
        }
    }
    leaves.sort();
    leaves
}

#[test]
fn every_command_is_covered_or_listed() {
    let leaves = leaf_commands();
    assert!(leaves.len() >= 20, "walked only {leaves:?}");
    let known: Vec<&str> = COMMANDS
        .iter()
        .map(|(n, _)| *n)
        .chain(NO_WORKSPACE.iter().copied())
        .collect();
    let missing: Vec<&String> = leaves
        .iter()
        .filter(|l| !known.contains(&l.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "commands with no line in COMMANDS (or NO_WORKSPACE) of tests/cli_workspace.rs: {missing:?}"
    );
    let stale: Vec<&&str> = known
        .iter()
        .filter(|k| !leaves.iter().any(|l| l == *k))
        .collect();
    assert!(stale.is_empty(), "no such command: {stale:?}");
}

#[test]
fn dash_c_from_elsewhere_is_the_same_as_running_inside() {
    let mut differ = Vec::new();
    for (name, args) in COMMANDS {
        let inside = fixture();
        let there = fixture();
        let elsewhere = tempfile::tempdir().unwrap();
        let a = driftsync(inside.path(), args);
        let mut with_c = vec!["-C", there.path().to_str().unwrap()];
        with_c.extend_from_slice(args);
        let b = driftsync(elsewhere.path(), &with_c);
        let (ta, tb) = (
            normalize(&a.text, inside.path()),
            normalize(&b.text, there.path()),
        );
        if a.code != b.code || ta != tb {
            differ.push(format!(
                "driftsync {name}: inside exit {} / -C exit {}\n{ta}\n=== with -C:\n{tb}",
                a.code, b.code
            ));
        }
        let left: Vec<_> = std::fs::read_dir(elsewhere.path()).unwrap().collect();
        if !left.is_empty() {
            differ.push(format!(
                "driftsync -C … {name} wrote into the directory it started in: {left:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

#[test]
fn paths_in_sync_yaml_are_under_the_root_from_a_subdirectory() {
    let root = fixture();
    let sub = fixture();
    let a = driftsync(root.path(), &["check"]);
    let b = driftsync(&sub.path().join("sub"), &["check"]);
    assert_eq!(a.code, 0, "{}", a.text);
    assert_eq!(b.code, 0, "{}", b.text);
    assert_eq!(
        normalize(&a.text, root.path()),
        normalize(&b.text, sub.path())
    );
    // Every kind ran against the root's files: the report names the four
    // targets in sync.
    let report =
        std::fs::read_to_string(sub.path().join(".driftsync/reports/report.json")).unwrap();
    for t in ["notes", "frameworks", "db", "hello"] {
        assert!(
            report.contains(&format!("\"{t}\"")),
            "{t} missing: {report}"
        );
    }
    assert!(
        !sub.path().join("sub/data").exists(),
        "a SQLite file was opened under sub/"
    );
    assert!(!sub.path().join("sub/.driftsync").exists());
}
