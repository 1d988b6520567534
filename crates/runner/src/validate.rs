//! The `validate` gate: every JSON, YAML and TOML file under the given globs parses.

use std::path::Path;

use driftsync_config::{FileKind, GlobList};
use driftsync_core::report::{Finding, FindingCode, Severity};

/// Check every matching file under `root`; one finding per file that does not parse.
pub fn validate_tree(root: &Path, paths: &GlobList) -> Vec<Finding> {
    let mut files = Vec::new();
    collect(root, root, paths, &mut files);
    files.sort();
    files
        .iter()
        .filter_map(|f| validate_file(root, f))
        .collect()
}

fn collect(root: &Path, dir: &Path, paths: &GlobList, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = p
            .strip_prefix(root)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if rel != ".git" && rel != "target" {
                collect(root, &p, paths, out);
            }
        } else if ft.is_file() && paths.is_match(&rel) {
            out.push(rel);
        }
    }
}

/// Parse one file by its extension; `None` when it parses (or is not JSON/YAML/TOML).
pub fn validate_file(root: &Path, rel: &str) -> Option<Finding> {
    let kind = FileKind::of_path(rel)?;
    let text = match std::fs::read_to_string(root.join(rel)) {
        Ok(t) => t,
        Err(e) => return Some(finding(rel, None, None, format!("cannot read: {e}"))),
    };
    let p = problem(kind, &text)?;
    Some(finding(rel, p.line, p.column, p.message))
}

/// Where and why a text does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when the parser says.
    pub line: Option<usize>,
    /// 1-based column, when the parser says.
    pub column: Option<usize>,
    /// The parser's message (without its own position suffix).
    pub message: String,
}

/// Parse `text` as `kind`; `None` when it parses (every YAML document is checked).
pub fn problem(kind: FileKind, text: &str) -> Option<Problem> {
    match kind {
        FileKind::Json => serde_json::from_str::<serde_json::Value>(text)
            .err()
            .map(|e| Problem {
                line: Some(e.line()),
                column: Some(e.column()),
                message: e.to_string(),
            }),
        FileKind::Toml => text.parse::<toml::Table>().err().map(|e| {
            let (l, c) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            Problem {
                line: Some(l),
                column: Some(c),
                message: e.message().to_string(),
            }
        }),
        FileKind::Yaml => {
            for doc in serde_yaml::Deserializer::from_str(text) {
                if let Err(e) = <serde_yaml::Value as serde::Deserialize>::deserialize(doc) {
                    let loc = e.location();
                    let msg = e.to_string();
                    let msg = msg
                        .rsplit_once(" at line ")
                        .map_or(msg.as_str(), |(m, _)| m)
                        .to_string();
                    return Some(Problem {
                        line: loc.as_ref().map(|l| l.line()),
                        column: loc.as_ref().map(|l| l.column()),
                        message: msg,
                    });
                }
            }
            None
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

fn finding(rel: &str, line: Option<usize>, column: Option<usize>, msg: String) -> Finding {
    let at = match line {
        Some(l) => format!("{rel}:{l}"),
        None => rel.to_string(),
    };
    Finding {
        code: FindingCode::InvalidFile,
        severity: Severity::High,
        message: format!("{at}: does not parse: {msg}"),
        file: Some(rel.to_string()),
        line: line.map(|l| l as u32),
        column: column.map(|c| c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_line_of_each_broken_file() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let f = d.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, t).unwrap();
        };
        w("docs/ok.json", "{\"a\": 1}");
        w("docs/bad.json", "{\n  \"a\": 1,\n}");
        w("docs/bad.yaml", "a: 1\nb: [\n");
        w("docs/bad.toml", "a = 1\nb = \n");
        w("docs/ok.yml", "a: [1, 2]\n");
        w("other/bad.json", "{");
        let g = GlobList::new(vec!["docs/**".into()]).unwrap();
        let f = validate_tree(d.path(), &g);
        let got: Vec<(String, Option<u32>)> = f
            .iter()
            .map(|f| (f.file.clone().unwrap(), f.line))
            .collect();
        assert_eq!(
            got,
            [
                ("docs/bad.json".to_string(), Some(3)),
                ("docs/bad.toml".to_string(), Some(2)),
                ("docs/bad.yaml".to_string(), Some(3)),
            ]
        );
    }
}
