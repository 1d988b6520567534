//! Workflow commands (`::name key=value::message`) written to standard output.
//!
//! Escaping follows `@actions/core`'s `command.ts`: the message escapes `%`,
//! CR and LF; property values also escape `:` and `,`. These functions return
//! lines; the binary prints them.

/// Escape a command's message (`%`, `\r`, `\n`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property value (`%`, `\r`, `\n`, `:`, `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Format `::name k=v,k=v::message` with both parts escaped.
pub fn command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    if props.is_empty() {
        format!("::{name}::{}", escape_data(message))
    } else {
        format!("::{name} {}::{}", props.join(","), escape_data(message))
    }
}

/// `::add-mask::value` — hides every later occurrence of `value` in the log.
///
/// A multi-line secret is masked line by line (GitHub masks each line of a
/// mask separately, and an escaped newline would never match).
pub fn add_mask(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| command("add-mask", &[], l))
        .collect()
}

/// `::group::title` — starts a collapsible block in the log.
pub fn group(title: &str) -> String {
    command("group", &[], title)
}

/// `::endgroup::` — ends the block started by [`group`].
pub fn endgroup() -> String {
    "::endgroup::".to_string()
}

/// `::notice::`, `::warning::` or `::error::` without a location.
pub fn message(level: Level, text: &str) -> String {
    command(level.command(), &[], text)
}

/// Annotation level of a workflow command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `::notice`
    Notice,
    /// `::warning`
    Warning,
    /// `::error`
    Error,
}

impl Level {
    /// The workflow command's name.
    pub fn command(self) -> &'static str {
        match self {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    /// The check-run API's `annotation_level`.
    pub fn check_level(self) -> &'static str {
        match self {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_first_and_newlines() {
        assert_eq!(escape_data("100%\r\nok"), "100%25%0D%0Aok");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("C:\\x,y%\n"), "C%3A\\x%2Cy%25%0A");
    }

    #[test]
    fn command_formats_properties_in_order_and_skips_empty() {
        let line = command(
            "error",
            &[
                ("file", "a,b.py".into()),
                ("line", "3".into()),
                ("title", String::new()),
            ],
            "bad\nthing",
        );
        assert_eq!(line, "::error file=a%2Cb.py,line=3::bad%0Athing");
        assert_eq!(command("notice", &[], "hi"), "::notice::hi");
    }

    #[test]
    fn an_injected_command_is_neutralised() {
        // A message that tries to start a new command on its own line cannot.
        let line = message(Level::Warning, "x\n::add-mask::oops");
        assert!(!line.contains('\n'));
        assert_eq!(line, "::warning::x%0A::add-mask::oops");
    }

    #[test]
    fn masks_each_line_of_a_multiline_secret() {
        assert_eq!(
            add_mask("abc\n def \n"),
            vec!["::add-mask::abc", "::add-mask::def"]
        );
        assert!(add_mask("  ").is_empty());
    }

    #[test]
    fn groups_open_and_close() {
        assert_eq!(group("target: a"), "::group::target: a");
        assert_eq!(endgroup(), "::endgroup::");
    }
}
