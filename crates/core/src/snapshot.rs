//! A replica's listing at one moment: path → entry, in path order.
//!
//! Kept as one sorted vector rather than a tree: a listing is built once, in
//! order (scans walk in path order, the state file is stored in it), read in
//! order by the reconciliation's merge, and looked up by binary search; a
//! vector holds 100,000 files in one block with no per-node overhead.
//! Changes to many paths at once go through [`Snapshot::apply`], one merge
//! pass, never one shift of the whole vector per file.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Entry, RelPath};

/// Every file of one side, sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    entries: Vec<(RelPath, Entry)>,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// A snapshot of entries already in strictly increasing path order
    /// (checked; out-of-order input is sorted, and of two entries for one path
    /// the later wins, as with [`FromIterator`]).
    pub fn from_sorted(entries: Vec<(RelPath, Entry)>) -> Snapshot {
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            Snapshot { entries }
        } else {
            entries.into_iter().collect()
        }
    }

    fn find(&self, path: &RelPath) -> Result<usize, usize> {
        self.entries.binary_search_by(|(p, _)| p.cmp(path))
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.find(path).ok().map(|i| &self.entries[i].1)
    }

    /// The entry at `path`, mutable.
    pub fn get_mut(&mut self, path: &RelPath) -> Option<&mut Entry> {
        self.find(path).ok().map(|i| &mut self.entries[i].1)
    }

    /// Add or replace an entry. Appending in path order is O(1); an insert
    /// in the middle shifts the rest (use [`Snapshot::apply`] for many).
    pub fn insert(&mut self, path: RelPath, entry: Entry) {
        if self.entries.last().is_none_or(|(last, _)| *last < path) {
            self.entries.push((path, entry));
            return;
        }
        match self.find(&path) {
            Ok(i) => self.entries[i].1 = entry,
            Err(i) => self.entries.insert(i, (path, entry)),
        }
    }

    /// Remove the entry at `path`, returning it.
    pub fn remove(&mut self, path: &RelPath) -> Option<Entry> {
        self.find(path).ok().map(|i| self.entries.remove(i).1)
    }

    /// Set (`Some`) or remove (`None`) many paths in one merge pass. Of two
    /// changes to one path the later wins.
    pub fn apply(&mut self, changes: Vec<(RelPath, Option<Entry>)>) {
        let rest = self.apply_in_place(changes);
        self.merge(rest);
    }

    /// Like [`Snapshot::apply`], but new paths that would go before the last
    /// one are returned (sorted) instead of merged in: replacements, removals
    /// and appends cost no shift of the vector, so a caller applying many
    /// batches in path order merges the few others once, at the end, with
    /// [`Snapshot::apply`].
    pub fn apply_in_place(
        &mut self,
        mut changes: Vec<(RelPath, Option<Entry>)>,
    ) -> Vec<(RelPath, Option<Entry>)> {
        if changes.is_empty() {
            return changes;
        }
        // Stable: equal paths keep their order, so the later change wins below.
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        // Replacements and removals of existing paths happen in place; only
        // new paths need the merge.
        let mut fresh = Vec::new();
        let mut gone = Vec::new(); // ascending, as the changes are
        let mut iter = changes.into_iter().peekable();
        while let Some((path, change)) = iter.next() {
            if iter.peek().is_some_and(|(next, _)| *next == path) {
                continue;
            }
            match (self.find(&path), change) {
                (Ok(i), Some(e)) => self.entries[i].1 = e,
                (Ok(i), None) => gone.push(i),
                (Err(_), Some(e)) => fresh.push((path, e)),
                (Err(_), None) => {}
            }
        }
        if !gone.is_empty() {
            let (mut at, mut next) = (0usize, gone.into_iter().peekable());
            self.entries.retain(|_| {
                let keep = next.peek() != Some(&at);
                if !keep {
                    next.next();
                }
                at += 1;
                keep
            });
        }
        let split = match self.entries.last() {
            None => 0,
            Some((last, _)) => fresh.partition_point(|(p, _)| p <= last),
        };
        let appended = fresh.split_off(split);
        self.entries.extend(appended);
        fresh.into_iter().map(|(p, e)| (p, Some(e))).collect()
    }

    /// Merge new paths (none present yet) into the vector, in place: no
    /// second copy of the listing is made, whatever its size.
    fn merge(&mut self, fresh: Vec<(RelPath, Option<Entry>)>) {
        let before = self.entries.len();
        self.entries
            .extend(fresh.into_iter().filter_map(|(p, e)| e.map(|e| (p, e))));
        if self.entries.len() > before {
            // Paths are unique, so an unstable (in-place) sort is exact.
            self.entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
    }

    /// The position of `path` in path order, if present.
    pub fn position(&self, path: &RelPath) -> Option<usize> {
        self.find(path).ok()
    }

    /// The entry at position `i` in path order.
    pub fn at(&self, i: usize) -> Option<(&RelPath, &Entry)> {
        self.entries.get(i).map(|(p, e)| (p, e))
    }

    /// Keep only the paths for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&RelPath) -> bool) {
        self.entries.retain(|(p, _)| keep(p));
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterate in path order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&RelPath, &Entry)> + Clone {
        self.entries.iter().map(|(p, e)| (p, e))
    }

    /// Iterate in path order, entries mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&RelPath, &mut Entry)> {
        self.entries.iter_mut().map(|(p, e)| (&*p, e))
    }

    /// The entries, mutable, in path order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.entries.iter_mut().map(|(_, e)| e)
    }
}

/// A side's files as its scan reported them: either a whole [`Snapshot`],
/// or the changes against the prior one (the base's side) — the files that
/// differ from their prior entry or are new, plus one flag per prior entry
/// saying it is still there, unchanged. A re-scan of 100,000 files of which
/// a handful changed then holds a handful of entries, not 100,000 copies of
/// the base. Reads see the same files either way, in path order.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    own: &'a Snapshot,
    prior: Option<(&'a Snapshot, &'a [bool])>,
}

impl<'a> View<'a> {
    /// A whole listing.
    pub fn whole(snapshot: &'a Snapshot) -> View<'a> {
        View {
            own: snapshot,
            prior: None,
        }
    }

    /// `changed` (new or different files) over `prior`, of which the entries
    /// whose flag in `same` is true are unchanged. `same` has one flag per
    /// prior entry (missing flags count as false); a path in both `changed`
    /// and `prior` is read from `changed`.
    pub fn changes(prior: &'a Snapshot, same: &'a [bool], changed: &'a Snapshot) -> View<'a> {
        // Made once per batch of actions: nothing here may walk the listing.
        View {
            own: changed,
            prior: Some((prior, &same[..same.len().min(prior.len())])),
        }
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &RelPath) -> Option<&'a Entry> {
        if let Some(e) = self.own.get(path) {
            return Some(e);
        }
        let (prior, same) = self.prior?;
        let i = prior.position(path)?;
        if same.get(i).copied().unwrap_or(false) {
            prior.at(i).map(|(_, e)| e)
        } else {
            None
        }
    }

    /// Number of files (a walk of the listing when it is one of changes).
    pub fn len(&self) -> usize {
        match self.prior {
            None => self.own.len(),
            Some(_) => self.iter().count(),
        }
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty() && self.iter().next().is_none()
    }

    /// Every file, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a RelPath, &'a Entry)> + 'a {
        let (prior, same): (&'a [(RelPath, Entry)], &'a [bool]) = match self.prior {
            Some((p, s)) => (&p.entries, s),
            None => (&[], &[]),
        };
        let kept = prior
            .iter()
            .zip(same)
            .filter(|(_, s)| **s)
            .map(|((p, e), _)| (p, e));
        let mut own = self.own.entries.iter().map(|(p, e)| (p, e)).peekable();
        let mut kept = kept.peekable();
        std::iter::from_fn(move || match (own.peek(), kept.peek()) {
            (Some(a), Some(b)) if a.0 < b.0 => own.next(),
            (Some(a), Some(b)) if a.0 == b.0 => {
                kept.next();
                own.next()
            }
            (Some(_), Some(_)) => kept.next(),
            (Some(_), None) => own.next(),
            (None, _) => kept.next(),
        })
    }
}

impl FromIterator<(RelPath, Entry)> for Snapshot {
    fn from_iter<T: IntoIterator<Item = (RelPath, Entry)>>(iter: T) -> Self {
        let mut entries: Vec<(RelPath, Entry)> = iter.into_iter().collect();
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable, so of equal paths the later stays last; keep that one.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<(RelPath, Entry)> = Vec::with_capacity(entries.len());
            for item in entries {
                match out.last_mut() {
                    Some(last) if last.0 == item.0 => *last = item,
                    _ => out.push(item),
                }
            }
            entries = out;
        }
        Snapshot { entries }
    }
}

impl IntoIterator for Snapshot {
    type Item = (RelPath, Entry);
    type IntoIter = std::vec::IntoIter<(RelPath, Entry)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (p, e) in &self.entries {
            map.serialize_entry(p, e)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Snapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Snapshot;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of path to entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Snapshot, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(item) = map.next_entry::<RelPath, Entry>()? {
                    entries.push(item);
                }
                Ok(Snapshot::from_sorted(entries))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash;

    fn e(n: u64) -> Entry {
        Entry {
            size: n,
            mtime_ns: 0,
            hash: Hash::of(&n.to_le_bytes()),
            version: Default::default(),
            executable: false,
        }
    }

    fn p(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    fn paths(s: &Snapshot) -> Vec<(&str, u64)> {
        s.iter().map(|(p, e)| (p.as_str(), e.size)).collect()
    }

    #[test]
    fn collects_sorted_and_later_wins() {
        let s: Snapshot = [
            (p("b"), e(1)),
            (p("a"), e(2)),
            (p("b"), e(3)),
            (p("a/x"), e(4)),
        ]
        .into_iter()
        .collect();
        assert_eq!(paths(&s), [("a", 2), ("a/x", 4), ("b", 3)]);
        assert_eq!(s.get(&p("b")).unwrap().size, 3);
        assert!(s.get(&p("c")).is_none());
    }

    #[test]
    fn a_view_of_changes_reads_like_the_whole_listing() {
        let prior: Snapshot = ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| (p(n), e(i as u64)))
            .collect();
        // b unchanged, d unchanged; a deleted; c changed; bb and e new.
        let changed: Snapshot = [(p("bb"), e(7)), (p("c"), e(8)), (p("e"), e(9))]
            .into_iter()
            .collect();
        let same = [false, true, true, true]; // c flagged too: `changed` wins
        let v = View::changes(&prior, &same, &changed);
        let whole: Snapshot = [
            (p("b"), e(1)),
            (p("bb"), e(7)),
            (p("c"), e(8)),
            (p("d"), e(3)),
            (p("e"), e(9)),
        ]
        .into_iter()
        .collect();
        assert_eq!(v.len(), 5);
        let got: Vec<(&str, u64)> = v.iter().map(|(p, e)| (p.as_str(), e.size)).collect();
        assert_eq!(got, paths(&whole));
        for name in ["a", "b", "bb", "c", "d", "e", "zz"] {
            assert_eq!(v.get(&p(name)), whole.get(&p(name)), "{name}");
        }
        let w = View::whole(&whole);
        assert_eq!(w.iter().count(), 5);
        assert_eq!(w.get(&p("bb")).unwrap().size, 7);
    }

    #[test]
    fn insert_remove_and_apply_keep_order() {
        let mut s = Snapshot::new();
        for (i, name) in ["a", "c", "e"].into_iter().enumerate() {
            s.insert(p(name), e(i as u64));
        }
        s.insert(p("b"), e(9));
        s.insert(p("c"), e(7));
        assert_eq!(paths(&s), [("a", 0), ("b", 9), ("c", 7), ("e", 2)]);
        assert_eq!(s.remove(&p("b")).unwrap().size, 9);
        assert!(s.remove(&p("zz")).is_none());
        s.apply(vec![
            (p("d"), Some(e(4))),
            (p("a"), None),
            (p("0"), Some(e(5))),
            (p("e"), Some(e(6))),
            (p("d"), Some(e(8))),
            (p("nothing"), None),
            (p("z"), Some(e(1))),
        ]);
        assert_eq!(
            paths(&s),
            [("0", 5), ("c", 7), ("d", 8), ("e", 6), ("z", 1)]
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Snapshot>(&json).unwrap(), s);
    }
}
