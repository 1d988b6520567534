//! `type: sync`: a local directory and another location, synced by the engine.

use super::KindSpec;
use crate::model::{FileKind, Policy, SyncTarget, TargetKind};
use crate::raw::{RawCount, RawTarget};
use crate::resolve::Ctx;
use crate::sync_spec::SyncSpec;
use driftsync_core::location::{Location, Scheme};
use driftsync_core::RelPath;

/// The `sync` type.
pub const SPEC: KindSpec = KindSpec {
    name: "sync",
    fields: &[
        "local",
        "remote",
        "include",
        "exclude",
        "on_conflict",
        "delete_orphans",
        "max_delete",
        "concurrency",
        "retries",
        "retry_delay",
        "gitignore",
        "backup_prefix",
        "backup",
        "validate",
        "after",
        "request_timeout",
        "template_paths",
    ],
    resolve,
};

fn resolve(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind> {
    let errors_before = ctx.errors.len();
    let local = match (&raw.local, &raw.template_paths) {
        (Some(_), Some(_)) => {
            ctx.error_key(
                &["targets", name, "template_paths"],
                "give `local` (one directory) or `template_paths` (several), not both",
                Some("move the `local` directory into the `template_paths` list".into()),
            );
            None
        }
        (None, Some(_)) => template_paths(name, raw, ctx),
        (None, None) => {
            ctx.error_key(
                &["targets", name],
                format!("sync target `{name}` has no `local`"),
                Some("add `local: <directory>` (relative to the repository root)".into()),
            );
            None
        }
        (Some(l), None) => {
            let at = ["targets", name, "local"];
            let l = ctx.interpolate(&at, l)?;
            ctx.rel_path(&at, l.trim_end_matches('/'))
        }
    };
    let remote = match &raw.remote {
        None => {
            ctx.error_key(
                &["targets", name],
                format!("sync target `{name}` has no `remote`"),
                Some("add `remote: <directory or URL>`, e.g. `s3://bucket/prefix/`".into()),
            );
            None
        }
        Some(r) => ctx.interpolate(&["targets", name, "remote"], r),
    };
    let db_remote = remote
        .as_deref()
        .is_some_and(|r| Location::parse(r).is_ok_and(|l| l.is_database()));
    if raw.template_paths.is_some() && db_remote {
        ctx.error_key(
            &["targets", name, "template_paths"],
            "`template_paths` needs a remote with folders (a directory or a bucket); a database table has none",
            Some("give one `local` directory, or one target per directory".into()),
        );
    }
    ctx.globs(&["targets", name, "include"], raw.include.as_ref());
    ctx.globs(&["targets", name, "exclude"], raw.exclude.as_ref());
    let on_conflict = match raw.on_conflict.as_deref() {
        None => None,
        Some(p) => Policy::parse(p).or_else(|| {
            ctx.error_value(
                &["targets", name, "on_conflict"],
                format!("unknown conflict policy `{p}`"),
                Some(Policy::hint(p)),
            );
            None
        }),
    };
    // What a target leaves out is what `driftsync sync` uses.
    let default = SyncSpec::default();
    let max_delete = match &raw.max_delete {
        None => Some(default.max_delete),
        Some(RawCount::Number(n)) => Some(driftsync_core::guard::MaxDelete::Count(
            usize::try_from(*n).unwrap_or(usize::MAX),
        )),
        Some(RawCount::Text(t)) => t
            .parse()
            .map_err(|e: String| {
                ctx.error_value(
                    &["targets", name, "max_delete"],
                    e,
                    Some("write `max_delete: 25%` or `max_delete: 100`".into()),
                )
            })
            .ok(),
    };
    if raw.concurrency == Some(0) {
        ctx.error_value(
            &["targets", name, "concurrency"],
            "concurrency must be at least 1",
            Some("write `concurrency: 8`".into()),
        );
    }
    let object_remote = remote.as_deref().is_some_and(is_object_url);
    let backup_prefix = raw.backup_prefix.as_deref().and_then(|p| {
        let at = ["targets", name, "backup_prefix"];
        if !object_remote {
            ctx.error_key(
                &at,
                "`backup_prefix` applies to object-store remotes only (s3://, gs://, az://, file:)",
                Some("remove it: other remotes are backed up under .driftsync/backup/".into()),
            );
            return None;
        }
        if raw.backup == Some(false) {
            ctx.error_key(
                &at,
                "`backup_prefix` names where backups go, but `backup: false` keeps none",
                Some("remove one of the two".into()),
            );
            return None;
        }
        let trimmed = p.trim_end_matches('/');
        match RelPath::new(trimmed) {
            Ok(_) => Some(format!("{trimmed}/")),
            Err(e) => {
                ctx.error_value(
                    &at,
                    format!("`{p}` is not a relative folder: {e}"),
                    Some("write e.g. `backup_prefix: .driftsync-backup/`".into()),
                );
                None
            }
        }
    });
    let mut validate = Vec::new();
    for (i, k) in raw.validate.iter().flatten().enumerate() {
        match FileKind::parse(k) {
            Some(kind) if !validate.contains(&kind) => validate.push(kind),
            Some(_) => {}
            None => ctx.error_value(
                &["targets", name, "validate", &i.to_string()],
                format!("cannot validate `{k}` files"),
                Some("use yaml, json or toml".into()),
            ),
        }
    }
    for (i, c) in raw.after.iter().flatten().enumerate() {
        if c.trim().is_empty() {
            ctx.error_value(
                &["targets", name, "after", &i.to_string()],
                "empty command",
                Some("write a shell line, e.g. `./scripts/purge-cache.sh`".into()),
            );
        }
    }
    let rt_at = ["targets", name, "request_timeout"];
    let request_timeout = ctx.duration(&rt_at, raw.request_timeout.as_deref());
    if request_timeout == Some(std::time::Duration::ZERO) {
        ctx.error_value(
            &rt_at,
            "request_timeout must be more than zero",
            Some("write e.g. `request_timeout: 30s`".into()),
        );
    }
    if let (Some(l), Some(r)) = (&local, &remote) {
        overlap(name, l, r, ctx);
    }
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(TargetKind::Sync(SyncTarget {
        local: local?,
        remote: remote?,
        include: raw.include.clone().unwrap_or_default(),
        exclude: raw.exclude.clone().unwrap_or_default(),
        on_conflict,
        delete_orphans: raw.delete_orphans.unwrap_or(default.delete_orphans),
        max_delete: max_delete?,
        concurrency: raw.concurrency.unwrap_or(default.concurrency),
        retries: raw.retries.unwrap_or(default.retries),
        retry_delay: ctx
            .duration(
                &["targets", name, "retry_delay"],
                raw.retry_delay.as_deref(),
            )
            .unwrap_or(default.retry_delay),
        gitignore: raw.gitignore.unwrap_or(default.gitignore),
        backup_prefix,
        backup: raw.backup.unwrap_or(default.backup),
        validate,
        after: raw.after.clone().unwrap_or_default(),
        request_timeout,
    }))
}

/// Validate `template_paths` (each a repository directory, their last
/// components distinct, the remote one that has folders); the first is the
/// target's `local` until the target is split per folder
/// ([`split_template_paths`]).
fn template_paths(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<RelPath> {
    let at = ["targets", name, "template_paths"];
    let paths = raw.template_paths.as_deref().unwrap_or_default();
    if paths.is_empty() {
        ctx.error_value(
            &at,
            "`template_paths` is empty",
            Some(
                "list the directories, e.g. `template_paths: [templates, custom_templates]`".into(),
            ),
        );
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut first = None;
    for (i, p) in paths.iter().enumerate() {
        let at = ["targets", name, "template_paths", &i.to_string()];
        let p = ctx.interpolate(&at, p)?;
        let rel = ctx.rel_path(&at, p.trim_end_matches('/'))?;
        let leaf = folder_name(&rel).to_string();
        if !crate::resolve::valid_name(&format!("{name}.{leaf}")) {
            ctx.error_value(
                &at,
                format!(
                    "`{leaf}` makes target `{name}.{leaf}`, which is not usable as a file name"
                ),
                Some("name the folder with letters, digits, `_`, `-` and `.`".into()),
            );
            return None;
        }
        if seen.contains(&leaf) {
            ctx.error_value(
                &at,
                format!("two template paths end in `{leaf}`: both would pair with the remote's `{leaf}/`"),
                Some("give directories whose last names differ".into()),
            );
            return None;
        }
        seen.push(leaf);
        first.get_or_insert(rel);
    }
    first
}

/// The last component of a directory: the remote folder it pairs with.
fn folder_name(dir: &RelPath) -> &str {
    dir.as_str().rsplit('/').next().unwrap_or(dir.as_str())
}

/// A target with `template_paths`, one raw target per directory: named
/// `<name>.<folder>`, its `local` the directory, its `remote` the remote's
/// folder of the same name. `None` when `raw` names no `template_paths`.
pub(crate) fn split_template_paths(
    name: &str,
    raw: &RawTarget,
) -> Option<Vec<(String, RawTarget)>> {
    let paths = raw.template_paths.as_ref()?;
    let remote = raw.remote.as_deref().unwrap_or_default();
    Some(
        paths
            .iter()
            .map(|p| {
                let dir = p.trim_end_matches('/');
                let leaf = dir.rsplit('/').next().unwrap_or(dir);
                let mut one = raw.clone();
                one.template_paths = None;
                one.local = Some(dir.to_string());
                one.remote = Some(if remote.ends_with('/') || remote.ends_with(':') {
                    format!("{remote}{leaf}/")
                } else {
                    format!("{remote}/{leaf}/")
                });
                (format!("{name}.{leaf}"), one)
            })
            .collect(),
    )
}

/// True for the URLs the object-store backend opens.
fn is_object_url(remote: &str) -> bool {
    Location::parse(remote).is_ok_and(|l| {
        matches!(
            l.scheme(),
            Scheme::S3 | Scheme::Gs | Scheme::Az | Scheme::File
        )
    })
}

/// The directory a remote names when it is a plain path (no `scheme:`),
/// resolved the way the target opens it: relative to the repository root.
fn remote_dir(remote: &str, root: &std::path::Path) -> Option<std::path::PathBuf> {
    let location = Location::parse(remote).ok()?;
    (location.scheme() == Scheme::Dir).then(|| root.join(remote))
}

/// A directory remote that is `local`, or holds it, or is inside it: each
/// run would copy the inner one into itself again.
fn overlap(name: &str, local: &RelPath, remote: &str, ctx: &mut Ctx<'_>) {
    use crate::nesting::{nesting, Nesting};
    let Some(dir) = remote_dir(remote, ctx.root) else {
        return;
    };
    let how = match nesting(&ctx.root.join(local.as_str()), &dir) {
        None => return,
        Some(Nesting::Same) => {
            format!("`remote` {remote} is the same directory as `local` {local}")
        }
        Some(Nesting::FirstInsideSecond) => {
            format!("`local` {local} is inside `remote` {remote}: each run would copy it into itself again")
        }
        Some(Nesting::SecondInsideFirst) => {
            format!("`remote` {remote} is inside `local` {local}: each run would copy it into itself again")
        }
    };
    ctx.error_value(
        &["targets", name, "remote"],
        how,
        Some("give a remote directory outside `local` that does not hold it either".into()),
    );
}
