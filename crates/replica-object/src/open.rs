//! From a URL (`s3://`, `gs://`, `az://`, `file:`, `memory:`) to an `object_store` client.
//!
//! Credentials and endpoints come only from the standard environment
//! variables of each cloud (`AWS_*`, `GOOGLE_*`, `AZURE_*`), never from the
//! URL or the configuration file, and are never printed.

use std::sync::Arc;
use std::time::Duration;

use driftsync_core::location::{Location, Scheme};
use driftsync_core::redact::redact_url;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

/// Transfer settings that shape the HTTP client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectOptions {
    /// Retries of one request on a transient fault (5xx, throttling, reset, timeout).
    pub retries: usize,
    /// Deadline of one HTTP request.
    pub timeout: Duration,
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// Objects at least this large are uploaded in parts of this size.
    pub part_size: usize,
    /// Concurrent requests while scanning (HEADs of changed objects).
    pub scan_concurrency: usize,
    /// Folder of the replica root that holds backups (`<backup_prefix><run>/<path>`),
    /// ending in `/`; never synced.
    pub backup_prefix: String,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        ObjectOptions {
            retries: 3,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            part_size: 8 * 1024 * 1024,
            scan_concurrency: 16,
            backup_prefix: crate::replica::BACKUP_DIR.to_string(),
        }
    }
}

/// Check a `backup_prefix` (a relative folder such as `.driftsync-backup/`)
/// and return it ending in `/`.
pub fn backup_prefix(text: &str) -> Result<String, String> {
    let trimmed = text.trim_end_matches('/');
    driftsync_core::RelPath::new(trimmed).map_err(|e| {
        format!("`{text}` is not a relative folder ({e}); write e.g. `.driftsync-backup/`")
    })?;
    Ok(format!("{trimmed}/"))
}

/// Which kind of store a URL names; decides what the store can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Amazon S3 or an S3-compatible server.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
    /// A local directory through `object_store`'s `LocalFileSystem`.
    File,
    /// An in-process store (tests, dry runs).
    Memory,
}

impl Flavor {
    /// The store keeps user metadata (the content hash) with each object.
    pub fn keeps_metadata(self) -> bool {
        !matches!(self, Flavor::File)
    }

    /// The store supports `If-Match` writes (`PutMode::Update`).
    pub fn conditional_update(self) -> bool {
        !matches!(self, Flavor::File)
    }
}

/// A URL that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not a scheme this backend knows.
    #[error("{url}: not an object store URL (use s3://BUCKET/PREFIX, gs://, az://, file:PATH or memory:)")]
    Scheme {
        /// The URL, redacted.
        url: String,
    },
    /// The URL names no bucket or container.
    #[error("{url}: missing bucket name (write s3://BUCKET/PREFIX/)")]
    NoBucket {
        /// The URL, redacted.
        url: String,
    },
    /// The URL carries credentials, which belong in the environment.
    #[error("{url}: credentials in the URL are refused; set them in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...)")]
    CredentialsInUrl {
        /// The URL, redacted.
        url: String,
    },
    /// The client could not be configured (bad endpoint, missing region...).
    #[error("{url}: {detail}")]
    Config {
        /// The URL, redacted.
        url: String,
        /// What is wrong, redacted.
        detail: String,
    },
}

/// A parsed object store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The kind of store.
    pub flavor: Flavor,
    /// Bucket or container (empty for `file:` and `memory:`).
    pub bucket: String,
    /// Key prefix inside the bucket, without leading slash, ending in `/` unless empty;
    /// for `file:` the directory.
    pub prefix: String,
}

/// Split a URL into flavor, bucket and prefix.
pub fn parse(url: &str) -> Result<Parsed, OpenError> {
    let shown = redact_url(url);
    let location = Location::parse(url).map_err(|_| OpenError::Scheme { url: shown.clone() })?;
    let rest = location.rest();
    let flavor = match location.scheme() {
        Scheme::S3 => Flavor::S3,
        Scheme::Gs => Flavor::Gcs,
        Scheme::Az => Flavor::Azure,
        Scheme::File => {
            return Ok(Parsed {
                flavor: Flavor::File,
                bucket: String::new(),
                prefix: rest.to_string(),
            })
        }
        Scheme::Memory => {
            return Ok(Parsed {
                flavor: Flavor::Memory,
                bucket: String::new(),
                prefix: String::new(),
            })
        }
        Scheme::Dir | Scheme::Sqlite | Scheme::Postgres => {
            return Err(OpenError::Scheme { url: shown })
        }
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.contains('@') {
        return Err(OpenError::CredentialsInUrl { url: shown });
    }
    if bucket.is_empty() {
        return Err(OpenError::NoBucket { url: shown });
    }
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Ok(Parsed {
        flavor,
        bucket: bucket.to_string(),
        prefix,
    })
}

fn client_options(opts: &ObjectOptions) -> ClientOptions {
    ClientOptions::new()
        .with_timeout(opts.timeout)
        .with_connect_timeout(opts.connect_timeout)
        .with_pool_max_idle_per_host(64)
}

fn retry_config(opts: &ObjectOptions) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: opts.retries,
        retry_timeout: opts.timeout * (opts.retries as u32 + 1),
    }
}

/// Variables of `env` with `prefix`, as (lower-case key, value).
fn env_with(env: &[(String, String)], prefix: &str) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

/// Build the `object_store` client for `parsed`, reading credentials and
/// endpoints from `env` (the process environment, or a test's). No request is made.
pub fn build(
    url: &str,
    parsed: &Parsed,
    opts: &ObjectOptions,
    env: &[(String, String)],
) -> Result<Arc<dyn ObjectStore>, OpenError> {
    // rustls on ring for every HTTPS client in the process (one already
    // installed, by an earlier call or by the binary, is the same one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let shown = redact_url(url);
    let config = |e: object_store::Error| OpenError::Config {
        url: shown.clone(),
        detail: crate::error::chain_text(&e),
    };
    let store: Arc<dyn ObjectStore> = match parsed.flavor {
        Flavor::S3 => {
            let mut b = AmazonS3Builder::new()
                .with_client_options(client_options(opts))
                .with_retry(retry_config(opts))
                .with_region("us-east-1");
            for (k, v) in env_with(env, "AWS_") {
                if let Ok(key) = k.parse::<AmazonS3ConfigKey>() {
                    b = b.with_config(key, v);
                }
            }
            Arc::new(b.with_bucket_name(&parsed.bucket).build().map_err(config)?)
        }
        Flavor::Gcs => {
            let mut b = GoogleCloudStorageBuilder::new()
                .with_client_options(client_options(opts))
                .with_retry(retry_config(opts));
            for (k, v) in env_with(env, "GOOGLE_") {
                if let Ok(key) = k.parse::<GoogleConfigKey>() {
                    b = b.with_config(key, v);
                }
            }
            Arc::new(b.with_bucket_name(&parsed.bucket).build().map_err(config)?)
        }
        Flavor::Azure => {
            let mut b = MicrosoftAzureBuilder::new()
                .with_client_options(client_options(opts))
                .with_retry(retry_config(opts));
            for (k, v) in env_with(env, "AZURE_") {
                if let Ok(key) = k.parse::<AzureConfigKey>() {
                    b = b.with_config(key, v);
                }
            }
            Arc::new(
                b.with_container_name(&parsed.bucket)
                    .build()
                    .map_err(config)?,
            )
        }
        Flavor::File => {
            let dir = std::path::Path::new(&parsed.prefix);
            if !dir.is_dir() {
                // A `file:` bucket is a folder that must exist, as a real
                // bucket must: a typo is not silently made into a new one.
                return Err(OpenError::Config {
                    url: shown,
                    detail: format!(
                        "the folder {} does not exist (create it, or correct the path; a relative file: path is relative to the repository root)",
                        dir.display()
                    ),
                });
            }
            Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(config)?)
        }
        Flavor::Memory => Arc::new(InMemory::new()),
    };
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let p = parse("s3://site-assets/templates").unwrap();
        assert_eq!(
            (p.flavor, p.bucket.as_str(), p.prefix.as_str()),
            (Flavor::S3, "site-assets", "templates/")
        );
        let p = parse("gs://b").unwrap();
        assert_eq!((p.flavor, p.prefix.as_str()), (Flavor::Gcs, ""));
        let p = parse("az://c/x/y/").unwrap();
        assert_eq!((p.flavor, p.prefix.as_str()), (Flavor::Azure, "x/y/"));
        assert_eq!(parse("file:/tmp/x").unwrap().prefix, "/tmp/x");
        assert_eq!(parse("file:///tmp/x").unwrap().prefix, "/tmp/x");
        assert_eq!(parse("memory:").unwrap().flavor, Flavor::Memory);
    }

    #[test]
    fn refuses_bad_urls_without_showing_secrets() {
        assert!(matches!(parse("ftp://x"), Err(OpenError::Scheme { .. })));
        assert!(matches!(parse("s3:///p"), Err(OpenError::NoBucket { .. })));
        let err = parse("s3://key:hunter2@bucket/p").unwrap_err();
        assert!(matches!(err, OpenError::CredentialsInUrl { .. }));
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn backup_prefixes_are_relative_folders() {
        assert_eq!(backup_prefix(".bak").unwrap(), ".bak/");
        assert_eq!(backup_prefix("a/b/").unwrap(), "a/b/");
        for bad in ["", "/abs", "../up", "a//b"] {
            assert!(backup_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_clients_without_network() {
        let opts = ObjectOptions::default();
        for url in ["s3://b/p/", "memory:"] {
            build(url, &parse(url).unwrap(), &opts, &[]).unwrap();
        }
        let missing = "file:/definitely/not/here";
        assert!(build(missing, &parse(missing).unwrap(), &opts, &[]).is_err());
    }
}
