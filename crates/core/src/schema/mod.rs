//! The canonical database-schema model, its hash, and the diff into findings.
//!
//! Pure: introspection and Python parsing live in `driftsync-schema`; this
//! module only holds values and compares them.

pub mod diff;
pub mod model;

pub use diff::{diff, Change, ChangeCode, Locations, Subject};
pub use model::{
    normalize_sql, qualified, Column, ColumnValue, Constraint, ConstraintKind, DbObject, DbSchema,
    EnumType, ObjectKind, Relation, RelationKind, TypeRef,
};
