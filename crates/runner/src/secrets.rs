//! The `secrets` gate: tracked files scanned for well-known token formats and
//! the config's `secret_patterns`; findings carry file:line, never the value.

use std::path::Path;

use driftsync_core::report::{Finding, Severity};
use regex::Regex;

/// Default allow-list file.
pub const DEFAULT_ALLOWLIST: &str = ".driftsync/secrets-allowlist";
/// Files larger than this are not scanned.
const MAX_FILE: u64 = 2 << 20;

/// A compiled scanner.
pub struct Scanner {
    rules: Vec<(String, Regex)>,
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "github-token",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b",
    ),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "aws-secret-key",
        r#"(?i)aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+=]{40}"#,
    ),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    (
        "slack-webhook",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}",
    ),
    (
        "private-key",
        r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----",
    ),
    (
        "password-assignment",
        r#"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\s*[=:]\s*["']?[^\s"'$<{][^\s"']{5,}"#,
    ),
];

impl Scanner {
    /// The built-in rules plus `extra` (the config's `secret_patterns`).
    pub fn new(extra: &[Regex]) -> Scanner {
        let mut rules: Vec<(String, Regex)> = BUILTIN
            .iter()
            .map(|(n, r)| (n.to_string(), Regex::new(r).expect("built-in secret rule")))
            .collect();
        for r in extra {
            rules.push(("secret-pattern".into(), r.clone()));
        }
        Scanner { rules }
    }

    /// Findings in one text: (rule, line).
    pub fn scan_text(&self, text: &str) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if let Some((name, _)) = self.rules.iter().find(|(_, r)| r.is_match(line)) {
                out.push((name.clone(), i as u32 + 1));
            }
        }
        out
    }

    /// Scan `files` (repository-relative) under `root`, minus the allow-list.
    pub fn scan_files(&self, root: &Path, files: &[String], allow: &AllowList) -> Vec<Finding> {
        let mut findings = Vec::new();
        for f in files {
            if allow.allows_file(f) {
                continue;
            }
            let full = root.join(f);
            let Ok(meta) = std::fs::metadata(&full) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_FILE {
                continue;
            }
            let Ok(bytes) = std::fs::read(&full) else {
                continue;
            };
            if bytes.contains(&0) {
                continue; // binary
            }
            let text = String::from_utf8_lossy(&bytes);
            for (rule, line) in self.scan_text(&text) {
                if allow.allows_line(f, line) {
                    continue;
                }
                findings.push(Finding {
                    code: format!("secret-{rule}"),
                    severity: Severity::High,
                    message: format!("possible secret ({rule}) in {f}:{line}; value redacted"),
                    file: Some(f.clone()),
                    line: Some(line),
                    column: None,
                });
            }
        }
        findings
    }
}

/// Accepted findings: lines of `path/glob` (the whole file) or `path:line`; `#` comments.
#[derive(Default)]
pub struct AllowList {
    files: Vec<globset::GlobMatcher>,
    lines: Vec<(String, u32)>,
}

impl AllowList {
    /// Read the allow-list; an absent file allows nothing.
    pub fn read(path: &Path) -> AllowList {
        let Ok(text) = std::fs::read_to_string(path) else {
            return AllowList::default();
        };
        AllowList::parse(&text)
    }

    /// Parse allow-list text.
    pub fn parse(text: &str) -> AllowList {
        let mut a = AllowList::default();
        for l in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            match l.rsplit_once(':') {
                Some((p, n)) if n.parse::<u32>().is_ok() => {
                    a.lines.push((p.to_string(), n.parse().unwrap_or(0)))
                }
                _ => {
                    if let Ok(g) = driftsync_config::glob::compile(l) {
                        a.files.push(g.compile_matcher());
                    }
                }
            }
        }
        a
    }

    fn allows_file(&self, f: &str) -> bool {
        self.files.iter().any(|g| g.is_match(f))
    }

    fn allows_line(&self, f: &str, line: u32) -> bool {
        self.lines.iter().any(|(p, l)| p == f && *l == line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_well_known_formats_but_not_placeholders() {
        let s = Scanner::new(&[Regex::new("(?i)notion_api_token").unwrap()]);
        let text = format!(
            "a\nkey = {}\nAKIA{}\npassword: ${{DB_PASSWORD}}\npassword = hunter2hunter\nNOTION_API_TOKEN=x\n-----BEGIN RSA PRIVATE KEY-----\n",
            format_args!("ghp_{}", "a".repeat(36)),
            "ABCDEFGHIJKLMNOP"
        );
        let lines: Vec<u32> = s.scan_text(&text).into_iter().map(|(_, l)| l).collect();
        assert_eq!(lines, [2, 3, 5, 6, 7]);
    }

    #[test]
    fn allow_list_by_file_and_line() {
        let a = AllowList::parse("# ok\ntests/fixtures/**\ndocs/x.md:3\n");
        assert!(a.allows_file("tests/fixtures/a/b.txt"));
        assert!(a.allows_line("docs/x.md", 3));
        assert!(!a.allows_line("docs/x.md", 4));
    }
}
