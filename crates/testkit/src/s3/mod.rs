//! A throwaway S3-compatible server (moto's server mode) on a free loopback
//! port, and a fault-injecting proxy to put in front of it.
//!
//! moto honours `If-Match` / `If-None-Match` on PutObject, stores user
//! metadata, paginates listings and speaks multipart uploads: the parts of S3
//! driftsync relies on. Install it with `pip install 'moto[server]'`
//! (`bash .ci/install/20-s3-server.sh` does).

mod proxy;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use proxy::{FaultProxy, RequestCounts};

/// Access key the unauthenticated server accepts (any key works there).
pub const TEST_KEY_ID: &str = "testing";
/// Secret key the unauthenticated server accepts.
pub const TEST_SECRET: &str = "testing";

/// A running moto server, killed on drop.
pub struct S3Server {
    child: Option<Child>,
    port: u16,
    key_id: String,
    secret: String,
    log: tempfile::NamedTempFile,
    /// The data folder of a file-system-backed server.
    _root: Option<tempfile::TempDir>,
}

fn require_moto() {
    let ok = Command::new("python3")
        .args(["-c", "import moto.server, flask, boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the S3-compatible test server (moto) is not installed. Install it with \
         `pip install 'moto[server]'` (bash .ci/install/20-s3-server.sh does), then rerun."
    );
}

fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("moto server exited before listening ({status})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto server did not listen on 127.0.0.1:{port} within 60 s");
}

/// boto3 snippet run against the server (setup only: buckets, IAM users).
fn python(endpoint: &str, key: &str, secret: &str, code: &str) -> String {
    let script = format!(
        "import boto3, sys\n\
         def client(service):\n\
         \x20   return boto3.client(service, endpoint_url={endpoint:?}, aws_access_key_id={key:?}, \
         aws_secret_access_key={secret:?}, region_name='us-east-1')\n\
         s3 = client('s3')\n\
         {code}\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("run python3 for S3 test setup");
    assert!(
        out.status.success(),
        "S3 test setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl S3Server {
    /// Start a server that accepts any credentials.
    pub fn start() -> S3Server {
        Self::spawn(None)
    }

    /// Start a server that checks credentials: only the key pair it created
    /// (see [`S3Server::env`]) is accepted; anything else gets 403.
    pub fn start_with_auth() -> S3Server {
        let mut server = Self::spawn(Some(3));
        let out = python(
            &server.endpoint(),
            "setup",
            "setup",
            "iam = client('iam')\n\
             iam.create_user(UserName='ci')\n\
             k = iam.create_access_key(UserName='ci')['AccessKey']\n\
             iam.put_user_policy(UserName='ci', PolicyName='all', PolicyDocument='{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}')\n\
             print(k['AccessKeyId']); print(k['SecretAccessKey'])",
        );
        let mut lines = out.lines();
        server.key_id = lines.next().expect("access key id").to_string();
        server.secret = lines.next().expect("secret key").to_string();
        server
    }

    fn spawn(no_auth_actions: Option<u32>) -> S3Server {
        require_moto();
        let port = crate::free_port();
        let log = tempfile::NamedTempFile::new().expect("moto log file");
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"));
        if let Some(n) = no_auth_actions {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
        }
        let child = cmd.spawn().expect("start python3 -m moto.server");
        S3Server::listening(child, port, log, None)
    }

    /// A started server process, once it accepts connections on `port`.
    fn listening(
        mut child: Child,
        port: u16,
        log: tempfile::NamedTempFile,
        root: Option<tempfile::TempDir>,
    ) -> S3Server {
        wait_for_port(port, &mut child);
        S3Server {
            child: Some(child),
            port,
            key_id: TEST_KEY_ID.into(),
            secret: TEST_SECRET.into(),
            log,
            _root: root,
        }
    }

    /// Start `s3s-fs` (`cargo install s3s-fs --version 0.14.1 --features binary --locked`), a
    /// multi-threaded S3 server written in Rust that keeps objects in a
    /// folder, instead of moto: benchmarks use it to measure the client where
    /// moto's single Python core would be the limit. Accepts the test key pair.
    pub fn start_s3s_fs(bin: &std::path::Path) -> S3Server {
        let port = crate::free_port();
        let log = tempfile::NamedTempFile::new().expect("server log file");
        let root = tempfile::tempdir().expect("server data folder");
        let child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", TEST_KEY_ID, "--secret-key", TEST_SECRET])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {}: {e} (install it with `cargo install s3s-fs --version 0.14.1 --features binary --locked`)",
                    bin.display()
                )
            });
        S3Server::listening(child, port, log, Some(root))
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a client needs: keys, endpoint, region, plain HTTP.
    pub fn env(&self) -> Vec<(String, String)> {
        env_for(&self.endpoint(), &self.key_id, &self.secret)
    }

    /// Create a bucket.
    pub fn create_bucket(&self, name: &str) {
        python(
            &self.endpoint(),
            &self.key_id,
            &self.secret,
            &format!("s3.create_bucket(Bucket={name:?})"),
        );
    }

    /// Put an object with raw bytes and no driftsync metadata (a foreign writer).
    pub fn put_raw(&self, bucket: &str, key: &str, body: &[u8]) {
        put_object(
            &self.endpoint(),
            &self.key_id,
            &self.secret,
            bucket,
            key,
            body,
        );
    }

    /// Every key in a bucket, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let out = python(
            &self.endpoint(),
            &self.key_id,
            &self.secret,
            &format!(
                "p = s3.get_paginator('list_objects_v2')\n\
                 for page in p.paginate(Bucket={bucket:?}):\n\
                 \x20   for o in page.get('Contents', []): print(o['Key'])"
            ),
        );
        let mut keys: Vec<String> = out.lines().map(str::to_string).collect();
        keys.sort();
        keys
    }

    /// Run a boto3 snippet (with `s3` bound to a client) and return what it printed.
    pub fn python_eval(&self, code: &str) -> String {
        python(&self.endpoint(), &self.key_id, &self.secret, code)
    }

    /// CPU time (user + system) the server process has used so far, in
    /// seconds, from `/proc` (benchmarks use it to show when the server is the bottleneck).
    pub fn cpu_seconds(&self) -> f64 {
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return 0.0;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the `(comm)`; utime and stime are the 14th and 15th overall.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let hz = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(100.0);
        (ticks(11) + ticks(12)) / hz.max(1.0)
    }

    /// What the server logged so far (one line per request).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Kill the server now (simulates a crash); it stays down.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Put an object with raw bytes and no driftsync metadata, as another S3
/// client would (usable from a proxy hook, where the server is not at hand).
pub fn put_object(
    endpoint: &str,
    key_id: &str,
    secret: &str,
    bucket: &str,
    key: &str,
    body: &[u8],
) {
    let hex: String = body.iter().map(|b| format!("{b:02x}")).collect();
    python(
        endpoint,
        key_id,
        secret,
        &format!("s3.put_object(Bucket={bucket:?}, Key={key:?}, Body=bytes.fromhex({hex:?}))"),
    );
}

/// The client environment for an S3 endpoint.
pub fn env_for(endpoint: &str, key_id: &str, secret: &str) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", key_id),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
