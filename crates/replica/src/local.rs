//! A directory on the local file system.
//!
//! - Walks with a walker of its own (`local/walk.rs`): one `read_dir` per
//!   directory, each file stat-ed relative to its open directory (no
//!   full-path lookups), directories recognised from the listing (no stat),
//!   files found in [`RelPath`] order, so the quick check is a merge with
//!   the prior snapshot and the new snapshot needs no sorting.
//! - A `.driftsyncignore` (gitignore syntax, per directory, deeper files
//!   first, `!` whitelists) always applies; `.gitignore`, `.git/info/exclude`
//!   and git's global excludes only when asked
//!   ([`LocalReplica::respect_gitignore`]); ignore files above the root are
//!   never read. Hidden files are listed. A directory named `.driftsync`
//!   (the engine's own state, lock and backups) is never listed, at any
//!   depth; a directory the excludes cover is not entered. An unreadable
//!   directory is a [`ScanNote`] (`not read: …`).
//! - Only regular files are synced. Directories are implied by paths; one left
//!   empty by a remove is pruned. Symlinks are never followed (each is
//!   reported as a [`ScanNote`]); names that are not UTF-8, or that
//!   [`RelPath`] refuses (a backslash), are reported and skipped.
//! - Names are compared byte-wise: NFC and NFD spellings are two files, and
//!   `README.md` / `readme.md` are two files (a case-only rename is a delete
//!   plus a new file).
//! - Quick check: a file whose inode, size and mtime match the prior entry
//!   keeps its hash without being read, unless it was modified in or after
//!   the second the prior snapshot was written (git's "racy" rule).
//! - Writes go to a temp file in the destination directory, which is renamed
//!   over the destination after checking it still matches the expectation
//!   (inode/size/mtime); `Expect::Absent` uses a hard link, which refuses an
//!   existing destination atomically. Leftover temp files of a killed run are
//!   removed by the next scan. The mtime and executable bit are preserved.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use driftsync_core::{Entry, Hash, RelPath, SmallStr, Snapshot};

use crate::{
    Capabilities, Expect, PathFilter, Replica, ReplicaError, Scan, ScanNote, ScanRequest, WriteMeta,
};

pub use beneath::{Dir, Refused, Rename, Stat};

/// The marker in the names of in-flight temp files:
/// `.<name>.driftsync-tmp-<pid>-<16 hex digits>-<n>` (see [`temp_name`]).
pub const TEMP_MARKER: &str = ".driftsync-tmp-";

/// The engine's directory name, never listed.
pub const STATE_DIR: &str = ".driftsync";

/// The longest file name (bytes) on the file systems driftsync writes to.
const NAME_MAX: usize = 255;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// 16 hex digits drawn once per process (clock, pid, an address): with the
/// pid, what makes a temp name this process's own.
fn salt() -> &'static str {
    static SALT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SALT.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let here = &now as *const u128 as usize;
        let h = Hash::of(format!("{now}-{}-{here}", std::process::id()).as_bytes());
        h.to_hex()[..16].to_string()
    })
}

/// A fresh temp name for a file named `name`, in the same directory:
/// `.<name>.driftsync-tmp-<pid>-<salt>-<n>`. When that would be longer than
/// NAME_MAX, `<name>` is replaced by 16 hex digits of its SHA-256.
pub fn temp_name(name: &str) -> String {
    marked_name(name, TEMP_MARKER)
}

/// Where a delete moves a file aside while it checks that it is the version
/// the scan saw: `.<name>.driftsync-aside-<pid>-<salt>-<n>`. A run killed
/// in that moment leaves it there; the next run puts it back (never deletes
/// it: it may hold an edit made meanwhile).
pub const ASIDE_MARKER: &str = ".driftsync-aside-";

fn marked_name(name: &str, marker: &str) -> String {
    let tail = format!(
        "{marker}{}-{}-{}",
        std::process::id(),
        salt(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    if 1 + name.len() + tail.len() <= NAME_MAX {
        format!(".{name}{tail}")
    } else {
        format!(".{}{tail}", &Hash::of(name.as_bytes()).to_hex()[..16])
    }
}

/// The pid in a name made by [`temp_name`] (of any process); `None` for
/// every other name, such as a user's `x.driftsync-tmp-foo`.
pub fn temp_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let tail = match name.rfind(TEMP_MARKER) {
        Some(at) => &name[at + TEMP_MARKER.len()..],
        None => &name[name.rfind(ASIDE_MARKER)? + ASIDE_MARKER.len()..],
    };
    let mut parts = tail.split('-');
    let (pid, salt, n) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = parts.next().is_none()
        && digits(pid)
        && digits(n)
        && salt.len() == 16
        && salt
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then(|| pid.parse().ok()).flatten()
}

/// Whether process `pid` is alive: `kill(pid, 0)` succeeds (or fails with
/// EPERM: another user's process) and it is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // 0 and negative values address process groups, not one process.
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission checks.
    let r = unsafe { libc::kill(pid, 0) };
    let exists = r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A killed process its parent has not reaped yet (a zombie) still
    // answers kill(pid, 0), but it will never run again.
    exists && !zombie(pid)
}

/// True when /proc says `pid` is a zombie (state `Z`); false elsewhere.
fn zombie(pid: libc::pid_t) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // `pid (comm) S …`: the state follows the last `)` (comm may hold any byte).
        stat.rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z")
    })
}

/// Whether a temp file named `name` may be removed by this process: made by
/// driftsync ([`temp_pid`]) in a process that is gone.
pub fn temp_is_stale(name: &str) -> bool {
    temp_pid(name).is_some_and(|pid| pid != std::process::id() && !process_alive(pid))
}

/// A tree of files under a local directory.
#[derive(Clone, Debug)]
pub struct LocalReplica {
    root: PathBuf,
    gitignore: bool,
    threads: usize,
    /// Temp files (by relative path) the last scan passed over.
    leftovers: Arc<Mutex<Vec<String>>>,
}

fn io_err(path: &RelPath, what: &str, e: io::Error) -> ReplicaError {
    match e.kind() {
        io::ErrorKind::NotFound => ReplicaError::NotFound {
            path: path.to_string(),
        },
        io::ErrorKind::PermissionDenied => ReplicaError::PermissionDenied {
            location: path.to_string(),
            source: Box::new(e),
        },
        _ => ReplicaError::other(format!("{path}: {what}"), e),
    }
}

/// A symbolic link in the way: the action fails with this message.
fn refusal(path: &RelPath, message: String) -> ReplicaError {
    ReplicaError::other(
        path.to_string(),
        io::Error::new(io::ErrorKind::InvalidInput, message),
    )
}

fn changed(path: &RelPath, detail: impl Into<String>) -> ReplicaError {
    ReplicaError::Changed {
        path: path.to_string(),
        detail: detail.into(),
    }
}

fn is_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// The version token of a file: 16 hex digits of a 64-bit FNV-1a digest of
/// its inode, size and mtime. Short enough to be stored inline (no heap block
/// per file in every listing); a collision would need two different stat
/// triples of the same path to agree on 64 bits between a scan and a write.
pub fn version_of(st: &Stat) -> SmallStr {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for word in [st.ino, st.size, st.mtime_ns as u64] {
        for b in word.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut hex = [0u8; 16];
    for (i, d) in hex.iter_mut().enumerate() {
        *d = b"0123456789abcdef"[((h >> (60 - 4 * i)) & 15) as usize];
    }
    SmallStr::from(std::str::from_utf8(&hex).unwrap_or_default())
}

fn entry_from(st: &Stat, hash: Hash) -> Entry {
    Entry {
        size: st.size,
        mtime_ns: st.mtime_ns,
        hash,
        version: version_of(st),
        executable: st.mode & 0o111 != 0,
    }
}

/// What a write or delete found where the scan saw `want`, when it is not that.
fn mismatch(found: &io::Result<Stat>, want: &SmallStr) -> Option<String> {
    match found {
        Ok(s) if s.is_file() && version_of(s) == *want => None,
        Ok(s) if s.is_file() => Some(format!("version {} instead of {want}", version_of(s))),
        Ok(s) if s.is_symlink() => Some("now a symbolic link".into()),
        Ok(_) => Some("no longer a regular file".into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Some(format!("missing, expected version {want}"))
        }
        Err(e) => Some(format!("cannot be checked: {e}")),
    }
}

/// Size of the per-thread I/O buffer used for hashing and writing.
const BUF_SIZE: usize = 256 * 1024;

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's I/O buffer (allocated and zeroed once per
/// thread, not once per file: most files are small).
fn with_buf<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < BUF_SIZE {
                buf.resize(BUF_SIZE, 0);
            }
            f(&mut buf)
        }
        Err(_) => f(&mut vec![0u8; BUF_SIZE]),
    })
}

fn hash_reader(mut f: File) -> io::Result<Hash> {
    let mut h = Hash::hasher();
    with_buf(|buf| loop {
        let n = f.read(buf)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    })
}

/// Why a listed file could not be hashed.
enum HashFail {
    /// Removed since the walk saw it.
    Gone,
    /// A symbolic link is in its way now: not followed.
    Link(String),
    /// Anything else fails the scan.
    Io(io::Error),
}

/// Hash `rel` beneath `root`, reusing `cache` (the last directory opened by
/// this thread: files come in path order, so neighbours share it).
fn hash_beneath(
    root: &Dir,
    rel: &str,
    cache: &mut Option<(String, Dir)>,
) -> Result<Hash, HashFail> {
    let (dir, name) = beneath::split(rel);
    if cache.as_ref().is_none_or(|(d, _)| d != dir) {
        *cache = None;
        match root.open_beneath(dir) {
            Ok(d) => *cache = Some((dir.to_string(), d)),
            Err(Refused::Symlink(at)) => return Err(HashFail::Link(at)),
            Err(Refused::Io(e))
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                return Err(HashFail::Gone)
            }
            Err(Refused::Io(e)) => return Err(HashFail::Io(e)),
        }
    }
    let (_, d) = cache.as_ref().expect("opened above");
    match d.open_read(name) {
        Ok(f) => hash_reader(f).map_err(HashFail::Io),
        Err(e) if is_loop(&e) => Err(HashFail::Link(rel.to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(HashFail::Gone),
        Err(e) => Err(HashFail::Io(e)),
    }
}

/// What [`link_out`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkOut {
    /// `dest` is now a second name of the file.
    Linked,
    /// The file is not what the caller expected (another version, or not a
    /// regular file): nothing was linked.
    Changed(String),
}

/// Hard-link `path` of the local replica whose file it is at `file` (as
/// [`Replica::local_file`] gave it: the root joined with `path`) to `dest`,
/// resolving `path` beneath the root without following any symbolic link.
/// With `expect`, the linked file must be that version (inode, size, mtime)
/// or the link is taken back. The engine's hard-link backups use this.
pub fn link_out(
    file: &Path,
    path: &RelPath,
    dest: &Path,
    expect: Option<&str>,
) -> io::Result<LinkOut> {
    let mut root = file;
    for _ in path.as_str().split('/') {
        root = root.parent().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "not a file of the replica")
        })?;
    }
    if root.join(path.as_str()) != file {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file of the replica",
        ));
    }
    let root = Dir::open(root)?;
    let (dir, name) = beneath::split(path.as_str());
    let dir = root.open_beneath(dir).map_err(|e| match e {
        Refused::Symlink(at) => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to read through symbolic link {at}"),
        ),
        Refused::Io(e) => e,
    })?;
    let (dest_dir, dest_name) = match (dest.parent(), dest.file_name()) {
        (Some(d), Some(n)) => (Dir::open(d)?, n),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "no file name")),
    };
    dir.link(name, &dest_dir, dest_name)?;
    let got = dest_dir.stat(&dest_name.to_string_lossy());
    let verdict = match (&got, expect) {
        (Ok(s), _) if !s.is_file() => Some("not a regular file".to_string()),
        (Ok(s), Some(want)) if version_of(s) != want => {
            Some(format!("version {} instead of {want}", version_of(s)))
        }
        (Ok(_), _) => None,
        (Err(e), _) => Some(format!("cannot be checked: {e}")),
    };
    match verdict {
        None => Ok(LinkOut::Linked),
        Some(why) => {
            let _ = fs::remove_file(dest);
            Ok(LinkOut::Changed(why))
        }
    }
}

impl LocalReplica {
    /// A replica rooted at `root` (need not exist yet: it lists empty and is created on first write).
    pub fn new(root: impl Into<PathBuf>) -> LocalReplica {
        LocalReplica {
            root: root.into(),
            gitignore: false,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            leftovers: Arc::default(),
        }
    }

    /// Also apply `.gitignore` files (and git's global excludes) when scanning.
    pub fn respect_gitignore(mut self, yes: bool) -> LocalReplica {
        self.gitignore = yes;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn abs(&self, path: &RelPath) -> PathBuf {
        self.root.join(path.as_str())
    }

    /// A handle on the root (created first when `create`).
    fn open_root(&self, create: bool) -> io::Result<Dir> {
        match Dir::open(&self.root) {
            Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&self.root)?;
                Dir::open(&self.root)
            }
            other => other,
        }
    }

    /// The directory of `path`, beneath `root`, never through a link
    /// (`verb` names the refused operation in the message).
    fn parent(
        &self,
        root: &Dir,
        path: &RelPath,
        create: bool,
        verb: &str,
    ) -> Result<Dir, ReplicaError> {
        let (dir, _) = beneath::split(path.as_str());
        let opened = if create {
            root.create_beneath(dir)
        } else {
            root.open_beneath(dir)
        };
        opened.map_err(|e| match e {
            Refused::Symlink(at) => refusal(
                path,
                format!("refusing to {verb} through symbolic link {at}"),
            ),
            Refused::Io(e) if e.raw_os_error() == Some(libc::ENOTDIR) => ReplicaError::NotFound {
                path: path.to_string(),
            },
            Refused::Io(e) => io_err(path, "opening its directory", e),
        })
    }

    /// Remove now-empty directories from `dir` up to (not including) the root.
    fn prune(&self, root: &Dir, dir: Option<RelPath>) {
        let Some(dir) = dir else {
            return;
        };
        let mut d = dir.as_str();
        while !d.is_empty() {
            let (up, name) = beneath::split(d);
            let Ok(parent) = root.open_beneath(up) else {
                return;
            };
            if parent.rmdir(name).is_err() {
                return;
            }
            d = up;
        }
    }

    /// Write `content` to a new temp file `tmp` in `dir` (mode and mtime
    /// from `meta`); the file stays open (its inode is ours).
    fn write_temp(
        &self,
        dir: &Dir,
        tmp: &str,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
    ) -> Result<(File, Hash), ReplicaError> {
        let result = (|| -> io::Result<(File, Hash)> {
            let mut f = dir.open_file(tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)?;
            let mut h = Hash::hasher();
            with_buf(|buf| -> io::Result<()> {
                loop {
                    let n = content.read(buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    h.update(&buf[..n]);
                    f.write_all(&buf[..n])?;
                }
            })?;
            let mode = if meta.executable { 0o755 } else { 0o644 };
            f.set_permissions(fs::Permissions::from_mode(mode))?;
            let mtime = filetime::FileTime::from_unix_time(
                meta.mtime_ns.div_euclid(1_000_000_000),
                meta.mtime_ns.rem_euclid(1_000_000_000) as u32,
            );
            filetime::set_file_handle_times(&f, None, Some(mtime))?;
            crate::fault::crash_point();
            Ok((f, h.finish()))
        })();
        result.map_err(|e| {
            if e.kind() != io::ErrorKind::AlreadyExists {
                let _ = dir.unlink(tmp);
            }
            io_err(path, "writing a temp file", e)
        })
    }

    /// Put what is at `tmp` in `dir` back at `name` (it is not ours: someone
    /// else's edit moved aside by a conditional step): at the name when it
    /// is free, else beside it, never over anything. Returns where it went.
    fn put_back(&self, dir: &Dir, tmp: &str, name: &str) -> String {
        match dir.rename2(tmp, name, Rename::NoReplace) {
            Ok(()) => return name.to_string(),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                if dir.link(tmp, dir, std::ffi::OsStr::new(name)).is_ok() {
                    let _ = dir.unlink(tmp);
                    return name.to_string();
                }
            }
            Err(_) => {}
        }
        let kept = {
            let tail = format!(
                ".driftsync-kept-{}",
                &temp_name("")[TEMP_MARKER.len() + 1..]
            );
            if name.len() + tail.len() <= NAME_MAX {
                format!("{name}{tail}")
            } else {
                format!("{}{tail}", &Hash::of(name.as_bytes()).to_hex()[..16])
            }
        };
        match dir.rename2(tmp, &kept, Rename::NoReplace) {
            Ok(()) => kept,
            Err(_) => tmp.to_string(),
        }
    }

    /// Replace `name` in `dir` by our temp file `tmp` (as `ours` says it
    /// was written) if it still is version `want`: swap the two names
    /// atomically, then look at what was swapped out; not the expected
    /// version → swap back.
    fn replace_if(
        &self,
        dir: &Dir,
        tmp: &str,
        name: &str,
        ours: &Stat,
        path: &RelPath,
        want: &SmallStr,
    ) -> Result<(), ReplicaError> {
        match dir.rename2(tmp, name, Rename::Exchange) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                // No atomic exchange here (file system or system): check, then
                // rename — an edit landing between the two is replaced (its
                // backup is the version the check saw).
                let found = dir.stat(name);
                if let Some(detail) = mismatch(&found, want) {
                    let _ = dir.unlink(tmp);
                    return Err(changed(path, detail));
                }
                crate::fault::crash_point();
                return dir.rename(tmp, name).map_err(|e| {
                    let _ = dir.unlink(tmp);
                    io_err(path, "renaming into place", e)
                });
            }
            Err(e) => {
                let _ = dir.unlink(tmp);
                return Err(match e.kind() {
                    io::ErrorKind::NotFound => {
                        changed(path, format!("missing, expected version {want}"))
                    }
                    _ => io_err(path, "swapping into place", e),
                });
            }
        }
        // `tmp` now names what was at `name`.
        let swapped_out = dir.stat(tmp);
        let Some(detail) = mismatch(&swapped_out, want) else {
            // What the scan saw (its backup, a hard link, keeps it).
            let _ = dir.unlink(tmp);
            return Ok(());
        };
        // Someone changed it since the scan: swap back and leave theirs alone.
        match dir.rename2(tmp, name, Rename::Exchange) {
            Ok(())
                if dir.stat(tmp).is_ok_and(|s| {
                    s.ino == ours.ino && s.size == ours.size && s.mtime_ns == ours.mtime_ns
                }) =>
            {
                let _ = dir.unlink(tmp);
                Err(changed(path, detail))
            }
            Ok(()) => {
                // A third version arrived in between (or our file was
                // edited in place while it was at the name): keep it too.
                let kept = self.put_back(dir, tmp, &format!("{name}.edited"));
                Err(changed(
                    path,
                    format!("{detail}; another edit kept as {kept}"),
                ))
            }
            Err(_) => {
                // `name` went away meanwhile: what we swapped out goes back.
                let back = self.put_back(dir, tmp, name);
                Err(changed(path, format!("{detail}; the edit is at {back}")))
            }
        }
    }
}

impl Replica for LocalReplica {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            conditional_write: true,
            conditional_delete: true,
            preserves_mtime: true,
            preserves_executable: true,
        }
    }

    fn scan(&self, request: &ScanRequest<'_>) -> Result<Scan, ReplicaError> {
        let filter = PathFilter::new(request.include, request.exclude)?;
        let mut scan = Scan::default();
        let unavailable = |e: io::Error| ReplicaError::Unavailable {
            location: self.location(),
            source: Box::new(e),
        };
        let root = match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => Dir::open(&self.root).map_err(unavailable)?,
            Ok(_) => {
                return Err(ReplicaError::Unavailable {
                    location: self.location(),
                    source: "not a directory".into(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(scan),
            Err(e) => return Err(unavailable(e)),
        };
        let racy_from = request
            .prior_written_ns
            .map(|w| w.div_euclid(1_000_000_000) * 1_000_000_000);
        // The walk and the prior snapshot are both in RelPath order: a merge.
        // Asked for changes only, a file identical to its prior entry is not
        // listed; its flag in `same` says it is still there.
        let changes_only = request.changes_only && request.prior.is_some();
        let mut same = vec![
            false;
            request
                .prior
                .filter(|_| changes_only)
                .map_or(0, |p| p.len())
        ];
        let mut prior = request.prior.map(|p| p.iter().enumerate().peekable());
        let mut entries: Vec<(RelPath, Entry)> = Vec::new();
        // Per listed file: true when it must be read to hash it.
        let mut unknown: Vec<bool> = Vec::new();
        let mut leftovers = Vec::new();
        let walk = walk::Walk {
            root: &self.root,
            root_dir: &root,
            filter: &filter,
            gitignore: self.gitignore,
        };
        walk.run(|item| {
            let (rel_str, dir, name) = match item {
                walk::Item::Note(n) => return scan.notes.push(n),
                walk::Item::File { rel, dir, name } => (rel, dir, name),
            };
            if temp_pid(&name).is_some() {
                // A temp file of a driftsync run (this one's, a concurrent
                // one's, or a killed one's): never listed; the run holding the
                // lock removes those of gone processes (`remove_leftovers`).
                leftovers.push(rel_str);
                return;
            }
            if !filter.matches(&rel_str) {
                return;
            }
            let rel = match RelPath::new(rel_str) {
                Ok(r) => r,
                Err(e) => {
                    let path = match &e {
                        driftsync_core::RelPathError::BadChar(s)
                        | driftsync_core::RelPathError::BadSegment(s)
                        | driftsync_core::RelPathError::Absolute(s) => s.clone(),
                        driftsync_core::RelPathError::Empty => String::new(),
                    };
                    scan.notes.push(ScanNote {
                        path,
                        reason: format!("{e}; skipped"),
                    });
                    return;
                }
            };
            let meta = match dir.stat(&name) {
                Ok(m) if m.is_file() => m,
                Ok(m) if m.is_symlink() => {
                    scan.notes.push(ScanNote {
                        path: rel.to_string(),
                        reason: "symbolic link; not followed, not synced".into(),
                    });
                    return;
                }
                Ok(_) => {
                    scan.notes.push(ScanNote {
                        path: rel.to_string(),
                        reason: "not a regular file; skipped".into(),
                    });
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                Err(e) => {
                    scan.notes.push(ScanNote {
                        path: rel.to_string(),
                        reason: format!("not read: {e}"),
                    });
                    return;
                }
            };
            if let Some(p) = &request.progress {
                p.listed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            debug_assert!(
                entries.last().is_none_or(|(last, _)| *last < rel),
                "the walk is out of order at {rel}"
            );
            let mut entry = entry_from(&meta, Hash([0; 32]));
            let mut known = false;
            if let Some(cursor) = prior.as_mut() {
                while cursor.next_if(|(_, (p, _))| **p < rel).is_some() {}
                if let Some((i, (_, p))) = cursor.next_if(|(_, (p, _))| **p == rel) {
                    if p.version == entry.version && racy_from.is_some_and(|r| entry.mtime_ns < r) {
                        entry.hash = p.hash;
                        if changes_only && *p == entry {
                            same[i] = true;
                            return;
                        }
                        known = true;
                    }
                }
            }
            entries.push((rel, entry));
            unknown.push(!known);
        });
        *self.leftovers.lock().unwrap_or_else(|e| e.into_inner()) = leftovers;
        scan.hashed = unknown.iter().filter(|u| **u).count();
        if let Some(p) = &request.progress {
            let bytes = entries.iter().zip(&unknown).filter(|(_, u)| **u);
            let bytes: u64 = bytes.map(|((_, e), _)| e.size).sum();
            p.to_hash
                .store(scan.hashed as u64, std::sync::atomic::Ordering::Relaxed);
            p.to_hash_bytes
                .store(bytes, std::sync::atomic::Ordering::Relaxed);
        }
        // Hash in parallel, in place: threads take chunks of the listing.
        const CHUNK: usize = 64;
        let failed: Mutex<Vec<(usize, HashFail)>> = Mutex::new(Vec::new());
        let work = Mutex::new(
            entries
                .chunks_mut(CHUNK)
                .zip(unknown.chunks(CHUNK))
                .enumerate()
                .filter(|(_, (_, u))| u.iter().any(|u| *u)),
        );
        std::thread::scope(|s| {
            for _ in 0..self.threads.min(scan.hashed).max(1) {
                s.spawn(|| {
                    let mut cache = None;
                    loop {
                        let next = work.lock().unwrap_or_else(|e| e.into_inner()).next();
                        let Some((c, (chunk, unknown))) = next else {
                            break;
                        };
                        for (k, ((rel, entry), _)) in chunk
                            .iter_mut()
                            .zip(unknown)
                            .enumerate()
                            .filter(|(_, (_, u))| **u)
                        {
                            let hashed = hash_beneath(&root, rel.as_str(), &mut cache);
                            if let Some(p) = &request.progress {
                                use std::sync::atomic::Ordering::Relaxed;
                                p.hashed.fetch_add(1, Relaxed);
                                p.hashed_bytes.fetch_add(entry.size, Relaxed);
                            }
                            match hashed {
                                Ok(h) => entry.hash = h,
                                Err(e) => failed
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push((c * CHUNK + k, e)),
                            }
                        }
                    }
                });
            }
        });
        let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
        failed.sort_by_key(|(i, _)| *i);
        let mut gone = Vec::new();
        for (i, e) in failed {
            match e {
                HashFail::Gone => {}
                HashFail::Link(at) => scan.notes.push(ScanNote {
                    path: at,
                    reason: "symbolic link; not followed, not synced".into(),
                }),
                HashFail::Io(e) => return Err(io_err(&entries[i].0, "reading to hash", e)),
            }
            gone.push(i); // removed (or replaced by a link) since the walk saw it
        }
        if !gone.is_empty() {
            let mut at = 0;
            entries.retain(|_| {
                at += 1;
                gone.binary_search(&(at - 1)).is_err()
            });
        }
        // `entries` is in RelPath order (the walk's).
        scan.snapshot = Snapshot::from_sorted(entries);
        scan.unchanged = changes_only.then_some(same);
        scan.notes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(scan)
    }

    /// Writes swap a new file in for the old one and removes rename it away
    /// before unlinking it, so the old inode's content is never changed by
    /// driftsync: a hard link to it is a backup. The path is the root joined
    /// with `path`; resolve it beneath the root ([`link_out`]), never by
    /// itself (a directory on the way may be a symbolic link).
    fn local_file(&self, path: &RelPath) -> Option<PathBuf> {
        Some(self.abs(path))
    }

    fn remove_leftovers(&self) -> usize {
        let mut found =
            std::mem::take(&mut *self.leftovers.lock().unwrap_or_else(|e| e.into_inner()));
        let Ok(root) = Dir::open(&self.root) else {
            return 0;
        };
        // Scans never enter `.driftsync/`: the temp files of the engine's own
        // records (journal, lease) a killed run left are looked for here.
        for records in ["journal", "lease"] {
            let dir = format!("{STATE_DIR}/{records}");
            let Ok(d) = root.open_beneath(&dir) else {
                continue;
            };
            for (name, _) in d.list().unwrap_or_default() {
                if let Some(name) = name.to_str().filter(|n| temp_pid(n).is_some()) {
                    found.push(format!("{dir}/{name}"));
                }
            }
        }
        let mut removed = 0;
        for rel in found {
            let (dir, name) = beneath::split(&rel);
            if !temp_is_stale(name) {
                continue;
            }
            let Ok(d) = root.open_beneath(dir) else {
                continue;
            };
            if !d.stat(name).is_ok_and(|s| s.is_file()) {
                continue;
            }
            match name.rfind(ASIDE_MARKER).filter(|_| name.starts_with('.')) {
                // A file a killed delete had moved aside: back it goes (or,
                // when its name was taken meanwhile, beside it).
                Some(at) => {
                    self.put_back(&d, name, &name[1..at]);
                    removed += 1;
                }
                None => {
                    if d.unlink(name).is_ok() {
                        removed += 1;
                    }
                }
            }
        }
        removed
    }

    fn read(&self, path: &RelPath) -> Result<Box<dyn Read + Send + '_>, ReplicaError> {
        let not_found = || ReplicaError::NotFound {
            path: path.to_string(),
        };
        let root = match self.open_root(false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
            other => other.map_err(|e| io_err(path, "opening the root", e))?,
        };
        let dir = self.parent(&root, path, false, "read")?;
        let f = match dir.open_read(path.file_name()) {
            Ok(f) => f,
            Err(e) if is_loop(&e) => {
                return Err(refusal(
                    path,
                    format!("refusing to read symbolic link {path}"),
                ))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Err(not_found()),
            Err(e) => return Err(io_err(path, "opening", e)),
        };
        // Reads of at least the capacity (the engine's copies) bypass the buffer;
        // small ones (`io::copy`) are batched.
        Ok(Box::new(io::BufReader::with_capacity(64 * 1024, f)))
    }

    fn write(
        &self,
        path: &RelPath,
        content: &mut dyn Read,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let root = self
            .open_root(true)
            .map_err(|e| io_err(path, "opening the root", e))?;
        let dir = self.parent(&root, path, true, "write")?;
        let name = path.file_name();
        let tmp = temp_name(name);
        let (file, hash) = self.write_temp(&dir, &tmp, path, content, meta)?;
        let ours = beneath::fstat(&file).map_err(|e| io_err(path, "writing a temp file", e))?;
        match expect {
            // An exclusive rename: one step, and never over a file that
            // appeared meanwhile; where the filesystem has no such rename, a
            // hard link does the same (and the temp name is removed).
            Expect::Absent => {
                let placed = match dir.rename2(&tmp, name, Rename::NoReplace) {
                    Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                        dir.link(&tmp, &dir, std::ffi::OsStr::new(name)).map(|()| {
                            let _ = dir.unlink(&tmp);
                        })
                    }
                    other => other,
                };
                if let Err(e) = placed {
                    let _ = dir.unlink(&tmp);
                    return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                        if dir.stat(name).is_ok_and(|s| s.is_symlink()) {
                            refusal(path, format!("refusing to replace symbolic link {path}"))
                        } else {
                            changed(path, "exists")
                        }
                    } else {
                        io_err(path, "moving into place", e)
                    });
                }
            }
            Expect::Version(want) => self.replace_if(&dir, &tmp, name, &ours, path, want)?,
            Expect::Any => {
                if dir.stat(name).is_ok_and(|s| s.is_symlink()) {
                    let _ = dir.unlink(&tmp);
                    return Err(refusal(
                        path,
                        format!("refusing to replace symbolic link {path}"),
                    ));
                }
                dir.rename(&tmp, name).map_err(|e| {
                    let _ = dir.unlink(&tmp);
                    io_err(path, "renaming into place", e)
                })?;
            }
        }
        let now = beneath::fstat(&file).map_err(|e| io_err(path, "checking the result", e))?;
        Ok(entry_from(&now, hash))
    }

    /// A `chmod` (and the mtime) in place: the content is not rewritten.
    fn set_meta(
        &self,
        path: &RelPath,
        meta: &WriteMeta,
        expect: &Expect,
    ) -> Result<Entry, ReplicaError> {
        let root = match self.open_root(false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(changed(path, "missing"));
            }
            other => other.map_err(|e| io_err(path, "opening the root", e))?,
        };
        let dir = self.parent(&root, path, false, "change")?;
        let f = match dir.open_file(path.file_name(), libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if is_loop(&e) => {
                return Err(refusal(
                    path,
                    format!("refusing to change symbolic link {path}"),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(changed(path, "missing"));
            }
            Err(e) => return Err(io_err(path, "opening", e)),
        };
        let before = beneath::fstat(&f);
        if let Expect::Version(want) = expect {
            if let Some(detail) = mismatch(&before, want) {
                return Err(changed(path, detail));
            }
        }
        let before = before.map_err(|e| io_err(path, "reading its metadata", e))?;
        if !before.is_file() {
            return Err(changed(path, "no longer a regular file"));
        }
        let mode = before.mode & 0o7777;
        // Executable: x wherever r is set; otherwise no x bit at all.
        let mode = if meta.executable {
            mode | ((mode & 0o444) >> 2)
        } else {
            mode & !0o111
        };
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| io_err(path, "changing its mode", e))?;
        let mtime = filetime::FileTime::from_unix_time(
            meta.mtime_ns.div_euclid(1_000_000_000),
            meta.mtime_ns.rem_euclid(1_000_000_000) as u32,
        );
        filetime::set_file_handle_times(&f, None, Some(mtime))
            .map_err(|e| io_err(path, "setting its mtime", e))?;
        let m = beneath::fstat(&f).map_err(|e| io_err(path, "checking the result", e))?;
        if m.size != meta.size {
            return Err(changed(
                path,
                format!("size {} instead of {}", m.size, meta.size),
            ));
        }
        Ok(entry_from(&m, meta.hash))
    }

    /// Records live in the root's `.driftsync/` folder, which scans never enter.
    fn keeps_records(&self) -> bool {
        true
    }

    fn version(&self, path: &RelPath) -> Result<Option<SmallStr>, ReplicaError> {
        let root = match self.open_root(false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            other => other.map_err(|e| io_err(path, "opening the root", e))?,
        };
        let dir = match self.parent(&root, path, false, "read") {
            Err(ReplicaError::NotFound { .. }) => return Ok(None),
            other => other?,
        };
        match dir.stat(path.file_name()) {
            Ok(st) if st.is_file() => Ok(Some(version_of(&st))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok(None),
            Err(e) => Err(io_err(path, "checking its version", e)),
        }
    }

    fn remove(&self, path: &RelPath, expect: &Expect) -> Result<(), ReplicaError> {
        let missing = || match expect {
            Expect::Version(want) => {
                Err(changed(path, format!("missing, expected version {want}")))
            }
            _ => Ok(()),
        };
        let root = match self.open_root(false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return missing(),
            other => other.map_err(|e| io_err(path, "opening the root", e))?,
        };
        let dir = match self.parent(&root, path, false, "delete") {
            Err(ReplicaError::NotFound { .. }) => return missing(),
            other => other?,
        };
        let name = path.file_name();
        match expect {
            Expect::Version(want) => {
                // Move it aside first, then look at what was moved: only
                // the version the scan saw is deleted.
                let tmp = marked_name(name, ASIDE_MARKER);
                match dir.rename2(name, &tmp, Rename::NoReplace) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                        if let Some(detail) = mismatch(&dir.stat(name), want) {
                            return Err(changed(path, detail));
                        }
                        dir.rename(name, &tmp)
                            .map_err(|e| io_err(path, "moving aside", e))?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return missing(),
                    Err(e) => return Err(io_err(path, "moving aside", e)),
                }
                if let Some(detail) = mismatch(&dir.stat(&tmp), want) {
                    let back = self.put_back(&dir, &tmp, name);
                    let detail = if back == name {
                        detail
                    } else {
                        format!("{detail}; the edit is at {back}")
                    };
                    return Err(changed(path, detail));
                }
                crate::fault::crash_point();
                dir.unlink(&tmp).map_err(|e| io_err(path, "removing", e))?;
            }
            Expect::Absent | Expect::Any => match dir.stat(name) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Ok(_) if *expect == Expect::Absent => return Err(changed(path, "exists")),
                Ok(s) if s.is_symlink() => {
                    return Err(refusal(
                        path,
                        format!("refusing to delete symbolic link {path}"),
                    ))
                }
                _ => match dir.unlink(name) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(path, "removing", e)),
                },
            },
        }
        self.prune(&root, path.parent());
        Ok(())
    }
}

mod beneath;
mod walk;

#[cfg(test)]
mod tests;
