//! A small builder for command-line tests: a temporary git repository, files
//! and scripts in it, and the built `driftsync` binary run inside it.
#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;

pub use driftsync_testkit::git;

/// How a run of the binary ended.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Run `driftsync ARGS` in `dir`, outside CI (no GitHub variables, no
/// system or global git configuration), with `env` added.
pub fn run_in(dir: &Path, args: &[&str], env: &[(String, String)]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_driftsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_EVENT_PATH")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run the driftsync binary");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file under `dir` (relative path → bytes), skipping `.driftsync`.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_name() == ".driftsync" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub struct Repo {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Repo {
    /// A fresh repository with one commit; `.driftsync/reports/` ignored.
    pub fn new() -> Repo {
        let dir = driftsync_testkit::temp_repo();
        let r = Repo {
            dir,
            env: Vec::new(),
        };
        r.write(".gitignore", ".driftsync/reports/\n");
        r.commit_all("ignore reports");
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> &Repo {
        let f = self.p(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
        self
    }

    pub fn script(&self, rel: &str, body: &str) -> &Repo {
        self.write(rel, &format!("#!/bin/sh\nset -eu\n{body}\n"));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.p(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn config(&self, yaml: &str) -> &Repo {
        self.write(".driftsync/sync.yaml", yaml)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.p(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.p(rel).exists()
    }

    pub fn commit_all(&self, msg: &str) {
        git(self.path(), &["add", "-A"]);
        git(self.path(), &["commit", "-q", "--allow-empty", "-m", msg]);
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn commits(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    pub fn env(&mut self, k: &str, v: &str) -> &mut Repo {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Run `driftsync ARGS` in the repository, outside CI.
    pub fn run(&self, args: &[&str]) -> Out {
        run_in(self.path(), args, &self.env)
    }

    pub fn report(&self) -> serde_json::Value {
        serde_json::from_str(&self.read(".driftsync/reports/report.json")).unwrap()
    }
}

/// The subcommands listed under `Commands:` in a `--help` text (an indented
/// name, then its summary), `help` left out.
pub fn subcommands(help_text: &str) -> Vec<String> {
    help_text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}
