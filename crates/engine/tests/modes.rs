//! A change of only the executable bit travels as a mode change: the
//! destination is `chmod`-ed in place (same inode, no backup), and the next
//! run plans nothing.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use driftsync_engine::{sync, Silent, SyncOptions};
use driftsync_replica::local::LocalReplica;

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn chmod(p: &Path, m: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

#[test]
fn executable_bit_alone_is_propagated_both_ways() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    fs::create_dir_all(a.join("bin")).unwrap();
    fs::write(a.join("bin/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::write(a.join("notes.txt"), "text\n").unwrap();
    let (left, right) = (LocalReplica::new(&a), LocalReplica::new(&b));
    let mut opts = SyncOptions::new(d.path().join("state.json"), d.path().join("work"));
    opts.durable = false;
    let run = || sync(&left, &right, &opts, &Silent).unwrap();
    assert!(run().clean());
    assert_eq!(mode(&b.join("bin/run.sh")), 0o644);

    // Left: chmod +x, content unchanged.
    chmod(&a.join("bin/run.sh"), 0o755);
    let ino = fs::metadata(b.join("bin/run.sh")).unwrap().ino();
    let out = run();
    assert!(out.clean());
    assert_eq!(
        out.plan.render(),
        "~ left→right  bin/run.sh  mode changed on left (now executable)\n"
    );
    assert_eq!(mode(&b.join("bin/run.sh")), 0o755, "mode not propagated");
    assert_eq!(
        fs::metadata(b.join("bin/run.sh")).unwrap().ino(),
        ino,
        "the file was rewritten instead of chmod-ed"
    );
    assert!(
        out.backup_dir.is_none(),
        "a mode change backed something up"
    );
    assert!(
        run().plan.is_empty(),
        "second run after a mode change plans something"
    );

    // Right: chmod -x travels back.
    chmod(&b.join("bin/run.sh"), 0o644);
    let out = run();
    assert_eq!(
        out.plan.render(),
        "~ right→left  bin/run.sh  mode changed on right (now not executable)\n"
    );
    assert_eq!(mode(&a.join("bin/run.sh")), 0o644);
    assert!(run().plan.is_empty());
    assert_eq!(
        fs::read(a.join("bin/run.sh")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
}
