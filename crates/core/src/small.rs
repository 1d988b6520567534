//! `SmallStr`: an immutable string that keeps up to 22 bytes inline.
//!
//! Paths and version tokens are held for every file of every listing (the
//! base, both scans, the plan), so their size is most of a sync's memory. A
//! `String` costs 24 bytes plus a heap block of its own (about 32 to 48 bytes
//! more with the allocator's header); most relative paths and version tokens
//! are short, and a `SmallStr` holds those in its 24 bytes with no heap block
//! at all. Longer ones go to the heap as a `Box<str>`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most bytes kept inline.
pub const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

/// An immutable string, inline up to [`INLINE`] bytes.
#[derive(Clone)]
pub struct SmallStr(Repr);

impl SmallStr {
    /// The empty string.
    pub const fn new() -> SmallStr {
        SmallStr(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, buf } => {
                let bytes = &buf[..usize::from(*len)];
                // SAFETY: `buf[..len]` is a copy of a `&str` (see `From<&str>`),
                // so it is valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Heap(s) => s,
        }
    }

    /// True when the string is stored without a heap block.
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }
}

impl Default for SmallStr {
    fn default() -> SmallStr {
        SmallStr::new()
    }
}

impl From<&str> for SmallStr {
    fn from(s: &str) -> SmallStr {
        if s.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            SmallStr(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            SmallStr(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for SmallStr {
    fn from(s: String) -> SmallStr {
        if s.len() <= INLINE {
            SmallStr::from(s.as_str())
        } else {
            SmallStr(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for SmallStr {
    fn from(s: &String) -> SmallStr {
        SmallStr::from(s.as_str())
    }
}

impl From<SmallStr> for String {
    fn from(s: SmallStr) -> String {
        match s.0 {
            Repr::Heap(b) => b.into_string(),
            Repr::Inline { .. } => s.as_str().to_string(),
        }
    }
}

impl Deref for SmallStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SmallStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &SmallStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallStr {}

impl PartialEq<str> for SmallStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SmallStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for SmallStr {
    fn partial_cmp(&self, other: &SmallStr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallStr {
    fn cmp(&self, other: &SmallStr) -> Ordering {
        self.as_str().as_bytes().cmp(other.as_str().as_bytes())
    }
}

impl Hash for SmallStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SmallStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SmallStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SmallStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SmallStr, E> {
                Ok(SmallStr::from(s))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<SmallStr, E> {
                Ok(SmallStr::from(s))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_round_trip() {
        assert_eq!(std::mem::size_of::<SmallStr>(), 24);
        for s in [
            "",
            "a",
            "d00/e00/f000000.bin",
            &"x".repeat(INLINE),
            &"ü".repeat(40),
        ] {
            let v = SmallStr::from(s);
            assert_eq!(v.as_str(), s);
            assert_eq!(v.is_inline(), s.len() <= INLINE, "{s:?}");
            assert_eq!(String::from(v.clone()), s);
            assert_eq!(SmallStr::from(s.to_string()), v);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<SmallStr>(&json).unwrap(), v);
        }
    }

    #[test]
    fn orders_by_bytes_across_representations() {
        let long = "a".repeat(INLINE + 5);
        let mut v: Vec<SmallStr> = ["b", long.as_str(), "a", "a/b", "a.txt", "ü"]
            .into_iter()
            .map(SmallStr::from)
            .collect();
        v.sort();
        let got: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
        let mut want = vec!["b", long.as_str(), "a", "a/b", "a.txt", "ü"];
        want.sort();
        assert_eq!(got, want);
    }
}
