//! `driftsync space export|import` run as a process on SQLite: an edit made in
//! the folder while the same document changed in the database is never lost,
//! `--dry-run` writes nothing, by-path moves files, and nothing outside the
//! export folder is ever read, written or deleted.

use driftsync_testkit::text;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use driftsync_core::{Hash, RelPath};
use driftsync_replica::{Expect, Replica, ScanRequest, WriteMeta};
use driftsync_replica_db::DbReplica;

fn driftsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("DRIFTSYNC_SPACE_DATABASE")
        .output()
        .expect("run driftsync")
}

struct Space {
    repo: tempfile::TempDir,
    url: String,
}

impl Space {
    /// A repository with a SQLite space holding `docs`.
    fn new(docs: &[(&str, &str)]) -> Space {
        let repo = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/space.db?table=docs", repo.path().display());
        let s = Space { repo, url };
        for (p, t) in docs {
            s.put(p, t);
        }
        s
    }

    fn root(&self) -> &Path {
        self.repo.path()
    }

    fn out(&self) -> PathBuf {
        self.root().join("work/out")
    }

    fn replica(&self) -> DbReplica {
        DbReplica::open(&self.url, Path::new("/")).unwrap()
    }

    fn put(&self, path: &str, text: &str) {
        let b = text.as_bytes();
        let meta = WriteMeta {
            size: b.len() as u64,
            hash: Hash::of(b),
            mtime_ns: 0,
            executable: false,
        };
        self.replica()
            .write(
                &RelPath::new(path).unwrap(),
                &mut &b[..],
                &meta,
                &Expect::Any,
            )
            .unwrap();
    }

    fn docs(&self) -> BTreeMap<String, String> {
        let r = self.replica();
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

    fn run(&self, args: &[&str]) -> Output {
        let mut a = args.to_vec();
        a.extend(["--database", &self.url]);
        driftsync(self.root(), &a)
    }

    fn export(&self, extra: &[&str]) -> Output {
        let mut a = vec!["space", "export"];
        a.extend(extra);
        a.push("work/out");
        self.run(&a)
    }

    fn import(&self, extra: &[&str]) -> Output {
        let mut a = vec!["space", "import"];
        a.extend(extra);
        a.push("work/out");
        self.run(&a)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.out().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    fn write(&self, file: &str, text: &str) {
        let p = self.out().join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Every file under `dir` (symlinks as their target), byte for byte.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn go(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let ty = e.file_type().unwrap();
            if ty.is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(&p).unwrap().display().to_string().into(),
                );
            } else if ty.is_dir() {
                go(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    go(dir, dir, &mut out);
    out
}

const FOLDER_EDIT: &str = "# Home, edited in the folder\n";
const DB_EDIT: &str = "# Home, edited in the database\n";

/// Export, then edit index.md in the folder and in the database.
fn edited_on_both_sides() -> Space {
    let s = Space::new(&[
        ("index.md", "# Home\n"),
        ("guides/install.md", "# Install\n"),
    ]);
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    s.write("index.md", FOLDER_EDIT);
    s.put("index.md", DB_EDIT);
    s
}

#[test]
fn space_import_skip_keeps_the_folder_edit_on_disk_and_exits_1() {
    for extra in [&[][..], &["--on-conflict", "skip"][..]] {
        let s = edited_on_both_sides();
        let o = s.import(extra);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("index.md"), "{}", text(&o));
        // The edit stays on disk; the database keeps its own edit.
        assert_eq!(s.read("index.md"), FOLDER_EDIT);
        assert_eq!(s.docs()["index.md"], DB_EDIT);
        // It stays pending: a second import reports it again and still keeps it,
        // and so does a plain export.
        let o = s.import(extra);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_eq!(s.read("index.md"), FOLDER_EDIT);
        let o = s.export(&[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("index.md"), "{}", text(&o));
        assert_eq!(s.read("index.md"), FOLDER_EDIT);
        // Choosing overwrite afterwards stores it.
        let o = s.import(&["--on-conflict", "overwrite"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(s.docs()["index.md"], FOLDER_EDIT);
        let o = s.import(&[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
}

#[test]
fn space_import_overwrite_stores_the_folder_edit() {
    // `directory_wins` is the space coordinator's name for the same strategy.
    for strategy in ["overwrite", "directory_wins", "directory-wins"] {
        let s = edited_on_both_sides();
        let o = s.import(&["--on-conflict", strategy]);
        assert_eq!(o.status.code(), Some(0), "{strategy}: {}", text(&o));
        assert_eq!(s.docs()["index.md"], FOLDER_EDIT, "{strategy}");
    }
    // `space_wins` keeps the space's document, as `skip` does.
    let s = edited_on_both_sides();
    let o = s.import(&["--on-conflict", "space_wins"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(s.docs()["index.md"], DB_EDIT);
    assert_eq!(s.read("index.md"), FOLDER_EDIT);
    let s = edited_on_both_sides();
    let o = s.import(&["--on-conflict", "overwrite"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("index.md"), "{}", text(&o));
    assert_eq!(s.docs()["index.md"], FOLDER_EDIT);
    assert_eq!(s.read("index.md"), FOLDER_EDIT);
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn space_import_rename_and_keep_both_store_the_edit_as_a_copy() {
    for strategy in ["rename", "keep-both", "keep_both", "backup_both"] {
        let s = edited_on_both_sides();
        let o = s.import(&["--on-conflict", strategy]);
        assert_eq!(o.status.code(), Some(0), "{strategy}: {}", text(&o));
        let docs = s.docs();
        assert_eq!(docs["index.md"], DB_EDIT, "{strategy}");
        let copies: Vec<_> = docs
            .iter()
            .filter(|(p, _)| p.starts_with("index.conflict-") && p.ends_with(".md"))
            .collect();
        assert_eq!(copies.len(), 1, "{strategy}: {docs:?}");
        assert_eq!(copies[0].1, FOLDER_EDIT, "{strategy}");
        assert!(text(&o).contains(copies[0].0.as_str()), "{}", text(&o));
        // The folder follows the database: both copies on disk.
        assert_eq!(s.read("index.md"), DB_EDIT);
        assert_eq!(s.read(copies[0].0), FOLDER_EDIT);
        let o = s.import(&[]);
        assert_eq!(o.status.code(), Some(0), "{strategy}: {}", text(&o));
    }
}

#[test]
fn space_json_prints_the_lists_and_counts() {
    let s = edited_on_both_sides();
    let o = s.import(&["--json", "--on-conflict", "overwrite"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["summary"]["conflicts"], 1, "{v}");
    assert_eq!(v["summary"]["skipped"], 0, "{v}");
    assert_eq!(v["summary"]["dry_run"], false, "{v}");
    assert!(v["summary"]["duration_ms"].is_u64(), "{v}");
    assert!(
        v["resolved"][0].as_str().unwrap().contains("index.md"),
        "{v}"
    );
    let o = s.export(&["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["summary"]["skipped"], 0, "{v}");
    assert!(v["summary"]["unchanged"].as_u64().unwrap() >= 1, "{v}");
}

#[test]
fn space_import_dry_run_writes_nothing() {
    for strategy in ["skip", "overwrite", "rename", "keep-both"] {
        let s = edited_on_both_sides();
        // Other pending work too: a new file, a deleted file.
        s.write("new.md", "# New\n");
        std::fs::remove_file(s.out().join("guides/install.md")).unwrap();
        let db_file = s.root().join("space.db");
        let (tree_before, db_before) = (tree(&s.out()), std::fs::read(&db_file).unwrap());
        let o = s.import(&["--dry-run", "--on-conflict", strategy]);
        let expect = if strategy == "skip" { 1 } else { 0 };
        assert_eq!(o.status.code(), Some(expect), "{strategy}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains("dry run"), "{t}");
        assert!(t.contains("index.md") && t.contains("new.md"), "{t}");
        assert_eq!(tree(&s.out()), tree_before, "{strategy}");
        assert_eq!(std::fs::read(&db_file).unwrap(), db_before, "{strategy}");
    }
}

#[test]
fn space_by_path_group_change_moves_the_file() {
    let s = Space::new(&[
        ("guides/a.md", "---\nstatus: draft\n---\n# A\n"),
        ("guides/b.md", "---\nstatus: draft\n---\n# B\n"),
    ]);
    let o = s.export(&["--layout", "by-path", "--group-by", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.out().join("draft/guides/a.md").is_file());
    // Changed in the folder: the import stores it and the file moves.
    s.write("draft/guides/a.md", "---\nstatus: published\n---\n# A\n");
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        s.docs()["guides/a.md"],
        "---\nstatus: published\n---\n# A\n"
    );
    assert!(!s.out().join("draft/guides/a.md").exists(), "old file left");
    assert_eq!(
        s.read("published/guides/a.md"),
        "---\nstatus: published\n---\n# A\n"
    );
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Changed in the database: the export moves it.
    s.put("guides/b.md", "---\nstatus: archived\n---\n# B\n");
    let o = s.export(&["--layout", "by-path", "--group-by", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!s.out().join("draft/guides/b.md").exists());
    assert!(s.out().join("archived/guides/b.md").is_file());
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.docs().len(), 2);
}

/// The coordinator's spelling `by_path`, and by_path without a field to
/// group by: files laid out by the document's own path, imported back.
#[test]
fn space_by_path_without_group_by_uses_the_document_path() {
    let s = Space::new(&[("guides/a.md", "# A\n"), ("index.md", "# Home\n")]);
    let o = s.export(&["--layout", "by_path"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.read("guides/a.md"), "# A\n");
    assert_eq!(s.read("index.md"), "# Home\n");
    s.write("guides/a.md", "# A, edited\n");
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.docs()["guides/a.md"], "# A, edited\n");
    assert_eq!(s.docs().len(), 2, "{:?}", s.docs());
}

/// New files in the folder: editor and OS junk is never imported, and
/// --include/--exclude choose among the rest; exported files are always read.
#[test]
fn space_import_skips_junk_and_honours_include_and_exclude() {
    let s = Space::new(&[("index.md", "# Home\n")]);
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for junk in [".DS_Store", "index.md.swp", "index.md~", ".#index.md"] {
        s.write(junk, "junk");
    }
    s.write("notes/draft.txt", "draft");
    s.write("guides/new.md", "# New\n");
    s.write("index.md", "# Home, edited\n");
    let o = s.import(&[
        "--include",
        "**/*.md",
        "--include",
        "*.md",
        "--exclude",
        "notes/**",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let docs = s.docs();
    assert_eq!(
        docs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["guides/new.md", "index.md"],
        "{docs:?}"
    );
    assert_eq!(docs["index.md"], "# Home, edited\n");
    // Without a selection, other new files come in; junk still does not.
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.docs().contains_key("notes/draft.txt"));
    assert_eq!(s.docs().len(), 3, "{:?}", s.docs());
    let bad = s.import(&["--include", "[oops"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

#[test]
fn space_export_dry_run_writes_nothing() {
    let s = Space::new(&[("index.md", "# Home\n"), ("guides/a.md", "# A\n")]);
    let o = s.export(&["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("2 would be written"), "{}", text(&o));
    assert!(!s.out().exists(), "nothing created");
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = tree(&s.out());
    s.put("index.md", "# Home, new\n");
    let o = s.export(&["--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["written"], serde_json::json!(["index.md"]), "{v}");
    assert_eq!(v["dry_run"], true, "{v}");
    assert_eq!(
        tree(&s.out()),
        before,
        "the folder and its manifest are untouched"
    );
}

#[test]
fn space_manifest_entries_outside_the_folder_are_refused() {
    let s = Space::new(&[("index.md", "# Home\n")]);
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let outside = tempfile::tempdir().unwrap();
    let abs_victim = outside.path().join("abs-victim");
    std::fs::write(&abs_victim, "precious\n").unwrap();
    // work/out/../../victim is the repository's victim.
    let rel_victim = s.root().join("victim");
    std::fs::write(&rel_victim, "precious\n").unwrap();
    let sha = Hash::of(b"precious\n").to_hex();
    for bad in ["../../victim".to_string(), abs_victim.display().to_string()] {
        let manifest_path = s.out().join(".driftsync-manifest.json");
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
        let entry = serde_json::json!({
            "file": bad, "document": "victim", "sha256": sha, "version": "1"
        });
        let saved = m.clone();
        m["entries"].as_array_mut().unwrap().push(entry);
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        for cmd in ["export", "import"] {
            let o = if cmd == "export" {
                s.export(&[])
            } else {
                s.import(&["--on-conflict", "overwrite"])
            };
            let t = text(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd} {bad}: {t}");
            assert!(t.contains(".driftsync-manifest.json"), "{t}");
            assert!(t.contains(bad.as_str()), "{t}");
            assert_eq!(std::fs::read_to_string(&rel_victim).unwrap(), "precious\n");
            assert_eq!(std::fs::read_to_string(&abs_victim).unwrap(), "precious\n");
        }
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&saved).unwrap()).unwrap();
    }
    assert_eq!(s.docs().len(), 1);
}

#[test]
fn space_export_never_writes_through_symlinks() {
    let s = Space::new(&[
        ("guides/install.md", "# Install\n"),
        ("index.md", "# Home\n"),
    ]);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "outside\n").unwrap();
    std::fs::create_dir_all(s.out()).unwrap();
    // A symlinked directory and a symlinked file inside the export folder.
    std::os::unix::fs::symlink(outside.path(), s.out().join("guides")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("keep.txt"), s.out().join("index.md")).unwrap();
    let before = tree(outside.path());
    let o = s.export(&[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("guides") && t.contains("index.md"), "{t}");
    assert!(t.contains("symbolic link"), "{t}");
    assert_eq!(tree(outside.path()), before, "{t}");
    // The links are still links.
    assert!(s
        .out()
        .join("guides")
        .symlink_metadata()
        .unwrap()
        .is_symlink());
    // Import neither follows them nor deletes their documents.
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(tree(outside.path()), before);
    assert_eq!(s.docs().len(), 2, "{}", text(&o));
}

#[test]
fn space_import_never_reads_through_symlinks() {
    let s = Space::new(&[("index.md", "# Home\n")]);
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.md"), "TOP-SECRET-FILE\n").unwrap();
    std::fs::create_dir_all(outside.path().join("dir")).unwrap();
    std::fs::write(outside.path().join("dir/x.md"), "TOP-SECRET-DIR\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.md"), s.out().join("secret.md"))
        .unwrap();
    std::os::unix::fs::symlink(outside.path().join("dir"), s.out().join("linked")).unwrap();
    let o = s.import(&["--on-conflict", "overwrite"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("secret.md") && t.contains("linked"), "{t}");
    let docs = s.docs();
    assert_eq!(docs.keys().collect::<Vec<_>>(), ["index.md"], "{t}");
    for v in docs.values() {
        assert!(!v.contains("TOP-SECRET"));
    }
}

#[test]
fn space_files_unknown_to_the_manifest_and_deletions_are_conflicts_too() {
    let s = Space::new(&[("index.md", "# Home\n")]);
    // A first export into a folder that already has a different index.md keeps it.
    s.write("index.md", "mine\n");
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(s.read("index.md"), "mine\n");
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(s.read("index.md"), "mine\n");
    assert_eq!(s.docs()["index.md"], "# Home\n");
    let o = s.import(&["--on-conflict", "overwrite"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.docs()["index.md"], "mine\n");
    // Deleted in the folder, changed in the space: skip keeps the document
    // and writes it back; overwrite deletes it.
    std::fs::remove_file(s.out().join("index.md")).unwrap();
    s.put("index.md", DB_EDIT);
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(s.read("index.md"), DB_EDIT);
    std::fs::remove_file(s.out().join("index.md")).unwrap();
    s.put("index.md", "# Home, again\n");
    let o = s.import(&["--on-conflict", "overwrite"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.docs().is_empty());
    assert!(!s.out().join("index.md").exists());
}

/// `export --metadata` writes `F.meta.json` beside each file (the document's
/// id, title, updated, version, sha256, size); a second export changes
/// nothing; import never stores them as documents and reads them back (a new
/// file with one goes to the document its id names); an export without the
/// flag removes them, and a dry run writes none.
#[test]
fn space_metadata_files_round_trip() {
    let s = Space::new(&[
        ("index.md", "# Home\n"),
        (
            "guides/install.md",
            "---\ntitle: Install guide\n---\nSteps.\n",
        ),
    ]);
    let o = s.export(&["--metadata"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let meta = |file: &str| -> serde_json::Value {
        serde_json::from_str(&s.read(&format!("{file}.meta.json"))).unwrap()
    };
    let m = meta("guides/install.md");
    assert_eq!(m["id"], "guides/install.md");
    assert_eq!(m["title"], "Install guide");
    assert_eq!(m["size"], 36);
    assert_eq!(
        m["sha256"].as_str().unwrap(),
        Hash::of(b"---\ntitle: Install guide\n---\nSteps.\n").to_string()
    );
    assert_eq!(m["updated"], "1970-01-01T00:00:00Z", "{m}");
    assert!(!m["version"].as_str().unwrap().is_empty(), "{m}");
    assert_eq!(meta("index.md")["title"], "Home");
    let version_before = meta("index.md")["version"].clone();
    let manifest = s.read(".driftsync-manifest.json");
    assert!(manifest.contains("\"metadata\": true"), "{manifest}");

    let before = tree(&s.out());
    let o = s.export(&["--metadata"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).starts_with("0 written, 2 unchanged"),
        "{}",
        text(&o)
    );
    assert_eq!(tree(&s.out()), before);

    // An edit, and a file brought in with the metadata file of a document
    // that lives elsewhere in the space.
    s.write("index.md", "# Home, edited\n");
    s.write("drafts/copy.md", "moved text\n");
    s.write(
        "drafts/copy.md.meta.json",
        r#"{"id": "notes/moved.md", "title": "Moved"}"#,
    );
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let docs = s.docs();
    assert_eq!(
        docs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["guides/install.md", "index.md", "notes/moved.md"],
        "no metadata file became a document"
    );
    assert_eq!(docs["index.md"], "# Home, edited\n");
    assert_eq!(docs["notes/moved.md"], "moved text\n");
    // The refresh rewrote the edited document's metadata, and wrote the new one's.
    assert_ne!(meta("index.md")["version"], version_before);
    assert_eq!(meta("notes/moved.md")["id"], "notes/moved.md");

    // Without --metadata they go; a dry run with it writes none.
    let o = s.export(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let files = tree(&s.out());
    assert!(
        !files
            .keys()
            .any(|f| f.ends_with(".meta.json") && !f.starts_with("drafts/")),
        "{:?}",
        files.keys()
    );
    assert!(!s.read(".driftsync-manifest.json").contains("metadata"));
    let o = s.export(&["--metadata", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).starts_with("3 would be written, 3 unchanged"),
        "{}",
        text(&o)
    );
    assert_eq!(tree(&s.out()), files);
}
