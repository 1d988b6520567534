//! [`ObjectReplica`]: the [`Replica`] trait over any `object_store` client.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use driftsync_core::redact::redact_url;
use driftsync_core::{Entry, Hash, RelPath};
use driftsync_replica::{
    BackupCopy, Capabilities, Expect, Listing, PathFilter, Replica, ReplicaError, Scan, ScanNote,
    ScanRequest, WriteMeta,
};
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, UpdateVersion, WriteMultipart,
};
use tokio::runtime::Runtime;

use crate::error::{kind_of, map, Kind};
use crate::meta::StoredMeta;
use crate::open::{self, Flavor, ObjectOptions, OpenError};

/// The default backup folder of the replica root (`backup_prefix`); keys
/// under it, and under the configured prefix, are driftsync's own backups and never synced.
pub const BACKUP_DIR: &str = ".driftsync-backup/";

/// A bucket (or a prefix inside one) as a replica.
pub struct ObjectReplica {
    store: Arc<dyn ObjectStore>,
    flavor: Flavor,
    /// Key prefix inside the store, empty or ending in `/`.
    prefix: String,
    /// Redacted URL, ending in `/`, for messages.
    location: String,
    options: ObjectOptions,
    runtime: Runtime,
}

impl std::fmt::Debug for ObjectReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReplica")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("driftsync-object")
        .enable_all()
        .build()
        .expect("start the object storage I/O runtime")
}

impl ObjectReplica {
    /// Open the replica a URL names (`s3://bucket/prefix/`, `gs://`, `az://`,
    /// `file:/dir`, `memory:`). No request is made until the first operation.
    pub fn open(url: &str, options: ObjectOptions) -> Result<ObjectReplica, OpenError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::open_with_env(url, options, &env)
    }

    /// [`ObjectReplica::open`] with credentials and endpoint from `env`
    /// instead of the process environment.
    pub fn open_with_env(
        url: &str,
        options: ObjectOptions,
        env: &[(String, String)],
    ) -> Result<ObjectReplica, OpenError> {
        let parsed = open::parse(url)?;
        let store = open::build(url, &parsed, &options, env)?;
        let prefix = match parsed.flavor {
            Flavor::File | Flavor::Memory => String::new(),
            _ => parsed.prefix.clone(),
        };
        let mut location = redact_url(url);
        if !location.ends_with('/') && !location.ends_with(':') {
            location.push('/');
        }
        Ok(ObjectReplica {
            store,
            flavor: parsed.flavor,
            prefix,
            location,
            options,
            runtime: runtime(),
        })
    }

    /// Wrap an existing client (tests share one `InMemory` between replicas).
    pub fn from_store(
        store: Arc<dyn ObjectStore>,
        flavor: Flavor,
        prefix: &str,
        location: &str,
        options: ObjectOptions,
    ) -> ObjectReplica {
        let prefix = prefix.trim_matches('/');
        ObjectReplica {
            store,
            flavor,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            location: redact_url(location),
            options,
            runtime: runtime(),
        }
    }

    /// The underlying client (for backups and tests).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object key of `path`, stored verbatim (no percent-encoding), so
    /// other tools see the same names.
    fn key(&self, path: &RelPath) -> Result<Path, ReplicaError> {
        Path::parse(format!("{}{path}", self.prefix)).map_err(|e| ReplicaError::InvalidPath {
            path: path.to_string(),
            reason: format!("not usable as an object key: {e}"),
        })
    }

    fn err(&self, e: object_store::Error, path: &str) -> ReplicaError {
        map(e, &self.location, path)
    }

    /// The object's current ETag, or `None` when it does not exist.
    fn current_version(&self, path: &RelPath) -> Result<Option<String>, ReplicaError> {
        match self.runtime.block_on(self.store.head(&self.key(path)?)) {
            Ok(m) => Ok(Some(m.e_tag.unwrap_or_default())),
            Err(e) if kind_of(&e) == Kind::NotFound => Ok(None),
            Err(e) => Err(self.err(e, path.as_str())),
        }
    }

    /// Re-check `expect` against the store just before a commit that the
    /// store cannot make conditional itself.
    fn recheck(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        let changed = |detail: String| ReplicaError::Changed {
            path: format!("{}{path}", self.location),
            detail,
        };
        match (expect, self.current_version(path)?) {
            (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
            (Expect::Absent, Some(_)) => Err(changed("an object now exists there".into())),
            (Expect::Version(_), None) => Err(changed("the object was deleted".into())),
            (Expect::Version(want), Some(have)) if have == want.as_str() => Ok(()),
            (Expect::Version(_), Some(_)) => {
                Err(changed("the object was replaced (ETag differs)".into()))
            }
        }
    }

    fn attributes(&self, meta: &WriteMeta) -> Attributes {
        let mut attrs = Attributes::new();
        if self.flavor.keeps_metadata() {
            for (k, v) in StoredMeta::from_write(meta).to_pairs() {
                attrs.insert(Attribute::Metadata(k.into()), v.into());
            }
        }
        attrs
    }

    fn put_mode(&self, path: &RelPath, expect: &Expect) -> Result<PutMode, ReplicaError> {
        Ok(match expect {
            Expect::Any => PutMode::Overwrite,
            Expect::Absent => PutMode::Create,
            Expect::Version(v) if self.flavor.conditional_update() => {
                PutMode::Update(UpdateVersion {
                    e_tag: Some(v.to_string()),
                    version: None,
                })
            }
            Expect::Version(_) => {
                self.recheck(path, expect)?;
                PutMode::Overwrite
            }
        })
    }

    fn hash_mismatch(&self, path: &RelPath, got: &Hash, want: &Hash) -> ReplicaError {
        ReplicaError::Changed {
            path: format!("{}{path}", self.location),
            detail: format!(
                "the source changed while it was copied (sha256 {} != {})",
                got.short(),
                want.short()
            ),
        }
    }

    /// Upload in parts of `part_size`, memory bounded to two parts in flight.
    fn write_multipart(
        &self,
        path: &RelPath,
        first: Vec<u8>,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Option<String>, ReplicaError> {
        let key = self.key(path)?;
        let opts = PutMultipartOptions {
            attributes: self.attributes(meta),
            ..Default::default()
        };
        let upload = self
            .runtime
            .block_on(self.store.put_multipart_opts(&key, opts))
            .map_err(|e| self.err(e, path.as_str()))?;
        let part = self.options.part_size;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
        let mut hasher = Hash::hasher();
        hasher.update(&first);
        let mut size = first.len() as u64;
        {
            let _guard = self.runtime.enter();
            writer.put(Bytes::from(first));
        }
        let mut buf = vec![0u8; part];
        let result: Result<(), ReplicaError> = (|| loop {
            self.runtime
                .block_on(writer.wait_for_capacity(2))
                .map_err(|e| self.err(e, path.as_str()))?;
            let n = read_full(content, &mut buf).map_err(|e| {
                ReplicaError::other(format!("{}{path}: read source", self.location), e)
            })?;
            if n == 0 {
                return Ok(());
            }
            hasher.update(&buf[..n]);
            size += n as u64;
            let _guard = self.runtime.enter();
            writer.write(&buf[..n]);
        })();
        let hash = hasher.finish();
        let result = result.and_then(|()| {
            if hash != meta.hash || size != meta.size {
                return Err(self.hash_mismatch(path, &hash, &meta.hash));
            }
            self.recheck(path, expect)
        });
        if let Err(e) = result {
            let _ = self.runtime.block_on(writer.abort());
            return Err(e);
        }
        let done = self
            .runtime
            .block_on(writer.finish())
            .map_err(|e| self.err(e, path.as_str()))?;
        Ok(done.e_tag)
    }

    /// HEAD one object and read the hash, mtime and exec bit stored with it;
    /// fall back to downloading and hashing when it carries none.
    async fn describe(&self, meta: ObjectMeta) -> Result<(Entry, bool), object_store::Error> {
        let version = meta.e_tag.clone().unwrap_or_default();
        let mtime_ns = meta.last_modified.timestamp_nanos_opt().unwrap_or(0);
        if self.flavor.keeps_metadata() {
            let head = self
                .store
                .get_opts(&meta.location, GetOptions::new().with_head(true))
                .await?;
            let stored = StoredMeta::from_attributes(&head.attributes);
            if let Some(hash) = stored.hash {
                if head.meta.e_tag == meta.e_tag {
                    return Ok((
                        Entry {
                            size: meta.size,
                            mtime_ns: stored.mtime_ns.unwrap_or(mtime_ns),
                            hash,
                            version: version.into(),
                            executable: stored.executable,
                        },
                        false,
                    ));
                }
            }
        }
        let got = self
            .store
            .get_opts(
                &meta.location,
                GetOptions::new().with_if_match(meta.e_tag.clone()),
            )
            .await?;
        let mut hasher = Hash::hasher();
        let mut size = 0u64;
        let mut body = got.into_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((
            Entry {
                size,
                mtime_ns,
                hash: hasher.finish(),
                version: version.into(),
                executable: false,
            },
            true,
        ))
    }
}

/// An entry and whether its content had to be read to hash it.
type Described = Result<(Entry, bool), object_store::Error>;

/// Read until `buf` is full or the reader ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Replica for ObjectReplica {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            conditional_write: self.flavor.conditional_update(),
            conditional_delete: false,
            preserves_mtime: self.flavor.keeps_metadata(),
            preserves_executable: self.flavor.keeps_metadata(),
        }
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        let filter = PathFilter::new(request.include, request.exclude)?;
        let list_prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        // The listing is read page by page and merged with the prior one as
        // it comes (S3 lists keys in byte order): a re-scan holds only what
        // changed, never the whole listing twice.
        let mut scan = Scan::default();
        let mut listing = Listing::new(request.prior.filter(|_| request.changes_only));
        let mut to_describe = Vec::new();
        self.runtime.block_on(async {
            let mut pages = self.store.list(list_prefix.as_ref());
            while let Some(meta) = pages.next().await {
                let meta = meta.map_err(|e| match e {
                    // A key such as `../x` or `a//b`: refuse the whole listing
                    // rather than guess which file it was meant to be.
                    object_store::Error::InvalidPath { source } => ReplicaError::InvalidPath {
                        path: self.location.clone(),
                        reason: format!(
                            "the bucket holds a key that is not a safe relative path: {source}"
                        ),
                    },
                    e => self.err(e, ""),
                })?;
                let key = meta.location.as_ref();
                let rel = key.strip_prefix(self.prefix.as_str()).unwrap_or(key);
                if rel.starts_with(BACKUP_DIR)
                    || rel.starts_with(self.options.backup_prefix.as_str())
                    || driftsync_replica::is_record(rel)
                {
                    continue;
                }
                let path = match RelPath::new(rel) {
                    Ok(p) => p,
                    Err(e) => {
                        scan.notes.push(ScanNote {
                            path: rel.to_string(),
                            reason: format!("refused: {e}"),
                        });
                        continue;
                    }
                };
                if !filter.matches(path.as_str()) {
                    continue;
                }
                match request.prior.and_then(|p| p.get(&path)) {
                    Some(e)
                        if !e.version.is_empty()
                            && meta.e_tag.as_deref() == Some(e.version.as_str())
                            && e.size == meta.size =>
                    {
                        listing.push(path, e.clone());
                    }
                    _ => to_describe.push((path, meta)),
                }
            }
            Ok::<_, ReplicaError>(())
        })?;

        let concurrency = self.options.scan_concurrency.max(1);
        let described: Vec<(RelPath, Described)> = self.runtime.block_on(
            stream::iter(to_describe)
                .map(|(path, meta)| async move { (path, self.describe(meta).await) })
                .buffer_unordered(concurrency)
                .collect(),
        );
        for (path, result) in described {
            match result {
                Ok((entry, read)) => {
                    scan.hashed += usize::from(read);
                    // After the listing, so out of its order: kept as a change.
                    listing.push(path, entry);
                }
                // Deleted between the listing and the HEAD: it is gone.
                Err(e) if kind_of(&e) == Kind::NotFound => {}
                Err(e) if kind_of(&e) == Kind::Changed => {
                    return Err(ReplicaError::Transient {
                        location: format!("{}{path}", self.location),
                        source: "the object changed while it was being scanned".into(),
                    })
                }
                Err(e) => return Err(self.err(e, path.as_str())),
            }
        }
        listing.finish(&mut scan);
        Ok(scan)
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        let got = self
            .runtime
            .block_on(self.store.get(&self.key(path)?))
            .map_err(|e| self.err(e, path.as_str()))?;
        Ok(Box::new(StreamReader {
            replica: self,
            path: path.clone(),
            stream: got.into_stream(),
            buf: Bytes::new(),
        }))
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let part = self.options.part_size;
        let mut first = vec![0u8; part];
        let n = read_full(content, &mut first)
            .map_err(|e| ReplicaError::other(format!("{}{path}: read source", self.location), e))?;
        first.truncate(n);
        let e_tag = if n == part {
            self.write_multipart(path, first, content, meta, expect)?
        } else {
            let hash = Hash::of(&first);
            if hash != meta.hash || n as u64 != meta.size {
                return Err(self.hash_mismatch(path, &hash, &meta.hash));
            }
            let opts = PutOptions {
                mode: self.put_mode(path, expect)?,
                attributes: self.attributes(meta),
                ..Default::default()
            };
            let payload = PutPayload::from(first);
            self.runtime
                .block_on(self.store.put_opts(&self.key(path)?, payload, opts))
                .map_err(|e| self.err(e, path.as_str()))?
                .e_tag
        };
        let version = match e_tag {
            Some(v) => v,
            None => self.current_version(path)?.unwrap_or_default(),
        };
        Ok(Entry {
            size: meta.size,
            mtime_ns: meta.mtime_ns,
            hash: meta.hash,
            version: version.into(),
            executable: meta.executable && self.flavor.keeps_metadata(),
        })
    }

    /// Records are objects under `<prefix>.driftsync/`, never listed.
    fn keeps_records(&self) -> bool {
        true
    }

    fn version(&self, path: &RelPath) -> Result<Option<driftsync_core::SmallStr>, ReplicaError> {
        Ok(self.current_version(path)?.map(Into::into))
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        self.recheck(path, expect)?;
        match self.runtime.block_on(self.store.delete(&self.key(path)?)) {
            Ok(()) => Ok(()),
            // Already gone; a version expectation was checked above.
            Err(e) if kind_of(&e) == Kind::NotFound => Ok(()),
            Err(e) => Err(self.err(e, path.as_str())),
        }
    }

    /// A server-side copy to `<backup_prefix><run>/<path>`: the content never
    /// leaves the store, and the metadata (hash, mtime, exec bit) goes with it.
    fn backup(&self, path: &RelPath, run_id: &str) -> Result<Option<BackupCopy>, ReplicaError> {
        let copy = RelPath::new(format!("{}{run_id}/{path}", self.options.backup_prefix)).map_err(
            |e| ReplicaError::InvalidPath {
                path: path.to_string(),
                reason: format!("no backup key for run `{run_id}`: {e}"),
            },
        )?;
        self.runtime
            .block_on(self.store.copy(&self.key(path)?, &self.key(&copy)?))
            .map_err(|e| self.err(e, path.as_str()))?;
        Ok(Some(BackupCopy {
            run: run_id.to_string(),
            path: path.clone(),
            copy,
        }))
    }

    fn list_backups(&self) -> Result<Vec<BackupCopy>, ReplicaError> {
        let folder = format!("{}{}", self.prefix, self.options.backup_prefix);
        let folder = Path::from(folder.trim_end_matches('/'));
        let listed: Vec<ObjectMeta> = self
            .runtime
            .block_on(self.store.list(Some(&folder)).try_collect())
            .map_err(|e| self.err(e, &self.options.backup_prefix))?;
        let mut out = Vec::new();
        for meta in listed {
            let key = meta.location.as_ref();
            let rel = key.strip_prefix(self.prefix.as_str()).unwrap_or(key);
            let Some(rest) = rel.strip_prefix(self.options.backup_prefix.as_str()) else {
                continue;
            };
            let Some((run, path)) = rest.split_once('/') else {
                continue;
            };
            if let (Ok(path), Ok(copy)) = (RelPath::new(path), RelPath::new(rel)) {
                out.push(BackupCopy {
                    run: run.to_string(),
                    path,
                    copy,
                });
            }
        }
        out.sort_by(|a, b| (&a.run, &a.path).cmp(&(&b.run, &b.path)));
        Ok(out)
    }
}

/// A blocking reader over an object's byte stream.
struct StreamReader<'a> {
    replica: &'a ObjectReplica,
    path: RelPath,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    buf: Bytes,
}

impl Read for StreamReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.replica.runtime.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => {
                    let err = self.replica.err(e, self.path.as_str());
                    return Err(std::io::Error::other(err));
                }
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}
