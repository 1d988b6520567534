//! A sync target may name several local folders (source document 003's
//! `template_paths`): each pairs with the remote's folder of its own name and
//! keeps its own base; edits on both sides of both folders meet, and a second
//! run does nothing.

mod cli_support;

use cli_support::Repo;

fn bucket_file(r: &Repo, rel: &str) -> String {
    std::fs::read_to_string(r.p(&format!("bucket/{rel}"))).unwrap()
}

#[test]
fn two_folders_sync_with_one_bucket_each_under_its_own_folder() {
    let r = Repo::new();
    r.write(".gitignore", ".driftsync/reports/\nbucket/\n");
    r.config(
        r#"version: "1.0"
targets:
  site:
    type: sync
    template_paths: [templates, app/custom_templates/]
    remote: file:bucket
    on_conflict: newest_wins
"#,
    );
    r.write("templates/base.html", "<base>\n")
        .write("app/custom_templates/page.html", "<page>\n");
    // The bucket already holds a file for each folder.
    r.write("bucket/templates/footer.html", "<footer>\n")
        .write("bucket/custom_templates/nav.html", "<nav>\n");
    r.commit_all("templates");

    let list = r.run(&["list"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert!(list.stdout.contains("site.templates"), "{}", list.stdout);
    assert!(
        list.stdout.contains("site.custom_templates"),
        "{}",
        list.stdout
    );

    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(bucket_file(&r, "templates/base.html"), "<base>\n");
    assert_eq!(bucket_file(&r, "custom_templates/page.html"), "<page>\n");
    assert_eq!(r.read("templates/footer.html"), "<footer>\n");
    assert_eq!(r.read("app/custom_templates/nav.html"), "<nav>\n");
    // Nothing crossed between the folders.
    assert!(!r.exists("templates/nav.html") && !r.exists("templates/page.html"));
    assert!(!r.exists("bucket/templates/page.html"));
    // Each folder keeps its own base, committed with its files.
    assert!(r.exists(".driftsync/state/site.templates.json"));
    assert!(r.exists(".driftsync/state/site.custom_templates.json"));
    assert!(r
        .git(&[
            "status",
            "--porcelain",
            "templates",
            "app",
            ".driftsync/state"
        ])
        .trim()
        .is_empty());

    // Edits on both sides, in both folders.
    r.write("templates/base.html", "<base v2>\n");
    r.write("bucket/custom_templates/nav.html", "<nav v2>\n");
    r.write("bucket/templates/new.html", "<new>\n");
    std::fs::remove_file(r.p("app/custom_templates/page.html")).unwrap();
    r.commit_all("edits in the repo");
    let out = r.run(&["run", "--target", "site"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = r.report();
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["site.templates", "site.custom_templates"],
        "{report:#}"
    );
    assert_eq!(bucket_file(&r, "templates/base.html"), "<base v2>\n");
    assert_eq!(r.read("templates/new.html"), "<new>\n");
    assert_eq!(r.read("app/custom_templates/nav.html"), "<nav v2>\n");
    assert!(!r.exists("bucket/custom_templates/page.html"));

    // Nothing left to do.
    let again = r.run(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    for t in r.report()["results"].as_array().unwrap() {
        assert_eq!(t["actions"], serde_json::json!(null), "{t:#}");
    }
    assert!(
        again.stdout.contains("nothing to commit"),
        "{}",
        again.stdout
    );
}

#[test]
fn template_paths_are_checked_where_they_are_written() {
    let r = Repo::new();
    r.config(
        r#"version: "1.0"
targets:
  both:
    type: sync
    local: docs
    template_paths: [a]
    remote: share/
  same_leaf:
    type: sync
    template_paths: [x/templates, y/templates]
    remote: share/
  table:
    type: sync
    template_paths: [t]
    remote: sqlite://docs.db?table=docs
  spaced:
    type: sync
    template_paths: ["my templates"]
    remote: share/
"#,
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    for text in [
        "sync.yaml:6:",
        "give `local` (one directory) or `template_paths` (several), not both",
        "sync.yaml:10:",
        "two template paths end in `templates`",
        "needs a remote with folders",
        "`my templates` makes target `spaced.my templates`, which is not usable as a file name",
    ] {
        assert!(
            out.stderr.contains(text),
            "{text:?} not in:\n{}",
            out.stderr
        );
    }
}
