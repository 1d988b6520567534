//! Positions of keys and values in a YAML document, for errors serde cannot place.
//!
//! serde_yaml reports where a syntax, type or unknown-key error is, but a
//! semantic check (a bad cron expression, glob or duration) happens after
//! deserialisation. This keeps a second, position-only view of the document,
//! built from yaml-rust2's marked events, so those errors get a line and column too.

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
    Map(Vec<(String, Node, Node)>),
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
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, Option<(String, Node)>)>,
    root: Option<Node>,
}

fn pos(m: Marker) -> Pos {
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

impl Builder {
    fn push_value(&mut self, node: Node, key_text: Option<String>) {
        let Some((parent, pending_key)) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut parent.shape {
            Shape::Seq(items) => items.push(node),
            Shape::Map(entries) => match pending_key.take() {
                None => *pending_key = Some((key_text.unwrap_or_default(), node)),
                Some((k, knode)) => entries.push((k, knode, node)),
            },
            Shape::Scalar => {}
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
                    shape: Shape::Map(Vec::new()),
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((mut node, _)) = self.stack.pop() {
                    // A block mapping's start mark can trail its first key;
                    // the first key is where people see the mapping begin.
                    if let Shape::Map(entries) = &node.shape {
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
        Positions { root: b.root }
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
                Shape::Map(entries) => entries
                    .iter()
                    .find(|(k, _, _)| k == seg)
                    .map(|(_, k, v)| (Some(k.pos), v)),
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
            Some(Shape::Map(entries)) => entries
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
}
