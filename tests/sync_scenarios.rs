//! Scenario folders (`tests/scenarios/<case>/`) against a local left side and
//! two right sides: the in-memory backend and a second local directory.
//! Object-storage and database backends run the same folders with their own
//! factory (see docs/sync.md).

use std::path::Path;
use std::sync::Mutex;

use driftsync_engine::scenarios;
use driftsync_replica::local::LocalReplica;
use driftsync_replica::memory::MemoryReplica;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios"))
}

#[test]
fn scenarios_with_memory_right_side() {
    scenarios::run_all(root(), &|| Box::new(MemoryReplica::new("right")));
}

#[test]
fn scenarios_with_local_right_side() {
    let dirs = Mutex::new(Vec::new());
    scenarios::run_all(root(), &|| {
        let d = tempfile::tempdir().expect("temp dir");
        let r = LocalReplica::new(d.path().join("right"));
        dirs.lock().unwrap().push(d);
        Box::new(r)
    });
}

#[test]
fn there_is_a_scenario_for_every_case_the_issue_lists() {
    let names: Vec<String> = scenarios::cases(root())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "one_change_each_side",
        "every_delta_at_once",
        "changed_both_same",
        "policy_newer",
        "policy_local",
        "policy_remote",
        "policy_keep_both",
        "policy_skip",
        "policy_fail",
        "max_delete_then_force",
        "empty_side_abort",
        "dry_run_changes_nothing",
        "first_run_without_base",
    ] {
        assert!(names.iter().any(|n| n == want), "missing scenario {want}");
    }
}
