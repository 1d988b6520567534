//! Property tests on the in-memory backend (DESIGN §8): convergence,
//! idempotence and no loss, over random trees and random edits on both sides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use driftsync_core::{Direction, Policy};
use driftsync_engine::{sync, Silent, SyncOptions};
use driftsync_replica::memory::MemoryReplica;
use proptest::prelude::*;

const PATHS: [&str; 7] = ["a", "b.txt", "d/c", "d/e/f.md", "g h", "ü", "d/e/g"];
const CONTENTS: [&str; 4] = ["x", "y", "", "zzz"];

/// One path's state: absent or (content index, mtime).
type Tree = Vec<Option<(usize, i64)>>;

fn tree() -> impl Strategy<Value = Tree> {
    proptest::collection::vec(
        proptest::option::of((0..CONTENTS.len(), 1i64..4)),
        PATHS.len(),
    )
}

/// An edit per path: None = leave alone, Some(None) = delete, Some(Some(..)) = write.
fn edits() -> impl Strategy<Value = Vec<Option<Option<(usize, i64)>>>> {
    proptest::collection::vec(
        proptest::option::weighted(0.4, proptest::option::of((0..CONTENTS.len(), 1i64..6))),
        PATHS.len(),
    )
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Newer),
        Just(Policy::Local),
        Just(Policy::Remote),
        Just(Policy::KeepBoth)
    ]
}

fn fill(m: &MemoryReplica, t: &Tree) {
    for (p, v) in PATHS.iter().zip(t) {
        if let Some((c, mtime)) = v {
            m.put(p, CONTENTS[*c].as_bytes(), *mtime);
        }
    }
}

fn edit(m: &MemoryReplica, e: &[Option<Option<(usize, i64)>>]) {
    use driftsync_replica::{Expect, Replica};
    for (p, v) in PATHS.iter().zip(e) {
        match v {
            None => {}
            Some(None) => m
                .remove(&driftsync_core::RelPath::new(*p).unwrap(), &Expect::Any)
                .unwrap(),
            Some(Some((c, mtime))) => m.put(p, CONTENTS[*c].as_bytes(), *mtime),
        }
    }
}

fn backups(dir: &Path) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.join("backup")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.insert(std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

fn everything(l: &MemoryReplica, r: &MemoryReplica) -> BTreeSet<Vec<u8>> {
    l.contents()
        .into_values()
        .chain(r.contents().into_values())
        .collect()
}

/// A temp dir on tmpfs where there is one: thousands of cases create and
/// delete state, lock and backup files, and a disk's metadata cost would
/// dominate the run time.
fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("temp dir in /dev/shm")
    } else {
        tempfile::tempdir().expect("temp dir")
    }
}

fn opts(dir: &Path, policy: Policy) -> SyncOptions {
    let mut o = SyncOptions::new(dir.join("state.json"), dir.join("work"));
    o.plan.policy = policy;
    o.force = true; // guards are tested on their own; here every plan applies
    o.concurrency = 3;
    o.durable = false;
    o
}

/// Run, then check: identical, nothing lost, a second run plans nothing.
fn run_and_check(
    l: &MemoryReplica,
    r: &MemoryReplica,
    o: &SyncOptions,
) -> Result<(), TestCaseError> {
    let before = everything(l, r);
    let out = sync(l, r, o, &Silent).unwrap();
    prop_assert!(out.clean(), "not clean: {:?}", out.records());
    prop_assert_eq!(
        l.contents(),
        r.contents(),
        "sides differ after\n{}",
        out.plan.render()
    );
    let after: BTreeSet<Vec<u8>> = everything(l, r)
        .union(&backups(&o.work_dir))
        .cloned()
        .collect();
    for c in &before {
        prop_assert!(
            after.contains(c),
            "lost {:?}\n{}",
            String::from_utf8_lossy(c),
            out.plan.render()
        );
    }
    let again = sync(l, r, o, &Silent).unwrap();
    prop_assert!(
        again.plan.is_empty(),
        "second run plans:\n{}",
        again.plan.render()
    );
    Ok(())
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn first_run_then_edits_converge_without_loss(
        left in tree(), right in tree(), le in edits(), re in edits(), policy in policy()
    ) {
        let dir = tempdir();
        let (l, r) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
        fill(&l, &left);
        fill(&r, &right);
        let o = opts(dir.path(), policy);
        // First run without a base: nothing is deleted.
        let before: BTreeMap<String, Vec<u8>> = l.contents().into_iter().chain(r.contents()).collect();
        run_and_check(&l, &r, &o)?;
        for p in before.keys() {
            prop_assert!(l.contents().contains_key(p), "first run deleted {}", p);
        }
        // Then random edits on both sides, including deletes and equal edits.
        edit(&l, &le);
        edit(&r, &re);
        run_and_check(&l, &r, &o)?;
    }

}

proptest! {
    #![proptest_config(cases(600))]

    #[test]
    fn push_with_delete_orphans_mirrors_left(
        left in tree(), right in tree(), le in edits(), re in edits()
    ) {
        let dir = tempdir();
        let (l, r) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
        fill(&l, &left);
        fill(&r, &right);
        let mut o = opts(dir.path(), Policy::Newer);
        o.plan.direction = Direction::Push;
        o.plan.delete_orphans = true;
        for _ in 0..2 {
            let source = l.contents();
            let before = everything(&l, &r);
            let out = sync(&l, &r, &o, &Silent).unwrap();
            prop_assert!(out.clean());
            prop_assert_eq!(l.contents(), source.clone(), "push changed the source");
            prop_assert_eq!(r.contents(), source, "right does not mirror left");
            let after: BTreeSet<Vec<u8>> = everything(&l, &r).union(&backups(&o.work_dir)).cloned().collect();
            prop_assert!(before.is_subset(&after), "push lost content");
            prop_assert!(sync(&l, &r, &o, &Silent).unwrap().plan.is_empty());
            edit(&l, &le);
            edit(&r, &re);
        }
    }

    #[test]
    fn skip_fail_and_manual_change_nothing_in_conflict(
        left in tree(), right in tree(), le in edits(), re in edits(), which in 0..3usize
    ) {
        let dir = tempdir();
        let (l, r) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
        fill(&l, &left);
        fill(&r, &right);
        let policy = [Policy::Skip, Policy::Fail, Policy::Manual][which];
        let fail = policy == Policy::Fail;
        let o = opts(dir.path(), policy);
        let before = (l.contents(), r.contents());
        let out = sync(&l, &r, &o, &Silent).unwrap();
        if policy == Policy::Manual {
            // Both versions of every conflict are kept for review, byte for byte.
            let name = driftsync_engine::record_name(&o.state_file);
            let kept = driftsync_engine::conflicts::Store::load(&o.work_dir, &name).unwrap();
            prop_assert_eq!(kept.open().count(), out.plan.unresolved().count());
            for c in out.plan.unresolved() {
                let p = c.path.as_str();
                let copy = |side| std::fs::read(kept.copy(side, &c.path)).unwrap();
                prop_assert_eq!(Some(&copy(driftsync_core::Side::Left)), before.0.get(p));
                prop_assert_eq!(Some(&copy(driftsync_core::Side::Right)), before.1.get(p));
            }
        }
        if fail && !out.plan.conflicts.is_empty() {
            prop_assert!(out.blocked.is_some());
            prop_assert_eq!((l.contents(), r.contents()), before.clone(), "policy fail applied something");
        }
        for c in out.plan.unresolved() {
            let p = c.path.as_str();
            let (lc, rc) = (l.contents(), r.contents());
            prop_assert_eq!(lc.get(p), before.0.get(p), "skip touched {}", p);
            prop_assert_eq!(rc.get(p), before.1.get(p), "skip touched {}", p);
        }
        edit(&l, &le);
        edit(&r, &re);
        let out = sync(&l, &r, &o, &Silent).unwrap();
        // Whatever is not in conflict is in step.
        let conflicted: BTreeSet<String> = out.plan.unresolved().map(|c| c.path.to_string()).collect();
        if out.blocked.is_none() {
            let strip = |m: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
                m.into_iter().filter(|(k, _)| !conflicted.contains(k)).collect()
            };
            prop_assert_eq!(strip(l.contents()), strip(r.contents()));
        }
    }
}

#[test]
fn transient_failures_are_retried() {
    let dir = tempdir();
    let (l, r) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
    l.put("a", b"1", 1);
    l.put("b", b"2", 1);
    let mut o = opts(dir.path(), Policy::Newer);
    o.retry_delay_ms = 1;
    o.concurrency = 1;
    // Scans pass first; then the next two operations fail transiently.
    let _ = sync(
        &l,
        &r,
        &{
            let mut d = o.clone();
            d.dry_run = true;
            d
        },
        &Silent,
    )
    .unwrap();
    struct Count(std::sync::atomic::AtomicUsize);
    impl driftsync_engine::Reporter for Count {
        fn event(&self, e: &driftsync_engine::Event) {
            if matches!(e, driftsync_engine::Event::Retrying { .. }) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
    let count = Count(Default::default());
    // Let the scans through, then fail the first write attempts.
    struct FailAfterScan<'a>(&'a MemoryReplica, &'a MemoryReplica);
    impl driftsync_replica::Replica for FailAfterScan<'_> {
        fn location(&self) -> String {
            self.0.location()
        }
        fn capabilities(&self) -> driftsync_replica::Capabilities {
            self.0.capabilities()
        }
        fn scan(
            &self,
            r: &driftsync_replica::ScanRequest<'_>,
        ) -> Result<driftsync_replica::Scan, driftsync_replica::ReplicaError> {
            let s = self.0.scan(r);
            self.1.fail_next(2);
            s
        }
        fn read(
            &self,
            p: &driftsync_core::RelPath,
        ) -> Result<Box<dyn std::io::Read + Send + '_>, driftsync_replica::ReplicaError> {
            self.0.read(p)
        }
        fn write(
            &self,
            p: &driftsync_core::RelPath,
            c: &mut dyn std::io::Read,
            m: &driftsync_replica::WriteMeta,
            e: &driftsync_replica::Expect,
        ) -> Result<driftsync_core::Entry, driftsync_replica::ReplicaError> {
            self.0.write(p, c, m, e)
        }
        fn remove(
            &self,
            p: &driftsync_core::RelPath,
            e: &driftsync_replica::Expect,
        ) -> Result<(), driftsync_replica::ReplicaError> {
            self.0.remove(p, e)
        }
    }
    let right = FailAfterScan(&r, &r);
    let out = sync(&l, &right, &o, &count).unwrap();
    assert!(out.clean(), "{:?}", out.records());
    assert_eq!(l.contents(), r.contents());
    assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn guards_refuse_then_force_applies() {
    let dir = tempdir();
    let (l, r) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
    for i in 0..4 {
        l.put(&format!("f{i}"), format!("{i}").as_bytes(), 1);
    }
    let mut o = opts(dir.path(), Policy::Newer);
    o.force = false;
    assert!(sync(&l, &r, &o, &Silent).unwrap().clean());
    for i in 0..3 {
        use driftsync_replica::{Expect, Replica};
        l.remove(
            &driftsync_core::RelPath::new(format!("f{i}")).unwrap(),
            &Expect::Any,
        )
        .unwrap();
    }
    let out = sync(&l, &r, &o, &Silent).unwrap();
    assert!(
        out.blocked
            .as_deref()
            .unwrap()
            .contains("deletes 3 of 4 files on right"),
        "{:?}",
        out.blocked
    );
    assert_eq!(r.contents().len(), 4, "a refused plan changed something");
    o.force = true;
    let out = sync(&l, &r, &o, &Silent).unwrap();
    assert!(out.forced && out.clean());
    assert_eq!(r.contents().len(), 1);
}
