//! The contract every backend must pass (the way `object_store`'s
//! `integration.rs` is run by each of its stores).
//!
//! Each property is a plain function taking a factory that returns a fresh,
//! EMPTY replica; it panics with a message naming the property on failure.
//! A backend's test calls [`run_all`] (or the properties one by one):
//!
//! ```
//! // In a backend's tests, inside `#[test] fn conformance()`; here the
//! // in-memory backend, which passes every property.
//! use driftsync_replica::memory::MemoryReplica;
//! driftsync_replica::conformance::run_all(&|| Box::new(MemoryReplica::new("mem")));
//! ```

use std::io::Read;

use driftsync_core::{Entry, Hash, RelPath, Snapshot};

use crate::{Expect, Replica, ReplicaError, ScanRequest, WriteMeta};

/// Something that makes a fresh, empty replica.
pub type Factory<'a> = &'a dyn Fn() -> Box<dyn Replica>;

/// A fixed mtime in whole seconds (2020-09-13), representable by every backend.
pub const MTIME: i64 = 1_600_000_000 * 1_000_000_000;

/// Every property, in order.
pub fn run_all(make: Factory<'_>) {
    round_trip(make);
    empty_file(make);
    large_file(make);
    scan_reports_entries(make);
    nested_paths(make);
    absent_refuses_overwrite(make);
    stale_version_refuses_write_and_remove(make);
    version_of_missing_path_is_changed(make);
    remove_then_scan(make);
    read_missing_is_not_found(make);
    remove_missing_is_ok(make);
    odd_names(make);
    unicode_forms_are_distinct(make);
    include_exclude(make);
    quick_check_keeps_hashes(make);
    mtime_and_executable(make);
    set_meta_keeps_content(make);
    parallel_writes(make);
}

fn p(s: &str) -> RelPath {
    RelPath::new(s).expect("valid path in the conformance suite")
}

fn meta(content: &[u8]) -> WriteMeta {
    WriteMeta {
        size: content.len() as u64,
        hash: Hash::of(content),
        mtime_ns: MTIME,
        executable: false,
    }
}

/// Write `content` at `path` with `expect`, panicking on error.
fn put(r: &dyn Replica, path: &str, content: &[u8], expect: &Expect) -> Entry {
    r.write(&p(path), &mut &content[..], &meta(content), expect)
        .unwrap_or_else(|e| panic!("{}: write {path}: {e}", r.location()))
}

fn get(r: &dyn Replica, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    r.read(&p(path))
        .unwrap_or_else(|e| panic!("{}: read {path}: {e}", r.location()))
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: read {path}: {e}", r.location()));
    out
}

fn scan(r: &dyn Replica) -> Snapshot {
    r.scan(&ScanRequest::default())
        .unwrap_or_else(|e| panic!("{}: scan: {e}", r.location()))
        .snapshot
}

fn paths(s: &Snapshot) -> Vec<String> {
    s.iter().map(|(p, _)| p.as_str().to_string()).collect()
}

fn assert_changed(what: &str, res: Result<impl std::fmt::Debug, ReplicaError>) {
    match res {
        Err(ReplicaError::Changed { .. }) => {}
        other => panic!("{what}: expected ReplicaError::Changed, got {other:?}"),
    }
}

/// Write then read returns the same bytes; the returned entry has size, hash and a version.
pub fn round_trip(make: Factory<'_>) {
    let r = make();
    let e = put(&*r, "hello.txt", b"hello world\n", &Expect::Absent);
    assert_eq!(e.size, 12, "round_trip: size");
    assert_eq!(e.hash, Hash::of(b"hello world\n"), "round_trip: hash");
    assert!(
        !e.version.is_empty(),
        "round_trip: write returned no version"
    );
    assert_eq!(
        get(&*r, "hello.txt"),
        b"hello world\n",
        "round_trip: content"
    );
}

/// An empty file is a file: listed, readable, size 0.
pub fn empty_file(make: Factory<'_>) {
    let r = make();
    put(&*r, "empty", b"", &Expect::Absent);
    assert_eq!(get(&*r, "empty"), b"", "empty_file: content");
    let s = scan(&*r);
    let e = s.get(&p("empty")).expect("empty_file: not listed");
    assert_eq!((e.size, e.hash), (0, Hash::of(b"")), "empty_file: entry");
}

/// Multi-megabyte content streams through intact.
pub fn large_file(make: Factory<'_>) {
    let r = make();
    let big: Vec<u8> = (0..6 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let e = put(&*r, "big.bin", &big, &Expect::Absent);
    assert_eq!(e.size, big.len() as u64, "large_file: size");
    let back = get(&*r, "big.bin");
    assert!(back == big, "large_file: content differs after round trip");
    let s = scan(&*r);
    assert_eq!(s.get(&p("big.bin")).map(|e| e.hash), Some(Hash::of(&big)));
}

/// A scan lists every file with the size, hash and version `write` returned.
pub fn scan_reports_entries(make: Factory<'_>) {
    let r = make();
    let a = put(&*r, "a.txt", b"alpha", &Expect::Absent);
    let b = put(&*r, "b.txt", b"beta!", &Expect::Absent);
    let s = scan(&*r);
    assert_eq!(paths(&s), ["a.txt", "b.txt"], "scan_reports_entries: paths");
    for (name, written, content) in [("a.txt", &a, &b"alpha"[..]), ("b.txt", &b, b"beta!")] {
        let e = s.get(&p(name)).unwrap();
        assert_eq!(e.size, content.len() as u64, "{name}: size");
        assert_eq!(e.hash, Hash::of(content), "{name}: hash");
        assert_eq!(
            e.version, written.version,
            "{name}: scan version != write version"
        );
    }
    assert_ne!(a.version, b.version, "two files share a version token");
}

/// Nested paths are created without creating directories first; only files are listed.
pub fn nested_paths(make: Factory<'_>) {
    let r = make();
    for path in ["top", "a/x.txt", "a/b/c/d.txt"] {
        put(&*r, path, path.as_bytes(), &Expect::Absent);
    }
    assert_eq!(paths(&scan(&*r)), ["a/b/c/d.txt", "a/x.txt", "top"]);
    assert_eq!(get(&*r, "a/b/c/d.txt"), b"a/b/c/d.txt");
}

/// `Expect::Absent` refuses to replace an existing file and leaves it untouched.
pub fn absent_refuses_overwrite(make: Factory<'_>) {
    let r = make();
    put(&*r, "x", b"first", &Expect::Absent);
    let res = r.write(
        &p("x"),
        &mut &b"second"[..],
        &meta(b"second"),
        &Expect::Absent,
    );
    assert_changed("absent_refuses_overwrite", res);
    assert_eq!(
        get(&*r, "x"),
        b"first",
        "absent_refuses_overwrite: content changed"
    );
}

/// A stale `Expect::Version` refuses both write and remove; the current one is accepted.
pub fn stale_version_refuses_write_and_remove(make: Factory<'_>) {
    let r = make();
    let v1 = put(&*r, "f", b"one", &Expect::Absent);
    let v2 = put(&*r, "f", b"two two", &Expect::Version(v1.version.clone()));
    assert_ne!(
        v1.version, v2.version,
        "version did not change with content"
    );
    let stale = Expect::Version(v1.version.clone());
    assert_changed(
        "write with stale version",
        r.write(&p("f"), &mut &b"three"[..], &meta(b"three"), &stale),
    );
    assert_changed("remove with stale version", r.remove(&p("f"), &stale));
    assert_eq!(
        get(&*r, "f"),
        b"two two",
        "stale write/remove touched content"
    );
    r.remove(&p("f"), &Expect::Version(v2.version))
        .unwrap_or_else(|e| panic!("remove with current version: {e}"));
    assert!(scan(&*r).is_empty(), "file still listed after remove");
}

/// `Expect::Version` on a path that does not exist is `Changed` (it was deleted under us).
pub fn version_of_missing_path_is_changed(make: Factory<'_>) {
    let r = make();
    let v = put(&*r, "gone", b"x", &Expect::Absent);
    r.remove(&p("gone"), &Expect::Any).unwrap();
    let expect = Expect::Version(v.version);
    assert_changed(
        "write expecting a version of a missing file",
        r.write(&p("gone"), &mut &b"y"[..], &meta(b"y"), &expect),
    );
    assert_changed(
        "remove expecting a version of a missing file",
        r.remove(&p("gone"), &expect),
    );
    assert!(scan(&*r).is_empty(), "a refused write created the file");
}

/// Removing nested files leaves no trace in the listing.
pub fn remove_then_scan(make: Factory<'_>) {
    let r = make();
    let e = put(&*r, "d/e/f.txt", b"deep", &Expect::Absent);
    put(&*r, "d/keep.txt", b"keep", &Expect::Absent);
    r.remove(&p("d/e/f.txt"), &Expect::Version(e.version))
        .unwrap();
    assert_eq!(paths(&scan(&*r)), ["d/keep.txt"], "remove_then_scan");
    r.remove(&p("d/keep.txt"), &Expect::Any).unwrap();
    assert!(scan(&*r).is_empty(), "remove_then_scan: not empty");
    // The same path can be created again.
    put(&*r, "d/e/f.txt", b"again", &Expect::Absent);
    assert_eq!(get(&*r, "d/e/f.txt"), b"again");
}

/// Reading a path that does not exist (or is only a directory prefix) is `NotFound`.
pub fn read_missing_is_not_found(make: Factory<'_>) {
    let r = make();
    put(&*r, "dir/file", b"x", &Expect::Absent);
    for missing in ["nothing", "dir", "dir/other"] {
        match r.read(&p(missing)) {
            Err(ReplicaError::NotFound { .. }) => {}
            Err(e) => panic!("read {missing}: expected NotFound, got {e:?}"),
            Ok(_) => panic!("read {missing}: expected NotFound, got content"),
        }
    }
}

/// Removing a missing path without a version expectation succeeds (idempotent).
pub fn remove_missing_is_ok(make: Factory<'_>) {
    let r = make();
    r.remove(&p("never"), &Expect::Any)
        .unwrap_or_else(|e| panic!("remove missing (Any): {e}"));
    r.remove(&p("never"), &Expect::Absent)
        .unwrap_or_else(|e| panic!("remove missing (Absent): {e}"));
}

/// Spaces, unicode, dots, leading dashes and case-differing names are ordinary names.
pub fn odd_names(make: Factory<'_>) {
    let r = make();
    let names = [
        "with space.txt",
        "dir with space/ünïcødé ✓.md",
        "日本語/ファイル.txt",
        ".hidden",
        "-dash",
        "a..b",
        "percent%20encoded",
        "q?uery#frag",
        "plus+and=eq",
    ];
    for n in names {
        put(&*r, n, n.as_bytes(), &Expect::Absent);
    }
    let s = scan(&*r);
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(paths(&s), want, "odd_names: listing");
    for n in names {
        assert_eq!(get(&*r, n), n.as_bytes(), "odd_names: content of {n}");
    }
}

/// Paths are compared byte-wise: NFC `é` and NFD `e\u{301}` are two files.
pub fn unicode_forms_are_distinct(make: Factory<'_>) {
    let r = make();
    let nfc = "caf\u{e9}.txt";
    let nfd = "cafe\u{301}.txt";
    put(&*r, nfc, b"nfc", &Expect::Absent);
    put(&*r, nfd, b"nfd", &Expect::Absent);
    assert_eq!(
        scan(&*r).len(),
        2,
        "NFC and NFD names collapsed into one file"
    );
    assert_eq!(get(&*r, nfc), b"nfc");
    assert_eq!(get(&*r, nfd), b"nfd");
}

/// `include` and `exclude` select files as [`crate::PathFilter`] defines.
pub fn include_exclude(make: Factory<'_>) {
    let r = make();
    for f in ["a.txt", "b.md", "d/c.txt", "d/e/f.md"] {
        put(&*r, f, f.as_bytes(), &Expect::Absent);
    }
    let inc = vec!["*.txt".to_string()];
    let exc = vec!["d/".to_string()];
    let only_txt = r
        .scan(&ScanRequest {
            include: &inc,
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(
        paths(&only_txt.snapshot),
        ["a.txt", "d/c.txt"],
        "include *.txt"
    );
    let no_d = r
        .scan(&ScanRequest {
            exclude: &exc,
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(paths(&no_d.snapshot), ["a.txt", "b.md"], "exclude d/");
}

/// A scan given the previous snapshot as `prior` returns the same entries,
/// and still sees a file that was rewritten since.
pub fn quick_check_keeps_hashes(make: Factory<'_>) {
    let r = make();
    put(&*r, "same", b"unchanged", &Expect::Absent);
    let v = put(&*r, "edited", b"short", &Expect::Absent);
    let first = scan(&*r);
    let again = r
        .scan(&ScanRequest {
            prior: Some(&first),
            prior_written_ns: Some(MTIME + 3_600_000_000_000),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(
        again.snapshot, first,
        "quick check changed an unchanged listing"
    );
    put(
        &*r,
        "edited",
        b"much longer now",
        &Expect::Version(v.version),
    );
    let after = r
        .scan(&ScanRequest {
            prior: Some(&first),
            prior_written_ns: Some(MTIME + 3_600_000_000_000),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(
        after.snapshot.get(&p("edited")).map(|e| e.hash),
        Some(Hash::of(b"much longer now")),
        "quick check kept a stale hash for a rewritten file"
    );
    assert_eq!(after.snapshot.get(&p("same")), first.get(&p("same")));
}

/// Where the capabilities promise it, mtime and the executable bit survive a write.
pub fn mtime_and_executable(make: Factory<'_>) {
    let r = make();
    let caps = r.capabilities();
    let m = WriteMeta {
        executable: true,
        ..meta(b"#!/bin/sh\n")
    };
    r.write(&p("run.sh"), &mut &b"#!/bin/sh\n"[..], &m, &Expect::Absent)
        .unwrap();
    let s = scan(&*r);
    let e = s.get(&p("run.sh")).unwrap();
    if caps.preserves_mtime {
        assert_eq!(e.mtime_ns, MTIME, "mtime not preserved");
    }
    if caps.preserves_executable {
        assert!(e.executable, "executable bit not preserved");
    }
}

/// `set_meta` changes the executable bit (where kept) and never the content;
/// like a write, it refuses a stale version and leaves the file alone.
pub fn set_meta_keeps_content(make: Factory<'_>) {
    let r = make();
    let caps = r.capabilities();
    let body = b"#!/bin/sh\necho hi\n";
    let first = put(&*r, "tool.sh", body, &Expect::Absent);
    let m = WriteMeta {
        executable: true,
        ..meta(body)
    };
    let e = r
        .set_meta(&p("tool.sh"), &m, &Expect::Version(first.version.clone()))
        .unwrap();
    assert_eq!(get(&*r, "tool.sh"), body, "set_meta changed the content");
    assert_eq!(e.hash, first.hash);
    let scanned = scan(&*r);
    let now = scanned.get(&p("tool.sh")).unwrap();
    assert_eq!(now.version, e.version, "set_meta returned a stale entry");
    if caps.preserves_executable {
        assert!(now.executable, "set_meta did not set the executable bit");
    }
    // The version before the change is stale now where the change made a new one.
    if e.version != first.version {
        assert_changed(
            "set_meta with a stale version",
            r.set_meta(&p("tool.sh"), &meta(body), &Expect::Version(first.version)),
        );
        assert_eq!(get(&*r, "tool.sh"), body);
    }
}

/// Writes from several threads at once all land.
pub fn parallel_writes(make: Factory<'_>) {
    let r = make();
    std::thread::scope(|s| {
        for t in 0..4 {
            let r = &*r;
            s.spawn(move || {
                for i in 0..16 {
                    let path = format!("t{t}/f{i}");
                    put(r, &path, path.as_bytes(), &Expect::Absent);
                }
            });
        }
    });
    let listed = scan(&*r);
    assert_eq!(listed.len(), 64, "parallel_writes: files missing");
    for (path, e) in listed.iter() {
        assert_eq!(
            e.hash,
            Hash::of(path.as_str().as_bytes()),
            "{path}: content"
        );
    }
}
