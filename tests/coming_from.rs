//! `docs/coming-from.md` maps the old tools' commands and keys to driftsync's:
//! every command (with its flags) and every sync.yaml key it names in the
//! driftsync column exists, in the real binary's command tree and in
//! `driftsync config schema`.

use std::process::Command;

fn driftsync(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .output()
        .expect("run driftsync")
}

/// The code spans of the driftsync column (the second) of every table row.
fn driftsync_column(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in doc.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let Some(cell) = cells.get(1) else { continue };
        let mut parts = cell.split('`');
        parts.next();
        while let (Some(code), _) = (parts.next(), parts.next()) {
            out.push(code.to_string());
        }
    }
    out
}

/// The schema node a dotted key path leads to (`targets.<name>.retries`).
fn key_exists(schema: &serde_json::Value, path: &str) -> bool {
    let resolve = |v: &serde_json::Value| {
        let mut v = v.clone();
        while let Some(r) = v.get("$ref").and_then(|r| r.as_str()).map(str::to_string) {
            v = schema["$defs"][r.trim_start_matches("#/$defs/")].clone();
        }
        v
    };
    let mut node = resolve(schema);
    for seg in path.split('.') {
        let next = if seg.starts_with('<') {
            node.get("additionalProperties").cloned()
        } else {
            node.get("properties").and_then(|p| p.get(seg)).cloned()
        };
        match next {
            Some(n) => node = resolve(&n),
            None => return false,
        }
    }
    true
}

#[test]
fn every_command_and_key_the_map_names_exists() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/coming-from.md"))
        .expect("docs/coming-from.md");
    let out = driftsync(&["config", "schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (mut commands, mut keys, mut missing) = (0, 0, Vec::new());
    for code in driftsync_column(&doc) {
        if let Some(rest) = code.strip_prefix("driftsync ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let path: Vec<&str> = words
                .iter()
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .copied()
                .filter(|w| !w.starts_with('-'))
                .collect();
            let mut args = path.clone();
            args.push("--help");
            let help = driftsync(&args);
            let text = String::from_utf8_lossy(&help.stdout).into_owned();
            if !help.status.success() {
                missing.push(format!("command `{code}`"));
                continue;
            }
            for flag in words.iter().filter(|w| w.starts_with("--")) {
                if !text.contains(&format!("{flag} ")) && !text.contains(&format!("{flag}\n")) {
                    missing.push(format!("flag {flag} of `{code}`"));
                }
            }
            commands += 1;
        } else if ["version", "defaults", "targets", "safety"]
            .iter()
            .any(|top| code == *top || code.starts_with(&format!("{top}.")))
        {
            if !key_exists(&schema, &code) {
                missing.push(format!("key `{code}`"));
            }
            keys += 1;
        }
    }
    assert!(
        missing.is_empty(),
        "docs/coming-from.md names what does not exist: {missing:#?}"
    );
    assert!(
        commands >= 30 && keys >= 20,
        "the map names {commands} commands and {keys} keys"
    );
}
