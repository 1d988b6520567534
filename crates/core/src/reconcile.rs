//! Three-way reconciliation: base × left × right → [`Plan`] (DESIGN §3).
//!
//! Pure and deterministic: paths are visited in order; the only "clock" is
//! the conflict stamp the caller passes in [`Options::stamp`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::plan::{Action, Base, Conflict, Note, Op, Plan, Side};
use crate::report::Resolution;
use crate::{Entry, Hash, RelPath, Snapshot, View};

/// How a conflict (changed on both sides, contents differ) is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// The newer mtime wins; a tie keeps both.
    Newer,
    /// Left (the repository side) wins.
    Local,
    /// Right (the remote side) wins.
    Remote,
    /// Both are kept: the loser (older; left on a tie) is renamed `name.conflict-<side>-<stamp>.ext`.
    KeepBoth,
    /// Leave both as they are, report, exit 1.
    Skip,
    /// Apply nothing at all if any conflict exists.
    Fail,
    /// Leave both as they are, keep both versions for review, exit 1 until a
    /// person decides ([`Decision`]); every other change is applied.
    Manual,
}

impl Policy {
    /// Every policy, in the order help texts list them.
    pub const ALL: [Policy; 7] = [
        Policy::Newer,
        Policy::Local,
        Policy::Remote,
        Policy::KeepBoth,
        Policy::Skip,
        Policy::Fail,
        Policy::Manual,
    ];

    /// Other names for the same policies: the sync runner's, the space
    /// coordinator's and the cloud sync's strategy names, and the sides of
    /// `driftsync sync LEFT RIGHT`. The repository's folder is the local side
    /// (`directory-wins`), the other place the remote one (`space-wins`).
    /// Written with `-` or `_`, in any case.
    pub const ALIASES: [(&'static str, Policy); 10] = [
        ("newer-wins", Policy::Newer),
        ("newest-wins", Policy::Newer),
        ("newest", Policy::Newer),
        ("local-wins", Policy::Local),
        ("left", Policy::Local),
        ("directory-wins", Policy::Local),
        ("remote-wins", Policy::Remote),
        ("right", Policy::Remote),
        ("space-wins", Policy::Remote),
        ("backup-both", Policy::KeepBoth),
    ];

    /// The policy's name as written in config and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Newer => "newer",
            Policy::Local => "local",
            Policy::Remote => "remote",
            Policy::KeepBoth => "keep-both",
            Policy::Skip => "skip",
            Policy::Fail => "fail",
            Policy::Manual => "manual",
        }
    }

    /// A policy from its name or one of its [`ALIASES`](Policy::ALIASES),
    /// spelled with `-` or `_`, in any case.
    pub fn parse(s: &str) -> Option<Policy> {
        let name = normalize(s);
        Policy::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .or_else(|| {
                Policy::ALIASES
                    .into_iter()
                    .find_map(|(alias, p)| (alias == name).then_some(p))
            })
    }

    /// What to write instead of `s`, for an error message.
    pub fn hint(_s: &str) -> String {
        "use newer, local, remote, keep-both, skip, fail or manual (also accepted: newer_wins, newest_wins, local_wins, remote_wins, directory_wins, space_wins, backup_both, left, right)".to_string()
    }
}

/// Lower case, `_` read as `-`, surrounding blanks dropped.
fn normalize(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('_', "-")
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::parse(s)
            .ok_or_else(|| format!("unknown conflict policy {s:?}; {}", Policy::hint(s)))
    }
}

/// Which way changes flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Both ways, three-way merge against the base.
    Bidirectional,
    /// Left → right: right is made to match left.
    Push,
    /// Right → left: left is made to match right.
    Pull,
}

impl Direction {
    /// Every direction, in the order help texts list them.
    pub const ALL: [Direction; 3] = [Direction::Pull, Direction::Push, Direction::Bidirectional];

    /// Other names for the same directions: the space coordinator's
    /// (`space-to-directory` is a pull into the repository's folder,
    /// `directory-to-space` a push) and `both`. Written with `-` or `_`, in
    /// any case.
    pub const ALIASES: [(&'static str, Direction); 3] = [
        ("both", Direction::Bidirectional),
        ("space-to-directory", Direction::Pull),
        ("directory-to-space", Direction::Push),
    ];

    /// `bidirectional`, `push` or `pull`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Bidirectional => "bidirectional",
            Direction::Push => "push",
            Direction::Pull => "pull",
        }
    }

    /// A direction from its name or one of its
    /// [`ALIASES`](Direction::ALIASES), spelled with `-` or `_`, in any case.
    pub fn parse(s: &str) -> Option<Direction> {
        let name = normalize(s);
        Direction::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .or_else(|| {
                Direction::ALIASES
                    .into_iter()
                    .find_map(|(alias, d)| (alias == name).then_some(d))
            })
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Direction::parse(s)
            .ok_or_else(|| format!("unknown direction {s:?}; use pull, push or bidirectional"))
    }
}

/// Everything besides the three snapshots that shapes a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Which way changes flow.
    pub direction: Direction,
    /// Conflict policy (bidirectional only).
    pub policy: Policy,
    /// One-way: delete destination files the source does not have.
    pub delete_orphans: bool,
    /// UTC stamp for keep-both names, e.g. `20261123T120000Z` (the caller's clock).
    pub stamp: String,
    /// A person's decisions on conflicts, by path (`driftsync conflicts
    /// resolve`); each applies only while both sides still hold the versions
    /// it was made about, whatever the policy.
    pub decisions: BTreeMap<RelPath, Decision>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            direction: Direction::Bidirectional,
            policy: Policy::Newer,
            delete_orphans: false,
            stamp: "19700101T000000Z".to_string(),
            decisions: BTreeMap::new(),
        }
    }
}

/// Which version of a conflicted file a person keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The local (left) version goes to the remote.
    Local,
    /// The remote (right) version comes to the local side.
    Remote,
    /// Both: the local version keeps the path, the remote one is kept beside
    /// it as `name.conflict-right-<stamp>.ext`, on both sides.
    Both,
}

impl Keep {
    /// Every choice, in the order help texts list them.
    pub const ALL: [Keep; 3] = [Keep::Local, Keep::Remote, Keep::Both];

    /// `local`, `remote` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::Local => "local",
            Keep::Remote => "remote",
            Keep::Both => "both",
        }
    }
}

impl FromStr for Keep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = normalize(s);
        Keep::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| format!("unknown choice {s:?}; use local, remote or both"))
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's decision on one conflict, about the two versions it saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// What to keep.
    pub keep: Keep,
    /// The left (local) version decided about.
    pub left: Hash,
    /// The right (remote) version decided about.
    pub right: Hash,
}

fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.hash == b.hash,
        _ => false,
    }
}

/// Same content as in the base, but the executable bit flipped.
fn mode_changed(now: Option<&Entry>, base: Option<&Entry>) -> bool {
    matches!((now, base), (Some(n), Some(b)) if n.hash == b.hash && n.executable != b.executable)
}

/// `mode changed on left (now executable)`.
fn what_mode(side: Side, now: Option<&Entry>) -> String {
    let exec = now.is_some_and(|e| e.executable);
    format!(
        "mode changed on {side} (now {})",
        if exec { "executable" } else { "not executable" }
    )
}

fn what(side: Side, now: Option<&Entry>, base: Option<&Entry>) -> String {
    match (now, base) {
        (Some(_), None) => format!("new on {side}"),
        (Some(_), Some(_)) => format!("changed on {side}"),
        (None, _) => format!("deleted on {side}"),
    }
}

/// `dir/name.conflict-right-STAMP.ext`, made unique against paths for which `taken` holds.
fn conflict_name(
    path: &RelPath,
    loser: Side,
    stamp: &str,
    taken: impl Fn(&RelPath) -> bool,
) -> RelPath {
    let name = path.file_name();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let dir = path.parent();
    for n in 1.. {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let file = format!("{stem}.conflict-{loser}-{stamp}{suffix}{ext}");
        let candidate = match &dir {
            Some(d) => d.join(&file),
            None => RelPath::new(file),
        }
        .expect("a conflict name built from a valid path is valid");
        if !taken(&candidate) {
            return candidate;
        }
    }
    unreachable!("an unused conflict name always exists")
}

struct Ctx<'a> {
    base: &'a Base,
    left: View<'a>,
    right: View<'a>,
    opts: &'a Options,
    plan: Plan,
}

/// What the four snapshots hold at one path.
#[derive(Clone, Copy, Default)]
struct Seen<'a> {
    base_left: Option<&'a Entry>,
    base_right: Option<&'a Entry>,
    left: Option<&'a Entry>,
    right: Option<&'a Entry>,
}

impl Ctx<'_> {
    fn push(&mut self, path: &RelPath, op: Op, reason: impl Into<Cow<'static, str>>) {
        self.plan.actions.push(Action {
            path: path.clone(),
            creates: match op {
                Op::Copy { from: Side::Left } => self.right.get(path).is_none(),
                Op::Copy { from: Side::Right } => self.left.get(path).is_none(),
                _ => false,
            },
            op,
            reason: reason.into(),
        });
    }

    /// Make the other side match `from` at `path`.
    fn propagate(&mut self, path: &RelPath, from: Side, reason: impl Into<Cow<'static, str>>) {
        let src = match from {
            Side::Left => self.left.get(path),
            Side::Right => self.right.get(path),
        };
        let dst = match from {
            Side::Left => self.right.get(path),
            Side::Right => self.left.get(path),
        };
        match (src, dst) {
            (Some(_), _) => self.push(path, Op::Copy { from }, reason),
            (None, Some(_)) => self.push(path, Op::Delete { on: from.other() }, reason),
            (None, None) => self.push(path, Op::Adopt, reason),
        }
    }

    fn conflict(&mut self, path: &RelPath, reason: &str) {
        let (l, r) = (
            self.left.get(path).expect("conflicts have both sides"),
            self.right.get(path).expect("conflicts have both sides"),
        );
        let newer = match l.mtime_ns.cmp(&r.mtime_ns) {
            std::cmp::Ordering::Greater => Some(Side::Left),
            std::cmp::Ordering::Less => Some(Side::Right),
            std::cmp::Ordering::Equal => None,
        };
        // A person's decision about exactly these two versions comes first.
        let decided = self
            .opts
            .decisions
            .get(path)
            .filter(|d| d.left == l.hash && d.right == r.hash)
            .map(|d| d.keep);
        let winner = match (decided, self.opts.policy) {
            (Some(Keep::Local), _) => Some((Side::Left, "resolved by hand: keep local".into())),
            (Some(Keep::Remote), _) => Some((Side::Right, "resolved by hand: keep remote".into())),
            (Some(Keep::Both), _) => None,
            (None, Policy::Newer) => newer.map(|s| (s, format!("{s} is newer"))),
            (None, Policy::Local) => Some((Side::Left, "left wins (policy local)".to_string())),
            (None, Policy::Remote) => Some((Side::Right, "right wins (policy remote)".to_string())),
            (None, Policy::KeepBoth | Policy::Skip | Policy::Fail | Policy::Manual) => None,
        };
        let keep_both = match decided {
            Some(k) => k == Keep::Both,
            None => matches!(self.opts.policy, Policy::Newer | Policy::KeepBoth),
        };
        let resolution = if let Some((side, why)) = winner {
            self.push(path, Op::Copy { from: side }, format!("{reason}: {why}"));
            Resolution::Resolved(format!("{why}; {}'s version backed up", side.other()))
        } else if keep_both {
            // By hand the local version keeps the path.
            let winner = match decided {
                Some(_) => Side::Left,
                None => newer.unwrap_or(Side::Left),
            };
            let (base, left, right) = (self.base, self.left, self.right);
            let loser_path = conflict_name(path, winner.other(), &self.opts.stamp, |p| {
                base.left.get(p).is_some()
                    || base.right.get(p).is_some()
                    || left.get(p).is_some()
                    || right.get(p).is_some()
            });
            let why = format!(
                "{}keep both: {}'s version kept as {loser_path}",
                if decided.is_some() {
                    "resolved by hand: "
                } else {
                    ""
                },
                winner.other()
            );
            self.push(
                path,
                Op::KeepBoth {
                    winner,
                    loser_path: Box::new(loser_path.clone()),
                },
                format!("{reason}: {why}"),
            );
            Resolution::Resolved(why)
        } else if self.opts.policy == Policy::Manual {
            Resolution::Manual
        } else {
            Resolution::Unresolved
        };
        self.plan.conflicts.push(Conflict {
            path: path.clone(),
            reason: reason.to_string(),
            resolution,
            left_mtime_ns: l.mtime_ns,
            right_mtime_ns: r.mtime_ns,
        });
    }

    fn two_way(&mut self, path: &RelPath, seen: Seen<'_>) {
        let (l, r) = (seen.left, seen.right);
        let (bl, br) = (seen.base_left, seen.base_right);
        let in_base = bl.is_some() || br.is_some();
        if !in_base {
            match (l, r) {
                (Some(_), None) => self.propagate(path, Side::Left, "new on left"),
                (None, Some(_)) => self.propagate(path, Side::Right, "new on right"),
                (Some(_), Some(_)) if same(l, r) => {
                    self.push(path, Op::Adopt, "new on both sides, same content")
                }
                (Some(_), Some(_)) => self.conflict(path, "new on both sides, contents differ"),
                (None, None) => {}
            }
            return;
        }
        let lc = !same(l, bl);
        let rc = !same(r, br);
        match (lc, rc) {
            (false, false) => {
                // Same content everywhere: a flipped executable bit on one side travels.
                let differ = l.zip(r).is_some_and(|(l, r)| l.executable != r.executable);
                match (mode_changed(l, bl), mode_changed(r, br)) {
                    (true, false) if differ => self.push(
                        path,
                        Op::Copy { from: Side::Left },
                        what_mode(Side::Left, l),
                    ),
                    (false, true) if differ => self.push(
                        path,
                        Op::Copy { from: Side::Right },
                        what_mode(Side::Right, r),
                    ),
                    _ => {}
                }
            }
            (true, false) => self.propagate(path, Side::Left, what(Side::Left, l, bl)),
            (false, true) => self.propagate(path, Side::Right, what(Side::Right, r, br)),
            (true, true) if same(l, r) => {
                let reason = if l.is_none() {
                    "deleted on both sides"
                } else {
                    "changed on both sides, same content"
                };
                self.push(path, Op::Adopt, reason);
            }
            (true, true) => match (l, r) {
                (Some(_), None) => self.propagate(
                    path,
                    Side::Left,
                    "changed on left, deleted on right: the edit wins",
                ),
                (None, Some(_)) => self.propagate(
                    path,
                    Side::Right,
                    "changed on right, deleted on left: the edit wins",
                ),
                _ => self.conflict(path, "changed on both sides, contents differ"),
            },
        }
    }

    fn one_way(&mut self, path: &RelPath, src: Side, seen: Seen<'_>) {
        let dst = src.other();
        let (s, d, bs, bd) = match src {
            Side::Left => (seen.left, seen.right, seen.base_left, seen.base_right),
            Side::Right => (seen.right, seen.left, seen.base_right, seen.base_left),
        };
        let in_base = bs.is_some() || bd.is_some();
        let dst_changed = in_base && !same(d, bd);
        let mode = match src {
            Side::Left => "push",
            Side::Right => "pull",
        };
        match (s, d) {
            (None, None) if in_base => self.push(path, Op::Adopt, "deleted on both sides"),
            (None, None) => {}
            (Some(se), Some(de)) if same(s, d) => {
                if se.executable != de.executable && mode_changed(s, bs) {
                    self.push(path, Op::Copy { from: src }, what_mode(src, s));
                } else if !(in_base && same(s, bs) && same(d, bd)) {
                    self.push(path, Op::Adopt, "same content on both sides");
                }
            }
            (Some(_), _) => {
                let reason = if dst_changed {
                    format!(
                        "{mode}: {} on {dst} since the last sync, replaced from {src} (backed up)",
                        if d.is_some() { "changed" } else { "deleted" }
                    )
                } else {
                    what(src, s, bs)
                };
                self.propagate(path, src, reason);
            }
            (None, Some(_)) if in_base && !dst_changed => {
                self.propagate(path, src, what(src, s, bs))
            }
            (None, Some(_)) if self.opts.delete_orphans => {
                let reason = if in_base {
                    format!(
                        "deleted on {src}; {dst}'s later edit removed (delete_orphans, backed up)"
                    )
                } else {
                    format!("only on {dst} (delete_orphans)")
                };
                self.push(path, Op::Delete { on: dst }, reason);
            }
            (None, Some(_)) => self.plan.notes.push(Note {
                path: path.clone(),
                reason: format!("only on {dst}; kept (delete_orphans is off)"),
            }),
        }
    }
}

/// Decide what a run does. See DESIGN §3 for the rules; every action carries
/// its reason and the entries the scans saw (the conditions it applies under).
pub fn reconcile(base: &Base, left: &Snapshot, right: &Snapshot, opts: &Options) -> Plan {
    reconcile_views(base, View::whole(left), View::whole(right), opts)
}

/// [`reconcile`] over listings that may be changes against the base (see [`View`]).
pub fn reconcile_views(base: &Base, left: View<'_>, right: View<'_>, opts: &Options) -> Plan {
    let mut ctx = Ctx {
        base,
        left,
        right,
        opts,
        plan: Plan::default(),
    };
    // One pass over the four sorted listings at once (a merge), in path order.
    let mut lists = [
        View::whole(&base.left).iter().peekable(),
        View::whole(&base.right).iter().peekable(),
        left.iter().peekable(),
        right.iter().peekable(),
    ];
    while let Some(path) = lists
        .iter_mut()
        .filter_map(|l| l.peek().map(|(p, _)| *p))
        .min()
    {
        let mut at = [None; 4];
        for (slot, list) in at.iter_mut().zip(lists.iter_mut()) {
            if list.peek().is_some_and(|(p, _)| *p == path) {
                *slot = list.next().map(|(_, e)| e);
            }
        }
        let seen = Seen {
            base_left: at[0],
            base_right: at[1],
            left: at[2],
            right: at[3],
        };
        match opts.direction {
            Direction::Bidirectional => ctx.two_way(path, seen),
            Direction::Push => ctx.one_way(path, Side::Left, seen),
            Direction::Pull => ctx.one_way(path, Side::Right, seen),
        }
    }
    ctx.plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash;

    #[test]
    fn policies_parse_by_name_and_alias_in_either_spelling() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.as_str()), Some(p));
            assert_eq!(Policy::parse(&p.as_str().replace('-', "_")), Some(p));
            assert_eq!(p.as_str().parse::<Policy>(), Ok(p));
        }
        for (alias, p) in Policy::ALIASES {
            assert_eq!(Policy::parse(alias), Some(p), "{alias}");
            assert_eq!(Policy::parse(&alias.replace('-', "_")), Some(p), "{alias}");
            assert_eq!(
                Policy::parse(&alias.to_ascii_uppercase()),
                Some(p),
                "{alias}"
            );
        }
        assert_eq!(Policy::parse("NEWEST_WINS"), Some(Policy::Newer));
        assert_eq!(Policy::parse("backup_both"), Some(Policy::KeepBoth));
        assert_eq!(Policy::parse("newest_winner"), None);
        assert_eq!("MANUAL".parse::<Policy>(), Ok(Policy::Manual));
        let err = "bogus".parse::<Policy>().unwrap_err();
        assert!(
            err.contains("newest_wins") && err.contains("keep-both"),
            "{err}"
        );
    }

    #[test]
    fn directions_parse_by_name_and_alias() {
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
            assert_eq!(d.to_string(), d.as_str());
        }
        assert_eq!(
            Direction::parse("space_to_directory"),
            Some(Direction::Pull)
        );
        assert_eq!(
            Direction::parse("DIRECTORY-TO-SPACE"),
            Some(Direction::Push)
        );
        assert_eq!(Direction::parse("both"), Some(Direction::Bidirectional));
        assert!("sideways".parse::<Direction>().is_err());
    }

    fn e(content: &str, mtime: i64) -> Entry {
        Entry {
            size: content.len() as u64,
            mtime_ns: mtime,
            hash: Hash::of(content.as_bytes()),
            version: Default::default(),
            executable: false,
        }
    }

    fn snap(files: &[(&str, &str)]) -> Snapshot {
        files
            .iter()
            .map(|(p, c)| (RelPath::new(*p).unwrap(), e(c, 1)))
            .collect()
    }

    fn base(files: &[(&str, &str)]) -> Base {
        Base {
            left: snap(files),
            right: snap(files),
        }
    }

    fn plan(b: &Base, l: &Snapshot, r: &Snapshot, policy: Policy) -> String {
        let opts = Options {
            policy,
            ..Options::default()
        };
        reconcile(b, l, r, &opts).render()
    }

    #[test]
    fn the_table_of_design_section_3() {
        let b = base(&[
            ("same", "s"),
            ("l", "1"),
            ("r", "1"),
            ("both", "1"),
            ("bd", "1"),
            ("x", "1"),
        ]);
        let l = snap(&[
            ("same", "s"),
            ("l", "2"),
            ("r", "1"),
            ("both", "2"),
            ("x", "L"),
        ]);
        let r = snap(&[
            ("same", "s"),
            ("l", "1"),
            ("r", "2"),
            ("both", "2"),
            ("x", "R"),
        ]);
        assert_eq!(
            plan(&b, &l, &r, Policy::Skip),
            "= both        bd  deleted on both sides\n\
             = both        both  changed on both sides, same content\n\
             ~ left→right  l  changed on left\n\
             ~ right→left  r  changed on right\n\
             ! conflict    x  changed on both sides, contents differ (unresolved)\n"
        );
    }

    #[test]
    fn edit_beats_delete_both_ways() {
        let b = base(&[("a", "1"), ("b", "1")]);
        let l = snap(&[("a", "2")]);
        let r = snap(&[("b", "2")]);
        assert_eq!(
            plan(&b, &l, &r, Policy::Fail),
            "+ left→right  a  changed on left, deleted on right: the edit wins\n\
             + right→left  b  changed on right, deleted on left: the edit wins\n"
        );
    }

    #[test]
    fn first_run_never_deletes() {
        let l = snap(&[("a", "1"), ("eq", "x"), ("ne", "L")]);
        let r = snap(&[("b", "1"), ("eq", "x"), ("ne", "R")]);
        let p = reconcile(&Base::new(), &l, &r, &Options::default());
        assert_eq!(p.deletes_on(Side::Left) + p.deletes_on(Side::Right), 0);
        assert_eq!(p.conflicts.len(), 1);
    }

    #[test]
    fn policies_pick_winners() {
        let b = base(&[("f.txt", "0")]);
        let mut l = snap(&[("f.txt", "L")]);
        let r = snap(&[("f.txt", "R")]);
        l.values_mut().for_each(|e| e.mtime_ns = 5);
        let render = |p| plan(&b, &l, &r, p);
        assert!(render(Policy::Newer).starts_with(
            "~ left→right  f.txt  changed on both sides, contents differ: left is newer"
        ));
        assert!(render(Policy::Remote).starts_with("~ right→left"));
        assert!(render(Policy::Local).starts_with("~ left→right"));
        assert!(render(Policy::KeepBoth).contains("f.conflict-right-19700101T000000Z.txt"));
        // A tie under `newer` keeps both.
        let tie = plan(&b, &snap(&[("f.txt", "L")]), &r, Policy::Newer);
        assert!(tie.starts_with("! both"), "{tie}");
    }

    #[test]
    fn manual_leaves_the_conflict_and_applies_the_rest() {
        let b = base(&[("f.txt", "0"), ("g", "0")]);
        let l = snap(&[("f.txt", "L"), ("g", "1")]);
        let r = snap(&[("f.txt", "R"), ("g", "0")]);
        let p = reconcile(
            &b,
            &l,
            &r,
            &Options {
                policy: Policy::Manual,
                ..Options::default()
            },
        );
        assert_eq!(p.actions.len(), 1, "{}", p.render());
        assert_eq!(p.actions[0].path.as_str(), "g");
        assert_eq!(p.unresolved().count(), 1);
        assert_eq!(p.conflicts[0].resolution, Resolution::Manual);
    }

    #[test]
    fn a_decision_applies_only_to_the_versions_it_was_made_about() {
        let b = base(&[("f.txt", "0")]);
        let r = snap(&[("f.txt", "R")]);
        let decide = |keep, left: &str| Options {
            policy: Policy::Manual,
            decisions: [(
                RelPath::new("f.txt").unwrap(),
                Decision {
                    keep,
                    left: Hash::of(left.as_bytes()),
                    right: Hash::of(b"R"),
                },
            )]
            .into(),
            ..Options::default()
        };
        let l = snap(&[("f.txt", "L")]);
        let render = |keep| reconcile(&b, &l, &r, &decide(keep, "L")).render();
        assert!(
            render(Keep::Local).starts_with("~ left→right  f.txt")
                && render(Keep::Local).contains("resolved by hand: keep local"),
            "{}",
            render(Keep::Local)
        );
        assert!(render(Keep::Remote).starts_with("~ right→left  f.txt"));
        let both = render(Keep::Both);
        assert!(
            both.starts_with("! both") && both.contains("f.conflict-right-19700101T000000Z.txt"),
            "{both}"
        );
        // The local file changed again after the decision: a conflict again.
        let stale = reconcile(&b, &l, &r, &decide(Keep::Remote, "an older L"));
        assert!(stale.actions.is_empty(), "{}", stale.render());
        assert_eq!(stale.unresolved().count(), 1);
    }

    #[test]
    fn one_way_push_keeps_orphans_unless_asked() {
        let b = base(&[("gone", "1"), ("edited", "1")]);
        let l = snap(&[("edited", "1"), ("new", "n")]);
        let r = snap(&[("gone", "1"), ("edited", "X"), ("orphan", "o")]);
        let mut opts = Options {
            direction: Direction::Push,
            ..Options::default()
        };
        let p = reconcile(&b, &l, &r, &opts).render();
        assert_eq!(
            p,
            "~ left→right  edited  push: changed on right since the last sync, replaced from left (backed up)\n\
             - left→right  gone  deleted on left\n\
             + left→right  new  new on left\n  \
             kept        orphan  only on right; kept (delete_orphans is off)\n"
        );
        opts.delete_orphans = true;
        let p = reconcile(&b, &l, &r, &opts).render();
        assert!(
            p.contains("- left→right  orphan  only on right (delete_orphans)"),
            "{p}"
        );
    }

    #[test]
    fn conflict_names_are_unique() {
        let path = RelPath::new("d/a.b.md").unwrap();
        let taken_path = RelPath::new("d/a.b.conflict-left-S.md").unwrap();
        assert_eq!(
            conflict_name(&path, Side::Left, "S", |p| *p == taken_path).as_str(),
            "d/a.b.conflict-left-S-2.md"
        );
        let dot = RelPath::new(".env").unwrap();
        assert_eq!(
            conflict_name(&dot, Side::Right, "S", |_| false).as_str(),
            ".env.conflict-right-S"
        );
    }

    #[test]
    fn a_flipped_executable_bit_travels_alone() {
        let b = base(&[("run.sh", "x"), ("tool", "y"), ("both", "z")]);
        let mut l = snap(&[("run.sh", "x"), ("tool", "y"), ("both", "z")]);
        let mut r = l.clone();
        let exec = |s: &mut Snapshot, p: &str, on: bool| {
            s.get_mut(&RelPath::new(p).unwrap()).unwrap().executable = on;
        };
        exec(&mut l, "run.sh", true);
        exec(&mut r, "tool", true);
        exec(&mut l, "both", true);
        exec(&mut r, "both", true);
        assert_eq!(
            plan(&b, &l, &r, Policy::Skip),
            "~ left→right  run.sh  mode changed on left (now executable)\n\
             ~ right→left  tool  mode changed on right (now executable)\n"
        );
        // One-way: only the source's flip travels; the destination's stays.
        let opts = Options {
            direction: Direction::Push,
            ..Options::default()
        };
        assert_eq!(
            reconcile(&b, &l, &r, &opts).render(),
            "~ left→right  run.sh  mode changed on left (now executable)\n"
        );
    }
}
