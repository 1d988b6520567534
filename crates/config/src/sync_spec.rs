//! [`SyncSpec`]: the settings of one sync, whichever source gives them —
//! `driftsync sync LEFT RIGHT`'s flags or a `type: sync` target of
//! sync.yaml. Each setting's default is written once, here
//! ([`SyncSpec::default`]); the command line shows the same defaults in its
//! help and the config fills what a target leaves out from them.

use std::time::Duration;

use driftsync_core::guard::MaxDelete;

use crate::model::{Defaults, Direction, FileKind, Policy, SyncTarget, Target};

/// How one sync behaves: direction, conflicts, safety, retries, filters.
/// Not where it keeps its base (the state file, the lease): that is the
/// caller's (an ad hoc pair or a target).
#[derive(Clone, Debug, PartialEq)]
pub struct SyncSpec {
    /// Which way changes flow.
    pub direction: Direction,
    /// What to do with a file changed on both sides.
    pub on_conflict: Policy,
    /// One-way: also delete destination files the source does not have.
    pub delete_orphans: bool,
    /// Refuse plans deleting more than this on one side.
    pub max_delete: MaxDelete,
    /// Actions applied in parallel.
    pub concurrency: usize,
    /// Retries of a transient failure.
    pub retries: u32,
    /// First retry's delay, doubled for each further one.
    pub retry_delay: Duration,
    /// Only paths matching these globs (empty: every path).
    pub include: Vec<String>,
    /// Leave out paths matching these globs.
    pub exclude: Vec<String>,
    /// Also apply `.gitignore` files in local directories.
    pub gitignore: bool,
    /// Object storage: the backup folder relative to the prefix (`None`:
    /// the store's own, `.driftsync-backup/`).
    pub backup_prefix: Option<String>,
    /// Keep a copy of every file a run overwrites or deletes, so
    /// `driftsync restore RUN` can put it back.
    pub backup: bool,
    /// File kinds parsed before they are propagated.
    pub validate: Vec<FileKind>,
    /// Deadline of one operation (`None`: each kind's default).
    pub request_timeout: Option<Duration>,
    /// Apply even when a safety check objects.
    pub force: bool,
    /// Plan only: change nothing.
    pub dry_run: bool,
}

impl SyncSpec {
    /// The first retry's delay when none is given, as written on the command line.
    pub const DEFAULT_RETRY_DELAY: &'static str = "200ms";

    /// The settings a `type: sync` target gives: its keys, the run's
    /// direction for it, and `defaults.on_conflict` when it names no policy.
    /// `force` and `dry_run` are the run's.
    pub fn of_target(
        target: &Target,
        sync: &SyncTarget,
        defaults: &Defaults,
        force: bool,
        dry_run: bool,
    ) -> SyncSpec {
        SyncSpec {
            direction: target.direction,
            on_conflict: sync.on_conflict.unwrap_or(defaults.on_conflict),
            delete_orphans: sync.delete_orphans,
            max_delete: sync.max_delete,
            concurrency: sync.concurrency,
            retries: sync.retries,
            retry_delay: sync.retry_delay,
            include: sync.include.clone(),
            exclude: sync.exclude.clone(),
            gitignore: sync.gitignore,
            backup_prefix: sync.backup_prefix.clone(),
            backup: sync.backup,
            validate: sync.validate.clone(),
            request_timeout: sync.request_timeout,
            force,
            dry_run,
        }
    }
}

impl Default for SyncSpec {
    fn default() -> SyncSpec {
        SyncSpec {
            direction: Direction::Bidirectional,
            on_conflict: Policy::Newer,
            delete_orphans: false,
            max_delete: MaxDelete::default(),
            concurrency: 8,
            retries: 3,
            retry_delay: crate::duration::parse_duration(SyncSpec::DEFAULT_RETRY_DELAY)
                .expect("the default retry delay is a duration"),
            include: Vec::new(),
            exclude: Vec::new(),
            gitignore: false,
            backup_prefix: None,
            backup: true,
            validate: Vec::new(),
            request_timeout: None,
            force: false,
            dry_run: false,
        }
    }
}
