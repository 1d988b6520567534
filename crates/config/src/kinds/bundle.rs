//! `type: bundle`: framework bundles in a database, `frameworks/<name>/` in the repository.

use driftsync_core::redact::RedactedUrl;

use super::KindSpec;
use crate::model::{BundleTarget, TargetKind};
use crate::raw::RawTarget;
use crate::resolve::Ctx;

/// The `bundle` type.
pub const SPEC: KindSpec = KindSpec {
    name: "bundle",
    fields: &["local", "database"],
    resolve,
};

/// The database used when a bundle target names none.
pub const DEFAULT_DATABASE: &str = "sqlite://.driftsync/frameworks.db";

fn resolve(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind> {
    let local_at = ["targets", name, "local"];
    let local = raw.local.as_deref().unwrap_or("frameworks");
    let local = ctx.interpolate(&local_at, local)?;
    let local = ctx.rel_path(&local_at, local.trim_end_matches('/'))?;
    let db_at = ["targets", name, "database"];
    let database = ctx.interpolate(&db_at, raw.database.as_deref().unwrap_or(DEFAULT_DATABASE))?;
    if !driftsync_core::Location::parse(&database).is_ok_and(|l| l.is_database()) {
        ctx.error_value(
            &db_at,
            format!(
                "`{}` is not a database URL",
                driftsync_core::redact::redact_url(&database)
            ),
            Some("write sqlite://path/to.db or postgres://user@host:5432/db (password through ${VAR})".into()),
        );
        return None;
    }
    Some(TargetKind::Bundle(BundleTarget {
        local,
        database: RedactedUrl::new(database),
    }))
}
