//! Backups of overwritten and deleted files: a hard link to the old file on a
//! local directory (same content, the old inode, no copy), a copy through the
//! replica everywhere else and whenever the link fails; `restore` puts either
//! back.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use driftsync_core::{Entry, RelPath};
use driftsync_engine::{restore, sync, Silent, SyncOptions};
use driftsync_replica::local::LocalReplica;
use driftsync_replica::memory::MemoryReplica;
use driftsync_replica::{
    Capabilities, Expect, Replica, ReplicaError, Scan, ScanRequest, WriteMeta,
};

const FILES: [(&str, &str); 6] = [
    ("keep.txt", "kept\n"),
    ("edit/one.txt", "one, old\n"),
    ("two.txt", "two, old\n"),
    ("gone.txt", "gone, old\n"),
    ("x/y.txt", "y\n"),
    ("z.txt", "z\n"),
];

fn options(d: &Path) -> SyncOptions {
    let mut o = SyncOptions::new(d.join("state.json"), d.join("work"));
    o.durable = false;
    o
}

fn write_tree(root: &Path) {
    for (p, c) in FILES {
        let abs = root.join(p);
        fs::create_dir_all(abs.parent().unwrap()).unwrap();
        fs::write(abs, c).unwrap();
    }
}

/// Overwrite two files and delete one on `root` (the other side then gets the same).
fn edit(root: &Path) {
    fs::write(root.join("edit/one.txt"), "one, new and longer\n").unwrap();
    fs::write(root.join("two.txt"), "two, new and longer\n").unwrap();
    fs::remove_file(root.join("gone.txt")).unwrap();
}

fn backup_of(dir: &Path, side: &str, path: &str) -> PathBuf {
    dir.join(side).join(path)
}

#[test]
fn local_backups_are_hard_links_to_the_old_files() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    write_tree(&a);
    let (left, right) = (LocalReplica::new(&a), LocalReplica::new(&b));
    let o = options(d.path());
    assert!(sync(&left, &right, &o, &Silent).unwrap().clean());

    let old_ino = |p: &str| fs::metadata(a.join(p)).unwrap().ino();
    let inos = [
        old_ino("edit/one.txt"),
        old_ino("two.txt"),
        old_ino("gone.txt"),
    ];
    edit(&b);
    let out = sync(&left, &right, &o, &Silent).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    assert_eq!(out.backed_up, 3);
    let dir = out.backup_dir.clone().expect("a backup directory");

    for ((path, _), ino) in [FILES[1], FILES[2], FILES[3]].iter().zip(inos) {
        let old = FILES.iter().find(|(p, _)| p == path).unwrap().1;
        let backup = backup_of(&dir, "left", path);
        // (a) the old bytes;
        assert_eq!(fs::read_to_string(&backup).unwrap(), old, "{path}");
        let m = fs::metadata(&backup).unwrap();
        // the old inode itself (a link, not a copy);
        assert_eq!(m.ino(), ino, "{path}: the backup is a copy, not a link");
        // (b) not the file that replaced it;
        if let Ok(now) = fs::metadata(a.join(path)) {
            assert_ne!(m.ino(), now.ino(), "{path}: the backup is the new file");
            assert_eq!(
                fs::read_to_string(a.join(path)).unwrap(),
                fs::read_to_string(b.join(path)).unwrap()
            );
        }
        // (c) the only name left of the old file.
        assert_eq!(m.nlink(), 1, "{path}: the original was not replaced");
    }
    assert!(!a.join("gone.txt").exists());
    let leftovers: Vec<_> = walk(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("driftsync-partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // `restore` reads the linked backups back.
    let run = dir.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(run, out.run_id);
    let work = d.path().join("work");
    let items = restore::plan(&work, &run, [&left, &right]).unwrap();
    assert_eq!(items.len(), 3);
    let results = restore::apply(&work, &items, [&left, &right]).unwrap();
    assert!(results.iter().all(|r| r == &Ok(true)), "{results:?}");
    for (p, c) in &FILES[1..4] {
        assert_eq!(
            fs::read_to_string(a.join(p)).unwrap(),
            *c,
            "{p} not restored"
        );
    }
}

#[test]
fn replicas_without_local_files_get_copies() {
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("b");
    let left = MemoryReplica::new("left");
    for (p, c) in FILES {
        left.put(p, c.as_bytes(), 1_600_000_000_000_000_000);
    }
    let right = LocalReplica::new(&b);
    let o = options(d.path());
    assert!(sync(&left, &right, &o, &Silent).unwrap().clean());
    edit(&b);
    let out = sync(&left, &right, &o, &Silent).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    let dir = out.backup_dir.expect("a backup directory");
    for (p, c) in &FILES[1..4] {
        let backup = backup_of(&dir, "left", p);
        assert_eq!(fs::read_to_string(&backup).unwrap(), *c, "{p}");
        assert_eq!(fs::metadata(&backup).unwrap().nlink(), 1);
    }
    assert_eq!(
        left.contents().get("two.txt").map(Vec::as_slice),
        Some(&b"two, new and longer\n"[..])
    );
}

/// A local directory with one of two twists: it names local files the link
/// cannot reach (as across file systems: the backup falls back to a copy),
/// or someone edits the files in `edited` in place between the scan and the
/// write or delete, after their backups were linked (the local replica then
/// refuses the write as changed since the scan).
struct TwistedLocal {
    inner: LocalReplica,
    unlinkable: bool,
    edited: &'static [&'static str],
}

impl TwistedLocal {
    fn new(root: &Path) -> TwistedLocal {
        TwistedLocal {
            inner: LocalReplica::new(root),
            unlinkable: false,
            edited: &[],
        }
    }

    fn edit_if_listed(&self, p: &RelPath) {
        if self.edited.contains(&p.as_str()) {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(self.inner.root().join(p.as_str()))
                .unwrap();
            std::io::Write::write_all(&mut f, b"edited meanwhile\n").unwrap();
        }
    }
}

impl Replica for TwistedLocal {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn scan(&self, r: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        self.inner.scan(r)
    }
    fn read(&self, p: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        self.inner.read(p)
    }
    fn write(
        &self,
        p: &RelPath,
        c: &mut dyn Read,
        m: &WriteMeta,
        e: &Expect,
    ) -> Result<Entry, ReplicaError> {
        self.edit_if_listed(p);
        self.inner.write(p, c, m, e)
    }
    fn remove(&self, p: &RelPath, e: &Expect) -> Result<(), ReplicaError> {
        self.edit_if_listed(p);
        self.inner.remove(p, e)
    }
    fn local_file(&self, p: &RelPath) -> Option<PathBuf> {
        if self.unlinkable {
            Some(self.inner.root().join("no such directory").join(p.as_str()))
        } else {
            self.inner.local_file(p)
        }
    }
}

#[test]
fn a_failed_link_falls_back_to_a_copy() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    write_tree(&a);
    let left = TwistedLocal {
        unlinkable: true,
        ..TwistedLocal::new(&a)
    };
    let right = LocalReplica::new(&b);
    let o = options(d.path());
    assert!(sync(&left, &right, &o, &Silent).unwrap().clean());
    let old_ino = fs::metadata(a.join("two.txt")).unwrap().ino();
    edit(&b);
    let out = sync(&left, &right, &o, &Silent).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    let dir = out.backup_dir.expect("a backup directory");
    for (p, c) in &FILES[1..4] {
        assert_eq!(
            fs::read_to_string(backup_of(&dir, "left", p)).unwrap(),
            *c,
            "{p}"
        );
    }
    assert_ne!(
        fs::metadata(backup_of(&dir, "left", "two.txt"))
            .unwrap()
            .ino(),
        old_ino,
        "linked although the replica's file was out of reach"
    );
}

/// Sync `a` ↔ `b` once, edit `b`, and sync again with `edited` changed in
/// place on `a` after their backups were made.
fn sync_with_edits_meanwhile(
    d: &Path,
    edited: &'static [&'static str],
) -> driftsync_engine::Outcome {
    let (a, b) = (d.join("a"), d.join("b"));
    write_tree(&a);
    let first = TwistedLocal::new(&a);
    let right = LocalReplica::new(&b);
    let o = options(d);
    assert!(sync(&first, &right, &o, &Silent).unwrap().clean());
    let left = TwistedLocal { edited, ..first };
    edit(&b);
    sync(&left, &right, &o, &Silent).unwrap()
}

#[test]
fn a_backup_whose_write_was_refused_is_taken_back() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let out = sync_with_edits_meanwhile(d.path(), &["two.txt", "gone.txt"]);
    let records = out.records();
    let skipped: Vec<_> = records
        .iter()
        .filter(|r| {
            r.detail
                .as_deref()
                .is_some_and(|d| d.contains("changed since it was scanned"))
        })
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(skipped, ["gone.txt", "two.txt"], "{records:?}");
    // The edits made meanwhile are where they were made, in files that have
    // one name only: no backup is linked to them.
    for p in ["two.txt", "gone.txt"] {
        let live = a.join(p);
        assert!(
            fs::read_to_string(&live)
                .unwrap()
                .ends_with("edited meanwhile\n"),
            "{p}"
        );
        assert_eq!(
            fs::metadata(&live).unwrap().nlink(),
            1,
            "{p}: still linked from a backup"
        );
    }
    // The write that happened is backed up, and only it is in the manifest.
    assert_eq!(out.backed_up, 1);
    let dir = out.backup_dir.clone().expect("a backup directory");
    assert_eq!(
        fs::read_to_string(backup_of(&dir, "left", "edit/one.txt")).unwrap(),
        "one, old\n"
    );
    let mut files: Vec<_> = walk(&dir)
        .into_iter()
        .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["left/edit/one.txt", "run.json"]);
    let manifest = fs::read_to_string(dir.join("run.json")).unwrap();
    assert!(manifest.contains("edit/one.txt"), "{manifest}");
    assert!(
        !manifest.contains("two.txt") && !manifest.contains("gone.txt"),
        "{manifest}"
    );
}

#[test]
fn when_every_backup_is_taken_back_no_backup_directory_stays() {
    let d = tempfile::tempdir().unwrap();
    let out = sync_with_edits_meanwhile(d.path(), &["edit/one.txt", "two.txt", "gone.txt"]);
    assert_eq!(out.backed_up, 0, "{:?}", out.records());
    assert_eq!(out.backup_dir, None);
    let backup = d.path().join("work/backup").join(&out.run_id);
    assert!(!backup.exists(), "{} stayed", backup.display());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
