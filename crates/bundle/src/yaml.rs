//! YAML read into a tree that remembers where every node is, so errors can
//! say file:line:column.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML node with its position (1-based line and column).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it holds.
    pub value: NodeValue,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// The value of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    /// A scalar: its text, and whether it was quoted (so always a string).
    Scalar(String, bool),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A plain scalar that YAML reads as null.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(s, false) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// A YAML syntax error at a position.
#[derive(Debug, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Node>,
    done: Option<Node>,
    alias: Option<(usize, usize)>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Node {
                value: NodeValue::Seq(items),
                ..
            }) => items.push(node),
            Some(Node {
                value: NodeValue::Map(pairs),
                ..
            }) => match pairs.last_mut() {
                // A pair whose value is still a placeholder takes this node.
                Some((_, v)) if v.line == 0 => *v = node,
                _ => pairs.push((
                    node,
                    Node {
                        value: NodeValue::Scalar(String::new(), false),
                        line: 0,
                        col: 0,
                    },
                )),
            },
            _ => self.done = Some(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let (line, col) = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(s, style, _, _) => self.push_value(Node {
                value: NodeValue::Scalar(s, style != TScalarStyle::Plain),
                line,
                col,
            }),
            Event::SequenceStart(..) => self.stack.push(Node {
                value: NodeValue::Seq(Vec::new()),
                line,
                col,
            }),
            Event::MappingStart(..) => self.stack.push(Node {
                value: NodeValue::Map(Vec::new()),
                line,
                col,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(n) = self.stack.pop() {
                    self.push_value(n);
                }
            }
            Event::Alias(_) => {
                self.alias.get_or_insert((line, col));
            }
            _ => {}
        }
    }
}

/// Parse one YAML document. Aliases are refused (a bundle file has no use for them).
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut b = Builder::default();
    Parser::new_from_str(text)
        .load(&mut b, false)
        .map_err(|e| YamlError {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
    if let Some((line, col)) = b.alias {
        return Err(YamlError {
            line,
            col,
            message: "aliases (*name) are not allowed here; write the value out".into(),
        });
    }
    Ok(b.done.unwrap_or(Node {
        value: NodeValue::Scalar(String::new(), false),
        line: 1,
        col: 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let n = parse("name: x\nfiles:\n  - a.yaml\n  - 'b'\n").unwrap();
        let files = n.get("files").unwrap();
        match &files.value {
            NodeValue::Seq(items) => {
                assert_eq!((items[1].line, items[1].col), (4, 5));
                assert_eq!(items[1].value, NodeValue::Scalar("b".into(), true));
            }
            other => panic!("{other:?}"),
        }
        let name = n.get("name").unwrap();
        assert_eq!((name.line, name.col), (1, 7));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse("name: x\nfiles: [a, b\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        let e = parse("a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
