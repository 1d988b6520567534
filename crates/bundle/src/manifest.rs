//! `bundle.yaml`: parsed, checked against the JSON Schema, and resolved into a [`Manifest`].

use std::fmt;
use std::str::FromStr;

use driftsync_core::RelPath;

use crate::schema::{self, Problem};
use crate::yaml::{self, Node, NodeValue};

/// The JSON Schema every `bundle.yaml` must satisfy.
pub const BUNDLE_SCHEMA: &str = include_str!("bundle.schema.json");

/// The manifest file's name inside a bundle directory.
pub const MANIFEST_FILE: &str = "bundle.yaml";

/// A semantic version `MAJOR.MINOR.PATCH` (no pre-release or build parts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Semver {
    /// Incompatible changes.
    pub major: u64,
    /// Compatible additions.
    pub minor: u64,
    /// Fixes.
    pub patch: u64,
}

/// Which part of a version to increment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bump {
    /// x+1.0.0
    Major,
    /// x.y+1.0
    Minor,
    /// x.y.z+1
    Patch,
}

impl Semver {
    /// The next version after this one.
    pub fn bump(self, part: Bump) -> Semver {
        match part {
            Bump::Major => Semver {
                major: self.major + 1,
                minor: 0,
                patch: 0,
            },
            Bump::Minor => Semver {
                minor: self.minor + 1,
                patch: 0,
                ..self
            },
            Bump::Patch => Semver {
                patch: self.patch + 1,
                ..self
            },
        }
    }
}

impl FromStr for Semver {
    type Err = String;

    fn from_str(s: &str) -> Result<Semver, String> {
        let parts: Vec<&str> = s.split('.').collect();
        let num = |p: &str| -> Option<u64> {
            (!p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p == "0" || !p.starts_with('0')))
            .then(|| p.parse().ok())
            .flatten()
        };
        match parts.as_slice() {
            [a, b, c] => match (num(a), num(b), num(c)) {
                (Some(major), Some(minor), Some(patch)) => Ok(Semver {
                    major,
                    minor,
                    patch,
                }),
                _ => Err(format!(
                    "{s:?} is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.4.0)"
                )),
            },
            _ => Err(format!(
                "{s:?} is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.4.0)"
            )),
        }
    }
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A valid `bundle.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The bundle's name (its directory name).
    pub name: String,
    /// Its version.
    pub version: Semver,
    /// The framework specification version its files follow.
    pub spec_version: String,
    /// One paragraph for humans.
    pub description: String,
    /// The declared files, relative to the bundle directory, in declared
    /// order; without `files:` in the file, every file of the folder (see
    /// [`crate::local::load`]).
    pub files: Vec<RelPath>,
    /// `files:` is written in the file (else the folder's files are the bundle).
    pub files_declared: bool,
    /// Where the `version` value sits (1-based line, column), for rewriting it.
    pub version_at: (usize, usize),
}

/// True for a usable bundle name: lowercase letters, digits, `-`, `_`, `.`; not starting with `.`.
pub fn is_bundle_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// Parse and check a `bundle.yaml`; every problem has a line and a column.
pub fn parse_manifest(text: &str) -> Result<Manifest, Vec<Problem>> {
    let node = yaml::parse(text).map_err(|e| {
        vec![Problem {
            line: e.line,
            col: e.col,
            message: format!("invalid YAML: {}", e.message),
        }]
    })?;
    let schema: serde_json::Value =
        serde_json::from_str(BUNDLE_SCHEMA).expect("the embedded bundle schema is valid JSON");
    let mut problems = Vec::new();
    schema::validate(&schema, &node, "", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let text_of = |key: &str| {
        node.get(key)
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string()
    };
    let at = |n: &Node, message: String| Problem {
        line: n.line,
        col: n.col,
        message,
    };
    let name_node = node.get("name").expect("required by the schema");
    let name = text_of("name");
    if !is_bundle_name(&name) {
        problems.push(at(
            name_node,
            format!("name: {name:?} must use lowercase letters, digits, '-', '_' or '.'"),
        ));
    }
    let version_node = node.get("version").expect("required by the schema");
    let version = match text_of("version").parse::<Semver>() {
        Ok(v) => v,
        Err(e) => {
            problems.push(at(version_node, format!("version: {e}")));
            Semver {
                major: 0,
                minor: 0,
                patch: 0,
            }
        }
    };
    let mut files = Vec::new();
    if let Some(Node {
        value: NodeValue::Seq(items),
        ..
    }) = node.get("files")
    {
        for item in items {
            let raw = item.as_str().unwrap_or("");
            match RelPath::new(raw) {
                Ok(p) if p.as_str() == MANIFEST_FILE => problems.push(at(
                    item,
                    format!("files: {MANIFEST_FILE} is always part of the bundle; do not list it"),
                )),
                Ok(p) => files.push(p),
                Err(e) => problems.push(at(item, format!("files: {raw:?} refused: {e}"))),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Manifest {
        name,
        version,
        spec_version: text_of("spec_version"),
        description: text_of("description"),
        files,
        files_declared: node.get("files").is_some(),
        version_at: (version_node.line, version_node.col),
    })
}

/// `text` with the `version` value (at `at`, whose current text is `old`) replaced by `new`.
pub fn rewrite_version(text: &str, at: (usize, usize), old: &str, new: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut done = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == at.0 && !done {
            let start: usize = line
                .char_indices()
                .nth(at.1 - 1)
                .map_or(line.len(), |(b, _)| b);
            if let Some(pos) = line[start..].find(old) {
                out.push_str(&line[..start + pos]);
                out.push_str(new);
                out.push_str(&line[start + pos + old.len()..]);
                done = true;
                continue;
            }
        }
        out.push_str(line);
    }
    done.then_some(out)
}

/// A canonical `bundle.yaml` for a manifest (used when a migration rewrites one).
pub fn render_manifest(m: &Manifest) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut out = format!(
        "name: {}\nversion: \"{}\"\nspec_version: {}\n",
        q(&m.name),
        m.version,
        q(&m.spec_version)
    );
    if !m.description.is_empty() {
        out.push_str(&format!("description: {}\n", q(&m.description)));
    }
    if m.files_declared {
        out.push_str("files:\n");
        for f in &m.files {
            out.push_str(&format!("  - {}\n", q(f.as_str())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: iso27001\nversion: 1.2.0\nspec_version: 2\ndescription: Controls\nfiles:\n  - controls.yaml\n  - docs/intro.md\n";

    #[test]
    fn parses_a_good_manifest() {
        let m = parse_manifest(GOOD).unwrap();
        assert_eq!(
            m.version,
            Semver {
                major: 1,
                minor: 2,
                patch: 0
            }
        );
        assert_eq!(m.spec_version, "2");
        assert_eq!(m.files.len(), 2);
        assert_eq!(m.version_at, (2, 10));
        let again = parse_manifest(&render_manifest(&m)).unwrap();
        assert_eq!(again.files, m.files);
    }

    #[test]
    fn problems_have_positions() {
        let bad = "name: X\nversion: 1.0\nspec_version: 1\nfiles:\n  - ../up.yaml\n  - a\n  - a\ncolour: red\n";
        let p = parse_manifest(bad).unwrap_err();
        let text: Vec<String> = p
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
            .collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("2:10: version: expected string, found number")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("7:5: files[2]: duplicate")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("8:1: colour: unknown key")),
            "{text:?}"
        );
        let p = parse_manifest("name: x\nversion: \"1.0.0\"\nspec_version: 1\nfiles: [../up]\n")
            .unwrap_err();
        assert_eq!((p[0].line, p[0].col), (4, 9), "{p:?}");
        let p = parse_manifest("name: x\nversion: [\n").unwrap_err();
        assert!(p[0].message.starts_with("invalid YAML"), "{p:?}");
        let p = parse_manifest("name: x\nspec_version: 1\nfiles: [a]\n").unwrap_err();
        assert!(
            p[0].message.contains("missing required key `version`"),
            "{p:?}"
        );
    }

    #[test]
    fn semver_and_rewrite() {
        let v: Semver = "1.9.3".parse().unwrap();
        assert_eq!(v.bump(Bump::Minor).to_string(), "1.10.0");
        assert_eq!(v.bump(Bump::Major).to_string(), "2.0.0");
        assert!("1.02.0".parse::<Semver>().is_err());
        let out = rewrite_version(GOOD, (2, 10), "1.2.0", "1.2.1").unwrap();
        assert!(out.contains("version: 1.2.1\n") && out.contains("description: Controls"));
        let q = "name: x\nversion: \"1.0.0\" # keep\n";
        assert_eq!(
            rewrite_version(q, (2, 10), "1.0.0", "2.0.0").unwrap(),
            "name: x\nversion: \"2.0.0\" # keep\n"
        );
    }
}
