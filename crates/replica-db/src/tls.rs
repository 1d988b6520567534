//! PostgreSQL connections with TLS, `sslmode` meaning what it means to libpq.
//!
//! tokio-postgres knows `disable`, `prefer` and `require` and never checks a
//! certificate itself. driftsync reads `sslmode` (all five of libpq's values)
//! and `sslrootcert` from the URL — or from `PGSSLMODE` / `PGSSLROOTCERT` —
//! and builds the OpenSSL connector to match:
//!
//! | sslmode       | TLS                         | certificate checked          |
//! |---------------|-----------------------------|------------------------------|
//! | `disable`     | never                       | —                            |
//! | `prefer` (default) | when the server offers it | no                        |
//! | `require`     | always                      | no                           |
//! | `verify-ca`   | always                      | chain, against `sslrootcert` |
//! | `verify-full` | always                      | chain and host name          |
//!
//! Without `sslrootcert`, verification uses the system's trusted roots.

use std::path::PathBuf;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres_openssl::MakeTlsConnector;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, certificate not checked (libpq's default).
    Prefer,
    /// TLS always, certificate not checked.
    Require,
    /// TLS always, certificate chain checked.
    VerifyCa,
    /// TLS always, certificate chain and host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            // `allow` prefers plain text; with no fallback order to honour, treat it as prefer.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }
}

/// What a connection needs: tokio-postgres's config and the TLS connector.
pub struct PgConnect {
    /// Host, port, user, password, database and the other URL options.
    pub config: tokio_postgres::Config,
    /// The TLS connector, set up for the `sslmode`.
    pub tls: MakeTlsConnector,
    /// The mode in force.
    pub mode: SslMode,
}

impl std::fmt::Debug for PgConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password: never print it.
        f.debug_struct("PgConnect")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Split `sslmode` and `sslrootcert` off a `postgres://` URL; returns the rest.
fn split_tls_params(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((head, query)) = url.split_once('?') else {
        return (url.to_string(), None, None);
    };
    let (mut mode, mut root) = (None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(v.to_string()),
            Some(("sslrootcert", v)) => root = Some(v.to_string()),
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", rest.join("&"))
    };
    (url, mode, root)
}

/// Parse a `postgres://` URL into a config and a TLS connector. Errors say
/// what is wrong without repeating the URL (the caller names it, redacted).
pub fn pg_connect(url: &str) -> Result<PgConnect, String> {
    let (url, mode, root) = split_tls_params(url);
    let mode = mode.or_else(|| std::env::var("PGSSLMODE").ok());
    let mode = mode
        .as_deref()
        .map_or(Ok(SslMode::Prefer), SslMode::parse)?;
    let root = root
        .or_else(|| std::env::var("PGSSLROOTCERT").ok())
        .map(PathBuf::from);
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| format!("the connection URL does not parse: {e}"))?;
    config.ssl_mode(match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    let tls_err = |e: openssl::error::ErrorStack| format!("setting up TLS: {e}");
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(tls_err)?;
    let verify = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull);
    if verify {
        builder.set_verify(SslVerifyMode::PEER);
        if let Some(root) = &root {
            if !root.is_file() {
                return Err(format!(
                    "sslrootcert {} does not exist (give the CA certificate that signed the server's)",
                    root.display()
                ));
            }
            builder
                .set_ca_file(root)
                .map_err(|e| format!("sslrootcert {}: {e}", root.display()))?;
        }
    } else {
        builder.set_verify(SslVerifyMode::NONE);
    }
    let mut tls = MakeTlsConnector::new(builder.build());
    if mode != SslMode::VerifyFull {
        tls.set_callback(|c, _| {
            c.set_verify_hostname(false);
            Ok(())
        });
    }
    Ok(PgConnect { config, tls, mode })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_ours_and_the_rest_goes_through() {
        let (url, mode, root) = split_tls_params(
            "postgres://u:pw@h/db?sslmode=verify-full&application_name=x&sslrootcert=/ca.pem",
        );
        assert_eq!(url, "postgres://u:pw@h/db?application_name=x");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let c = pg_connect("postgres://u:pw@h/db?sslmode=require").unwrap();
        assert_eq!(c.mode, SslMode::Require);
        assert!(!format!("{c:?}").contains("pw"));
    }

    #[test]
    fn bad_modes_and_missing_roots_are_clear() {
        let e = pg_connect("postgres://h/db?sslmode=always").unwrap_err();
        assert!(e.contains("sslmode=always is not one of"), "{e}");
        let e = pg_connect("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem does not exist"), "{e}");
    }
}
