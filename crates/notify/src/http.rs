//! One JSON POST with a timeout and one retry: hyper over rustls for https,
//! plain http for endpoints on the loopback.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A reusable client.
pub struct Client {
    inner: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// Why an attempt failed, and whether a retry may help.
struct Failure {
    message: String,
    retry: bool,
}

impl Client {
    /// A client trusting the system's root certificates (none found: https fails
    /// with a certificate error, http still works).
    pub fn new() -> Client {
        let provider = rustls::crypto::ring::default_provider();
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider) {
            Ok(b) => b,
            Err(_) => {
                let config = rustls::ClientConfig::builder_with_provider(
                    rustls::crypto::ring::default_provider().into(),
                )
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
                match config {
                    Ok(c) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(c),
                    // ring always supports the default versions.
                    Err(_) => unreachable!("ring supports TLS 1.2 and 1.3"),
                }
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        Client {
            inner: hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .build(connector),
        }
    }

    /// POST `body` (JSON) to `url`; a 5xx answer or a connection error is
    /// tried once more. Returns the 2xx status, or an error that never
    /// contains `url`'s path or query.
    pub async fn post_with_retry(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<u16, String> {
        let body = Bytes::from(body);
        match self.post(url, body.clone(), timeout).await {
            Ok(s) => Ok(s),
            Err(f) if f.retry => match self.post(url, body, timeout).await {
                Ok(s) => Ok(s),
                Err(again) if again.message == f.message => {
                    Err(format!("{} (after one retry)", again.message))
                }
                Err(again) => Err(format!("{}; retried: {}", f.message, again.message)),
            },
            Err(f) => Err(f.message),
        }
    }

    async fn post(&self, url: &str, body: Bytes, timeout: Duration) -> Result<u16, Failure> {
        let uri: http::Uri = url.parse().map_err(|_| Failure {
            message: "the URL does not parse".into(),
            retry: false,
        })?;
        let request = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("driftsync/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
            .map_err(|e| Failure {
                message: format!("cannot build the request: {e}"),
                retry: false,
            })?;
        let exchange = async {
            let response = self.inner.request(request).await.map_err(|e| Failure {
                message: match e.is_connect() {
                    true => format!("cannot connect: {}", error_chain(&e)),
                    false => format!("the request failed: {}", error_chain(&e)),
                },
                retry: true,
            })?;
            let status = response.status();
            // Read the answer so the connection is finished cleanly; its text
            // is not shown (it may echo the request).
            let _ = response.into_body().collect().await;
            Ok::<_, Failure>(status)
        };
        let status = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| Failure {
                message: format!("no answer within {}s", timeout.as_secs_f64()),
                retry: false,
            })??;
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(Failure {
                message: format!("the endpoint answered HTTP {status}"),
                retry: status.is_server_error(),
            })
        }
    }
}

/// `outer: cause: root` of a hyper error, without repeats.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn an_endpoint_that_never_answers_times_out_without_a_retry() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // Accept and read, never answer, until the client has given up; then
        // count what else connected (a retry would sit in the backlog).
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            done_rx.recv().unwrap();
            listener.set_nonblocking(true).unwrap();
            let again = listener.accept().is_ok();
            drop(s);
            again
        });
        let err = block_on(Client::new().post_with_retry(
            &format!("http://127.0.0.1:{port}/hook/SECRET"),
            b"{}".to_vec(),
            Duration::from_millis(300),
        ))
        .unwrap_err();
        done_tx.send(()).unwrap();
        assert_eq!(err, "no answer within 0.3s");
        assert!(!peer.join().unwrap(), "a timeout is not retried");
    }

    #[test]
    fn https_goes_through_tls() {
        // A plain TCP peer that closes at once: the TLS handshake fails, and the
        // error says so (proof the https scheme is not sent in clear text).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).unwrap();
            buf
        });
        let err = block_on(Client::new().post_with_retry(
            &format!("https://127.0.0.1:{port}/hook/SECRET"),
            b"{}".to_vec(),
            Duration::from_secs(5),
        ))
        .unwrap_err();
        let first = peer.join().unwrap();
        assert_eq!(
            first[0], 0x16,
            "a TLS handshake record, not an HTTP request"
        );
        assert!(err.starts_with("cannot connect"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
    }
}
