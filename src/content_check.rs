//! `validate: [yaml, json, toml]` for the sync engine: files of those kinds
//! are parsed (with the runner's parsers) before they are propagated.

use driftsync_config::FileKind;
use driftsync_core::RelPath;
use driftsync_engine::{ContentCheck, Invalid};

/// Parses files whose extension names one of `kinds`.
#[derive(Debug)]
pub struct FormatCheck {
    kinds: Vec<FileKind>,
}

impl FormatCheck {
    /// A check for `kinds`; `None` when the list is empty (nothing to check).
    pub fn for_kinds(kinds: &[FileKind]) -> Option<std::sync::Arc<dyn ContentCheck>> {
        (!kinds.is_empty()).then(|| {
            std::sync::Arc::new(FormatCheck {
                kinds: kinds.to_vec(),
            }) as std::sync::Arc<dyn ContentCheck>
        })
    }
}

impl ContentCheck for FormatCheck {
    fn applies(&self, path: &RelPath) -> bool {
        FileKind::of_path(path.as_str()).is_some_and(|k| self.kinds.contains(&k))
    }

    fn check(&self, path: &RelPath, content: &[u8]) -> Option<Invalid> {
        let kind = FileKind::of_path(path.as_str())?;
        let text = match std::str::from_utf8(content) {
            Ok(t) => t,
            Err(e) => {
                return Some(Invalid {
                    line: None,
                    column: None,
                    message: format!("not UTF-8 text: {e}"),
                })
            }
        };
        driftsync_runner::validate::problem(kind, text).map(|p| Invalid {
            line: p.line.map(|l| l as u32),
            column: p.column.map(|c| c as u32),
            message: p.message,
        })
    }
}

/// Parse `--validate` / `validate:` names.
pub fn parse_kind(s: &str) -> Result<FileKind, String> {
    FileKind::parse(s).ok_or_else(|| format!("cannot validate `{s}` files; use yaml, json or toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_only_the_kinds_asked_for() {
        let c = FormatCheck::for_kinds(&[FileKind::Yaml]).unwrap();
        let p = |s: &str| RelPath::new(s).unwrap();
        assert!(c.applies(&p("a/b.yml")) && !c.applies(&p("a/b.json")));
        let bad = c.check(&p("x.yaml"), b"a: 1\nb: [\n").unwrap();
        assert_eq!(bad.line, Some(3), "{bad:?}");
        assert!(c.check(&p("x.yaml"), b"a: [1]\n").is_none());
        assert!(FormatCheck::for_kinds(&[]).is_none());
    }
}
