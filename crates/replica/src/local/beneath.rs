//! Paths resolved beneath an open directory, never through a symbolic link.
//!
//! Every read, write and delete of [`LocalReplica`](super::LocalReplica)
//! starts from a handle on its root and reaches a file's directory with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the kernel has it
//! (Linux 5.6+), else one `openat(O_DIRECTORY | O_NOFOLLOW)` per component.
//! The file itself is then named relative to that directory handle
//! (`openat(O_NOFOLLOW)`, `renameat2`, `linkat`, `unlinkat`, `fstatat` with
//! `AT_SYMLINK_NOFOLLOW`): a symbolic link anywhere below the root is refused,
//! never followed, whatever it points to and whenever it appeared.

// `stat` field and `S_IF*` types differ between Unix systems: the casts are
// no-ops on Linux only.
#![allow(clippy::unnecessary_cast)]

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

/// Why a directory below the root could not be reached.
#[derive(Debug)]
pub enum Refused {
    /// A component is a symbolic link: its path from the root, ending in `/`.
    Symlink(String),
    /// Anything else (a component missing: `NotFound`; a file: `ENOTDIR`).
    Io(io::Error),
}

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Refused {
        Refused::Io(e)
    }
}

/// A name as a C string (a NUL byte is refused).
pub fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a name"))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// What `fstatat` says about a name (never following a link).
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
}

impl Stat {
    fn from(st: &libc::stat) -> Stat {
        Stat {
            ino: st.st_ino as u64,
            size: st.st_size as u64,
            mtime_ns: (st.st_mtime as i64)
                .saturating_mul(1_000_000_000)
                .saturating_add(st.st_mtime_nsec as i64),
            mode: st.st_mode as u32,
        }
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.mode & libc::S_IFMT as u32 == libc::S_IFREG as u32
    }

    /// A symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT as u32 == libc::S_IFLNK as u32
    }
}

/// `fstat` of an open file.
pub fn fstat(f: &impl AsRawFd) -> io::Result<Stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat fills `st` on success.
    cvt(unsafe { libc::fstat(f.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: initialised by the successful call.
    Ok(Stat::from(unsafe { &st.assume_init() }))
}

/// 0: not tried yet, 1: openat2 works, 2: not available (component walk).
static OPENAT2: AtomicU8 = AtomicU8::new(0);

/// An open directory.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

impl AsRawFd for Dir {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

const DIR_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;

impl Dir {
    /// Open `path` (the root: a link in the root's own path is the user's
    /// choice and is followed).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))?;
        // SAFETY: a valid C string; the fd is owned on success.
        let fd = cvt(unsafe { libc::open(c.as_ptr(), DIR_FLAGS) })?;
        // SAFETY: a fresh descriptor we own.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn openat_dir(&self, name: &str) -> io::Result<Dir> {
        let c = c_name(name)?;
        // SAFETY: valid fd and C string.
        let fd = cvt(unsafe {
            libc::openat(self.as_raw_fd(), c.as_ptr(), DIR_FLAGS | libc::O_NOFOLLOW)
        })?;
        // SAFETY: a fresh descriptor we own.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// A second handle on the same directory.
    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
        })
    }

    /// The directory `rel` (`/`-separated, no `.` or `..`, "" for this one)
    /// beneath this one, refusing every symbolic link on the way.
    pub fn open_beneath(&self, rel: &str) -> Result<Dir, Refused> {
        if rel.is_empty() {
            return Ok(self.try_clone()?);
        }
        #[cfg(target_os = "linux")]
        if OPENAT2.load(Ordering::Relaxed) != 2 {
            match self.openat2_dir(rel) {
                Ok(d) => {
                    OPENAT2.store(1, Ordering::Relaxed);
                    return Ok(d);
                }
                // A link (ELOOP), an escape (EXDEV, never for a RelPath) or a
                // component that is not a directory: the walk says which.
                Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::EXDEV)) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG)
                    ) && OPENAT2.load(Ordering::Relaxed) == 0 =>
                {
                    // Not available here (old kernel, seccomp): walk from now on.
                    OPENAT2.store(2, Ordering::Relaxed);
                }
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(e) => return Err(Refused::Io(e)),
            }
        }
        self.walk(rel, false)
    }

    /// Like [`Dir::open_beneath`], creating missing directories (`mkdirat`).
    pub fn create_beneath(&self, rel: &str) -> Result<Dir, Refused> {
        match self.open_beneath(rel) {
            Err(Refused::Io(e)) if e.kind() == io::ErrorKind::NotFound => self.walk(rel, true),
            other => other,
        }
    }

    #[cfg(target_os = "linux")]
    fn openat2_dir(&self, rel: &str) -> io::Result<Dir> {
        #[repr(C)]
        struct OpenHow {
            flags: u64,
            mode: u64,
            resolve: u64,
        }
        const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
        const RESOLVE_NO_SYMLINKS: u64 = 0x04;
        const RESOLVE_BENEATH: u64 = 0x08;
        let how = OpenHow {
            flags: (DIR_FLAGS | libc::O_NOFOLLOW) as u64,
            mode: 0,
            resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        let c = c_name(rel)?;
        // SAFETY: valid fd, C string and struct of the size passed.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.as_raw_fd(),
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) },
        })
    }

    /// One `openat(O_NOFOLLOW | O_DIRECTORY)` per component (and `mkdirat`
    /// of missing ones when `create`).
    fn walk(&self, rel: &str, create: bool) -> Result<Dir, Refused> {
        let mut cur: Option<Dir> = None;
        let mut done = 0usize;
        for comp in rel.split('/') {
            if comp.is_empty() || comp == "." || comp == ".." {
                return Err(Refused::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("not a path below the root: {rel}"),
                )));
            }
            let at = cur.as_ref().unwrap_or(self);
            let next = match at.openat_dir(comp) {
                Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                    match at.mkdir(comp) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(Refused::Io(e)),
                    }
                    at.openat_dir(comp)
                }
                other => other,
            };
            done += comp.len() + 1;
            match next {
                Ok(d) => cur = Some(d),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                    if at.stat(comp).is_ok_and(|s| s.is_symlink()) {
                        return Err(Refused::Symlink(format!("{}/", &rel[..done - 1])));
                    }
                    return Err(Refused::Io(e));
                }
                Err(e) => return Err(Refused::Io(e)),
            }
        }
        match cur {
            Some(d) => Ok(d),
            None => Ok(self.try_clone()?),
        }
    }

    /// `fstatat(name, AT_SYMLINK_NOFOLLOW)`.
    pub fn stat(&self, name: &str) -> io::Result<Stat> {
        let c = c_name(name)?;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: valid fd, C string and out pointer.
        cvt(unsafe {
            libc::fstatat(
                self.as_raw_fd(),
                c.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        // SAFETY: initialised by the successful call.
        Ok(Stat::from(unsafe { &st.assume_init() }))
    }

    /// `openat(name, flags | O_NOFOLLOW | O_CLOEXEC, mode)`: a link is `ELOOP`.
    pub fn open_file(&self, name: &str, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let c = c_name(name)?;
        // SAFETY: valid fd and C string.
        let fd = cvt(unsafe {
            libc::openat(
                self.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        })?;
        // SAFETY: a fresh descriptor we own.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Open a regular file for reading; a link is refused (`ELOOP`), and
    /// anything else that is not a regular file is `NotFound` (a FIFO is
    /// opened non-blocking, so it cannot hang the read).
    pub fn open_read(&self, name: &str) -> io::Result<File> {
        let f = self.open_file(name, libc::O_RDONLY | libc::O_NONBLOCK, 0)?;
        if !fstat(&f)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "not a regular file",
            ));
        }
        // Back to blocking reads (no effect on a regular file, but tidy).
        // SAFETY: valid fd.
        unsafe {
            let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
            if fl >= 0 {
                libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
            }
        }
        Ok(f)
    }

    /// `mkdirat(name, 0777)` (less the umask).
    pub fn mkdir(&self, name: &str) -> io::Result<()> {
        let c = c_name(name)?;
        // SAFETY: valid fd and C string.
        cvt(unsafe { libc::mkdirat(self.as_raw_fd(), c.as_ptr(), 0o777) }).map(drop)
    }

    /// `unlinkat(name)` of a file (a link itself, never its target).
    pub fn unlink(&self, name: &str) -> io::Result<()> {
        let c = c_name(name)?;
        // SAFETY: valid fd and C string.
        cvt(unsafe { libc::unlinkat(self.as_raw_fd(), c.as_ptr(), 0) }).map(drop)
    }

    /// `unlinkat(name, AT_REMOVEDIR)` of an empty directory.
    pub fn rmdir(&self, name: &str) -> io::Result<()> {
        let c = c_name(name)?;
        // SAFETY: valid fd and C string.
        cvt(unsafe { libc::unlinkat(self.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
    }

    /// `linkat(self/from → to_dir/to)`, not following a link at `from` (a
    /// link to a link is a link: callers check what they linked).
    pub fn link(&self, from: &str, to_dir: &Dir, to: &OsStr) -> io::Result<()> {
        let (f, t) = (c_name(from)?, CString::new(to.as_bytes())?);
        // SAFETY: valid fds and C strings.
        cvt(unsafe {
            libc::linkat(
                self.as_raw_fd(),
                f.as_ptr(),
                to_dir.as_raw_fd(),
                t.as_ptr(),
                0,
            )
        })
        .map(drop)
    }

    /// `renameat(from → to)` within this directory, replacing `to`.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (f, t) = (c_name(from)?, c_name(to)?);
        // SAFETY: valid fd and C strings.
        cvt(unsafe { libc::renameat(self.as_raw_fd(), f.as_ptr(), self.as_raw_fd(), t.as_ptr()) })
            .map(drop)
    }

    /// `renameat2(from, to, flags)` within this directory. Where the system
    /// has no `renameat2`, or the file system does not support the flag, the
    /// error is `Unsupported`.
    pub fn rename2(&self, from: &str, to: &str, flags: Rename) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let (f, t) = (c_name(from)?, c_name(to)?);
            let flag: libc::c_uint = match flags {
                Rename::Exchange => 2,  // RENAME_EXCHANGE
                Rename::NoReplace => 1, // RENAME_NOREPLACE
            };
            // SAFETY: valid fd and C strings.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_renameat2,
                    self.as_raw_fd(),
                    f.as_ptr(),
                    self.as_raw_fd(),
                    t.as_ptr(),
                    flag,
                )
            };
            if r == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("renameat2 {flags:?}: {e}"),
                )),
                _ => Err(e),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (from, to);
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("renameat2 {flags:?}: not on this system"),
            ))
        }
    }

    /// The names in this directory (not `.` and `..`), with the type the
    /// listing gives (`d_type`; `None` when the file system does not say).
    pub fn list(&self) -> io::Result<Vec<(std::ffi::OsString, Option<Kind>)>> {
        let fd = self.fd.try_clone()?;
        // SAFETY: fdopendir takes ownership of a valid descriptor on success.
        let dir = unsafe { libc::fdopendir(fd.as_raw_fd()) };
        if dir.is_null() {
            return Err(io::Error::last_os_error());
        }
        std::mem::forget(fd); // owned by `dir` now, closed by closedir
                              // SAFETY: a fresh stream; rewinding reads the whole directory even
                              // when the cloned descriptor's offset was shared.
        unsafe { libc::rewinddir(dir) };
        let mut out = Vec::new();
        let result = loop {
            clear_errno();
            // SAFETY: a valid stream.
            let ent = unsafe { libc::readdir(dir) };
            if ent.is_null() {
                let e = io::Error::last_os_error();
                break if e.raw_os_error().unwrap_or(0) == 0 {
                    Ok(())
                } else {
                    Err(e)
                };
            }
            // SAFETY: readdir returned a valid entry, valid until the next call.
            let (name, t) = unsafe {
                let ent = &*ent;
                (
                    std::ffi::CStr::from_ptr(ent.d_name.as_ptr())
                        .to_bytes()
                        .to_vec(),
                    ent.d_type,
                )
            };
            if name == b"." || name == b".." {
                continue;
            }
            let kind = match t {
                libc::DT_REG => Some(Kind::File),
                libc::DT_DIR => Some(Kind::Dir),
                libc::DT_LNK => Some(Kind::Symlink),
                libc::DT_UNKNOWN => None,
                _ => Some(Kind::Other),
            };
            out.push((std::ffi::OsString::from_vec(name), kind));
        };
        // SAFETY: closes the stream and its descriptor.
        unsafe { libc::closedir(dir) };
        result.map(|()| out)
    }
}

use std::os::unix::ffi::OsStringExt;

/// Clear `errno` (to tell the end of a listing from an error).
fn clear_errno() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: this thread's errno.
    unsafe {
        *libc::__errno_location() = 0
    };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    // SAFETY: this thread's errno.
    unsafe {
        *libc::__error() = 0
    };
}

/// What a directory entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

impl Kind {
    /// From a `st_mode`.
    pub fn of(st: &Stat) -> Kind {
        match st.mode & libc::S_IFMT as u32 {
            m if m == libc::S_IFREG as u32 => Kind::File,
            m if m == libc::S_IFDIR as u32 => Kind::Dir,
            m if m == libc::S_IFLNK as u32 => Kind::Symlink,
            _ => Kind::Other,
        }
    }
}

/// The flags of [`Dir::rename2`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rename {
    /// Swap the two names atomically (both must exist).
    Exchange,
    /// Fail with `AlreadyExists` when the target exists.
    NoReplace,
}

/// Whether a path from the root is a `/`-separated relative path; split
/// into (directory, file name).
pub fn split(rel: &str) -> (&str, &str) {
    match rel.rfind('/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => ("", rel),
    }
}
