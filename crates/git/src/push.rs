//! Pushing the run's commit with the workflow token, and recovering from a
//! concurrent push (non-fast-forward) by fetching the new tip.

use git2::{Cred, FetchOptions, PushOptions, RemoteCallbacks, ResetType};

use crate::{GitError, Repo};

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

fn callbacks(token: Option<&str>) -> RemoteCallbacks<'_> {
    let mut cb = RemoteCallbacks::new();
    if let Some(token) = token {
        let mut tried = false;
        cb.credentials(move |_url, _user, _allowed| {
            if tried {
                return Err(git2::Error::from_str(
                    "the token was refused; give the job `contents: write`",
                ));
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

    /// Fetch `branch` from `remote` and hard-reset the current branch onto it
    /// (our unpushed commit is dropped: the caller redoes the work). Returns
    /// the new HEAD.
    pub fn fetch_and_reset(
        &self,
        remote: &str,
        branch: &str,
        token: Option<&str>,
    ) -> Result<String, GitError> {
        let mut r = self.repo.find_remote(remote)?;
        let mut fo = FetchOptions::new();
        fo.remote_callbacks(callbacks(token));
        let tracking = format!("refs/remotes/{remote}/{branch}");
        r.fetch(
            &[format!("+refs/heads/{branch}:{tracking}")],
            Some(&mut fo),
            None,
        )?;
        let tip = self.repo.refname_to_id(&tracking)?;
        let obj = self.repo.find_object(tip, None)?;
        self.repo.reset(&obj, ResetType::Hard, None)?;
        Ok(tip.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftsync_testkit::git;

    #[test]
    fn a_concurrent_push_is_detected_then_recovered_by_fetch_and_redo() {
        let root = tempfile::tempdir().unwrap();
        let origin = root.path().join("origin.git");
        git(
            root.path(),
            &[
                "init",
                "-q",
                "--bare",
                "-b",
                "main",
                origin.to_str().unwrap(),
            ],
        );
        let url = format!("file://{}", origin.display());
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
        // Our run commits its pull output on the old tip.
        std::fs::write(ours.join("out.txt"), "pulled").unwrap();
        git(&ours, &["add", "."]);
        git(&ours, &["commit", "-q", "-m", "driftsync: pull"]);

        let repo = Repo::open(&ours).unwrap();
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

        let head = repo.fetch_and_reset("origin", "main", None).unwrap();
        assert_eq!(head, their_tip);
        assert!(ours.join("b.txt").exists() && !ours.join("out.txt").exists());
        // Redo the pull on the new HEAD, commit, push: now a fast-forward.
        std::fs::write(ours.join("out.txt"), "pulled").unwrap();
        git(&ours, &["add", "."]);
        git(&ours, &["commit", "-q", "-m", "driftsync: pull"]);
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
}
