//! A writer edits the destination's files — in place and by rename — while
//! one-way syncs overwrite them: no edit is ever lost. Each edit ends either
//! on a side, or (replaced by the policy: push makes the right match the
//! left) in a backup; an edit that lands after the scan is detected and its
//! action skipped. Bounded: a fixed number of edits and of runs; timings
//! only decide how many edits land in the window, never pass or fail.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use driftsync_core::report::ActionOutcome;
use driftsync_core::Direction;
use driftsync_engine::{sync, Silent, SyncOptions};
use driftsync_replica::local::LocalReplica;

const FILES: usize = 12;
const RUNS: usize = 40;
const EDITS_PER_RUN: usize = 80; // 3,200 edits in all

fn options(d: &Path) -> SyncOptions {
    let mut o = SyncOptions::new(d.join("state.json"), d.join("work"));
    o.durable = false;
    o.plan.direction = Direction::Push;
    o.concurrency = 4;
    o.limits.max_delete = driftsync_core::guard::MaxDelete::Count(usize::MAX);
    o.limits.all_changed_min = usize::MAX; // every file changes every run here
    o
}

/// Swap the names `a` and `b` in one step (`renameat2(RENAME_EXCHANGE)`):
/// an edit by rename that keeps what it replaced, to look at.
fn exchange(a: &Path, b: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let (ca, cb) = (c(a), c(b));
    // SAFETY: two NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    assert_eq!(
        r,
        0,
        "exchange {}: {}",
        b.display(),
        std::io::Error::last_os_error()
    );
}

fn name(i: usize) -> String {
    format!("f{i:02}.txt")
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Every `E<k>.` token in the files under `dir`.
fn tokens(dir: &Path, into: &mut BTreeSet<usize>) {
    for f in all_files(dir) {
        let Ok(text) = fs::read_to_string(&f) else {
            continue;
        };
        for part in text.split('E').skip(1) {
            if let Some(k) = part.split('.').next().and_then(|n| n.parse().ok()) {
                into.insert(k);
            }
        }
    }
}

#[test]
fn edits_in_place_and_by_rename_during_syncs_are_never_lost() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, scratch) = (
        d.path().join("a"),
        d.path().join("b"),
        d.path().join("scratch"),
    );
    fs::create_dir_all(&scratch).unwrap();
    for i in 0..FILES {
        fs::create_dir_all(&a).unwrap();
        fs::write(a.join(name(i)), format!("L0-{i}\n")).unwrap();
    }
    let (left, right) = (LocalReplica::new(&a), LocalReplica::new(&b));
    let o = options(d.path());
    assert!(sync(&left, &right, &o, &Silent).unwrap().clean());

    let start = Arc::new(Barrier::new(2));
    let writer = {
        let (b, scratch, start) = (b.clone(), scratch.clone(), start.clone());
        std::thread::spawn(move || {
            // Per file: the writer's own last edit there (it supersedes it itself).
            let mut last: Vec<Option<usize>> = vec![None; FILES];
            let mut superseded = BTreeSet::new();
            // In-place edits that truncated a file other than the one read.
            let mut unknown = 0;
            let mut k = 0;
            for _ in 0..RUNS {
                start.wait();
                for _ in 0..EDITS_PER_RUN {
                    let i = (k * 7) % FILES;
                    let path = b.join(name(i));
                    // Sizes vary, so most edits also change the size.
                    let content = format!("E{k}.{}\n", "x".repeat(k % 5));
                    // What this edit replaces is read from the very file it
                    // replaces (the same descriptor, or the name swapped
                    // out), never by a second lookup of the path: the sync
                    // may swap names in between, and the edit would then
                    // replace a file it never looked at.
                    let replaced = if k % 2 == 0 {
                        // Read it, then open it again truncating (a truncate
                        // the sync sees at once, as an editor's save does):
                        // the same inode both times, open throughout, means
                        // what was truncated is what was read; another inode
                        // means the sync swapped names in between and the
                        // content truncated is unknown.
                        let mut before = fs::File::open(&path).unwrap();
                        let mut was = String::new();
                        before.read_to_string(&mut was).unwrap();
                        let mut f = fs::OpenOptions::new()
                            .write(true)
                            .truncate(true)
                            .open(&path)
                            .unwrap();
                        f.write_all(content.as_bytes()).unwrap();
                        let ino = |f: &fs::File| f.metadata().unwrap().ino();
                        if ino(&before) == ino(&f) {
                            was
                        } else {
                            unknown += 1;
                            // Whatever it held is gone by the writer's own hand.
                            last[i].map(|j| format!("E{j}.")).unwrap_or_default()
                        }
                    } else {
                        let tmp = scratch.join(format!("w{k}"));
                        fs::write(&tmp, &content).unwrap();
                        exchange(&tmp, &path);
                        let was = fs::read_to_string(&tmp).unwrap();
                        fs::remove_file(&tmp).unwrap();
                        was
                    };
                    // The edit it replaced — its last one there, or an
                    // older one the sync put back when it swapped names
                    // back (the last then kept beside it) — is gone by the
                    // writer's own hand.
                    if let Some(j) = replaced
                        .strip_prefix('E')
                        .and_then(|t| t.split('.').next()?.parse::<usize>().ok())
                    {
                        superseded.insert(j);
                    }
                    last[i] = Some(k);
                    k += 1;
                    std::thread::yield_now();
                }
            }
            (k, superseded, unknown)
        })
    };
    let (mut applied, mut skipped) = (0, 0);
    for run in 1..=RUNS {
        for i in 0..FILES {
            fs::write(a.join(name(i)), format!("L{run}-{i}\n")).unwrap();
        }
        start.wait();
        let out = sync(&left, &right, &o, &Silent).unwrap();
        for r in &out.results {
            match r.outcome {
                ActionOutcome::Applied => applied += 1,
                ActionOutcome::Skipped => skipped += 1,
                _ => {}
            }
        }
    }
    let (edits, superseded, unknown) = writer.join().unwrap();
    // Every edit the writer did not replace itself is on a side or in a backup.
    let mut on_sides = BTreeSet::new();
    tokens(&a, &mut on_sides);
    tokens(&b, &mut on_sides);
    let mut in_backups = BTreeSet::new();
    tokens(&d.path().join("work/backup"), &mut in_backups);
    let lost: Vec<usize> = (0..edits)
        .filter(|k| !superseded.contains(k) && !on_sides.contains(k) && !in_backups.contains(k))
        .collect();
    let only_in_backups = (0..edits)
        .filter(|k| !superseded.contains(k) && !on_sides.contains(k) && in_backups.contains(k))
        .count();
    eprintln!(
        "{edits} edits ({} superseded by the writer itself) during {RUNS} runs: \
         {applied} writes applied, {skipped} skipped as changed since the scan, \
         {only_in_backups} edits replaced by push and kept in a backup, {} lost \
         ({unknown} in-place edits truncated a file swapped in after they read the path)",
        superseded.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "edits lost: {lost:?}");
    // A rerun converges: the right matches the left and a further run plans nothing.
    let out = sync(&left, &right, &o, &Silent).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    for i in 0..FILES {
        assert_eq!(
            fs::read(a.join(name(i))).unwrap(),
            fs::read(b.join(name(i))).unwrap()
        );
    }
    let again = sync(&left, &right, &o, &Silent).unwrap();
    assert!(again.plan.actions.is_empty(), "{:?}", again.records());
    // No temp file is left on either side.
    for f in all_files(&a).into_iter().chain(all_files(&b)) {
        assert!(
            !f.to_string_lossy().contains("driftsync-tmp"),
            "{}",
            f.display()
        );
    }
}

/// The window that remains: a write through a descriptor of the old file
/// opened before the swap lands in the old inode after it — which is the
/// backup (a hard link), so it is not lost either.
#[test]
fn a_write_through_an_open_descriptor_of_the_replaced_file_ends_in_the_backup() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::write(a.join("f"), "v1\n").unwrap();
    let (left, right) = (LocalReplica::new(&a), LocalReplica::new(&b));
    let o = options(d.path());
    assert!(sync(&left, &right, &o, &Silent).unwrap().clean());
    let mut held = fs::OpenOptions::new()
        .append(true)
        .open(b.join("f"))
        .unwrap();
    fs::write(a.join("f"), "v2, longer\n").unwrap();
    let out = sync(&left, &right, &o, &Silent).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    held.write_all(b"late edit\n").unwrap();
    drop(held);
    assert_eq!(fs::read_to_string(b.join("f")).unwrap(), "v2, longer\n");
    let backup = out.backup_dir.unwrap().join("right/f");
    assert_eq!(fs::read_to_string(backup).unwrap(), "v1\nlate edit\n");
}
