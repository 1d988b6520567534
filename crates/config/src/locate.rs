//! Positions of keys and values in a YAML document, for errors serde cannot place.
//!
//! serde_yaml reports where a syntax, type or unknown-key error is, but a
//! semantic check (a bad cron expression, glob or duration) happens after
//! deserialisation. This keeps a second, position-only view of the document,
//! built from yaml-rust2's marked events, so those errors get a line and column too.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

#[derive(Debug)]
enum Shape {
    Scalar,
    Seq(Vec<Node>),
    /// Entries in file order, and where each key first appears among them:
    /// a lookup is one hash probe, so a file of 40,000 targets loads in linear time.
    Map(Vec<(String, Node, Node)>, HashMap<String, usize>),
}

/// A key written twice in one mapping (serde would silently keep the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The keys leading to the mapping (sequence items as decimal indices).
    pub path: Vec<String>,
    /// The repeated key.
    pub key: String,
    /// Where it is written first.
    pub first: Pos,
    /// Where it is written again.
    pub again: Pos,
}

#[derive(Debug)]
struct Node {
    pos: Pos,
    shape: Shape,
}

/// The positions of every node of a YAML document.
#[derive(Debug, Default)]
pub struct Positions {
    root: Option<Node>,
    duplicates: Vec<Duplicate>,
}

/// A key read so far: its text (`None` for an alias or a non-scalar key,
/// never taken for a duplicate) and its node.
type PendingKey = (Option<String>, Node);

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, Option<PendingKey>)>,
    root: Option<Node>,
    duplicates: Vec<Duplicate>,
}

fn pos(m: Marker) -> Pos {
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

impl Builder {
    /// The keys leading to the innermost open collection.
    fn path(&self) -> Vec<String> {
        self.stack
            .iter()
            .take(self.stack.len().saturating_sub(1))
            .map(|(node, pending)| match &node.shape {
                Shape::Seq(items) => items.len().to_string(),
                _ => pending
                    .as_ref()
                    .and_then(|(k, _)| k.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }

    fn push_value(&mut self, node: Node, key_text: Option<String>) {
        let mut duplicate = None;
        let Some((parent, pending_key)) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut parent.shape {
            Shape::Seq(items) => items.push(node),
            Shape::Map(entries, index) => match pending_key.take() {
                None => *pending_key = Some((key_text, node)),
                Some((k, knode)) => {
                    if let Some(k) = &k {
                        match index.get(k) {
                            Some(&first) => {
                                duplicate = Some(Duplicate {
                                    path: Vec::new(),
                                    key: k.clone(),
                                    first: entries[first].1.pos,
                                    again: knode.pos,
                                });
                            }
                            None => {
                                index.insert(k.clone(), entries.len());
                            }
                        }
                    }
                    entries.push((k.unwrap_or_default(), knode, node));
                }
            },
            Shape::Scalar => {}
        }
        if let Some(mut d) = duplicate {
            d.path = self.path();
            self.duplicates.push(d);
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => self.push_value(
                Node {
                    pos: pos(mark),
                    shape: Shape::Scalar,
                },
                Some(text),
            ),
            Event::Alias(_) => self.push_value(
                Node {
                    pos: pos(mark),
                    shape: Shape::Scalar,
                },
                None,
            ),
            Event::SequenceStart(..) => self.stack.push((
                Node {
                    pos: pos(mark),
                    shape: Shape::Seq(Vec::new()),
                },
                None,
            )),
            Event::MappingStart(..) => self.stack.push((
                Node {
                    pos: pos(mark),
                    shape: Shape::Map(Vec::new(), HashMap::new()),
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((mut node, _)) = self.stack.pop() {
                    // A block mapping's start mark can trail its first key;
                    // the first key is where people see the mapping begin.
                    if let Shape::Map(entries, _) = &node.shape {
                        if let Some((_, k, _)) = entries.first() {
                            node.pos = k.pos;
                        }
                    }
                    self.push_value(node, None);
                }
            }
            _ => {}
        }
    }
}

impl Positions {
    /// Parse `text`; a document that does not parse yields no positions
    /// (serde_yaml reports the syntax error with its own location).
    pub fn parse(text: &str) -> Positions {
        let mut b = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut b, false).is_err() {
            return Positions::default();
        }
        Positions {
            root: b.root,
            duplicates: b.duplicates,
        }
    }

    /// Every key written twice in one mapping, in file order of the repeat.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    fn walk(&self, path: &[&str]) -> (Option<&Node>, Option<Pos>, Pos) {
        // (node at path, position of its key, deepest position found)
        let Some(mut node) = self.root.as_ref() else {
            return (None, None, Pos { line: 1, column: 1 });
        };
        let mut key_pos = None;
        let mut deepest = node.pos;
        for seg in path {
            let next = match &node.shape {
                Shape::Map(entries, index) => index
                    .get(*seg)
                    .map(|&i| (Some(entries[i].1.pos), &entries[i].2)),
                Shape::Seq(items) => seg
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (None, v)),
                Shape::Scalar => None,
            };
            match next {
                Some((k, v)) => {
                    key_pos = k;
                    node = v;
                    deepest = k.unwrap_or(v.pos);
                }
                None => return (None, None, deepest),
            }
        }
        (Some(node), key_pos, deepest)
    }

    /// Where the value at `path` starts (the nearest existing ancestor if absent).
    /// Sequence indices are given as decimal strings.
    pub fn value(&self, path: &[&str]) -> Pos {
        match self.walk(path) {
            (Some(node), _, _) => node.pos,
            (None, _, deepest) => deepest,
        }
    }

    /// Where the key of the entry at `path` is (falls back like [`Positions::value`]).
    pub fn key(&self, path: &[&str]) -> Pos {
        match self.walk(path) {
            (Some(node), key, _) => key.unwrap_or(node.pos),
            (None, _, deepest) => deepest,
        }
    }

    /// The keys of the mapping at `path`, with their positions, in file order.
    pub fn keys(&self, path: &[&str]) -> Vec<(String, Pos)> {
        match self.walk(path).0.map(|n| &n.shape) {
            Some(Shape::Map(entries, _)) => entries
                .iter()
                .map(|(k, kn, _)| (k.clone(), kn.pos))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: \"1.0\"\ntargets:\n  a:\n    type: command\n    outputs:\n      - \"x/**\"\n      - y\n";

    #[test]
    fn finds_keys_values_and_sequence_items() {
        let p = Positions::parse(DOC);
        assert_eq!(p.key(&["targets", "a", "type"]), Pos { line: 4, column: 5 });
        assert_eq!(
            p.value(&["targets", "a", "type"]),
            Pos {
                line: 4,
                column: 11
            }
        );
        assert_eq!(
            p.value(&["targets", "a", "outputs", "1"]),
            Pos { line: 7, column: 9 }
        );
        assert_eq!(p.key(&["version"]), Pos { line: 1, column: 1 });
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let p = Positions::parse(DOC);
        assert_eq!(
            p.key(&["targets", "a", "timeout"]),
            Pos { line: 3, column: 3 }
        );
        let keys: Vec<String> = p
            .keys(&["targets", "a"])
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["type", "outputs"]);
    }

    #[test]
    fn keys_written_twice_are_found_with_their_mapping() {
        let p = Positions::parse(
            "targets:\n  a: {x: 1}\n  a: {x: 2, x: 3}\nsafety:\n  checks:\n    - {n: 1, n: 2}\n",
        );
        let d: Vec<(String, String, Pos, Pos)> = p
            .duplicates()
            .iter()
            .map(|d| (d.path.join("."), d.key.clone(), d.first, d.again))
            .collect();
        assert_eq!(
            d,
            [
                (
                    "targets.a".into(),
                    "x".into(),
                    Pos { line: 3, column: 7 },
                    Pos {
                        line: 3,
                        column: 13
                    }
                ),
                (
                    "targets".into(),
                    "a".into(),
                    Pos { line: 2, column: 3 },
                    Pos { line: 3, column: 3 }
                ),
                (
                    "safety.checks.0".into(),
                    "n".into(),
                    Pos { line: 6, column: 8 },
                    Pos {
                        line: 6,
                        column: 14
                    }
                ),
            ]
        );
    }
}
