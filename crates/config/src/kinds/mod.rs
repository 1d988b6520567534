//! Target types: each declares its own fields and validates them.
//!
//! Adding a type (see `docs/extending.md`): a `TargetKind` variant in
//! `model.rs`, its fields in `RawTarget`, a module here with a `SPEC`, and
//! one line in [`KINDS`].

mod bundle;
mod command;
mod schema;
pub(crate) mod sync;

use crate::model::TargetKind;
use crate::raw::RawTarget;
use crate::resolve::Ctx;

/// Keys every target type accepts.
pub const COMMON_FIELDS: &[&str] = &[
    "type",
    "direction",
    "description",
    "schedule",
    "timeout",
    "outputs",
    "inputs",
    "verification",
    "git_commit",
    "fail_on_diff",
    "idempotent",
];

/// How a target type enters the configuration.
pub struct KindSpec {
    /// The `type:` name.
    pub name: &'static str,
    /// The `RawTarget` fields this type accepts besides [`COMMON_FIELDS`].
    pub fields: &'static [&'static str],
    /// Validate this type's fields into its [`TargetKind`] variant; report
    /// errors through `ctx` and return `None` when any was found.
    pub resolve: fn(name: &str, raw: &RawTarget, ctx: &mut Ctx<'_>) -> Option<TargetKind>,
}

/// Every target type, in the order help texts list them.
pub const KINDS: &[KindSpec] = &[command::SPEC, sync::SPEC, bundle::SPEC, schema::SPEC];
