//! Paths and text as printed on one line.
//!
//! A file name may hold a newline or another control character; printed as
//! is it would start a line of its own and could pass for an action that is
//! not in the plan. Every path printed is quoted the way `git` quotes one
//! (`"a\nb"`, with `\\` and `\"`) when it holds a control character, a
//! backslash or a double quote; other text gets its control characters
//! escaped. JSON output keeps every path exactly.

use std::borrow::Cow;
use std::fmt::Write;

fn needs_quoting(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || c == '"' || c == '\\')
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0b' => out.push_str("\\v"),
        '\x0c' => out.push_str("\\f"),
        c if (c as u32) < 0x100 => {
            // Octal, like git: every other C0 and C1 control and DEL.
            let _ = write!(out, "\\{:03o}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// A path as printed: unchanged when plain, else in double quotes with
/// C-style escapes (`"new\nline.txt"`), so one path is always one line.
pub fn path(p: &str) -> Cow<'_, str> {
    if !needs_quoting(p) {
        return Cow::Borrowed(p);
    }
    let mut out = String::with_capacity(p.len() + 8);
    out.push('"');
    for c in p.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Free text (a reason, a detail, a message naming paths) with its control
/// characters escaped, so it stays on its line.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_stay_as_they_are_others_are_quoted_like_git() {
        assert_eq!(path("docs/a b/é.md"), "docs/a b/é.md");
        assert_eq!(path("a\nb"), "\"a\\nb\"");
        assert_eq!(path("tab\there"), "\"tab\\there\"");
        assert_eq!(path("esc\x1b[31m"), "\"esc\\033[31m\"");
        assert_eq!(path("del\x7f"), "\"del\\177\"");
        assert_eq!(path("c1\u{85}"), "\"c1\\205\"");
        // A literal backslash-n is not the same as a newline.
        assert_eq!(path("a\\nb"), "\"a\\\\nb\"");
        assert_eq!(path("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(text("line\nnext"), "line\\nnext");
        assert_eq!(text("plain \"text\""), "plain \"text\"");
    }
}
