//! The metadata driftsync stores with each object (`x-amz-meta-driftsync-*`
//! on S3, custom metadata on GCS and Azure), so a rescan never downloads.

use driftsync_core::Hash;
use driftsync_replica::WriteMeta;
use object_store::{Attribute, Attributes};

/// Metadata key of the content's SHA-256 (hex).
pub const KEY_SHA256: &str = "driftsync-sha256";
/// Metadata key of the source's modification time (ns since the epoch).
pub const KEY_MTIME: &str = "driftsync-mtime-ns";
/// Metadata key of the executable bit (`1` or `0`).
pub const KEY_EXEC: &str = "driftsync-exec";

/// What driftsync reads back from an object's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredMeta {
    /// SHA-256 of the content, when it was written by driftsync.
    pub hash: Option<Hash>,
    /// Source modification time.
    pub mtime_ns: Option<i64>,
    /// Executable bit.
    pub executable: bool,
}

impl StoredMeta {
    /// The metadata to store for a write.
    pub fn from_write(meta: &WriteMeta) -> StoredMeta {
        StoredMeta {
            hash: Some(meta.hash),
            mtime_ns: Some(meta.mtime_ns),
            executable: meta.executable,
        }
    }

    /// As (key, value) pairs.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(h) = &self.hash {
            out.push((KEY_SHA256, h.to_hex()));
        }
        if let Some(t) = self.mtime_ns {
            out.push((KEY_MTIME, t.to_string()));
        }
        out.push((
            KEY_EXEC,
            if self.executable { "1" } else { "0" }.to_string(),
        ));
        out
    }

    /// Read back from an object's attributes; malformed values count as absent.
    pub fn from_attributes(attrs: &Attributes) -> StoredMeta {
        let get = |k: &'static str| {
            attrs
                .get(&Attribute::Metadata(k.into()))
                .map(|v| v.as_ref().trim().to_string())
        };
        StoredMeta {
            hash: get(KEY_SHA256).and_then(|s| s.parse().ok()),
            mtime_ns: get(KEY_MTIME).and_then(|s| s.parse().ok()),
            executable: get(KEY_EXEC).is_some_and(|s| s == "1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_junk() {
        let m = StoredMeta {
            hash: Some(Hash::of(b"x")),
            mtime_ns: Some(-5),
            executable: true,
        };
        let mut attrs = Attributes::new();
        for (k, v) in m.to_pairs() {
            attrs.insert(Attribute::Metadata(k.into()), v.into());
        }
        assert_eq!(StoredMeta::from_attributes(&attrs), m);
        let mut junk = Attributes::new();
        junk.insert(Attribute::Metadata(KEY_SHA256.into()), "not-hex".into());
        assert_eq!(StoredMeta::from_attributes(&junk).hash, None);
    }
}
