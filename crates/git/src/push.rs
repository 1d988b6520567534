//! Pushing the run's commit with the workflow token, and recovering from a
//! concurrent push (non-fast-forward) by fetching the new tip.

use std::collections::BTreeSet;

use git2::build::CheckoutBuilder;
use git2::{CheckoutNotificationType, Cred, FetchOptions, Oid, PushOptions, RemoteCallbacks};

use crate::{GitError, Repo};

/// Where the run's commit goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushDestination {
    /// The remote's name (`origin`).
    pub remote: String,
    /// The branch on the remote.
    pub branch: String,
    /// The remote's (push) URL as configured; may hold credentials, so
    /// redact it before printing.
    pub url: String,
}

/// Whether this build's libgit2 can talk HTTPS (push to https://github.com).
pub fn https_supported() -> bool {
    git2::Version::get().https()
}

/// How a push ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// The remote branch now points at our HEAD.
    Pushed,
    /// Someone pushed first; fetch, redo the work on the new tip, push again.
    NonFastForward(String),
}

/// The user name GitHub expects with an installation token over HTTPS
/// (libgit2 ignores actions/checkout's `extraheader`, so we pass it ourselves).
pub const TOKEN_USER: &str = "x-access-token";

/// What the credentials callback says when the remote turned the token down.
pub(crate) const TOKEN_REFUSED: &str = "the token was refused";

pub(crate) fn callbacks(token: Option<&str>) -> RemoteCallbacks<'_> {
    let mut cb = RemoteCallbacks::new();
    if let Some(token) = token {
        let mut tried = false;
        cb.credentials(move |_url, _user, _allowed| {
            if tried {
                return Err(git2::Error::from_str(TOKEN_REFUSED));
            }
            tried = true;
            Cred::userpass_plaintext(TOKEN_USER, token)
        });
    }
    cb
}

fn is_non_fast_forward(e: &git2::Error) -> bool {
    let m = e.message().to_ascii_lowercase();
    e.code() == git2::ErrorCode::NotFastForward
        || m.contains("non-fast-forward")
        || m.contains("not fast-forward")
        || m.contains("fetch first")
}

impl Repo {
    /// Push the current branch's HEAD to `branch` on `remote`, authenticating
    /// with `token` (as `x-access-token`) when given.
    pub fn push_head(
        &self,
        remote: &str,
        branch: &str,
        token: Option<&str>,
    ) -> Result<PushOutcome, GitError> {
        let mut r = self.repo.find_remote(remote)?;
        let rejected = std::cell::RefCell::new(None::<String>);
        let mut cb = callbacks(token);
        cb.push_update_reference(|refname, status| {
            if let Some(msg) = status {
                *rejected.borrow_mut() = Some(format!("{refname}: {msg}"));
            }
            Ok(())
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(cb);
        let spec = format!("HEAD:refs/heads/{branch}");
        let result = r.push(&[spec.as_str()], Some(&mut opts));
        drop(opts);
        match result {
            Err(e) if is_non_fast_forward(&e) => {
                return Ok(PushOutcome::NonFastForward(e.message().to_string()))
            }
            Err(e) => return Err(e.into()),
            Ok(()) => {}
        }
        match rejected.into_inner() {
            Some(msg) if msg.contains("fast") || msg.contains("fetch first") => {
                Ok(PushOutcome::NonFastForward(msg))
            }
            Some(msg) => Err(GitError::Git(format!("push to {remote} rejected: {msg}"))),
            None => Ok(PushOutcome::Pushed),
        }
    }

    /// Where [`Repo::push_head`] should go: the current branch's upstream
    /// (`branch.<name>.remote` / `.merge`), else `origin` and the same branch
    /// name. An error says why there is nowhere to push (a detached HEAD, as on
    /// a pull-request checkout; no remote).
    pub fn push_destination(&self) -> Result<PushDestination, GitError> {
        let head = self
            .repo
            .head()
            .map_err(|_| GitError::NoPushDestination("the repository has no commit".into()))?;
        if !head.is_branch() {
            return Err(GitError::NoPushDestination(
                "HEAD is detached (not on a branch)".into(),
            ));
        }
        let local = head.shorthand().unwrap_or_default().to_string();
        let cfg = self.repo.config()?;
        let get = |k: String| cfg.get_string(&k).ok().filter(|v| !v.is_empty());
        let remote = get(format!("branch.{local}.remote"))
            .filter(|r| r != ".")
            .unwrap_or_else(|| "origin".into());
        let branch = get(format!("branch.{local}.merge"))
            .map(|m| m.strip_prefix("refs/heads/").unwrap_or(&m).to_string())
            .unwrap_or_else(|| local.clone());
        let r = self.repo.find_remote(&remote).map_err(|_| {
            GitError::NoPushDestination(format!(
                "branch `{local}` has no upstream and there is no remote `{remote}`"
            ))
        })?;
        let url = match r.pushurl() {
            Ok(Some(u)) => u.to_string(),
            _ => r.url().unwrap_or_default().to_string(),
        };
        Ok(PushDestination {
            remote,
            branch,
            url,
        })
    }

    /// Fetch `branch` from `remote` and move the current branch onto its tip,
    /// for redoing the run's work after a rejected push. Paths the run's
    /// unpushed commit changed and the remote did not keep their content in the
    /// working tree (staged as changes against the new tip); everything the
    /// remote changed is checked out; any other local change stays. A local
    /// change the checkout would overwrite is an error naming the paths.
    /// Returns the new HEAD.
    pub fn fetch_and_move(
        &mut self,
        remote: &str,
        branch: &str,
        token: Option<&str>,
    ) -> Result<String, GitError> {
        let tracking = format!("refs/remotes/{remote}/{branch}");
        self.fetch_keeping_shallow(remote, &format!("+refs/heads/{branch}:{tracking}"), token)?;
        let tip = self.repo.refname_to_id(&tracking)?;
        self.move_onto(tip)?;
        Ok(tip.to_string())
    }

    /// Fetch `refspec` from `remote`, keeping a shallow clone's boundary.
    pub(crate) fn fetch_keeping_shallow(
        &mut self,
        remote: &str,
        refspec: &str,
        token: Option<&str>,
    ) -> Result<(), GitError> {
        let mut r = self.repo.find_remote(remote)?;
        let mut fo = FetchOptions::new();
        fo.remote_callbacks(callbacks(token));
        // libgit2 (1.9) drops `.git/shallow` when fetching into a shallow
        // clone (actions/checkout's default depth 1) without a depth, leaving
        // a repository whose oldest commit points at a parent it lacks. The
        // boundary does not move when fetching commits on top of it: keep it.
        let shallow_file = self.repo.path().join("shallow");
        let shallow = std::fs::read(&shallow_file).ok();
        let fetched = r.fetch(&[refspec], Some(&mut fo), None);
        if let Some(before) = &shallow {
            let mut lines: BTreeSet<Vec<u8>> = before
                .split(|&b| b == b'\n')
                .chain(
                    std::fs::read(&shallow_file)
                        .unwrap_or_default()
                        .split(|&b| b == b'\n'),
                )
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            let mut text = Vec::new();
            for l in std::mem::take(&mut lines) {
                text.extend_from_slice(&l);
                text.push(b'\n');
            }
            std::fs::write(&shallow_file, text).map_err(|e| {
                GitError::Git(format!("cannot restore {}: {e}", shallow_file.display()))
            })?;
        }
        drop(r);
        fetched?;
        if shallow.is_some() {
            // libgit2 keeps the (emptied) boundary in memory: reopen.
            self.repo = git2::Repository::open(self.repo.path())?;
        }
        Ok(())
    }

    fn changed_between(
        &self,
        old: Option<&git2::Tree<'_>>,
        new: Option<&git2::Tree<'_>>,
    ) -> Result<BTreeSet<String>, GitError> {
        let diff = self.repo.diff_tree_to_tree(old, new, None)?;
        let mut out = BTreeSet::new();
        for d in diff.deltas() {
            for f in [d.old_file(), d.new_file()] {
                if let Some(p) = f.path().and_then(|p| p.to_str()) {
                    out.insert(p.to_string());
                }
            }
        }
        Ok(out)
    }

    fn move_onto(&self, tip: Oid) -> Result<(), GitError> {
        let head = self.repo.head()?;
        let refname = head
            .name()
            .ok()
            .filter(|_| head.is_branch())
            .ok_or_else(|| GitError::NoPushDestination("HEAD is detached".into()))?
            .to_string();
        let ours = head.peel_to_commit()?;
        if ours.id() == tip {
            return Ok(());
        }
        let theirs = self.repo.find_commit(tip)?;
        let base = match self.repo.merge_base(ours.id(), tip) {
            Ok(b) => Some(self.repo.find_commit(b)?.tree()?),
            Err(_) => None,
        };
        let (our_tree, their_tree) = (ours.tree()?, theirs.tree()?);
        let ours_changed = self.changed_between(base.as_ref(), Some(&our_tree))?;
        let theirs_changed = self.changed_between(base.as_ref(), Some(&their_tree))?;
        let keep: Vec<&String> = ours_changed.difference(&theirs_changed).collect();
        let update: Vec<String> = self
            .changed_between(Some(&our_tree), Some(&their_tree))?
            .into_iter()
            .filter(|p| !keep.contains(&p))
            .collect();
        if !update.is_empty() {
            let conflicts = std::cell::RefCell::new(Vec::<String>::new());
            let mut co = CheckoutBuilder::new();
            co.safe();
            for p in &update {
                co.path(p.as_str());
            }
            co.notify_on(CheckoutNotificationType::CONFLICT);
            co.notify(|_, path, _, _, _| {
                if let Some(p) = path.and_then(|p| p.to_str()) {
                    conflicts.borrow_mut().push(p.to_string());
                }
                true
            });
            let result = self.repo.checkout_tree(theirs.as_object(), Some(&mut co));
            drop(co);
            if let Err(e) = result {
                let paths = conflicts.into_inner();
                return Err(GitError::Git(if paths.is_empty() {
                    format!("cannot check out the fetched tip: {}", e.message())
                } else {
                    format!(
                        "cannot check out the fetched tip: local changes to {} would be overwritten",
                        paths.join(", ")
                    )
                }));
            }
        }
        self.repo.reference(
            &refname,
            tip,
            true,
            "driftsync: move onto the fetched remote tip",
        )?;
        if !keep.is_empty() {
            self.repo
                .reset_default(Some(theirs.as_object()), keep.iter().map(|p| p.as_str()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Author;
    use driftsync_testkit::git;

    #[test]
    fn a_concurrent_push_is_detected_then_recovered_by_fetch_and_redo() {
        let root = tempfile::tempdir().unwrap();
        let (origin, url) = driftsync_testkit::bare_repo(root.path());
        let clone = |name: &str| {
            let d = root.path().join(name);
            git(root.path(), &["clone", "-q", &url, d.to_str().unwrap()]);
            git(&d, &["config", "user.email", "t@example.com"]);
            git(&d, &["config", "user.name", "t"]);
            git(&d, &["checkout", "-q", "-B", "main"]);
            d
        };
        let seed = clone("seed");
        std::fs::write(seed.join("a.txt"), "1").unwrap();
        git(&seed, &["add", "."]);
        git(&seed, &["commit", "-q", "-m", "seed"]);
        git(&seed, &["push", "-q", "origin", "main"]);

        let ours = clone("ours");
        let theirs = clone("theirs");
        // Someone else pushes first.
        std::fs::write(theirs.join("b.txt"), "theirs").unwrap();
        git(&theirs, &["add", "."]);
        git(&theirs, &["commit", "-q", "-m", "concurrent"]);
        git(&theirs, &["push", "-q", "origin", "main"]);
        let their_tip = git(&theirs, &["rev-parse", "HEAD"]).trim().to_string();
        // Our run commits its pull output on the old tip; unrelated work in
        // progress sits next to it.
        std::fs::write(ours.join("out.txt"), "pulled").unwrap();
        git(&ours, &["add", "."]);
        git(&ours, &["commit", "-q", "-m", "driftsync: pull"]);
        std::fs::write(ours.join("wip.txt"), "mine").unwrap();
        std::fs::write(ours.join("a.txt"), "edited locally").unwrap();

        let mut repo = Repo::open(&ours).unwrap();
        let outcome = repo
            .push_head("origin", "main", Some("unused-for-file-remotes"))
            .unwrap();
        assert!(
            matches!(outcome, PushOutcome::NonFastForward(_)),
            "{outcome:?}"
        );
        assert_eq!(
            git(&origin, &["rev-parse", "main"]).trim(),
            their_tip,
            "nothing overwritten"
        );

        let head = repo.fetch_and_move("origin", "main", None).unwrap();
        assert_eq!(head, their_tip);
        assert_eq!(git(&ours, &["rev-parse", "HEAD"]).trim(), their_tip);
        assert_eq!(
            std::fs::read_to_string(ours.join("b.txt")).unwrap(),
            "theirs"
        );
        // Our output stays (as a change against the new tip), and so does the
        // unrelated work in progress.
        assert_eq!(
            std::fs::read_to_string(ours.join("out.txt")).unwrap(),
            "pulled"
        );
        assert_eq!(
            std::fs::read_to_string(ours.join("wip.txt")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(ours.join("a.txt")).unwrap(),
            "edited locally"
        );
        let status = git(&ours, &["status", "--porcelain"]);
        assert!(status.contains("?? out.txt"), "{status}");
        assert!(status.contains(" M a.txt"), "{status}");
        // Redo the pull on the new HEAD, commit, push: now a fast-forward.
        std::fs::write(ours.join("out.txt"), "pulled").unwrap();
        let author = repo.author(false);
        repo.commit_paths(&["out.txt".to_string()], "driftsync: pull", &author)
            .unwrap()
            .expect("a commit");
        assert_eq!(
            repo.push_head("origin", "main", None).unwrap(),
            PushOutcome::Pushed
        );
        let log = git(&origin, &["log", "--format=%s", "main"]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            ["driftsync: pull", "concurrent", "seed"]
        );
    }

    #[test]
    fn a_local_change_the_fetched_tip_would_overwrite_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let (origin, url) = bare(root.path());
        let ours = clone(root.path(), &url, "ours");
        let theirs = clone(root.path(), &url, "theirs");
        std::fs::write(theirs.join("a.txt"), "theirs").unwrap();
        git(&theirs, &["commit", "-q", "-am", "concurrent"]);
        git(&theirs, &["push", "-q", "origin", "main"]);
        std::fs::write(ours.join("a.txt"), "local edit").unwrap();
        let mut repo = Repo::open(&ours).unwrap();
        let before = git(&ours, &["rev-parse", "HEAD"]);
        let err = repo.fetch_and_move("origin", "main", None).unwrap_err();
        assert!(err.to_string().contains("local changes to a.txt"), "{err}");
        assert_eq!(git(&ours, &["rev-parse", "HEAD"]), before, "HEAD not moved");
        assert_eq!(
            std::fs::read_to_string(ours.join("a.txt")).unwrap(),
            "local edit"
        );
        drop(origin);
    }

    #[test]
    fn the_destination_is_the_upstream_else_origin_and_never_a_detached_head() {
        let root = tempfile::tempdir().unwrap();
        let (_origin, url) = bare(root.path());
        let d = clone(root.path(), &url, "work");
        let repo = Repo::open(&d).unwrap();
        let dest = repo.push_destination().unwrap();
        assert_eq!(
            (dest.remote.as_str(), dest.branch.as_str()),
            ("origin", "main")
        );
        assert_eq!(dest.url, url);
        git(&d, &["remote", "add", "upstream", &url]);
        git(&d, &["config", "branch.main.remote", "upstream"]);
        git(&d, &["config", "branch.main.merge", "refs/heads/release"]);
        let dest = repo.push_destination().unwrap();
        assert_eq!(
            (dest.remote.as_str(), dest.branch.as_str()),
            ("upstream", "release")
        );
        git(&d, &["checkout", "-q", "--detach"]);
        let err = repo.push_destination().unwrap_err();
        assert!(err.to_string().contains("HEAD is detached"), "{err}");
    }

    #[test]
    fn a_shallow_checkout_like_actions_checkout_pushes_and_recovers() {
        let root = tempfile::tempdir().unwrap();
        let (origin, url) = bare(root.path());
        let theirs = clone(root.path(), &url, "theirs");
        for i in 0..3 {
            std::fs::write(theirs.join("a.txt"), format!("{i}")).unwrap();
            git(&theirs, &["commit", "-q", "-am", &format!("history {i}")]);
        }
        git(&theirs, &["push", "-q", "origin", "main"]);
        let ours = root.path().join("ours");
        git(
            root.path(),
            &["clone", "-q", "--depth", "1", &url, ours.to_str().unwrap()],
        );
        assert_eq!(
            git(&ours, &["rev-parse", "--is-shallow-repository"]).trim(),
            "true"
        );
        std::fs::write(theirs.join("b.txt"), "theirs").unwrap();
        git(&theirs, &["add", "b.txt"]);
        git(&theirs, &["commit", "-q", "-m", "concurrent"]);
        git(&theirs, &["push", "-q", "origin", "main"]);

        let mut repo = Repo::open(&ours).unwrap();
        let author = Author {
            name: "t".into(),
            email: "t@example.com".into(),
        };
        let out = vec!["out.txt".to_string()];
        std::fs::write(ours.join("out.txt"), "pulled").unwrap();
        repo.commit_paths(&out, "driftsync: pull", &author).unwrap();
        let dest = repo.push_destination().unwrap();
        assert!(matches!(
            repo.push_head(&dest.remote, &dest.branch, None).unwrap(),
            PushOutcome::NonFastForward(_)
        ));
        repo.fetch_and_move(&dest.remote, &dest.branch, None)
            .unwrap();
        assert_eq!(
            git(&ours, &["rev-parse", "--is-shallow-repository"]).trim(),
            "true",
            "still shallow, with its boundary"
        );
        git(&ours, &["log", "--format=%s"]);
        assert!(ours.join("b.txt").exists());
        repo.commit_paths(&out, "driftsync: pull", &author)
            .unwrap()
            .expect("a commit on the new tip");
        assert_eq!(
            repo.push_head(&dest.remote, &dest.branch, None).unwrap(),
            PushOutcome::Pushed
        );
        let log = git(&origin, &["log", "--format=%s", "-3", "main"]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            ["driftsync: pull", "concurrent", "history 2"]
        );
    }

    #[test]
    fn libgit2_is_built_with_https() {
        assert!(
            https_supported(),
            "libgit2 was built without HTTPS: pushing to https://github.com would fail \
             (enable git2's `https` feature; on Linux install libssl-dev and pkg-config)"
        );
    }

    /// A bare `main` repository with one commit (`a.txt`), and its file URL.
    fn bare(root: &std::path::Path) -> (std::path::PathBuf, String) {
        let (origin, url) = driftsync_testkit::bare_repo(root);
        let seed = clone(root, &url, "seed");
        std::fs::write(seed.join("a.txt"), "1").unwrap();
        git(&seed, &["add", "."]);
        git(&seed, &["commit", "-q", "-m", "seed"]);
        git(&seed, &["push", "-q", "origin", "main"]);
        (origin, url)
    }

    fn clone(root: &std::path::Path, url: &str, name: &str) -> std::path::PathBuf {
        let d = root.join(name);
        git(root, &["clone", "-q", url, d.to_str().unwrap()]);
        git(&d, &["config", "user.email", "t@example.com"]);
        git(&d, &["config", "user.name", "t"]);
        git(&d, &["checkout", "-q", "-B", "main"]);
        d
    }
}
