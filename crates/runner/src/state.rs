//! Push idempotence: the content hash of a push target's inputs at its last
//! successful push, kept in `.driftsync/state/<target>.push.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use driftsync_config::GlobList;
use driftsync_core::Hash;
use serde::{Deserialize, Serialize};

/// What was pushed last time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// Format version (1).
    pub version: u32,
    /// Hash over every input path and content.
    pub inputs_hash: String,
    /// Per input file, its content hash.
    pub files: BTreeMap<String, String>,
}

/// The state file of a target.
pub fn state_path(root: &Path, target: &str) -> PathBuf {
    root.join(".driftsync/state")
        .join(format!("{target}.push.json"))
}

/// Read the recorded state; absent or unreadable is "never pushed".
pub fn read(root: &Path, target: &str) -> Option<PushState> {
    let text = std::fs::read_to_string(state_path(root, target)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Record `state` (atomically: temp file + rename). Writes nothing if unchanged.
pub fn write(root: &Path, target: &str, state: &PushState) -> std::io::Result<bool> {
    if read(root, target).as_ref() == Some(state) {
        return Ok(false);
    }
    let path = state_path(root, target);
    std::fs::create_dir_all(path.parent().expect("state dir"))?;
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(state).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(true)
}

/// Hash the files under `root` matching `inputs` (`.git` and `.driftsync/` excluded).
pub fn hash_inputs(root: &Path, inputs: &GlobList) -> std::io::Result<PushState> {
    let mut files = BTreeMap::new();
    let mut starts: Vec<String> = inputs
        .patterns()
        .iter()
        .map(|p| {
            let lit: Vec<&str> = p
                .split('/')
                .take_while(|s| !s.contains(['*', '?', '[', '{']))
                .collect();
            lit.join("/")
        })
        .collect();
    starts.sort();
    starts.dedup();
    for start in &starts {
        walk(root, &root.join(start), inputs, &mut files)?;
    }
    let mut all = Hash::hasher();
    for (path, hash) in &files {
        all.update(path.as_bytes());
        all.update(b"\0");
        all.update(hash.as_bytes());
        all.update(b"\n");
    }
    Ok(PushState {
        version: 1,
        inputs_hash: all.finish().to_string(),
        files,
    })
}

fn walk(
    root: &Path,
    path: &Path,
    inputs: &GlobList,
    out: &mut BTreeMap<String, String>,
) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let rel = path
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    if rel == ".git" || rel == ".driftsync" {
        return Ok(());
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            walk(root, &entry?.path(), inputs, out)?;
        }
    } else if meta.is_file() && inputs.is_match(&rel) && !out.contains_key(&rel) {
        let bytes = std::fs::read(path)?;
        out.insert(rel, Hash::of(&bytes).to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_follows_content_and_state_round_trips() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("docs/a")).unwrap();
        std::fs::write(d.path().join("docs/a/x.md"), "one").unwrap();
        std::fs::write(d.path().join("other.md"), "no").unwrap();
        let g = GlobList::new(vec!["docs/**".into()]).unwrap();
        let s1 = hash_inputs(d.path(), &g).unwrap();
        assert_eq!(s1.files.keys().collect::<Vec<_>>(), ["docs/a/x.md"]);
        assert!(write(d.path(), "t", &s1).unwrap());
        assert!(!write(d.path(), "t", &s1).unwrap());
        assert_eq!(read(d.path(), "t"), Some(s1.clone()));
        std::fs::write(d.path().join("docs/a/x.md"), "two").unwrap();
        assert_ne!(
            hash_inputs(d.path(), &g).unwrap().inputs_hash,
            s1.inputs_hash
        );
    }
}
