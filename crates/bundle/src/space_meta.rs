//! Per-document metadata files of a space export (`space export --metadata`):
//! beside each exported file `F`, `F.meta.json` says which document it is and
//! what the space knows of it — `id` (the document's path in the space, its
//! key), `title`, `updated`, `version`, `sha256`, `size`. An import reads
//! them back: they are never stored as documents, and a new file that comes
//! with one is stored under the document its `id` names.

use driftsync_core::{Entry, Hash, RelPath};
use serde::{Deserialize, Serialize};

/// What a metadata file's name adds to the file it describes.
pub const SUFFIX: &str = ".meta.json";

/// The content of one metadata file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMeta {
    /// The document's path in the space (its key).
    pub id: String,
    /// Its title: front matter or JSON `title`, else its first `# ` heading,
    /// else its file name without the extension.
    pub title: String,
    /// When the space last changed it (RFC 3339, UTC).
    pub updated: String,
    /// The space's version token for it.
    pub version: String,
    /// SHA-256 of its content.
    pub sha256: Hash,
    /// Its size in bytes.
    pub size: u64,
}

/// The metadata file of `file`, or `None` when the name would not be a
/// usable path.
pub fn sidecar(file: &RelPath) -> Option<RelPath> {
    RelPath::new(format!("{file}{SUFFIX}")).ok()
}

/// The file a metadata file describes, when `file`'s name is one.
pub fn described(file: &RelPath) -> Option<RelPath> {
    let base = file.as_str().strip_suffix(SUFFIX)?;
    RelPath::new(base).ok()
}

/// The metadata file's bytes for document `doc` as the space holds it.
pub fn render(doc: &RelPath, entry: &Entry, content: &[u8]) -> Vec<u8> {
    let meta = DocumentMeta {
        id: doc.to_string(),
        title: title(doc, content),
        updated: driftsync_core::time::rfc3339(entry.mtime_ns.div_euclid(1_000_000_000)),
        version: entry.version.to_string(),
        sha256: Hash::of(content),
        size: content.len() as u64,
    };
    let mut text = serde_json::to_string_pretty(&meta).expect("metadata serialises");
    text.push('\n');
    text.into_bytes()
}

/// The document a metadata file names, or why it names none. Only `id` is
/// read: the other fields describe the export and may be left out.
pub fn read_id(bytes: &[u8]) -> Result<RelPath, String> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let meta: Id = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    RelPath::new(&meta.id).map_err(|e| format!("id {:?}: {e}", meta.id))
}

fn title(doc: &RelPath, content: &[u8]) -> String {
    if let Some(t) = crate::space::metadata_field(content, "title").filter(|t| !t.is_empty()) {
        return t;
    }
    let heading = std::str::from_utf8(content).ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("# ").map(|h| h.trim().to_string()))
    });
    heading.filter(|h| !h.is_empty()).unwrap_or_else(|| {
        let name = doc.file_name();
        name.rsplit_once('.')
            .map_or(name, |(stem, _)| stem)
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            size: 0,
            mtime_ns: 1_767_323_045_000_000_000,
            hash: Hash::of(b""),
            version: "7".into(),
            executable: false,
        }
    }

    #[test]
    fn titles_come_from_front_matter_then_the_heading_then_the_name() {
        let doc = RelPath::new("guides/install.md").unwrap();
        let m = |c: &str| -> DocumentMeta {
            serde_json::from_slice(&render(&doc, &entry(), c.as_bytes())).unwrap()
        };
        assert_eq!(m("---\ntitle: Setup\n---\n# Install\n").title, "Setup");
        assert_eq!(m("intro\n# Install it\n").title, "Install it");
        assert_eq!(m("no heading\n").title, "install");
        let meta = m("x");
        assert_eq!(meta.id, "guides/install.md");
        assert_eq!(meta.updated, "2026-01-02T03:04:05Z");
        assert_eq!((meta.version.as_str(), meta.size), ("7", 1));
        assert_eq!(read_id(&render(&doc, &entry(), b"x")).unwrap(), doc);
        assert!(read_id(b"{}").is_err());
    }

    #[test]
    fn a_metadata_file_names_the_file_it_describes() {
        let f = RelPath::new("a/b.md").unwrap();
        let s = sidecar(&f).unwrap();
        assert_eq!(s.as_str(), "a/b.md.meta.json");
        assert_eq!(described(&s), Some(f));
        assert_eq!(described(&RelPath::new("a/b.md").unwrap()), None);
    }
}
