//! A loopback HTTP/1.1 proxy that counts requests by kind and answers a
//! chosen share of them with `503 Service Unavailable`, as a flaky S3 would.
//!
//! One request per connection: the request is forwarded upstream with
//! `Connection: close`, the whole response relayed, then both sides closed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Requests seen, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// `GET` with `list-type=` (ListObjectsV2) or on a bucket root.
    pub list: u64,
    /// `GET` of an object.
    pub get: u64,
    /// `HEAD`.
    pub head: u64,
    /// `PUT` (objects, parts, buckets).
    pub put: u64,
    /// `DELETE`.
    pub delete: u64,
    /// `POST` (multipart create/complete, bulk delete).
    pub post: u64,
    /// Requests answered with an injected 503.
    pub injected_503: u64,
}

impl RequestCounts {
    /// Every request that reached the proxy.
    pub fn total(&self) -> u64 {
        self.list + self.get + self.head + self.put + self.delete + self.post
    }
}

struct Shared {
    upstream: u16,
    /// Share of requests to fail, in per mille.
    fail_per_mille: AtomicU32,
    /// Delay before forwarding each request, in ms.
    delay_ms: AtomicU64,
    rng: AtomicU64,
    stop: AtomicBool,
    counts: Mutex<RequestCounts>,
}

/// A running proxy; stops accepting on drop.
pub struct FaultProxy {
    shared: Arc<Shared>,
    port: u16,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            fail_per_mille: AtomicU32::new(0),
            delay_ms: AtomicU64::new(0),
            rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            stop: AtomicBool::new(false),
            counts: Mutex::new(RequestCounts::default()),
        });
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let _ = handle(&s, conn);
                });
            }
        });
        FaultProxy { shared, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answer `percent` % of the following requests with 503 (pseudo-random, seeded).
    pub fn fail_percent(&self, percent: u32) {
        self.shared
            .fail_per_mille
            .store(percent * 10, Ordering::SeqCst);
    }

    /// Hold every following request `ms` milliseconds before forwarding it
    /// (a stand-in for the round trip to a distant endpoint).
    pub fn delay_ms(&self, ms: u64) {
        self.shared.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Requests seen so far.
    pub fn counts(&self) -> RequestCounts {
        *self.shared.counts.lock().unwrap()
    }

    /// Zero the counters.
    pub fn reset_counts(&self) {
        *self.shared.counts.lock().unwrap() = RequestCounts::default();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn next_random(s: &Shared) -> u32 {
    // xorshift64*, good enough to spread failures.
    let mut x = s.rng.load(Ordering::SeqCst);
    loop {
        let mut y = x;
        y ^= y >> 12;
        y ^= y << 25;
        y ^= y >> 27;
        match s
            .rng
            .compare_exchange(x, y, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => return (y.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as u32,
            Err(now) => x = now,
        }
    }
}

fn handle(s: &Shared, client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut request_line = String::new();
    let mut content_length = 0usize;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.clone();
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    if chunked {
        // Relay chunked bodies verbatim up to the terminating chunk.
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            body.extend_from_slice(line.as_bytes());
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    }

    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let fail = next_random(s) % 1000 < s.fail_per_mille.load(Ordering::SeqCst);
    {
        let mut c = s.counts.lock().unwrap();
        let path = target.split('?').next().unwrap_or("");
        let is_bucket_root = path.trim_matches('/').split('/').count() <= 1;
        match method {
            "GET" if target.contains("list-type=") || is_bucket_root => c.list += 1,
            "GET" => c.get += 1,
            "HEAD" => c.head += 1,
            "PUT" => c.put += 1,
            "DELETE" => c.delete += 1,
            "POST" => c.post += 1,
            _ => {}
        }
        if fail {
            c.injected_503 += 1;
        }
    }
    let mut client = client;
    if fail {
        let body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code>\
                    <Message>injected by the test proxy</Message></Error>";
        write!(
            client,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        std::thread::sleep(Duration::from_millis(delay));
    }
    let mut upstream = match TcpStream::connect(("127.0.0.1", s.upstream)) {
        Ok(u) => u,
        Err(_) => {
            // Upstream is gone: behave like a dead server (connection reset).
            let _ = client.shutdown(Shutdown::Both);
            return Ok(());
        }
    };
    upstream.write_all(&head)?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    client.write_all(&response)?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
