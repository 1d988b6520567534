//! A sync plan: what to do, which way and why, and the conflicts found.
//!
//! Produced by [`crate::reconcile::reconcile`], checked by [`crate::guard`],
//! executed by the engine. Rendering is deterministic so plans can be
//! compared as text in scenario tests.

use std::fmt;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::report::{ActionOutcome, ActionRecord, ConflictRecord, Resolution};
use crate::{RelPath, Snapshot};

/// One of the two replicas of a sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The first location (the repository side of a target: `local`).
    Left,
    /// The second location (`remote`).
    Right,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }

    /// `left` or `right`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }

    /// `left→right` for `Left`, `right→left` for `Right`: a change flowing from this side.
    pub fn arrow(self) -> &'static str {
        match self {
            Side::Left => "left→right",
            Side::Right => "right→left",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What both sides held after the last successful sync, with each side's
/// quick-check data (size, mtime, version). A path is recorded only when both
/// sides held the same content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    /// The left side's entries.
    pub left: Snapshot,
    /// The right side's entries.
    pub right: Snapshot,
}

impl Base {
    /// An empty base: the first run.
    pub fn new() -> Base {
        Base::default()
    }

    /// The entries for one side.
    pub fn side(&self, side: Side) -> &Snapshot {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// True when nothing was ever synced.
    pub fn is_empty(&self) -> bool {
        self.left.is_empty() && self.right.is_empty()
    }
}

/// The operation of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum Op {
    /// Copy the file from `from` to the same path on the other side.
    Copy {
        /// The source side.
        from: Side,
    },
    /// Delete the file on `on`.
    Delete {
        /// The side whose file goes.
        on: Side,
    },
    /// A conflict kept on both sides: the loser's content goes to
    /// `loser_path` on both sides, then the winner's content replaces the
    /// loser's at the path.
    KeepBoth {
        /// The side whose content stays at the path.
        winner: Side,
        /// Where the loser's content is kept, on both sides.
        loser_path: Box<RelPath>,
    },
    /// No I/O: both sides already agree; the base records them.
    Adopt,
}

/// One step of a plan. What the scans saw at the path (the conditions it
/// applies under) stays in the listings; the engine looks it up there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The path acted on.
    pub path: RelPath,
    /// What to do.
    #[serde(flatten)]
    pub op: Op,
    /// Why, for people (most reasons are fixed texts, kept without a copy).
    pub reason: Cow<'static, str>,
    /// True when the action creates the file on the side it writes to
    /// (a copy to a side that has nothing at the path).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creates: bool,
}

impl Action {
    /// Short kind name: `copy`, `delete`, `keep-both`, `adopt`.
    pub fn kind(&self) -> &'static str {
        match self.op {
            Op::Copy { .. } => "copy",
            Op::Delete { .. } => "delete",
            Op::KeepBoth { .. } => "keep-both",
            Op::Adopt => "adopt",
        }
    }

    /// `left→right`, `right→left` or `both`.
    pub fn direction(&self) -> &'static str {
        match self.op {
            Op::Copy { from } => from.arrow(),
            Op::Delete { on } => on.other().arrow(),
            Op::KeepBoth { .. } | Op::Adopt => "both",
        }
    }

    /// True when the action writes or deletes something (not `Adopt`).
    pub fn changes_files(&self) -> bool {
        !matches!(self.op, Op::Adopt)
    }

    /// One line: `+ left→right  path  reason`.
    pub fn line(&self) -> String {
        let symbol = match &self.op {
            Op::Copy { .. } if self.creates => '+',
            Op::Copy { .. } => '~',
            Op::Delete { .. } => '-',
            Op::KeepBoth { .. } => '!',
            Op::Adopt => '=',
        };
        format!(
            "{symbol} {:<10}  {}  {}",
            self.direction(),
            crate::quote::path(self.path.as_str()),
            crate::quote::text(&self.reason)
        )
    }

    /// The action as a report record with the given outcome.
    pub fn record(&self, outcome: ActionOutcome, detail: Option<String>) -> ActionRecord {
        ActionRecord {
            path: self.path.to_string(),
            kind: self.kind().to_string(),
            direction: self.direction().to_string(),
            reason: self.reason.to_string(),
            outcome,
            detail,
        }
    }
}

/// A path changed on both sides with different contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The path.
    pub path: RelPath,
    /// Why it is a conflict.
    pub reason: String,
    /// How the policy resolved it, or that it is left unresolved.
    pub resolution: Resolution,
    /// The left side's modification time (ns since the epoch).
    #[serde(default)]
    pub left_mtime_ns: i64,
    /// The right side's modification time (ns since the epoch).
    #[serde(default)]
    pub right_mtime_ns: i64,
}

impl Conflict {
    /// True when no action resolves it (policy `skip`, `fail` or `manual`).
    pub fn unresolved(&self) -> bool {
        self.resolution.is_unresolved()
    }

    /// One line: `! conflict  path  reason (resolution)`.
    pub fn line(&self) -> String {
        format!(
            "! {:<10}  {}  {} ({})",
            "conflict",
            crate::quote::path(self.path.as_str()),
            crate::quote::text(&self.reason),
            crate::quote::text(self.resolution.as_str())
        )
    }

    /// As a report record.
    pub fn record(&self) -> ConflictRecord {
        ConflictRecord {
            path: self.path.to_string(),
            reason: self.reason.clone(),
            resolution: self.resolution.clone(),
        }
    }
}

/// Something the plan passes over on purpose and wants reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The path.
    pub path: RelPath,
    /// Why nothing is done.
    pub reason: String,
}

/// Everything a run would do, in path order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Actions (including conflict resolutions), in path order.
    pub actions: Vec<Action>,
    /// Conflicts, resolved or not, in path order.
    pub conflicts: Vec<Conflict>,
    /// Paths deliberately left alone (orphans kept in one-way mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

impl Plan {
    /// True when there is nothing to do and nothing to report.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.conflicts.is_empty()
    }

    /// Conflicts no action resolves.
    pub fn unresolved(&self) -> impl Iterator<Item = &Conflict> {
        self.conflicts.iter().filter(|c| c.unresolved())
    }

    /// Number of deletes on `side`.
    pub fn deletes_on(&self, side: Side) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a.op, Op::Delete { on } if on == side))
            .count()
    }

    /// The plan as text, one line per action, unresolved conflict and note, in path order.
    pub fn render(&self) -> String {
        let mut lines: Vec<(&RelPath, String)> = Vec::new();
        for a in &self.actions {
            lines.push((&a.path, a.line()));
        }
        for c in self.unresolved() {
            lines.push((&c.path, c.line()));
        }
        for n in &self.notes {
            lines.push((&n.path, kept_line(n.path.as_str(), &n.reason)));
        }
        lines.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::new();
        for (_, l) in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }
}

/// A path the plan keeps on purpose: `  kept        path  reason`.
pub fn kept_line(path: &str, reason: &str) -> String {
    format!(
        "  {:<10}  {}  {}",
        "kept",
        crate::quote::path(path),
        crate::quote::text(reason)
    )
}

#[cfg(test)]
mod size_tests {
    /// An action is held for every file a first sync copies: keep it small
    /// (the path, a small operation, the reason, one flag).
    #[test]
    fn an_action_stays_small() {
        assert!(std::mem::size_of::<super::Op>() <= 16);
        assert!(std::mem::size_of::<super::Action>() <= 72);
    }
}
