//! The plan of `driftsync sync` as text: the core's one-line forms, with
//! paths quoted and text escaped ([`driftsync_core::quote`]) so a file name
//! holding a newline can never pass for a line of the plan.

pub use driftsync_core::quote::{path, text};

use driftsync_core::plan::{Action, Conflict, Plan};

/// One action: `+ left→right  path  reason`.
pub fn action(a: &Action) -> String {
    a.line()
}

/// One conflict: `! conflict  path  reason (resolution)`.
pub fn conflict(c: &Conflict) -> String {
    c.line()
}

/// A path the plan keeps on purpose: `  kept        path  reason`.
pub fn kept(p: &str, reason: &str) -> String {
    driftsync_core::plan::kept_line(p, reason)
}

/// The whole plan, one line per action, unresolved conflict and kept path, in path order.
pub fn render(plan: &Plan) -> String {
    plan.render()
}
