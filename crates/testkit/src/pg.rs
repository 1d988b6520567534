//! A throwaway PostgreSQL cluster: `initdb` + `pg_ctl` on a free loopback port.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running PostgreSQL cluster, stopped and deleted on drop.
///
/// The superuser is `postgres` with password `postgres`, listening on
/// 127.0.0.1 only. When the tests run as root (CI containers), the server runs
/// as the `postgres` system user, because PostgreSQL refuses to run as root.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
}

fn pg_bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("DRIFTSYNC_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. \
             Install them with `apt-get install postgresql` (bash .ci/run does), \
             or point DRIFTSYNC_PG_BIN at a directory holding initdb and pg_ctl."
        )
    })
}

fn postgres_ids() -> Option<(u32, u32)> {
    // Read the ids from /etc/passwd rather than calling libc.
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.first() != Some(&"postgres") || f.len() < 4 {
            return None;
        }
        Some((f[2].parse().ok()?, f[3].parse().ok()?))
    })
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

impl PgCluster {
    /// Create and start a cluster; panics with instructions if PostgreSQL is missing.
    pub fn start() -> PgCluster {
        PgCluster::start_with(false)
    }

    /// A cluster that also speaks TLS, with a self-signed certificate for
    /// `localhost` and `127.0.0.1` (made with the `openssl` command). Returns
    /// the cluster and the certificate, to use as `sslrootcert`.
    pub fn start_tls() -> (PgCluster, PathBuf) {
        let cluster = PgCluster::start_with(true);
        let cert = cluster.dir.path().join("server.crt");
        (cluster, cert)
    }

    fn start_with(tls: bool) -> PgCluster {
        let bin = pg_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("driftsync-pg-")
            .tempdir()
            .expect("temp dir for the cluster");
        let run_as = if is_root() {
            Some(postgres_ids().expect(
                "running as root, so PostgreSQL must run as the `postgres` user, which does not exist: \
                 apt-get install postgresql creates it",
            ))
        } else {
            None
        };
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, "postgres\n").unwrap();
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).unwrap();
        let port = crate::free_port();
        let cluster = PgCluster {
            dir,
            bin,
            port,
            run_as,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--pwfile",
                pwfile.to_str().unwrap(),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        );
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200",
            cluster.dir.path().display()
        );
        if tls {
            opts.push_str(&cluster.make_certificate());
        }
        let log = cluster.dir.path().join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        cluster.wait_ready();
        cluster
    }

    /// Write `server.crt`/`server.key` into the cluster folder (the key owned
    /// by the server's user, mode 0600, as PostgreSQL demands); returns the
    /// server options that turn TLS on.
    fn make_certificate(&self) -> String {
        let (crt, key) = (
            self.dir.path().join("server.crt"),
            self.dir.path().join("server.key"),
        );
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .unwrap_or_else(|e| {
                panic!("run openssl to make a test certificate: {e} (apt-get install openssl)")
            });
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&crt, std::fs::Permissions::from_mode(0o644)).unwrap();
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&key, Some(uid), Some(gid)).expect("chown the server key");
        }
        format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            crt.display(),
            key.display()
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        // Only the server tools refuse root; psql runs as whoever we are.
        if let (Some((uid, gid)), "initdb" | "pg_ctl") = (self.run_as, tool) {
            cmd.uid(uid).gid(gid);
        }
        cmd.env("PGPASSWORD", "postgres")
            .current_dir(self.dir.path());
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "PostgreSQL did not accept connections on port {}",
            self.port
        );
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:postgres@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// Run SQL through `psql` against `database`, stopping at the first error. Returns stdout.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let file = tempfile::NamedTempFile::new().expect("temp file for SQL");
        std::fs::write(file.path(), sql).expect("write SQL");
        self.psql_file(database, file.path())
    }

    /// Run a SQL file through `psql` against `database`, stopping at the first error. Returns stdout.
    pub fn psql_file(&self, database: &str, file: &Path) -> String {
        let out = self
            .psql_command(database)
            .args(["-f", file.to_str().expect("UTF-8 path")])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `psql` on `database` as the superuser: no psqlrc, quiet, unaligned
    /// tuples only, stopping at the first error.
    fn psql_command(&self, database: &str) -> Command {
        let mut cmd = self.command("psql");
        cmd.args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            database,
        ]);
        cmd
    }

    /// Open a `psql` session on `database`, run `sql` in it (e.g. `BEGIN;
    /// LOCK TABLE docs;`) and keep the session open — its locks held — until
    /// the returned [`Session`] is dropped. Returns once `sql` has run.
    pub fn hold(&self, database: &str, sql: &str) -> Session {
        use std::io::{BufRead, Write};
        let mut child = self
            .psql_command(database)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run psql");
        let mut stdin = child.stdin.take().expect("psql stdin");
        writeln!(stdin, "{sql}\nSELECT 'driftsync-held';").expect("send SQL to psql");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("psql stdout"));
        let mut line = String::new();
        while line.trim() != "driftsync-held" {
            line.clear();
            let n = out.read_line(&mut line).expect("read psql output");
            assert!(n > 0, "psql ended before `{sql}` ran");
        }
        Session {
            child,
            _stdin: stdin,
        }
    }

    /// Create a fresh database.
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }
}

/// A `psql` session kept open by [`PgCluster::hold`]; dropping it ends the
/// session (and its transaction, releasing its locks).
pub struct Session {
    child: std::process::Child,
    _stdin: std::process::ChildStdin,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
