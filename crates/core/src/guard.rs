//! Safety checks that stop a plan before it changes anything (DESIGN §3).
//!
//! Each check names the side and the numbers; `--force` overrides them all
//! and the report says so.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::plan::{Base, Plan, Side};
use crate::{Snapshot, View};

/// How many deletes on one side are too many.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum MaxDelete {
    /// A percentage of the files the side holds now (`50%`).
    Percent(f64),
    /// An absolute number of files (`100`).
    Count(usize),
}

impl Default for MaxDelete {
    fn default() -> MaxDelete {
        MaxDelete::Percent(50.0)
    }
}

impl fmt::Display for MaxDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxDelete::Percent(p) => write!(f, "{p}%"),
            MaxDelete::Count(n) => write!(f, "{n} files"),
        }
    }
}

impl FromStr for MaxDelete {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid max-delete {s:?}; write a percentage like 25% or a file count like 100"
            )
        };
        let s = s.trim();
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&v) {
                return Err(bad());
            }
            Ok(MaxDelete::Percent(v))
        } else {
            s.parse().map(MaxDelete::Count).map_err(|_| bad())
        }
    }
}

/// Guard settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Deletes allowed on one side.
    pub max_delete: MaxDelete,
    /// The "every file changed" check only applies to a base of at least this many files.
    pub all_changed_min: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_delete: MaxDelete::default(),
            all_changed_min: 10,
        }
    }
}

/// A reason to refuse the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum Violation {
    /// More deletes than `max_delete` on one side.
    TooManyDeletes {
        /// The side losing files.
        side: Side,
        /// How many deletes.
        deletes: usize,
        /// How many files the side holds.
        files: usize,
        /// The limit, as written.
        limit: String,
    },
    /// The side lists no files while the base says it had some.
    EmptySide {
        /// The empty side.
        side: Side,
        /// Files the base recorded for it.
        base_files: usize,
    },
    /// Every file of the base changed on one side.
    AllChanged {
        /// The side.
        side: Side,
        /// Files in the base.
        files: usize,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooManyDeletes { side, deletes, files, limit } => write!(
                f,
                "the plan deletes {deletes} of {files} files on {side}, above max-delete {limit}"
            ),
            Violation::EmptySide { side, base_files } => write!(
                f,
                "{side} lists no files but held {base_files} at the last sync (wrong path, or unmounted?)"
            ),
            Violation::AllChanged { side, files } => write!(
                f,
                "every one of the {files} files changed on {side} since the last sync (line endings, re-encoding?)"
            ),
        }
    }
}

/// Check a plan against the limits. Empty result = safe to apply.
pub fn check(
    plan: &Plan,
    base: &Base,
    left: &Snapshot,
    right: &Snapshot,
    limits: &Limits,
) -> Vec<Violation> {
    check_views(plan, base, View::whole(left), View::whole(right), limits)
}

/// [`check`] over listings that may be changes against the base (see [`View`]).
pub fn check_views(
    plan: &Plan,
    base: &Base,
    left: View<'_>,
    right: View<'_>,
    limits: &Limits,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (side, now) in [(Side::Left, left), (Side::Right, right)] {
        let base_side = base.side(side);
        if now.is_empty() && !base_side.is_empty() {
            out.push(Violation::EmptySide {
                side,
                base_files: base_side.len(),
            });
        }
        let deletes = plan.deletes_on(side);
        let files = now.len();
        let over = match limits.max_delete {
            MaxDelete::Percent(p) => deletes > 0 && (deletes as f64) * 100.0 > p * files as f64,
            MaxDelete::Count(n) => deletes > n,
        };
        if over {
            out.push(Violation::TooManyDeletes {
                side,
                deletes,
                files,
                limit: limits.max_delete.to_string(),
            });
        }
        if base_side.len() >= limits.all_changed_min.max(1)
            && !now.is_empty()
            && base_side
                .iter()
                .all(|(p, b)| now.get(p).is_none_or(|e| e.hash != b.hash))
        {
            out.push(Violation::AllChanged {
                side,
                files: base_side.len(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{reconcile, Options};
    use crate::{Entry, Hash, RelPath};

    fn snap(n: usize, tag: &str) -> Snapshot {
        (0..n)
            .map(|i| {
                let c = format!("{tag}{i}");
                (
                    RelPath::new(format!("f{i}")).unwrap(),
                    Entry {
                        size: c.len() as u64,
                        mtime_ns: 0,
                        hash: Hash::of(c.as_bytes()),
                        version: Default::default(),
                        executable: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn parses_limits() {
        assert_eq!("25%".parse::<MaxDelete>(), Ok(MaxDelete::Percent(25.0)));
        assert_eq!("7".parse::<MaxDelete>(), Ok(MaxDelete::Count(7)));
        assert!("lots".parse::<MaxDelete>().unwrap_err().contains("25%"));
        assert!("150%".parse::<MaxDelete>().is_err());
    }

    #[test]
    fn too_many_deletes_and_empty_side() {
        let all = snap(4, "x");
        let base = Base {
            left: all.clone(),
            right: all.clone(),
        };
        let left = snap(1, "x");
        let plan = reconcile(&base, &left, &all, &Options::default());
        let v = check(&plan, &base, &left, &all, &Limits::default());
        assert_eq!(
            v,
            [Violation::TooManyDeletes {
                side: Side::Right,
                deletes: 3,
                files: 4,
                limit: "50%".into()
            }]
        );
        let empty = Snapshot::new();
        let plan = reconcile(&base, &empty, &all, &Options::default());
        let v = check(&plan, &base, &empty, &all, &Limits::default());
        assert!(
            v.contains(&Violation::EmptySide {
                side: Side::Left,
                base_files: 4
            }),
            "{v:?}"
        );
        let generous = Limits {
            max_delete: MaxDelete::Count(3),
            ..Limits::default()
        };
        let plan = reconcile(&base, &left, &all, &Options::default());
        assert!(check(&plan, &base, &left, &all, &generous).is_empty());
    }

    #[test]
    fn every_file_changed() {
        let base = Base {
            left: snap(10, "a"),
            right: snap(10, "a"),
        };
        let left = snap(10, "b");
        let plan = reconcile(&base, &left, &base.right, &Options::default());
        let v = check(&plan, &base, &left, &base.right, &Limits::default());
        assert_eq!(
            v,
            [Violation::AllChanged {
                side: Side::Left,
                files: 10
            }]
        );
        let small = Base {
            left: snap(3, "a"),
            right: snap(3, "a"),
        };
        let l3 = snap(3, "b");
        let plan = reconcile(&small, &l3, &small.right, &Options::default());
        assert!(check(&plan, &small, &l3, &small.right, &Limits::default()).is_empty());
    }
}
