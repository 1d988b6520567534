//! Proposing the run's commit on a branch of its own (`run --pull-request`):
//! the commit is made on a side branch from HEAD, without moving the
//! checkout's branch, and pushed only when its tree differs from the remote
//! branch's, with a lease so nobody else's push to that branch is overwritten.

use git2::{Oid, PushOptions};

use crate::push::callbacks;
use crate::{Author, GitError, Repo};

/// Whether two versions (theirs, ours) of the file at a path hold the same
/// result although their bytes differ.
pub type SameFile = dyn Fn(&str, &[u8], &[u8]) -> bool;

/// How [`Repo::push_branch`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BranchPush {
    /// The remote branch already holds the same tree: nothing was pushed.
    Unchanged {
        /// The remote branch's commit.
        remote: String,
    },
    /// The branch did not exist on the remote and was created.
    Created,
    /// The remote branch was an ancestor of the commit.
    FastForward {
        /// The remote branch's commit before the push.
        previous: String,
    },
    /// The branch was rebuilt from the base and replaced (force with lease:
    /// only if the remote branch still pointed at `previous`).
    Replaced {
        /// The remote branch's commit before the push.
        previous: String,
    },
}

impl Repo {
    /// The branch HEAD is on, `None` when detached or unborn.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.repo.head().ok()?;
        head.is_branch()
            .then(|| head.shorthand().ok().map(str::to_string))
            .flatten()
    }

    /// The URL of `remote` as configured (may hold credentials: redact before printing).
    pub fn remote_url(&self, remote: &str) -> Result<String, GitError> {
        let r = self.repo.find_remote(remote).map_err(|_| {
            GitError::NoPushDestination(format!("the repository has no remote `{remote}`"))
        })?;
        let url = r.pushurl().ok().flatten().or_else(|| r.url().ok());
        Ok(url.unwrap_or_default().to_string())
    }

    /// Commit exactly `paths` (as in the working tree) on top of HEAD to the
    /// local branch `branch`, created or reset there; HEAD, its branch, the
    /// index and the working tree are left as they are. Returns the commit,
    /// or `None` when these paths match HEAD (then `branch` is not touched).
    pub fn commit_paths_to_branch(
        &self,
        paths: &[String],
        message: &str,
        author: &Author,
        branch: &str,
    ) -> Result<Option<String>, GitError> {
        if self.current_branch().as_deref() == Some(branch) {
            return Err(GitError::Git(format!(
                "the checkout is on `{branch}`, the branch the pull request proposes; \
                 check out the base branch instead"
            )));
        }
        let Some(oid) = self.commit_on_head(paths, message, author, None)? else {
            return Ok(None);
        };
        self.repo.reference(
            &format!("refs/heads/{branch}"),
            oid,
            true,
            "driftsync: the run's proposed commit",
        )?;
        Ok(Some(oid.to_string()))
    }

    /// The commit `refs/heads/<branch>` points at on `remote`, if it exists.
    pub fn remote_branch_tip(
        &self,
        remote: &str,
        branch: &str,
        token: Option<&str>,
    ) -> Result<Option<String>, GitError> {
        let mut r = self.repo.find_remote(remote)?;
        let conn = r.connect_auth(git2::Direction::Fetch, Some(callbacks(token)), None)?;
        let want = format!("refs/heads/{branch}");
        let tip = conn
            .list()?
            .iter()
            .find(|h| h.name() == want)
            .map(|h| h.oid().to_string());
        Ok(tip)
    }

    /// Push local branch `branch` to the same name on `remote`, unless the
    /// remote branch already holds the same result: the same tree, or trees
    /// whose every difference is a file changed in a way `same(path, theirs,
    /// ours)` accepts as equal (a base that differs only in mtimes). A
    /// remote branch that is not
    /// an ancestor is replaced, but only if it still points where it pointed
    /// when driftsync looked (a lease); otherwise the push fails.
    pub fn push_branch(
        &mut self,
        remote: &str,
        branch: &str,
        token: Option<&str>,
        same: &SameFile,
    ) -> Result<BranchPush, GitError> {
        let local = self
            .repo
            .refname_to_id(&format!("refs/heads/{branch}"))
            .map_err(|_| GitError::Git(format!("there is no local branch `{branch}` to push")))?;
        let previous = self
            .remote_branch_tip(remote, branch, token)?
            .map(|s| Oid::from_str(&s))
            .transpose()?;
        let mut fast_forward = false;
        if let Some(prev) = previous {
            if self.repo.find_commit(prev).is_err() {
                let tracking = format!("refs/remotes/{remote}/{branch}");
                self.fetch_keeping_shallow(
                    remote,
                    &format!("+refs/heads/{branch}:{tracking}"),
                    token,
                )?;
            }
            let theirs = self.repo.find_commit(prev)?;
            let ours = self.repo.find_commit(local)?;
            if self.same_result(&theirs.tree()?, &ours.tree()?, same)? {
                // The local branch follows: the proposal is the remote's commit.
                self.repo.reference(
                    &format!("refs/heads/{branch}"),
                    prev,
                    true,
                    "driftsync: the remote branch already holds this result",
                )?;
                return Ok(BranchPush::Unchanged {
                    remote: prev.to_string(),
                });
            }
            fast_forward = self.repo.graph_descendant_of(local, prev).unwrap_or(false);
        }
        self.push_with_lease(remote, branch, previous, token)?;
        Ok(match previous {
            None => BranchPush::Created,
            Some(p) if fast_forward => BranchPush::FastForward {
                previous: p.to_string(),
            },
            Some(p) => BranchPush::Replaced {
                previous: p.to_string(),
            },
        })
    }

    /// Whether two trees hold the same result: equal, or every difference a
    /// modified file whose two versions `same` accepts.
    fn same_result(
        &self,
        theirs: &git2::Tree<'_>,
        ours: &git2::Tree<'_>,
        same: &SameFile,
    ) -> Result<bool, GitError> {
        if theirs.id() == ours.id() {
            return Ok(true);
        }
        let diff = self
            .repo
            .diff_tree_to_tree(Some(theirs), Some(ours), None)?;
        for delta in diff.deltas() {
            if delta.status() != git2::Delta::Modified {
                return Ok(false);
            }
            let Some(path) = delta.new_file().path().and_then(|p| p.to_str()) else {
                return Ok(false);
            };
            let old = self.repo.find_blob(delta.old_file().id())?;
            let new = self.repo.find_blob(delta.new_file().id())?;
            if !same(path, old.content(), new.content()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Force-push local `branch` to `remote`, only if the remote branch
    /// still points at `expected` (`None`: does not exist) when the push is
    /// negotiated.
    fn push_with_lease(
        &self,
        remote: &str,
        branch: &str,
        expected: Option<Oid>,
        token: Option<&str>,
    ) -> Result<(), GitError> {
        let expected = expected.unwrap_or(Oid::ZERO_SHA1);
        let dst = format!("refs/heads/{branch}");
        let lease_broken = std::cell::RefCell::new(None::<String>);
        let rejected = std::cell::RefCell::new(None::<String>);
        let mut cb = callbacks(token);
        cb.push_negotiation(|updates| {
            for u in updates {
                if u.dst_refname().ok() == Some(dst.as_str()) && u.src() != expected {
                    *lease_broken.borrow_mut() = Some(u.src().to_string());
                    return Err(git2::Error::from_str("stale lease"));
                }
            }
            Ok(())
        });
        cb.push_update_reference(|refname, status| {
            if let Some(msg) = status {
                *rejected.borrow_mut() = Some(format!("{refname}: {msg}"));
            }
            Ok(())
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(cb);
        let spec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        let mut r = self.repo.find_remote(remote)?;
        let result = r.push(&[spec.as_str()], Some(&mut opts));
        drop(opts);
        if let Some(now) = lease_broken.into_inner() {
            return Err(GitError::Git(format!(
                "{remote}/{branch} moved to {} while driftsync was pushing (someone else pushed to it): \
                 nothing was overwritten; run driftsync again",
                &now[..12.min(now.len())]
            )));
        }
        result?;
        if let Some(msg) = rejected.into_inner() {
            return Err(GitError::Git(format!("push to {remote} rejected: {msg}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_testkit::git;

    fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let (origin, url) = driftsync_testkit::bare_repo(root.path());
        let d = root.path().join("work");
        git(root.path(), &["clone", "-q", &url, d.to_str().unwrap()]);
        git(&d, &["config", "user.email", "t@example.com"]);
        git(&d, &["config", "user.name", "t"]);
        git(&d, &["checkout", "-q", "-B", "main"]);
        std::fs::write(d.join("a.txt"), "1").unwrap();
        git(&d, &["add", "."]);
        git(&d, &["commit", "-q", "-m", "seed"]);
        git(&d, &["push", "-q", "origin", "main"]);
        (root, origin, d)
    }

    #[test]
    fn a_difference_the_caller_calls_the_same_result_is_not_pushed() {
        let (_root, origin, d) = setup();
        let mut repo = Repo::open(&d).unwrap();
        let author = repo.author(false);
        let paths = vec!["out.txt".to_string(), "base.txt".to_string()];
        let commit = |repo: &mut Repo, out: &str, base: &str| {
            std::fs::write(d.join("out.txt"), out).unwrap();
            std::fs::write(d.join("base.txt"), base).unwrap();
            repo.commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
                .unwrap()
                .unwrap()
        };
        // `base.txt` versions are the same result when their first word is.
        let same = |path: &str, a: &[u8], b: &[u8]| {
            path == "base.txt" && a.split(|c| *c == b' ').next() == b.split(|c| *c == b' ').next()
        };
        let c1 = commit(&mut repo, "v1", "r1 written-at-1");
        repo.push_branch("origin", "driftsync/x", None, &same)
            .unwrap();
        commit(&mut repo, "v1", "r1 written-at-2");
        assert_eq!(
            repo.push_branch("origin", "driftsync/x", None, &same)
                .unwrap(),
            BranchPush::Unchanged { remote: c1.clone() }
        );
        // Any other difference is a new result: the content, or the part of
        // base.txt that the caller does not call the same.
        for (out, base) in [("v2", "r1 written-at-3"), ("v1", "r2 written-at-3")] {
            let before = git(&origin, &["rev-parse", "driftsync/x"]);
            let c = commit(&mut repo, out, base);
            assert!(matches!(
                repo.push_branch("origin", "driftsync/x", None, &same)
                    .unwrap(),
                BranchPush::Replaced { .. }
            ));
            assert_ne!(git(&origin, &["rev-parse", "driftsync/x"]), before);
            assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), c);
        }
    }

    #[test]
    fn the_side_branch_is_pushed_once_then_left_alone_then_replaced_under_a_lease() {
        let (_root, origin, d) = setup();
        let mut repo = Repo::open(&d).unwrap();
        let author = repo.author(false);
        let head = git(&d, &["rev-parse", "HEAD"]);
        std::fs::write(d.join("out.txt"), "v1").unwrap();
        let paths = vec!["out.txt".to_string()];
        let c1 = repo
            .commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .expect("a commit");
        // The checkout's branch, index and working tree are untouched.
        assert_eq!(git(&d, &["rev-parse", "HEAD"]), head);
        assert_eq!(git(&d, &["status", "--porcelain"]).trim(), "?? out.txt");
        assert_eq!(git(&d, &["rev-parse", "driftsync/x^"]), head);
        assert_eq!(
            repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
                .unwrap(),
            BranchPush::Created
        );
        assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), c1);
        // The same result again: a new commit with the same tree is not pushed.
        let _same = repo
            .commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        assert_eq!(
            repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
                .unwrap(),
            BranchPush::Unchanged { remote: c1.clone() }
        );
        assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), c1);
        assert_eq!(git(&d, &["rev-parse", "driftsync/x"]).trim(), c1);
        // A new result replaces the branch (a sibling of the old commit).
        std::fs::write(d.join("out.txt"), "v2").unwrap();
        let c3 = repo
            .commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        assert_eq!(
            repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
                .unwrap(),
            BranchPush::Replaced { previous: c1 }
        );
        assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), c3);
        // Nothing to commit against HEAD: the branch is not touched.
        std::fs::remove_file(d.join("out.txt")).unwrap();
        assert_eq!(
            repo.commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
                .unwrap(),
            None
        );
        assert_eq!(git(&d, &["rev-parse", "driftsync/x"]).trim(), c3);
    }

    #[test]
    fn the_side_branch_is_fetched_when_the_clone_lacks_it() {
        let (root, origin, d) = setup();
        let mut repo = Repo::open(&d).unwrap();
        let author = repo.author(false);
        std::fs::write(d.join("out.txt"), "v1").unwrap();
        let paths = vec!["out.txt".to_string()];
        repo.commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
            .unwrap();
        let tip = git(&origin, &["rev-parse", "driftsync/x"])
            .trim()
            .to_string();
        // A fresh clone of main only (as actions/checkout makes).
        let fresh = root.path().join("fresh");
        let url = git(&d, &["remote", "get-url", "origin"]).trim().to_string();
        git(
            root.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                "--single-branch",
                "-b",
                "main",
                &url,
                fresh.to_str().unwrap(),
            ],
        );
        std::fs::write(fresh.join("out.txt"), "v1").unwrap();
        let mut repo = Repo::open(&fresh).unwrap();
        repo.commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        assert_eq!(
            repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
                .unwrap(),
            BranchPush::Unchanged { remote: tip }
        );
    }

    #[test]
    fn a_branch_someone_else_moved_is_not_overwritten() {
        let (root, origin, d) = setup();
        let mut repo = Repo::open(&d).unwrap();
        let author = repo.author(false);
        std::fs::write(d.join("out.txt"), "v1").unwrap();
        let paths = vec!["out.txt".to_string()];
        let c1 = repo
            .commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        repo.push_branch("origin", "driftsync/x", None, &|_, _, _| false)
            .unwrap();
        // A person pushes a fix to the branch after driftsync looked at it.
        let url = git(&d, &["remote", "get-url", "origin"]).trim().to_string();
        let other = root.path().join("other");
        git(
            root.path(),
            &[
                "clone",
                "-q",
                "-b",
                "driftsync/x",
                &url,
                other.to_str().unwrap(),
            ],
        );
        std::fs::write(other.join("fix.txt"), "by hand").unwrap();
        git(&other, &["add", "."]);
        git(
            &other,
            &[
                "-c",
                "user.name=p",
                "-c",
                "user.email=p@x",
                "commit",
                "-q",
                "-m",
                "fix",
            ],
        );
        git(&other, &["push", "-q", "origin", "driftsync/x"]);
        let theirs = git(&origin, &["rev-parse", "driftsync/x"])
            .trim()
            .to_string();
        std::fs::write(d.join("out.txt"), "v2").unwrap();
        repo.commit_paths_to_branch(&paths, "sync", &author, "driftsync/x")
            .unwrap()
            .unwrap();
        let stale = Some(Oid::from_str(&c1).unwrap());
        let err = repo
            .push_with_lease("origin", "driftsync/x", stale, None)
            .unwrap_err();
        assert!(
            err.to_string().contains("someone else pushed to it"),
            "{err}"
        );
        assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), theirs);
        // A branch that appeared after driftsync saw none is not overwritten either.
        let err = repo
            .push_with_lease("origin", "driftsync/x", None, None)
            .unwrap_err();
        assert!(err.to_string().contains("moved to"), "{err}");
        assert_eq!(git(&origin, &["rev-parse", "driftsync/x"]).trim(), theirs);
    }

    #[test]
    fn the_checkouts_own_branch_is_never_the_proposal() {
        let (_root, _origin, d) = setup();
        let repo = Repo::open(&d).unwrap();
        std::fs::write(d.join("out.txt"), "v1").unwrap();
        let err = repo
            .commit_paths_to_branch(&["out.txt".into()], "m", &repo.author(false), "main")
            .unwrap_err();
        assert!(
            err.to_string().contains("check out the base branch"),
            "{err}"
        );
        assert_eq!(repo.current_branch().as_deref(), Some("main"));
    }
}
