//! The scenario runner: `tests/scenarios/<case>/` folders, replayed against
//! a local left side and ANY replica for the right side (feature `scenarios`).
//!
//! A case folder holds:
//! - `left/`, `right/` — the initial trees (optional; absent = empty);
//! - `case.txt` — a script, one command a line (`#` starts a comment):
//!   - `sync` — a run with default options that must come out clean (sets up the base);
//!   - `left write PATH [@SECONDS] TEXT` — write TEXT (`\n` escapes allowed) with that mtime;
//!   - `left delete PATH`, and the same for `right`;
//!   - `run OUTCOME [FLAGS]` — the run under test; OUTCOME is `clean`, `conflicts`,
//!     `blocked` or `dry-run`; FLAGS: `--on-conflict P`, `--direction D`,
//!     `--max-delete N`, `--force`, `--delete-orphans`, `--dry-run`. The plan
//!     it prints must equal `plan.txt` (first `run`), `plan-2.txt` (second)…;
//! - `expected/left/`, `expected/right/` — both trees after the script.
//!
//! Initial files have mtime 1600000000 s; writes without `@` get later,
//! increasing mtimes. The keep-both stamp is the literal `STAMP`. After a
//! `clean` run, a further run must plan nothing; a `dry-run` must leave both
//! trees and the state file byte-identical. `DRIFTSYNC_BLESS=1` rewrites the
//! expected files from what happened (review the diff before committing).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use driftsync_core::{Policy, RelPath};
use driftsync_replica::local::LocalReplica;
use driftsync_replica::{Expect, Replica, ScanRequest, WriteMeta};

use crate::{sync, Silent, SyncOptions};

/// Makes a fresh, empty replica for the right side.
pub type Factory<'a> = &'a dyn Fn() -> Box<dyn Replica>;

const T0: i64 = 1_600_000_000;

/// Every case folder under `root`, sorted.
pub fn cases(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.txt").is_file())
        .collect();
    out.sort();
    out
}

/// Run every case under `root` with `make_right` for the right side; panics listing every failure.
pub fn run_all(root: &Path, make_right: Factory<'_>) {
    let all = cases(root);
    assert!(
        !all.is_empty(),
        "no scenario folders under {}",
        root.display()
    );
    let failures: Vec<String> = all
        .iter()
        .filter_map(|c| {
            run_case(c, make_right)
                .err()
                .map(|e| format!("{}: {e}", c.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&p).expect("readable fixture"));
            }
        }
    }
    out
}

fn contents(r: &dyn Replica) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let scan = r.scan(&ScanRequest::default()).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for (p, _) in scan.snapshot.iter() {
        let mut buf = Vec::new();
        r.read(p)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        out.insert(p.to_string(), buf);
    }
    Ok(out)
}

fn put(r: &dyn Replica, path: &str, content: &[u8], mtime_s: i64) -> Result<(), String> {
    let p = RelPath::new(path).map_err(|e| e.to_string())?;
    let meta = WriteMeta {
        size: content.len() as u64,
        hash: driftsync_core::Hash::of(content),
        mtime_ns: mtime_s * 1_000_000_000,
        executable: false,
    };
    r.write(&p, &mut &content[..], &meta, &Expect::Any)
        .map(|_| ())
        .map_err(|e| format!("{path}: {e}"))
}

fn write_tree(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).expect("create expected dir");
    for (p, c) in files {
        let dest = dir.join(p);
        fs::create_dir_all(dest.parent().expect("parent")).expect("create dir");
        fs::write(dest, c).expect("write expected file");
    }
}

fn show(m: &BTreeMap<String, Vec<u8>>) -> String {
    m.iter()
        .map(|(k, v)| format!("  {k}: {:?}\n", String::from_utf8_lossy(v)))
        .collect()
}

fn options(flags: &[&str], dir: &Path) -> Result<SyncOptions, String> {
    let mut o = SyncOptions::new(
        dir.join(".driftsync/state/case.json"),
        dir.join(".driftsync"),
    );
    o.plan.stamp = "STAMP".into();
    o.retry_delay_ms = 10;
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        let mut val = || it.next().copied().ok_or(format!("{f} needs a value"));
        match *f {
            "--on-conflict" => o.plan.policy = val()?.parse::<Policy>()?,
            "--direction" => o.plan.direction = val()?.parse()?,
            "--max-delete" => o.limits.max_delete = val()?.parse()?,
            "--force" => o.force = true,
            "--delete-orphans" => o.plan.delete_orphans = true,
            "--dry-run" => o.dry_run = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

/// Run one case folder; `Err` says what differed.
pub fn run_case(case: &Path, make_right: Factory<'_>) -> Result<(), String> {
    let bless = std::env::var_os("DRIFTSYNC_BLESS").is_some();
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let left = LocalReplica::new(tmp.path().join("left"));
    let right = make_right();
    let sides: [&dyn Replica; 2] = [&left, &*right];
    for (i, name) in ["left", "right"].iter().enumerate() {
        for (p, c) in files_under(&case.join(name)) {
            put(sides[i], &p, &c, T0)?;
        }
    }
    let script = fs::read_to_string(case.join("case.txt")).map_err(|e| e.to_string())?;
    let mut clock = T0 + 100;
    let mut runs = 0;
    for (n, raw) in script.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |msg: String| format!("case.txt:{}: {msg}", n + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            ["sync"] => {
                let o = options(&[], tmp.path()).map_err(at)?;
                let out = sync(&left, &*right, &o, &Silent).map_err(|e| at(e.to_string()))?;
                if !out.clean() {
                    return Err(at(format!("setup sync not clean:\n{}", out.plan.render())));
                }
            }
            [side @ ("left" | "right"), "delete", path] => {
                let r = sides[usize::from(side == "right")];
                let p = RelPath::new(path).map_err(|e| at(e.to_string()))?;
                r.remove(&p, &Expect::Any).map_err(|e| at(e.to_string()))?;
            }
            [side @ ("left" | "right"), "write", path, ..] => {
                let r = sides[usize::from(side == "right")];
                let rest = line.splitn(4, ' ').nth(3).unwrap_or("");
                let (mtime, text) = match rest.strip_prefix('@') {
                    Some(r) => {
                        let (s, t) = r.split_once(' ').unwrap_or((r, ""));
                        (s.parse::<i64>().map_err(|e| at(e.to_string()))?, t)
                    }
                    None => {
                        clock += 1;
                        (clock, rest)
                    }
                };
                put(r, path, text.replace("\\n", "\n").as_bytes(), mtime).map_err(at)?;
            }
            ["run", outcome, ref flags @ ..] => {
                runs += 1;
                let o = options(flags, tmp.path()).map_err(at)?;
                let before = (
                    contents(&left)?,
                    contents(&*right)?,
                    fs::read(&o.state_file).ok(),
                );
                let out = sync(&left, &*right, &o, &Silent).map_err(|e| at(e.to_string()))?;
                let plan_file = case.join(if runs == 1 {
                    "plan.txt".to_string()
                } else {
                    format!("plan-{runs}.txt")
                });
                let rendered = out.plan.render();
                if bless {
                    fs::write(&plan_file, &rendered).map_err(|e| e.to_string())?;
                }
                let want = fs::read_to_string(&plan_file).unwrap_or_default();
                if rendered != want {
                    return Err(at(format!(
                        "plan differs\n--- expected\n{want}--- got\n{rendered}"
                    )));
                }
                let got = if out.dry_run {
                    "dry-run"
                } else if out.blocked.is_some() {
                    "blocked"
                } else if out.conflicts_left() > 0 {
                    "conflicts"
                } else if out.clean() {
                    "clean"
                } else {
                    "failed"
                };
                if got != outcome {
                    return Err(at(format!(
                        "outcome {got}, expected {outcome} ({:?}; {:?})",
                        out.blocked,
                        out.records()
                    )));
                }
                if got == "dry-run" || got == "blocked" {
                    let after = (
                        contents(&left)?,
                        contents(&*right)?,
                        fs::read(&o.state_file).ok(),
                    );
                    if after != before {
                        return Err(at(format!("{got} run changed files or state")));
                    }
                }
                if got == "clean" {
                    let again = sync(&left, &*right, &o, &Silent).map_err(|e| at(e.to_string()))?;
                    if !again.plan.is_empty() {
                        return Err(at(format!(
                            "a second run still plans:\n{}",
                            again.plan.render()
                        )));
                    }
                }
            }
            _ => return Err(at(format!("cannot read {line:?}"))),
        }
    }
    let (l, r) = (contents(&left)?, contents(&*right)?);
    if bless {
        write_tree(&case.join("expected/left"), &l);
        write_tree(&case.join("expected/right"), &r);
    }
    let (wl, wr) = (
        files_under(&case.join("expected/left")),
        files_under(&case.join("expected/right")),
    );
    if l != wl || r != wr {
        return Err(format!(
            "trees differ\n--- expected left\n{}--- got left\n{}--- expected right\n{}--- got right\n{}",
            show(&wl),
            show(&l),
            show(&wr),
            show(&r)
        ));
    }
    Ok(())
}
