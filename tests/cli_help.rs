//! `--help` teaches: every command and subcommand of the real binary shows
//! examples. The test walks the whole command tree from `driftsync --help`,
//! so a new command without examples fails it.

mod cli_support;

use std::process::Command;

use cli_support::subcommands;

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(path)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .expect("run driftsync");
    assert!(out.status.success(), "{path:?} --help: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_command_and_subcommand_has_examples() {
    let mut todo = vec![Vec::<String>::new()];
    let mut seen = 0;
    let mut missing = Vec::new();
    while let Some(path) = todo.pop() {
        let text = help(&path);
        seen += 1;
        let examples: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        let name = format!("driftsync {}", path.join(" "));
        if examples.is_empty() {
            missing.push(name.trim().to_string());
        } else {
            // Each example names the program, so it can be copied as is.
            for e in &examples {
                let e = e.trim();
                assert!(
                    e.starts_with('#') || e.contains("driftsync "),
                    "{name}: example {e:?} does not run driftsync"
                );
            }
        }
        for sub in subcommands(&text) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
    }
    assert!(seen >= 30, "walked only {seen} commands");
    assert!(
        missing.is_empty(),
        "no `Examples:` in --help of: {missing:?}"
    );
}
