//! `type: sync`: a local directory and another location, synced by the engine.

use super::KindSpec;
use crate::model::{OnConflict, SyncTarget, TargetKind};
use crate::raw::{RawCount, RawTarget};
use crate::resolve::Ctx;

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
        "gitignore",
    ],
    resolve,
};

fn resolve(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind> {
    let errors_before = ctx.errors.len();
    let local = match &raw.local {
        None => {
            ctx.error_key(
                &["targets", name],
                format!("sync target `{name}` has no `local`"),
                Some("add `local: <directory>` (relative to the repository root)".into()),
            );
            None
        }
        Some(l) => {
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
    ctx.globs(&["targets", name, "include"], raw.include.as_ref());
    ctx.globs(&["targets", name, "exclude"], raw.exclude.as_ref());
    let on_conflict = match raw.on_conflict.as_deref() {
        None => None,
        Some(p) => OnConflict::parse(p).or_else(|| {
            ctx.error_value(
                &["targets", name, "on_conflict"],
                format!("unknown conflict policy `{p}`"),
                Some("use newer, local, remote, keep-both, skip or fail".into()),
            );
            None
        }),
    };
    let max_delete = match &raw.max_delete {
        None => Some(driftsync_core::guard::MaxDelete::default()),
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
    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(TargetKind::Sync(SyncTarget {
        local: local?,
        remote: remote?,
        include: raw.include.clone().unwrap_or_default(),
        exclude: raw.exclude.clone().unwrap_or_default(),
        on_conflict,
        delete_orphans: raw.delete_orphans.unwrap_or(false),
        max_delete: max_delete?,
        concurrency: raw.concurrency.unwrap_or(8),
        retries: raw.retries.unwrap_or(3),
        gitignore: raw.gitignore.unwrap_or(false),
    }))
}
