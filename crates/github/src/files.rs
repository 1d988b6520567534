//! `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`: the Actions environment files.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::{GithubError, Result};

/// GitHub refuses a step summary larger than 1 MiB.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// A random heredoc delimiter (`ghadelimiter_<32 hex>`) that occurs in neither
/// the name nor the value, as `@actions/core` does with a UUID.
pub fn delimiter(name: &str, value: &str) -> String {
    loop {
        let mut bytes = [0u8; 16];
        // getrandom reads the OS source; if it is unavailable, fall back to
        // std's randomly seeded hasher so we never fail only for a delimiter.
        if getrandom::getrandom(&mut bytes).is_err() {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write(value.as_bytes());
            bytes[..8].copy_from_slice(&h.finish().to_le_bytes());
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let d = format!("ghadelimiter_{hex}");
        if !name.contains(&d) && !value.contains(&d) {
            return d;
        }
    }
}

/// One `name<<DELIM` … `DELIM` entry for `$GITHUB_OUTPUT` (works for single-
/// and multi-line values alike).
pub fn format_output(name: &str, value: &str) -> Result<String> {
    if name.is_empty() || name.contains(['\n', '\r', '=']) || name.contains("<<") {
        return Err(GithubError::Environment(format!(
            "invalid output name {name:?}: use letters, digits, '-' and '_'"
        )));
    }
    let d = delimiter(name, value);
    Ok(format!("{name}<<{d}\n{value}\n{d}\n"))
}

/// Append outputs to the `$GITHUB_OUTPUT` file.
pub fn write_outputs(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        text.push_str(&format_output(name, value)?);
    }
    append(path, &text)
}

/// Cut `markdown` to at most `limit` bytes at a line boundary, ending with
/// `note` (which says where the full report is). Unchanged when it fits.
pub fn truncate_markdown(markdown: &str, limit: usize, note: &str) -> String {
    if markdown.len() <= limit {
        return markdown.to_string();
    }
    let tail = format!("\n\n> **Truncated.** {note}\n");
    let budget = limit.saturating_sub(tail.len());
    let mut cut = budget.min(markdown.len());
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(nl) = markdown[..cut].rfind('\n') {
        cut = nl;
    }
    let mut out = markdown[..cut].to_string();
    // Close an open code fence so the note renders as text.
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    out.push_str(&tail);
    if out.len() > limit {
        // Pathological note length: hard cut, still valid UTF-8.
        let mut c = limit;
        while !out.is_char_boundary(c) {
            c -= 1;
        }
        out.truncate(c);
    }
    out
}

/// Append `markdown` to the `$GITHUB_STEP_SUMMARY` file, keeping the whole
/// file under [`SUMMARY_LIMIT`]. Returns true when it had to be truncated.
pub fn write_summary(path: &Path, markdown: &str, note: &str) -> Result<bool> {
    let existing = std::fs::metadata(path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let room = SUMMARY_LIMIT.saturating_sub(existing).saturating_sub(1);
    let text = truncate_markdown(markdown, room, note);
    let truncated = text.len() != markdown.len();
    append(path, &text)?;
    if !text.ends_with('\n') && existing + text.len() < SUMMARY_LIMIT {
        append(path, "\n")?;
    }
    Ok(truncated)
}

fn append(path: &Path, text: &str) -> Result<()> {
    let io = |source| GithubError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_random_and_absent_from_the_value() {
        let a = delimiter("n", "v");
        let b = delimiter("n", "v");
        assert_ne!(a, b);
        assert!(a.starts_with("ghadelimiter_"));
        assert_eq!(a.len(), "ghadelimiter_".len() + 32);
    }

    #[test]
    fn output_entries_use_heredoc_form() {
        let e = format_output("changed", "a\nb").unwrap();
        let mut lines = e.lines();
        let first = lines.next().unwrap();
        let (name, d) = first.split_once("<<").unwrap();
        assert_eq!(name, "changed");
        assert_eq!(lines.next(), Some("a"));
        assert_eq!(lines.next(), Some("b"));
        assert_eq!(lines.next(), Some(d));
        assert!(format_output("bad\nname", "x").is_err());
        assert!(format_output("", "x").is_err());
    }

    #[test]
    fn outputs_append_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        std::fs::write(&p, "earlier<<X\n1\nX\n").unwrap();
        write_outputs(&p, &[("drift", "true".into()), ("failed", "0".into())]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("earlier<<X\n1\nX\ndrift<<ghadelimiter_"));
        assert!(text.contains("\ntrue\nghadelimiter_"));
        assert!(text.contains("failed<<ghadelimiter_"));
    }

    #[test]
    fn markdown_under_the_limit_is_untouched() {
        assert_eq!(truncate_markdown("# hi\n", 100, "n"), "# hi\n");
    }

    #[test]
    fn markdown_over_the_limit_is_cut_at_a_line_and_points_to_the_report() {
        let md: String = (0..1000).map(|i| format!("| row {i} | é |\n")).collect();
        let out = truncate_markdown(&md, 500, "Full report: report.md in the artifact.");
        assert!(out.len() <= 500, "{}", out.len());
        assert!(out.ends_with("> **Truncated.** Full report: report.md in the artifact.\n"));
        let body = out.split("\n\n> **Truncated.**").next().unwrap();
        assert!(body.ends_with("é |"), "cut at a line end: {body:?}");
    }

    #[test]
    fn an_open_code_fence_is_closed_before_the_note() {
        let md = format!("```\n{}", "x\n".repeat(400));
        let out = truncate_markdown(&md, 300, "see report");
        assert_eq!(out.matches("```").count(), 2);
        assert!(out.len() <= 300);
    }

    #[test]
    fn summary_file_stays_under_one_mebibyte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary");
        std::fs::write(&p, "x".repeat(1000) + "\n").unwrap();
        let big = "line of markdown text\n".repeat(60_000);
        assert!(big.len() > SUMMARY_LIMIT);
        let truncated = write_summary(&p, &big, "see artifact").unwrap();
        assert!(truncated);
        let len = std::fs::metadata(&p).unwrap().len() as usize;
        assert!(len < SUMMARY_LIMIT, "{len}");
        assert!(len > SUMMARY_LIMIT - 200, "uses the room: {len}");
        assert!(!write_summary(&dir.path().join("s2"), "# ok", "n").unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s2")).unwrap(),
            "# ok\n"
        );
    }
}
