//! The `secrets` gate: tracked files scanned for well-known token formats and
//! the config's `secret_patterns`; findings carry file:line, never the value.

use std::path::Path;

use driftsync_core::report::{Finding, FindingCode, Severity};
use regex::Regex;

/// Default allow-list file.
pub const DEFAULT_ALLOWLIST: &str = ".driftsync/secrets-allowlist";
/// Files larger than this are not scanned.
const MAX_FILE: u64 = 2 << 20;

/// A compiled scanner.
pub struct Scanner {
    rules: Vec<(String, Regex)>,
}

/// Well-known credential formats: (rule name, pattern). Where a pattern has a
/// group named `v`, only that group is the secret (the text before it, such as
/// `password = `, stays readable when redacted); otherwise the whole match is.
const BUILTIN: &[(&str, &str)] = &[
    (
        "github-token",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b",
    ),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "aws-secret-key",
        r#"(?i)aws_secret_access_key\s*[=:]\s*["']?(?P<v>[A-Za-z0-9/+=]{40})"#,
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
        r#"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\s*[=:]\s*["']?(?P<v>[^\s"'$<{][^\s"']{5,})"#,
    ),
];

/// A private key block: its armour lines stay, what is between them is the
/// secret. A block cut off before its END line (a tail, a truncated log) is
/// redacted to the end of the text.
const PRIVATE_KEY_BLOCK: &str = r"(?P<begin>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)(?P<v>(?s:.*?))(?P<end>-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\z)";

/// What replaces a detected or known secret.
pub const MASK: &str = "***";

/// The built-in credential formats, compiled once, for redacting text that
/// leaves the process (see [`redact`]).
struct Redactor {
    rules: Vec<Regex>,
    key_block: Regex,
}

fn redactor() -> &'static Redactor {
    static R: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
    R.get_or_init(|| Redactor {
        rules: BUILTIN
            .iter()
            .filter(|(name, _)| *name != "private-key")
            .map(|(_, r)| Regex::new(r).expect("built-in secret rule"))
            .collect(),
        key_block: Regex::new(PRIVATE_KEY_BLOCK).expect("private key block rule"),
    })
}

/// `text` with every credential of a well-known format (GitHub, AWS, Slack,
/// the body of a private key, `password = …` assignments) replaced by
/// [`MASK`]. Built-in formats only: the config's `secret_patterns` serve the
/// `secrets` gate. Use [`crate::Masker::mask`], which also masks known values.
pub fn redact(text: &str) -> String {
    let r = redactor();
    let mut out = if r.key_block.is_match(text) {
        r.key_block
            .replace_all(text, |c: &regex::Captures<'_>| {
                let body = &c["v"];
                let nl = if body.starts_with("\r\n") {
                    "\r\n"
                } else if body.starts_with('\n') {
                    "\n"
                } else {
                    ""
                };
                let end = &c["end"];
                if body.trim().is_empty() {
                    return c[0].to_string();
                }
                let tail = if end.is_empty() { "" } else { nl };
                format!("{}{nl}{MASK}{tail}{end}", &c["begin"])
            })
            .into_owned()
    } else {
        text.to_string()
    };
    for re in &r.rules {
        if !re.is_match(&out) {
            continue;
        }
        out = re
            .replace_all(&out, |c: &regex::Captures<'_>| match c.name("v") {
                Some(v) => {
                    let whole = c.get(0).expect("group 0");
                    let s = &c[0];
                    let (a, b) = (v.start() - whole.start(), v.end() - whole.start());
                    format!("{}{MASK}{}", &s[..a], &s[b..])
                }
                None => MASK.to_string(),
            })
            .into_owned();
    }
    out
}

/// Does `line` open a private key block (`-----BEGIN … PRIVATE KEY-----`)
/// without closing it on the same line?
pub fn opens_private_key(line: &str) -> bool {
    let r = redactor();
    line.contains("-----BEGIN ")
        && r.key_block
            .captures_iter(line)
            .any(|c| c.name("end").is_some_and(|e| e.as_str().is_empty()))
}

/// Does `line` close a private key block (`-----END … PRIVATE KEY-----`)?
pub fn closes_private_key(line: &str) -> bool {
    line.contains("-----END ") && line.contains("PRIVATE KEY")
}

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
                    code: FindingCode::Secret(rule.to_string()),
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
