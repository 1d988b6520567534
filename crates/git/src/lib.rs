//! driftsync's git access: the only crate that imports `git2`.
//!
//! Callers see plain strings and this crate's [`GitError`], never git2 types.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

mod branch;
mod push;

pub use branch::{BranchPush, SameFile};
pub use push::{https_supported, PushDestination, PushOutcome, TOKEN_USER};

use git2::{Repository, Signature, Status, StatusOptions};

/// The author of commits made in GitHub Actions.
pub const ACTIONS_BOT_NAME: &str = "github-actions[bot]";
/// The e-mail of [`ACTIONS_BOT_NAME`].
pub const ACTIONS_BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

/// A git failure.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository at or above the directory.
    #[error("{} is not inside a git repository (run `git init`, or pass -C DIR)", .0.display())]
    NotARepository(PathBuf),
    /// A path given is outside the working tree.
    #[error("{0} is outside the repository's working tree")]
    OutsideWorkTree(String),
    /// The run's commit has nowhere to go (detached HEAD, no remote).
    #[error("nowhere to push: {0}")]
    NoPushDestination(String),
    /// The remote refused the credentials (HTTP 401 or 403, or a token it
    /// turned down): the token is missing, wrong, or may not push.
    #[error("git: {message}")]
    Denied {
        /// What the remote said.
        message: String,
        /// git's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Anything else git2 reported, git's error kept as the cause.
    #[error("git: {message}")]
    Library {
        /// What git said.
        message: String,
        /// git's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A git operation driftsync refuses or cannot finish (the message says why).
    #[error("git: {0}")]
    Git(String),
}

impl From<git2::Error> for GitError {
    fn from(e: git2::Error) -> GitError {
        if is_denied(&e) {
            GitError::Denied {
                message: e.message().to_string(),
                source: Box::new(e),
            }
        } else {
            GitError::Library {
                message: e.message().to_string(),
                source: Box::new(e),
            }
        }
    }
}

/// A unified diff of two texts as git prints it (`--- a/OLD`, `+++ b/NEW`,
/// hunks with three lines of context); empty when they are equal.
pub fn unified_diff(
    old: &[u8],
    old_name: &str,
    new: &[u8],
    new_name: &str,
) -> Result<String, GitError> {
    let mut patch = git2::Patch::from_buffers(
        old,
        Some(Path::new(old_name)),
        new,
        Some(Path::new(new_name)),
        None,
    )?;
    Ok(String::from_utf8_lossy(&patch.to_buf()?).into_owned())
}

/// True when git2's error is the remote turning the credentials down:
/// libgit2's authentication code, an HTTP 401 or 403 status, or our own
/// credentials callback refusing to offer the same token twice. Decided
/// here, once, where the error still has its class and code.
fn is_denied(e: &git2::Error) -> bool {
    let m = e.message();
    e.code() == git2::ErrorCode::Auth
        || (e.class() == git2::ErrorClass::Http
            && (m.contains("status code: 401") || m.contains("status code: 403")))
        || m.starts_with(push::TOKEN_REFUSED)
}

/// Who a commit is by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// An open repository.
pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
}

/// The top of the working tree containing `dir`, if any.
pub fn discover_root(dir: &Path) -> Option<PathBuf> {
    Repository::discover(dir)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
}

impl Repo {
    /// Open the repository whose working tree contains `dir`.
    pub fn open(dir: &Path) -> Result<Repo, GitError> {
        let repo =
            Repository::discover(dir).map_err(|_| GitError::NotARepository(dir.to_path_buf()))?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| GitError::Git("bare repositories have no working tree".into()))?
            .to_path_buf();
        Ok(Repo { repo, workdir })
    }

    /// The top of the working tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Every path with staged, unstaged or untracked (not ignored) changes, sorted.
    pub fn dirty_paths(&self) -> Result<Vec<String>, GitError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .renames_head_to_index(false);
        let statuses = self.repo.statuses(Some(&mut opts))?;
        let mut out: Vec<String> = statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Paths (tracked or untracked, not ignored) whose working-tree content
    /// differs from HEAD — created, modified or deleted — that `select` accepts.
    pub fn changed_since_head(
        &self,
        select: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, GitError> {
        Ok(self
            .dirty_paths()?
            .into_iter()
            .filter(|p| select(p))
            .filter(|p| self.differs_from_head(p).unwrap_or(true))
            .collect())
    }

    fn head_tree(&self) -> Option<git2::Tree<'_>> {
        self.repo.head().ok()?.peel_to_tree().ok()
    }

    fn differs_from_head(&self, path: &str) -> Result<bool, GitError> {
        let full = self.workdir.join(path);
        let head_id = self
            .head_tree()
            .and_then(|t| t.get_path(Path::new(path)).ok())
            .map(|e| e.id());
        match (full.is_file(), head_id) {
            (false, None) => Ok(false),
            (true, None) | (false, Some(_)) => Ok(true),
            (true, Some(id)) => Ok(git2::Oid::hash_file(git2::ObjectType::Blob, &full)? != id),
        }
    }

    /// The names of the files directly inside `dir` (relative to the top of
    /// the working tree; empty for the top itself) in the commit `rev`
    /// names (`main`, `origin/main`, a hash), sorted; empty when `dir` did
    /// not exist there. What `lint-migrations --since REF` compares against.
    pub fn files_at(&self, rev: &str, dir: &str) -> Result<Vec<String>, GitError> {
        let tree = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| GitError::Git(format!("{rev} names no commit here: {}", e.message())))?;
        let dir = dir.trim_matches('/');
        let sub = if dir.is_empty() || dir == "." {
            tree
        } else {
            match tree.get_path(Path::new(dir)) {
                Ok(entry) => match entry.to_object(&self.repo)?.into_tree() {
                    Ok(t) => t,
                    Err(_) => return Ok(Vec::new()),
                },
                Err(_) => return Ok(Vec::new()),
            }
        };
        let mut out: Vec<String> = sub
            .iter()
            .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Every tracked file (in the index), sorted.
    pub fn tracked_files(&self) -> Result<Vec<String>, GitError> {
        let index = self.repo.index()?;
        let mut out: Vec<String> = index
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        out.sort();
        Ok(out)
    }

    /// The commit HEAD points at, as hex; `None` in an empty repository.
    pub fn head(&self) -> Option<String> {
        self.repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .map(|o| o.to_string())
    }

    /// Who commits: in GitHub Actions (`github_actions`) the Actions bot;
    /// else `user.name`/`user.email` from git config; else `driftsync`.
    pub fn author(&self, github_actions: bool) -> Author {
        if github_actions {
            return Author {
                name: ACTIONS_BOT_NAME.into(),
                email: ACTIONS_BOT_EMAIL.into(),
            };
        }
        let cfg = self.repo.config().ok();
        let get = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
        Author {
            name: get("user.name").unwrap_or_else(|| "driftsync".into()),
            email: get("user.email").unwrap_or_else(|| "driftsync@localhost".into()),
        }
    }

    /// HEAD's commit and the id of HEAD's tree with `paths` taken from the
    /// working tree; `None` when that tree is HEAD's (nothing to commit).
    #[allow(clippy::type_complexity)]
    fn tree_with(
        &self,
        paths: &[String],
    ) -> Result<Option<(Option<git2::Commit<'_>>, git2::Oid)>, GitError> {
        if paths.is_empty() {
            return Ok(None);
        }
        let head_commit = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        // An index holding HEAD's tree plus only our paths.
        let mut idx = git2::Index::new()?;
        if let Some(c) = &head_commit {
            idx.read_tree(&c.tree()?)?;
        }
        for p in paths {
            if p.starts_with('/') || p.split('/').any(|s| s == "..") {
                return Err(GitError::OutsideWorkTree(p.clone()));
            }
            let full = self.workdir.join(p);
            match std::fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_file() => {
                    let oid = self.repo.blob_path(&full)?;
                    let mode = if is_executable(&meta) {
                        0o100755
                    } else {
                        0o100644
                    };
                    let entry = git2::IndexEntry {
                        ctime: git2::IndexTime::new(0, 0),
                        mtime: git2::IndexTime::new(0, 0),
                        dev: 0,
                        ino: 0,
                        mode,
                        uid: 0,
                        gid: 0,
                        file_size: meta.len() as u32,
                        id: oid,
                        flags: 0,
                        flags_extended: 0,
                        path: p.as_bytes().to_vec(),
                    };
                    idx.add(&entry)?;
                }
                _ => {
                    let _ = idx.remove_path(Path::new(p));
                }
            }
        }
        let tree_id = idx.write_tree_to(&self.repo)?;
        if head_commit.as_ref().is_some_and(|c| c.tree_id() == tree_id) {
            return Ok(None);
        }
        Ok(Some((head_commit, tree_id)))
    }

    /// A commit of HEAD's tree with `paths` as in the working tree, whose
    /// parent is HEAD; `update_ref` (e.g. `HEAD`) is moved to it when given.
    /// `None` when the tree would not change.
    fn commit_on_head(
        &self,
        paths: &[String],
        message: &str,
        author: &Author,
        update_ref: Option<&str>,
    ) -> Result<Option<git2::Oid>, GitError> {
        let Some((head_commit, tree_id)) = self.tree_with(paths)? else {
            return Ok(None);
        };
        let tree = self.repo.find_tree(tree_id)?;
        let sig = Signature::now(&author.name, &author.email)?;
        let parents: Vec<&git2::Commit<'_>> = head_commit.iter().collect();
        Ok(Some(self.repo.commit(
            update_ref, &sig, &sig, message, &tree, &parents,
        )?))
    }

    /// Commit exactly `paths` (as they are in the working tree; a missing file
    /// is a deletion) on top of HEAD, leaving every other change — staged or
    /// not — where it was. Returns the new commit, or `None` when these paths
    /// already match HEAD (never an empty commit).
    pub fn commit_paths(
        &self,
        paths: &[String],
        message: &str,
        author: &Author,
    ) -> Result<Option<String>, GitError> {
        let Some(oid) = self.commit_on_head(paths, message, author, Some("HEAD"))? else {
            return Ok(None);
        };
        // Bring the real index in line for our paths only, so `git status`
        // shows them clean and any other staged change stays staged.
        let mut real = self.repo.index()?;
        for p in paths {
            if self.workdir.join(p).is_file() {
                real.add_path(Path::new(p))?;
            } else {
                let _ = real.remove_path(Path::new(p));
            }
        }
        real.write()?;
        Ok(Some(oid.to_string()))
    }
}

fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_testkit::{git, temp_repo};

    #[test]
    fn refused_credentials_are_denied_with_their_cause() {
        use git2::{Error, ErrorClass, ErrorCode};
        let denied = [
            Error::new(
                ErrorCode::GenericError,
                ErrorClass::Http,
                "unexpected http status code: 403",
            ),
            Error::new(
                ErrorCode::GenericError,
                ErrorClass::Http,
                "unexpected http status code: 401",
            ),
            Error::new(ErrorCode::Auth, ErrorClass::Http, "authentication required"),
            Error::from_str(push::TOKEN_REFUSED),
        ];
        for e in denied {
            let text = e.message().to_string();
            let g = GitError::from(e);
            assert!(matches!(g, GitError::Denied { .. }), "{text}: {g:?}");
            let cause = std::error::Error::source(&g).expect("git's error is kept");
            assert!(cause.to_string().starts_with(&text), "{cause}");
        }
        // A 404 or a 500 is not about the credentials.
        for text in [
            "unexpected http status code: 404",
            "unexpected http status code: 500",
        ] {
            let e = Error::new(ErrorCode::GenericError, ErrorClass::Http, text);
            let g = GitError::from(e);
            assert!(matches!(g, GitError::Library { .. }), "{text}");
            assert!(
                std::error::Error::source(&g).is_some(),
                "{text}: the cause is kept"
            );
        }
    }

    #[test]
    fn commits_only_the_given_paths_and_never_empty() {
        let dir = temp_repo();
        let d = dir.path();
        std::fs::write(d.join("out.txt"), "pulled\n").unwrap();
        std::fs::write(d.join("unrelated.txt"), "wip\n").unwrap();
        std::fs::write(d.join("README.md"), "edited\n").unwrap();
        git(d, &["add", "README.md"]); // staged, unrelated
        let repo = Repo::open(d).unwrap();
        let author = repo.author(false);
        assert_eq!(author.email, "test@example.com");
        let changed = repo.changed_since_head(&|p| p == "out.txt").unwrap();
        assert_eq!(changed, ["out.txt"]);
        let c = repo.commit_paths(&changed, "pull", &author).unwrap();
        assert!(c.is_some());
        let files = git(d, &["show", "--name-only", "--format=", "HEAD"]);
        assert_eq!(files.trim(), "out.txt");
        let status = git(d, &["status", "--porcelain"]);
        assert!(status.contains("M  README.md"), "{status}");
        assert!(status.contains("?? unrelated.txt"), "{status}");
        assert!(!status.contains("out.txt"), "{status}");
        // Same content again: no commit.
        assert_eq!(repo.commit_paths(&changed, "pull", &author).unwrap(), None);
        assert!(repo
            .changed_since_head(&|p| p == "out.txt")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn actions_author_is_the_bot() {
        let dir = temp_repo();
        let a = Repo::open(dir.path()).unwrap().author(true);
        assert_eq!(a.email, ACTIONS_BOT_EMAIL);
    }
}
