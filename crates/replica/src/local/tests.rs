//! Local-directory specifics beyond the conformance suite.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use driftsync_core::Snapshot;

use super::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn listing(r: &LocalReplica) -> Vec<String> {
    r.scan(&ScanRequest::default())
        .unwrap()
        .snapshot
        .iter()
        .map(|(p, _)| p.to_string())
        .collect()
}

#[test]
fn passes_the_conformance_suite() {
    let dirs = Mutex::new(Vec::new());
    crate::conformance::run_all(&|| {
        let d = tmp();
        let r = LocalReplica::new(d.path().join("root"));
        dirs.lock().unwrap().push(d);
        Box::new(r)
    });
}

#[test]
fn skips_state_dir_symlinks_and_temp_files_and_deletes_nothing() {
    let d = tmp();
    let root = d.path();
    fs::create_dir_all(root.join(".driftsync/state")).unwrap();
    fs::write(root.join(".driftsync/state/x.json"), "{}").unwrap();
    fs::write(root.join("a.txt"), "a").unwrap();
    let dead = format!(
        ".a.txt{TEMP_MARKER}{}-0123456789abcdef-2",
        driftsync_testkit::dead_pid()
    );
    let live = format!(".a.txt{TEMP_MARKER}1-0123456789abcdef-2"); // pid 1 is alive
    let mine = temp_name("a.txt");
    for t in [&dead, &live, &mine] {
        fs::write(root.join(t), "torn").unwrap();
    }
    // Names that only look like temp files are the user's.
    fs::write(root.join("x.driftsync-tmp-foo"), "user's").unwrap();
    fs::write(root.join(".y.driftsync-tmp-1-2"), "user's").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("escape")).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("inside")).unwrap();
    let r = LocalReplica::new(root);
    let scan = r.scan(&ScanRequest::default()).unwrap();
    let paths: Vec<_> = scan.snapshot.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(
        paths,
        [".y.driftsync-tmp-1-2", "a.txt", "x.driftsync-tmp-foo"]
    );
    let noted: Vec<_> = scan.notes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(noted, ["escape", "inside"], "{:?}", scan.notes);
    assert!(scan.notes[0].reason.contains("symbolic link"));
    // A scan deletes nothing.
    for t in [&dead, &live, &mine] {
        assert!(root.join(t).exists(), "{t} deleted by a scan");
    }
    // The run holding the lock removes only temp files of gone processes.
    assert_eq!(r.remove_leftovers(), 1);
    assert!(!root.join(&dead).exists(), "a killed run's temp file stays");
    assert!(
        root.join(&live).exists(),
        "a live run's temp file was deleted"
    );
    assert!(
        root.join(&mine).exists(),
        "this process's temp file was deleted"
    );
    assert!(root.join("x.driftsync-tmp-foo").exists());
    assert!(root.join(".y.driftsync-tmp-1-2").exists());
}

#[test]
fn a_file_a_killed_delete_moved_aside_is_put_back_never_deleted() {
    let d = tmp();
    let root = d.path();
    let pid = driftsync_testkit::dead_pid();
    // `gone.txt` was moved aside and the run killed before its check; the
    // name of `taken.txt` was used again meanwhile.
    let gone = format!(".gone.txt{ASIDE_MARKER}{pid}-0123456789abcdef-0");
    let taken = format!(".taken.txt{ASIDE_MARKER}{pid}-0123456789abcdef-1");
    fs::write(root.join(&gone), "edited meanwhile").unwrap();
    fs::write(root.join(&taken), "older edit").unwrap();
    fs::write(root.join("taken.txt"), "newer file").unwrap();
    let r = LocalReplica::new(root);
    r.scan(&ScanRequest::default()).unwrap();
    r.remove_leftovers();
    assert_eq!(
        fs::read_to_string(root.join("gone.txt")).unwrap(),
        "edited meanwhile"
    );
    assert_eq!(
        fs::read_to_string(root.join("taken.txt")).unwrap(),
        "newer file"
    );
    let kept: Vec<String> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("taken.txt.driftsync-kept-"))
        .collect();
    assert_eq!(kept.len(), 1, "the older edit is kept beside the name");
    assert_eq!(
        fs::read_to_string(root.join(&kept[0])).unwrap(),
        "older edit"
    );
}

#[test]
fn temp_names_stay_within_name_max_and_are_recognised() {
    for len in [1, 200, 231, 232, 240, 255] {
        let name = "n".repeat(len);
        let t = temp_name(&name);
        assert!(t.len() <= 255, "{len}: {} bytes", t.len());
        assert_eq!(temp_pid(&t), Some(std::process::id()), "{t}");
    }
    for not_ours in [
        "x.driftsync-tmp-foo",
        ".x.driftsync-tmp-1-2",
        ".x.driftsync-tmp-1-0123456789abcdeg-2",
        ".x.tmp-1",
    ] {
        assert_eq!(temp_pid(not_ours), None, "{not_ours}");
    }
}

#[test]
fn non_utf8_names_are_reported_and_skipped() {
    let d = tmp();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff\xfename");
    fs::write(d.path().join(name), "x").unwrap();
    fs::write(d.path().join("good"), "y").unwrap();
    let scan = LocalReplica::new(d.path())
        .scan(&ScanRequest::default())
        .unwrap();
    assert_eq!(scan.snapshot.len(), 1);
    assert_eq!(scan.notes.len(), 1);
    assert!(
        scan.notes[0].reason.contains("not valid UTF-8"),
        "{:?}",
        scan.notes
    );
    assert!(scan.notes[0].path.starts_with("bad"));
}

#[test]
fn backslash_names_are_reported_and_skipped() {
    let d = tmp();
    fs::write(d.path().join("a\\b"), "x").unwrap();
    let scan = LocalReplica::new(d.path())
        .scan(&ScanRequest::default())
        .unwrap();
    assert!(scan.snapshot.is_empty());
    assert!(
        scan.notes[0].reason.contains("backslash"),
        "{:?}",
        scan.notes
    );
}

#[test]
fn driftsyncignore_always_gitignore_only_when_asked() {
    let d = tmp();
    let root = d.path();
    fs::write(root.join(".driftsyncignore"), "*.log\n").unwrap();
    fs::write(root.join(".gitignore"), "*.tmp\n").unwrap();
    for f in ["a.log", "b.tmp", "c.txt"] {
        fs::write(root.join(f), f).unwrap();
    }
    assert_eq!(
        listing(&LocalReplica::new(root)),
        [".driftsyncignore", ".gitignore", "b.tmp", "c.txt"]
    );
    assert_eq!(
        listing(&LocalReplica::new(root).respect_gitignore(true)),
        [".driftsyncignore", ".gitignore", "c.txt"]
    );
}

#[test]
fn racy_files_are_rehashed() {
    let d = tmp();
    let r = LocalReplica::new(d.path());
    fs::write(d.path().join("f"), "one").unwrap();
    let first = r.scan(&ScanRequest::default()).unwrap().snapshot;
    let mut lying = first.clone();
    for e in lying.values_mut() {
        e.hash = Hash::of(b"stale");
    }
    let mtime = first.iter().next().unwrap().1.mtime_ns;
    // Base written long after the file: the quick check trusts the prior hash.
    let trusted = r
        .scan(&ScanRequest {
            prior: Some(&lying),
            prior_written_ns: Some(mtime + 10_000_000_000),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(trusted.hashed, 0);
    assert_eq!(
        trusted.snapshot.iter().next().unwrap().1.hash,
        Hash::of(b"stale")
    );
    // Base written in the same second as the file: racy, re-read.
    let racy = r
        .scan(&ScanRequest {
            prior: Some(&lying),
            prior_written_ns: Some(mtime),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(racy.hashed, 1);
    assert_eq!(
        racy.snapshot.iter().next().unwrap().1.hash,
        Hash::of(b"one")
    );
}

#[test]
fn remove_prunes_empty_directories() {
    let d = tmp();
    let r = LocalReplica::new(d.path());
    let p = RelPath::new("a/b/c.txt").unwrap();
    let m = WriteMeta {
        size: 1,
        hash: Hash::of(b"x"),
        mtime_ns: 0,
        executable: false,
    };
    r.write(&p, &mut &b"x"[..], &m, &Expect::Absent).unwrap();
    r.remove(&p, &Expect::Any).unwrap();
    assert!(
        !d.path().join("a").exists(),
        "empty directories left behind"
    );
    assert!(d.path().exists(), "the root itself was removed");
}

#[test]
fn case_only_names_are_two_files() {
    let d = tmp();
    fs::write(d.path().join("README.md"), "upper").unwrap();
    fs::write(d.path().join("readme.md"), "lower").unwrap();
    assert_eq!(
        listing(&LocalReplica::new(d.path())),
        ["README.md", "readme.md"]
    );
}

#[test]
fn changed_under_our_feet_is_detected() {
    let d = tmp();
    let r = LocalReplica::new(d.path());
    let p = RelPath::new("f").unwrap();
    let m = WriteMeta {
        size: 1,
        hash: Hash::of(b"x"),
        mtime_ns: 1_000_000_000,
        executable: false,
    };
    let e = r.write(&p, &mut &b"x"[..], &m, &Expect::Absent).unwrap();
    // Someone else rewrites the file (same size, new inode or mtime).
    fs::write(d.path().join("f"), "y").unwrap();
    let err = r
        .write(&p, &mut &b"z"[..], &m, &Expect::Version(e.version.clone()))
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    assert_eq!(fs::read(d.path().join("f")).unwrap(), b"y");
    let leftovers: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temp file left after a refused write");
}

#[test]
fn set_meta_changes_the_mode_in_place() {
    let d = tmp();
    let r = LocalReplica::new(d.path());
    let p = RelPath::new("bin/run.sh").unwrap();
    let m = WriteMeta {
        size: 10,
        hash: Hash::of(b"#!/bin/sh\n"),
        mtime_ns: 1_000_000_000,
        executable: false,
    };
    let e = r
        .write(&p, &mut &b"#!/bin/sh\n"[..], &m, &Expect::Absent)
        .unwrap();
    assert!(!e.executable);
    let abs = d.path().join("bin/run.sh");
    let ino = fs::metadata(&abs).unwrap().ino();
    let exec = WriteMeta {
        executable: true,
        ..m.clone()
    };
    let now = r
        .set_meta(&p, &exec, &Expect::Version(e.version.clone()))
        .unwrap();
    assert!(now.executable, "executable bit not set");
    assert_eq!(now.hash, e.hash);
    let after = fs::metadata(&abs).unwrap();
    assert_eq!(after.ino(), ino, "the content was rewritten, not chmod-ed");
    assert_eq!(after.permissions().mode() & 0o777, 0o755);
    assert_eq!(fs::read(&abs).unwrap(), b"#!/bin/sh\n");
    // A stale expectation changes nothing.
    fs::write(&abs, "#!/bin/sh\necho changed\n").unwrap();
    let err = r
        .set_meta(&p, &m, &Expect::Version(now.version.clone()))
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Changed { .. }), "{err:?}");
    assert_eq!(
        fs::metadata(&abs).unwrap().permissions().mode() & 0o111,
        0o111
    );
}

#[test]
fn quick_check_merges_the_walk_with_the_prior_snapshot() {
    let d = tmp();
    let root = d.path();
    for f in ["a", "a.txt", "a0", "b/c", "b/c.d", "b-/x", "é", "z/y/x"] {
        let abs = root.join(f);
        fs::create_dir_all(abs.parent().unwrap()).unwrap();
        fs::write(&abs, f).unwrap();
    }
    let r = LocalReplica::new(root);
    let first = r.scan(&ScanRequest::default()).unwrap().snapshot;
    assert_eq!(first.len(), 8);
    // A prior with stale hashes (so a kept hash shows) and entries in
    // between that are no longer on disk.
    let stale = Hash::of(b"from the prior");
    let gone = first.iter().next().unwrap().1.clone();
    let prior: Snapshot = first
        .iter()
        .map(|(p, e)| {
            let mut e = e.clone();
            e.hash = stale;
            (p.clone(), e)
        })
        .chain(
            ["0", "a-", "a/b", "b/b", "b/c/d", "c", "z/y", "zz"]
                .iter()
                .map(|p| (RelPath::new(*p).unwrap(), gone.clone())),
        )
        .collect();
    fs::write(root.join("b/c.d"), "changed, longer").unwrap();
    let mtime = first.iter().map(|(_, e)| e.mtime_ns).max().unwrap();
    let scan = r
        .scan(&ScanRequest {
            prior: Some(&prior),
            prior_written_ns: Some(mtime + 10_000_000_000),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(scan.hashed, 1, "only the changed file is read");
    for (p, e) in scan.snapshot.iter() {
        if p.as_str() == "b/c.d" {
            assert_eq!(e.hash, Hash::of(b"changed, longer"));
        } else {
            assert_eq!(e.hash, stale, "{p}: the prior hash was not kept");
        }
    }
    let paths: Vec<_> = scan.snapshot.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(
        paths,
        ["a", "a.txt", "a0", "b-/x", "b/c", "b/c.d", "z/y/x", "é"]
    );
}

#[test]
fn changes_only_lists_what_differs_and_flags_the_rest() {
    let d = tmp();
    let root = d.path();
    for f in ["a", "b/c", "b/d", "e"] {
        let abs = root.join(f);
        fs::create_dir_all(abs.parent().unwrap()).unwrap();
        fs::write(&abs, f).unwrap();
    }
    let r = LocalReplica::new(root);
    let prior = r.scan(&ScanRequest::default()).unwrap().snapshot;
    let written = prior.iter().map(|(_, e)| e.mtime_ns).max().unwrap() + 10_000_000_000;
    let request = ScanRequest {
        prior: Some(&prior),
        prior_written_ns: Some(written),
        changes_only: true,
        ..ScanRequest::default()
    };
    let quiet = r.scan(&request).unwrap();
    assert!(quiet.snapshot.is_empty(), "{:?}", quiet.snapshot);
    assert_eq!(quiet.unchanged.as_deref(), Some(&[true; 4][..]));
    assert_eq!(quiet.hashed, 0);

    fs::write(root.join("b/c"), "changed").unwrap();
    fs::remove_file(root.join("e")).unwrap();
    fs::write(root.join("b/new"), "new").unwrap();
    let scan = r.scan(&request).unwrap();
    let listed: Vec<&str> = scan.snapshot.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(listed, ["b/c", "b/new"]);
    // a, b/c, b/d, e: kept, changed, kept, deleted.
    assert_eq!(
        scan.unchanged.as_deref(),
        Some(&[true, false, true, false][..])
    );
    let whole = r
        .scan(&ScanRequest {
            changes_only: false,
            ..request.clone()
        })
        .unwrap()
        .snapshot;
    assert!(scan.view(&prior).iter().eq(whole.iter()));
}

/// A root and a directory `outside` beside it holding `x.txt` ("outside").
fn hostile() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tmp();
    let (root, outside) = (d.path().join("root"), d.path().join("outside"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("x.txt"), "outside").unwrap();
    (d, root, outside)
}

fn outside_untouched(outside: &Path) {
    let names: Vec<_> = fs::read_dir(outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["x.txt"], "something was written outside the root");
    assert_eq!(
        fs::read_to_string(outside.join("x.txt")).unwrap(),
        "outside"
    );
}

fn meta_of(content: &[u8]) -> WriteMeta {
    WriteMeta {
        size: content.len() as u64,
        hash: Hash::of(content),
        mtime_ns: 1_700_000_000_000_000_000,
        executable: false,
    }
}

#[test]
fn a_directory_link_in_the_path_is_refused_for_every_operation() {
    for target in ["outside", "up"] {
        let (d, root, outside) = hostile();
        // `sub` is a real directory when scanned, a link when written.
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("sub/x.txt"), "inside").unwrap();
        let r = LocalReplica::new(&root);
        let scan = r.scan(&ScanRequest::default()).unwrap();
        let seen = scan
            .snapshot
            .get(&RelPath::new("sub/x.txt").unwrap())
            .unwrap()
            .clone();
        fs::rename(root.join("sub"), d.path().join("moved")).unwrap();
        match target {
            "outside" => std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap(),
            // A link to `..` of the root, and through it to `outside`.
            _ => {
                std::os::unix::fs::symlink("..", root.join("up")).unwrap();
                std::os::unix::fs::symlink("up/outside", root.join("sub")).unwrap();
            }
        }
        let p = RelPath::new("sub/x.txt").unwrap();
        let new = RelPath::new("sub/new.txt").unwrap();
        let version = Expect::Version(seen.version.clone());
        let refused = |e: ReplicaError, verb: &str| {
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("refusing to {verb} through symbolic link sub/")),
                "{target}: {msg}"
            );
        };
        let c = b"from the other side";
        refused(
            r.write(&p, &mut &c[..], &meta_of(c), &version).unwrap_err(),
            "write",
        );
        refused(
            r.write(&new, &mut &c[..], &meta_of(c), &Expect::Absent)
                .unwrap_err(),
            "write",
        );
        refused(
            r.write(&p, &mut &c[..], &meta_of(c), &Expect::Any)
                .unwrap_err(),
            "write",
        );
        refused(r.remove(&p, &version).unwrap_err(), "delete");
        refused(r.remove(&p, &Expect::Any).unwrap_err(), "delete");
        refused(
            r.set_meta(&p, &meta_of(b"inside"), &Expect::Any)
                .unwrap_err(),
            "change",
        );
        refused(r.read(&p).err().unwrap(), "read");
        outside_untouched(&outside);
        // The scan reports the link and lists nothing through it.
        let scan = r.scan(&ScanRequest::default()).unwrap();
        assert!(scan.snapshot.is_empty(), "{:?}", scan.snapshot);
        assert!(scan
            .notes
            .iter()
            .any(|n| n.path == "sub" && n.reason.contains("symbolic link")));
        // No temp file was left anywhere.
        assert_eq!(
            fs::read_dir(&root).unwrap().count(),
            if target == "up" { 2 } else { 1 }
        );
    }
}

#[test]
fn a_link_as_the_file_itself_is_never_followed() {
    let (_d, root, outside) = hostile();
    std::os::unix::fs::symlink(outside.join("x.txt"), root.join("x.txt")).unwrap();
    let r = LocalReplica::new(&root);
    let p = RelPath::new("x.txt").unwrap();
    let c = b"from the other side";
    let e = r
        .write(&p, &mut &c[..], &meta_of(c), &Expect::Absent)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to replace symbolic link x.txt"),
        "{e}"
    );
    let e = r
        .write(&p, &mut &c[..], &meta_of(c), &Expect::Any)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to replace symbolic link x.txt"),
        "{e}"
    );
    // A version the link never had: swapped out, seen to be a link, swapped back.
    let e = r
        .write(
            &p,
            &mut &c[..],
            &meta_of(c),
            &Expect::Version("0123456789abcdef".into()),
        )
        .unwrap_err();
    assert!(matches!(e, ReplicaError::Changed { .. }), "{e}");
    let e = r.read(&p).err().unwrap();
    assert!(
        e.to_string()
            .contains("refusing to read symbolic link x.txt"),
        "{e}"
    );
    let e = r
        .set_meta(&p, &meta_of(b"outside"), &Expect::Any)
        .unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    let e = r.remove(&p, &Expect::Any).unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to delete symbolic link x.txt"),
        "{e}"
    );
    let e = r
        .remove(&p, &Expect::Version("0123456789abcdef".into()))
        .unwrap_err();
    assert!(matches!(e, ReplicaError::Changed { .. }), "{e}");
    assert!(fs::symlink_metadata(root.join("x.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    outside_untouched(&outside);
    // A backup link of it is refused too (the engine then copies, which refuses).
    let dest = root.parent().unwrap().join("backup");
    assert_ne!(
        link_out(&root.join("x.txt"), &p, &dest, None).unwrap(),
        LinkOut::Linked
    );
    assert!(!dest.exists());
}

#[test]
fn backup_links_resolve_beneath_the_root_and_check_the_version() {
    let (d, root, outside) = hostile();
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("sub/x.txt"), "inside").unwrap();
    let r = LocalReplica::new(&root);
    let p = RelPath::new("sub/x.txt").unwrap();
    let seen = r
        .scan(&ScanRequest::default())
        .unwrap()
        .snapshot
        .get(&p)
        .unwrap()
        .clone();
    let dest = d.path().join("b1");
    let file = r.local_file(&p).unwrap();
    assert_eq!(
        link_out(&file, &p, &dest, Some(&seen.version)).unwrap(),
        LinkOut::Linked
    );
    assert_eq!(fs::read_to_string(&dest).unwrap(), "inside");
    // Edited by rename since the scan: not linked.
    fs::write(d.path().join("new"), "edited").unwrap();
    fs::rename(d.path().join("new"), root.join("sub/x.txt")).unwrap();
    let dest2 = d.path().join("b2");
    assert!(matches!(
        link_out(&file, &p, &dest2, Some(&seen.version)).unwrap(),
        LinkOut::Changed(_)
    ));
    assert!(!dest2.exists());
    // Through a directory link: refused.
    fs::remove_dir_all(root.join("sub")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
    let e = link_out(&file, &p, &d.path().join("b3"), None).unwrap_err();
    assert!(e.to_string().contains("symbolic link sub/"), "{e}");
    assert!(!d.path().join("b3").exists());
}

#[test]
fn an_edit_by_rename_after_the_scan_is_never_replaced_nor_deleted() {
    let d = tmp();
    let root = d.path().join("root");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("f"), "scanned").unwrap();
    let r = LocalReplica::new(&root);
    let p = RelPath::new("f").unwrap();
    let seen = r
        .scan(&ScanRequest::default())
        .unwrap()
        .snapshot
        .get(&p)
        .unwrap()
        .clone();
    // An editor saves by rename after the scan (same size, same mtime).
    fs::write(d.path().join("e"), "edited!").unwrap();
    let m = fs::metadata(root.join("f")).unwrap();
    filetime::set_file_mtime(
        d.path().join("e"),
        filetime::FileTime::from_last_modification_time(&m),
    )
    .unwrap();
    fs::rename(d.path().join("e"), root.join("f")).unwrap();
    let c = b"other";
    let e = r
        .write(
            &p,
            &mut &c[..],
            &meta_of(c),
            &Expect::Version(seen.version.clone()),
        )
        .unwrap_err();
    assert!(matches!(e, ReplicaError::Changed { .. }), "{e}");
    assert_eq!(fs::read_to_string(root.join("f")).unwrap(), "edited!");
    let e = r
        .remove(&p, &Expect::Version(seen.version.clone()))
        .unwrap_err();
    assert!(matches!(e, ReplicaError::Changed { .. }), "{e}");
    assert_eq!(fs::read_to_string(root.join("f")).unwrap(), "edited!");
    // Nothing but the file is left (no temp files).
    assert_eq!(fs::read_dir(&root).unwrap().count(), 1);
}

#[test]
fn a_name_of_255_bytes_is_written_and_removed() {
    let d = tmp();
    let r = LocalReplica::new(d.path());
    for len in [232, 250, 255] {
        let p = RelPath::new(format!(
            "dir/{}",
            "é".repeat(len / 2) + &"n".repeat(len % 2)
        ))
        .unwrap();
        assert_eq!(p.file_name().len(), len);
        let c = b"long";
        let e = r
            .write(&p, &mut &c[..], &meta_of(c), &Expect::Absent)
            .unwrap();
        let c2 = b"longer";
        let e = r
            .write(&p, &mut &c2[..], &meta_of(c2), &Expect::Version(e.version))
            .unwrap();
        r.remove(&p, &Expect::Version(e.version)).unwrap();
    }
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn a_scan_counts_what_it_listed_and_hashed() {
    use std::sync::atomic::Ordering::Relaxed;
    let d = tmp();
    let r = LocalReplica::new(d.path());
    fs::create_dir_all(d.path().join("sub")).unwrap();
    fs::write(d.path().join("a"), "12345").unwrap();
    fs::write(d.path().join("sub/b"), "123").unwrap();
    let counts = std::sync::Arc::new(crate::ScanProgress::default());
    let first = r
        .scan(&ScanRequest {
            progress: Some(counts.clone()),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(counts.listed.load(Relaxed), 2);
    assert_eq!(counts.to_hash.load(Relaxed), 2);
    assert_eq!(counts.to_hash_bytes.load(Relaxed), 8);
    assert_eq!(counts.hashed.load(Relaxed), 2);
    assert_eq!(counts.hashed_bytes.load(Relaxed), 8);
    // Against a base written long after: listed, none read.
    let again = std::sync::Arc::new(crate::ScanProgress::default());
    r.scan(&ScanRequest {
        prior: Some(&first.snapshot),
        prior_written_ns: Some(i64::MAX),
        progress: Some(again.clone()),
        ..ScanRequest::default()
    })
    .unwrap();
    assert_eq!(again.listed.load(Relaxed), 2);
    assert_eq!(again.hashed.load(Relaxed), 0);
}
