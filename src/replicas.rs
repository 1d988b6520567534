//! Location string → replica. One match on the scheme; each backend adds an arm.
//!
//! - a plain path (`docs/`, `/srv/site`) — a local directory;
//! - `memory:NAME` — an empty in-memory tree (for trying things out; it lives
//!   only as long as the process).

use anyhow::bail;
use driftsync_replica::local::LocalReplica;
use driftsync_replica::memory::MemoryReplica;
use driftsync_replica::Replica;

/// How replicas are opened.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Local directories also apply `.gitignore` files.
    pub gitignore: bool,
}

/// The scheme of a location (`s3` in `s3://b/p`, `memory` in `memory:x`), if it has one.
fn scheme(spec: &str) -> Option<&str> {
    let (scheme, _) = spec.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Open the replica a location names.
pub fn open_replica(spec: &str, opts: &OpenOptions) -> anyhow::Result<Box<dyn Replica>> {
    match scheme(spec) {
        None => {
            if spec.is_empty() {
                bail!("empty location; give a directory path or a URL");
            }
            let path = std::path::absolute(spec)?;
            if path.exists() && !path.is_dir() {
                bail!("{}: not a directory", path.display());
            }
            Ok(Box::new(
                LocalReplica::new(path).respect_gitignore(opts.gitignore),
            ))
        }
        Some("memory") => Ok(Box::new(MemoryReplica::new(&spec["memory:".len()..]))),
        Some(other) => bail!(
            "unsupported location {}: scheme {other:?} is not known; use a directory path or memory:NAME",
            driftsync_core::redact::redact_url(spec)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_paths() {
        assert_eq!(scheme("s3://bucket/x"), Some("s3"));
        assert_eq!(scheme("memory:x"), Some("memory"));
        assert_eq!(scheme("docs/"), None);
        assert_eq!(scheme("./a:b"), None);
        assert_eq!(scheme("C:\\x"), None);
        assert!(open_replica("memory:t", &OpenOptions::default()).is_ok());
        let err = open_replica("nope://u:secret@h/x", &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nope") && !err.contains("secret"), "{err}");
    }
}
