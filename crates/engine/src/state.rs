//! The base on disk: `.driftsync/state/<target>.json`, versioned, sorted,
//! one line per file.
//!
//! Format 2 (written by this build) is a JSON document whose `files` array
//! holds one row per path, each on its own line, in path order:
//!
//! ```json
//! {
//!   "version": 2,
//!   "written_ns": 1795436792979775254,
//!   "left": "/repo/docs",
//!   "right": "s3://bucket/docs",
//!   "files": [
//!     ["guide/intro.md", 812, "<sha-256 hex>", [1795436792944213990, "10011058-812-1795436792944213990", 0], [1795436792944213990, "\"9b2c…\"", 0]]
//!   ]
//! }
//! ```
//!
//! A row is `[path, size, hash, left, right]`; a side is `null` (absent) or
//! `[mtime_ns, version, executable 0|1]`, followed by `size, hash` when that
//! side's content differs from the row's. One line per file keeps commits
//! and merges readable, and lets the loader parse row by row without holding
//! the text in memory. A file in another layout (reformatted by a tool) is
//! still read, through a whole-document parse, and so is format 1 (the
//! pretty-printed `base` map), which is rewritten as format 2 on the next
//! change.

use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use driftsync_core::{Base, Entry, Hash, RelPath, Snapshot};

use crate::EngineError;

/// The state file format version this build writes.
pub const STATE_VERSION: u32 = 2;

/// The oldest format version this build still reads.
pub const OLDEST_READABLE: u32 = 1;

/// The contents of a state file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Format version (the one read; [`STATE_VERSION`] when written).
    pub version: u32,
    /// When the base was written, ns since the epoch (for the racy quick check).
    pub written_ns: i64,
    /// The left location, for people.
    pub left: String,
    /// The right location, for people.
    pub right: String,
    /// What both sides held after the last sync, with each side's quick-check data.
    pub base: Base,
}

/// Format 1: the whole base as two maps.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V1 {
    version: u32,
    written_ns: i64,
    left: String,
    right: String,
    base: Base,
}

/// Format 2's header (every field but the rows).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    version: u32,
    written_ns: i64,
    left: String,
    right: String,
    #[serde(default)]
    files: Vec<Row>,
}

/// A format 2 document read as a whole.
#[derive(Deserialize)]
struct Probe {
    version: u32,
}

/// One path: `[path, size, hash, left, right]`.
#[derive(Deserialize)]
struct Row(RelPath, u64, HashStr, Option<SideRec>, Option<SideRec>);

/// A hash read without an intermediate `String`.
struct HashStr(Hash);

impl<'de> Deserialize<'de> for HashStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HashStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 hex digest (64 hex digits)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HashStr, E> {
                match hex_hash(s.as_bytes()) {
                    Some(h) => Ok(HashStr(h)),
                    None => s.parse().map(HashStr).map_err(E::custom),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// One side of a row: `[mtime_ns, version, executable]` or, when the side's
/// content differs from the row's, `[mtime_ns, version, executable, size, hash]`.
struct SideRec {
    mtime_ns: i64,
    version: driftsync_core::SmallStr,
    executable: bool,
    own: Option<(u64, Hash)>,
}

impl<'de> Deserialize<'de> for SideRec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SideRec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[mtime_ns, version, executable] or [mtime_ns, version, executable, size, hash]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SideRec, A::Error> {
                let missing = |i| de::Error::invalid_length(i, &self);
                let mtime_ns = seq.next_element()?.ok_or_else(|| missing(0))?;
                let version = seq.next_element()?.ok_or_else(|| missing(1))?;
                let exec: u8 = seq.next_element()?.ok_or_else(|| missing(2))?;
                if exec > 1 {
                    return Err(de::Error::custom("executable must be 0 or 1"));
                }
                let own = match seq.next_element::<u64>()? {
                    None => None,
                    Some(size) => {
                        let hash: HashStr = seq.next_element()?.ok_or_else(|| missing(4))?;
                        if seq.next_element::<de::IgnoredAny>()?.is_some() {
                            return Err(de::Error::invalid_length(6, &self));
                        }
                        Some((size, hash.0))
                    }
                };
                Ok(SideRec {
                    mtime_ns,
                    version,
                    executable: exec == 1,
                    own,
                })
            }
        }
        d.deserialize_seq(V)
    }
}

impl SideRec {
    fn entry(self, size: u64, hash: Hash) -> Entry {
        let (size, hash) = self.own.unwrap_or((size, hash));
        Entry {
            size,
            mtime_ns: self.mtime_ns,
            hash,
            version: self.version,
            executable: self.executable,
        }
    }
}

/// Builds the base from rows in path order.
#[derive(Default)]
struct Rows {
    left: Vec<(RelPath, Entry)>,
    right: Vec<(RelPath, Entry)>,
}

impl Rows {
    fn push(&mut self, row: Row) {
        let Row(path, size, HashStr(hash), l, r) = row;
        if let Some(l) = l {
            self.left.push((path.clone(), l.entry(size, hash)));
        }
        if let Some(r) = r {
            self.right.push((path, r.entry(size, hash)));
        }
    }

    fn into_base(self) -> Base {
        // Rows are stored in path order, so this is a check, not a sort; a
        // duplicated path keeps its last row.
        Base {
            left: Snapshot::from_sorted(self.left),
            right: Snapshot::from_sorted(self.right),
        }
    }
}

fn bad(path: &Path, line: usize, col: usize, detail: impl fmt::Display) -> EngineError {
    EngineError::State {
        path: format!("{}:{line}:{col}", path.display()),
        detail: format!(
            "{detail}; fix or delete the file (deleting it makes the next run a first run)"
        ),
    }
}

fn unsupported(path: &Path, version: u32) -> EngineError {
    EngineError::State {
        path: path.display().to_string(),
        detail: format!(
            "state version {version} is not supported (this build reads {OLDEST_READABLE} to {STATE_VERSION})"
        ),
    }
}

/// The fast path: the layout [`State::save`] writes, parsed row by row.
/// `Ok(None)` means "another layout": read the whole document instead.
fn load_rows(path: &Path, file: impl Read) -> Result<Option<State>, EngineError> {
    let io = |e: std::io::Error| EngineError::State {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut header = String::new();
    let mut n = 0usize;
    // The header: every line up to `"files": [`.
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            return Ok(None);
        }
        n += 1;
        let t = line.trim();
        if t == "\"files\": [" {
            break;
        }
        if n == 1 && t != "{" {
            return Ok(None);
        }
        header.push_str(&line);
    }
    header.push_str("\"files\": []}");
    let Ok(h) = serde_json::from_str::<Header>(&header) else {
        return Ok(None);
    };
    if h.version != STATE_VERSION {
        return Ok(None);
    }
    let mut rows = Rows::default();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            return Ok(None);
        }
        let t = line.trim_end();
        if t.trim_start() == "]" {
            break;
        }
        let body = t.strip_suffix(',').unwrap_or(t);
        if let Some(row) = quick_row(body.trim_start()) {
            rows.push(row);
            continue;
        }
        // A row split over lines (a reformatted file) or a broken one: the
        // whole-document reader takes over and names the line and column.
        match serde_json::from_str::<Row>(body) {
            Ok(row) => rows.push(row),
            Err(_) => return Ok(None),
        }
    }
    // The closing brace, and nothing after it.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).map_err(io)?;
    if rest.trim() != "}" {
        return Ok(None);
    }
    Ok(Some(State {
        version: h.version,
        written_ns: h.written_ns,
        left: h.left,
        right: h.right,
        base: rows.into_base(),
    }))
}

/// A cursor over one row in exactly the layout [`State::write_to`] produces
/// for the common case (no escapes, both sides present, short side form).
struct Quick<'a>(&'a [u8]);

impl<'a> Quick<'a> {
    fn lit(&mut self, s: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(s.as_bytes())?;
        Some(())
    }

    /// The bytes of a string without escapes.
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.lit("\"")?;
        let end = self.0.iter().position(|&b| b == b'"' || b == b'\\')?;
        if self.0[end] != b'"' {
            return None;
        }
        let (s, rest) = self.0.split_at(end);
        self.0 = &rest[1..];
        Some(s)
    }

    /// A string without escapes.
    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_string()?).ok()
    }

    /// A non-negative integer (a `-` sends the row to the full parser).
    fn uint(&mut self) -> Option<u64> {
        let n = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 19 {
            return None;
        }
        let (digits, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(
            digits
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')),
        )
    }
    fn side(&mut self) -> Option<SideRec> {
        self.lit("[")?;
        let mtime_ns = i64::try_from(self.uint()?).ok()?;
        self.lit(", ")?;
        let version = driftsync_core::SmallStr::from(self.string()?);
        self.lit(", ")?;
        let executable = match self.uint()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        self.lit("]")?;
        Some(SideRec {
            mtime_ns,
            version,
            executable,
            own: None,
        })
    }
}

/// 64 lowercase or uppercase hex digits.
fn hex_hash(s: &[u8]) -> Option<Hash> {
    const BAD: u8 = 0xff;
    const TABLE: [u8; 256] = {
        let mut t = [BAD; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            t[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (TABLE[usize::from(pair[0])], TABLE[usize::from(pair[1])]);
        bad |= (hi | lo) & 0xf0;
        *o = hi << 4 | (lo & 0x0f);
    }
    (bad == 0).then_some(Hash(out))
}

/// The common row without serde; `None` sends the line to the full parser
/// (which also produces the error message).
fn quick_row(line: &str) -> Option<Row> {
    let mut q = Quick(line.as_bytes());
    q.lit("[")?;
    let path = RelPath::new(q.string()?).ok()?;
    q.lit(", ")?;
    let size = q.uint()?;
    q.lit(", ")?;
    let hash = hex_hash(q.raw_string()?)?;
    q.lit(", ")?;
    let left = q.side()?;
    q.lit(", ")?;
    let right = q.side()?;
    q.lit("]")?;
    if !q.0.is_empty() {
        return None;
    }
    Some(Row(path, size, HashStr(hash), Some(left), Some(right)))
}

/// The slow path: the whole document, any layout, format 1 or 2.
fn load_document(path: &Path, text: &[u8]) -> Result<State, EngineError> {
    let parse_err = |e: serde_json::Error| bad(path, e.line(), e.column(), e);
    let probe: Probe = serde_json::from_slice(text).map_err(parse_err)?;
    match probe.version {
        1 => {
            let v1: V1 = serde_json::from_slice(text).map_err(parse_err)?;
            Ok(State {
                version: v1.version,
                written_ns: v1.written_ns,
                left: v1.left,
                right: v1.right,
                base: v1.base,
            })
        }
        STATE_VERSION => {
            let h: Header = serde_json::from_slice(text).map_err(parse_err)?;
            let mut rows = Rows::default();
            for row in h.files {
                rows.push(row);
            }
            Ok(State {
                version: h.version,
                written_ns: h.written_ns,
                left: h.left,
                right: h.right,
                base: rows.into_base(),
            })
        }
        v => Err(unsupported(path, v)),
    }
}

/// Decimal digits of `v`.
fn push_int(out: &mut Vec<u8>, v: i128) {
    if v < 0 {
        out.push(b'-');
    }
    let mut v = v.unsigned_abs();
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A JSON string: copied as is when nothing needs escaping.
fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing JSON to memory cannot fail");
    }
}

fn push_hash(out: &mut Vec<u8>, h: &Hash) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for b in h.0 {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.push(b'"');
}

/// `[mtime_ns, version, exec]` (plus `size, hash` when they differ from the row's).
fn push_side(out: &mut Vec<u8>, e: Option<&Entry>, size: u64, hash: &Hash) {
    let Some(e) = e else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'[');
    push_int(out, e.mtime_ns.into());
    out.extend_from_slice(b", ");
    push_str(out, &e.version);
    out.extend_from_slice(if e.executable { b", 1" } else { b", 0" });
    if e.size != size || e.hash != *hash {
        out.extend_from_slice(b", ");
        push_int(out, e.size.into());
        out.extend_from_slice(b", ");
        push_hash(out, &e.hash);
    }
    out.push(b']');
}

impl State {
    /// Read a state file; a missing file is the empty state (first run).
    pub fn load(path: &Path) -> Result<Option<State>, EngineError> {
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EngineError::State {
                    path: path.display().to_string(),
                    detail: e.to_string(),
                })
            }
        };
        if let Some(state) = load_rows(path, file)? {
            return Ok(Some(state));
        }
        let text = fs::read(path).map_err(|e| EngineError::State {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        load_document(path, &text).map(Some)
    }

    /// Read a state file's bytes (`name` says where they came from, in errors).
    pub fn parse(name: &str, bytes: &[u8]) -> Result<State, EngineError> {
        let path = Path::new(name);
        match load_rows(path, bytes)? {
            Some(state) => Ok(state),
            None => load_document(path, bytes),
        }
    }

    /// Whether two state files describe the same result: the same paths with
    /// the same size, content hash and executable bit on each side. What only
    /// says when and where a base was written (its time, the locations, each
    /// file's mtime and version token) is left out: two runs in different
    /// clones that reach the same result write bases that differ only there
    /// (a fresh checkout gives every file a new mtime). Unreadable bytes are
    /// never the same.
    pub fn same_result(a: &[u8], b: &[u8]) -> bool {
        let (Ok(a), Ok(b)) = (State::parse("a", a), State::parse("b", b)) else {
            return false;
        };
        let key = |s: &Snapshot| {
            s.iter()
                .map(|(p, e)| (p.clone(), e.size, e.hash, e.executable))
                .collect::<Vec<_>>()
        };
        key(&a.base.left) == key(&b.base.left) && key(&a.base.right) == key(&b.base.right)
    }

    /// Write atomically in format [`STATE_VERSION`]: a temp file in the same
    /// directory (fsynced when `durable`), then rename.
    pub fn save(&self, path: &Path, durable: bool) -> Result<(), EngineError> {
        let err = |e: std::io::Error| EngineError::State {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(err)?;
        // `.<name>.driftsync-tmp-<pid>-<random>-<n>`: the next run holding
        // the lock removes it if this one is killed first.
        let tmp = dir.join(driftsync_replica::local::temp_name(
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        ));
        let f = fs::File::create(&tmp).map_err(err)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        self.write_to(&mut w).map_err(err)?;
        let f = w.into_inner().map_err(|e| err(e.into_error()))?;
        if durable {
            f.sync_all().map_err(err)?;
        }
        drop(f);
        driftsync_replica::fault::crash_point();
        fs::rename(&tmp, path).map_err(err)
    }

    /// The document, in format [`STATE_VERSION`].
    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        writeln!(w, "{{")?;
        writeln!(w, "  \"version\": {STATE_VERSION},")?;
        writeln!(w, "  \"written_ns\": {},", self.written_ns)?;
        for (key, value) in [("left", &self.left), ("right", &self.right)] {
            write!(w, "  \"{key}\": ")?;
            serde_json::to_writer(&mut *w, value)?;
            writeln!(w, ",")?;
        }
        write!(w, "  \"files\": [")?;
        let mut l = self.base.left.iter().peekable();
        let mut r = self.base.right.iter().peekable();
        let mut first = true;
        let mut line = Vec::with_capacity(512);
        loop {
            let (path, le, re) = match (l.peek(), r.peek()) {
                (None, None) => break,
                (Some(&(lp, le)), Some(&(rp, re))) if lp == rp => {
                    l.next();
                    r.next();
                    (lp, Some(le), Some(re))
                }
                (Some(&(lp, le)), Some(&(rp, _))) if lp < rp => {
                    l.next();
                    (lp, Some(le), None)
                }
                (Some(&(lp, le)), None) => {
                    l.next();
                    (lp, Some(le), None)
                }
                (_, Some(&(rp, re))) => {
                    r.next();
                    (rp, None, Some(re))
                }
            };
            let row = le.or(re).expect("a row has a side");
            line.clear();
            line.extend_from_slice(if first { b"\n    [" } else { b",\n    [" });
            first = false;
            push_str(&mut line, path.as_str());
            line.extend_from_slice(b", ");
            push_int(&mut line, row.size.into());
            line.extend_from_slice(b", ");
            push_hash(&mut line, &row.hash);
            line.extend_from_slice(b", ");
            push_side(&mut line, le, row.size, &row.hash);
            line.extend_from_slice(b", ");
            push_side(&mut line, re, row.size, &row.hash);
            line.push(b']');
            w.write_all(&line)?;
        }
        // Even without rows `[` and `]` stay on lines of their own (the loader's fast path).
        writeln!(w)?;
        writeln!(w, "  ]")?;
        writeln!(w, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(content: &str, mtime_ns: i64, version: &str, executable: bool) -> Entry {
        Entry {
            size: content.len() as u64,
            mtime_ns,
            hash: Hash::of(content.as_bytes()),
            version: version.into(),
            executable,
        }
    }

    fn sample() -> State {
        let p = |s: &str| RelPath::new(s).unwrap();
        let mut base = Base::new();
        base.left
            .insert(p("a b/ü \"q\".md"), entry("x", 5, "1-1-5", true));
        base.right
            .insert(p("a b/ü \"q\".md"), entry("x", 7, "\"etag\"", false));
        base.left
            .insert(p("only-left"), entry("l", 1, "2-1-1", false));
        base.right
            .insert(p("only-right"), entry("r", 1, "v", false));
        // The common row (read without serde).
        base.left
            .insert(p("d/plain.txt"), entry("p", 9, "4-1-9", false));
        base.right
            .insert(p("d/plain.txt"), entry("p", 9, "5-1-9", true));
        base.left.insert(p("z"), entry("same", 1, "3-4-1", false));
        base.right.insert(p("z"), entry("diff", 2, "w", false));
        State {
            version: STATE_VERSION,
            written_ns: 99,
            left: "/repo/docs".into(),
            right: "s3://b/docs".into(),
            base,
        }
    }

    #[test]
    fn round_trip_one_line_per_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s.json");
        let s = sample();
        s.save(&path, false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("    [")).count(), 5);
        let plain = text.lines().find(|l| l.contains("plain")).unwrap();
        assert!(
            quick_row(plain.trim().trim_end_matches(',')).is_some(),
            "{plain}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["version"], 2);
        assert_eq!(State::load(&path).unwrap().unwrap(), s);
        // Writing again is byte-identical (deterministic).
        s.save(&path, false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        // Rows split over lines, keys in the order written: still read, the same.
        let split: String = text
            .lines()
            .map(|l| {
                if l.starts_with("    [") {
                    l.replace(", ", ",\n      ")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(split, text);
        fs::write(&path, &split).unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap(), s);
        // Reformatted by a tool: still read, the same.
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        fs::write(&path, pretty).unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap(), s);
        // Empty base.
        let empty = State {
            base: Base::new(),
            ..sample()
        };
        empty.save(&path, false).unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap(), empty);
    }

    #[test]
    fn the_same_result_ignores_when_and_where_a_base_was_written() {
        let d = tempfile::tempdir().unwrap();
        let bytes = |s: &State| {
            let path = d.path().join("s.json");
            s.save(&path, false).unwrap();
            fs::read(&path).unwrap()
        };
        let a = bytes(&sample());
        // Another clone: other time, paths, mtimes and version tokens.
        let mut moved = sample();
        moved.written_ns = 12345;
        moved.left = "/elsewhere/docs".into();
        for (_, e) in moved.base.left.iter_mut() {
            e.mtime_ns += 1_000;
            e.version = "9-9-9".into();
        }
        let b = bytes(&moved);
        assert_ne!(a, b);
        assert!(State::same_result(&a, &b));
        // A different content hash, size, executable bit or path is not.
        let p = RelPath::new("z").unwrap();
        let changes: [&dyn Fn(&mut State); 3] = [
            &|s| {
                s.base
                    .right
                    .insert(p.clone(), entry("other", 2, "w", false));
            },
            &|s| {
                s.base
                    .left
                    .insert(p.clone(), entry("same", 1, "3-4-1", true));
            },
            &|s| {
                s.base
                    .left
                    .insert(RelPath::new("new").unwrap(), entry("n", 1, "", false));
            },
        ];
        for change in changes {
            let mut other = sample();
            change(&mut other);
            assert!(!State::same_result(&a, &bytes(&other)));
        }
        assert!(!State::same_result(&a, b"not a base"));
    }

    #[test]
    fn format_1_is_read() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s.json");
        let h = Hash::of(b"x");
        fs::write(
            &path,
            format!(
                r#"{{
  "version": 1,
  "written_ns": 3,
  "left": "a",
  "right": "b",
  "base": {{
    "left": {{ "f": {{ "size": 1, "mtime_ns": 2, "hash": "{h}", "version": "v", "executable": true }} }},
    "right": {{ "f": {{ "size": 1, "mtime_ns": 2, "hash": "{h}" }} }}
  }}
}}"#
            ),
        )
        .unwrap();
        let s = State::load(&path).unwrap().unwrap();
        assert_eq!(s.version, 1);
        assert_eq!(s.written_ns, 3);
        let f = RelPath::new("f").unwrap();
        assert!(s.base.left.get(&f).unwrap().executable);
        assert_eq!(s.base.right.get(&f).unwrap().version, "");
    }

    #[test]
    fn errors_name_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s.json");
        sample().save(&path, false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let broken = text.replacen("\"only-left\", 1,", "\"only-left\", x,", 1);
        assert_ne!(broken, text);
        fs::write(&path, broken).unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("s.json:9:"), "{e}");
        fs::write(&path, "{\"version\": 7}").unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("state version 7 is not supported"), "{e}");
        fs::write(&path, "{\"version\": 2, \"oops\"").unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("s.json:1:"), "{e}");
    }
}
