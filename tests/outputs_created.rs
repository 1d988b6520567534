//! `outputs_created` in report.json lists what source document 001 lists:
//! the output paths a target created or changed, a directory that an output
//! glob takes whole standing for its files when it changed wholesale (a
//! freshly cloned repository under `addons/oca/**`), the files otherwise.

mod cli_support;

use cli_support::Repo;
use serde_json::json;

#[test]
fn a_wholly_new_directory_is_listed_as_the_directory_and_an_edit_as_the_file() {
    let r = Repo::new();
    r.write("addons/oca/account-tools/__manifest__.py", "{'v': 1}\n")
        .write("addons/oca/account-tools/models.py", "pass\n")
        .write("addons/oca/web/__manifest__.py", "{'v': 1}\n");
    // Clones one new repository, updates one file of another, and builds a
    // site into an output folder that did not exist.
    r.script(
        "scripts/sync-oca.sh",
        r#"mkdir -p addons/oca/sale-workflow/models site/css
echo "{'v': 1}" > addons/oca/sale-workflow/__manifest__.py
echo pass > addons/oca/sale-workflow/models/order.py
echo "{'v': 2}" > addons/oca/account-tools/__manifest__.py
echo '<h1>hi</h1>' > site/index.html
echo 'h1 {}' > site/css/main.css
echo 'notes' > site-notes.txt"#,
    );
    r.config(
        r#"version: "1.0"
targets:
  oca_repos:
    type: command
    direction: pull
    entrypoint: scripts/sync-oca.sh
    outputs: ["addons/oca/**", "site/**", "site-notes.txt"]
"#,
    );
    r.commit_all("setup");
    let before = r.commits();

    let out = r.run(&["run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = r.report();
    assert_eq!(
        report["results"][0]["outputs_created"],
        json!([
            "addons/oca/account-tools/__manifest__.py",
            "addons/oca/sale-workflow/",
            "site-notes.txt",
            "site/"
        ]),
        "{report:#}"
    );
    // The commit holds every file the directories stand for.
    assert_eq!(r.commits(), before + 1);
    let files = r.git(&["show", "--name-only", "--format=", "HEAD"]);
    let mut files: Vec<&str> = files.lines().collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "addons/oca/account-tools/__manifest__.py",
            "addons/oca/sale-workflow/__manifest__.py",
            "addons/oca/sale-workflow/models/order.py",
            "site-notes.txt",
            "site/css/main.css",
            "site/index.html",
        ]
    );
    assert!(r.git(&["status", "--porcelain"]).trim().is_empty());

    // The same outputs again: nothing created, nothing committed.
    let again = r.run(&["run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(r.report()["results"][0]["outputs_created"], json!([]));
    assert_eq!(r.commits(), before + 1);
}

#[test]
fn a_directory_with_one_unchanged_file_is_listed_file_by_file() {
    let r = Repo::new();
    r.write("dist/keep.txt", "kept\n");
    r.script(
        "scripts/build.sh",
        "mkdir -p dist\necho a > dist/a.js\necho b > dist/b.js",
    );
    r.config(
        r#"version: "1.0"
targets:
  build:
    direction: pull
    entrypoint: scripts/build.sh
    outputs: ["dist/**"]
"#,
    );
    r.commit_all("setup");
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        r.report()["results"][0]["outputs_created"],
        json!(["dist/a.js", "dist/b.js"])
    );
    // Once dist/keep.txt goes too, dist/ changed wholesale.
    std::fs::remove_file(r.p("dist/keep.txt")).unwrap();
    let out = r.run(&["run", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        r.report()["results"][0]["outputs_created"],
        json!(["dist/"])
    );
}
