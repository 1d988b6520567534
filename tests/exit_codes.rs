//! The exit-code contract, one table over commands × outcomes, on the real
//! binary: 0 in sync, 1 drift or a failure of the work (a failed target, a
//! conflict left, an edit refused), 2 usage, configuration or environment (an
//! unknown flag, a bad sync.yaml, an unset variable, a side that cannot be
//! reached or scanned). The same failure gives the same code under every
//! command; README.md's "Exit codes" table is this one.

mod cli_support;

use cli_support::{Out, Repo};

/// The outcomes of the table.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    InSync,
    Drift,
    TargetFailure,
    ScanFailure,
    BadConfig,
    UnknownFlag,
    MissingEnv,
    BadEnvValue,
    PushDenied,
    InvalidBundle,
}

impl Outcome {
    fn code(self) -> i32 {
        match self {
            Outcome::InSync => 0,
            Outcome::Drift | Outcome::TargetFailure => 1,
            Outcome::ScanFailure
            | Outcome::BadConfig
            | Outcome::UnknownFlag
            | Outcome::MissingEnv
            | Outcome::BadEnvValue
            | Outcome::PushDenied
            | Outcome::InvalidBundle => 2,
        }
    }
}

/// A PostgreSQL URL nothing listens on.
fn closed_postgres(table: bool) -> String {
    let port = driftsync_testkit::free_port();
    let t = if table { "?table=docs" } else { "" };
    format!("postgres://app:pw@127.0.0.1:{port}/nothing{t}")
}

/// An HTTP git remote that answers every request `403 Forbidden`; its URL.
fn forbidding_remote() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    format!("http://127.0.0.1:{port}/owner/repo.git")
}

/// A repository whose sync.yaml has one target with `body` (YAML lines under it).
fn with_target(body: &str) -> Repo {
    let r = Repo::new();
    r.config(&format!("version: \"1.0\"\ntargets:\n  t:\n{body}"));
    r.write("docs/a.md", "a\n");
    r.script("scripts/fail.sh", "exit 3");
    r.commit_all("target");
    r
}

fn sync_target(remote: &str, extra: &str) -> Repo {
    with_target(&format!(
        "    type: sync\n    local: docs/\n    remote: \"{remote}\"\n    outputs: [\"docs/**\"]\n{extra}"
    ))
}

/// A remote directory holding what docs/ holds.
fn remote_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.md"), "a\n").unwrap();
    d
}

fn bundle_repo() -> Repo {
    let r = Repo::new();
    r.write(
        "frameworks/nist/bundle.yaml",
        "name: nist\nversion: 1.0.0\nspec_version: 1\nfiles: [rules.yaml]\n",
    );
    r.write("frameworks/nist/rules.yaml", "rules: [x]\n");
    r
}

/// `out`, which must contain `text` (what the message tells the user to do).
fn says(out: Out, text: &str) -> Out {
    assert!(out.all().contains(text), "no {text:?} in:\n{}", out.all());
    out
}

/// One case: how to set it up, the command line, the outcome it stands for.
struct Case {
    command: &'static str,
    outcome: Outcome,
    run: Box<dyn Fn() -> Out>,
}

fn case(command: &'static str, outcome: Outcome, run: impl Fn() -> Out + 'static) -> Case {
    Case {
        command,
        outcome,
        run: Box::new(run),
    }
}

fn cases() -> Vec<Case> {
    use Outcome::*;
    vec![
        // run and check
        case("run", InSync, || {
            let d = remote_dir();
            let r = sync_target(d.path().to_str().unwrap(), "");
            r.run(&["run"])
        }),
        case("check", InSync, || {
            let d = remote_dir();
            let r = sync_target(d.path().to_str().unwrap(), "");
            let first = r.run(&["run"]);
            assert_eq!(first.code, 0, "{}", first.all());
            r.run(&["check"])
        }),
        case("check", Drift, || {
            let d = remote_dir();
            std::fs::write(d.path().join("b.md"), "new\n").unwrap();
            let r = sync_target(d.path().to_str().unwrap(), "");
            r.run(&["check"])
        }),
        case("run", Drift, || {
            let d = remote_dir();
            std::fs::write(d.path().join("a.md"), "theirs\n").unwrap();
            let r = sync_target(d.path().to_str().unwrap(), "    on_conflict: skip\n");
            r.run(&["run"])
        }),
        case("run", TargetFailure, || {
            with_target("    type: command\n    entrypoint: scripts/fail.sh\n").run(&["run"])
        }),
        case("run", ScanFailure, || {
            sync_target(&closed_postgres(true), "").run(&["run"])
        }),
        case("check", ScanFailure, || {
            sync_target(&closed_postgres(true), "").run(&["check"])
        }),
        // A local side that is a file, not a directory: the scan fails.
        case("run", ScanFailure, || {
            let d = remote_dir();
            let r = with_target(&format!(
                "    type: sync\n    local: notes.md\n    remote: \"{}\"\n",
                d.path().display()
            ));
            r.write("notes.md", "a file\n");
            r.commit_all("a file");
            r.run(&["run"])
        }),
        case("run", BadConfig, || {
            with_target("    type: sync\n    locl: docs/\n").run(&["run"])
        }),
        case("check", BadConfig, || {
            with_target("    type: sync\n    locl: docs/\n").run(&["check"])
        }),
        case("list", BadConfig, || {
            with_target("    type: sync\n    locl: docs/\n").run(&["list"])
        }),
        case("config validate", BadConfig, || {
            with_target("    type: sync\n    locl: docs/\n").run(&["config", "validate"])
        }),
        case("run", UnknownFlag, || {
            Repo::new().run(&["run", "--no-such-flag"])
        }),
        case("check", UnknownFlag, || {
            Repo::new().run(&["check", "--no-such-flag"])
        }),
        case("run", MissingEnv, || {
            sync_target("${DRIFTSYNC_TEST_NEVER_SET}", "").run(&["run"])
        }),
        case("check", MissingEnv, || {
            sync_target("${DRIFTSYNC_TEST_NEVER_SET}", "").run(&["check"])
        }),
        case("matrix", MissingEnv, || {
            sync_target("${DRIFTSYNC_TEST_NEVER_SET}", "").run(&["matrix"])
        }),
        // A duration variable that is not a duration is an error naming it.
        case("run", BadEnvValue, || {
            let d = remote_dir();
            let mut r = sync_target(d.path().to_str().unwrap(), "");
            r.env("DRIFTSYNC_LEASE_TTL", "soon");
            says(r.run(&["run"]), "DRIFTSYNC_LEASE_TTL: `soon`")
        }),
        // A remote that turns the token down: exit 2 with what to do about it.
        case("run", PushDenied, || {
            let mut r = with_target(
                "    type: command\n    direction: pull\n    entrypoint: scripts/pull.sh\n    outputs: [\"data/**\"]\n",
            );
            r.script(
                "scripts/pull.sh",
                "mkdir -p data\necho pulled > data/out.txt",
            );
            r.commit_all("pull script");
            r.git(&["remote", "add", "origin", &forbidding_remote()]);
            r.env("DRIFTSYNC_GIT_TOKEN", "ghs_deniedToken0123456789");
            says(r.run(&["run", "--push"]), "the token may not push")
        }),
        // list reads the file without running what needs the variable.
        case("list", InSync, || {
            sync_target("${DRIFTSYNC_TEST_NEVER_SET}", "").run(&["list"])
        }),
        // sync (ad hoc)
        case("sync", InSync, || {
            let r = Repo::new();
            r.write("a/f", "same\n").write("b/f", "same\n");
            r.run(&["sync", "a", "b"])
        }),
        case("sync", Drift, || {
            let r = Repo::new();
            r.write("a/f", "left\n").write("b/f", "right\n");
            r.run(&["sync", "a", "b", "--on-conflict", "skip"])
        }),
        case("sync", ScanFailure, || {
            let r = Repo::new();
            r.write("a/f", "x\n");
            r.run(&["sync", "a", &closed_postgres(true)])
        }),
        case("sync", UnknownFlag, || {
            Repo::new().run(&["sync", "a", "b", "--no-such-flag"])
        }),
        // bundle
        case("bundle status", InSync, || {
            let r = bundle_repo();
            let i = r.run(&["bundle", "import"]);
            assert_eq!(i.code, 0, "{}", i.all());
            r.run(&["bundle", "status"])
        }),
        case("bundle status", Drift, || {
            bundle_repo().run(&["bundle", "status"])
        }),
        // A stored version whose files changed: the store refuses to overwrite it.
        case("bundle import", TargetFailure, || {
            let r = bundle_repo();
            let i = r.run(&["bundle", "import"]);
            assert_eq!(i.code, 0, "{}", i.all());
            r.write("frameworks/nist/rules.yaml", "rules: [y]\n");
            r.run(&["bundle", "import", "nist"])
        }),
        // A bundle.yaml that does not parse: the same code as a command and as a target.
        case("bundle import", InvalidBundle, || {
            let r = bundle_repo();
            r.write("frameworks/nist/bundle.yaml", "name: [nist\n");
            r.run(&["bundle", "import", "nist"])
        }),
        case("run", InvalidBundle, || {
            let r = with_target(
                "    type: bundle\n    direction: push\n    local: frameworks/\n    database: sqlite://.driftsync/frameworks.db\n",
            );
            r.write("frameworks/nist/bundle.yaml", "name: [nist\n");
            r.commit_all("a broken bundle");
            r.run(&["run"])
        }),
        case("bundle status", ScanFailure, || {
            bundle_repo().run(&["bundle", "--database", &closed_postgres(false), "status"])
        }),
        case("bundle status", UnknownFlag, || {
            Repo::new().run(&["bundle", "status", "--no-such-flag"])
        }),
        // schema
        case("schema check", ScanFailure, || {
            Repo::new().run(&["schema", "check", "--database", &closed_postgres(false)])
        }),
        case("schema check", MissingEnv, || {
            Repo::new().run(&["schema", "check"])
        }),
        case("schema check", UnknownFlag, || {
            Repo::new().run(&["schema", "check", "--no-such-flag"])
        }),
        case("schema lint-migrations", InSync, || {
            let r = Repo::new();
            r.write("m/0001_a.sql", "create table a (id int);\n");
            r.run(&["schema", "lint-migrations", "m"])
        }),
        case("schema lint-migrations", Drift, || {
            let r = Repo::new();
            r.write("m/0001_a.sql", "drop table a;\n");
            r.run(&["schema", "lint-migrations", "m"])
        }),
        case("schema lint-migrations", ScanFailure, || {
            Repo::new().run(&["schema", "lint-migrations", "no-such-dir"])
        }),
        case("schema lint-migrations", UnknownFlag, || {
            Repo::new().run(&["schema", "lint-migrations", "m", "--no-such-flag"])
        }),
        // space
        case("space export", ScanFailure, || {
            Repo::new().run(&[
                "space",
                "export",
                "--database",
                &closed_postgres(true),
                "out",
            ])
        }),
    ]
}

#[test]
fn every_command_and_outcome_has_its_code() {
    let mut wrong = Vec::new();
    for c in cases() {
        let out = (c.run)();
        if out.code != c.outcome.code() {
            wrong.push(format!(
                "driftsync {} ({:?}): exit {}, want {}\n{}",
                c.command,
                c.outcome,
                out.code,
                c.outcome.code(),
                out.all()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
