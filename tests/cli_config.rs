//! Configuration through the binary: every mistake is exit 2 with file:line:column;
//! `config validate`, `config schema` and `list`.

mod cli_support;

use cli_support::Repo;

fn repo_with_script() -> Repo {
    let r = Repo::new();
    r.script("scripts/ok.sh", "echo ok");
    r
}

/// (name, sync.yaml, line, column, text the message must contain)
const MISTAKES: &[(&str, &str, usize, usize, &str)] = &[
    ("unknown top-level key", "version: \"1.0\"\ntargtes: {}\n", 2, 1, "unknown field `targtes`"),
    ("unknown target key", "targets:\n  a:\n    type: command\n    run: x\n    entrypiont: y\n", 5, 5, "did you mean `entrypoint`"),
    ("wrong type", "targets:\n  a:\n    type: command\n    run: x\n    outputs: docs\n", 5, 14, "expected a sequence"),
    ("bad cron", "targets:\n  a:\n    type: command\n    run: x\n    schedule: \"0 2 * *\"\n", 5, 15, "5 fields"),
    ("bad cron range", "targets:\n  a:\n    type: command\n    run: x\n    schedule: \"61 2 * * *\"\n", 5, 15, "minute"),
    ("bad duration", "targets:\n  a:\n    type: command\n    run: x\n    timeout: 20 minutes\n", 5, 14, "bad duration"),
    ("bad glob", "targets:\n  a:\n    type: command\n    run: x\n    outputs: [\"ok/**\", \"docs/[x\"]\n", 5, 24, "not a valid glob"),
    ("missing entrypoint file", "targets:\n  a:\n    type: command\n    entrypoint: scripts/nope.sh\n", 4, 17, "does not exist"),
    ("no entrypoint at all", "targets:\n  a:\n    type: command\n    direction: pull\n", 2, 3, "has no `entrypoint`"),
    ("unknown type", "targets:\n  a:\n    type: sink\n    run: x\n", 3, 11, "unknown target type `sink`"),
    ("missing type", "targets:\n  a:\n    direction: pull\n", 2, 3, "has no `type`"),
    ("bad direction", "targets:\n  a:\n    type: command\n    run: x\n    direction: sideways\n", 5, 16, "unknown direction `sideways`"),
    ("unknown builtin", "targets: {}\nsafety:\n  pre_sync_checks:\n    - name: x\n      builtin: git-clean\n", 5, 16, "did you mean `git_clean`"),
    ("bad secret pattern", "safety:\n  secret_patterns: [\"ok\", \"(unclosed\"]\n", 2, 27, "not a valid regular expression"),
    ("YAML syntax", "targets:\n  a:\n    type: command\n   run: x\n", 4, 4, "did not find expected key"),
    ("bad version", "version: \"2.0\"\n", 1, 10, "unsupported version"),
    ("both entrypoint and run", "targets:\n  a:\n    type: command\n    entrypoint: scripts/ok.sh\n    run: x\n", 5, 5, "not both"),
    ("check with both kinds", "safety:\n  post_sync_checks:\n    - { name: v, builtin: validate, command: 'true' }\n", 3, 37, "both `builtin` and `command`"),
    ("target defined twice", "targets:\n  a:\n    type: command\n    run: x\n  b:\n    type: command\n    run: y\n  a:\n    type: command\n    run: z\n", 8, 3, "target `a` is defined twice (first at .driftsync/sync.yaml:2:3)"),
    ("key written twice", "targets:\n  a:\n    type: command\n    run: x\n    env: { A: \"1\", A: \"2\" }\n", 5, 20, "`A` is written twice in `targets.a.env` (first at .driftsync/sync.yaml:5:12)"),
    ("drift gate without bound", "safety:\n  drift_gates:\n    - name: g\n      command: echo 1\n", 3, 7, "no bound"),
];

#[test]
fn each_config_mistake_exits_2_with_its_line_and_column() {
    let r = repo_with_script();
    let mut failures = Vec::new();
    for (name, yaml, line, col, want) in MISTAKES {
        r.config(yaml);
        for cmd in [&["config", "validate"][..], &["run"], &["list"]] {
            let out = r.run(cmd);
            let at = format!(".driftsync/sync.yaml:{line}:{col}:");
            if out.code != 2
                || !out.stderr.contains(&at)
                || !out.stderr.contains(want)
                || !out.stderr.contains("help:")
            {
                failures.push(format!(
                    "{name} ({cmd:?}): exit {}, want {at} … {want}\n{}",
                    out.code, out.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn several_mistakes_are_reported_together_in_file_order() {
    let r = repo_with_script();
    r.config("targets:\n  a:\n    type: command\n    run: x\n    timeout: 5 parsecs\n  b:\n    type: command\n    run: y\n    schedule: \"0 99 * * *\"\n");
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2);
    let a = out.stderr.find("sync.yaml:5:14").expect(&out.stderr);
    let b = out.stderr.find("sync.yaml:9:15").expect(&out.stderr);
    assert!(a < b);
    assert!(out.stderr.contains("2 problems"));
}

#[test]
fn command_keys_are_accepted_on_a_command_target() {
    let r = repo_with_script();
    r.config("targets:\n  a:\n    type: command\n    run: x\n    env: { A: b }\n    config: { k: [1, 2] }\n");
    assert_eq!(r.run(&["config", "validate"]).code, 0);
}

#[test]
fn validate_accepts_a_good_file_and_config_can_be_given_with_c_and_dir_with_capital_c() {
    let r = repo_with_script();
    r.config(
        "version: \"1.0\"\ntargets:\n  a:\n    type: command\n    entrypoint: scripts/ok.sh\n",
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("valid (1 target(s)"), "{}", out.stdout);
    // From a subdirectory, the config is found by walking up.
    std::fs::create_dir_all(r.p("sub/dir")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(["config", "validate"])
        .current_dir(r.p("sub/dir"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let elsewhere = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .arg("-C")
        .arg(r.path())
        .args(["config", "validate"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .arg("-c")
        .arg(r.p(".driftsync/sync.yaml"))
        .args(["list"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_config_is_exit_2_saying_what_to_create() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(["list"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .driftsync/sync.yaml found"));
}

#[test]
fn schema_is_json_schema_of_the_same_types() {
    let r = Repo::new();
    let out = r.run(&["config", "schema"]);
    assert_eq!(out.code, 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["additionalProperties"], false);
    let target = &v["$defs"]["RawTarget"]["properties"];
    for key in [
        "type",
        "direction",
        "entrypoint",
        "run",
        "outputs",
        "inputs",
        "timeout",
        "verification",
        "dry_run",
    ] {
        assert!(target.get(key).is_some(), "schema lacks targets.*.{key}");
    }
}

#[test]
fn list_shows_targets_with_the_run_filters() {
    let r = repo_with_script();
    r.config("targets:\n  oca_a:\n    type: command\n    direction: pull\n    run: x\n    schedule: '0 2 * * *'\n    description: first\n  oca_b:\n    type: command\n    direction: push\n    run: x\n  other:\n    type: command\n    direction: pull\n    run: x\n");
    let out = r.run(&["list", "--json", "--target", "oca_*"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["name"], "oca_a");
    assert_eq!(v[0]["type"], "command");
    assert_eq!(v[0]["schedule"], "0 2 * * *");
    assert_eq!(v[0]["description"], "first");
    let out = r.run(&["list", "--direction", "pull"]);
    assert!(
        out.stdout.contains("oca_a")
            && out.stdout.contains("other")
            && !out.stdout.contains("oca_b")
    );
    let out = r.run(&["list", "--target", "nope*"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("matches no target"));
}

#[test]
fn every_command_has_help_with_examples() {
    let r = Repo::new();
    for cmd in [
        &["run"][..],
        &["check"],
        &["list"],
        &["config"],
        &["config", "validate"],
        &["config", "schema"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = r.run(&args);
        assert_eq!(out.code, 0);
        assert!(
            out.stdout.contains("Examples:"),
            "{cmd:?} --help has no examples"
        );
    }
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let r = repo_with_script();
    r.config("\u{feff}version: \"1.0\"\ntargets:\n  a:\n    type: command\n    run: echo hi\n");
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("valid (1 target(s)"), "{}", out.all());
}

#[test]
fn a_file_that_is_not_utf8_names_the_line_and_column_of_the_first_bad_byte() {
    let r = repo_with_script();
    // Latin-1 `é` (0xE9) on line 5, after `    run: echo caf` (17 characters).
    let mut bytes =
        b"version: \"1.0\"\ntargets:\n  a:\n    type: command\n    run: echo caf".to_vec();
    bytes.extend([0xE9, b'\n']);
    r.config("");
    std::fs::write(r.p(".driftsync/sync.yaml"), bytes).unwrap();
    for cmd in [&["config", "validate"][..], &["run"], &["list"]] {
        let out = r.run(cmd);
        assert_eq!(out.code, 2, "{cmd:?}: {}", out.all());
        assert!(
            out.stderr.contains(".driftsync/sync.yaml:5:18:")
                && out.stderr.contains("not UTF-8")
                && out.stderr.contains("0xE9")
                && out.stderr.contains("save the file as UTF-8"),
            "{cmd:?}: {}",
            out.stderr
        );
    }
}

/// Unknown keys anywhere in the file are reported together with every other
/// mistake, each at its own line and column (not only the first one serde meets).
#[test]
fn unknown_keys_and_other_mistakes_are_reported_all_at_once() {
    let r = repo_with_script();
    r.config(
        "version: \"1.0\"\ndefaults:\n  bogus: 1\n  dry_runn: true\ntargets:\n  a:\n    direction: sideways\n    run: x\n  b:\n    type: command\n    entrypoint: scripts/ok.sh\n    frobnicate: 2\nsafety:\n  pre_sync_checks:\n    - { name: x, colour: red }\n",
    );
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let want = [
        (":3:3:", "defaults: unknown field `bogus`"),
        (":4:3:", "defaults: unknown field `dry_runn`"),
        (":7:16:", "unknown direction `sideways`"),
        (
            ":12:5:",
            "`frobnicate` is not valid for a target of type `command`",
        ),
        (":15:9:", "check `x` has neither `builtin` nor `command`"),
        (
            ":15:18:",
            "safety.pre_sync_checks.0: unknown field `colour`",
        ),
    ];
    let mut last = 0;
    for (at, text) in want {
        let i = out
            .stderr
            .find(&format!(".driftsync/sync.yaml{at} {text}"))
            .unwrap_or_else(|| panic!("{at} {text} missing:\n{}", out.stderr));
        assert!(i > last || last == 0, "not in file order:\n{}", out.stderr);
        last = i;
    }
    assert!(
        out.stderr.contains("did you mean `dry_run`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("6 problems in the configuration"),
        "{}",
        out.stderr
    );
}

/// A `${VAR}` that is not set is needed only by what runs: `list` and
/// `config validate` work (validate notes it), `run` of a target using it is
/// exit 2 at its line and column, and other targets still run.
#[test]
fn unset_variables_are_needed_only_by_the_targets_that_run() {
    let r = repo_with_script();
    r.config("targets:\n  a:\n    type: command\n    run: echo a\n    env:\n      URL: \"${DRIFTSYNC_TEST_UNSET_VAR}\"\n  b:\n    type: command\n    run: echo b\n");
    let out = r.run(&["config", "validate"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains(".driftsync/sync.yaml:6:12: environment variable `DRIFTSYNC_TEST_UNSET_VAR` is not set; target `a` needs it when it runs"),
        "{}",
        out.stderr
    );
    let out = r.run(&["list"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("a ") && out.stdout.contains("b "),
        "{}",
        out.stdout
    );
    for cmd in [&["run"][..], &["check"], &["run", "--target", "a"]] {
        let out = r.run(cmd);
        assert_eq!(out.code, 2, "{cmd:?}: {}", out.all());
        assert!(
            out.stderr.contains(".driftsync/sync.yaml:6:12: environment variable `DRIFTSYNC_TEST_UNSET_VAR` is not set"),
            "{cmd:?}: {}",
            out.stderr
        );
    }
    let out = r.run(&["run", "--target", "b", "--no-commit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("[b] b"), "{}", out.stdout);
    // Commands that read everything still need every variable.
    let out = r.run(&["matrix"]);
    assert_eq!(out.code, 2, "{}", out.all());
    // A remote or database URL from an unset variable is not checked (or
    // refused) until a run needs it.
    r.config("targets:\n  s:\n    type: sync\n    local: docs/\n    remote: \"${DRIFTSYNC_TEST_BUCKET}\"\n  d:\n    type: schema\n    database: \"${DRIFTSYNC_TEST_DB}\"\n");
    for cmd in [&["config", "validate"][..], &["list"]] {
        let out = r.run(cmd);
        assert_eq!(out.code, 0, "{cmd:?}: {}", out.all());
    }
    let out = r.run(&["run", "--target", "d"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("sync.yaml:8:15: environment variable `DRIFTSYNC_TEST_DB` is not set"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("DRIFTSYNC_TEST_BUCKET"),
        "only what runs: {}",
        out.stderr
    );
}
