//! A document space in SQLite exported in each layout and imported back.

use std::io::Read;
use std::path::Path;

use driftsync_bundle::space::{export, import, load_manifest, ImportOptions, Layout};
use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ScanRequest, WriteMeta};
use driftsync_replica_db::DbReplica;

fn put(r: &dyn Replica, path: &str, text: &str) {
    let b = text.as_bytes();
    let meta = WriteMeta {
        size: b.len() as u64,
        hash: Hash::of(b),
        mtime_ns: 0,
        executable: false,
    };
    r.write(
        &RelPath::new(path).unwrap(),
        &mut &b[..],
        &meta,
        &Expect::Any,
    )
    .unwrap();
}

fn docs(r: &dyn Replica) -> Vec<(String, String)> {
    let scan = r.scan(&ScanRequest::default()).unwrap();
    scan.snapshot
        .iter()
        .map(|(p, _)| {
            let mut s = String::new();
            r.read(p).unwrap().read_to_string(&mut s).unwrap();
            (p.to_string(), s)
        })
        .collect()
}

fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}/space.db?table=docs", dir.display())
}

fn space(url: &str) -> DbReplica {
    let r = DbReplica::open(url, Path::new("/")).unwrap();
    put(
        &r,
        "guides/install.md",
        "---\nstatus: published\n---\n# Install\n",
    );
    put(&r, "guides/draft.md", "---\nstatus: draft\n---\n# Draft\n");
    put(&r, "index.md", "# Home\n");
    r
}

#[test]
fn db_space_layouts_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    layouts_round_trip(&sqlite(tmp.path()), tmp.path());
}

#[test]
fn db_space_import_edits_renames_creates_and_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    import_edits_renames_creates_and_deletes(&sqlite(tmp.path()), tmp.path());
}

/// The same two cases with the space in a real PostgreSQL cluster.
#[test]
fn db_space_on_postgres() {
    let pg = driftsync_testkit::PgCluster::start();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let url = pg.create_database("layouts");
    layouts_round_trip(&format!("{url}?table=docs"), &a);
    let url = pg.create_database("edits");
    import_edits_renames_creates_and_deletes(&format!("{url}?table=docs"), &b);
}

fn layouts_round_trip(url: &str, tmp: &Path) {
    let r = space(url);
    let before = docs(&r);
    for (layout, group, expect) in [
        (Layout::Hierarchical, None, "guides/install.md"),
        (Layout::Flat, None, "guides%2Finstall.md"),
        (
            Layout::ByPath,
            Some("status"),
            "published/guides/install.md",
        ),
    ] {
        let out = tmp.join(format!("{layout:?}"));
        let rep = export(&r, &out, layout, group, false).unwrap();
        assert_eq!(rep.written.len(), 3, "{rep:?}");
        assert!(out.join(expect).is_file(), "{layout:?}: {expect} missing");
        let m = load_manifest(&out).unwrap().unwrap();
        assert_eq!(m.entries.len(), 3);
        // Unchanged files are not rewritten.
        let again = export(&r, &out, layout, group, false).unwrap();
        assert!(
            again.written.is_empty() && again.unchanged == 3,
            "{again:?}"
        );
        // Importing an untouched export changes nothing.
        let rep = import(&r, &out, &ImportOptions::default()).unwrap();
        assert!(
            rep.written.is_empty() && rep.removed.is_empty() && rep.renamed.is_empty(),
            "{rep:?}"
        );
        assert_eq!(docs(&r), before);
    }
    assert!(tmp.join("ByPath/_ungrouped/index.md").is_file());
}

fn import_edits_renames_creates_and_deletes(url: &str, tmp: &Path) {
    let r = space(url);
    let out = tmp.join("flat");
    export(&r, &out, Layout::Flat, None, false).unwrap();
    std::fs::write(out.join("index.md"), "# Home, edited\n").unwrap();
    std::fs::rename(
        out.join("guides%2Fdraft.md"),
        out.join("archive%2Fold-draft.md"),
    )
    .unwrap();
    std::fs::write(out.join("new%2Fpage.md"), "# New\n").unwrap();
    std::fs::remove_file(out.join("guides%2Finstall.md")).unwrap();
    let rep = import(&r, &out, &ImportOptions::default()).unwrap();
    assert_eq!(
        rep.renamed,
        ["guides/draft.md -> archive/old-draft.md"],
        "{rep:?}"
    );
    assert_eq!(rep.removed, ["guides/install.md"], "{rep:?}");
    let paths: Vec<String> = docs(&r).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["archive/old-draft.md", "index.md", "new/page.md"]);
    assert_eq!(docs(&r)[1].1, "# Home, edited\n");
    // The manifest follows.
    let m = load_manifest(&out).unwrap().unwrap();
    let files: Vec<&str> = m.entries.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(
        files,
        ["archive%2Fold-draft.md", "index.md", "new%2Fpage.md"]
    );

    // Edited in the space since the export and in the folder: the folder's edit is skipped, nothing lost.
    put(&r, "index.md", "# Home, edited in the database\n");
    std::fs::write(out.join("index.md"), "# Home, edited in the folder\n").unwrap();
    let rep = import(&r, &out, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rep.skipped.len(), 1, "{rep:?}");
    assert!(rep.skipped[0].contains("changed in the space"), "{rep:?}");
    assert_eq!(docs(&r)[1].1, "# Home, edited in the database\n");
    // ... and the folder still holds its edit (the refresh did not overwrite it).
    assert_eq!(
        std::fs::read_to_string(out.join("index.md")).unwrap(),
        "# Home, edited in the folder\n"
    );
}
