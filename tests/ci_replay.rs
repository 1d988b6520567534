//! CI replay: two-way sync as a stateless CI runner does it, round after
//! round, with the failures real jobs meet.
//!
//! A bare origin repository, a remote of each kind (a directory, a bucket
//! on the S3-compatible test server, a SQLite table), and a driver that in
//! every round edits both sides — a developer pushes commits to origin, a
//! user edits the remote — then runs `driftsync run --push` as a CI job
//! would: in a **fresh clone**, killed with SIGKILL at a random moment in
//! some rounds (at an engine crash point: before or after a temp write, a
//! backup, a write, the state rename; or after a random delay, which lands
//! in the scan, the apply, the commit or the push), sometimes as two jobs at
//! once, sometimes with a file on the remote that does not parse. After a
//! final run without faults:
//!
//! - disjoint edits: every path holds its last writer's content on both
//!   sides, and no conflict copy exists;
//! - edits of the same paths on both sides under `keep-both`: both contents
//!   survive on both sides (at the path or in a conflict copy).
//!
//! Rounds are bounded by count (seeded, so a failure replays); the longer
//! soak is `bench/ci_soak.sh`. `DRIFTSYNC_REPLAY_ROUNDS` scales the counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use driftsync_core::{Hash, RelPath};
use driftsync_replica::local::LocalReplica;
use driftsync_replica::{Expect, Replica, ScanRequest, WriteMeta};
use driftsync_testkit::git;
use driftsync_testkit::s3::S3Server;

/// A small deterministic generator (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn rounds(n: usize) -> usize {
    let scale: f64 = std::env::var("DRIFTSYNC_REPLAY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    ((n as f64) * scale).ceil() as usize
}

enum Kind {
    Dir,
    S3,
    Sqlite,
}

/// The remote side: where it is, and a way for the driver to edit it.
struct Remote {
    url: String,
    env: Vec<(String, String)>,
    replica: Box<dyn Replica>,
    _server: Option<S3Server>,
}

impl Remote {
    fn new(kind: Kind, tmp: &Path, name: &str) -> Remote {
        match kind {
            Kind::Dir => {
                let dir = tmp.join("remote");
                std::fs::create_dir_all(&dir).unwrap();
                Remote {
                    url: dir.display().to_string(),
                    env: Vec::new(),
                    replica: Box::new(LocalReplica::new(&dir)),
                    _server: None,
                }
            }
            Kind::S3 => {
                let server = S3Server::start();
                server.create_bucket(name);
                let url = format!("s3://{name}/team/data/");
                let mut env = server.env();
                env.push(("AWS_PROFILE".into(), "none".into()));
                let replica = driftsync_replica_object::ObjectReplica::open_with_env(
                    &url,
                    driftsync_replica_object::ObjectOptions::default(),
                    &env,
                )
                .unwrap_or_else(|e| panic!("open {url}: {e}"));
                Remote {
                    url,
                    env,
                    replica: Box::new(replica),
                    _server: Some(server),
                }
            }
            Kind::Sqlite => {
                let url = format!("sqlite://{}/remote.db?table=docs", tmp.display());
                let replica = driftsync_replica_db::DbReplica::open(&url, tmp)
                    .unwrap_or_else(|e| panic!("open {url}: {e}"));
                Remote {
                    url,
                    env: Vec::new(),
                    replica: Box::new(replica),
                    _server: None,
                }
            }
        }
    }

    fn write(&self, path: &str, content: &str) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64;
        let meta = WriteMeta {
            size: content.len() as u64,
            hash: Hash::of(content.as_bytes()),
            mtime_ns: now,
            executable: false,
        };
        self.replica
            .write(
                &RelPath::new(path).unwrap(),
                &mut content.as_bytes(),
                &meta,
                &Expect::Any,
            )
            .unwrap_or_else(|e| panic!("remote write {path}: {e}"));
    }

    /// The journal the target's runs keep on the remote (for failure reports).
    fn journal(&self) -> String {
        let path = RelPath::new(".driftsync/journal/data.json").unwrap();
        match self.replica.read(&path) {
            Ok(mut r) => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut r, &mut text).unwrap();
                text
            }
            Err(_) => "(none)".into(),
        }
    }

    fn files(&self) -> BTreeMap<String, String> {
        let scan = self
            .replica
            .scan(&ScanRequest::default())
            .unwrap_or_else(|e| panic!("remote scan: {e}"));
        scan.snapshot
            .iter()
            .map(|(p, _)| {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut self.replica.read(p).unwrap(), &mut text)
                    .unwrap();
                (p.to_string(), text)
            })
            .collect()
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Exit(code, text) => write!(f, "exit {code}: {text}"),
            End::Killed(text) => write!(f, "killed after printing: {text}"),
        }
    }
}

/// How a job ended.
#[derive(Debug)]
enum End {
    Exit(i32, String),
    /// Killed, with what it had printed.
    Killed(String),
}

struct World {
    tmp: tempfile::TempDir,
    origin: String,
    dev: PathBuf,
    remote: Remote,
    jobs: usize,
    /// Typical length of a job, for kills after a random delay.
    typical: Duration,
    log: Vec<String>,
}

const CONFIG: &str = "version: \"1.0\"
defaults:
  git_push: true
targets:
  data:
    type: sync
    local: data/
    remote: REMOTE
    direction: bidirectional
    on_conflict: keep-both
    validate: [yaml]
    outputs: [\"data/**\"]
";

impl World {
    fn new(kind: Kind, name: &str, initial: &BTreeMap<String, String>) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let (_, origin) = driftsync_testkit::bare_repo(tmp.path());
        let dev = tmp.path().join("dev");
        git(tmp.path(), &["clone", "-q", &origin, "dev"]);
        git(&dev, &["checkout", "-q", "-b", "main"]);
        let remote = Remote::new(kind, tmp.path(), name);
        let write = |rel: &str, text: &str| {
            let f = dev.join(rel);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        };
        write(
            ".gitignore",
            ".driftsync/reports/\n.driftsync/backup/\n.driftsync/lock\n",
        );
        write(
            ".driftsync/sync.yaml",
            &CONFIG.replace("REMOTE", &remote.url),
        );
        for (p, c) in initial {
            write(&format!("data/{p}"), c);
        }
        git(&dev, &["add", "-A"]);
        git(&dev, &["commit", "-q", "-m", "start"]);
        git(&dev, &["push", "-q", "origin", "main"]);
        World {
            tmp,
            origin,
            dev,
            remote,
            jobs: 0,
            typical: Duration::from_millis(300),
            log: Vec::new(),
        }
    }

    /// A developer's commit of `edits` under data/, pushed to origin.
    fn push_local(&self, edits: &[(String, String)]) {
        git(&self.dev, &["fetch", "-q", "origin"]);
        git(&self.dev, &["reset", "-q", "--hard", "origin/main"]);
        for (p, c) in edits {
            let f = self.dev.join("data").join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        }
        git(&self.dev, &["add", "-A", "data"]);
        git(&self.dev, &["commit", "-q", "-m", "edit data"]);
        git(&self.dev, &["push", "-q", "origin", "main"]);
    }

    /// A fresh clone of origin, as a CI job starts.
    fn clone(&mut self) -> PathBuf {
        self.jobs += 1;
        let name = format!("job-{}", self.jobs);
        git(self.tmp.path(), &["clone", "-q", &self.origin, &name]);
        self.tmp.path().join(name)
    }

    fn command(&self, dir: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftsync"));
        c.args(["run", "--push"])
            .current_dir(dir)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_TOKEN")
            .env_remove("DRIFTSYNC_TEST_CRASH_AT")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.remote.env {
            c.env(k, v);
        }
        c
    }

    /// One CI job; `kill`: none, at the N-th engine crash point, or after a delay.
    fn job(&mut self, kill: Kill) -> End {
        let dir = self.clone();
        let mut c = self.command(&dir);
        if let Kill::CrashPoint(n) = kill {
            c.env("DRIFTSYNC_TEST_CRASH_AT", n.to_string());
        }
        let started = Instant::now();
        let mut child = c.spawn().expect("start driftsync");
        if let Kill::After(d) = kill {
            while started.elapsed() < d {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let end = match out.status.code() {
            Some(code) => {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                if kill == Kill::None && code != 2 {
                    self.typical = (self.typical * 3 + started.elapsed()) / 4;
                }
                End::Exit(code, text)
            }
            None => End::Killed(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )),
        };
        let _ = std::fs::remove_dir_all(&dir);
        self.unlock_origin();
        if let End::Exit(code, text) = &end {
            assert!(
                matches!(code, 0..=2),
                "a job ended with exit {code} (a panic?):\n{text}\n{}",
                self.log.join("\n")
            );
        }
        end
    }

    /// Two jobs at once from two fresh clones.
    fn two_jobs(&mut self) -> (End, End) {
        let (a, b) = (self.clone(), self.clone());
        let (ca, cb) = (self.command(&a).spawn(), self.command(&b).spawn());
        let ends = [ca.unwrap(), cb.unwrap()].map(|child| {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let code = out.status.code().expect("not killed");
            assert!(
                matches!(code, 0..=2),
                "a concurrent job ended with exit {code}:\n{text}"
            );
            End::Exit(code, text)
        });
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
        self.unlock_origin();
        let [x, y] = ends;
        (x, y)
    }

    /// Jobs without faults until one ends in step (exit 0); at most `tries`.
    fn settle(&mut self, tries: usize) {
        let mut last = String::new();
        for _ in 0..tries {
            match self.job(Kill::None) {
                End::Exit(0, _) => return,
                End::Exit(code, text) => last = format!("exit {code}: {text}"),
                End::Killed(_) => unreachable!(),
            }
        }
        panic!(
            "no clean run after {tries} tries; last: {last}\n{}",
            self.log.join("\n")
        );
    }

    /// A job killed in the middle of its push updates the `file://` origin
    /// from its own process and leaves git's ref lock behind; a real git
    /// server is not killed with its client, so the driver clears it.
    fn unlock_origin(&self) {
        let _ = std::fs::remove_file(self.tmp.path().join("origin.git/refs/heads/main.lock"));
    }

    /// The content of data/`path` on origin's main, if it has one.
    fn at_origin(&self, path: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["show", &format!("main:data/{path}")])
            .current_dir(self.tmp.path().join("origin.git"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// What origin's main holds under data/.
    fn committed(&mut self) -> BTreeMap<String, String> {
        let dir = self.clone();
        let mut out = BTreeMap::new();
        let data = dir.join("data");
        let mut stack = vec![data.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(&data)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kill {
    None,
    CrashPoint(u32),
    After(Duration),
}

fn pick_kill(rng: &mut Rng, typical: Duration) -> Kill {
    match rng.below(100) {
        0..=59 => Kill::None,
        60..=79 => Kill::CrashPoint(1 + rng.below(14) as u32),
        _ => Kill::After(typical.mul_f64(rng.below(120) as f64 / 100.0)),
    }
}

fn initial(n: usize) -> BTreeMap<String, String> {
    (0..n)
        .map(|i| (format!("f{i:02}.yaml"), format!("key: start-{i}\n")))
        .collect()
}

/// Disjoint edits on both sides, kills, concurrent jobs and invalid files:
/// after a final clean run every path holds its last writer's content on
/// both sides and no conflict copy exists.
fn disjoint(kind: Kind, name: &str, seed: u64, n_rounds: usize) {
    let mut rng = Rng::new(seed);
    let start = initial(12);
    let mut w = World::new(kind, name, &start);
    w.settle(2);
    let mut expected = start;
    // Paths written on one side that have not reached the other side yet:
    // the other side's users leave them alone (the edits are disjoint).
    let mut local_pending: BTreeSet<String> = BTreeSet::new();
    let mut remote_pending: BTreeSet<String> = BTreeSet::new();
    // Files on the remote that do not parse, and the round each appeared.
    let mut invalid: BTreeMap<String, usize> = BTreeMap::new();
    let (mut kills, mut concurrent, mut leased) = (0, 0, 0);
    for round in 0..n_rounds {
        let mut paths: Vec<String> = expected.keys().cloned().collect();
        paths.push(format!("new/r{round}.yaml"));
        let mut local = Vec::new();
        let mut remote = Vec::new();
        for _ in 0..rng.below(4) {
            let p = paths[rng.below(paths.len() as u64) as usize].clone();
            if !remote_pending.contains(&p) && !remote.iter().any(|(q, _)| q == &p) {
                local.push((
                    p.clone(),
                    format!("key: local-{round}-{}\n", rng.below(1000)),
                ));
            }
        }
        for _ in 0..rng.below(4) {
            let p = paths[rng.below(paths.len() as u64) as usize].clone();
            if !local_pending.contains(&p) && !local.iter().any(|(q, _)| q == &p) {
                remote.push((
                    p.clone(),
                    format!("key: remote-{round}-{}\n", rng.below(1000)),
                ));
            }
        }
        if !local.is_empty() {
            w.push_local(&local);
        }
        for (p, c) in &remote {
            w.remote.write(p, c);
        }
        for (p, c) in local.iter().chain(&remote) {
            expected.insert(p.clone(), c.clone());
        }
        local_pending.extend(local.iter().map(|(p, _)| p.clone()));
        remote_pending.extend(remote.iter().map(|(p, _)| p.clone()));
        // Now and then a file that does not parse lands on the remote; it is
        // fixed there two rounds later.
        if rng.chance(12) {
            let p = format!("broken/b{round}.yaml");
            w.remote.write(&p, "key: [never closed\n");
            invalid.insert(p, round);
        }
        let due: Vec<String> = invalid
            .iter()
            .filter(|(_, r)| **r + 2 <= round)
            .map(|(p, _)| p.clone())
            .collect();
        for p in due {
            let c = format!("key: fixed-{round}\n");
            w.remote.write(&p, &c);
            invalid.remove(&p);
            expected.insert(p.clone(), c);
            remote_pending.insert(p);
        }
        w.log.push(format!(
            "round {round}: local {local:?} remote {remote:?} invalid {:?}",
            invalid.keys().collect::<Vec<_>>()
        ));
        let in_step = if rng.chance(10) {
            concurrent += 1;
            let (a, b) = w.two_jobs();
            for e in [&a, &b] {
                if let End::Exit(2, text) = e {
                    assert!(
                        text.contains("another run is syncing this remote")
                            || text.contains("locked by pid"),
                        "a concurrent job failed for another reason: {text}"
                    );
                    leased += 1;
                }
            }
            w.log.push(format!("  two jobs: {a} / {b}"));
            false
        } else {
            let kill = pick_kill(&mut rng, w.typical);
            let end = w.job(kill);
            if matches!(end, End::Killed(_)) {
                kills += 1;
            }
            w.log.push(format!("  job ({kill:?}): {end}"));
            w.log
                .push(format!("  journal after: {}", w.remote.journal()));
            matches!(end, End::Exit(0, _))
        };
        if in_step {
            local_pending.clear();
            remote_pending.clear();
        } else {
            // An edit that reached the other side — even through a job that
            // was killed before its commit — is what that side's users see
            // and edit next: exactly what the journal must get right.
            let on_remote = w.remote.files();
            local_pending.retain(|p| on_remote.get(p) != expected.get(p));
            remote_pending.retain(|p| w.at_origin(p).as_ref() != expected.get(p));
        }
    }
    for (p, _) in std::mem::take(&mut invalid) {
        let c = "key: fixed at the end\n".to_string();
        w.remote.write(&p, &c);
        expected.insert(p, c);
    }
    w.settle(3);
    let committed = w.committed();
    let remote = w.remote.files();
    let context = w.log.join("\n");
    let copies: Vec<&String> = committed
        .keys()
        .chain(remote.keys())
        .filter(|p| p.contains(".conflict-"))
        .collect();
    if !copies.is_empty() {
        // The rounds that touched those paths first: the log is long.
        let stems: Vec<&str> = copies
            .iter()
            .map(|p| p.split(".conflict-").next().unwrap())
            .collect();
        let related: Vec<&String> = w
            .log
            .iter()
            .filter(|l| stems.iter().any(|s| l.contains(s)))
            .collect();
        panic!("conflict copies: {copies:?}\nrounds that named them: {related:#?}\n{context}");
    }
    for (p, c) in &expected {
        assert_eq!(
            committed.get(p),
            Some(c),
            "{p} in the repository\n{context}"
        );
        assert_eq!(remote.get(p), Some(c), "{p} on the remote\n{context}");
    }
    assert_eq!(
        committed.len(),
        expected.len(),
        "extra files in the repository: {committed:?}"
    );
    assert_eq!(
        remote.len(),
        expected.len(),
        "extra files on the remote: {remote:?}"
    );
    eprintln!(
        "{name}: {n_rounds} rounds, {kills} jobs killed, {concurrent} concurrent pairs ({leased} refused by the lease), {} paths in step",
        expected.len()
    );
}

#[test]
fn disjoint_edits_on_a_directory_remote_survive_kills_and_concurrent_jobs() {
    disjoint(Kind::Dir, "dir", 0xD1, rounds(110));
}

#[test]
fn disjoint_edits_on_a_bucket_survive_kills_and_concurrent_jobs() {
    disjoint(Kind::S3, "bucket", 0x53, rounds(90));
}

#[test]
fn disjoint_edits_on_a_sqlite_table_survive_kills_and_concurrent_jobs() {
    disjoint(Kind::Sqlite, "sqlite", 0x5E, rounds(100));
}

/// Both sides create the same path with different contents in a round,
/// jobs are killed at random: under keep-both both contents survive on both
/// sides, at the path or in a conflict copy of it.
#[test]
fn same_path_edits_keep_both_contents_through_kills() {
    let mut rng = Rng::new(0xC0);
    let mut w = World::new(Kind::Dir, "both", &initial(4));
    w.settle(2);
    let mut written: Vec<(String, String, String)> = Vec::new();
    for round in 0..rounds(30) {
        let p = format!("c{round}.yaml");
        let (l, r) = (
            format!("key: local-{round}\n"),
            format!("key: remote-{round}\n"),
        );
        w.push_local(&[(p.clone(), l.clone())]);
        w.remote.write(&p, &r);
        written.push((p, l, r));
        let kill = pick_kill(&mut rng, w.typical);
        let end = w.job(kill);
        w.log.push(format!("round {round} ({kill:?}): {end}"));
    }
    w.settle(3);
    let committed = w.committed();
    let remote = w.remote.files();
    let context = w.log.join("\n");
    for (side, files) in [("repository", &committed), ("remote", &remote)] {
        for (p, l, r) in &written {
            let stem = p.trim_end_matches(".yaml");
            let holds = |c: &String| {
                files
                    .iter()
                    .any(|(q, v)| v == c && (q == p || q.starts_with(&format!("{stem}.conflict-"))))
            };
            assert!(holds(l), "{side} lost the local content of {p}\n{context}");
            assert!(holds(r), "{side} lost the remote content of {p}\n{context}");
        }
    }
    assert_eq!(
        committed, remote,
        "both sides in step after the final run\n{context}"
    );
}
