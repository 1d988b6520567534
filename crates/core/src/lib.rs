//! The pure core of driftsync: no I/O, no clock, no environment.
//!
//! Everything here is a value or a function of values, so it can be tested
//! exhaustively and reasoned about without a file system or a network.
#![deny(missing_docs)]

pub mod entry;
pub mod guard;
pub mod hash;
pub mod location;
pub mod plan;
pub mod quote;
pub mod reconcile;
pub mod redact;
pub mod relpath;
pub mod report;
pub mod schema;
pub mod small;
pub mod snapshot;
pub mod time;

pub use entry::Entry;
pub use hash::Hash;
pub use location::{Dialect, Location};
pub use plan::{Action, Base, Conflict, Op, Plan, Side};
pub use reconcile::{reconcile, reconcile_views, Decision, Direction, Keep, Options, Policy};
pub use relpath::{RelPath, RelPathError};
pub use small::SmallStr;
pub use snapshot::{Snapshot, View};
