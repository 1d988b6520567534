//! Loading real configuration texts: what is accepted, and where errors point.

use std::path::Path;

use driftsync_config::{parse, Config, ConfigError, Direction, Entrypoint, TargetKind};

fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some("s3cr3t-value".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("scripts")).unwrap();
    let script = root.path().join("scripts/pull.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.path().join("scripts/noexec.sh"), "#!/bin/sh\n").unwrap();
    parse(text, Path::new(".driftsync/sync.yaml"), root.path(), &env)
}

fn first_error(text: &str) -> (usize, usize, String) {
    let e = load(text).expect_err("config should be rejected");
    let d = &e.diagnostics()[0];
    (
        d.line,
        d.column,
        format!("{} / {}", d.message, d.help.clone().unwrap_or_default()),
    )
}

#[test]
fn a_full_command_config_loads() {
    let c = load(
        r#"version: "1.0"
defaults:
  direction: pull
targets:
  oca_repos:
    type: command
    description: Clone community repos
    entrypoint: scripts/pull.sh
    schedule: "0  2 * * *"
    timeout: 20m
    env: { TOKEN_COPY: "${TOKEN}" }
    outputs: ["addons/oca/**"]
    config: { depth: 1 }
    verification: { command: "ls | wc -l", expected_min: 1 }
  publish:
    type: command
    direction: push
    run: echo hi
    inputs: ["docs/**"]
safety:
  secret_patterns: ["SUPABASE_.*KEY"]
  pre_sync_checks: [{ name: Clean, builtin: git_clean }]
  post_sync_checks: [{ name: Valid, builtin: validate, paths: ["docs/**"] }]
  drift_gates: [{ name: Count, command: "echo 5", min_value: 1 }]
"#,
    )
    .unwrap();
    assert_eq!(c.targets.len(), 2);
    let t = &c.targets[0];
    assert_eq!(t.direction, Direction::Pull);
    assert_eq!(t.schedule.as_ref().unwrap().as_str(), "0 2 * * *");
    let TargetKind::Command(cmd) = &t.kind else {
        panic!("command")
    };
    assert_eq!(
        cmd.entrypoint,
        Entrypoint::Script("scripts/pull.sh".parse().unwrap())
    );
    assert_eq!(cmd.env["TOKEN_COPY"], "s3cr3t-value");
    assert!(!cmd.dry_run, "dry_run defaults to false");
    assert_eq!(c.interpolated.len(), 1);
    assert_eq!(format!("{:?}", c.interpolated[0].value), "Secret(***)");
    assert_eq!(c.targets[1].direction, Direction::Push);
    assert_eq!(c.targets[0].pos.line, 5);
}

#[test]
fn dry_run_is_a_command_target_key() {
    let c = load("targets:\n  a:\n    type: command\n    run: x\n    dry_run: true\n").unwrap();
    let TargetKind::Command(cmd) = &c.targets[0].kind else {
        panic!("command")
    };
    assert!(cmd.dry_run);
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "targets:\n  a:\n    type: command\n    run: x\n    dry_runn: true\n",
            5,
            5,
            "did you mean `dry_run`",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    dry_run: yes please\n",
            5,
            14,
            "write `true` or `false`",
        ),
        (
            "targets:\n  a:\n    type: sync\n    local: d\n    remote: /tmp/x\n    dry_run: true\n",
            6,
            5,
            "belongs to type `command`",
        ),
    ];
    for (text, line, col, want) in cases {
        let (l, c, m) = first_error(text);
        assert_eq!((l, c), (*line, *col), "{text}\n{m}");
        assert!(m.contains(want), "{text}: {m}");
    }
}

#[test]
fn errors_point_at_line_and_column() {
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "targets:\n  a:\n    type: command\n    run: x\n    entrypiont: y\n",
            5,
            5,
            "did you mean `entrypoint`",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    schedule: \"0 25 * * *\"\n",
            5,
            15,
            "hour",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    timeout: ten\n",
            5,
            14,
            "duration",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    outputs: [\"a/[b\"]\n",
            5,
            15,
            "glob",
        ),
        (
            "targets:\n  a:\n    type: command\n    entrypoint: scripts/missing.sh\n",
            4,
            17,
            "does not exist",
        ),
        (
            "targets:\n  a:\n    type: command\n    entrypoint: scripts/noexec.sh\n",
            4,
            17,
            "chmod +x",
        ),
        (
            "targets:\n  a:\n    type: comand\n",
            3,
            11,
            "did you mean `command`",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    env: { A: \"${NOPE}\" }\n",
            5,
            15,
            "NOPE",
        ),
        (
            "targets:\n  a:\n    type: command\n    run: x\n    direction: pul\n",
            5,
            16,
            "did you mean `pull`",
        ),
    ];
    for (text, line, col, want) in cases {
        let (l, c, m) = first_error(text);
        assert_eq!((l, c), (*line, *col), "{text}\n{m}");
        assert!(m.contains(want), "{text}: {m}");
    }
}

#[test]
fn a_sync_target_loads_and_its_mistakes_point_at_the_value() {
    let cfg = load(
        "defaults:\n  on_conflict: keep-both\ntargets:\n  docs:\n    type: sync\n    local: docs/\n    remote: s3://bucket/docs/?token=${TOKEN}\n    include: [\"**/*.md\"]\n    max_delete: 25%\n    concurrency: 4\n",
    )
    .unwrap();
    let TargetKind::Sync(s) = &cfg.targets[0].kind else {
        panic!("not a sync target");
    };
    assert_eq!(s.local.as_str(), "docs");
    assert_eq!(s.remote, "s3://bucket/docs/?token=s3cr3t-value");
    assert_eq!(s.on_conflict, None, "unset: the defaults apply");
    assert_eq!(
        s.max_delete,
        driftsync_core::guard::MaxDelete::Percent(25.0)
    );
    assert_eq!(s.concurrency, 4);
    let counted =
        load("targets:\n  t:\n    type: sync\n    local: a\n    remote: b\n    max_delete: 10\n")
            .unwrap();
    let TargetKind::Sync(s) = &counted.targets[0].kind else {
        panic!()
    };
    assert_eq!(s.max_delete, driftsync_core::guard::MaxDelete::Count(10));
    for (text, line, col, want) in [
        (
            "targets:\n  t:\n    type: sync\n    local: a\n    remote: b\n    on_conflict: coin\n",
            6,
            18,
            "newer, local",
        ),
        (
            "targets:\n  t:\n    type: sync\n    local: a\n    remote: b\n    max_delete: lots\n",
            6,
            17,
            "25%",
        ),
        (
            "targets:\n  t:\n    type: sync\n    local: ../a\n    remote: b\n",
            4,
            12,
            "",
        ),
        (
            "targets:\n  t:\n    type: sync\n    local: a\n    remote: b\n    entrypoint: x.sh\n",
            6,
            5,
            "command",
        ),
    ] {
        let (l, c, msg) = first_error(text);
        assert_eq!((l, c), (line, col), "{text}: {msg}");
        assert!(msg.contains(want), "{text}: {msg}");
    }
    assert!(
        first_error("targets:\n  t:\n    type: sync\n    local: a\n")
            .2
            .contains("no `remote`")
    );
}

#[test]
fn forty_thousand_targets_load_in_file_order() {
    // Correctness only; the timing (once 13 s, now about a second) is in bench/README.md.
    let n = 40_000;
    let mut text = String::from("version: \"1.0\"\ntargets:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  t{i}:\n    type: command\n    run: echo {i}\n    schedule: \"{} 2 * * *\"\n",
            i % 60
        ));
    }
    let c = load(&text).unwrap();
    assert_eq!(c.targets.len(), n);
    for (i, t) in c.targets.iter().enumerate() {
        assert_eq!(t.name, format!("t{i}"));
        assert_eq!(t.pos.line, 3 + 4 * i, "{}", t.name);
        let TargetKind::Command(cmd) = &t.kind else {
            panic!("command")
        };
        assert_eq!(cmd.entrypoint, Entrypoint::Shell(format!("echo {i}")));
        assert_eq!(
            t.schedule.as_ref().unwrap().as_str(),
            format!("{} 2 * * *", i % 60)
        );
    }
    // A mistake in the last target is still placed exactly.
    let bad = text.replace(
        &format!("    run: echo {}\n", n - 1),
        &format!("    run: echo {}\n    timeout: soon\n", n - 1),
    );
    let e = load(&bad).unwrap_err();
    assert_eq!(e.diagnostics().len(), 1, "{e}");
    assert_eq!(e.diagnostics()[0].line, 3 + 4 * (n - 1) + 3, "{e}");
}

#[test]
fn a_target_defined_twice_is_an_error_naming_both_places() {
    let e = load(
        "targets:\n  a:\n    type: command\n    run: x\n  a:\n    type: command\n    run: y\n",
    )
    .unwrap_err();
    let d = &e.diagnostics()[0];
    assert_eq!((d.line, d.column), (5, 3), "{e}");
    assert!(
        d.message
            .contains("target `a` is defined twice (first at .driftsync/sync.yaml:2:3)"),
        "{e}"
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_key() {
    let c = load("\u{feff}version: \"1.0\"\ntargets: {}\n").unwrap();
    assert_eq!(c.version, "1.0");
    let e = driftsync_config::decode(b"a: 1\nb: \xff\n".to_vec(), Path::new("x.yaml")).unwrap_err();
    let d = &e.diagnostics()[0];
    assert_eq!((d.line, d.column), (2, 4), "{e}");
    assert_eq!(
        driftsync_config::decode(b"\xef\xbb\xbfa: 1\n".to_vec(), Path::new("x.yaml")).unwrap(),
        "a: 1\n"
    );
}
