//! Benchmark: driftsync against rclone on the same S3 server in the same run.
//! Run through `bench/object_vs.sh` (it builds both binaries and says how).
//!
//! One way (a local tree pushed to a bucket prefix): `driftsync sync --direction
//! push --delete-orphans`, with its backups and with `--no-backup`, against
//! `rclone sync` at its defaults and at its fastest for this job
//! (`--fast-list --checksum`). Two ways: driftsync's bidirectional sync
//! against `rclone bisync`. Each tool gets an initial
//! sync into an empty prefix, a re-sync with nothing changed and a re-sync
//! after 1 % of the files were edited (locally; for two-way also 1 % of the
//! objects, written by another S3 client). Equal parallelism: driftsync
//! `--concurrency N`, rclone `--transfers N --checkers N`.
//!
//! Requests are counted by type from the server's own log (moto logs one line
//! per request), so nothing sits between the tools and the server while they
//! are timed. After every step `rclone check` (talking to the server
//! directly, after the counts were taken) confirms the bucket holds the tree.
//!
//! Arguments: FILES (default 10000), CONCURRENCY (default 8). Environment:
//! DRIFTSYNC_BIN (the binary to measure), DRIFTSYNC_BENCH_S3S_FS (run against
//! s3s-fs instead of moto; it logs no requests, so no counts), BENCH_OUT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use driftsync_testkit::s3::{env_for, S3Server, TEST_KEY_ID, TEST_SECRET};

/// Requests by type in a slice of moto's log.
fn counts(log: &str) -> BTreeMap<&'static str, u64> {
    let mut c = BTreeMap::new();
    for line in log.lines() {
        let Some(req) = line.split('"').nth(1) else {
            continue;
        };
        let mut parts = req.split(' ');
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            continue;
        };
        let path = target.split('?').next().unwrap_or("");
        let kind = match method {
            "GET"
                if target.contains("list-type")
                    || path.trim_end_matches('/').matches('/').count() <= 1 =>
            {
                "LIST"
            }
            "GET" => "GET",
            "HEAD" => "HEAD",
            "PUT" => "PUT",
            "POST" => "POST",
            "DELETE" => "DELETE",
            _ => continue,
        };
        *c.entry(kind).or_insert(0) += 1;
    }
    c
}

struct Bench {
    server: S3Server,
    moto: bool,
    out: PathBuf,
    driftsync: PathBuf,
    concurrency: usize,
    files: usize,
    rows: Vec<String>,
}

impl Bench {
    fn log_len(&self) -> usize {
        self.server.log().len()
    }

    /// Run a command, timed; returns wall seconds and the requests it made.
    fn timed(&self, what: &str, cmd: &mut Command) -> (f64, BTreeMap<&'static str, u64>) {
        let before = self.log_len();
        let start = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        let t = start.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // moto writes its log line after answering: give it a moment.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let log = self.server.log();
        (t, counts(&log[before.min(log.len())..]))
    }

    fn rclone(&self, remote_endpoint: &str) -> Command {
        let mut c = Command::new("rclone");
        c.env_remove("AWS_CA_BUNDLE") // rclone 1.60 fails on it when set
            .env("RCLONE_CONFIG_BENCH_TYPE", "s3")
            .env("RCLONE_CONFIG_BENCH_PROVIDER", "Other")
            .env("RCLONE_CONFIG_BENCH_ENDPOINT", remote_endpoint)
            .env("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", TEST_KEY_ID)
            .env("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", TEST_SECRET)
            .env("RCLONE_CONFIG_BENCH_REGION", "us-east-1")
            .env("RCLONE_CONFIG", "/dev/null")
            .current_dir(&self.out);
        c
    }

    fn parallel(&self) -> [String; 4] {
        let n = self.concurrency.to_string();
        ["--transfers".into(), n.clone(), "--checkers".into(), n]
    }

    fn driftsync(&self) -> Command {
        let mut c = Command::new(&self.driftsync);
        c.envs(env_for(&self.server.endpoint(), TEST_KEY_ID, TEST_SECRET))
            .env("CI", "true")
            .current_dir(&self.out);
        c
    }

    /// The bucket prefix holds exactly the local tree (size and MD5).
    fn check(&self, local: &Path, prefix: &str) {
        let out = self
            .rclone(&self.server.endpoint())
            .arg("check")
            .arg(local)
            .arg(format!("bench:bench/{prefix}"))
            .args([
                "--exclude",
                ".driftsync-backup/**",
                "--exclude",
                ".driftsync/**",
                "-q",
            ])
            .output()
            .expect("rclone check");
        assert!(
            out.status.success(),
            "{prefix}: the bucket differs from {}: {}",
            local.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A tool's three runs on a fresh copy of the tree under `prefix`: the
    /// initial sync, no change, then 1 % of the files edited locally (and,
    /// `two_way`, 1 % of the objects by another S3 client); checked after each.
    fn three_steps(
        &mut self,
        tool: &str,
        prefix: &str,
        two_way: bool,
        command: impl Fn(&Bench, &Path, usize) -> Command,
    ) {
        let local = self.out.join(prefix);
        let st = Command::new("cp")
            .arg("-a")
            .arg(self.out.join("src"))
            .arg(&local)
            .status()
            .expect("cp");
        assert!(st.success(), "copying the tree for {tool}");
        let mut steps = Vec::new();
        for step in 0..3 {
            if step == 2 {
                edit_local(&local, self.files, 0);
                if two_way {
                    self.edit_bucket(prefix);
                }
            }
            steps.push(self.timed(tool, &mut command(self, &local, step)));
            self.check(&local, prefix);
        }
        self.row(tool, &steps);
    }

    /// Append a line to every 100th object (other files than [`edit_local`]'s).
    fn edit_bucket(&self, prefix: &str) {
        let keys: Vec<String> = (50..self.files)
            .step_by(100)
            .map(|i| format!("{prefix}/d{:02}/f{i:06}.txt", i % 100))
            .collect();
        self.server.python_eval(&format!(
            "for k in {keys:?}:\n    body = s3.get_object(Bucket='bench', Key=k)['Body'].read()\n    s3.put_object(Bucket='bench', Key=k, Body=body + b'edited in the bucket\\n')"
        ));
    }

    fn row(&mut self, tool: &str, steps: &[(f64, BTreeMap<&'static str, u64>)]) {
        let per_file = |c: &BTreeMap<&'static str, u64>, edited: usize| {
            if !self.moto {
                return "—".to_string();
            }
            let n = edited.max(1) as f64;
            let parts: Vec<String> = c
                .iter()
                .filter(|(_, v)| **v > 0)
                .map(|(k, v)| format!("{k} {:.2}", *v as f64 / n))
                .collect();
            if parts.is_empty() {
                "none".into()
            } else {
                parts.join(", ")
            }
        };
        let edited = self.files / 100;
        self.rows.push(format!(
            "| {tool} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            steps[0].0,
            steps[1].0,
            steps[2].0,
            per_file(&steps[0].1, self.files),
            if self.moto {
                format!("{:?}", steps[1].1).replace('"', "")
            } else {
                "—".into()
            },
            per_file(&steps[2].1, edited),
        ));
        println!("{}", self.rows.last().expect("a row"));
    }
}

/// Write FILES small files (1 byte to 2 KB, 100 folders).
fn make_tree(root: &Path, files: usize) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..files {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = 1 + (seed % 2048) as usize;
        let dir = root.join(format!("d{:02}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&dir).expect("tree folder");
        }
        let line = format!("file {i} {seed:016x}\n");
        let body: String = line.repeat(size / line.len() + 1)[..size].to_string();
        std::fs::write(dir.join(format!("f{i:06}.txt")), body).expect("tree file");
    }
}

/// Append a line to every 100th local file (offset picks a disjoint set).
fn edit_local(root: &Path, files: usize, offset: usize) {
    for i in (offset..files).step_by(100) {
        let p = root.join(format!("d{:02}/f{i:06}.txt", i % 100));
        let mut body = std::fs::read(&p).expect("file to edit");
        body.extend_from_slice(b"edited locally\n");
        std::fs::write(&p, body).expect("edit");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files: usize = args.get(1).map_or(10_000, |s| s.parse().expect("FILES"));
    let concurrency: usize = args.get(2).map_or(8, |s| s.parse().expect("CONCURRENCY"));
    let driftsync = PathBuf::from(std::env::var("DRIFTSYNC_BIN").expect("DRIFTSYNC_BIN"));
    let out = PathBuf::from(std::env::var("BENCH_OUT").unwrap_or_else(|_| "bench/out".into()))
        .join("object_vs");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("bench folder");
    let s3s_fs = std::env::var_os("DRIFTSYNC_BENCH_S3S_FS");
    let server = match &s3s_fs {
        Some(bin) => S3Server::start_s3s_fs(Path::new(bin)),
        None => S3Server::start(),
    };
    server.create_bucket("bench");
    let mut b = Bench {
        server,
        moto: s3s_fs.is_none(),
        out: out.clone(),
        driftsync,
        concurrency,
        files,
        rows: Vec::new(),
    };
    let src = out.join("src");
    make_tree(&src, files);
    println!(
        "{files} files, concurrency {concurrency}, server {}",
        if b.moto { "moto" } else { "s3s-fs" }
    );
    println!("| tool | initial (s) | no change (s) | 1 % edits (s) | requests per file, initial | requests, no change | requests per edited file |");
    println!("|---|---|---|---|---|---|---|");

    let endpoint = b.server.endpoint();
    let n = concurrency.to_string();

    // One way: rclone sync at its defaults, at its fastest, and driftsync push.
    for (tool, prefix, extra) in [
        ("rclone sync (defaults)", "rc-default", &[][..]),
        (
            "rclone sync --fast-list --checksum",
            "rc-fast",
            &["--fast-list", "--checksum"][..],
        ),
    ] {
        b.three_steps(tool, prefix, false, |b, local, _| {
            let mut c = b.rclone(&endpoint);
            c.arg("sync")
                .arg(local)
                .arg(format!("bench:bench/{prefix}"))
                .args(b.parallel())
                .args(extra);
            c
        });
    }
    // driftsync keeps a server-side copy of what it overwrites unless told not to.
    for (tool, prefix, extra) in [
        ("driftsync push", "ds-push", &[][..]),
        (
            "driftsync push --no-backup",
            "ds-nobak",
            &["--no-backup"][..],
        ),
    ] {
        b.three_steps(tool, prefix, false, |b, local, _| {
            let mut c = b.driftsync();
            c.arg("sync")
                .arg(local)
                .arg(format!("s3://bench/{prefix}/"));
            c.args(["--direction", "push", "--delete-orphans"]);
            c.args(["--state", &format!("{prefix}.json"), "--concurrency", &n]);
            c.args(extra);
            c
        });
    }

    // Two ways: 1 % edited locally and 1 % (other files) by another S3 client.
    let workdir = out.join("bisync-work");
    b.three_steps("rclone bisync", "bisync", true, |b, local, step| {
        let mut c = b.rclone(&endpoint);
        c.arg("bisync")
            .arg(local)
            .arg("bench:bench/bisync")
            .args(b.parallel());
        c.arg("--workdir").arg(&workdir);
        if step == 0 {
            c.arg("--resync");
        }
        c
    });
    b.three_steps("driftsync bidirectional", "ds-two", true, |b, local, _| {
        let mut c = b.driftsync();
        c.arg("sync").arg(local).arg("s3://bench/ds-two/");
        c.args(["--state", "two.json", "--concurrency", &n]);
        c
    });
    println!(
        "(load average after: {})",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}
