//! The action's shell scripts, driven with bash as the runner does.
//!
//! `install-driftsync.sh` against a loopback HTTP server serving
//! `<owner>/<repo>/releases/download/v<version>/…` like github.com (a real
//! tar.gz holding a small executable and its `.sha256`), with a hermetic PATH:
//! the tools the script needs, a recording `cargo` (a source build is
//! asserted by its exact arguments, never run) and, where a case says so, a
//! recording `gh`.
//!
//! `run-driftsync.sh` with the real binary on PATH in a temporary repository.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const REPO: &str = "octo/driftsync";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Serves `files` (URL path → body) on loopback, 404 for anything else,
/// and records every requested path.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(files: BTreeMap<String, Vec<u8>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            seen.lock().unwrap().push(path.clone());
            let (status, body) = match files.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"Not Found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    Server { url, requests }
}

fn which(tool: &str) -> PathBuf {
    for dir in ["/usr/local/bin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!("{tool} is not installed; the installer needs it (apt-get install -y {tool})");
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new(which("sha256sum")).arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// A release archive like release.yml makes: a tar.gz holding `driftsync`.
fn archive(dir: &Path, says: &str) -> Vec<u8> {
    let stage = dir.join(format!("stage-{says}"));
    std::fs::create_dir_all(&stage).unwrap();
    let exe = stage.join("driftsync");
    std::fs::write(&exe, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
    let status = Command::new(which("chmod"))
        .arg("755")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(status.success());
    let tgz = dir.join(format!("{says}.tar.gz"));
    let status = Command::new(which("tar"))
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(&stage)
        .arg("driftsync")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(tgz).unwrap()
}

fn asset_path(version: &str, asset: &str) -> String {
    format!("/{REPO}/releases/download/v{version}/{asset}")
}

/// Files of release `version` for the Linux x64 triple (and macOS arm64).
fn release(dir: &Path, version: &str, files: &mut BTreeMap<String, Vec<u8>>) {
    for triple in ["x86_64-unknown-linux-musl", "aarch64-apple-darwin"] {
        let body = archive(dir, &format!("driftsync {version} {triple}"));
        let asset = format!("driftsync-v{version}-{triple}.tar.gz");
        let f = dir.join(&asset);
        std::fs::write(&f, &body).unwrap();
        let sum = format!("{}  {asset}\n", sha256_hex(&f));
        files.insert(asset_path(version, &asset), body);
        files.insert(
            asset_path(version, &format!("{asset}.sha256")),
            sum.into_bytes(),
        );
    }
    // Windows: a zip holding driftsync.exe (here a shell script).
    let stage = dir.join(format!("stage-win-{version}"));
    std::fs::create_dir_all(&stage).unwrap();
    let exe = stage.join("driftsync.exe");
    std::fs::write(
        &exe,
        format!("#!/bin/sh\necho 'driftsync {version} windows'\n"),
    )
    .unwrap();
    let asset = format!("driftsync-v{version}-x86_64-pc-windows-msvc.zip");
    let zip = dir.join(&asset);
    let status = Command::new(which("zip"))
        .arg("-qj")
        .arg(&zip)
        .arg(&exe)
        .status()
        .unwrap();
    assert!(status.success());
    let sum = format!("{}  {asset}\n", sha256_hex(&zip));
    files.insert(asset_path(version, &asset), std::fs::read(&zip).unwrap());
    files.insert(
        asset_path(version, &format!("{asset}.sha256")),
        sum.into_bytes(),
    );
}

struct Fixture {
    dir: tempfile::TempDir,
    server: Server,
}

impl Fixture {
    /// Releases 1.2.3 (the version file's) and 2.0.0; 1.2.3's macOS arm64
    /// archive carries a wrong checksum when `bad_sum`.
    fn new(bad_sum: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut files = BTreeMap::new();
        release(dir.path(), "1.2.3", &mut files);
        release(dir.path(), "2.0.0", &mut files);
        if bad_sum {
            let k = asset_path("1.2.3", "driftsync-v1.2.3-x86_64-unknown-linux-musl.tar.gz");
            files.insert(k, archive(dir.path(), "tampered"));
        }
        let action = dir.path().join("action");
        std::fs::create_dir_all(action.join(".github")).unwrap();
        std::fs::write(action.join(".github/driftsync-version"), "1.2.3\n").unwrap();
        // The hermetic PATH: the tools the installer uses, nothing else.
        let tools = dir.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        for t in [
            "bash",
            "sh",
            "curl",
            "tar",
            "gzip",
            "sha256sum",
            "cut",
            "tr",
            "mktemp",
            "rm",
            "mkdir",
            "cat",
            "uname",
            "chmod",
            "unzip",
        ] {
            std::os::unix::fs::symlink(which(t), tools.join(t)).unwrap();
        }
        let fake = dir.path().join("fake");
        std::fs::create_dir_all(&fake).unwrap();
        let cargo = fake.join("cargo");
        std::fs::write(
            &cargo,
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$CARGO_RECORD\"\n",
        )
        .unwrap();
        Command::new(which("chmod"))
            .arg("755")
            .arg(&cargo)
            .status()
            .unwrap();
        Fixture {
            server: serve(files),
            dir,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Adds a recording `gh` to PATH that exits with `code`.
    fn gh(&self, code: i32) {
        let gh = self.path("fake/gh");
        std::fs::write(
            &gh,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"GH_HOST=$GH_HOST\" \"$@\" > \"$GH_RECORD\"\n\
                 [ {code} = 0 ] || echo 'verification failed: no attestation' >&2\nexit {code}\n"
            ),
        )
        .unwrap();
        Command::new(which("chmod"))
            .arg("755")
            .arg(&gh)
            .status()
            .unwrap();
    }

    fn install(&self, env: &[(&str, &str)]) -> Run {
        let temp = self.path("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let github_path = self.path("github_path");
        let _ = std::fs::remove_file(&github_path);
        let _ = std::fs::remove_file(self.path("cargo.args"));
        let _ = std::fs::remove_file(self.path("gh.args"));
        let path = format!(
            "{}:{}",
            self.path("fake").display(),
            self.path("tools").display()
        );
        let mut c = Command::new(which("bash"));
        c.arg(root().join(".github/scripts/install-driftsync.sh"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTION_PATH", self.path("action"))
            .env("GITHUB_PATH", &github_path)
            .env("RUNNER_TEMP", &temp)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("ACTION_REPOSITORY", REPO)
            .env("GH_SERVER", &self.server.url)
            .env("CARGO_RECORD", self.path("cargo.args"))
            .env("GH_RECORD", self.path("gh.args"));
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        Run {
            out,
            cargo: std::fs::read_to_string(self.path("cargo.args")).ok(),
            gh: std::fs::read_to_string(self.path("gh.args")).ok(),
            github_path: std::fs::read_to_string(&github_path).ok(),
            bin: temp.join("driftsync/bin/driftsync"),
        }
    }

    fn requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.server.requests.lock().unwrap())
    }

    fn source_build_args(&self) -> String {
        format!(
            "install\n--locked\n--root\n{}\n--path\n{}\n--bin\ndriftsync\n",
            self.path("runner-temp/driftsync").display(),
            self.path("action").display()
        )
    }
}

struct Run {
    out: Output,
    cargo: Option<String>,
    gh: Option<String>,
    github_path: Option<String>,
    bin: PathBuf,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn all(&self) -> String {
        format!(
            "{}{}",
            self.stdout(),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn installed(&self) -> String {
        let out = Command::new(&self.bin).output().unwrap_or_else(|e| {
            panic!(
                "{} not installed ({e}):\n{}",
                self.bin.display(),
                self.all()
            )
        });
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

const LINUX_ASSET: &str = "driftsync-v1.2.3-x86_64-unknown-linux-musl.tar.gz";

#[test]
fn install_tag_sha_and_branch_refs_all_download_the_version_files_release() {
    let f = Fixture::new(false);
    for action_ref in [
        "v9.9.9",
        "0123456789abcdef0123456789abcdef01234567",
        "main",
        "",
    ] {
        let r = f.install(&[("ACTION_REF", action_ref)]);
        assert_eq!(r.code(), Some(0), "ref {action_ref}:\n{}", r.all());
        assert_eq!(
            f.requests(),
            vec![
                asset_path("1.2.3", LINUX_ASSET),
                asset_path("1.2.3", &format!("{LINUX_ASSET}.sha256")),
            ],
            "ref {action_ref}"
        );
        assert_eq!(r.installed(), "driftsync 1.2.3 x86_64-unknown-linux-musl");
        assert_eq!(
            r.github_path.as_deref(),
            Some(format!("{}\n", r.bin.parent().unwrap().display()).as_str())
        );
        assert_eq!(r.cargo, None, "no source build:\n{}", r.all());
        let out = r.stdout();
        assert!(
            out.contains("Checksum of driftsync-v1.2.3-x86_64-unknown-linux-musl.tar.gz verified"),
            "{out}"
        );
        assert!(
            out.contains("::notice::build provenance of driftsync-v1.2.3-x86_64-unknown-linux-musl.tar.gz not verified: the GitHub CLI (gh) is not installed"),
            "{out}"
        );
        assert!(!out.contains("::warning::"), "{out}");
    }
}

#[test]
fn install_version_input_overrides_the_version_file_with_or_without_v() {
    let f = Fixture::new(false);
    for v in ["2.0.0", "v2.0.0"] {
        let r = f.install(&[("DRIFTSYNC_VERSION", v)]);
        assert_eq!(r.code(), Some(0), "{}", r.all());
        assert_eq!(r.installed(), "driftsync 2.0.0 x86_64-unknown-linux-musl");
        assert_eq!(
            f.requests()[0],
            asset_path("2.0.0", "driftsync-v2.0.0-x86_64-unknown-linux-musl.tar.gz")
        );
    }
    let r = f.install(&[("DRIFTSYNC_VERSION", "main")]);
    assert_eq!(r.code(), Some(2), "{}", r.all());
    assert!(r
        .stdout()
        .contains("::error::'main' from the version input is not a version"));
    assert!(f.requests().is_empty());
}

#[test]
fn install_picks_the_asset_of_the_runner() {
    let f = Fixture::new(false);
    let r = f.install(&[("RUNNER_OS", "macOS"), ("RUNNER_ARCH", "ARM64")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert_eq!(r.installed(), "driftsync 1.2.3 aarch64-apple-darwin");
    // Windows: the zip, unpacked into the same folder.
    let r = f.install(&[("RUNNER_OS", "Windows"), ("RUNNER_ARCH", "X64")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    let exe = r.bin.with_file_name("driftsync.exe");
    // (Windows has no executable bit; run the stand-in with sh.)
    let out = Command::new("sh").arg(&exe).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "driftsync 1.2.3 windows"
    );
    // Linux arm64 is released too: its asset name is what the download asks
    // for (missing on this server, so a source build).
    f.requests();
    let r = f.install(&[("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "ARM64")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert_eq!(
        f.requests(),
        vec![asset_path(
            "1.2.3",
            "driftsync-v1.2.3-aarch64-unknown-linux-musl.tar.gz"
        )]
    );
    assert!(r.cargo.is_some());
}

#[test]
fn install_failed_download_warns_with_url_and_status_then_builds_from_source() {
    let f = Fixture::new(false);
    std::fs::write(f.path("action/.github/driftsync-version"), "1.2.4\n").unwrap();
    let r = f.install(&[]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    let url = format!(
        "{}{}",
        f.server.url,
        asset_path("1.2.4", "driftsync-v1.2.4-x86_64-unknown-linux-musl.tar.gz")
    );
    let warning =
        format!("::warning::building driftsync from source: download of {url} failed: HTTP 404\n");
    assert!(
        r.stdout().contains(&warning),
        "want {warning}in\n{}",
        r.all()
    );
    assert_eq!(r.cargo.as_deref(), Some(f.source_build_args().as_str()));
    assert!(r.github_path.is_some());
}

#[test]
fn install_never_from_source_makes_a_failed_download_an_error() {
    let f = Fixture::new(false);
    std::fs::write(f.path("action/.github/driftsync-version"), "1.2.4\n").unwrap();
    let r = f.install(&[("DRIFTSYNC_FROM_SOURCE", "never")]);
    assert_eq!(r.code(), Some(1), "{}", r.all());
    assert!(
        r.stdout()
            .contains("::error::driftsync not installed: download of ")
            && r.stdout()
                .contains("failed: HTTP 404 (DRIFTSYNC_FROM_SOURCE=never)"),
        "{}",
        r.all()
    );
    assert_eq!(r.cargo, None);
    assert_eq!(r.github_path, None);
}

#[test]
fn install_always_from_source_downloads_nothing() {
    let f = Fixture::new(false);
    let r = f.install(&[("DRIFTSYNC_FROM_SOURCE", "always")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert!(f.requests().is_empty());
    assert_eq!(r.cargo.as_deref(), Some(f.source_build_args().as_str()));
    assert!(!r.stdout().contains("::warning::"), "asked for: no warning");
    let r = f.install(&[("DRIFTSYNC_FROM_SOURCE", "sometimes")]);
    assert_eq!(r.code(), Some(2));
    assert!(r
        .stdout()
        .contains("::error::DRIFTSYNC_FROM_SOURCE must be auto, never or always, not 'sometimes'"));
}

#[test]
fn install_checksum_mismatch_is_an_error_not_a_fallback() {
    let f = Fixture::new(true);
    let r = f.install(&[]);
    assert_eq!(r.code(), Some(1), "{}", r.all());
    assert!(
        r.stdout().contains(
            "::error::checksum mismatch for driftsync-v1.2.3-x86_64-unknown-linux-musl.tar.gz"
        ),
        "{}",
        r.all()
    );
    assert_eq!(r.cargo, None);
    assert_eq!(r.github_path, None);
    assert!(!r.bin.exists());
}

#[test]
fn install_unsupported_platform_warns_naming_it() {
    let f = Fixture::new(false);
    let r = f.install(&[("RUNNER_OS", "macOS"), ("RUNNER_ARCH", "X64")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert!(
        r.stdout().contains("::warning::building driftsync from source: Intel macOS (macOS/X64) has no release binary: driftsync releases Linux x64/arm64, macOS arm64 and Windows x64"),
        "{}",
        r.all()
    );
    assert_eq!(r.cargo.as_deref(), Some(f.source_build_args().as_str()));
    let r = f.install(&[("RUNNER_ARCH", "ARM")]);
    assert!(
        r.stdout()
            .contains("::warning::building driftsync from source: Linux/ARM has no release binary"),
        "{}",
        r.all()
    );
    let r = f.install(&[("RUNNER_ARCH", "ARM"), ("DRIFTSYNC_FROM_SOURCE", "never")]);
    assert_eq!(r.code(), Some(1));
    assert!(r
        .stdout()
        .contains("::error::driftsync not installed: Linux/ARM has no release binary"));
    assert!(f.requests().is_empty(), "nothing to download");
}

#[test]
fn install_verifies_the_attestation_when_gh_and_a_token_are_there() {
    let f = Fixture::new(false);
    f.gh(0);
    let r = f.install(&[("GH_TOKEN", "ghs_faketoken")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    let gh = r.gh.clone().expect("gh was run");
    let lines: Vec<&str> = gh.lines().collect();
    let host = f.server.url.trim_start_matches("http://");
    assert_eq!(lines[0], format!("GH_HOST={host}"));
    assert_eq!(&lines[1..3], ["attestation", "verify"]);
    assert!(lines[3].ends_with(&format!("/{LINUX_ASSET}")), "{gh}");
    assert_eq!(&lines[4..], ["--repo", REPO]);
    assert!(r.stdout().contains(&format!(
        "Build provenance of {LINUX_ASSET} verified (gh attestation verify --repo {REPO})"
    )));
    assert!(!r.all().contains("ghs_faketoken"));

    // No token: a visible notice, still installed.
    let r = f.install(&[]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert_eq!(r.gh, None);
    assert!(r.stdout().contains(&format!(
        "::notice::build provenance of {LINUX_ASSET} not verified: no token for gh"
    )));

    // A failed verification is an error, and nothing is installed.
    f.gh(1);
    let r = f.install(&[("GH_TOKEN", "ghs_faketoken")]);
    assert_eq!(r.code(), Some(1), "{}", r.all());
    assert!(r.stdout().contains("verification failed: no attestation"));
    assert!(r.stdout().contains(&format!(
        "::error::build provenance of {LINUX_ASSET} could not be verified against {REPO}"
    )));
    assert_eq!(r.github_path, None);
    assert_eq!(r.cargo, None);
}

#[test]
fn install_version_file_matches_the_workspace_version() {
    let file = std::fs::read_to_string(root().join(".github/driftsync-version")).unwrap();
    assert_eq!(
        file.trim(),
        env!("CARGO_PKG_VERSION"),
        ".github/driftsync-version must name the version in Cargo.toml: the action installs release v<that>"
    );
    assert_eq!(file, format!("{}\n", file.trim()), "one line");
}

// ---- run-driftsync.sh with the real binary ----

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A repository with one pull target that writes `out.txt`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join(".driftsync")).unwrap();
    std::fs::write(
        d.join(".driftsync/sync.yaml"),
        "version: \"1.0\"\ntargets:\n  facts:\n    type: command\n    direction: pull\n    \
         entrypoint: ./pull.sh\n    outputs: [\"out.txt\"]\n",
    )
    .unwrap();
    std::fs::write(d.join("pull.sh"), "#!/bin/sh\necho fact > out.txt\n").unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(d.join("pull.sh"))
        .status()
        .unwrap();
    std::fs::write(d.join("out.txt"), "fact\n").unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(
        d,
        &["-c", "user.name=t", "-c", "user.email=t@e", "add", "-A"],
    );
    git(
        d,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "init",
        ],
    );
    dir
}

fn run_script(dir: &Path, env: &[(&str, &str)]) -> Output {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_driftsync"));
    let path = format!(
        "{}:{}",
        exe.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("bash");
    c.arg(root().join(".github/scripts/run-driftsync.sh"))
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_TOKEN")
        .env_remove("CI");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn run_script_check_with_dry_run_is_a_check_with_a_notice() {
    let repo = repo();
    let out = run_script(
        repo.path(),
        &[("INPUT_COMMAND", "check"), ("INPUT_DRY_RUN", "true")],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("::notice::dry-run has no effect on check: check already changes nothing"),
        "{text}"
    );
    assert!(text.contains("driftsync check --ci\n"), "{text}");
    assert!(!text.contains("--dry-run"), "{text}");
}

#[test]
fn run_script_maps_pull_request_mode_and_comment_inputs() {
    let repo = repo();
    // The printed command line, then driftsync's own verdict on its flags.
    let out = run_script(
        repo.path(),
        &[
            ("INPUT_COMMAND", "run"),
            ("INPUT_MODE", "pull-request"),
            ("INPUT_PR_LABELS", "driftsync, automated"),
            ("INPUT_PR_REVIEWERS", "octocat,hubot"),
            ("INPUT_PR_DRAFT", "true"),
            ("INPUT_PR_AUTO_MERGE", "squash"),
            ("INPUT_DRY_RUN", "true"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "driftsync run --ci --dry-run --pull-request --pr-label driftsync --pr-label automated \
             --pr-reviewer octocat --pr-reviewer hubot --pr-draft --pr-auto-merge squash\n"
        ),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (env, err) in [
        (
            vec![("INPUT_COMMAND", "check"), ("INPUT_MODE", "pull-request")],
            "::error::the input mode: pull-request applies to command run, not to 'check'",
        ),
        (
            vec![("INPUT_COMMAND", "run"), ("INPUT_PR_LABELS", "x")],
            "::error::the inputs pr-labels, pr-reviewers, pr-draft and pr-auto-merge need mode: pull-request",
        ),
        (
            vec![("INPUT_COMMENT", "sometimes")],
            "::error::the input comment must be true, false or merged, not 'sometimes'",
        ),
        (
            vec![("INPUT_VERIFY", "yes")],
            "::error::the input verify must be \"true\" or \"false\", not 'yes'",
        ),
        (
            vec![
                ("INPUT_COMMAND", "run"),
                ("INPUT_MODE", "pull-request"),
                ("INPUT_PR_AUTO_MERGE", "fast-forward"),
            ],
            "::error::the input pr-auto-merge must be merge, squash, rebase or empty, not 'fast-forward'",
        ),
    ] {
        let out = run_script(repo.path(), &env);
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(err),
            "{env:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn run_script_comment_merged_silences_legs_but_not_report_merge() {
    // DRIFTSYNC_NO_COMMENT is what the binary reads; observe it through a
    // stand-in driftsync that prints its environment.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("driftsync");
    std::fs::write(
        &bin,
        "#!/bin/sh\necho \"no_comment=${DRIFTSYNC_NO_COMMENT:-unset} artifact=${DRIFTSYNC_ARTIFACT_NAME:-unset}\"\n",
    )
    .unwrap();
    Command::new("chmod").arg("755").arg(&bin).status().unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("INPUT_COMMAND", "check"), ("INPUT_COMMENT", "merged")],
            "no_comment=1 artifact=unset",
        ),
        (
            &[
                ("INPUT_COMMAND", "report merge reports --out merged"),
                ("INPUT_COMMENT", "merged"),
            ],
            "no_comment=unset artifact=unset",
        ),
        (
            &[("INPUT_COMMAND", "check"), ("INPUT_COMMENT", "false")],
            "no_comment=1 artifact=unset",
        ),
        (
            &[("INPUT_COMMAND", "check"), ("INPUT_ARTIFACT_NAME", "auto")],
            "no_comment=unset artifact=unset",
        ),
        (
            &[("INPUT_COMMAND", "check"), ("INPUT_ARTIFACT_NAME", "mine")],
            "no_comment=unset artifact=mine",
        ),
    ];
    for (env, want) in cases {
        let mut c = Command::new("bash");
        c.arg(root().join(".github/scripts/run-driftsync.sh"))
            .env("PATH", &path)
            .env_remove("DRIFTSYNC_NO_COMMENT")
            .env_remove("DRIFTSYNC_ARTIFACT_NAME");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{env:?}: {out:?}");
        assert!(stdout.lines().any(|l| l == want), "{env:?}: {stdout}");
    }
}

/// Every step of the example workflows that uses the action passes only
/// inputs `action.yml` declares, and `run-driftsync.sh` accepts them (with
/// the defaults of the others) and prints the driftsync command they mean.
#[test]
fn run_script_accepts_the_inputs_of_every_example_step() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
    let inputs = action["inputs"].as_mapping().unwrap();
    // What the action's run step passes (INPUT_<NAME>), with its defaults.
    let defaults: BTreeMap<String, String> = inputs
        .iter()
        .map(|(k, v)| {
            let d = v["default"].as_str().unwrap_or("").to_string();
            (k.as_str().unwrap().to_string(), d)
        })
        .collect();
    // Expressions stand for what a run gives them.
    let sample = |key: &str| match key {
        "verify" => "true",
        "dry-run" => "false",
        "target" => "a*",
        _ => "",
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("driftsync");
    std::fs::write(&bin, "#!/bin/sh\nexit 0\n").unwrap();
    Command::new("chmod").arg("755").arg(&bin).status().unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let mut seen = Vec::new();
    for e in std::fs::read_dir(root().join("examples/workflows")).unwrap() {
        let file = e.unwrap().path();
        let wf: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (job, j) in wf["jobs"].as_mapping().unwrap() {
            for step in j["steps"].as_sequence().unwrap() {
                let Some(uses) = step["uses"].as_str() else {
                    continue;
                };
                if !uses.starts_with("driftsync/driftsync@") {
                    continue;
                }
                let mut values = defaults.clone();
                for (k, v) in step["with"].as_mapping().unwrap() {
                    let k = k.as_str().unwrap();
                    assert!(
                        defaults.contains_key(k),
                        "{}: job {job:?} passes {k}, which action.yml does not declare",
                        file.display()
                    );
                    let v = v.as_str().unwrap();
                    let v = if v.contains("${{") { sample(k) } else { v };
                    values.insert(k.to_string(), v.to_string());
                }
                let mut c = Command::new("bash");
                c.arg(root().join(".github/scripts/run-driftsync.sh"))
                    .env_clear()
                    .env("PATH", &path);
                for (k, v) in &values {
                    c.env(format!("INPUT_{}", k.to_uppercase().replace('-', "_")), v);
                }
                let out = c.output().unwrap();
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                assert!(
                    out.status.success(),
                    "{} job {job:?}: {stdout}",
                    file.display()
                );
                seen.push(stdout.lines().last().unwrap_or("").to_string());
            }
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "driftsync check --ci",
            "driftsync check --ci --target a*",
            "driftsync matrix --ci",
            "driftsync report merge reports --out merged --ci",
            "driftsync run --ci --target a* --verify --pull-request --pr-label driftsync --pr-label automated",
            "driftsync run --ci --target a* --verify --push",
            "driftsync schema lint-migrations --ci supabase/migrations --since HEAD^1 --fail-on high",
        ]
    );
}

#[test]
fn install_without_a_repository_or_a_version_says_why_it_builds() {
    let f = Fixture::new(false);
    let r = f.install(&[("ACTION_REPOSITORY", "")]);
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert!(
        r.stdout().contains(
            "::warning::building driftsync from source: the action's repository is unknown (a local action, uses: ./)"
        ),
        "{}",
        r.all()
    );
    assert_eq!(r.cargo.as_deref(), Some(f.source_build_args().as_str()));
    std::fs::remove_file(f.path("action/.github/driftsync-version")).unwrap();
    let r = f.install(&[]);
    assert!(
        r.stdout().contains(&format!(
            "::warning::building driftsync from source: no version: {} is missing and the version input is empty",
            f.path("action/.github/driftsync-version").display()
        )),
        "{}",
        r.all()
    );
    assert!(f.requests().is_empty());
}
