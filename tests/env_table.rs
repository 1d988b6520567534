//! Environment variables are registered once: `src/env.rs`'s `VARS` and
//! README.md's table name the same variables with the same secrecy, and no
//! code reads a `DRIFTSYNC_*`/`GITHUB_*` variable (or, in the binary, any
//! variable) by a name the table does not hold.

#[allow(dead_code)]
#[path = "../src/env.rs"]
mod env;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Read by tests, benches and fault injection only; not for users.
fn development_only(name: &str) -> bool {
    name == "DRIFTSYNC_BLESS"
        || name.starts_with("DRIFTSYNC_TEST_")
        || name.starts_with("DRIFTSYNC_BENCH_")
}

const READ: &str = "## Environment variables read by driftsync";
/// Variables driftsync sets for entrypoints rather than reads.
const GIVEN: &str = "## What an entrypoint receives";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README's table under `heading`: each variable name with its row's last cell.
fn readme_table(heading: &str) -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("README.md has no section {heading}"));
    let mut rows = BTreeMap::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with("| variable"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (names, secret) = (cells[1], cells[cells.len() - 2]);
        for name in names.split('`').skip(1).step_by(2) {
            if is_name(name) {
                rows.insert(name.to_string(), secret.to_string());
            }
        }
    }
    rows
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn readme_and_code_list_the_same_variables() {
    let table = readme_table(READ);
    assert!(table.len() >= 20, "README table parsed to {table:?}");
    let mut seen = std::collections::BTreeSet::new();
    for v in env::VARS {
        assert!(seen.insert(v.name), "{} is in VARS twice", v.name);
        assert!(!v.meaning.is_empty(), "{} has no meaning", v.name);
        let want = if v.secret { "yes" } else { "no" };
        match table.get(v.name) {
            None => panic!(
                "{} is in src/env.rs VARS but not in README.md's table",
                v.name
            ),
            Some(s) => assert_eq!(
                s, want,
                "{}: README says secret={s}, VARS says {want}",
                v.name
            ),
        }
    }
    for name in table.keys() {
        assert!(
            env::VARS.iter().any(|v| v.name == name),
            "README.md's table has {name}, src/env.rs VARS does not"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The names following each `marker` in `text` (`var("NAME"` → NAME).
fn names_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn no_variable_is_read_by_a_name_outside_the_table() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for c in std::fs::read_dir(root().join("crates")).unwrap() {
        let c = c.unwrap().path();
        if c.file_name().is_some_and(|n| n != "testkit") && c.join("src").is_dir() {
            rust_files(&c.join("src"), &mut files);
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    let given = readme_table(GIVEN);
    assert!(given.contains_key("DRIFTSYNC_TARGET"), "{given:?}");
    // `after:` commands of sync targets are given their own (docs/sync.md).
    let after = std::fs::read_to_string(root().join("docs/sync.md")).unwrap();
    let given_to_after = |n: &str| after.contains(&format!("`{n}`"));
    let known = |n: &str| env::VARS.iter().any(|v| v.name == n) || development_only(n);
    let mut stray = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        let in_binary = rel.starts_with("src/") && !rel.ends_with("src/env.rs");
        // Read by a literal name.
        for marker in ["env::var(\"", "var_os(\"", " env = \""] {
            for name in names_after(&text, marker) {
                if in_binary {
                    stray.push(format!("{rel}: reads {name} by name; use src/env.rs"));
                } else if !known(name) {
                    stray.push(format!("{rel}: reads {name}, which src/env.rs VARS lacks"));
                }
            }
        }
        // A constant naming a driftsync or GitHub variable.
        for name in names_after(&text, ": &str = \"") {
            let ours = ["DRIFTSYNC_", "GITHUB_", "ACTIONS_"]
                .iter()
                .any(|p| name.starts_with(p));
            if ours && !known(name) && !given.contains_key(name) && !given_to_after(name) {
                stray.push(format!("{rel}: names {name}, which src/env.rs VARS lacks"));
            }
        }
    }
    assert!(stray.is_empty(), "{}", stray.join("\n"));
}
