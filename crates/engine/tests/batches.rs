//! Transactions: every batch of actions is one transaction on each side it
//! writes to; a side that does not commit took none of the batch, and the
//! base is not advanced for it.

use driftsync_core::report::ActionOutcome;
use driftsync_engine::{sync, Silent, SyncOptions};
use driftsync_replica::memory::MemoryReplica;

fn options(dir: &std::path::Path) -> SyncOptions {
    let mut o = SyncOptions::new(dir.join("state.json"), dir.join("work"));
    o.durable = false;
    o
}

#[test]
fn a_failed_commit_leaves_that_side_untouched_and_the_next_run_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (left, right) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
    for i in 0..5 {
        left.put(&format!("doc/{i}.md"), format!("body {i}").as_bytes(), 1);
    }
    right.put("only-right.txt", b"r", 1);
    right.fail_commit(1);
    let out = sync(&left, &right, &options(dir.path()), &Silent).unwrap();
    // The five copies to the right were in the rolled-back transaction; the
    // copy of only-right.txt to the left went to a side that committed.
    let failed: Vec<_> = out
        .records()
        .into_iter()
        .filter(|r| r.outcome == ActionOutcome::Failed)
        .collect();
    assert_eq!(failed.len(), 5, "{:#?}", out.records());
    assert!(failed.iter().all(|r| r
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("transaction was not committed")));
    assert_eq!(
        right.contents().len(),
        1,
        "the right side kept nothing of the batch"
    );
    assert_eq!(left.contents().len(), 6);
    assert!(!out.clean());

    // The base did not record the failed copies: the next run plans them again.
    let again = sync(&left, &right, &options(dir.path()), &Silent).unwrap();
    assert!(again.clean(), "{:#?}", again.records());
    assert_eq!(left.contents(), right.contents());
    let last = sync(&left, &right, &options(dir.path()), &Silent).unwrap();
    assert!(last.plan.actions.iter().all(|a| !a.changes_files()));
}

#[test]
fn large_plans_commit_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (left, right) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
    for i in 0..1_201 {
        left.put(&format!("f{i:04}"), i.to_string().as_bytes(), 1);
    }
    let out = sync(&left, &right, &options(dir.path()), &Silent).unwrap();
    assert!(out.clean());
    assert_eq!(right.contents().len(), 1_201);
    assert_eq!(right.commits(), 3, "500 + 500 + 201 actions");
    assert_eq!(left.commits(), 0, "nothing was written on the left");
}
